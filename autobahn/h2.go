package autobahn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/wirelevel/ws/handshake"
	"github.com/wirelevel/ws/internal/h2stream"
)

// WebSockets over HTTP/2 (RFC 8441). A case runs on one extended CONNECT
// stream; the stream takes the place of the TCP connection in the
// verdicts. See DECISIONS.md, items 29-33.

// ErrNoExtendedConnect is returned by [NewFuzzingServer] for an HTTP/2
// fuzzing server in a process that did not start with
// GODEBUG=http2xconnect=1: Go's HTTP/2 server reads that setting once, at
// start-up, and refuses extended CONNECT (RFC 8441) without it. A tool can
// re-execute itself with the setting added to its environment.
var ErrNoExtendedConnect = errors.New("autobahn: HTTP/2 testee clients need extended CONNECT: start the process with GODEBUG=http2xconnect=1")

// extendedConnectEnabled reports whether Go's HTTP/2 server takes extended
// CONNECT in this process; it tests the environment as net/http and
// golang.org/x/net/http2 do.
func extendedConnectEnabled() bool {
	return strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")
}

// h2Dialer dials the TCP connection of one case's HTTP/2 transport and
// keeps it, so that the case can close it and can tell a failed TCP
// connect (which abandons the server) from a failed handshake.
type h2Dialer struct {
	u       *wsURL
	tls     *tls.Config   // nil: h2c with prior knowledge
	timeout time.Duration // 0: none

	mu         sync.Mutex
	conns      []net.Conn
	connectErr error
	over       bool
}

func (d *h2Dialer) dial(ctx context.Context, _, _ string, _ *tls.Config) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	nc, err := nd.DialContext(ctx, "tcp", d.u.addr)
	d.mu.Lock()
	if err != nil {
		d.connectErr = err
		d.mu.Unlock()
		return nil, err
	}
	if d.over {
		d.mu.Unlock()
		nc.Close()
		return nil, net.ErrClosed
	}
	d.connectErr = nil
	d.conns = append(d.conns, nc)
	d.mu.Unlock()
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	if d.tls == nil {
		return nc, nil
	}
	if d.timeout > 0 {
		nc.SetDeadline(time.Now().Add(d.timeout))
	}
	tc := tls.Client(nc, d.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	nc.SetDeadline(time.Time{})
	if p := tc.ConnectionState().NegotiatedProtocol; p != http2.NextProtoTLS {
		nc.Close()
		return nil, fmt.Errorf("TLS: the server chose ALPN protocol %q, not h2", p)
	}
	return tc, nil
}

// failedConnect returns the error of the TCP connect if no connection was
// established.
func (d *h2Dialer) failedConnect() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.conns) > 0 {
		return nil
	}
	return d.connectErr
}

// close closes the case's TCP connections, and any dialled later.
func (d *h2Dialer) close() {
	d.mu.Lock()
	d.over = true
	conns := d.conns
	d.mu.Unlock()
	for _, nc := range conns {
		nc.Close()
	}
}

