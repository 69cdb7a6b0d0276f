package client

import (
	"encoding/json"
	"errors"
	"strconv"
)

// DisconnectReason says why an established connection ended. The values are
// the strings the official client passes to its "disconnect" listeners.
type DisconnectReason string

// The reasons a connection ends, as the official socket.io-client names
// them.
const (
	// ReasonServerDisconnect: the server disconnected the socket (a
	// DISCONNECT packet, Node's socket.disconnect()). The client does not
	// reconnect.
	ReasonServerDisconnect DisconnectReason = "io server disconnect"
	// ReasonClientDisconnect: [Client.Close] was called.
	ReasonClientDisconnect DisconnectReason = "io client disconnect"
	// ReasonPingTimeout: no ping from the server within
	// pingInterval+pingTimeout.
	ReasonPingTimeout DisconnectReason = "ping timeout"
	// ReasonTransportClose: the connection was closed: a close packet or a
	// WebSocket close, or the TCP connection ended.
	ReasonTransportClose DisconnectReason = "transport close"
	// ReasonTransportError: the transport failed: an HTTP request of the
	// polling transport failed or was refused, a response was over the
	// limits, a WebSocket protocol violation, or a malformed Engine.IO
	// packet.
	ReasonTransportError DisconnectReason = "transport error"
	// ReasonParseError: the server sent a malformed Socket.IO packet.
	ReasonParseError DisconnectReason = "parse error"
)

// String returns the reason as the official client writes it, such as
// "transport close".
func (r DisconnectReason) String() string { return string(r) }

// DisconnectError is how an established connection ended: the reason and
// the error behind it. [Client.Err] returns one when the end of a
// connection ended the client (a server disconnect, or any end with
// NoReconnect). errors.Is looks through it to Err, so
// errors.Is(err, ErrServerDisconnect) and errors.Is(err, ErrPingTimeout)
// work on it.
type DisconnectError struct {
	Reason DisconnectReason
	Err    error
}

// Error implements error.
func (e *DisconnectError) Error() string {
	s := "client: disconnected (" + string(e.Reason) + ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the error behind the disconnection.
func (e *DisconnectError) Unwrap() error { return e.Err }

// Errors the client returns.
var (
	ErrClosed       = errors.New("client: closed")
	ErrNotConnected = errors.New("client: not connected")
	ErrDropped      = errors.New("client: packet dropped from the full disconnected buffer")
	ErrDisconnected = errors.New("client: disconnected before the acknowledgement arrived")
	ErrPingTimeout  = errors.New("client: no ping from the server within pingInterval+pingTimeout")
	// ErrTimeout: no acknowledgement within the timeout of
	// [Client.Timeout] or Options.AckTimeout. The official client's error
	// says "operation has timed out".
	ErrTimeout = errors.New("client: operation has timed out")
	// ErrServerDisconnect: the server disconnected the namespace; the
	// client does not reconnect.
	ErrServerDisconnect = errors.New("client: disconnected by the server")
	// ErrServerClose: the server closed the Engine.IO session (a close
	// packet).
	ErrServerClose = errors.New("client: the server closed the session")
	// ErrTooLarge: a polling response over Options.MaxPayload.
	ErrTooLarge = errors.New("client: polling response over MaxPayload")
)

// ConnectError is the server's refusal of the namespace connection
// (CONNECT_ERROR), with the message and data its middleware gave.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

// Error implements error.
func (e *ConnectError) Error() string { return "client: connection refused: " + e.Message }

// StatusError is an HTTP request of the polling transport that the server
// answered with a status other than 200. Message is the Engine.IO error
// message of the body, such as "Session ID unknown", when there is one.
type StatusError struct {
	Method     string // GET or POST
	StatusCode int
	Code       int // the Engine.IO error code, or -1
	Message    string
}

// Error implements error.
func (e *StatusError) Error() string {
	s := "client: polling " + e.Method + ": HTTP " + strconv.Itoa(e.StatusCode)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// newStatusError reads the JSON error body the reference server sends, if
// body is one.
func newStatusError(method string, status int, body []byte) *StatusError {
	e := &StatusError{Method: method, StatusCode: status, Code: -1}
	var v struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil && v.Code != nil {
		e.Code, e.Message = *v.Code, v.Message
	}
	return e
}
