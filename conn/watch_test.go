//go:build !js

package conn

import (
	"context"
	"errors"
	"testing"
	"time"
)

// registrations returns how many context registrations c keeps.
func registrations(c *Conn) int {
	c.watch.mu.Lock()
	defer c.watch.mu.Unlock()
	n := 0
	for _, r := range c.watch.regs {
		if r.stop != nil {
			n++
		}
	}
	return n
}

// A read and a write under the same context share one registration, and
// cancelling that context interrupts a read and a write that wait under it.
func TestContextSharedByBothSides(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	go cli.WriteMessage(bg, Text, []byte("one"))
	if _, msg, err := srv.ReadMessage(ctx, nil); err != nil || string(msg) != "one" {
		t.Fatalf("ReadMessage = %q, %v", msg, err)
	}
	if err := srv.WriteMessage(ctx, Text, []byte("two")); err != nil {
		t.Fatalf("WriteMessage = %v", err)
	}
	if n := registrations(srv); n != 1 {
		t.Errorf("a read and a write under one context keep %d registrations, want 1", n)
	}

	// Both wait: nothing comes, and the pipe buffers 256 KiB of a write
	// nobody reads.
	readErr, writeErr := make(chan error, 1), make(chan error, 1)
	go func() {
		_, _, err := srv.ReadMessage(ctx, nil)
		readErr <- err
	}()
	go func() { writeErr <- srv.WriteMessage(ctx, Binary, make([]byte, 1<<20)) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	for _, side := range []struct {
		name string
		errc chan error
	}{{"ReadMessage", readErr}, {"WriteMessage", writeErr}} {
		select {
		case err := <-side.errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s after cancel = %v, want context.Canceled", side.name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s still waits 5 s after its context was cancelled", side.name)
		}
	}
	srv.CloseNow()
	if n := registrations(srv); n != 0 {
		t.Errorf("%d registrations outlive the connection", n)
	}
}

// With a context per side, cancelling the write's leaves a read waiting
// under its own alone, and a side that changes context keeps the other
// side's registration.
func TestContextPerSide(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	rctx, rcancel := context.WithCancel(bg)
	defer rcancel()
	wctx, wcancel := context.WithCancel(bg)
	defer wcancel()

	if err := srv.WriteMessage(wctx, Text, []byte("a")); err != nil {
		t.Fatal(err)
	}
	readRes := make(chan string, 1)
	go func() {
		_, msg, err := srv.ReadMessage(rctx, nil)
		if err != nil {
			readRes <- err.Error()
			return
		}
		readRes <- string(msg)
	}()
	time.Sleep(50 * time.Millisecond)
	if n := registrations(srv); n != 2 {
		t.Errorf("a read and a write under two contexts keep %d registrations, want 2", n)
	}
	wcancel()
	select {
	case got := <-readRes:
		t.Fatalf("cancelling the write's context ended the read: %s", got)
	case <-time.After(50 * time.Millisecond):
	}
	cli.WriteMessage(bg, Text, []byte("hello"))
	select {
	case got := <-readRes:
		if got != "hello" {
			t.Fatalf("ReadMessage = %s, want hello", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read still waits 5 s after a message was sent")
	}
	if err := srv.WriteMessage(wctx, Text, []byte("b")); !errors.Is(err, context.Canceled) || srv.Err() != nil {
		t.Fatalf("WriteMessage under the done context = %v (Err %v), want context.Canceled and the Conn open", err, srv.Err())
	}

	// A fresh pair: the write side changes context, the read side's
	// registration stays and still interrupts its read.
	srv2, cli2 := Pipe(nil, nil)
	defer srv2.CloseNow()
	defer cli2.CloseNow()
	rctx2, rcancel2 := context.WithCancel(bg)
	defer rcancel2()
	go func() {
		_, _, err := srv2.ReadMessage(rctx2, nil)
		readRes <- errString(err)
	}()
	time.Sleep(20 * time.Millisecond)
	for i := range 3 {
		wctx, wcancel := context.WithCancel(bg)
		if err := srv2.WriteMessage(wctx, Text, []byte("y")); err != nil {
			t.Fatalf("write %d under a new context = %v", i, err)
		}
		wcancel()
	}
	select {
	case got := <-readRes:
		t.Fatalf("cancelling the writes' contexts ended the read: %s", got)
	case <-time.After(50 * time.Millisecond):
	}
	rcancel2()
	select {
	case got := <-readRes:
		if got != context.Canceled.Error() {
			t.Fatalf("ReadMessage after cancel = %s, want context.Canceled", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("writes under new contexts lost the read's registration: the read still waits 5 s after its context was cancelled")
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
