package client

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime"
)

func TestConnectData(t *testing.T) {
	tests := []struct {
		name      string
		auth      string
		pid       string
		offset    string
		hasOffset bool
		want      string
	}{
		{name: "no session, no auth", want: ""},
		{name: "no session", auth: `{"token":"t"}`, want: `{"token":"t"}`},
		{name: "pid, no offset yet", pid: "p1", want: `{"pid":"p1"}`},
		{name: "pid and offset", pid: "p1", offset: "o-1", hasOffset: true, want: `{"pid":"p1","offset":"o-1"}`},
		{name: "with auth", auth: `{"token":"t"}`, pid: "p1", offset: "o", hasOffset: true, want: `{"pid":"p1","offset":"o","token":"t"}`},
		{name: "empty auth", auth: `{}`, pid: "p1", want: `{"pid":"p1"}`},
		{name: "quotes", pid: `p"1`, offset: "\\", hasOffset: true, want: `{"pid":"p\"1","offset":"\\"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{pid: tt.pid, offset: tt.offset, hasOffset: tt.hasOffset}
			if tt.auth != "" {
				c.auth = []byte(tt.auth)
			}
			if got := string(c.connectDataLocked()); got != tt.want {
				t.Errorf("connectDataLocked() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts Options
		text string
	}{
		{"scheme", "ftp://x", Options{}, "unsupported URL scheme"},
		{"namespace", "http://x", Options{Namespace: "chat"}, "does not start with /"},
		{"auth", "http://x", Options{Auth: []int{1}}, "auth must encode as a JSON object"},
		{"transport", "http://x", Options{Transports: []Transport{"webtransport"}}, "unknown transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.url, &tt.opts); err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("New = %v, want %q", err, tt.text)
			}
		})
	}
}

// TestTransportOptions checks Transports, NoUpgrade and TryAllTransports
// against package realtime's server.
func TestTransportOptions(t *testing.T) {
	addr, _ := server(t, "127.0.0.1:0")
	// A front that refuses polling, as some proxies do.
	srv := newApp()
	defer srv.Close()
	front := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") == "polling" {
			http.Error(w, "no polling here", http.StatusForbidden)
			return
		}
		srv.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go front.Serve(ln)
	defer front.Close()
	noPolling := "http://" + ln.Addr().String()
	// And one that refuses WebSocket.
	noWS := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") == "websocket" {
			http.Error(w, "no WebSocket here", http.StatusForbidden)
			return
		}
		srv.ServeHTTP(w, r)
	})}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go noWS.Serve(ln2)
	defer noWS.Close()
	pollingOnly := "http://" + ln2.Addr().String()

	tests := []struct {
		name string
		url  string
		opts Options
		want Transport // "" means Dial fails
	}{
		{"default upgrades", "http://" + addr, Options{}, WebSocket},
		{"no upgrade", "http://" + addr, Options{NoUpgrade: true}, Polling},
		{"polling only", "http://" + addr, Options{Transports: []Transport{Polling}}, Polling},
		{"websocket first", "http://" + addr, Options{Transports: []Transport{WebSocket, Polling}}, WebSocket},
		{"polling refused", noPolling, Options{}, ""},
		{"polling refused, try all", noPolling, Options{TryAllTransports: true}, WebSocket},
		{"upgrade refused", pollingOnly, Options{}, Polling},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.NoReconnect = true
			c, err := Dial(ctxT(t, 5*time.Second), tt.url, &tt.opts)
			if tt.want == "" {
				var se *StatusError
				if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
					t.Errorf("Dial = %v, want the 403", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tt.want == Polling {
				// Time for an upgrade that must not come.
				if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", 1); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			waitFor(t, "transport "+string(tt.want), func() bool { return c.Transport() == tt.want })
			if a, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", "x"); err != nil || a.String(0) != "x" {
				t.Errorf("echo = %q, %v", a.String(0), err)
			}
			if c.Recovered() {
				t.Error("Recovered() against a server without recovery")
			}
		})
	}
}

// TestListeners checks On, Once, Off and the catch-all listeners against
// package realtime's server.
func TestListeners(t *testing.T) {
	addr, _ := server(t, "127.0.0.1:0")
	c, err := Dial(ctxT(t, 5*time.Second), "http://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var r recorder
	// Acknowledgements do not wait for the handler goroutine, events do:
	// once the server's question has been answered, the listeners of the
	// shout before it have run.
	c.On("question", func(e *Event) { e.Ack() })
	shout := func(text string) {
		t.Helper()
		c.Emit("shout", text)
		if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "ask-me", 1); err != nil {
			t.Fatal(err)
		}
	}
	offA := c.On("shout", func(e *Event) { r.add("a:" + e.Args.String(0)) })
	c.On("shout", func(e *Event) { r.add("b:" + e.Args.String(0)) })
	c.Once("shout", func(e *Event) { r.add("once:" + e.Args.String(0)) })
	offAny := c.OnAny(func(e *Event) {
		if e.Name == "shout" {
			r.add("any:" + e.Name)
		}
	})
	c.PrependAny(func(e *Event) {
		if e.Name == "shout" {
			r.add("first:" + e.Name)
		}
	})
	shout("1")
	shout("2")
	offA()
	offA() // twice is fine
	offAny()
	shout("3")
	c.Off("shout")
	c.OffAny()
	shout("4")
	c.On("shout", func(e *Event) { r.add("new:" + e.Args.String(0)) })
	shout("5")
	want := []string{
		"first:shout", "any:shout", "a:1", "b:1", "once:1",
		"first:shout", "any:shout", "a:2", "b:2",
		"first:shout", "b:3",
		"new:5",
	}
	if got := r.wait(t, len(want)); !slices.Equal(got, want) {
		t.Errorf("listeners ran\n%q\nwant\n%q", got, want)
	}

	var out recorder
	offOut := c.OnAnyOutgoing(func(name string, args []any) { out.add(name) })
	c.PrependAnyOutgoing(func(name string, args []any) { out.add("first:" + name) })
	c.Emit("one", 1)
	offOut()
	c.Emit("two")
	c.OffAnyOutgoing()
	c.Emit("three")
	if got, want := out.list(), []string{"first:one", "one", "first:two"}; !slices.Equal(got, want) {
		t.Errorf("outgoing listeners saw %q, want %q", got, want)
	}

	// A listener may emit, and remove itself.
	var off func()
	off = c.On("shout", func(e *Event) {
		off()
		c.Emit("shout", "from a listener")
	})
	shout("6")
	waitFor(t, "the listener's shout", func() bool { return slices.Contains(r.list(), "new:from a listener") })
}

// TestOutgoingOnFlush: an event emitted while disconnected reaches the
// outgoing listeners when the buffer is flushed, not before.
func TestOutgoingOnFlush(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New("http://"+addr, &Options{ReconnectDelay: 20 * time.Millisecond, ReconnectDelayMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out recorder
	c.OnAnyOutgoing(func(name string, args []any) { out.add(name) })
	c.Emit("early")
	time.Sleep(50 * time.Millisecond)
	if got := out.list(); len(got) != 0 {
		t.Errorf("outgoing listeners saw %q while disconnected", got)
	}
	srv := realtime.NewServer(nil)
	defer srv.Close()
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()
	if got := out.wait(t, 1); !slices.Equal(got, []string{"early"}) {
		t.Errorf("outgoing listeners saw %q after the flush, want early", got)
	}
}

// TestAckTimeoutBuffered: an EmitWithAck that times out while its event is
// in the disconnected buffer takes it out; the server never sees it.
func TestAckTimeoutBuffered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New("http://"+addr, &Options{ReconnectDelay: 20 * time.Millisecond, ReconnectDelayMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Timeout(50*time.Millisecond).EmitWithAck(ctxT(t, 5*time.Second), "echo", "timed out"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("EmitWithAck while disconnected = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timed out after %v, want about 50 ms", d)
	}
	if err := c.Emit("echo", "kept"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	srv := realtime.NewServer(nil)
	srv.Of("/").OnConnection(func(s *realtime.Socket) {
		s.On("echo", func(e *realtime.Event) {
			mu.Lock()
			seen = append(seen, e.Args.String(0))
			mu.Unlock()
		})
	})
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer func() { hs.Close(); srv.Close() }()
	waitFor(t, "the kept event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > 0
	})
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, []string{"kept"}) {
		t.Errorf("server saw %q, want only the event without timeout", seen)
	}
}
