package conn

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// The Poller's epoll instance waits in the runtime's network poller, not in
// a blocking epoll_wait of its own.
func TestPollerUsesRuntimePoller(t *testing.T) {
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.ep == nil {
		t.Fatal("the epoll instance is not watched by the runtime's poller")
	}
}

// A closed Poller leaves no descriptor open.
func TestPollerCloseReleasesDescriptors(t *testing.T) {
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip(err)
		}
		return len(ents)
	}
	before := count()
	for range 20 {
		p, err := NewPoller()
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
	for deadline := time.Now().Add(5 * time.Second); count() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := count(); n > before {
		t.Errorf("%d descriptors open after 20 Pollers were closed, %d before", n, before)
	}
}

// A frame that arrived with the handshake, already in the Conn when it is
// added, is served although the socket raises no event for it.
func TestPollerServesBufferedInput(t *testing.T) {
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln := listen(t)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		first := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("early"))
		c := Server(nc, first, nil) // as if it came with the request
		p.Add(c, PollHandler{OnMessage: func(c *Conn, typ MessageType, msg []byte) { c.QueueMessage(typ, msg) }})
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := Client(nc, nil, nil)
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "early" {
		t.Fatalf("ReadMessage = %q, %v; want the echo of the buffered frame", msg, err)
	}
}

// A connection whose OnMessage waits holds up no other, although the event
// loop's goroutine serves the first connection of a wait itself: the
// helper serves the others meanwhile. Close works meanwhile too.
func TestPollerBlockingHandler(t *testing.T) {
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	h := PollHandler{OnMessage: func(c *Conn, typ MessageType, msg []byte) {
		if string(msg) == "block" {
			entered <- struct{}{}
			<-release
		}
		c.QueueMessage(typ, msg)
	}}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			p.Add(Server(nc, nil, nil), h)
		}
	}()
	dial := func() *Conn {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c := Client(nc, nil, nil)
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	a, b := dial(), dial()
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	a.WriteMessage(ctx, Text, []byte("block"))
	<-entered
	start := time.Now()
	b.WriteMessage(ctx, Text, []byte("hello"))
	if _, msg, err := b.ReadMessage(ctx, nil); err != nil || string(msg) != "hello" {
		t.Fatalf("while another handler waits: ReadMessage = %q, %v", msg, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a waiting handler held up another connection for %v", d)
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("Close waits for a handler")
	}
	close(release)
}

// Close called by a handler, which the event loop's goroutine may be
// running itself, returns, and closes the connections.
func TestPollerCloseFromHandler(t *testing.T) {
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := tcpPair(t, nil, nil)
	closed := make(chan struct{})
	h := PollHandler{OnMessage: func(c *Conn, typ MessageType, msg []byte) {
		p.Close()
		close(closed)
	}}
	if err := p.Add(srv, h); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	cli.WriteMessage(ctx, Text, []byte("close"))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close called from OnMessage does not return")
	}
	if _, _, err := cli.ReadMessage(ctx, nil); err == nil || ctx.Err() != nil {
		t.Errorf("after Close: ReadMessage = %v, want the connection closed", err)
	}
}

// Waiting for events allocates nothing: the helper waits once per event
// while the event loop's goroutine serves a connection, so a long message
// arriving in many reads would otherwise allocate per read.
func TestEventWaitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(epfd)
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(pipe[0])
	defer syscall.Close(pipe[1])
	syscall.Write(pipe[1], []byte{1}) // readable, level-triggered: an event at every wait
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(pipe[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		t.Fatal(err)
	}
	f, rc, err := pollFile(epfd)
	if err != nil {
		t.Skip("the runtime's poller does not take an epoll descriptor:", err)
	}
	defer f.Close()
	w := newEventWait(rc, 4)
	allocs := testing.AllocsPerRun(100, func() {
		if evs, err := w.wait(); err != nil || len(evs) != 1 {
			t.Fatalf("wait = %d events, %v; want 1", len(evs), err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per wait, want 0", allocs)
	}
}

// A peer that sends a message and hangs up at once (its FIN arriving with
// the data, or before the service reads it) gets its echo attempted and
// its end noticed: a read that takes less than it asked for is not taken
// as the socket being empty when the event said the peer hung up, since
// the end of stream after the data raises no event of its own.
func TestPollerDataThenHangUp(t *testing.T) {
	addr, _, closes := pollServer(t, nil)
	const n = 50
	hello := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("bye"))
	for i := range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		if _, err := nc.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 129) // the 101 without Sec-WebSocket-Protocol
		if _, err := io.ReadAtLeast(nc, buf, 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i%5) * time.Millisecond) // the Poller has the Conn, or is about to
		nc.Write(hello)
		nc.(*net.TCPConn).CloseWrite()
		select {
		case <-closes:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d: no OnClose 5 s after the peer sent a message and hung up", i)
		}
		nc.Close()
	}
}
