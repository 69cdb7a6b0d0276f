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
		var cs []caseSpec
		for _, deflate := range []bool{false, true} {
			for _, n := range sc.BroadcastConns {
				label := fmt.Sprintf("%s text to %d conns", sizeLabel(sc.BroadcastSize), n)
				if deflate {
					label += ", compressed"
				}
				cs = append(cs, caseSpec{label: label, size: sc.BroadcastSize, conns: n, deflate: deflate})
			}
		}
		return cs
	},
	run: runBroadcast,
	tables: []table{{title: "delivery is from the broadcast command until every client has the message", metrics: []metricSpec{
		{key: "rate", label: "messages delivered/s", higher: true, format: func(v float64, _ caseSpec) string { return si(v) + "/s" }},
		{key: "ms", label: "delivery time", format: fmtMicros},
		{key: "cpu", label: "server CPU per broadcast", format: fmtMicros},
	}}},
}

func runBroadcast(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
	if cs.deflate && !col.lib.Compresses() {
		return nil, errUnsupported
	}
	rig, err := newBroadcastRig(ctx, col.lib, cs.procs, cs.conns, cs.size, cs.deflate, sc.Verify)
	if err != nil {
		return nil, err
	}
	defer rig.close()
	if _, err := rig.once(); err != nil { // warm up
		return nil, err
	}
	stopProfile, err := rig.srv.startProfile("broadcast", cs)
	if err != nil {
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
	stopProfile()
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
// its /broadcast (or /broadcast/deflate), every one of them read by the
// load generator.
type broadcastRig struct {
	srv   *server
	n     int
	cmd   string
	conns []*loadgen.Conn
	recv  *loadgen.Receivers
	sent  int
}

// newBroadcastRig starts lib's server with GOMAXPROCS=procs and connects n
// clients; with deflate they offer permessage-deflate without context
// takeover, as the compressed echo does.
func newBroadcastRig(ctx context.Context, lib *libs.Lib, procs, n, size int, deflate, verify bool) (*broadcastRig, error) {
	srv, err := startServer(lib, procs)
	if err != nil {
		return nil, err
	}
	r := &broadcastRig{srv: srv, n: n, cmd: "broadcast " + strconv.Itoa(size)}
	path, ext := "/broadcast", ""
	if deflate {
		path, ext = "/broadcast/deflate", loadgen.DeflateNoContext
	}
	if r.conns, err = loadgen.DialN(ctx, n, 16, srv.addr, path, ext, nil); err != nil {
		srv.close()
		return nil, err
	}
	if err := srv.waitConns(n, 60*time.Second); err != nil {
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
