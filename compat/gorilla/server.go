package websocket

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/handshake"
)

// Upgrader specifies parameters for upgrading an HTTP connection to a
// WebSocket connection.
//
// It is safe to call Upgrader's methods concurrently.
type Upgrader struct {
	// HandshakeTimeout specifies the duration for the handshake to
	// complete (writing the 101). Zero means 10 s.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize specify I/O buffer sizes in bytes.
	// They do not limit the size of the messages that can be sent or
	// received. Zero means conn's defaults (32 KiB); the buffers are
	// borrowed from a pool while a message is in flight.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is accepted and not used; see BufferPool.
	WriteBufferPool BufferPool

	// Subprotocols specifies the server's supported protocols in order of
	// preference. If this field is not nil, then the Upgrade method
	// negotiates a subprotocol by selecting the first match in this list
	// with a protocol requested by the client. If there's no match, then
	// no protocol is negotiated (the Sec-Websocket-Protocol header is not
	// included in the handshake response).
	Subprotocols []string

	// Error specifies the function for generating HTTP error responses. If
	// Error is nil, then http.Error is used to generate the HTTP response.
	Error func(w http.ResponseWriter, r *http.Request, status int, reason error)

	// CheckOrigin returns true if the request Origin header is acceptable.
	// If CheckOrigin is nil, then a safe default is used: return false if
	// the Origin request header is present and the origin host is not
	// equal to request Host header.
	//
	// A CheckOrigin function should carefully validate the request origin
	// to prevent cross-site request forgery.
	CheckOrigin func(r *http.Request) bool

	// EnableCompression specify if the server should attempt to negotiate
	// per message compression (RFC 7692). As with gorilla, only "no
	// context takeover" is negotiated, so an idle connection holds no
	// compression state.
	EnableCompression bool
}

// Upgrade upgrades the HTTP server connection to the WebSocket protocol.
//
// The responseHeader is included in the response to the client's upgrade
// request. Use the responseHeader to specify cookies (Set-Cookie). To
// specify subprotocols supported by the server, set Upgrader.Subprotocols
// directly.
//
// If the upgrade fails, then Upgrade replies to the client with an HTTP
// error response and returns a HandshakeError.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	if _, ok := responseHeader["Sec-Websocket-Extensions"]; ok {
		return nil, u.fail(w, r, http.StatusInternalServerError,
			errors.New("websocket: application specific 'Sec-WebSocket-Extensions' headers are unsupported"))
	}
	opts := &conn.AcceptOptions{
		Options: conn.Options{
			ReadBufferSize:  u.ReadBufferSize,
			WriteBufferSize: u.WriteBufferSize,
		},
		Subprotocols:     u.Subprotocols,
		CheckOrigin:      u.CheckOrigin,
		HandshakeTimeout: u.HandshakeTimeout,
		Header:           responseHeader,
	}
	if u.Subprotocols == nil && responseHeader != nil {
		// The deprecated form: the application names the protocol in the
		// response header; it is selected if the client offered it.
		if p := responseHeader.Get("Sec-Websocket-Protocol"); p != "" {
			opts.Subprotocols = []string{p}
		}
		opts.Header = responseHeader.Clone()
		opts.Header.Del("Sec-Websocket-Protocol")
	}
	if u.EnableCompression {
		opts.Compression = &conn.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	}
	var rejected error
	opts.OnReject = func(w http.ResponseWriter, r *http.Request, status int, err error) {
		rejected = u.fail(w, r, status, err)
	}
	gc := newConn(&opts.Options)
	c, err := conn.Accept(w, r, opts)
	if err != nil {
		if rejected != nil {
			return nil, rejected
		}
		return nil, err
	}
	gc.c = c
	return gc, nil
}

// fail answers a refused upgrade as gorilla does and returns the
// HandshakeError.
func (u *Upgrader) fail(w http.ResponseWriter, r *http.Request, status int, err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "websocket: ") {
		msg = "websocket: " + strings.TrimPrefix(msg, "handshake: ")
	}
	var re *handshake.RejectError
	if errors.As(err, &re) && errors.Is(err, handshake.ErrOrigin) {
		msg = "websocket: request origin not allowed by Upgrader.CheckOrigin"
	}
	he := HandshakeError{message: msg, err: err}
	if u.Error != nil {
		u.Error(w, r, status, he)
	} else {
		w.Header().Set("Sec-Websocket-Version", "13")
		http.Error(w, http.StatusText(status), status)
	}
	return he
}

// Upgrade upgrades the HTTP server connection to the WebSocket protocol.
//
// Deprecated: Use websocket.Upgrader instead.
//
// Upgrade does not perform origin checking and writes no answer to a
// request that is not a valid WebSocket handshake: it returns a
// HandshakeError, and the application should reply with an HTTP error
// response. The subprotocol is the Sec-Websocket-Protocol of
// responseHeader, if the client offered it.
func Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header, readBufSize, writeBufSize int) (*Conn, error) {
	u := Upgrader{ReadBufferSize: readBufSize, WriteBufferSize: writeBufSize}
	u.Error = func(w http.ResponseWriter, r *http.Request, status int, reason error) {}
	u.CheckOrigin = func(r *http.Request) bool { return true }
	return u.Upgrade(w, r, responseHeader)
}

// Subprotocols returns the subprotocols requested by the client in the
// Sec-Websocket-Protocol header.
func Subprotocols(r *http.Request) []string {
	var protocols []string
	for _, v := range r.Header.Values("Sec-Websocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				protocols = append(protocols, p)
			}
		}
	}
	return protocols
}

// IsWebSocketUpgrade returns true if the client requested upgrade to the
// WebSocket protocol.
func IsWebSocketUpgrade(r *http.Request) bool {
	return hasToken(r.Header, "Connection", "upgrade") && hasToken(r.Header, "Upgrade", "websocket")
}

// hasToken reports whether a comma-separated list in the header fields
// named name holds token, compared case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
