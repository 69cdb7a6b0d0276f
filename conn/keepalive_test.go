//go:build !js

package conn

import (
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// A half-open connection (the peer stopped answering) is detected by
// keepalive and closed with 1011.
func TestKeepaliveDetectsDeadPeer(t *testing.T) {
	c, p := newServerUnderTest(t, &Options{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- echo(c) }()
	start := time.Now()
	// The raw peer reads (so the writes do not block) but never answers.
	f := p.mustRead()
	if f.h.Opcode != frame.OpPing {
		t.Fatalf("first frame %v, want a keepalive ping", f.h.Opcode)
	}
	if code := p.expectClose(); code != frame.CloseInternalError {
		t.Fatalf("close code %v, want 1011", code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("dead peer detected after %v", d)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("reader ended without error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader still blocked after keepalive closed the connection")
	}
}

// A live peer keeps the connection open across many keepalive rounds.
func TestKeepaliveLivePeer(t *testing.T) {
	srv, cli := Pipe(&Options{PingInterval: 20 * time.Millisecond, PongTimeout: 40 * time.Millisecond}, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	go echo(srv)
	go echo(cli) // answers pings by reading
	time.Sleep(300 * time.Millisecond)
	if err := srv.Err(); err != nil {
		t.Fatalf("connection ended: %v", err)
	}
	if err := cli.WriteMessage(bg, Text, []byte("still here")); err != nil {
		t.Fatal(err)
	}
}

// A ping flood is answered pong by pong, with memory bounded, and data
// writes still get through between the pongs.
func TestPingFloodDoesNotStarveWrites(t *testing.T) {
	c, p := newServerUnderTest(t, nil)
	go echo(c)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		ping := p.frame(frame.Header{Fin: true, Opcode: frame.OpPing}, []byte("flood"))
		burst := make([]byte, 0, 100*len(ping))
		for range 100 {
			burst = append(burst, ping...)
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			p.nc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := p.nc.Write(burst); err != nil {
				return
			}
		}
	}()
	// Meanwhile the server writes data; the raw peer must see it among the
	// pongs.
	done := make(chan error, 1)
	go func() {
		for i := range 50 {
			time.Sleep(time.Millisecond)
			if err := c.WriteMessage(bg, Binary, []byte{byte(i)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	data, pongs := 0, 0
	deadline := time.Now().Add(10 * time.Second)
	for data < 50 && time.Now().Before(deadline) {
		f := p.mustRead()
		switch f.h.Opcode {
		case frame.OpPong:
			pongs++
		case frame.OpBinary:
			if int(f.payload[0]) != data {
				t.Fatalf("data message %d out of order", f.payload[0])
			}
			data++
		}
	}
	if data < 50 {
		t.Fatalf("only %d of 50 data messages got through %d pongs", data, pongs)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if pongs == 0 {
		t.Fatal("no pong answered the flood")
	}
	t.Logf("50 data messages delivered among %d pongs", pongs)
}
