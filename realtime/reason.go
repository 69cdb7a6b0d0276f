package realtime

import "github.com/wirelevel/ws/realtime/engine"

// DisconnectReason says why a socket disconnected, in the words of Node's
// socket.io server (its DisconnectReason type): disconnect handlers get one.
type DisconnectReason string

// The reasons a socket disconnects for.
const (
	// ReasonTransportClose: the client closed the connection (or it was
	// lost cleanly).
	ReasonTransportClose DisconnectReason = DisconnectReason(engine.ReasonTransportClose)
	// ReasonTransportError: the connection failed: a write error, a full
	// outgoing buffer, an oversized payload.
	ReasonTransportError DisconnectReason = DisconnectReason(engine.ReasonTransportError)
	// ReasonPingTimeout: the client did not answer a ping in time.
	ReasonPingTimeout DisconnectReason = DisconnectReason(engine.ReasonPingTimeout)
	// ReasonParseError: the client sent a malformed Engine.IO packet.
	ReasonParseError DisconnectReason = DisconnectReason(engine.ReasonParseError)
	// ReasonForcedClose: the Engine.IO session was closed by the server,
	// or the client sent a malformed Socket.IO packet.
	ReasonForcedClose DisconnectReason = DisconnectReason(engine.ReasonForcedClose)
	// ReasonServerShutdown: [Server.Close].
	ReasonServerShutdown DisconnectReason = "server shutting down"
	// ReasonForcedServerClose: the server closed the connection: no
	// namespace joined within ConnectTimeout, or a packet the connection's
	// state does not allow ([ErrInvalidState]).
	ReasonForcedServerClose DisconnectReason = "forced server close"
	// ReasonClientNamespace: the client left the namespace.
	ReasonClientNamespace DisconnectReason = "client namespace disconnect"
	// ReasonServerNamespace: [Socket.Disconnect] (or DisconnectSockets).
	ReasonServerNamespace DisconnectReason = "server namespace disconnect"
)

// Recoverable reports whether a socket that disconnected for r may recover
// its state by reconnecting (with connection state recovery on): every
// reason but the two namespace disconnects and a parse error.
func (r DisconnectReason) Recoverable() bool {
	switch r {
	case ReasonTransportError, ReasonTransportClose, ReasonForcedClose, ReasonPingTimeout,
		ReasonServerShutdown, ReasonForcedServerClose:
		return true
	}
	return false
}

// String returns r as is.
func (r DisconnectReason) String() string { return string(r) }
