package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/engine"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
)

// haproxyConfig is the HAProxy configuration of the documentation
// (doc.go, "Load balancers"), for two nodes; sticky false leaves the
// cookie line out.
func haproxyConfig(listen string, nodes []string, sticky bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
  maxconn 1024

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h

frontend socketio
  bind %s
  default_backend nodes

backend nodes
  balance roundrobin
`, listen)
	if sticky {
		b.WriteString("  cookie io prefix indirect nocache\n")
	}
	for i, n := range nodes {
		fmt.Fprintf(&b, "  server node%d %s check cookie node%d\n", i+1, n, i+1)
	}
	return b.String()
}

// startHAProxy runs haproxy in the foreground on a free loopback port with
// the configuration given, until the test ends; it returns its URL.
func startHAProxy(t *testing.T, nodes []string, sticky bool) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		testpeer.Missing(t, "haproxy", "apt-get install haproxy")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyConfig(addr, nodes, sticky)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, "haproxy listening", func() string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err.Error()
		}
		c.Close()
		return ""
	})
	return "http://" + addr
}

// TestHAProxyStickySessions puts two Go nodes behind HAProxy configured as
// the documentation says (sticky by the io cookie the nodes set), with
// official clients on HTTP long-polling only, as browsers that cannot open
// WebSockets do: every client works, the clients are spread over both
// nodes, and broadcasts and broadcast acknowledgements span them. Without
// the cookie line the same clients fail.
func TestHAProxyStickySessions(t *testing.T) {
	if testing.Short() {
		t.Skip("the load balancer test runs in the full test run")
	}
	rs := redistest.Start(t)
	rt := &realtime.Options{Cookie: &engine.CookieOptions{}}
	a := startGoNodeWith(t, rs, "A", nil, rt)
	b := startGoNodeWith(t, rs, "B", nil, rt)
	backends := []string{strings.TrimPrefix(a.url, "http://"), strings.TrimPrefix(b.url, "http://")}
	script := filepath.Join(testpeer.Root(), "realtime", "testdata", "node", "redis-cluster-node.js")
	_, port, _ := strings.Cut(rs.Addr, ":")
	clients := startProc(t, "N", testpeer.NodeCmd(t, []string{"socket.io", "socket.io-client", "redis", "@socket.io/redis-adapter", "@socket.io/redis-emitter"},
		script, port, "1000"))
	em := NewEmitter(rs.Client(t), nil)
	ctx := context.Background()

	t.Run("sticky", func(t *testing.T) {
		front := startHAProxy(t, backends, true)
		var names []string
		for i := range 6 {
			name := fmt.Sprintf("p%d", i)
			clients.call(map[string]any{"cmd": "connect", "name": name, "url": front, "rooms": "r1", "transports": []string{"polling"}})
			names = append(names, name)
		}
		em.Emit(ctx, "sync", "connected")
		clients.call(map[string]any{"cmd": "drain", "tag": "connected"})
		if a.srv.SessionCount() == 0 || b.srv.SessionCount() == 0 {
			t.Errorf("sessions: %d on A, %d on B; want the clients spread over both", a.srv.SessionCount(), b.srv.SessionCount())
		}
		for i := range 20 { // every GET and POST of a session reaches its node
			from := []*goNode{a, b}[i%2]
			from.ns("/").To("r1").Emit("ev", i)
		}
		for _, n := range []*goNode{a, b} {
			n.cl.pub.flush(ctx) // on Redis before the emitter's sync
		}
		em.Emit(ctx, "sync", "sticky")
		var got map[string][]string
		json.Unmarshal(clients.call(map[string]any{"cmd": "drain", "tag": "sticky"}), &got)
		// Each node's in the order it sent them; the two nodes' interleaved
		// in any order.
		for _, name := range names {
			var fromA, fromB, wantA, wantB []string
			for _, f := range got[name] {
				var n int
				fmt.Sscanf(f, `2["ev",%d]`, &n)
				if n%2 == 0 {
					fromA = append(fromA, f)
				} else {
					fromB = append(fromB, f)
				}
			}
			for i := range 20 {
				if i%2 == 0 {
					wantA = append(wantA, fmt.Sprintf(`2["ev",%d]`, i))
				} else {
					wantB = append(wantB, fmt.Sprintf(`2["ev",%d]`, i))
				}
			}
			if !slices.Equal(fromA, wantA) || !slices.Equal(fromB, wantB) || len(got[name]) != 20 {
				t.Errorf("%s received %q", name, got[name])
			}
		}
		acks, err := b.ns("/").Timeout(5*time.Second).EmitWithAck(ctx, "ack-me")
		if err != nil || len(acks) != 6 {
			t.Errorf("EmitWithAck from B = %d acks, %v; want 6", len(acks), err)
		}
		clients.call(map[string]any{"cmd": "server", "op": "disconnectSockets", "close": true})
	})

	t.Run("without the cookie", func(t *testing.T) {
		front := startHAProxy(t, backends, false)
		failed := 0
		for i := range 4 {
			if _, err := clients.try(map[string]any{"cmd": "connect", "name": fmt.Sprintf("u%d", i), "url": front, "transports": []string{"polling"}}, 20*time.Second); err != nil {
				failed++
			}
		}
		if failed == 0 {
			t.Error("4 polling clients connected through a balancer that does not stick; the test cannot tell")
		}
	})
}
