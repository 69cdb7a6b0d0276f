package bench

import (
	"context"
	"fmt"

	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/frame"
)

// Workload 6a: echo with permessage-deflate. The load generator offers no
// context takeover both ways, so each frame is compressed once and reused,
// and the servers' echoes inflate one by one when verified.
var deflateWorkload = &workload{
	name:    "deflate",
	title:   "6a. Compressed echo throughput (permessage-deflate, text)",
	columns: deflateColumns,
	cases: func(sc *Scale) []caseSpec {
		var cs []caseSpec
		for _, n := range sc.DeflateSizes {
			cs = append(cs, caseSpec{label: sizeLabel(n) + " text", size: n})
		}
		return cs
	},
	run: func(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
		p := loadgen.Text(cs.size, msgSeed)
		fr := loadgen.ClientFrame(frame.OpText, loadgen.Deflate(p), true)
		return runEcho(ctx, sc, col, cs, "/deflate/"+col.variant, loadgen.DeflateNoContext, frame.OpText, p, fr)
	},
	tables: []table{
		{title: "messages/s (MB/s of uncompressed payload each way)", metrics: []metricSpec{echoThroughput}},
		{title: "server process cost per message echoed", metrics: serverCost},
	},
}

// Workload 6b: memory per idle compressed connection, offering context
// takeover as browsers do.
var deflateIdleWorkload = &workload{
	name:    "deflate-idle",
	title:   "6b. Memory per idle compressed connection",
	columns: deflateColumns,
	cases: func(sc *Scale) []caseSpec {
		return []caseSpec{{label: fmt.Sprintf("%d conns", sc.DeflateIdleConns), size: 1 << 10}}
	},
	run: func(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
		p := loadgen.Text(cs.size, msgSeed)
		fr := loadgen.ClientFrame(frame.OpText, loadgen.Deflate(p), true)
		var verify func(*loadgen.Message) error
		if sc.Verify {
			// The echo is the first message of the server's context,
			// so it inflates on its own even with context takeover.
			verify = loadgen.Expect(frame.OpText, p)
		}
		return runIdle(ctx, col, cs.procs, sc.DeflateIdleConns, "/deflate/"+col.variant, loadgen.DeflateContext, fr, verify)
	},
	tables: []table{{title: "after one compressed 1 KiB text message each; offer `" + loadgen.DeflateContext + "`", metrics: idleMetrics}},
}
