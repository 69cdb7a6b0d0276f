//go:build !js

package conn

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestGroupBroadcastAndShutdown(t *testing.T) {
	var g Group
	type pair struct{ srv, cli *Conn }
	var pairs []pair
	add := func(srv, cli *Conn) {
		g.Add(srv)
		pairs = append(pairs, pair{srv, cli})
	}
	for range 20 {
		add(Pipe(nil, nil))
	}
	for i := range 10 {
		noCtx := i%2 == 0
		bits := 15 - i%3
		s, c := compressedPipe(t, CompressionOptions{ServerNoContextTakeover: noCtx, ServerMaxWindowBits: bits}, CompressionOptions{ServerMaxWindowBits: bits}, nil, nil)
		add(s, c)
	}
	// Server conns read so that their close handshakes complete.
	for _, p := range pairs {
		go echoDiscard(p.srv)
	}
	if g.Len() != 30 {
		t.Fatalf("Len = %d", g.Len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for round := range 3 {
		msg := jsonLike(1000+round*5000, uint64(round))
		pm, err := NewPreparedMessage(Text, msg)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(pairs))
		for _, p := range pairs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				typ, got, err := p.cli.ReadMessage(ctx, nil)
				if err != nil || typ != Text || string(got) != string(msg) {
					errs <- fmt.Errorf("round %d: got %v %d bytes, %v", round, typ, len(got), err)
				}
			}()
		}
		sent, err := g.Broadcast(ctx, pm)
		if err != nil || sent != len(pairs) {
			t.Fatalf("Broadcast = %d, %v", sent, err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	// A closed connection leaves the group by itself.
	pairs[0].srv.CloseNow()
	deadline := time.Now().Add(time.Second)
	for g.Len() != 29 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g.Len() != 29 {
		t.Fatalf("Len after a close = %d, want 29", g.Len())
	}
	// Shutdown: every client sees 1001.
	codes := make(chan CloseCode, len(pairs))
	for _, p := range pairs[1:] {
		go func() {
			_, _, err := p.cli.ReadMessage(ctx, nil)
			codes <- CloseStatus(err)
		}()
	}
	if err := g.Shutdown(ctx, "bye"); err != nil {
		t.Fatal(err)
	}
	for range pairs[1:] {
		if code := <-codes; code != 1001 {
			t.Fatalf("client saw %v, want 1001", code)
		}
	}
	if g.Len() != 0 {
		t.Fatalf("Len after Shutdown = %d", g.Len())
	}
}

// echoDiscard reads and drops messages until the connection ends.
func echoDiscard(c *Conn) {
	for {
		if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
			return
		}
	}
}

// A prepared message on a client conn is masked per connection.
func TestWritePreparedClient(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	pm, _ := NewPreparedMessage(Binary, []byte("prepared"))
	go cli.WritePrepared(bg, pm)
	if _, got, err := srv.ReadMessage(bg, nil); err != nil || string(got) != "prepared" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// One member that stops reading cannot stall Group.Broadcast, even with
// context.Background(): every round returns promptly and every other
// member receives every message. Before the outgoing buffer, the first
// Broadcast to find the idle member's socket full blocked forever, and
// nobody received anything after it.
func TestBroadcastSlowMember(t *testing.T) {
	const members, rounds, size = 50, 600, 16 << 10
	var g Group
	clients := make([]*Conn, members)
	for i := range members {
		srv, cli := Pipe(nil, nil)
		t.Cleanup(func() { srv.CloseNow(); cli.CloseNow() })
		g.Add(srv)
		go echoDiscard(srv)
		clients[i] = cli
	}
	// clients[0] never reads; the others count what they receive.
	got := make(chan int, members)
	for _, cli := range clients[1:] {
		go func() {
			n := 0
			buf := make([]byte, 0, size)
			for n < rounds {
				_, msg, err := cli.ReadMessage(bg, buf)
				if err != nil || len(msg) != size {
					break
				}
				n++
			}
			got <- n
		}()
	}
	pm, err := NewPreparedMessage(Binary, make([]byte, size))
	if err != nil {
		t.Fatal(err)
	}
	for round := range rounds {
		done := make(chan struct{})
		go func() {
			g.Broadcast(context.Background(), pm)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Broadcast still blocked after 10 s by the member that does not read", round)
		}
	}
	for range members - 1 {
		select {
		case n := <-got:
			if n != rounds {
				t.Fatalf("a reading member received %d of %d messages", n, rounds)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("reading members did not receive every message")
		}
	}
}
