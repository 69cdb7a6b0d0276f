//go:build !js

package conn

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/internal/testpeer"
)

type h2Server struct {
	*httptest.Server
	conns    atomic.Int32 // TCP connections accepted
	mu       sync.Mutex
	requests []string // "HTTP/2.0 CONNECT" or "HTTP/1.1 GET" per WebSocket
}

func newH2Server(t *testing.T, opts *AcceptOptions) *h2Server {
	s := &h2Server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		s.mu.Lock()
		s.requests = append(s.requests, r.Proto+" "+r.Method)
		s.mu.Unlock()
		echo(c)
	}))
	s.EnableHTTP2 = true
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *h2Server) wss() string { return "wss" + strings.TrimPrefix(s.URL, "https") + "/ws" }

func (s *h2Server) tlsConfig() *tls.Config {
	return s.Client().Transport.(*http.Transport).TLSClientConfig
}

func TestHTTP2(t *testing.T) {
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	s := newH2Server(t, &AcceptOptions{Compression: &CompressionOptions{}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tr := NewHTTP2Transport(s.tlsConfig())
	opts := &DialOptions{HTTP2: true, HTTP2Transport: tr, Compression: &CompressionOptions{}}

	// Several WebSockets multiplexed on one HTTP/2 connection.
	var conns []*Conn
	for range 3 {
		c, err := Dial(ctx, s.wss(), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if !c.HTTP2() {
			t.Fatal("dialled over HTTP/1.1, want HTTP/2")
		}
		if !strings.HasPrefix(c.Extensions(), "permessage-deflate") {
			t.Fatalf("extensions %q over HTTP/2", c.Extensions())
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for _, n := range []int{0, 125, 70000, 1 << 20} {
			msg := jsonLike(n, uint64(i))
			if err := c.WriteMessage(ctx, Text, msg); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.ReadMessage(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "echo over HTTP/2", got, msg)
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("%d TCP connections for 3 WebSockets, want 1 (multiplexed)", n)
	}
	// HTTP/1.1 upgrades still work on the same server.
	c1, err := Dial(ctx, s.wss(), &DialOptions{TLSConfig: s.tlsConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if c1.HTTP2() {
		t.Fatal("plain Dial used HTTP/2")
	}
	c1.WriteMessage(ctx, Binary, []byte("h1"))
	if _, got, err := c1.ReadMessage(ctx, nil); err != nil || string(got) != "h1" {
		t.Fatalf("HTTP/1.1 echo: %q %v", got, err)
	}
	c1.Close(frame.CloseNormal, "")
	// Closing handshakes over HTTP/2.
	for _, c := range conns {
		if err := c.Close(frame.CloseNormal, "bye"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("HTTP/2 WebSocket not closed")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if got := strings.Join(s.requests, ","); got != "HTTP/2.0 CONNECT,HTTP/2.0 CONNECT,HTTP/2.0 CONNECT,HTTP/1.1 GET" {
		t.Fatalf("server saw %s", got)
	}
}

// Protocol errors over HTTP/2 fail the stream with the right close code.
func TestHTTP2ProtocolError(t *testing.T) {
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	s := newH2Server(t, &AcceptOptions{Options: Options{ReadLimit: 1000}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.wss(), &DialOptions{HTTP2: true, TLSConfig: s.tlsConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.WriteMessage(ctx, Binary, make([]byte, 2000))
	_, _, err = c.ReadMessage(ctx, nil)
	if CloseStatus(err) != frame.CloseTooBig {
		t.Fatalf("read after an oversized message = %v, want close 1009", err)
	}
}

// Without extended CONNECT (this process has no GODEBUG), or without
// HTTP/2, Dial falls back to HTTP/1.1.
func TestHTTP2Fallback(t *testing.T) {
	if testpeer.ExtendedConnect() {
		t.Skip("runs in a process without extended CONNECT")
	}
	for _, h2 := range []bool{true, false} {
		s := httptest.NewUnstartedServer(echoHandler(t, nil))
		s.EnableHTTP2 = h2
		s.StartTLS()
		defer s.Close()
		u := "wss" + strings.TrimPrefix(s.URL, "https") + "/"
		c, err := Dial(context.Background(), u, &DialOptions{HTTP2: true, TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig})
		if err != nil {
			t.Fatalf("server HTTP/2=%v: %v", h2, err)
		}
		if c.HTTP2() {
			t.Fatalf("server HTTP/2=%v: used HTTP/2 without extended CONNECT", h2)
		}
		c.WriteMessage(context.Background(), Text, []byte("fallback"))
		if _, got, err := c.ReadMessage(context.Background(), nil); err != nil || string(got) != "fallback" {
			t.Fatalf("echo %q %v", got, err)
		}
		c.Close(1000, "")
	}
}
