//go:build !js

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/internal/pipe"
)

// countConn is a pipe end that counts the write calls made to it.
type countConn struct {
	*pipe.Conn
	writes atomic.Int64
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func (c *countConn) TryWrite(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.TryWrite(p)
}

// newCorkPair returns a server Conn on a counting pipe end and a raw client
// peer on the other end.
func newCorkPair(t *testing.T) (*Conn, *countConn, *rawPeer) {
	a, b := pipe.New()
	cc := &countConn{Conn: a}
	c := Server(cc, nil, nil)
	t.Cleanup(func() { c.CloseNow(); b.Close() })
	return c, cc, &rawPeer{t: t, nc: b, client: true}
}

// sendBurst sends n small text messages in one write, as one read will
// return them.
func (p *rawPeer) sendBurst(n int) {
	p.t.Helper()
	var b []byte
	for i := range n {
		b = append(b, p.frame(frame.Header{Fin: true, Opcode: frame.OpText}, fmt.Appendf(nil, "m%d", i))...)
	}
	p.sendRaw(b)
}

// The README's loop, ReadMessage then WriteMessage, answers all the
// messages one read returned with one write: the answers made while input
// is left are corked and leave with the last one.
func TestCorkedAnswersLeaveInOneWrite(t *testing.T) {
	c, cc, p := newCorkPair(t)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	const n = 5 // 5 frames of 8 bytes: one read, even into the Conn's small buffer
	p.sendBurst(n)
	for range n {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		f := p.mustRead()
		if want := fmt.Sprintf("m%d", i); string(f.payload) != want || f.h.Opcode != frame.OpText {
			t.Fatalf("answer %d = %v %q, want text %q", i, f.h.Opcode, f.payload, want)
		}
	}
	if w := cc.writes.Load(); w != 1 {
		t.Errorf("%d answers took %d write calls, want 1", n, w)
	}
}

// One message in flight is never corked: its answer leaves at once.
func TestSingleMessageNotCorked(t *testing.T) {
	c, cc, p := newCorkPair(t)
	p.sendBurst(1)
	typ, msg, err := c.ReadMessage(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(bg, typ, msg); err != nil {
		t.Fatal(err)
	}
	if w, n := cc.writes.Load(), c.BufferedAmount(); w != 1 || n != 0 {
		t.Fatalf("after WriteMessage: %d write calls, %d bytes waiting; want 1 and 0", w, n)
	}
}

// A corked answer waits for the reader at most corkDelay: a program that
// stops reading with input left does not hold it back.
func TestCorkedAnswerSentWhenReaderStops(t *testing.T) {
	c, _, p := newCorkPair(t)
	p.sendBurst(2)
	typ, msg, err := c.ReadMessage(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.WriteMessage(bg, typ, msg); err != nil {
		t.Fatal(err)
	}
	if c.BufferedAmount() == 0 {
		t.Fatal("the answer was written at once; want it corked, with input left")
	}
	// Nobody reads the Conn from here on.
	f := p.mustRead() // 5 s deadline
	if string(f.payload) != "m0" {
		t.Fatalf("got %q, want m0", f.payload)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the corked answer took %v to leave", d)
	}
}

// Corked frames keep their place: after queued messages, before anything
// written later, control frames included.
func TestCorkOrder(t *testing.T) {
	c, _, p := newCorkPair(t)
	p.sendBurst(3)
	if _, _, err := c.ReadMessage(bg, nil); err != nil {
		t.Fatal(err)
	}
	c.QueueMessage(Text, []byte("queued"))
	c.WriteMessage(bg, Text, []byte("corked 1"))
	c.WriteMessage(bg, Binary, []byte("corked 2"))
	go c.Ping(bg, []byte("ping"))
	time.Sleep(10 * time.Millisecond)
	if _, _, err := c.ReadMessage(bg, nil); err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(bg, Text, []byte("corked 3"))
	if _, _, err := c.ReadMessage(bg, nil); err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(bg, Text, []byte("direct"))
	want := []string{"queued", "corked 1", "corked 2", "ping", "corked 3", "direct"}
	for i, w := range want {
		f := p.mustRead()
		if string(f.payload) != w {
			t.Fatalf("frame %d = %v %q, want %q", i, f.h.Opcode, f.payload, w)
		}
	}
}

// CloseNow sends what the socket takes at once of what waits, so a
// message WriteMessage accepted is not lost to an immediate CloseNow.
func TestCloseNowSendsCorked(t *testing.T) {
	c, _, p := newCorkPair(t)
	p.sendBurst(2)
	if _, _, err := c.ReadMessage(bg, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(bg, Text, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	f, err := p.read()
	if err != nil || string(f.payload) != "bye" {
		t.Fatalf("after CloseNow the peer read %q, %v; want \"bye\"", f.payload, err)
	}
	if _, err := p.read(); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("then %v, want EOF", err)
	}
}

// A context's registration outlives the call: a context done after its read
// leaves later reads under other contexts alone, and the next read under it
// returns its error without reading, the Conn still usable.
func TestReadContextKeptBetweenCalls(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	ctx, cancel := context.WithCancel(bg)
	cli.WriteMessage(bg, Text, []byte("one"))
	if _, msg, err := srv.ReadMessage(ctx, nil); err != nil || string(msg) != "one" {
		t.Fatalf("ReadMessage = %q, %v", msg, err)
	}
	cancel()
	time.Sleep(10 * time.Millisecond) // let the registration fire
	if _, _, err := srv.ReadMessage(ctx, nil); !errors.Is(err, context.Canceled) || srv.Err() != nil {
		t.Fatalf("ReadMessage under the done context = %v (Err %v), want context.Canceled and the Conn open", err, srv.Err())
	}
	ctx2, cancel2 := context.WithCancel(bg)
	defer cancel2()
	go func() {
		time.Sleep(50 * time.Millisecond)
		cli.WriteMessage(bg, Text, []byte("two"))
	}()
	if _, msg, err := srv.ReadMessage(ctx2, nil); err != nil || string(msg) != "two" {
		t.Fatalf("ReadMessage under a new context = %q, %v", msg, err)
	}
	// Cancelling a context while a read under it waits interrupts it.
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel2()
	}()
	if _, _, err := srv.ReadMessage(ctx2, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadMessage = %v, want context.Canceled", err)
	}
	if err := srv.WriteMessage(ctx2, Text, []byte("x")); !errors.Is(err, context.Canceled) || srv.Err() != nil {
		t.Fatalf("WriteMessage under a done context = %v (Err %v), want context.Canceled and the Conn open", err, srv.Err())
	}
	srv.CloseNow()
	if srv.watch.registered() {
		t.Error("the context registrations outlive the connection")
	}
}
