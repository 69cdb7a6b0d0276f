package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/bench/libs"
	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/frame"
)

// stormColumns is one column per WebSocket library and, unless libraries
// were named, the raw-listener variants too: ours-raw, gobwas-raw and
// gws-raw, which spare each connection net/http's work.
func stormColumns(ls []*libs.Lib, named bool) []column {
	cols := plainColumns(ls, named)
	if !named {
		for _, l := range libs.All {
			if l.Raw {
				cols = append(cols, column{lib: l})
			}
		}
	}
	return cols
}

// Workload 7: a storm of short connections.
var stormWorkload = &workload{
	name:    "storm",
	title:   "7. Connection storm (handshake, one 16 B text message echoed, closing handshake)",
	columns: stormColumns,
	cases: func(sc *Scale) []caseSpec {
		return []caseSpec{
			{label: fmt.Sprintf("plain, %d clients", sc.StormClients), size: 16},
			{label: fmt.Sprintf("TLS, %d clients", sc.StormClients), size: 16, tls: true},
		}
	},
	run: runStorm,
	tables: []table{
		{title: "upgrades per second", metrics: []metricSpec{
			{key: "rate", label: "upgrades/s", higher: true, format: func(v float64, _ caseSpec) string { return si(v) + "/s" }},
		}},
		{title: "server process cost per upgrade", metrics: []metricSpec{
			{key: "cpu", label: "CPU", format: fmtMicros},
			{key: "allocs", label: "allocs", floor: 0.1, format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.1f", v) }},
			{key: "bytes", label: "bytes allocated", floor: 64, format: func(v float64, _ caseSpec) string { return fmt.Sprintf("%.0f B", v) }},
		}},
	},
}

// stormFailed reports whether a storm client has failed.
func stormFailed(mu *sync.Mutex, err *error) bool {
	mu.Lock()
	defer mu.Unlock()
	return *err != nil
}

// runStorm has sc.StormClients clients each run whole connections (see
// loadgen.Upgrade) one after another for sc.StormWarmup plus
// sc.StormDuration, and measures the second part: connections completed per
// second, and the server process's CPU time and allocations per connection.
// TLS connections make full handshakes (no session resumption) with an
// ECDSA P-256 certificate.
func runStorm(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error) {
	srv, err := startServer(col.lib, cs.procs)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	addr := srv.addr
	var cfg *tls.Config
	if cs.tls {
		addr, cfg = srv.tlsAddr, &tls.Config{InsecureSkipVerify: true}
	}
	msg := loadgen.ClientFrame(frame.OpText, loadgen.Text(cs.size, msgSeed), false)
	var done atomic.Int64
	var firstErr error
	var errMu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range sc.StormClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := loadgen.Upgrade(ctx, addr, cfg, msg); err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					return
				}
				done.Add(1)
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	time.Sleep(sc.StormWarmup)
	stopProfile, err := srv.startProfile("storm", cs)
	if err != nil {
		return nil, err
	}
	n0, t0 := done.Load(), time.Now()
	u0, err := srv.usage()
	if err != nil {
		return nil, err
	}
	// As the echo workload does, stretch the measurement (up to 10 times)
	// until a connection completed, so a loaded machine slows a tiny run
	// down instead of failing it.
	time.Sleep(sc.StormDuration)
	for i := 1; i < 10 && done.Load() == n0 && !stormFailed(&errMu, &firstErr); i++ {
		time.Sleep(sc.StormDuration)
	}
	n1, t1 := done.Load(), time.Now()
	u1, err := srv.usage()
	if err != nil {
		return nil, err
	}
	stopProfile()
	errMu.Lock()
	err = firstErr
	errMu.Unlock()
	if err != nil {
		return nil, err
	}
	n := n1 - n0
	if n <= 0 {
		return nil, errors.New("bench: no connection completed in the measured time")
	}
	return metrics{
		"rate":   float64(n) / t1.Sub(t0).Seconds(),
		"cpu":    float64(u1.cpu-u0.cpu) / float64(n) / 1e3,
		"allocs": float64(u1.allocs-u0.allocs) / float64(n),
		"bytes":  float64(u1.bytes-u0.bytes) / float64(n),
	}, nil
}
