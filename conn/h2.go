package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/wirelevel/ws/handshake"
)

// WebSocket over HTTP/2 (RFC 8441).
//
// A browser opens a WebSocket over an HTTP/2 connection with an extended
// CONNECT request (":protocol: websocket") only if the server advertised
// SETTINGS_ENABLE_CONNECT_PROTOCOL. Go's HTTP/2 server (net/http's bundled
// one and golang.org/x/net/http2 alike) advertises it, and accepts such
// requests, only when the process starts with GODEBUG=http2xconnect=1 in its
// environment; there is no per-server switch in Go 1.26. Accept answers
// both forms on the same server, so with that setting every handler that
// may receive WebSocket requests must use Accept.

// isExtendedConnect reports whether r is a WebSocket request over HTTP/2.
func isExtendedConnect(r *http.Request) bool {
	return r.ProtoMajor >= 2 && r.Method == http.MethodConnect && r.Header.Get(":protocol") != ""
}

// acceptH2 answers an extended CONNECT request with 200 and runs the Conn
// over the request body and the response stream. The handler must not
// return while the Conn is in use: over HTTP/2 the stream ends with the
// handler.
func acceptH2(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	srv := opts.server()
	up, err := srv.CheckExtendedConnect(r)
	if err != nil {
		var re *handshake.RejectError
		if errors.As(err, &re) {
			re.ServeHTTP(w, r)
		}
		return nil, err
	}
	pmd, err := negotiateServer(opts.Compression, up)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, err
	}
	h := w.Header()
	for k, vs := range opts.Header {
		h[k] = vs
	}
	if up.Protocol != "" {
		h.Set("Sec-WebSocket-Protocol", up.Protocol)
	}
	if up.Extensions != "" {
		h.Set("Sec-WebSocket-Extensions", up.Extensions)
	}
	w.WriteHeader(http.StatusOK)
	sc, err := HTTP2ServerStream(w, r)
	if err != nil {
		return nil, err
	}
	c := Server(sc, nil, &opts.Options)
	c.subprotocol = up.Protocol
	c.setCompression(pmd, up.Extensions)
	c.http2 = true
	return c, nil
}

// HTTP2ServerStream returns a net.Conn over the stream of an HTTP/2
// request, for a handler that has already written its response header (a
// 200 to an extended CONNECT): reads come from the request body, writes go
// out as DATA frames at once. Accept uses it; it is exported for tools that
// speak WebSocket framing themselves, such as the conformance harness. The
// stream ends when the handler returns, and Close does not end it.
func HTTP2ServerStream(w http.ResponseWriter, r *http.Request) (net.Conn, error) {
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("conn: HTTP/2 stream: %w", err)
	}
	rc.SetReadDeadline(time.Time{}) // the server's deadlines do not apply to the stream
	rc.SetWriteDeadline(time.Time{})
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	sc := newStreamConn(r.Body, local, stringAddr(r.RemoteAddr))
	sc.write = func(p []byte) (int, error) {
		n, err := w.Write(p)
		if err == nil {
			err = rc.Flush()
		}
		return n, err
	}
	sc.setWriteDeadline = rc.SetWriteDeadline
	return sc, nil
}

type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

// streamConn is a net.Conn over an HTTP/2 stream. Reads come from the body
// through a pump goroutine into an in-memory pipe, so that read deadlines
// work without breaking the stream; writes go out as DATA frames.
type streamConn struct {
	in   net.Conn // our end of the pipe the pump fills
	feed net.Conn // the pump's end
	body io.ReadCloser

	write            func([]byte) (int, error)
	setWriteDeadline func(time.Time) error
	closeWrite       func() error // nil if the stream cannot be half-closed
	finish           func()       // ends the stream, or nil

	local, remote net.Addr
	once          sync.Once
}

func newStreamConn(body io.ReadCloser, local, remote net.Addr) *streamConn {
	in, feed := NetPipe()
	s := &streamConn{in: in, feed: feed, body: body, local: local, remote: remote}
	go func() {
		io.Copy(feed, body)
		feed.(*memConn).CloseWrite()
	}()
	return s
}

func (s *streamConn) Read(p []byte) (int, error)        { return s.in.Read(p) }
func (s *streamConn) Write(p []byte) (int, error)       { return s.write(p) }
func (s *streamConn) SetReadDeadline(t time.Time) error { return s.in.SetReadDeadline(t) }
func (s *streamConn) SetWriteDeadline(t time.Time) error {
	return s.setWriteDeadline(t)
}
func (s *streamConn) SetDeadline(t time.Time) error {
	s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}
func (s *streamConn) LocalAddr() net.Addr  { return s.local }
func (s *streamConn) RemoteAddr() net.Addr { return s.remote }

func (s *streamConn) Close() error {
	s.once.Do(func() {
		if s.closeWrite != nil {
			s.closeWrite()
		}
		s.in.Close()
		s.feed.Close()
		s.body.Close()
		if s.finish != nil {
			s.finish()
		}
	})
	return nil
}

// streamHalfCloser is a streamConn whose sending side can end on its own.
type streamHalfCloser struct{ *streamConn }

func (s streamHalfCloser) CloseWrite() error { return s.closeWrite() }

