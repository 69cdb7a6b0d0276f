package realtime_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/internal/nodepeer"
)

// TestLoadFigure measures broadcast delivery: N clients of package client
// in one room, one more client sending "chat" messages that the server
// relays to the room, for a fixed time. It runs against this package's
// server and against the official Node socket.io server (npm), on this
// machine, in the same run, with the same clients. The sender keeps at most
// loadWindow messages not yet delivered to every member, so queues stay
// bounded and the figure is the sustained rate.
//
//	go test ./realtime/ -run TestLoadFigure -v -count=1
//
// REALTIME_LOAD_CLIENTS and REALTIME_LOAD_SECONDS change N (200) and the
// time per server (5 s); with -short they are 10 and 0.5 s.
func TestLoadFigure(t *testing.T) {
	n, dur := 200, 5*time.Second
	if testing.Short() {
		n, dur = 10, 500*time.Millisecond
	}
	if v, err := strconv.Atoi(os.Getenv("REALTIME_LOAD_CLIENTS")); err == nil && v > 0 {
		n = min(v, 2000)
	}
	if v, err := strconv.ParseFloat(os.Getenv("REALTIME_LOAD_SECONDS"), 64); err == nil && v > 0 {
		dur = time.Duration(min(v, 60) * float64(time.Second))
	}
	t.Run("realtime", func(t *testing.T) {
		// Like the Node server, ours runs in a process of its own: this
		// test binary, started again in server mode (see TestMain).
		srv := startLoadServer(t)
		defer srv.Stop()
		r := measure(t, srv, n, dur)
		t.Logf("LOAD realtime (Go %s):    %s", runtime.Version(), r)
	})
	t.Run("realtime-poller", func(t *testing.T) {
		srv := startLoadServer(t, true)
		defer srv.Stop()
		r := measure(t, srv, n, dur)
		t.Logf("LOAD realtime with conn.Poller:   %s", r)
	})
	t.Run("node-socket.io", func(t *testing.T) {
		srv := nodepeer.StartServer(t)
		defer srv.Stop()
		r := measure(t, srv, n, dur)
		t.Logf("LOAD socket.io (Node %s): %s", nodeVersion(), r)
	})
}

// loadServerEnv makes the test binary run the load test's server instead
// of the tests.
const loadServerEnv = "REALTIME_LOAD_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(loadServerEnv) == "1" {
		serveLoad()
		return
	}
	os.Exit(m.Run())
}

