// Package echo is the echo endpoint of wstest: the server and client that
// conformance runs and interop tests use as this library's testees.
package echo

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/frame"
)

// backlog is how many bytes of echoes Loop lets wait for a slow peer before
// it stops reading to let them go out.
const backlog = 1 << 20

// ReadLimit is the largest message the echo endpoints accept: 64 MiB, more
// than the conformance suite's largest message (16 MiB).
const ReadLimit = 64 << 20

// ServerOptions are the options of the echo server: the library's defaults
// except that any origin is accepted (it is a test tool, with no cookies to
// protect), messages up to ReadLimit are allowed, and permessage-deflate is
// accepted when a client offers it.
func ServerOptions() *conn.AcceptOptions {
	return &conn.AcceptOptions{
		Options:                 conn.Options{ReadLimit: ReadLimit},
		InsecureSkipOriginCheck: true,
		Compression:             &conn.CompressionOptions{},
	}
}

// ClientOptions are the options of this library's client as a testee: the
// defaults, with the same read limit as the server, and permessage-deflate
// offered.
func ClientOptions() *conn.DialOptions {
	return &conn.DialOptions{
		Options:     conn.Options{ReadLimit: ReadLimit},
		Compression: &conn.CompressionOptions{},
	}
}

// Loop echoes every message c receives, text as text and binary as binary,
// until reading fails, and returns that error. Echoes are queued
// (QueueMessage), so the replies to everything one read returned leave in
// one write, before the reader waits for more. A peer that sends faster
// than it reads is slowed down rather than failed: while a megabyte of
// echoes waits for it, Loop waits for them to go out before it reads on.
func Loop(ctx context.Context, c *conn.Conn) error {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return err
		}
		if c.BufferedAmount() >= backlog {
			c.Flush(ctx)
		}
		if err := c.QueueMessage(typ, msg); err != nil {
			// A write can fail because the peer's close arrived meanwhile;
			// the next read reports how the connection ended.
			continue
		}
		if cap(msg) <= 1<<20 {
			buf = msg // keep a buffer for the next message, unless it is huge
		} else {
			buf = nil
		}
	}
}

// Server is an http.Handler that accepts WebSocket connections at any path
// and echoes them. A request that is not a WebSocket one gets a small page
// at / (a browser loading the origin first, as it does before it opens
// WebSockets to it) and 404 elsewhere, over HTTP/1.1 and HTTP/2 alike.
// Shutdown closes every open connection with 1001.
type Server struct {
	Options *conn.AcceptOptions // nil means ServerOptions()

	group conn.Group
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsWebSocketRequest(r) {
		servePage(w, r)
		return
	}
	opts := s.Options
	if opts == nil {
		opts = ServerOptions()
	}
	c, err := conn.Accept(w, r, opts)
	if err != nil {
		return
	}
	s.group.Add(c)
	defer c.CloseNow()
	Loop(context.Background(), c)
}

// Shutdown closes every open connection with 1001 (going away) and waits
// for them to finish, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.group.Shutdown(ctx, "server shutting down")
}

// ClientCheck is one message the echo client sends and expects back.
type ClientCheck struct {
	Type    conn.MessageType
	Payload []byte
}

// DefaultChecks is the set of messages the echo client sends: text and
// binary, empty to 1 MiB, across every frame length encoding.
func DefaultChecks() []ClientCheck {
	var checks []ClientCheck
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20} {
		text := make([]byte, n)
		bin := make([]byte, n)
		for i := range text {
			text[i] = "Hello, wörld! "[i%14]
			bin[i] = byte(i * 31)
		}
		// Cut text on a code point boundary.
		for n > 0 && !frame.ValidUTF8(text) {
			text[len(text)-1] = '.'
		}
		checks = append(checks, ClientCheck{conn.Text, text}, ClientCheck{conn.Binary, bin})
	}
	return checks
}

