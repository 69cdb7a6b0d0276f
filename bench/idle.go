package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/frame"
)

var idleMetrics = []metricSpec{
	{key: "rss", label: "RSS per connection", format: fmtKiB},
	{key: "heap", label: "Go heap+stacks per connection", format: fmtKiB},
	{key: "goroutines", label: "goroutines per connection", format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.2f", v) }},
}

// Workload 4: memory held by idle connections.
var idleWorkload = &workload{
	name:    "idle",
	title:   "4. Memory per idle connection",
	columns: plainColumns,
	cases: func(sc *Scale) []caseSpec {
		return []caseSpec{{label: fmt.Sprintf("%d conns", sc.IdleConns), size: sc.IdleSize}}
	},
	run: func(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
		p := loadgen.Text(cs.size, msgSeed)
		var verify func(*loadgen.Message) error
		if sc.Verify {
			verify = loadgen.Expect(frame.OpText, p)
		}
		return runIdle(ctx, col, cs.procs, sc.IdleConns, "/echo", "", loadgen.ClientFrame(frame.OpText, p, false), verify)
	},
	tables: []table{{title: fmt.Sprintf("after one %s text message each; server process, after GC, minus its baseline", sizeLabel(1<<10)), metrics: idleMetrics}},
}

// runIdle starts a server for col in a fresh process, measures its memory,
// opens n connections that each exchange fr once and go idle, and measures
// again.
func runIdle(ctx context.Context, col column, procs, n int, path, ext string, fr []byte, verify func(*loadgen.Message) error) (metrics, error) {
	srv, err := startServer(col.lib, procs)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	before, err := srv.mem()
	if err != nil {
		return nil, err
	}
	conns, err := loadgen.DialN(ctx, n, 16, srv.addr, path, ext, func(c *loadgen.Conn) error {
		return loadgen.Exchange(c, fr, verify)
	})
	if err != nil {
		return nil, err
	}
	defer loadgen.CloseAll(conns)
	time.Sleep(100 * time.Millisecond) // let write queues and timers settle
	after, err := srv.mem()
	if err != nil {
		return nil, err
	}
	per := func(a, b int64) float64 { return float64(a-b) / float64(n) }
	return metrics{
		"rss":        per(after.rss, before.rss),
		"heap":       per(after.heap+after.stack, before.heap+before.stack),
		"goroutines": per(after.goroutines, before.goroutines),
	}, nil
}
