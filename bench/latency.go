package bench

import (
	"context"
	"os"
	"time"

	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/frame"
)

// Workload 3: round trips with one message in flight.
var latencyWorkload = &workload{
	name:    "latency",
	title:   "3. Round-trip latency (one message in flight, text)",
	columns: echoColumns,
	cases: func(sc *Scale) []caseSpec {
		var cs []caseSpec
		for _, n := range sc.LatencySizes {
			cs = append(cs, caseSpec{label: sizeLabel(n) + " text", size: n})
		}
		return cs
	},
	run: func(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
		srv, err := startServer(col.lib, cs.procs)
		if err != nil {
			return nil, err
		}
		defer srv.close()
		c, err := loadgen.Dial(ctx, srv.addr, "/echo", "")
		if err != nil {
			return nil, err
		}
		defer c.Close()
		p := loadgen.Text(cs.size, msgSeed)
		var verify func(*loadgen.Message) error
		if sc.Verify {
			verify = loadgen.Expect(frame.OpText, p)
		}
		rt := loadgen.NewRoundTripper(c, loadgen.ClientFrame(frame.OpText, p, false), verify)
		for range min(sc.RoundTrips/10, 1000) { // warm up
			if _, err := rt.Do(); err != nil {
				return nil, err
			}
		}
		if tracePath != "" {
			srv.call("trace " + tracePath)
			defer srv.call("trace")
		}
		stopProfile, err := srv.startProfile("latency", cs)
		if err != nil {
			return nil, err
		}
		d := make([]time.Duration, sc.RoundTrips)
		for i := range d {
			if d[i], err = rt.Do(); err != nil {
				return nil, err
			}
		}
		stopProfile()
		return metrics{
			"p50": float64(percentile(d, 50)) / 1e3,
			"p99": float64(percentile(d, 99)) / 1e3,
		}, nil
	},
	tables: []table{{metrics: []metricSpec{
		{key: "p50", label: "median", format: fmtMicros},
		{key: "p99", label: "p99", format: fmtMicros},
	}}},
}

// tracePath, if set, receives an execution trace of the server during the
// latency workload's measured part (for debugging; the last run wins).
var tracePath = os.Getenv("WSBENCH_TRACE")
