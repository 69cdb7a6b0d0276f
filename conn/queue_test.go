//go:build !js

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// Queued messages go out together, in order with other frames, at the
// latest when the reader next waits for input.
func TestQueueMessage(t *testing.T) {
	c, p := newServerUnderTest(t, nil)
	for i := range 5 {
		if err := c.QueueMessage(Text, []byte(fmt.Sprint("q", i))); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is sent yet.
	p.nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [1]byte
	if n, _ := p.nc.Read(b[:]); n != 0 {
		t.Fatal("queued message sent before a flush")
	}
	// A direct write sends the queue first, then itself.
	if err := c.WriteMessage(bg, Binary, []byte("direct")); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if f := p.mustRead(); string(f.payload) != fmt.Sprint("q", i) {
			t.Fatalf("frame %d: %q", i, f.payload)
		}
	}
	if f := p.mustRead(); string(f.payload) != "direct" {
		t.Fatalf("got %q after the queue", f.payload)
	}
	// The reader flushes the queue before it waits for input: an echo loop
	// with QueueMessage answers every request.
	go func() {
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf)
			if err != nil {
				return
			}
			c.QueueMessage(typ, msg)
			buf = msg
		}
	}()
	var burst []byte
	for i := range 100 {
		burst = append(burst, p.frame(frame.Header{Fin: true, Opcode: frame.OpText}, []byte(fmt.Sprint("m", i)))...)
	}
	p.sendRaw(burst)
	for i := range 100 {
		if f := p.mustRead(); string(f.payload) != fmt.Sprint("m", i) {
			t.Fatalf("echo %d: %q", i, f.payload)
		}
	}
	// A ping answered in between keeps the order too; a large message
	// bypasses the queue after flushing it.
	c.QueueMessage(Text, []byte("before"))
	big := make([]byte, DefaultWriteBufferSize+1)
	c.QueueMessage(Binary, big)
	if f := p.mustRead(); string(f.payload) != "before" {
		t.Fatalf("got %q", f.payload)
	}
	if f := p.mustRead(); len(f.payload) != len(big) {
		t.Fatalf("big message: %d bytes", len(f.payload))
	}
	// Flush, and the close frame, send what is queued.
	c.QueueMessage(Text, []byte("last"))
	if err := c.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if f := p.mustRead(); string(f.payload) != "last" {
		t.Fatalf("got %q", f.payload)
	}
	c.QueueMessage(Text, []byte("then close"))
	go c.Close(1000, "")
	if f := p.mustRead(); string(f.payload) != "then close" {
		t.Fatalf("got %q before the close frame", f.payload)
	}
	if code := p.expectClose(); code != 1000 {
		t.Fatalf("close %v", code)
	}
}

func TestQueueZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in the full run")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; .ci/run checks allocations without -race")
	}
	srv, cli := tcpPair(t, nil, nil)
	msg := pattern(100)
	buf := make([]byte, 0, 100)
	run := func() {
		for range 10 {
			cli.QueueMessage(Text, msg)
		}
		cli.Flush(bg)
		for range 10 {
			if _, _, err := srv.ReadMessage(bg, buf); err != nil {
				t.Fatal(err)
			}
		}
	}
	run()
	if allocs := testing.AllocsPerRun(50, run); allocs != 0 {
		t.Errorf("QueueMessage+Flush: %v allocs per run, want 0", allocs)
	}
}

// One goroutine reads while another queues and flushes, as a server with a
// read loop and a write loop does; the race detector watches the handoff
// between the reader's flush and the writer's.
func TestQueueWhileReading(t *testing.T) {
	srv, cli := tcpPair(t, nil, nil)
	const n = 200
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 0, 64)
		for range n {
			if _, _, err := srv.ReadMessage(bg, buf); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	echoed := make(chan error, 1)
	go func() {
		buf := make([]byte, 0, 64)
		for range n {
			if _, _, err := cli.ReadMessage(bg, buf); err != nil {
				echoed <- err
				return
			}
		}
		echoed <- nil
	}()
	for i := range n {
		if err := srv.QueueMessage(Text, []byte("from the write loop")); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := srv.Flush(bg); err != nil {
				t.Fatal(err)
			}
		}
		if err := cli.WriteMessage(bg, Text, []byte("to the read loop")); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Flush(bg); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan error{done, echoed} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("messages did not arrive")
		}
	}
}

