package redisadapter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
)

// benchWindow bounds the messages sent and not yet delivered to every
// member, so that queues stay short and the figure is the sustained rate.
const benchWindow = 32

// BenchmarkCluster measures a chat cluster: N nodes (processes), M clients
// of package client (WebSocket) on each, all in one room, and one more
// client on the first node sending chat messages that its node relays to
// the room, on its own sockets and through Redis on the others'. It runs a
// cluster of Go nodes (this package) and a cluster of Node socket.io 4.8
// nodes with @socket.io/redis-adapter 8.3, of the same shape, in the same
// run, on one redis-server each; one op is one message delivered to every
// member. It reports deliveries/s, the CPU time of all the nodes per
// delivery, and of redis-server per message.
//
//	cd realtime/redisadapter
//	go test -run '^$' -bench Cluster -benchtime 10000x -count 6 | tee cluster.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl cluster.txt
//
// REDISADAPTER_BENCH_NODES and REDISADAPTER_BENCH_CLIENTS set N (2) and M
// (50).
func BenchmarkCluster(b *testing.B) {
	nodes, perNode := envInt("REDISADAPTER_BENCH_NODES", 2, 1, 8), envInt("REDISADAPTER_BENCH_CLIENTS", 50, 1, 1000)
	script := filepath.Join(testpeer.Root(), "realtime", "testdata", "node", "redis-cluster-node.js")
	for _, impl := range []string{"realtime", "socket.io"} {
		func() {
			rs := redistest.Start(b)
			defer rs.Stop()
			_, port, _ := strings.Cut(rs.Addr, ":")
			var procs []*proc
			for i := range nodes {
				var p *proc
				if impl == "realtime" {
					p = startGoProc(b, rs, fmt.Sprintf("G%d", i+1))
				} else {
					p = startProc(b, fmt.Sprintf("N%d", i+1), testpeer.NodeCmd(b, []string{"socket.io", "redis", "@socket.io/redis-adapter", "@socket.io/redis-emitter", "socket.io-client"},
						script, port, "5000"))
				}
				defer p.stop()
				procs = append(procs, p)
			}
			cl := newBenchCluster(b, procs, perNode)
			defer cl.close()
			b.Run(fmt.Sprintf("impl=%s/nodes=%d/clients=%d", impl, nodes, perNode), func(b *testing.B) {
				cl.run(b, rs.PID(), procs)
			})
		}()
	}
}

func envInt(name string, def, lo, hi int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= lo {
		return min(v, hi)
	}
	return def
}

// benchCluster is the clients of a benchmark run.
type benchCluster struct {
	members []*client.Client
	sender  *client.Client
	cur     atomic.Pointer[benchRun]
}

// benchRun counts the deliveries of one timed run.
type benchRun struct {
	recipients int32
	counts     []atomic.Int32
	window     chan struct{}
	done       atomic.Int64
	all        chan struct{}
	n          int64
}

func newBenchCluster(b *testing.B, procs []*proc, perNode int) *benchCluster {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := &benchCluster{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failed atomic.Value
	dial := func(url string, member bool) {
		defer wg.Done()
		c, err := client.Dial(ctx, url, &client.Options{Transports: []client.Transport{client.WebSocket}, NoReconnect: true})
		if err != nil {
			failed.Store(err)
			return
		}
		if member {
			c.On("chat", cl.onChat)
			if _, err := c.EmitWithAck(ctx, "join", "room"); err != nil {
				failed.Store(err)
			}
		}
		mu.Lock()
		if member {
			cl.members = append(cl.members, c)
		} else {
			cl.sender = c
		}
		mu.Unlock()
	}
	for _, p := range procs {
		for range perNode {
			wg.Add(1)
			go dial(p.url(), true)
		}
	}
	wg.Add(1)
	go dial(procs[0].url(), false)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		cl.close()
		b.Fatal(err)
	}
	return cl
}

func (cl *benchCluster) onChat(e *client.Event) {
	r := cl.cur.Load()
	i, err := strconv.Atoi(strings.TrimPrefix(e.Args.String(1), "m"))
	if r == nil || err != nil || i < 0 || i >= len(r.counts) {
		return
	}
	if r.counts[i].Add(1) == r.recipients {
		<-r.window
		if r.done.Add(1) == r.n {
			close(r.all)
		}
	}
}

func (cl *benchCluster) close() {
	for _, c := range cl.members {
		c.Close()
	}
	if cl.sender != nil {
		cl.sender.Close()
	}
}

// run sends b.N messages, at most benchWindow of them undelivered at a
// time, and waits until every member has every one.
func (cl *benchCluster) run(b *testing.B, redisPID int, procs []*proc) {
	r := &benchRun{recipients: int32(len(cl.members)), counts: make([]atomic.Int32, b.N), window: make(chan struct{}, benchWindow), all: make(chan struct{}), n: int64(b.N)}
	cl.cur.Store(r)
	defer cl.cur.Store(nil)
	var pids []int
	for _, p := range procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	nodes0, ok1 := cpuOf(pids...)
	redis0, ok2 := cpuOf(redisPID)
	b.ResetTimer()
	start := time.Now()
	text := strings.Repeat("x", 48)
	for i := range b.N {
		r.window <- struct{}{}
		if err := cl.sender.Emit("chat", "room", "m"+strconv.Itoa(i), text); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-r.all:
	case <-time.After(2 * time.Minute):
		b.Fatalf("%d of %d messages delivered to every member within 2 minutes", r.done.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	nodes1, _ := cpuOf(pids...)
	redis1, _ := cpuOf(redisPID)
	deliveries := float64(b.N) * float64(r.recipients)
	b.ReportMetric(deliveries/elapsed.Seconds(), "deliveries/s")
	if ok1 && ok2 {
		b.ReportMetric(float64(nodes1-nodes0)/float64(time.Microsecond)/deliveries, "node-µs/delivery")
		b.ReportMetric(float64(redis1-redis0)/float64(time.Microsecond)/float64(b.N), "redis-µs/msg")
	}
}

// cpuOf returns the CPU time (user and system) the processes have used,
// from /proc/PID/stat; false without /proc.
func cpuOf(pids ...int) (time.Duration, bool) {
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, false
		}
		// The fields after the command name, which is in parentheses.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			return 0, false
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * (time.Second / 100) // USER_HZ
	}
	return total, true
}