// NewHTTP2Transport returns a transport for [DialOptions.HTTP2Transport]:
// HTTP/2 over TLS with cfg (nil means the defaults). WebSockets dialled
// through the same transport share its connections: several streams on one
// TCP connection. It connects directly, without a proxy. ws:// URLs use
// unencrypted HTTP/2 with prior knowledge through a transport of their own.
//
// The client side of RFC 8441 needs golang.org/x/net/http2: net/http's own
// Transport refuses the :protocol pseudo-header in Go 1.26.
func NewHTTP2Transport(cfg *tls.Config) *http2.Transport {
	cfg = cfg.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	return &http2.Transport{
		TLSClientConfig: cfg,
		AllowHTTP:       true,
		DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(nc, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				nc.Close()
				return nil, err
			}
			return tc, nil
		},
	}
}

var (
	defaultH2  = sync.OnceValue(func() *http2.Transport { return NewHTTP2Transport(nil) })
	defaultH2C = sync.OnceValue(func() *http2.Transport {
		return &http2.Transport{
			AllowHTTP: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		}
	})
)

// errNoExtendedConnect means the server cannot take a WebSocket over
// HTTP/2, and Dial falls back to HTTP/1.1.
var errNoExtendedConnect = errors.New("conn: server does not offer WebSockets over HTTP/2")

// dialH2 opens a WebSocket as an extended CONNECT stream.
func dialH2(ctx context.Context, u *url.URL, secure bool, opts *DialOptions) (*Conn, error) {
	t := opts.HTTP2Transport
	switch {
	case t != nil:
	case !secure:
		t = defaultH2C()
	case opts.TLSConfig != nil:
		t = NewHTTP2Transport(opts.TLSConfig)
	default:
		t = defaultH2()
	}
	hc := handshake.Client{Host: u.Host, Origin: opts.Origin, Protocols: opts.Subprotocols, Extensions: offerClient(opts.Compression), Header: opts.Header}
	// Let the handshake package vet the fields, as for HTTP/1.1.
	if _, err := hc.AppendRequest(nil, handshake.NewKey()); err != nil {
		return nil, err
	}
	h := make(http.Header, len(opts.Header)+5)
	for k, vs := range opts.Header {
		h[k] = vs
	}
	h.Set("Sec-WebSocket-Version", "13")
	if hc.Origin != "" {
		h.Set("Origin", hc.Origin)
	}
	if len(hc.Protocols) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(hc.Protocols, ", "))
	}
	if hc.Extensions != "" {
		h.Set("Sec-WebSocket-Extensions", hc.Extensions)
	}
	target := *u
	target.Scheme = "http"
	if secure {
		target.Scheme = "https"
	}
	resp, nc, err := DialHTTP2Stream(ctx, t, target.String(), h)
	if err != nil {
		if ctx.Err() == nil && !errors.As(err, new(*handshake.StatusError)) {
			// No HTTP/2, or no extended CONNECT on this server.
			return nil, fmt.Errorf("%w: %v", errNoExtendedConnect, err)
		}
		return nil, ctxErr(ctx, err)
	}
	fail := func(err error) (*Conn, error) {
		nc.Close()
		return nil, err
	}
	protocol, exts, err := hc.CheckExtendedConnect(resp.StatusCode, resp.Header)
	if err != nil {
		return fail(err)
	}
	pmd, err := acceptClient(opts.Compression, exts)
	if err != nil {
		return fail(err)
	}
	c := Client(nc, nil, &opts.Options)
	c.subprotocol = protocol
	c.setCompression(pmd, resp.Header.Get("Sec-WebSocket-Extensions"))
	c.http2 = true
	return c, nil
}

// DialHTTP2Stream opens an HTTP/2 extended CONNECT stream (RFC 8441) to
// rawURL (https:// or, with prior knowledge, http://) through t, sending
// :protocol websocket and the header fields h as they are (the caller adds
// Sec-WebSocket-Version and the rest). It returns the response and, if the
// status is 2xx, a net.Conn over the stream whose CloseWrite ends the
// request body; otherwise a *handshake.StatusError. Dial uses it; it is
// exported for tools that speak WebSocket framing themselves. ctx bounds
// the request, not the stream. nil t means the shared default transport.
func DialHTTP2Stream(ctx context.Context, t *http2.Transport, rawURL string, h http.Header) (*http.Response, net.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if t == nil {
		if u.Scheme == "http" {
			t = defaultH2C()
		} else {
			t = defaultH2()
		}
	}
	hdr := h.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr[":protocol"] = []string{"websocket"}
	// The request body is the stream we send: the transport reads what the
	// caller writes to the other end of a memory pipe.
	out, body := NetPipe()
	streamCtx, cancel := context.WithCancel(context.Background())
	var local, remote net.Addr
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		local, remote = ci.Conn.LocalAddr(), ci.Conn.RemoteAddr()
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(streamCtx, trace), http.MethodConnect, rawURL, body)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	req.Header = hdr
	req.ContentLength = -1
	// ctx bounds the request only; the stream outlives it.
	stop := context.AfterFunc(ctx, cancel)
	resp, err := t.RoundTrip(req)
	if !stop() && err == nil {
		resp.Body.Close()
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		out.Close()
		return nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		cancel()
		out.Close()
		return resp, nil, &handshake.StatusError{Status: resp.StatusCode, Reason: http.StatusText(resp.StatusCode), Header: resp.Header}
	}
	sc := newStreamConn(resp.Body, local, remote)
	sc.write = out.Write
	sc.setWriteDeadline = out.SetWriteDeadline
	sc.closeWrite = out.(*memConn).CloseWrite
	sc.finish = func() { out.Close(); cancel() }
	return resp, streamHalfCloser{sc}, nil
}

// HTTP2 reports whether the connection runs over an HTTP/2 stream (RFC
// 8441) rather than a TCP connection of its own.
func (c *Conn) HTTP2() bool { return c.http2 }
