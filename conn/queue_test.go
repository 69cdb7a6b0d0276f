package conn

import (
	"context"
	"fmt"
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
