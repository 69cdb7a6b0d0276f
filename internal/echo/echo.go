// Package echo is the echo endpoint of wstest: the server and client that
// conformance runs and interop tests use as this library's testees.
package echo

import (
	"context"
	"fmt"
	"net/http"

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
// and echoes them. Shutdown closes every open connection with 1001.
type Server struct {
	Options *conn.AcceptOptions // nil means ServerOptions()

	group conn.Group
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