// runClientCaseH2 runs case c on an extended CONNECT stream of an HTTP/2
// connection of its own. It returns an error only when TCP cannot be
// established.
func runClientCaseH2(ctx context.Context, u *wsURL, srv *ServerEntry, agent string, c *Case, o *Options) (*CaseResult, error) {
	started := time.Now()
	d := &h2Dialer{u: u, timeout: timeout(o.OpenHandshakeTimeout)}
	scheme := "http"
	if u.secure {
		scheme = "https"
		d.tls = clientTLSConfig(o, srv, u, http2.NextProtoTLS)
	}
	t := &http2.Transport{AllowHTTP: true, DialTLSContext: d.dial, DisableCompression: true}
	defer t.CloseIdleConnections()
	defer d.close()

	h := http.Header{}
	h.Set("User-Agent", o.UserAgent)
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-cache")
	if srv.Origin != "" {
		h.Set("Origin", srv.Origin)
	}
	if len(srv.Protocols) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(srv.Protocols, ", "))
	}
	if c.PMCE != nil {
		h.Set("Sec-WebSocket-Extensions", clientOfferHeader(c.PMCE))
	}
	h.Set("Sec-WebSocket-Version", "13")
	req := renderH2Request(http.MethodConnect, scheme, u.host, u.target, h)

	name := agent
	fail := func(why string, timeout bool, resp string) (*CaseResult, error) {
		if name == "" {
			name = "UnknownServer"
		}
		res := handshakeFailedResult(c, name, ModeFuzzingClient, true, started, why, timeout, req, resp)
		res.TLS, res.HTTP2 = u.secure, true
		return res, nil
	}
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if o.OpenHandshakeTimeout > 0 {
		hctx, cancel = context.WithTimeout(ctx, o.OpenHandshakeTimeout)
	}
	resp, sc, err := h2stream.Dial(hctx, t, scheme+"://"+u.host+u.target, h)
	cancel()
	if err != nil {
		if cerr := d.failedConnect(); cerr != nil {
			return nil, fmt.Errorf("%w: %v", errConnect, cerr)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %v", errConnect, ctx.Err())
		}
		var se *handshake.StatusError
		if errors.As(err, &se) {
			if name == "" && resp != nil {
				name = resp.Header.Get("Server")
			}
			return fail(fmt.Sprintf("status %d, want 2xx", se.Status), false, renderH2Response(se.Status, se.Header))
		}
		timeout := errors.Is(err, context.DeadlineExceeded) || isTimeout(err)
		return fail("extended CONNECT: "+err.Error(), timeout, "")
	}
	response := renderH2Response(resp.StatusCode, resp.Header)
	if name == "" {
		name = resp.Header.Get("Server")
	}
	// RFC 8441, Section 5: no Sec-WebSocket-Key and no
	// Sec-WebSocket-Accept; the subprotocol and extension rules are those
	// of RFC 6455.
	pm, err := checkAgreed(resp.Header, srv, c.PMCE != nil)
	if err != nil {
		sc.Close()
		return fail(err.Error(), false, response)
	}
	cc := &h2ClientConn{Conn: sc, done: make(chan struct{})}
	s := &session{
		nc: cc, br: bufio.NewReaderSize(cc, 64<<10), client: true, pmce: pm,
		agent: name, mode: ModeFuzzingClient,
		request: req, response: response,
		rawRequest: []byte(req), rawResponse: []byte(response),
		opened: time.Now(), tls: u.secure, http2: true,
	}
	if s.agent == "" {
		s.agent = "UnknownServer"
	}
	res := runCase(ctx, c, s, o)
	d.close() // unblocks the transport if the stream's end is still under way
	select {
	case <-cc.done:
	case <-time.After(5 * time.Second):
	}
	return res, nil
}

// h2ClientConn is the client-mode fuzzer's end of a case's stream. Close
// does not block, as closing a socket does not: it fails pending and later
// reads and writes at once and ends the stream (END_STREAM, then
// RST_STREAM with CANCEL) on another goroutine, because the HTTP/2
// transport may wait for a connection it cannot write to. The case closes
// its connection when it ends.
type h2ClientConn struct {
	net.Conn // from h2stream.Dial
	closed   atomic.Bool
	done     chan struct{} // closed when the stream has ended
}

func (c *h2ClientConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.Conn.SetDeadline(time.Unix(1, 0))
	go func() {
		c.Conn.Close()
		close(c.done)
	}()
	return nil
}

func (c *h2ClientConn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

func (c *h2ClientConn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *h2ClientConn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// renderH2Request shows an HTTP/2 request in the reports: its
// pseudo-header fields, then its header fields, lower-cased and sorted.
func renderH2Request(method, scheme, authority, path string, h http.Header) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":method: %s\r\n", method)
	if p := h.Get(":protocol"); p != "" {
		fmt.Fprintf(&b, ":protocol: %s\r\n", p)
	} else if method == http.MethodConnect {
		b.WriteString(":protocol: websocket\r\n")
	}
	fmt.Fprintf(&b, ":scheme: %s\r\n:authority: %s\r\n:path: %s\r\n", scheme, authority, path)
	writeH2Fields(&b, h)
	b.WriteString("\r\n")
	return b.String()
}

// renderH2Response shows an HTTP/2 response header block in the reports.
func renderH2Response(status int, h http.Header) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":status: %d\r\n", status)
	writeH2Fields(&b, h)
	b.WriteString("\r\n")
	return b.String()
}

func writeH2Fields(b *strings.Builder, h http.Header) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if strings.HasPrefix(k, ":") {
			continue
		}
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\r\n", strings.ToLower(k), v)
		}
	}
}

// The fuzzing server's side.

