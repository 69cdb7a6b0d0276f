//go:build !js

package conn

import (
	"io"
	"net"
	"testing"
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
