//go:build !js

package conn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

// echoHandler accepts with opts and echoes until the connection ends.
func echoHandler(t testing.TB, opts *AcceptOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	})
}

func wsURL(s *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

func TestAcceptAndDial(t *testing.T) {
	s := httptest.NewServer(echoHandler(t, &AcceptOptions{Subprotocols: []string{"chat.v2", "chat.v1"}}))
	defer s.Close()
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, wsURL(s, "/echo?x=1"), &DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "chat.v2" {
		t.Errorf("subprotocol %q, want chat.v2 (server preference)", c.Subprotocol())
	}
	for _, n := range []int{0, 10, 70000} {
		msg := pattern(n)
		if err := c.WriteMessage(ctx, Binary, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "echo", got, msg)
	}
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
}

// Wrapped ResponseWriters (middleware) still hijack through
// http.ResponseController.
type wrappedWriter struct{ http.ResponseWriter }

func (w wrappedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func TestAcceptThroughWrappedWriter(t *testing.T) {
	inner := echoHandler(t, nil)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(wrappedWriter{w}, r)
	}))
	defer s.Close()
	c, err := Dial(bg, wsURL(s, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.WriteMessage(bg, Text, []byte("hi"))
	if _, got, err := c.ReadMessage(bg, nil); err != nil || string(got) != "hi" {
		t.Fatalf("echo = %q, %v", got, err)
	}
}

func TestRejectedHandshakes(t *testing.T) {
	s := httptest.NewServer(echoHandler(t, &AcceptOptions{OriginPatterns: []string{"good.example"}}))
	defer s.Close()
	tests := []struct {
		name   string
		opts   *DialOptions
		status int
	}{
		{"foreign origin", &DialOptions{Origin: "https://evil.example"}, 403},
		{"null origin", &DialOptions{Origin: "null"}, 403},
		{"allowed origin", &DialOptions{Origin: "https://good.example"}, 0},
		{"same origin", &DialOptions{Origin: s.URL}, 0},
		{"no origin", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(bg, wsURL(s, "/"), tt.opts)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("Dial = %v", err)
				}
				c.CloseNow()
				return
			}
			var se *handshake.StatusError
			if !errors.As(err, &se) || se.Status != tt.status {
				t.Fatalf("Dial error %v, want status %d", err, tt.status)
			}
		})
	}
	// Plain HTTP requests get the right statuses.
	for _, tc := range []struct {
		name   string
		mod    func(r *http.Request)
		status int
	}{
		{"POST", func(r *http.Request) { r.Method = http.MethodPost }, 405},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, 426},
		{"bad key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "short") }, 400},
		{"no upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, 426},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			tc.mod(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 426 && tc.name == "version 8" && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatalf("426 without Sec-WebSocket-Version: 13")
			}
		})
	}
}

