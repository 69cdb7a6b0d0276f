package bench

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/wirelevel/ws/bench/libs"
	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/bench/memconn"
	"github.com/wirelevel/ws/frame"
)

// Workload 2: the server's read path with no system calls.
var readWorkload = &workload{
	name:    "read",
	title:   "2. In-memory read path (parse, unmask, UTF-8 check; text messages)",
	columns: readColumns,
	cases: func(sc *Scale) []caseSpec {
		var cs []caseSpec
		for _, n := range sc.ReadSizes {
			cs = append(cs, caseSpec{label: sizeLabel(n) + " text", size: n})
		}
		return cs
	},
	run: func(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
		if cs.procs > 0 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cs.procs))
		}
		rp := newReadPath(col.lib, cs.size)
		// Calibrate on a short run, then measure about sc.ReadDuration.
		n := 64
		r, err := rp.run(n)
		if err != nil {
			return nil, err
		}
		n = int(min(max(float64(n)*sc.ReadDuration.Seconds()/max(r.elapsed.Seconds(), 1e-9), 64), 5e7))
		if r, err = rp.run(n); err != nil {
			return nil, err
		}
		return metrics{
			"mbps":   float64(n) * float64(cs.size) / r.elapsed.Seconds() / 1e6,
			"ns":     float64(r.elapsed.Nanoseconds()) / float64(n),
			"allocs": float64(r.allocs) / float64(n),
			"bytes":  float64(r.bytes) / float64(n),
		}, nil
	},
	tables: []table{
		{title: "throughput", metrics: []metricSpec{
			{key: "mbps", higher: true, format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.0f MB/s", v) }},
		}},
		{title: "allocations per message", metrics: []metricSpec{
			{key: "allocs", label: "allocs", floor: 0.1, format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.2f", v) }},
			{key: "bytes", label: "bytes", floor: 64, format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.0f B", v) }},
		}},
	},
}

// readPath feeds one library's server-side reader a replay of masked client
// text frames.
type readPath struct {
	lib   *libs.Lib
	fr    []byte // one frame
	block []byte // whole frames, replayed in a loop
}

func newReadPath(lib *libs.Lib, size int) *readPath {
	fr := loadgen.ClientFrame(frame.OpText, loadgen.Text(size, msgSeed), false)
	return &readPath{lib: lib, fr: fr, block: bytes.Repeat(fr, max(1, (256<<10)/len(fr)))}
}

type readResult struct {
	elapsed       time.Duration
	allocs, bytes uint64
}

// run reads n messages and returns the time and allocations it took,
// upgrade excluded.
func (rp *readPath) run(n int) (readResult, error) {
	nc := memconn.NewReplay(rp.block, int64(n)*int64(len(rp.fr)))
	var ms0, ms1 runtime.MemStats
	var start time.Time
	runtime.GC()
	got, err := rp.lib.ReadPath(nc, func() {
		runtime.ReadMemStats(&ms0)
		start = time.Now()
	})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&ms1)
	if got != n {
		return readResult{}, fmt.Errorf("bench: %s read %d of %d messages: %v", rp.lib.Name, got, n, err)
	}
	return readResult{elapsed: elapsed, allocs: ms1.Mallocs - ms0.Mallocs, bytes: ms1.TotalAlloc - ms0.TotalAlloc}, nil
}
