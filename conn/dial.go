//go:build !js

package conn

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"

	"github.com/wirelevel/ws/handshake"
)

// DialOptions configure the client side of the opening handshake and the
// resulting Conn. A nil *DialOptions means the zero value.
type DialOptions struct {
	Options // the Conn's settings

	// Header holds extra request header fields, such as Authorization or
	// Cookie.
	Header http.Header

	// Origin, if set, is sent as the Origin header.
	Origin string

	// Subprotocols lists the subprotocols to offer, most preferred first.
	Subprotocols []string

	// TLSConfig is used for wss:// URLs (and https:// proxies). nil means a
	// default configuration with the URL's host as server name.
	TLSConfig *tls.Config

	// Proxy returns the HTTP proxy to tunnel through with CONNECT, or nil
	// for a direct connection. nil means http.ProxyFromEnvironment, as in
	// net/http's default transport (HTTP_PROXY, HTTPS_PROXY, NO_PROXY; never
	// for loopback addresses). Use [NoProxy] to always connect directly.
	Proxy func(*http.Request) (*url.URL, error)

	// NetDialContext dials the TCP connection (to the server or proxy). nil
	// means a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// NetDialTLSContext, if set, dials wss:// connections made without a
	// proxy and returns them with TLS already done: TLSConfig is not used
	// for them, and NetDialContext only for proxies and ws:// URLs.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Host, if set, is sent as the Host header (the :authority over
	// HTTP/2) instead of the URL's host, which is still the address
	// dialled and, unless TLSConfig names one, the TLS server name.
	Host string

	// Jar, if set, supplies the cookies sent with the handshake request
	// (added to any Cookie field of Header) and keeps those the server's
	// answer sets, whatever its status; a ws:// URL is an http:// one for
	// the jar, wss:// an https:// one.
	Jar http.CookieJar

	// HandshakeTimeout bounds the whole opening handshake, from dialing to
	// the 101, on top of the context passed to Dial. 0 means 30 s.
	HandshakeTimeout time.Duration

	// Limits bounds the response header block.
	Limits handshake.Limits

	// Compression offers permessage-deflate (RFC 7692). nil means no offer.
	Compression *CompressionOptions

	// HTTP2 makes Dial try a WebSocket over HTTP/2 first (RFC 8441): an
	// extended CONNECT stream on an HTTP/2 connection, shared with other
	// WebSockets dialled through the same HTTP2Transport. If the server does
	// not speak HTTP/2 or does not advertise extended CONNECT, Dial falls
	// back to HTTP/1.1.
	HTTP2 bool

	// HTTP2Transport carries the HTTP/2 connections; see
	// [NewHTTP2Transport]. nil means a shared default, or a new transport
	// with TLSConfig if that is set.
	HTTP2Transport *http2.Transport
}

// NoProxy is a Proxy function for [DialOptions] that never uses a proxy.
func NoProxy(*http.Request) (*url.URL, error) { return nil, nil }

// Dial opens a WebSocket connection to a ws:// or wss:// URL (http:// and
// https:// are taken as synonyms). The server's answer is then
// [Conn.Response]. A server that answers with anything but 101 gives an
// error wrapping a [*handshake.StatusError] that carries the HTTP status,
// reason, header fields and the start of the body (errors.As finds it).
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("conn: dial: %w", err)
	}
	var secure bool
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
	case "wss", "https":
		secure = true
	default:
		return nil, fmt.Errorf("conn: dial %s: scheme must be ws or wss", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("conn: dial %s: no host", rawURL)
	}
	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if opts.HTTP2 {
		c, err := dialH2(ctx, u, secure, opts)
		if !errors.Is(err, errNoExtendedConnect) {
			if err != nil {
				return nil, fmt.Errorf("conn: dial %s: %w", rawURL, err)
			}
			return c, nil
		}
	}
	addr := hostPort(u, secure)
	nc, err := dialTransport(ctx, u, addr, secure, opts)
	if err != nil {
		return nil, fmt.Errorf("conn: dial %s: %w", rawURL, err)
	}
	c, err := clientHandshake(ctx, nc, u, opts)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("conn: dial %s: %w", rawURL, err)
	}
	return c, nil
}

// hostPort returns the host:port to connect to.
func hostPort(u *url.URL, secure bool) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if secure {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// dialTransport connects to the server, through a proxy if one applies,
// and adds TLS for wss.
func dialTransport(ctx context.Context, u *url.URL, addr string, secure bool, opts *DialOptions) (net.Conn, error) {
	dial := opts.NetDialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	proxyFn := opts.Proxy
	if proxyFn == nil {
		proxyFn = http.ProxyFromEnvironment
	}
	// ProxyFromEnvironment looks at the http/https scheme of the request.
	pu := *u
	pu.Scheme = "http"
	if secure {
		pu.Scheme = "https"
	}
	proxyURL, err := proxyFn(&http.Request{URL: &pu, Header: http.Header{}})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	var nc net.Conn
	if proxyURL == nil && secure && opts.NetDialTLSContext != nil {
		return opts.NetDialTLSContext(ctx, "tcp", addr)
	}
	if proxyURL == nil {
		nc, err = dial(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
	} else {
		nc, err = dialProxy(ctx, dial, proxyURL, addr, opts)
		if err != nil {
			return nil, err
		}
	}
	if !secure {
		return nc, nil
	}
	cfg := opts.TLSConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	// The WebSocket handshake is HTTP/1.1.
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// dialProxy opens a tunnel to addr through an HTTP proxy with CONNECT.
func dialProxy(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), proxyURL *url.URL, addr string, opts *DialOptions) (net.Conn, error) {
	secure := false
	switch proxyURL.Scheme {
	case "http", "":
	case "https":
		secure = true
	default:
		return nil, fmt.Errorf("proxy scheme %q not supported (http and https are)", proxyURL.Scheme)
	}
	nc, err := dial(ctx, "tcp", hostPort(proxyURL, secure))
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if secure {
		cfg := opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.ServerName = proxyURL.Hostname()
		cfg.NextProtos = nil
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("proxy: %w", err)
		}
		nc = tc
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(aLongTimeAgo) })
	defer stop()
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if ui := proxyURL.User; ui != nil {
		pw, _ := ui.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(ui.Username()+":"+pw)) + "\r\n"
	}
	req += "\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	// Read the answer byte-exactly: nothing after it may be consumed.
	resp, err := http.ReadResponse(bufio.NewReaderSize(&exactReader{nc}, 1), &http.Request{Method: http.MethodConnect})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, fmt.Errorf("proxy: CONNECT %s: %s", addr, resp.Status)
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}

