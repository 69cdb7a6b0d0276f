// Package h2stream carries a WebSocket over an HTTP/2 stream (RFC 8441):
// it turns the stream of an extended CONNECT request into a net.Conn, on
// the server side of a handler that has answered 200 and on the client side
// of a request it sends. Package conn runs its Conns over these streams;
// the conformance harness uses them to speak WebSocket framing itself.
//
// Package h2stream does no WebSocket framing and no opening handshake: the
// caller sends and checks the Sec-WebSocket-* header fields.
package h2stream

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/wirelevel/ws/handshake"
	"github.com/wirelevel/ws/internal/pipe"
)

// Server returns a net.Conn over the stream of an HTTP/2 request, for a
// handler that has already written its response header (a 200 to an
// extended CONNECT): reads come from the request body, writes go out as
// DATA frames at once. The stream ends when the handler returns, and Close
// does not end it.
func Server(w http.ResponseWriter, r *http.Request) (net.Conn, error) {
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("h2stream: HTTP/2 stream: %w", err)
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
	in   *pipe.Conn // our end of the pipe the pump fills
	feed *pipe.Conn // the pump's end
	body io.ReadCloser

	write            func([]byte) (int, error)
	setWriteDeadline func(time.Time) error
	closeWrite       func() error // nil if the stream cannot be half-closed
	finish           func()       // ends the stream, or nil

	local, remote net.Addr
	once          sync.Once
}

func newStreamConn(body io.ReadCloser, local, remote net.Addr) *streamConn {
	in, feed := pipe.New()
	s := &streamConn{in: in, feed: feed, body: body, local: local, remote: remote}
	go func() {
		io.Copy(feed, body)
		feed.CloseWrite()
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

// clientConn is the client's end of a stream: its sending side can end on
// its own, and writes can be tried without waiting, since they go into the
// pipe the transport reads the request body from.
type clientConn struct {
	*streamConn
	out *pipe.Conn
}

func (s clientConn) CloseWrite() error { return s.closeWrite() }

// TryWrite writes what the request body pipe has room for, without waiting.
func (s clientConn) TryWrite(p []byte) (int, error) { return s.out.TryWrite(p) }

// NewTransport returns HTTP/2 over TLS with cfg (nil means the defaults),
// dialling directly, without a proxy; http:// URLs use unencrypted HTTP/2
// with prior knowledge.
func NewTransport(cfg *tls.Config) *http2.Transport {
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
	defaultH2  = sync.OnceValue(func() *http2.Transport { return NewTransport(nil) })
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

// DefaultTransport returns the shared transport for https:// URLs, or with
// cleartext set, the one for http:// URLs (HTTP/2 with prior knowledge).
func DefaultTransport(cleartext bool) *http2.Transport {
	if cleartext {
		return defaultH2C()
	}
	return defaultH2()
}

// Dial opens an HTTP/2 extended CONNECT stream (RFC 8441) to rawURL
// (https:// or, with prior knowledge, http://) through t, sending :protocol
// websocket and the header fields h as they are (the caller adds
// Sec-WebSocket-Version and the rest). It returns the response and, if the
// status is 2xx, a net.Conn over the stream whose CloseWrite ends the
// request body; otherwise a *handshake.StatusError. ctx bounds the request,
// not the stream. nil t means the shared default transport.
func Dial(ctx context.Context, t *http2.Transport, rawURL string, h http.Header) (*http.Response, net.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if t == nil {
		t = DefaultTransport(u.Scheme == "http")
	}
	hdr := h.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr[":protocol"] = []string{"websocket"}
	// The request body is the stream we send: the transport reads what the
	// caller writes to the other end of a memory pipe.
	out, body := pipe.New()
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
	if host := hdr.Get("Host"); host != "" {
		req.Host = host // the :authority
		hdr.Del("Host")
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
	sc.closeWrite = out.CloseWrite
	sc.finish = func() { out.Close(); cancel() }
	return resp, clientConn{sc, out}, nil
}