// A queued message goes out before any frame written after it, whichever
// method writes that frame: QueueMessage promises it, and every frame takes
// the one path to the socket that drains the queue first.
func TestQueueOrderWithOtherWriters(t *testing.T) {
	cases := []struct {
		name  string
		write func(c *Conn) error
	}{
		{"WriteMessage", func(c *Conn) error { return c.WriteMessage(bg, Text, []byte("B")) }},
		{"NextWriter", func(c *Conn) error {
			w, err := c.NextWriter(bg, Text)
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte("B")); err != nil {
				return err
			}
			return w.Close()
		}},
		{"WritePrepared", func(c *Conn) error {
			pm, err := NewPreparedMessage(Text, []byte("B"))
			if err != nil {
				return err
			}
			return c.WritePrepared(bg, pm)
		}},
	}
	for _, tc := range cases {
		for _, client := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/client=%v", tc.name, client), func(t *testing.T) {
				var c *Conn
				var p *rawPeer
				if client {
					c, p = newClientUnderTest(t, nil)
				} else {
					c, p = newServerUnderTest(t, nil)
				}
				if err := c.QueueMessage(Text, []byte("A")); err != nil {
					t.Fatal(err)
				}
				if err := tc.write(c); err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"A", "B"} {
					if f := p.mustRead(); string(f.payload) != want {
						t.Fatalf("QueueMessage(A), then %s(B): got %q where %q belongs", tc.name, f.payload, want)
					}
				}
			})
		}
	}
}

// The outgoing buffer's bound, with each policy: QueuePrepared never waits
// for a peer that does not read; BufferedAmount reports what waits; once
// MaxBuffered bytes wait, FailWhenFull fails the connection (1013 follows
// what waits) and DropWhenFull drops the message and goes on.
func TestBufferFull(t *testing.T) {
	const limit = 64 << 10
	pm, _ := NewPreparedMessage(Binary, make([]byte, 8<<10))
	for _, policy := range []FullPolicy{FailWhenFull, DropWhenFull} {
		t.Run(map[FullPolicy]string{FailWhenFull: "fail", DropWhenFull: "drop"}[policy], func(t *testing.T) {
			c, p := newServerUnderTest(t, &Options{MaxBuffered: limit, WhenFull: policy, CloseTimeout: 200 * time.Millisecond})
			// The pipe takes 256 KiB before the peer must read; then the
			// outgoing buffer fills.
			start := time.Now()
			var err error
			queued := 0
			for range 1000 {
				if err = c.QueuePrepared(pm); err != nil {
					break
				}
				c.flushSoon()
				queued++
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("queueing to a peer that does not read took %v", d)
			}
			if !errors.Is(err, ErrBufferFull) {
				t.Fatalf("after %d messages QueuePrepared = %v, want ErrBufferFull", queued, err)
			}
			if n := c.BufferedAmount(); n < limit || n > limit+len(pm.data)+frame.MaxHeaderSize {
				t.Fatalf("BufferedAmount() = %d with a bound of %d", n, limit)
			}
			// The peer now reads: what was queued arrives, in order.
			for got := 0; got < queued; got++ {
				f := p.mustRead()
				if f.h.Opcode != frame.OpBinary || len(f.payload) != len(pm.data) {
					t.Fatalf("frame %d: %v, %d bytes", got, f.h.Opcode, len(f.payload))
				}
			}
			if policy == FailWhenFull {
				if code := p.expectClose(); code != frame.CloseTryAgainLater {
					t.Fatalf("close code %v, want 1013", code)
				}
				select {
				case <-c.Done():
				case <-time.After(2 * time.Second):
					t.Fatal("connection still open after its buffer filled")
				}
				if err := c.Err(); err != ErrBufferFull {
					t.Fatalf("Err() = %v, want ErrBufferFull", err)
				}
				return
			}
			// DropWhenFull: the connection goes on.
			if err := c.Flush(bg); err != nil {
				t.Fatal(err)
			}
			if n := c.BufferedAmount(); n != 0 {
				t.Fatalf("BufferedAmount() = %d after Flush", n)
			}
			if err := c.QueueMessage(Text, []byte("after")); err != nil {
				t.Fatal(err)
			}
			c.Flush(bg)
			if f := p.mustRead(); string(f.payload) != "after" {
				t.Fatalf("got %q after the drops", f.payload)
			}
		})
	}
}