// exactReader reads one byte at a time, so a bufio.Reader over it never
// reads past what it returns.
type exactReader struct{ nc net.Conn }

func (r *exactReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return r.nc.Read(p)
}

// clientHandshake sends the upgrade request over nc and checks the answer.
func clientHandshake(ctx context.Context, nc net.Conn, u *url.URL, opts *DialOptions) (*Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(aLongTimeAgo) })
	defer stop()

	hc := handshake.Client{
		Host:       u.Host,
		Target:     u.RequestURI(),
		Origin:     opts.Origin,
		Protocols:  opts.Subprotocols,
		Extensions: offerClient(opts.Compression),
		Header:     opts.requestHeader(u),
		Limits:     opts.Limits,
	}
	if opts.Host != "" {
		hc.Host = opts.Host
	}
	key := handshake.NewKey()
	req, err := hc.AppendRequest(nil, key)
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write(req); err != nil {
		return nil, ctxErr(ctx, err)
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := handshake.ReadResponse(br, opts.Limits)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	header := resp.HTTPHeader()
	opts.keepCookies(u, header)
	protocol, exts, err := hc.Check(resp, key)
	if err != nil {
		var se *handshake.StatusError
		if errors.As(err, &se) {
			se.Body = readErrorBody(br, resp)
		}
		return nil, err
	}
	pmd, err := acceptClient(opts.Compression, exts)
	if err != nil {
		return nil, err
	}
	var buffered []byte
	if n := br.Buffered(); n > 0 {
		buffered, _ = br.Peek(n)
	}
	if !stop() {
		return nil, ctx.Err()
	}
	nc.SetDeadline(time.Time{})
	c := Client(nc, buffered, &opts.Options)
	c.subprotocol = protocol
	c.setCompression(pmd, string(resp.Get("Sec-WebSocket-Extensions")))
	c.resp = &http.Response{
		Status:     strconv.Itoa(resp.Status) + " " + string(resp.Reason),
		StatusCode: resp.Status,
		Proto:      string(resp.Proto),
		Header:     header,
		Body:       http.NoBody,
	}
	c.resp.ProtoMajor, c.resp.ProtoMinor, _ = http.ParseHTTPVersion(c.resp.Proto)
	return c, nil
}

// Response returns the server's answer to the opening handshake of a Conn
// made by [Dial]: the status (101, or 200 over HTTP/2) and the header
// fields, such as Set-Cookie or a server's own, with an empty body. It is
// nil for a server Conn and for one made by [Client]. A failed handshake
// gives its answer in the error (see Dial).
func (c *Conn) Response() *http.Response { return c.resp }

// maxErrorBody is how much of a failed handshake's body Dial keeps.
const maxErrorBody = 1 << 10

// readErrorBody reads the start of a non-101 answer's body, up to
// maxErrorBody bytes: what its Content-Length announces (within the
// handshake deadline), or without one what has arrived with the header.
func readErrorBody(br *bufio.Reader, resp *handshake.Response) []byte {
	n := br.Buffered()
	if cl, err := strconv.ParseInt(string(resp.Get("Content-Length")), 10, 64); err == nil && cl >= 0 {
		n = int(min(cl, maxErrorBody))
	}
	n = min(n, maxErrorBody)
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	n, _ = io.ReadFull(br, b)
	return b[:n]
}

// jarURL is u as the cookie jar sees it: http or https.
func jarURL(u *url.URL) *url.URL {
	ju := *u
	switch strings.ToLower(u.Scheme) {
	case "ws":
		ju.Scheme = "http"
	case "wss":
		ju.Scheme = "https"
	}
	return &ju
}

// requestHeader returns Header with the jar's cookies for u added to its
// Cookie field.
func (o *DialOptions) requestHeader(u *url.URL) http.Header {
	if o.Jar == nil {
		return o.Header
	}
	cookies := o.Jar.Cookies(jarURL(u))
	if len(cookies) == 0 {
		return o.Header
	}
	h := o.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	var b strings.Builder
	b.WriteString(h.Get("Cookie"))
	for _, ck := range cookies {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ck.Name + "=" + ck.Value)
	}
	h.Set("Cookie", b.String())
	return h
}

// keepCookies gives the cookies the server's answer sets to the jar.
func (o *DialOptions) keepCookies(u *url.URL, h http.Header) {
	if o.Jar == nil {
		return
	}
	if cookies := (&http.Response{Header: h}).Cookies(); len(cookies) > 0 {
		o.Jar.SetCookies(jarURL(u), cookies)
	}
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.Join(ctx.Err(), err)
	}
	return err
}