// RunClient dials url, sends every check, verifies each echo, and closes the
// connection with 1000. It returns the protocol it ran over ("HTTP/1.1" or
// "HTTP/2") and the first mismatch or error.
func RunClient(ctx context.Context, url string, opts *conn.DialOptions, checks []ClientCheck) (string, error) {
	if opts == nil {
		opts = ClientOptions()
	}
	c, err := conn.Dial(ctx, url, opts)
	if err != nil {
		return "", err
	}
	proto := "HTTP/1.1"
	if c.HTTP2() {
		proto = "HTTP/2"
	}
	defer c.CloseNow()
	var buf []byte
	for i, ch := range checks {
		if err := c.WriteMessage(ctx, ch.Type, ch.Payload); err != nil {
			return proto, err
		}
		typ, got, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return proto, err
		}
		if typ != ch.Type || string(got) != string(ch.Payload) {
			return proto, fmt.Errorf("echo: message %d (%v, %d bytes) came back as %v, %d bytes, different", i, ch.Type, len(ch.Payload), typ, len(got))
		}
		buf = got
	}
	return proto, c.Close(frame.CloseNormal, "")
}

// TesteeClient is the Autobahn testee-client callback for this library's
// client: it dials url with ClientOptions and echoes until the fuzzing
// server ends the case.
func TesteeClient(ctx context.Context, url string) error {
	return TesteeClientWith(ClientOptions())(ctx, url)
}

// TesteeClientWith is TesteeClient dialling with opts.
func TesteeClientWith(opts *conn.DialOptions) func(ctx context.Context, url string) error {
	return func(ctx context.Context, url string) error {
		return testee(ctx, url, opts)
	}
}

func testee(ctx context.Context, url string, opts *conn.DialOptions) error {
	c, err := conn.Dial(ctx, url, opts)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	// However the case ends (closing handshake, a failure the case
	// provoked, a drop), the fuzzing server judges it.
	Loop(ctx, c)
	return nil
}

// IsWebSocketRequest reports whether r asks for a WebSocket: a request with
// the "websocket" token in its Upgrade field (HTTP/1.1; the checks that it
// is a valid one are conn.Accept's), or an extended CONNECT (HTTP/2, RFC
// 8441).
func IsWebSocketRequest(r *http.Request) bool {
	if r.ProtoMajor >= 2 {
		return r.Method == http.MethodConnect && r.Header.Get(":protocol") != ""
	}
	for _, v := range r.Header.Values("Upgrade") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "websocket") {
				return true
			}
		}
	}
	return false
}

// servePage answers a request that is not a WebSocket one: the page at /
// for GET and HEAD, 404 for other paths, 405 for other methods.
func servePage(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != "/":
		http.NotFound(w, r)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodGet {
			w.Write([]byte(page))
		}
	}
}

// page is the echo server's page: a form that sends messages to the
// server's own origin and shows the echoes.
const page = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wstest echo server</title>
<style>body { font-family: sans-serif; margin: 2em; } #log { white-space: pre-wrap; font-family: monospace; }</style></head>
<body><h1>wstest echo server</h1>
<p>Every WebSocket message sent to this server, at any path, comes back unchanged: text as text, binary as binary.</p>
<form id="f"><input id="text" size="40" value="Hello, echo!"> <button>Send</button></form>
<p>Status: <span id="status">connecting</span></p>
<div id="log"></div>
<script>
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
const log = (s) => { document.getElementById("log").textContent += s + "\n"; };
const ws = new WebSocket(url);
window.echoSocket = ws;
ws.onopen = () => { document.getElementById("status").textContent = "open (" + url + ")"; };
ws.onclose = (e) => { document.getElementById("status").textContent = "closed, code " + e.code; };
ws.onmessage = (e) => log("echo: " + e.data);
document.getElementById("f").onsubmit = (e) => {
  e.preventDefault();
  const t = document.getElementById("text").value;
  ws.send(t);
  log("sent: " + t);
};
</script></body></html>
`
