package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/frame"
)

// payload returns the message of a case: valid UTF-8 text, or random bytes.
func payload(size int, binary bool) (frame.Opcode, []byte) {
	if binary {
		return frame.OpBinary, loadgen.Binary(size, msgSeed)
	}
	return frame.OpText, loadgen.Text(size, msgSeed)
}

func msgCaseLabel(size int, binary bool) string {
	if binary {
		return sizeLabel(size) + " binary"
	}
	return sizeLabel(size) + " text"
}

var echoThroughput = metricSpec{key: "msgs", higher: true, format: func(v float64, cs caseSpec) string {
	return fmt.Sprintf("%s msg/s · %.1f MB/s", si(v), v*float64(cs.size)/1e6)
}}

// serverCost shows what the server process spent per message echoed.
var serverCost = []metricSpec{
	{key: "cpu", label: "CPU", format: fmtMicros},
	{key: "allocs", label: "allocs", floor: 0.1, format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.2f", v) }},
	{key: "bytes", label: "bytes allocated", floor: 64, format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.0f B", v) }},
}

// Workload 1: pipelined echo through the common load generator.
var echoWorkload = &workload{
	name:    "echo",
	title:   "1. Echo throughput",
	columns: echoColumns,
	cases: func(sc *Scale) []caseSpec {
		var cs []caseSpec
		for _, c := range sc.EchoCases {
			cs = append(cs, caseSpec{label: msgCaseLabel(c.size, c.binary), size: c.size, binary: c.binary})
		}
		return cs
	},
	run: func(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
		op, p := payload(cs.size, cs.binary)
		return runEcho(ctx, sc, col, cs, "/echo", "", op, p, loadgen.ClientFrame(op, p, false))
	},
	tables: []table{
		{title: "messages/s (MB/s of payload each way)", metrics: []metricSpec{echoThroughput}},
		{title: "server process cost per message echoed (CPU is user+system)", metrics: serverCost},
	},
}

// minEchoes is the fewest messages an echo run measures.
const minEchoes = 20

// runEcho starts a server for col, keeps sc.EchoConns connections busy with
// fr for sc.EchoWarmup plus sc.EchoDuration, and measures the second part:
// messages echoed per second and server CPU time per message.
func runEcho(ctx context.Context, sc *Scale, col column, cs caseSpec, path, ext string, op frame.Opcode, p, fr []byte) (metrics, error) {
	srv, err := startServer(col.lib, cs.procs)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	conns, err := loadgen.DialN(ctx, sc.EchoConns, sc.EchoConns, srv.addr, path, ext, nil)
	if err != nil {
		return nil, err
	}
	defer loadgen.CloseAll(conns)
	e := loadgen.Echo{Frame: fr, Window: loadgen.Window(len(fr))}
	if sc.Verify {
		e.Verify = loadgen.Expect(op, p)
	}
	ld := loadgen.Start(conns, e, 0)
	stopped := false
	defer func() {
		if !stopped {
			ld.Stop()
		}
	}()
	time.Sleep(sc.EchoWarmup)
	stopProfile, err := srv.startProfile(path[1:], cs)
	if err != nil {
		return nil, err
	}
	n0, t0 := ld.Received(), time.Now()
	u0, err := srv.usage()
	if err != nil {
		return nil, err
	}
	// Measure for sc.EchoDuration, longer if need be (up to 10 times, and
	// at least 5 s) to see at least minEchoes messages, as large ones on a
	// busy machine may need.
	time.Sleep(sc.EchoDuration)
	for limit := t0.Add(max(10*sc.EchoDuration, 5*time.Second)); ld.Received()-n0 < minEchoes && time.Now().Before(limit); {
		time.Sleep(sc.EchoDuration / 10)
	}
	n1, t1 := ld.Received(), time.Now()
	u1, err := srv.usage()
	if err != nil {
		return nil, err
	}
	stopProfile()
	stopped = true
	if err := ld.Stop(); err != nil {
		return nil, err
	}
	n := n1 - n0
	if n <= 0 {
		return nil, errors.New("bench: no message was echoed in the measured time")
	}
	return metrics{
		"msgs":   float64(n) / t1.Sub(t0).Seconds(),
		"cpu":    float64(u1.cpu-u0.cpu) / float64(n) / 1e3,
		"allocs": float64(u1.allocs-u0.allocs) / float64(n),
		"bytes":  float64(u1.bytes-u0.bytes) / float64(n),
	}, nil
}