func listen(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// The raw path: no net/http on the server. A client that sends its first
// frame in the same write as the request has it read correctly.
func TestUpgradeRawWithEarlyFrame(t *testing.T) {
	ln := listen(t)
	var gotPath atomic.Value
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c, err := Upgrade(nc, &AcceptOptions{OnRequest: func(r *handshake.Request) error {
			gotPath.Store(string(r.Target))
			return nil
		}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hc := handshake.Client{Host: ln.Addr().String(), Target: "/raw"}
	key := handshake.NewKey()
	req, _ := hc.AppendRequest(nil, key)
	req = frame.AppendFrame(req, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{9, 8, 7, 6}}, []byte("early"))
	nc.Write(req)
	br := bufio.NewReader(nc)
	resp, err := handshake.ReadResponse(br, handshake.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := hc.Check(resp, key); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hb [frame.MaxHeaderSize]byte
	h, err := frame.ReadHeader(br, &hb)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, h.Length)
	io.ReadFull(br, p)
	if string(p) != "early" {
		t.Fatalf("echo %q, want early", p)
	}
	if gotPath.Load() != "/raw" {
		t.Fatalf("OnRequest saw %v", gotPath.Load())
	}
}

// A client that trickles its handshake is dropped after the timeout.
func TestUpgradeRawTrickleDropped(t *testing.T) {
	ln := listen(t)
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		_, err = Upgrade(nc, &AcceptOptions{HandshakeTimeout: 200 * time.Millisecond})
		done <- err
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\n") {
		if _, err := nc.Write([]byte{b}); err != nil {
			break
		}
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("trickled handshake accepted")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("dropped after %v, want about 200ms", d)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("server still waiting after the whole trickle")
}

func TestDialTLS(t *testing.T) {
	s := httptest.NewTLSServer(echoHandler(t, nil))
	defer s.Close()
	u := "wss" + strings.TrimPrefix(s.URL, "https") + "/"
	c, err := Dial(bg, u, &DialOptions{TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.WriteMessage(bg, Text, []byte("secure"))
	if _, got, err := c.ReadMessage(bg, nil); err != nil || string(got) != "secure" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	// Without the test CA the handshake fails.
	if _, err := Dial(bg, u, &DialOptions{TLSConfig: &tls.Config{}}); err == nil {
		t.Fatal("dial with an untrusted certificate succeeded")
	}
}

// An HTTP CONNECT proxy, given in the options or taken from the
// environment.
func TestDialThroughProxy(t *testing.T) {
	s := httptest.NewServer(echoHandler(t, nil))
	defer s.Close()
	ln := listen(t)
	var tunnels atomic.Int32
	go func() {
		for {
			pc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer pc.Close()
				br := bufio.NewReader(pc)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				if req.Header.Get("Proxy-Authorization") != "Basic dXNlcjpwYXNz" {
					io.WriteString(pc, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
					return
				}
				up, err := net.Dial("tcp", req.Host)
				if err != nil {
					io.WriteString(pc, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				defer up.Close()
				tunnels.Add(1)
				io.WriteString(pc, "HTTP/1.1 200 Connection established\r\n\r\n")
				go io.Copy(up, br)
				io.Copy(pc, up)
			}()
		}
	}()
	proxyURL, _ := url.Parse("http://user:pass@" + ln.Addr().String())
	c, err := Dial(bg, wsURL(s, "/"), &DialOptions{Proxy: http.ProxyURL(proxyURL)})
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(bg, Text, []byte("via proxy"))
	if _, got, err := c.ReadMessage(bg, nil); err != nil || string(got) != "via proxy" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	c.Close(1000, "")
	if tunnels.Load() != 1 {
		t.Fatalf("%d tunnels", tunnels.Load())
	}
	// Wrong credentials: the CONNECT status is reported.
	bad, _ := url.Parse("http://user:wrong@" + ln.Addr().String())
	if _, err := Dial(bg, wsURL(s, "/"), &DialOptions{Proxy: http.ProxyURL(bad)}); err == nil || !strings.Contains(err.Error(), "407") {
		t.Fatalf("Dial through a refusing proxy = %v, want a 407 error", err)
	}
}

func TestDialErrors(t *testing.T) {
	for _, u := range []string{"ftp://x/", "ws://", "::bad"} {
		if _, err := Dial(bg, u, nil); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
	ln := listen(t)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			io.WriteString(nc, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
			nc.Close()
		}
	}()
	_, err := Dial(bg, "ws://"+ln.Addr().String()+"/", nil)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.Status != 404 {
		t.Fatalf("Dial to a 404 = %v", err)
	}
	// A server that never answers: the handshake timeout applies.
	ln2 := listen(t)
	go func() { ln2.Accept() }()
	start := time.Now()
	if _, err := Dial(bg, "ws://"+ln2.Addr().String()+"/", &DialOptions{HandshakeTimeout: 200 * time.Millisecond}); err == nil {
		t.Fatal("Dial to a silent server succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}