// serveLoad runs the chat events on a loopback port, prints LISTENING PORT
// and serves until stdin closes.
func serveLoad() {
	opts := &realtime.Options{}
	if os.Getenv(loadPollerEnv) == "1" {
		p, err := conn.NewPoller()
		if err != nil {
			fmt.Println("FAIL poller:", err)
			os.Exit(1)
		}
		defer p.Close()
		opts.Poller = p
	}
	srv := realtime.NewServer(opts)
	srv.Of("/").OnConnection(func(s *realtime.Socket) {
		s.On("join", func(e *realtime.Event) {
			s.Join(e.Args.String(0))
			e.Ack("joined", e.Args.String(0))
		})
		s.On("chat", func(e *realtime.Event) {
			room := e.Args.String(0)
			s.To(room).Emit("chat", room, e.Args.String(1), s.ID())
			if e.WantsAck() {
				e.Ack()
			}
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("FAIL listen:", err)
		os.Exit(1)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	if path := os.Getenv("REALTIME_LOAD_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	fmt.Println("LISTENING", ln.Addr().(*net.TCPAddr).Port)
	io.Copy(io.Discard, os.Stdin)
	hs.Close()
	srv.Close()
}

// loadPollerEnv makes the load server serve WebSockets with a conn.Poller.
const loadPollerEnv = "REALTIME_LOAD_POLLER"

// startLoadServer starts this test binary in server mode, with a Poller if
// poller is true.
func startLoadServer(t *testing.T, poller ...bool) *nodepeer.Server {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadServerEnv+"=1")
	if len(poller) > 0 && poller[0] {
		cmd.Env = append(cmd.Env, loadPollerEnv+"=1")
	}
	return nodepeer.StartProcess(t, cmd)
}

const loadWindow = 32 // messages in flight

type loadResult struct {
	clients     int
	connect     time.Duration
	sent        int64
	delivered   int64
	elapsed     time.Duration
	p50, p99    time.Duration
	maxLatency  time.Duration
	undelivered int64
	cpu         time.Duration // server CPU time while sending, 0 if unknown
}

func (r loadResult) String() string {
	rate := float64(r.delivered) / r.elapsed.Seconds()
	cpu := "server CPU unknown"
	if r.cpu > 0 && r.delivered > 0 {
		cpu = fmt.Sprintf("server CPU %.2fs = %.1fµs per delivery", r.cpu.Seconds(), float64(r.cpu)/float64(time.Microsecond)/float64(r.delivered))
	}
	return fmt.Sprintf("%d clients: %.0f deliveries/s (%.0f broadcasts/s) over %.1fs, %s, latency p50 %.1fms p99 %.1fms, %d undelivered; %d connections in %v",
		r.clients, rate, float64(r.sent)/r.elapsed.Seconds(), r.elapsed.Seconds(), cpu,
		ms(r.p50), ms(r.p99), r.undelivered, r.clients+1, r.connect.Round(time.Millisecond))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func measure(t *testing.T, srv *nodepeer.Server, n int, dur time.Duration) loadResult {
	url := srv.URL
	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()
	var delivered atomic.Int64
	var mu sync.Mutex
	var samples []time.Duration // every 8th delivery, at most 1<<20
	onChat := func(e *client.Event) {
		k := delivered.Add(1)
		if k%8 != 0 {
			return
		}
		text := e.Args.String(1)
		sent, err := strconv.ParseInt(text[:strings.IndexByte(text, ' ')], 10, 64)
		if err != nil {
			return
		}
		lat := time.Duration(time.Now().UnixNano() - sent)
		mu.Lock()
		if len(samples) < 1<<20 {
			samples = append(samples, lat)
		}
		mu.Unlock()
	}
	// WebSocket only, as the figure has always been measured (the client
	// defaults to polling and the upgrade).
	opts := &client.Options{NoReconnect: true, Transports: []client.Transport{client.WebSocket}}
	start := time.Now()
	clients := make([]*client.Client, n+1)
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	sem := make(chan struct{}, 16)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := client.Dial(ctx, url, opts)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
			if i == n {
				return // the sender stays out of the room
			}
			c.On("chat", onChat)
			if _, err := c.EmitWithAck(ctx, "join", "load"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	close(errs)
	for err := range errs {
		t.Fatalf("setting up %d clients: %v", n, err)
	}
	connect := time.Since(start)
	sender := clients[n]
	pad := strings.Repeat("x", 40)
	var sent int64
	cpu0, cpuOK := srv.CPU()
	begin := time.Now()
	for time.Since(begin) < dur && ctx.Err() == nil {
		for delivered.Load() < (sent-loadWindow)*int64(n) && time.Since(begin) < dur {
			time.Sleep(100 * time.Microsecond)
		}
		text := strconv.FormatInt(time.Now().UnixNano(), 10) + " " + pad
		if err := sender.Emit("chat", "load", text); err != nil {
			t.Fatalf("emit: %v", err)
		}
		sent++
	}
	want := sent * int64(n)
	drain := time.Now().Add(10 * time.Second)
	for delivered.Load() < want && time.Now().Before(drain) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(begin)
	got := delivered.Load()
	cpu1, _ := srv.CPU()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(samples)
	r := loadResult{clients: n, connect: connect, sent: sent, delivered: got, elapsed: elapsed, undelivered: want - got}
	if cpuOK {
		r.cpu = cpu1 - cpu0
	}
	if len(samples) > 0 {
		r.p50 = samples[len(samples)/2]
		r.p99 = samples[len(samples)*99/100]
		r.maxLatency = samples[len(samples)-1]
	}
	if r.undelivered != 0 {
		t.Errorf("%d of %d deliveries missing", r.undelivered, want)
	}
	return r
}

func nodeVersion() string {
	out, err := nodepeer.Version()
	if err != nil {
		return "?"
	}
	return out
}

// TestIdleMemoryFigure measures the memory an idle Socket.IO session costs
// the server: N raw WebSocket clients each open a session and join the
// main namespace, then stay silent; the figure is the growth of the server
// process's resident set divided by N. Our server and the official Node
// server run as processes of their own, on this machine, in the same run.
//
//	go test ./realtime/ -run TestIdleMemoryFigure -v -count=1
//
// REALTIME_IDLE_CLIENTS changes N (2,000; 50 with -short).
func TestIdleMemoryFigure(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 50
	}
	if v, err := strconv.Atoi(os.Getenv("REALTIME_IDLE_CLIENTS")); err == nil && v > 0 {
		n = min(v, 20_000)
	}
	t.Run("realtime", func(t *testing.T) {
		srv := startLoadServer(t)
		defer srv.Stop()
		t.Logf("IDLE realtime (Go %s):    %s", runtime.Version(), idleSessions(t, srv, n))
	})
	t.Run("realtime-poller", func(t *testing.T) {
		srv := startLoadServer(t, true)
		defer srv.Stop()
		t.Logf("IDLE realtime with conn.Poller: %s", idleSessions(t, srv, n))
	})
	t.Run("node-socket.io", func(t *testing.T) {
		srv := nodepeer.StartServer(t)
		defer srv.Stop()
		t.Logf("IDLE socket.io (Node %s): %s", nodeVersion(), idleSessions(t, srv, n))
	})
}

// idleSessions opens n idle sessions on srv and reports the resident set
// growth per session.
func idleSessions(t *testing.T, srv *nodepeer.Server, n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	// Warm up with a few sessions, so that the figure leaves out what a
	// server allocates once.
	warm := openIdle(t, ctx, wsURL, 20)
	time.Sleep(500 * time.Millisecond)
	before, ok := srv.RSS()
	if !ok {
		t.Skip("no /proc: cannot read the server's memory")
	}
	conns := openIdle(t, ctx, wsURL, n)
	time.Sleep(3 * time.Second) // let both runtimes settle (and idle goroutines end)
	after, _ := srv.RSS()
	for _, c := range append(warm, conns...) {
		c.CloseNow()
	}
	per := float64(after-before) / float64(n)
	return fmt.Sprintf("%d idle sessions: RSS %.1f MiB -> %.1f MiB, %.1f KiB per session",
		n, float64(before)/(1<<20), float64(after)/(1<<20), per/1024)
}

// openIdle opens n sessions that join "/" and then only answer pings.
func openIdle(t *testing.T, ctx context.Context, wsURL string, n int) []*conn.Conn {
	out := make([]*conn.Conn, 0, n)
	for i := range n {
		c, err := conn.Dial(ctx, wsURL, nil)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		c.ReadMessage(ctx, nil) // open
		c.WriteMessage(ctx, conn.Text, []byte("40"))
		if _, b, err := c.ReadMessage(ctx, nil); err != nil || !strings.HasPrefix(string(b), "40") {
			t.Fatalf("session %d CONNECT reply %q, %v", i, b, err)
		}
		go func() { // answer pings until closed
			for {
				_, b, err := c.ReadMessage(context.Background(), nil)
				if err != nil {
					return
				}
				if string(b) == "2" {
					c.WriteMessage(context.Background(), conn.Text, []byte("3"))
				}
			}
		}()
		out = append(out, c)
	}
	return out
}
