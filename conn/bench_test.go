//go:build !js

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

// BenchmarkQueueEcho measures batched replies: a client queues bursts of 16
// messages and flushes them, the server echoes each with QueueMessage from
// its read loop, and the client reads the 16 echoes, over loopback TCP.
func BenchmarkQueueEcho(b *testing.B) {
	for _, n := range []int{16, 1 << 10} {
		b.Run("size="+benchName(n), func(b *testing.B) {
			srv, cli := tcpPair(b, nil, nil)
			go func() {
				var buf []byte
				for {
					typ, msg, err := srv.ReadMessage(bg, buf)
					if err != nil {
						return
					}
					srv.QueueMessage(typ, msg)
					buf = msg
				}
			}()
			msg := pattern(n)
			buf := make([]byte, 0, n)
			b.SetBytes(int64(16 * n))
			b.ReportAllocs()
			for b.Loop() {
				for range 16 {
					if err := cli.QueueMessage(Text, msg); err != nil {
						b.Fatal(err)
					}
				}
				if err := cli.Flush(bg); err != nil {
					b.Fatal(err)
				}
				for range 16 {
					if _, _, err := cli.ReadMessage(bg, buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkBroadcast measures one broadcast round: Group.Broadcast of a
// prepared message to 64 members over loopback TCP, until every member's
// client has read it.
func BenchmarkBroadcast(b *testing.B) {
	const members = 64
	for _, n := range []int{128, 16 << 10} {
		b.Run("size="+benchName(n), func(b *testing.B) {
			var g Group
			got := make(chan struct{}, members)
			for range members {
				srv, cli := tcpPair(b, nil, nil)
				g.Add(srv)
				go func() {
					buf := make([]byte, 0, n)
					for {
						if _, _, err := cli.ReadMessage(bg, buf); err != nil {
							return
						}
						got <- struct{}{}
					}
				}()
			}
			pm, err := NewPreparedMessage(Binary, pattern(n))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(members * n))
			b.ReportAllocs()
			for b.Loop() {
				if sent, err := g.Broadcast(bg, pm); err != nil || sent != members {
					b.Fatalf("Broadcast = %d, %v", sent, err)
				}
				for range members {
					<-got
				}
			}
		})
	}
}
