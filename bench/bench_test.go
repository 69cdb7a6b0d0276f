package bench

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/bench/libs"
	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/bench/memconn"
	"github.com/wirelevel/ws/frame"
)

// The network benchmarks run the server in a child process (the test binary
// again) and drive it with package loadgen, as cmd/benchall does. They use
// b.N rather than b.Loop where the message loop runs inside a library (gws's
// ReadLoop) or across the load generator's goroutines. Compare runs with
//
//	go test -run '^$' -bench . -count 6 | tee x.txt; benchstat -col /lib x.txt
var (
	flagLibs      = flag.String("wsbench.libs", "", "comma-separated libraries to benchmark (default: all but ours-raw)")
	flagIdle      = flag.Int("wsbench.idle", 1000, "connections in BenchmarkIdleMemory")
	flagBroadcast = flag.Int("wsbench.broadcast", 1000, "connections in BenchmarkBroadcast")
)

func benchLibs(b *testing.B) []*libs.Lib {
	if *flagLibs == "" {
		return libs.Defaults()
	}
	ls, err := selectLibs(strings.Split(*flagLibs, ","))
	if err != nil {
		b.Fatal(err)
	}
	return ls
}

// sizeName is a size for a benchmark name: 16B, 1KiB, 1MiB.
func sizeName(n int) string { return strings.ReplaceAll(sizeLabel(n), " ", "") }

var echoSizes = []int{16, 128, 1 << 10, 16 << 10, 1 << 20}

func BenchmarkEcho(b *testing.B) {
	for _, lib := range benchLibs(b) {
		b.Run("lib="+lib.Name, func(b *testing.B) {
			srv := benchServer(b, lib)
			for _, size := range echoSizes {
				for _, typ := range []string{"text", "binary"} {
					b.Run(fmt.Sprintf("size=%s/type=%s", sizeName(size), typ), func(b *testing.B) {
						op, p := payload(size, typ == "binary")
						benchEcho(b, srv, "/echo", "", p, loadgen.ClientFrame(op, p, false))
					})
				}
			}
		})
	}
}

func BenchmarkDeflateEcho(b *testing.B) {
	for _, col := range deflateColumns(benchLibs(b), true) {
		b.Run("lib="+col.String(), func(b *testing.B) {
			srv := benchServer(b, col.lib)
			for _, size := range []int{128, 1 << 10, 16 << 10} {
				b.Run("size="+sizeName(size), func(b *testing.B) {
					p := loadgen.Text(size, msgSeed)
					fr := loadgen.ClientFrame(frame.OpText, loadgen.Deflate(p), true)
					benchEcho(b, srv, "/deflate/"+col.variant, loadgen.DeflateNoContext, p, fr)
				})
			}
		})
	}
}

func benchServer(b *testing.B, lib *libs.Lib) *server {
	srv, err := startServer(lib, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.close)
	return srv
}

// benchEcho echoes b.N messages over 4 pipelined connections and reports
// the server process's CPU time and allocations per message besides.
func benchEcho(b *testing.B, srv *server, path, ext string, p, fr []byte) {
	conns, err := loadgen.DialN(context.Background(), 4, 4, srv.addr, path, ext, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer loadgen.CloseAll(conns)
	u0, err := srv.usage()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	b.ResetTimer()
	err = loadgen.Start(conns, loadgen.Echo{Frame: fr, Window: loadgen.Window(len(fr))}, int64(b.N)).Wait()
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	u1, err := srv.usage()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(u1.cpu-u0.cpu)/float64(b.N), "srv-cpu-ns/op")
	b.ReportMetric(float64(u1.allocs-u0.allocs)/float64(b.N), "srv-allocs/op")
	b.ReportMetric(float64(u1.bytes-u0.bytes)/float64(b.N), "srv-B/op")
}

func BenchmarkReadPath(b *testing.B) {
	for _, lib := range benchLibs(b) {
		b.Run("lib="+lib.Name, func(b *testing.B) {
			for _, size := range []int{16, 1 << 10, 64 << 10} {
				b.Run("size="+sizeName(size), func(b *testing.B) {
					rp := newReadPath(lib, size)
					nc := memconn.NewReplay(rp.block, int64(b.N)*int64(len(rp.fr)))
					b.SetBytes(int64(size))
					b.ReportAllocs()
					got, err := lib.ReadPath(nc, b.ResetTimer)
					b.StopTimer()
					if got != b.N {
						b.Fatalf("read %d of %d messages: %v", got, b.N, err)
					}
				})
			}
		})
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	for _, lib := range benchLibs(b) {
		b.Run("lib="+lib.Name, func(b *testing.B) {
			srv := benchServer(b, lib)
			for _, size := range []int{16, 1 << 10} {
				b.Run("size="+sizeName(size), func(b *testing.B) {
					c, err := loadgen.Dial(context.Background(), srv.addr, "/echo", "")
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					rt := loadgen.NewRoundTripper(c, loadgen.ClientFrame(frame.OpText, loadgen.Text(size, msgSeed), false), nil)
					var d []time.Duration
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						t, err := rt.Do()
						if err != nil {
							b.Fatal(err)
						}
						d = append(d, t)
					}
					b.ReportMetric(float64(percentile(d, 50)), "p50-ns")
					b.ReportMetric(float64(percentile(d, 99)), "p99-ns")
				})
			}
		})
	}
}

// BenchmarkIdleMemory reports memory per idle connection; one iteration
// (-benchtime=1x) is enough.
func BenchmarkIdleMemory(b *testing.B) {
	for _, lib := range benchLibs(b) {
		b.Run("lib="+lib.Name, func(b *testing.B) {
			p := loadgen.Text(1<<10, msgSeed)
			fr := loadgen.ClientFrame(frame.OpText, p, false)
			benchIdle(b, column{lib: lib}, "/echo", "", fr)
		})
	}
}

func BenchmarkDeflateIdleMemory(b *testing.B) {
	for _, col := range deflateColumns(benchLibs(b), true) {
		b.Run("lib="+col.String(), func(b *testing.B) {
			p := loadgen.Text(1<<10, msgSeed)
			fr := loadgen.ClientFrame(frame.OpText, loadgen.Deflate(p), true)
			benchIdle(b, col, "/deflate/"+col.variant, loadgen.DeflateContext, fr)
		})
	}
}

func benchIdle(b *testing.B, col column, path, ext string, fr []byte) {
	var m metrics
	for b.Loop() {
		var err error
		if m, err = runIdle(context.Background(), col, 0, *flagIdle, path, ext, fr, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(m["rss"], "rss-B/conn")
	b.ReportMetric(m["heap"], "heap+stack-B/conn")
	b.ReportMetric(m["goroutines"], "goroutines/conn")
}

// BenchmarkBroadcast times one 1 KiB text message to every connection, from
// the broadcast command until every client has it.
func BenchmarkBroadcast(b *testing.B) {
	for _, lib := range benchLibs(b) {
		b.Run("lib="+lib.Name, func(b *testing.B) {
			rig, err := newBroadcastRig(context.Background(), lib, 0, *flagBroadcast, 1<<10, false, false)
			if err != nil {
				b.Fatal(err)
			}
			defer rig.close()
			if _, err := rig.once(); err != nil {
				b.Fatal(err)
			}
			u0, err := rig.srv.usage()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rig.once(); err != nil {
					b.Fatal(err)
				}
			}
			u1, err := rig.srv.usage()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(rig.n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(u1.cpu-u0.cpu)/float64(b.N), "srv-cpu-ns/op")
		})
	}
}
