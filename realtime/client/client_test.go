package client

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/internal/nodepeer"
	"github.com/wirelevel/ws/realtime/socketio"
)

// newApp returns a server with the events the tests use.
func newApp() *realtime.Server {
	srv := realtime.NewServer(&realtime.Options{PingInterval: 500 * time.Millisecond, PingTimeout: 500 * time.Millisecond})
	main := srv.Of("/")
	main.OnConnection(func(s *realtime.Socket) {
		s.On("echo", func(e *realtime.Event) {
			vals, _ := e.Args.Values()
			e.Ack(vals...)
		})
		s.On("join", func(e *realtime.Event) {
			s.Join(e.Args.String(0))
			e.Ack("joined", e.Args.String(0))
		})
		s.On("chat", func(e *realtime.Event) {
			s.To(e.Args.String(0)).Emit("chat", e.Args.String(0), e.Args.String(1), s.ID())
			e.Ack()
		})
		s.On("shout", func(e *realtime.Event) {
			main.Emit("shout", e.Args.String(0))
		})
		s.On("ask-me", func(e *realtime.Event) {
			q, _ := e.Args.Value(0)
			ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
			defer cancel()
			a, err := s.EmitWithAck(ctx, "question", q)
			if err != nil {
				e.Ack("error: " + err.Error())
				return
			}
			vals, _ := a.Values()
			e.Ack(vals...)
		})
		s.On("kick-me", func(e *realtime.Event) { s.Disconnect(false) })
	})
	srv.Of("/private").Use(func(s *realtime.Socket) error {
		return &realtime.ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
	})
	return srv
}

// server runs a realtime server on addr ("127.0.0.1:0" for any port) and
// returns its address and a stop function that closes both the HTTP server
// and the realtime server.
func server(t testing.TB, addr string) (string, func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after a restart
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := newApp()
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			hs.Close()
			srv.Close()
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestEventsAcksBinary(t *testing.T) {
	addr, _ := server(t, "127.0.0.1:0")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testEventsAcksBinary(t, addr, m.transports, m.want) })
	}
}

func testEventsAcksBinary(t *testing.T, addr string, transports []Transport, want Transport) {
	c, err := Dial(ctxT(t, 5*time.Second), "http://"+addr, &Options{Transports: transports})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "transport "+string(want), func() bool { return c.Transport() == want })
	if c.ID() == "" {
		t.Error("no socket id after Dial")
	}
	a, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", "hi", map[string]any{"n": 1, "bin": []byte{9, 8}}, []byte{0, 255})
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 3 || a.String(0) != "hi" {
		t.Fatalf("echo ack = %d args, first %q", a.Len(), a.String(0))
	}
	var obj struct {
		N   int
		Bin []byte
	}
	if err := a.Decode(1, &obj); err != nil || obj.N != 1 || !bytes.Equal(obj.Bin, []byte{9, 8}) {
		t.Errorf("echo arg 1 = %+v, %v", obj, err)
	}
	var b []byte
	if err := a.Decode(2, &b); err != nil || !bytes.Equal(b, []byte{0, 255}) {
		t.Errorf("echo arg 2 = %v, %v", b, err)
	}

	// Server to client with an acknowledgement from the client.
	c.On("question", func(e *Event) {
		q, _ := e.Args.Value(0)
		if bin, ok := q.([]byte); ok {
			e.Ack(append([]byte("re:"), bin...))
			return
		}
		e.Ack("answer:" + e.Args.String(0))
	})
	a, err = c.EmitWithAck(ctxT(t, 5*time.Second), "ask-me", "q")
	if err != nil || a.String(0) != "answer:q" {
		t.Errorf("ask-me = %q, %v", a.String(0), err)
	}
	a, err = c.EmitWithAck(ctxT(t, 5*time.Second), "ask-me", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Decode(0, &b); err != nil || string(b) != "re:x" {
		t.Errorf("binary ask-me = %q, %v", b, err)
	}

	// An acknowledgement that never comes times out.
	_, err = c.EmitWithAck(ctxT(t, 100*time.Millisecond), "no-such-event")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unanswered EmitWithAck = %v, want DeadlineExceeded", err)
	}
}

