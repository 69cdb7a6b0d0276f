package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wirelevel/ws/bench/libs"
	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/frame"
)

// Workload 5: one message to many connections.
var broadcastWorkload = &workload{
	name:    "broadcast",
	title:   "5. Broadcast",
	columns: plainColumns,
	cases: func(sc *Scale) []caseSpec {
		return []caseSpec{{label: fmt.Sprintf("%s text to %d conns", sizeLabel(sc.BroadcastSize), sc.BroadcastConns), size: sc.BroadcastSize}}
	},
	run: runBroadcast,
	tables: []table{{title: "delivery is from the broadcast command until every client has the message", metrics: []metricSpec{
		{key: "ms", label: "delivery time", format: fmtMicros},
		{key: "rate", label: "messages delivered/s", higher: true, format: func(v float64, _ caseSpec) string { return si(v) + "/s" }},
		{key: "cpu", label: "server CPU per broadcast", format: fmtMicros},
	}}},
}

func runBroadcast(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
	rig, err := newBroadcastRig(ctx, col.lib, sc.BroadcastConns, cs.size, sc.Verify)
	if err != nil {
		return nil, err
	}
	defer rig.close()
	if _, err := rig.once(); err != nil { // warm up
		return nil, err
	}
	u0, err := rig.srv.usage()
	if err != nil {
		return nil, err
	}
	d := make([]time.Duration, sc.Broadcasts)
	var sum time.Duration
	for i := range d {
		if d[i], err = rig.once(); err != nil {
			return nil, err
		}
		sum += d[i]
	}
	u1, err := rig.srv.usage()
	if err != nil {
		return nil, err
	}
	if err := rig.check(); err != nil {
		return nil, err
	}
	if len(d) == 0 {
		return nil, errors.New("bench: no broadcast measured")
	}
	return metrics{
		"ms":   float64(percentile(d, 50)) / 1e3,
		"rate": float64(rig.n*len(d)) / sum.Seconds(),
		"cpu":  float64(u1.cpu-u0.cpu) / float64(len(d)) / 1e3,
	}, nil
}

// broadcastRig is a server for one library with n client connections on
// its /broadcast, every one of them read by the load generator.
type broadcastRig struct {
	srv   *server
	n     int
	cmd   string
	conns []*loadgen.Conn
	recv  *loadgen.Receivers
	sent  int
}

func newBroadcastRig(ctx context.Context, lib *libs.Lib, n, size int, verify bool) (*broadcastRig, error) {
	srv, err := startServer(lib)
	if err != nil {
		return nil, err
	}
	r := &broadcastRig{srv: srv, n: n, cmd: "broadcast " + strconv.Itoa(size)}
	if r.conns, err = loadgen.DialN(ctx, n, 16, srv.addr, "/broadcast", "", nil); err != nil {
		srv.close()
		return nil, err
	}
	if err := srv.waitConns(n, 30*time.Second); err != nil {
		r.close()
		return nil, err
	}
	var check func(*loadgen.Message) error
	if verify {
		check = loadgen.Expect(frame.OpText, loadgen.Text(size, msgSeed))
	}
	r.recv = loadgen.Receive(r.conns, check)
	return r, nil
}

// once has the server broadcast one message and returns the time until every
// client had it.
func (r *broadcastRig) once() (time.Duration, error) {
	start := time.Now()
	if err := r.srv.send(r.cmd); err != nil {
		return 0, err
	}
	r.sent++
	if err := r.recv.WaitTotal(int64(r.n*r.sent), 30*time.Second); err != nil {
		return 0, err
	}
	took := time.Since(start)
	line, err := r.srv.recv(30 * time.Second)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(line, "broadcast ") {
		return 0, r.srv.wrap(fmt.Errorf("answered %q", line))
	}
	return took, nil
}

// check reports a connection that did not get every message exactly once.
func (r *broadcastRig) check() error {
	for i := range r.conns {
		if got := r.recv.Count(i); got != int64(r.sent) {
			return fmt.Errorf("bench: broadcast connection %d got %d messages, want %d", i, got, r.sent)
		}
	}
	return nil
}

func (r *broadcastRig) close() {
	loadgen.CloseAll(r.conns)
	r.srv.close()
}
