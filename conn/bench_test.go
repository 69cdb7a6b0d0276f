package conn

import (
	"strconv"
	"testing"
)

var benchSizes = []int{16, 128, 1 << 10, 16 << 10, 1 << 20}

func benchName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// BenchmarkRoundTrip measures one message in flight: the client writes, the
// server echoes, the client reads, over loopback TCP.
func BenchmarkRoundTrip(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("size="+benchName(n), func(b *testing.B) {
			srv, cli := tcpPair(b, &Options{ReadLimit: -1}, &Options{ReadLimit: -1})
			go echo(srv)
			msg := pattern(n)
			buf := make([]byte, 0, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if err := cli.WriteMessage(bg, Text, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := cli.ReadMessage(bg, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkServerRead measures a server reading pipelined text messages from
// a client writing as fast as it can, over loopback TCP.
func BenchmarkServerRead(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("size="+benchName(n), func(b *testing.B) {
			srv, cli := tcpPair(b, &Options{ReadLimit: -1}, nil)
			msg := pattern(n)
			stop := make(chan struct{})
			go func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if cli.WriteMessage(bg, Text, msg) != nil {
						return
					}
				}
			}()
			buf := make([]byte, 0, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := srv.ReadMessage(bg, buf); err != nil {
					b.Fatal(err)
				}
			}
			close(stop)
		})
	}
}