// h2Preface is the client connection preface of HTTP/2 (RFC 9113, Section
// 3.4), with which an h2c client with prior knowledge starts.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// hasH2Preface reports whether br starts with the HTTP/2 preface. It reads
// only as far as the bytes match, so an HTTP/1.1 request (or a client that
// sent less) never makes it wait.
func hasH2Preface(br *bufio.Reader) bool {
	for n := 1; n <= len(h2Preface); n++ {
		b, err := br.Peek(n)
		if err != nil || b[n-1] != h2Preface[n-1] {
			return false
		}
	}
	return true
}

// prefacedConn is a connection whose first bytes were peeked into r.
type prefacedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prefacedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// discardLog silences the HTTP/2 server: a testee that breaks HTTP/2 is
// not what the harness reports on.
var discardLog = log.New(io.Discard, "", 0)

// newH2Server returns the HTTP/2 server that serves the connections of
// testee clients speaking HTTP/2, and the net/http server whose Shutdown
// sends them GOAWAY.
func newH2Server() (*http2.Server, *http.Server, error) {
	base := &http.Server{ErrorLog: discardLog}
	h2 := &http2.Server{}
	if err := http2.ConfigureServer(base, h2); err != nil {
		return nil, nil, fmt.Errorf("autobahn: %w", err)
	}
	return h2, base, nil
}

// serveH2 serves an HTTP/2 connection from a testee client: each extended
// CONNECT stream is one request, like an HTTP/1.1 upgrade on a connection
// of its own. It returns when the connection and its handlers are done.
func (s *FuzzingServer) serveH2(c net.Conn, secure bool) {
	c.SetDeadline(time.Time{}) // the HTTP/2 server keeps its own
	var (
		mu       sync.Mutex
		over     bool
		handlers sync.WaitGroup
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if over {
			mu.Unlock()
			return
		}
		handlers.Add(1)
		mu.Unlock()
		defer handlers.Done()
		s.serveStream(w, r, secure)
	})
	s.h2.ServeConn(c, &http2.ServeConnOpts{Handler: h, BaseConfig: s.h2base})
	mu.Lock()
	over = true
	mu.Unlock()
	handlers.Wait()
}

// serveStream handles one HTTP/2 request of a testee client.
func (s *FuzzingServer) serveStream(w http.ResponseWriter, r *http.Request, secure bool) {
	scheme := "http"
	if secure {
		scheme = "https"
	}
	x := &exchange{
		started: time.Now(),
		raw:     renderH2Request(r.Method, scheme, r.Host, r.RequestURI, r.Header),
		url:     r.URL,
		header:  r.Header,
		tls:     secure,
		w:       w,
		r:       r,
	}
	defer x.close()
	if status, err := checkExtendedConnect(r); err != nil {
		x.reject(status, err.Error())
		return
	}
	s.dispatch(x)
}

// checkExtendedConnect checks a testee client's WebSocket request over
// HTTP/2 (RFC 8441, Section 4) and returns the status to reject it with.
func checkExtendedConnect(r *http.Request) (status int, err error) {
	switch {
	case r.Method != http.MethodConnect || r.Header.Get(":protocol") == "":
		return http.StatusMethodNotAllowed, errors.New("not an extended CONNECT request (RFC 8441)")
	case !strings.EqualFold(r.Header.Get(":protocol"), "websocket"):
		return http.StatusBadRequest, errors.New("the :protocol is not websocket")
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return http.StatusUpgradeRequired, errors.New("the Sec-WebSocket-Version is not 13")
	}
	return 0, nil
}

// h2ServerConn is the fuzzing server's end of a WebSocket on an HTTP/2
// stream. The stream ends (END_STREAM) when the handler returns, which the
// handler does once the case is over; Close only stops this end: reads
// fail at once, later writes fail, and a write blocked by flow control is
// cut off by resetting the stream, as closing a socket would cut it. A
// write deadline that passes resets the stream too, whether or not a write
// is under way. Nothing may be called once the handler has returned.
type h2ServerConn struct {
	net.Conn // from h2stream.Server
	closed   atomic.Bool
	writing  atomic.Int32
}

func (c *h2ServerConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	c.writing.Add(1)
	defer c.writing.Add(-1)
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

func (c *h2ServerConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.writing.Load() > 0 {
		// A deadline in the past resets the stream at once.
		c.Conn.SetWriteDeadline(time.Unix(1, 0))
	}
	return c.Conn.Close()
}

func (c *h2ServerConn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *h2ServerConn) SetDeadline(t time.Time) error {
	c.Conn.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}
