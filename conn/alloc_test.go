//go:build !js

package conn

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns a server and a client Conn over a loopback TCP connection.
func tcpPair(t testing.TB, sopts, copts *Options) (*Conn, *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- nc
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	if sc == nil {
		t.Fatal("accept failed")
	}
	srv, cli := Server(sc, nil, sopts), Client(cc, nil, copts)
	t.Cleanup(func() { srv.CloseNow(); cli.CloseNow() })
	return srv, cli
}

// Steady-state reading and writing of whole and streamed messages allocates
// nothing, on both sides, for small and large messages.
func TestZeroAllocsPerMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in the full run")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; .ci/run checks allocations without -race")
	}
	srv, cli := tcpPair(t, nil, nil)
	for _, n := range []int{16, 1 << 10, 64 << 10} {
		msg := pattern(n)
		buf := make([]byte, 0, n)
		sbuf := make([]byte, 0, n)
		stream := make([]byte, 4096)
		cases := []struct {
			name string
			run  func()
		}{
			{"client write, server read", func() {
				if err := cli.WriteMessage(bg, Text, msg); err != nil {
					t.Fatal(err)
				}
				if _, got, err := srv.ReadMessage(bg, sbuf); err != nil || len(got) != n {
					t.Fatal(err)
				}
			}},
			{"server write, client read", func() {
				if err := srv.WriteMessage(bg, Binary, msg); err != nil {
					t.Fatal(err)
				}
				if _, got, err := cli.ReadMessage(bg, buf); err != nil || len(got) != n {
					t.Fatal(err)
				}
			}},
			{"streamed both ways", func() {
				w, err := cli.NextWriter(bg, Binary)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(msg)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				_, r, err := srv.NextReader(bg)
				if err != nil {
					t.Fatal(err)
				}
				total := 0
				for {
					k, err := r.Read(stream)
					total += k
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if total != n {
					t.Fatalf("streamed %d bytes, want %d", total, n)
				}
			}},
		}
		for _, tc := range cases {
			tc.run() // warm the pools
			if allocs := testing.AllocsPerRun(50, tc.run); allocs != 0 {
				t.Errorf("%s, %d bytes: %v allocs per message, want 0", tc.name, n, allocs)
			}
		}
	}
}

// Reads and writes under a cancellable context, as a handler's r.Context()
// is, allocate nothing in steady state either: the context's registration
// is kept from one call to the next.
func TestZeroAllocsWithContext(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in the full run")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; .ci/run checks allocations without -race")
	}
	srv, cli := tcpPair(t, nil, nil)
	cancelCtx, cancel := context.WithCancel(bg)
	defer cancel()
	timeoutCtx, cancel2 := context.WithTimeout(bg, time.Hour)
	defer cancel2()
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"WithCancel", cancelCtx}, {"WithTimeout", timeoutCtx}} {
		msg := pattern(128)
		buf := make([]byte, 0, 128)
		sbuf := make([]byte, 0, 128)
		run := func() {
			if err := cli.WriteMessage(tc.ctx, Text, msg); err != nil {
				t.Fatal(err)
			}
			typ, got, err := srv.ReadMessage(tc.ctx, sbuf)
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.WriteMessage(tc.ctx, typ, got); err != nil {
				t.Fatal(err)
			}
			if _, _, err := cli.ReadMessage(tc.ctx, buf); err != nil {
				t.Fatal(err)
			}
		}
		run()
		if allocs := testing.AllocsPerRun(50, run); allocs != 0 {
			t.Errorf("%s: %v allocs per round trip, want 0", tc.name, allocs)
		}
	}
}

// A connection whose reading has ended gives its pooled read buffer back,
// so that a storm of short connections reuses buffers instead of
// allocating one per connection (about 30 KB each before).
func TestReadBufferReturnedAtEnd(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  func(srv, cli *Conn)
	}{
		{"close handshake", func(srv, cli *Conn) { go cli.Close(CloseNormalClosure, "") }},
		{"connection lost", func(srv, cli *Conn) { cli.CloseNow() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli := tcpPair(t, nil, nil)
			ctx, cancel := context.WithTimeout(bg, 10*time.Second)
			defer cancel()
			// Two messages in one write: after the first, the second is
			// buffered, so the read buffer is held between the reads.
			cli.QueueMessage(Text, []byte("one"))
			cli.QueueMessage(Text, []byte("two"))
			if err := cli.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if _, _, err := srv.ReadMessage(ctx, nil); err != nil {
				t.Fatal(err)
			}
			srv.readMu.lock()
			held := srv.rpooled != nil
			srv.readMu.unlock()
			if !held {
				t.Skip("the second message was not buffered with the first")
			}
			srv.ReadMessage(ctx, nil)
			tt.end(srv, cli)
			if _, _, err := srv.ReadMessage(ctx, nil); err == nil {
				t.Fatal("ReadMessage after the end = nil error")
			}
			srv.readMu.lock()
			held = srv.rpooled != nil
			srv.readMu.unlock()
			if held {
				t.Error("the read buffer is still held after reading ended")
			}
		})
	}
}
