//go:build !js

package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http2"

	"github.com/wirelevel/ws/handshake"
	"github.com/wirelevel/ws/internal/h2stream"
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
	if err == nil {
		err = opts.admit(up.Request, r, nil)
	}
	if err != nil {
		opts.reject(w, r, http.StatusBadRequest, err)
		return nil, err
	}
	pmd, err := negotiateServer(opts.Compression, up)
	if err != nil {
		opts.reject(w, r, http.StatusBadRequest, err)
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
	sc, err := h2stream.Server(w, r)
	if err != nil {
		return nil, err
	}
	c := Server(sc, nil, &opts.Options)
	c.subprotocol = up.Protocol
	c.setCompression(pmd, up.Extensions)
	c.http2 = true
	return c, nil
}

// NewHTTP2Transport returns a transport for [DialOptions.HTTP2Transport]:
// HTTP/2 over TLS with cfg (nil means the defaults). WebSockets dialled
// through the same transport share its connections: several streams on one
// TCP connection. It connects directly, without a proxy. ws:// URLs use
// unencrypted HTTP/2 with prior knowledge through a transport of their own.
//
// The client side of RFC 8441 needs golang.org/x/net/http2: net/http's own
// Transport refuses the :protocol pseudo-header in Go 1.26.
func NewHTTP2Transport(cfg *tls.Config) *http2.Transport { return h2stream.NewTransport(cfg) }

// errNoExtendedConnect means the server cannot take a WebSocket over
// HTTP/2, and Dial falls back to HTTP/1.1.
var errNoExtendedConnect = errors.New("conn: server does not offer WebSockets over HTTP/2")

// dialH2 opens a WebSocket as an extended CONNECT stream.
func dialH2(ctx context.Context, u *url.URL, secure bool, opts *DialOptions) (*Conn, error) {
	t := opts.HTTP2Transport
	switch {
	case t != nil:
	case !secure:
		t = h2stream.DefaultTransport(true)
	case opts.TLSConfig != nil:
		t = NewHTTP2Transport(opts.TLSConfig)
	default:
		t = h2stream.DefaultTransport(false)
	}
	hc := handshake.Client{Host: u.Host, Origin: opts.Origin, Protocols: opts.Subprotocols, Extensions: offerClient(opts.Compression), Header: opts.requestHeader(u)}
	// Let the handshake package vet the fields, as for HTTP/1.1.
	if _, err := hc.AppendRequest(nil, handshake.NewKey()); err != nil {
		return nil, err
	}
	h := make(http.Header, len(hc.Header)+6)
	for k, vs := range hc.Header {
		h[k] = vs
	}
	if opts.Host != "" {
		h.Set("Host", opts.Host) // h2stream makes it the :authority
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
	resp, nc, err := h2stream.Dial(ctx, t, target.String(), h)
	if resp != nil {
		opts.keepCookies(u, resp.Header)
	}
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
	c.resp = &http.Response{Status: resp.Status, StatusCode: resp.StatusCode, Proto: resp.Proto,
		ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor, Header: resp.Header, Body: http.NoBody}
	return c, nil
}

// HTTP2 reports whether the connection runs over an HTTP/2 stream (RFC
// 8441) rather than a TCP connection of its own.
func (c *Conn) HTTP2() bool { return c.http2 }
