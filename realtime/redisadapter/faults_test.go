package redisadapter

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
)

// TestRedisRestart kills redis-server under two nodes and starts it again
// on the same port: the nodes connect and subscribe again by themselves,
// and broadcasts flow again. What is published while Redis is down is lost
// (pub/sub is at most once); the clients stay connected and nothing
// crashes.
func TestRedisRestart(t *testing.T) { forModes(t, testRedisRestart, "classic", "sharded", "streams") }

func testRedisRestart(t *testing.T, opts *Options) {
	c := startCluster2(t, opts)
	for round := range 2 {
		c.rs.Stop()
		eventually(t, "the nodes see the connection lost", func() string {
			for _, n := range []*goNode{c.a, c.b} {
				if n.cl.Stats().Subscribed {
					return n.name + " still subscribed"
				}
			}
			return ""
		})
		// While Redis is down: local delivery goes on, the rest is lost
		// once the client has given up retrying it.
		failed := c.a.cl.Stats().PublishFailed + c.a.cl.Stats().PublishDropped
		c.a.ns("/").Emit("ev", "during the outage")
		got := syncAll(t, c.a, "/", "outage", c.a1, c.a2)
		if want := []string{`ev "during the outage"`}; !slices.Equal(got["a1"], want) {
			t.Errorf("round %d: a1 received %q during the outage, want %q", round, got["a1"], want)
		}
		eventually(t, "the outage's publishes given up", func() string {
			if st := c.a.cl.Stats(); st.PublishFailed+st.PublishDropped < failed+2 {
				return fmt.Sprintf("stats %+v", st)
			}
			return ""
		})
		c.rs.Restart()
		for _, n := range []*goNode{c.a, c.b} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := n.cl.Ready(ctx); err != nil {
				t.Fatalf("round %d: node %s not subscribed again: %v", round, n.name, err)
			}
			cancel()
			if st := n.cl.Stats(); st.Reconnects != uint64(round+1) {
				t.Errorf("round %d: node %s Stats = %+v, want %d reconnects", round, n.name, st, round+1)
			}
		}
		// b1 and b2 did not get the outage's broadcast, and get the next.
		c.a.ns("/").Emit("ev", "after")
		got = syncAll(t, c.a, "/", "after", c.all()...)
		for _, cl := range c.all() {
			want := []string{`ev "after"`} // on B, nothing of the outage
			if !slices.Equal(got[cl.name], want) {
				t.Errorf("round %d: %s received %q, want %q", round, cl.name, got[cl.name], want)
			}
		}
		ss, err := c.b.ns("/").FetchSockets(context.Background())
		if err != nil || len(ss) != 4 {
			t.Errorf("round %d: FetchSockets after the restart = %d sockets, %v", round, len(ss), err)
		}
		for _, cl := range c.all() {
			if !cl.c.Connected() {
				t.Errorf("round %d: client %s disconnected", round, cl.name)
			}
		}
	}
	var lost *ConnectionError
	if errs := c.a.errors(); !slices.ContainsFunc(errs, func(err error) bool { return errors.As(err, &lost) }) {
		t.Errorf("node A reported %v, want a ConnectionError", errs)
	}
}

// TestNoGoroutineLeft checks that a closed cluster leaves no goroutine of
// its own behind, after connection losses too.
func TestNoGoroutineLeft(t *testing.T) {
	forModes(t, testNoGoroutineLeft, "classic", "sharded", "streams sharded pub/sub")
}

func testNoGoroutineLeft(t *testing.T, opts *Options) {
	rs := redistest.Start(t)
	n := startGoNode(t, rs, "A", opts)
	dialGo(t, n, "a1", "/", "r1", client.WebSocket)
	n.ns("/dyn") // one more namespace, one more handler goroutine
	if ours := ourGoroutines(); len(ours) < 3 {
		t.Fatalf("found %d goroutines of the cluster, want at least 3 (the check would find nothing):\n%s", len(ours), strings.Join(ours, "\n\n"))
	}
	rs.Restart()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.cl.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	rs.Stop() // closing while Redis is down
	n.ns("/").Emit("ev", 1)
	n.stop()
	var ours []string
	for range 100 {
		if ours = ourGoroutines(); len(ours) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("after Close, %d goroutines of the cluster are left:\n%s", len(ours), strings.Join(ours, "\n\n"))
}

// ourGoroutines returns the stacks of the goroutines running the
// cluster's loops.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "redisadapter.(*subscriber).run") || strings.Contains(g, "redisadapter.(*publisher).run") ||
			strings.Contains(g, "redisadapter.(*worker).runWork") ||
			strings.Contains(g, "redisadapter.(*streamReader).run") || strings.Contains(g, "redisadapter.(*Forwarder).renew") {
			out = append(out, g)
		}
	}
	return out
}

// TestPublishDuringOutage checks that publishing while Redis is down
// neither blocks the emitter for long nor grows without bound: the queue
// takes what it can, the rest is dropped and counted.
func TestPublishDuringOutage(t *testing.T) {
	rs := redistest.Start(t)
	n := startGoNode(t, rs, "A", &Options{PublishQueue: 16, RequestsTimeout: 200 * time.Millisecond})
	rs.Stop()
	start := time.Now()
	for i := range 1000 {
		n.ns("/").Emit("ev", i)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("1000 emits during the outage took %v", d)
	}
	eventually(t, "drops counted", func() string {
		st := n.cl.Stats()
		if st.PublishDropped+st.PublishFailed < 900 {
			return fmt.Sprintf("stats %+v", st)
		}
		return ""
	})
	var pe *PublishError
	if errs := n.errors(); !slices.ContainsFunc(errs, func(err error) bool { return errors.As(err, &pe) }) {
		t.Errorf("no PublishError reported")
	}
}

// TestRedisHangs pauses redis-server (SIGSTOP): its connections stay open
// but nothing answers. The node finds out by its PING, reconnects once
// Redis answers again, and is subscribed again.
func TestRedisHangs(t *testing.T) {
	defer func(d time.Duration) { healthInterval = d }(healthInterval)
	healthInterval = 200 * time.Millisecond
	rs := redistest.Start(t)
	n := startGoNode(t, rs, "A", nil)
	pid := rs.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	start := time.Now()
	eventually(t, "the hang noticed", func() string {
		if n.cl.Stats().Subscribed {
			return "still subscribed"
		}
		return ""
	})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the hang was noticed after %v, want about 2 health intervals", d)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.cl.Ready(ctx); err != nil {
		t.Fatalf("not subscribed again after SIGCONT: %v", err)
	}
	if st := n.cl.Stats(); st.Reconnects != 1 {
		t.Errorf("stats %+v, want 1 reconnect", st)
	}
}
