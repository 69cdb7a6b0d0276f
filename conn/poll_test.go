//go:build !js

package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// pollServer accepts raw connections on a loopback listener and serves them
// with a Poller that echoes with QueueMessage.
func pollServer(t *testing.T, opts *AcceptOptions) (addr string, p *Poller, closes chan error) {
	t.Helper()
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ln := listen(t)
	closes = make(chan error, 1000)
	h := PollHandler{
		OnMessage: func(c *Conn, typ MessageType, msg []byte) { c.QueueMessage(typ, msg) },
		OnClose:   func(c *Conn, err error) { closes <- err },
	}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c, err := Upgrade(nc, opts)
				if err != nil {
					return
				}
				if err := p.Add(c, h); err != nil {
					t.Errorf("Add: %v", err)
				}
			}()
		}
	}()
	return ln.Addr().String(), p, closes
}

func TestPollerEchoAndIdle(t *testing.T) {
	addr, _, closes := pollServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const n = 100
	g0 := runtime.NumGoroutine()
	var clients []*Conn
	for range n {
		c, err := Dial(ctx, "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	// Every client exchanges messages of several sizes, including a
	// fragmented one and one that arrives in pieces.
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, size := range []int{1, 200, 5000, 70000} {
				msg := []byte(fmt.Sprintf("%d-%s", i, pattern(size)))
				if err := c.WriteMessage(ctx, Text, msg); err != nil {
					t.Error(err)
					return
				}
				_, got, err := c.ReadMessage(ctx, nil)
				if err != nil || string(got) != string(msg) {
					t.Errorf("client %d: echo of %d bytes: %v", i, size, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Idle: no goroutine per connection on the server (the clients' reads
	// ended, so only the clients' own nothing remains either).
	time.Sleep(100 * time.Millisecond)
	if g := runtime.NumGoroutine() - g0; g > n/10 {
		t.Errorf("%d goroutines for %d idle polled connections", g, n)
	}
	// A ping to an idle connection is answered (a service runs and ends).
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	go clients[0].ReadMessage(pctx, nil) // our client needs a reader for the pong
	if err := clients[0].Ping(pctx, []byte("idle?")); err != nil {
		t.Fatalf("ping to a polled idle connection: %v", err)
	}
	// Closing from the client: OnClose sees the close frame.
	for _, c := range clients[1:] {
		c.Close(4000, "bye")
	}
	for range clients[1:] {
		select {
		case err := <-closes:
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4000 {
				t.Fatalf("OnClose got %v, want CloseError 4000", err)
			}
		case <-ctx.Done():
			t.Fatal("OnClose not called")
		}
	}
}

// A protocol error from a polled peer fails the connection as usual.
func TestPollerProtocolError(t *testing.T) {
	addr, _, closes := pollServer(t, nil)
	cc, err := Dial(context.Background(), "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.CloseNow()
	// A reserved opcode, written under the client Conn.
	cc.NetConn().Write(frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: 3, Masked: true}, nil))
	_, _, err = cc.ReadMessage(context.Background(), nil)
	if CloseStatus(err) != frame.CloseProtocolError {
		t.Fatalf("client read %v, want close 1002", err)
	}
	select {
	case err := <-closes:
		var pe *frame.ProtocolError
		if !errors.As(err, &pe) || pe.Code != 1002 {
			t.Fatalf("OnClose got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
	}
}

// A server Close on a polled idle connection runs the closing handshake.
func TestPollerServerClose(t *testing.T) {
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv, cli := tcpPair(t, nil, nil)
	closed := make(chan error, 1)
	p.Add(srv, PollHandler{OnMessage: func(*Conn, MessageType, []byte) {}, OnClose: func(_ *Conn, err error) { closed <- err }})
	errc := make(chan error, 1)
	go func() { _, _, err := cli.ReadMessage(context.Background(), nil); errc <- err }()
	if err := srv.Close(frame.CloseGoingAway, "restart"); err != nil {
		t.Fatal(err)
	}
	if code := CloseStatus(<-errc); code != 1001 {
		t.Fatalf("client saw %v", code)
	}
	if err := <-closed; err != ErrClosed {
		t.Fatalf("OnClose got %v, want ErrClosed", err)
	}
}

// A stream of large messages through a Poller reuses pooled buffers instead
// of allocating each message's buffer again (before, every 1 MiB echo
// allocated about 2.6 MB).
func TestPollerLargeMessagesReuseBuffers(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in the full run")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; .ci/run checks allocations without -race")
	}
	addr, _, _ := pollServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Dial(ctx, "ws://"+addr+"/", &DialOptions{Options: Options{ReadLimit: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	msg := pattern(1 << 20)
	buf := make([]byte, 0, 1<<20)
	echo := func() {
		if err := c.WriteMessage(ctx, Binary, msg); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(ctx, buf); err != nil || len(got) != len(msg) {
			t.Fatalf("echo: %d bytes, %v", len(got), err)
		}
	}
	for range 3 {
		echo() // warm the pools
	}
	// The least of a few rounds: a garbage collection empties sync.Pools,
	// and the round it falls in allocates the buffers again.
	const n = 10
	best := uint64(1 << 63)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			echo()
		}
		runtime.ReadMemStats(&after)
		best = min(best, (after.TotalAlloc-before.TotalAlloc)/n)
	}
	if per := best; per > 256<<10 {
		t.Errorf("%d bytes allocated per 1 MiB echo (both sides), want under 256 KiB", per)
	} else {
		t.Logf("%d bytes allocated per 1 MiB echo (both sides)", per)
	}
}

// A peer that sends part of a frame and stops holds no goroutine of a
// Poller: the service returns as soon as the socket is empty, whatever the
// point in the frame, and goes on where it stopped when the rest arrives.
// Before, every such connection pinned a goroutine in a blocking read.
func TestPollerPartialFrames(t *testing.T) {
	addr, _, _ := pollServer(t, &AcceptOptions{Compression: &CompressionOptions{Threshold: -1}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mask := [4]byte{9, 8, 7, 6}
	masked := func(h frame.Header, p []byte) []byte {
		h.Masked, h.Mask = true, mask
		return frame.AppendFrame(nil, h, p)
	}
	text := pattern(3000)
	z := compressFrames(t, text)
	// Each case is the whole input for one message and where it stops.
	cases := []struct {
		name     string
		compress bool
		input    []byte
		cut      int
	}{
		{"inside a header", false, masked(frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(text))}, text), 1},
		{"after a header", false, masked(frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(text))}, text), 4 + 2 + 4},
		{"inside a payload", false, masked(frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(text))}, text), 1500},
		{"between fragments", false, append(masked(frame.Header{Opcode: frame.OpText, Length: 1000}, text[:1000]),
			masked(frame.Header{Fin: true, Opcode: frame.OpContinuation, Length: int64(len(text) - 1000)}, text[1000:])...), 1000 + 4 + 4},
		{"inside a ping between fragments", false, append(append(masked(frame.Header{Opcode: frame.OpText, Length: 1000}, text[:1000]),
			masked(frame.Header{Fin: true, Opcode: frame.OpPing, Length: 100}, text[:100])...),
			masked(frame.Header{Fin: true, Opcode: frame.OpContinuation, Length: int64(len(text) - 1000)}, text[1000:])...), 1000 + 8 + 50},
		{"inside a compressed message", true, append(masked(frame.Header{Opcode: frame.OpText, Rsv: frame.RSV1, Length: int64(len(z) / 2)}, z[:len(z)/2]),
			masked(frame.Header{Fin: true, Opcode: frame.OpContinuation, Length: int64(len(z) - len(z)/2)}, z[len(z)/2:])...), len(z)/2 + 20},
	}
	const perCase = 30
	type client struct {
		c     *Conn
		input []byte
		cut   int
	}
	var clients []client
	g0 := runtime.NumGoroutine()
	for _, tc := range cases {
		opts := &DialOptions{}
		if tc.compress {
			opts.Compression = &CompressionOptions{}
		}
		for range perCase {
			c, err := Dial(ctx, "ws://"+addr+"/", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			clients = append(clients, client{c, tc.input, tc.cut})
		}
	}
	for _, cl := range clients {
		if _, err := cl.c.NetConn().Write(cl.input[:cl.cut]); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if g := runtime.NumGoroutine() - g0; g > len(clients)/10 {
		t.Errorf("%d goroutines for %d connections stopped in the middle of a frame", g, len(clients))
	}
	for _, cl := range clients {
		if _, err := cl.c.NetConn().Write(cl.input[cl.cut:]); err != nil {
			t.Fatal(err)
		}
	}
	for i, cl := range clients {
		_, got, err := cl.c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatalf("%s: %v", cases[i/perCase].name, err)
		}
		mustEqual(t, cases[i/perCase].name, got, text)
	}
}

// Connections a Poller cannot watch (TLS, HTTP/2 streams, here a TCP
// connection in a wrapper) are read by a goroutine each, with message
// buffers from the same pool: a stream of 64 KiB messages does not allocate
// a buffer per message (before, each cost 5 allocations and about 165 KB).
func TestPollerFallbackReuseBuffers(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in the full run")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; .ci/run checks allocations without -race")
	}
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln := listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, _ := ln.Accept()
		accepted <- nc
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := Server(struct{ net.Conn }{<-accepted}, nil, nil) // not a *net.TCPConn: no epoll
	cli := Client(cc, nil, nil)
	defer cli.CloseNow()
	got := make(chan int, 1)
	p.Add(srv, PollHandler{OnMessage: func(_ *Conn, _ MessageType, p []byte) { got <- len(p) }})
	msg := pattern(64 << 10)
	send := func() {
		if err := cli.WriteMessage(bg, Binary, msg); err != nil {
			t.Fatal(err)
		}
		if n := <-got; n != len(msg) {
			t.Fatalf("got %d bytes", n)
		}
	}
	for range 5 {
		send() // warm the pools
	}
	best := uint64(1 << 63)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 20 {
			send()
		}
		runtime.ReadMemStats(&after)
		best = min(best, (after.TotalAlloc-before.TotalAlloc)/20)
	}
	if best > 4<<10 {
		t.Errorf("%d bytes allocated per 64 KiB message through the Poller's fallback, want under 4 KiB", best)
	} else {
		t.Logf("%d bytes allocated per 64 KiB message", best)
	}
}

// TestPollerAddAfterReads adds a Conn whose earlier reads left a message in
// its buffer (as after an Engine.IO upgrade probe): the Poller delivers it
// at once, without waiting for more bytes on the socket.
func TestPollerAddAfterReads(t *testing.T) {
	srv, cli := tcpPair(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range []string{"first", "second", "third"} {
		if err := cli.QueueMessage(Text, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cli.Flush(ctx); err != nil { // one write: the server reads all three at once
		t.Fatal(err)
	}
	if _, b, err := srv.ReadMessage(ctx, nil); err != nil || string(b) != "first" {
		t.Fatalf("ReadMessage = %q, %v", b, err)
	}
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := make(chan string, 3)
	if err := p.Add(srv, PollHandler{OnMessage: func(c *Conn, typ MessageType, b []byte) { got <- string(b) }}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"second", "third"} {
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("got %q, want %q", m, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q was not delivered: the Poller waits for the socket", want)
		}
	}
	// And later messages still come through epoll.
	cli.WriteMessage(ctx, Text, []byte("fourth"))
	select {
	case m := <-got:
		if m != "fourth" {
			t.Fatalf("got %q, want fourth", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a later message was not delivered")
	}
}
