package websocket

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/handshake"
)

// A Dialer contains options for connecting to WebSocket server.
//
// It is safe to call Dialer's methods concurrently.
type Dialer struct {
	// NetDial specifies the dial function for creating TCP connections. If
	// NetDial is nil, net.Dial is used.
	NetDial func(network, addr string) (net.Conn, error)

	// NetDialContext specifies the dial function for creating TCP
	// connections. If NetDialContext is nil, NetDial is used.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// NetDialTLSContext specifies the dial function for creating TLS/TCP
	// connections. If NetDialTLSContext is set, Dial assumes the TLS
	// handshake is done there and TLSClientConfig is ignored.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy specifies a function to return a proxy for a given Request. If
	// the function returns a non-nil error, the request is aborted with
	// the provided error. If Proxy is nil or returns a nil *URL, no proxy
	// is used.
	Proxy func(*http.Request) (*url.URL, error)

	// TLSClientConfig specifies the TLS configuration to use with
	// tls.Client. If nil, the default configuration is used.
	TLSClientConfig *tls.Config

	// HandshakeTimeout specifies the duration for the handshake to
	// complete. Zero means conn's default, 30 s (gorilla waits for ever).
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize specify I/O buffer sizes in
	// bytes. If a buffer size is zero, then a useful default size is used.
	// The I/O buffer sizes do not limit the size of the messages that can
	// be sent or received.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is accepted and not used; see BufferPool.
	WriteBufferPool BufferPool

	// Subprotocols specifies the client's requested subprotocols.
	Subprotocols []string

	// EnableCompression specifies if the client should attempt to
	// negotiate per message compression (RFC 7692), in its "no context
	// takeover" form, as gorilla does.
	EnableCompression bool

	// Jar specifies the cookie jar. If Jar is nil, cookies are not sent in
	// requests and ignored in responses.
	Jar http.CookieJar
}

// DefaultDialer is a dialer with all fields set to the default values.
var DefaultDialer = &Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: 45 * time.Second,
}

// nilDialer is dialer to use when receiver is nil.
var nilDialer = *DefaultDialer

// Dial creates a new client connection by calling DialContext with a
// background context.
func (d *Dialer) Dial(urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	return d.DialContext(context.Background(), urlStr, requestHeader)
}

// DialContext creates a new client connection. Use requestHeader to
// specify the origin (Origin), subprotocols (Sec-WebSocket-Protocol) and
// cookies (Cookie). Use the response.Header to get the selected
// subprotocol (Sec-WebSocket-Protocol) and cookies (Set-Cookie).
//
// The context will be used in the request and in the Dialer.
//
// If the WebSocket handshake fails, ErrBadHandshake is returned along with
// a non-nil *http.Response so that callers can handle redirects,
// authentication, etcetera. The response body holds at most its first
// 1 KiB and does not need to be closed by the application.
func (d *Dialer) DialContext(ctx context.Context, urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	if d == nil {
		d = &nilDialer
	}
	u, err := url.Parse(urlStr)
	if err != nil {
		return nil, nil, err
	}
	if (u.Scheme != "ws" && u.Scheme != "wss") || u.User != nil {
		return nil, nil, errMalformedURL
	}
	opts := &conn.DialOptions{
		Options: conn.Options{
			ReadBufferSize:  d.ReadBufferSize,
			WriteBufferSize: d.WriteBufferSize,
		},
		Subprotocols:      d.Subprotocols,
		TLSConfig:         d.TLSClientConfig,
		Proxy:             d.Proxy,
		NetDialContext:    d.NetDialContext,
		NetDialTLSContext: d.NetDialTLSContext,
		HandshakeTimeout:  d.HandshakeTimeout,
		Jar:               d.Jar,
	}
	if opts.Proxy == nil {
		opts.Proxy = conn.NoProxy
	}
	if opts.NetDialContext == nil && d.NetDial != nil {
		netDial := d.NetDial
		opts.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return netDial(network, addr)
		}
	}
	if d.EnableCompression {
		opts.Compression = &conn.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	}
	for k, vs := range requestHeader {
		switch k = http.CanonicalHeaderKey(k); {
		case k == "Host":
			if len(vs) > 0 {
				opts.Host = vs[0]
			}
		case k == "Upgrade" || k == "Connection" || k == "Sec-Websocket-Key" ||
			k == "Sec-Websocket-Version" || k == "Sec-Websocket-Extensions":
			return nil, nil, errors.New("websocket: duplicate header not allowed: " + k)
		case k == "Sec-Websocket-Protocol":
			opts.Subprotocols = Subprotocols(&http.Request{Header: http.Header{k: vs}})
		case k == "Origin":
			if len(vs) > 0 {
				opts.Origin = vs[0]
			}
		default:
			if opts.Header == nil {
				opts.Header = http.Header{}
			}
			opts.Header[k] = vs
		}
	}
	gc := newConn(&opts.Options)
	c, err := conn.Dial(ctx, urlStr, opts)
	if err != nil {
		var se *handshake.StatusError
		if errors.As(err, &se) {
			return nil, failedResponse(se), ErrBadHandshake
		}
		return nil, nil, err
	}
	gc.c = c
	return gc, c.Response(), nil
}

// failedResponse is the *http.Response of a refused handshake.
func failedResponse(se *handshake.StatusError) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(se.Status) + " " + se.Reason,
		StatusCode:    se.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        se.Header,
		Body:          io.NopCloser(bytes.NewReader(se.Body)),
		ContentLength: int64(len(se.Body)),
	}
}

// NewClient creates a new client connection using the given net
// connection. The URL u specifies the host and request URI. Use
// requestHeader to specify the origin (Origin), subprotocols
// (Sec-WebSocket-Protocol) and cookies (Cookie). Use the response.Header
// to get the selected subprotocol (Sec-WebSocket-Protocol) and cookies
// (Set-Cookie).
//
// If the WebSocket handshake fails, ErrBadHandshake is returned along with
// a non-nil *http.Response so that callers can handle redirects,
// authentication, etc.
//
// Deprecated: Use Dialer instead.
func NewClient(netConn net.Conn, u *url.URL, requestHeader http.Header, readBufSize, writeBufSize int) (c *Conn, response *http.Response, err error) {
	d := Dialer{
		ReadBufferSize:  readBufSize,
		WriteBufferSize: writeBufSize,
		NetDial: func(net, addr string) (net.Conn, error) {
			return netConn, nil
		},
	}
	ws := *u
	ws.Scheme = "ws" // netConn is used as it is, TLS or not
	return d.Dial(ws.String(), requestHeader)
}