// QueueMessage, a connection's own writer's call, is slowed down by a peer
// that does not read instead of failing: once MaxBuffered bytes wait it
// writes them out itself, within WriteTimeout, and memory stays bounded.
func TestQueueMessageBackpressure(t *testing.T) {
	const limit = 64 << 10
	c, p := newServerUnderTest(t, &Options{MaxBuffered: limit, WriteTimeout: 100 * time.Millisecond})
	msg := make([]byte, 8<<10)
	var err error
	peak := 0
	for range 1000 {
		if err = c.QueueMessage(Binary, msg); err != nil {
			break
		}
		peak = max(peak, c.BufferedAmount())
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("QueueMessage to a peer that never reads = %v, want the write timeout", err)
	}
	if peak > limit+len(msg)+frame.MaxHeaderSize {
		t.Fatalf("%d bytes waited with a bound of %d", peak, limit)
	}
	// With a peer that reads, the same loop goes through.
	c2, p2 := newServerUnderTest(t, &Options{MaxBuffered: limit})
	go io.Copy(io.Discard, p2.nc)
	for i := range 1000 {
		if err := c2.QueueMessage(Binary, msg); err != nil {
			t.Fatalf("message %d to a peer that reads: %v", i, err)
		}
	}
	_ = p
}

// Messages queued while a NextWriter message is open are held and follow
// it; queueing never waits for that writer, and a Broadcast does not
// either.
func TestQueueHeldBehindNextWriter(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			var srv, cli *Conn
			if compress {
				srv, cli = compressedPipe(t, CompressionOptions{Threshold: -1}, CompressionOptions{}, nil, nil)
			} else {
				srv, cli = Pipe(nil, nil)
				t.Cleanup(func() { srv.CloseNow(); cli.CloseNow() })
			}
			var g Group
			g.Add(srv)
			w, err := srv.NextWriter(bg, Text)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("stream-"))
			done := make(chan error, 1)
			go func() {
				pm, _ := NewPreparedMessage(Text, []byte("broadcast"))
				if err := srv.QueueMessage(Text, []byte("queued")); err != nil {
					done <- err
					return
				}
				_, err := g.Broadcast(bg, pm)
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("QueueMessage or Broadcast waited for an open NextWriter")
			}
			w.Write([]byte("end"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			srv.Flush(bg)
			for _, want := range []string{"stream-end", "queued", "broadcast"} {
				_, msg, err := cli.ReadMessage(bg, nil)
				if err != nil || string(msg) != want {
					t.Fatalf("got %q, %v; want %q", msg, err, want)
				}
			}
		})
	}
}

// A message queued and flushed while another message is still being
// written goes out once that one is done, without a further Flush: the
// Flush that found it held has already returned.
func TestQueueHeldThenFlushed(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	t.Cleanup(func() { srv.CloseNow(); cli.CloseNow() })
	w, err := srv.NextWriter(bg, Text)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("first"))
	if err := srv.QueueMessage(Text, []byte("held")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	if err := srv.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first", "held"} {
		_, msg, err := cli.ReadMessage(ctx, nil)
		if err != nil || string(msg) != want {
			t.Fatalf("got %q, %v; want %q", msg, err, want)
		}
	}
}

// A queued message that does not fit the batch goes out at once, straight
// from the caller's slice as far as the socket takes it; the rest waits in
// the outgoing buffer and a background flusher writes it as the peer reads.
func TestQueueLargeMessageToSlowPeer(t *testing.T) {
	srv, cli := tcpPair(t, &Options{MaxBuffered: 16 << 20}, &Options{ReadLimit: -1})
	big := pattern(8 << 20) // more than loopback sockets hold
	start := time.Now()
	if err := srv.QueueMessage(Binary, big); err != nil {
		t.Fatal(err)
	}
	if err := srv.QueueMessage(Text, []byte("next")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("QueueMessage of 8 MiB to a peer not reading took %v", d)
	}
	if srv.BufferedAmount() == 0 {
		t.Log("the sockets took 8 MiB at once; nothing waited")
	}
	_, got, err := cli.ReadMessage(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "large queued message", got, big)
	if _, got, err := cli.ReadMessage(bg, nil); err != nil || string(got) != "next" {
		t.Fatalf("got %q, %v after the large message", got, err)
	}
}