func TestRoomsAndBroadcast(t *testing.T) {
	addr, _ := server(t, "127.0.0.1:0")
	type got struct {
		mu   sync.Mutex
		msgs []string
	}
	var cs [3]*Client
	var gs [3]got
	for i := range cs {
		c, err := Dial(ctxT(t, 5*time.Second), "http://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		g := &gs[i]
		for _, ev := range []string{"chat", "shout"} {
			c.On(ev, func(e *Event) {
				g.mu.Lock()
				g.msgs = append(g.msgs, ev+":"+e.Args.String(1)+e.Args.String(0))
				g.mu.Unlock()
			})
		}
		cs[i] = c
	}
	for i, room := range []string{"A", "A", "B"} {
		if _, err := cs[i].EmitWithAck(ctxT(t, 5*time.Second), "join", room); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs[0].EmitWithAck(ctxT(t, 5*time.Second), "chat", "A", "hello"); err != nil {
		t.Fatal(err)
	}
	cs[0].Emit("shout", "all")
	want := [3][]string{{"shout:all"}, {"chat:helloA", "shout:all"}, {"shout:all"}}
	deadline := time.Now().Add(5 * time.Second)
	for i := range gs {
		for {
			gs[i].mu.Lock()
			n := len(gs[i].msgs)
			gs[i].mu.Unlock()
			if n >= len(want[i]) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond) // time for a wrong extra delivery
	for i := range gs {
		gs[i].mu.Lock()
		if strings.Join(gs[i].msgs, ",") != strings.Join(want[i], ",") {
			t.Errorf("client %d got %q, want %q", i, gs[i].msgs, want[i])
		}
		gs[i].mu.Unlock()
	}
}

// TestReconnect stops the server and starts a new one on the same port: the
// client reconnects by itself, the hooks report it, an emit made while
// disconnected is delivered after reconnecting, and emits work again.
func TestReconnect(t *testing.T) {
	addr, stop := server(t, "127.0.0.1:0")
	var connects, disconnects, attempts atomic.Int32
	c, err := Dial(ctxT(t, 5*time.Second), "http://"+addr, &Options{
		ReconnectDelay:     20 * time.Millisecond,
		ReconnectDelayMax:  200 * time.Millisecond,
		OnConnect:          func() { connects.Add(1) },
		OnDisconnect:       func(DisconnectReason, error) { disconnects.Add(1) },
		OnReconnectAttempt: func(int, time.Duration) { attempts.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", 1); err != nil {
		t.Fatal(err)
	}
	stop()
	waitFor(t, "disconnect", func() bool { return !c.Connected() })
	// Emitted while down: buffered, then delivered.
	pending := make(chan error, 1)
	go func() {
		a, err := c.EmitWithAck(ctxT(t, 10*time.Second), "echo", "buffered")
		if err == nil && a.String(0) != "buffered" {
			err = errors.New("wrong echo " + a.String(0))
		}
		pending <- err
	}()
	time.Sleep(100 * time.Millisecond) // several failed attempts
	server(t, addr)
	waitFor(t, "reconnect", c.Connected)
	if err := <-pending; err != nil {
		t.Errorf("emit buffered while disconnected: %v", err)
	}
	a, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", "after")
	if err != nil || a.String(0) != "after" {
		t.Errorf("emit after reconnect = %q, %v", a.String(0), err)
	}
	if connects.Load() != 2 || disconnects.Load() != 1 || attempts.Load() < 1 {
		t.Errorf("hooks: %d connects, %d disconnects, %d attempts; want 2, 1, >= 1", connects.Load(), disconnects.Load(), attempts.Load())
	}
}

// TestBufferPolicy checks the stated policy: while disconnected, at most
// BufferSize packets are kept, the oldest dropped first.
func TestBufferPolicy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens yet
	c, err := New("http://"+addr, &Options{BufferSize: 3, ReconnectDelay: 20 * time.Millisecond, ReconnectDelayMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dropped := make(chan error, 1)
	go func() {
		_, err := c.EmitWithAck(ctxT(t, 10*time.Second), "echo", 0)
		dropped <- err
	}()
	time.Sleep(50 * time.Millisecond) // packet 0 is in the buffer first
	for i := 1; i <= 4; i++ {
		if err := c.Emit("echo", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-dropped; !errors.Is(err, ErrDropped) {
		t.Errorf("EmitWithAck of a dropped packet = %v, want ErrDropped", err)
	}
	if n := c.Dropped(); n != 2 {
		t.Errorf("Dropped() = %d, want 2 (5 packets, room for 3)", n)
	}
	// The three newest go out in order once a server is up.
	var mu sync.Mutex
	var seen []string
	srv := realtime.NewServer(nil)
	srv.Of("/").OnConnection(func(s *realtime.Socket) {
		s.On("echo", func(e *realtime.Event) {
			mu.Lock()
			seen = append(seen, string(e.Args.Raw(0)))
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
	waitFor(t, "three buffered packets", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) >= 3
	})
	mu.Lock()
	if strings.Join(seen, ",") != "2,3,4" {
		t.Errorf("server saw %q, want 2,3,4", seen)
	}
	mu.Unlock()

	// BufferSize < 0: no buffering.
	c2, err := New("http://127.0.0.1:1", &Options{BufferSize: -1, NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Emit("x"); !errors.Is(err, ErrNotConnected) && !errors.Is(err, ErrClosed) {
		t.Errorf("Emit without buffer = %v, want ErrNotConnected", err)
	}
}

func TestRefusedAndKicked(t *testing.T) {
	addr, _ := server(t, "127.0.0.1:0")
	_, err := Dial(ctxT(t, 5*time.Second), "http://"+addr, &Options{Namespace: "/private"})
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":401}` {
		t.Errorf("Dial refused namespace = %v, want ConnectError not authorized {code:401}", err)
	}
	_, err = Dial(ctxT(t, 5*time.Second), "http://"+addr, &Options{Namespace: "/nowhere"})
	if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
		t.Errorf("Dial unknown namespace = %v, want Invalid namespace", err)
	}
	c, err := Dial(ctxT(t, 5*time.Second), "http://"+addr, &Options{ReconnectDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Emit("kick-me")
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client still running after the server disconnected it")
	}
	if !errors.Is(c.Err(), ErrServerDisconnect) {
		t.Errorf("Err() = %v, want ErrServerDisconnect", c.Err())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNodeServer runs this client against the official socket.io server.
func TestNodeServer(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	node := nodepeer.StartServer(t)
	defer node.Stop()
	url := node.URL
	c, err := Dial(ctxT(t, 10*time.Second), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", "hi", []byte{1, 2, 3}, map[string]any{"deep": []any{[]byte{4}}})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := a.Values()
	if err != nil || len(vals) != 3 || vals[0] != "hi" || !bytes.Equal(vals[1].([]byte), []byte{1, 2, 3}) {
		t.Fatalf("echo from Node = %v, %v", vals, err)
	}
	obj, _ := vals[2].(socketio.Object)
	d, _ := obj.Get("deep")
	arr, _ := d.([]any)
	var deep any
	if len(arr) > 0 {
		deep = arr[0]
	}
	if b, ok := deep.([]byte); !ok || !bytes.Equal(b, []byte{4}) {
		t.Errorf("nested attachment from Node = %v", deep)
	}
	c.On("question", func(e *Event) { e.Ack("answer:" + e.Args.String(0)) })
	a, err = c.EmitWithAck(ctxT(t, 5*time.Second), "ask-me", "q")
	if err != nil || a.String(0) != "answer:q" {
		t.Errorf("ask-me via Node = %q, %v", a.String(0), err)
	}
	c2, err := Dial(ctxT(t, 10*time.Second), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	got := make(chan string, 1)
	c2.On("chat", func(e *Event) { got <- e.Args.String(1) })
	for _, cl := range []*Client{c, c2} {
		if _, err := cl.EmitWithAck(ctxT(t, 5*time.Second), "join", "r"); err != nil {
			t.Fatal(err)
		}
	}
	c.EmitWithAck(ctxT(t, 5*time.Second), "chat", "r", "hello")
	select {
	case s := <-got:
		if s != "hello" {
			t.Errorf("room message via Node = %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Error("no room message via Node")
	}
}
