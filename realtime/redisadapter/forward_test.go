package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
)

// TestForwardPolling puts two Go node processes with a Forwarder behind
// HAProxy balancing round-robin with no stickiness, the configuration
// under which TestHAProxyStickySessions' clients fail, and has official
// clients connect through it on polling only, and on polling upgraded to
// WebSocket: every client works (its requests that reach the other node
// are forwarded to the node that holds its session, the upgrade
// included), broadcasts from either node reach all of them in order, and
// broadcast acknowledgements (polling POSTs) come back from every one.
func TestForwardPolling(t *testing.T) {
	if testing.Short() {
		t.Skip("the load balancer test runs in the full test run")
	}
	rs := redistest.Start(t)
	var nodes []*proc
	for _, name := range []string{"G1", "G2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), nodeEnv+"="+rs.Addr, nodeNameEnv+"="+name, nodeTimeoutEnv+"=1000", nodeForwardEnv+"=1")
		nodes = append(nodes, startProc(t, name, cmd))
	}
	g1, g2 := nodes[0], nodes[1]
	front := startHAProxy(t, []string{strings.TrimPrefix(g1.url(), "http://"), strings.TrimPrefix(g2.url(), "http://")}, false)
	nodeCmd := nodeJSCmd(t, "classic") // for its clients
	_, nodeCmd.Args[2], _ = strings.Cut(rs.Addr, ":")
	clients := startProc(t, "N", nodeCmd)

	var names []string
	for i := range 8 {
		name := fmt.Sprintf("p%d", i)
		transports := []string{"polling"}
		if i >= 6 {
			name = fmt.Sprintf("u%d", i)
			transports = []string{"polling", "websocket"}
		}
		if _, err := clients.try(map[string]any{"cmd": "connect", "name": name, "url": front, "rooms": "r1", "transports": transports}, 20*time.Second); err != nil {
			t.Fatalf("client %s through the round-robin balancer: %v", name, err)
		}
		names = append(names, name)
		if i%2 == 0 {
			// A request the nodes refuse moves the balancer on by one, so
			// that the next handshake goes to the other node.
			if resp, err := http.Get(front + "/socket.io/?EIO=4&transport=none"); err == nil {
				resp.Body.Close()
			}
		}
	}
	g1.server("sync", map[string]any{"tag": "connected"})
	clients.call(map[string]any{"cmd": "drain", "tag": "connected"})
	stats := func(p *proc) (s struct{ Sessions, Forwarded, Failed int }) {
		json.Unmarshal(p.server("stats", nil), &s)
		return s
	}
	s1, s2 := stats(g1), stats(g2)
	if s1.Sessions == 0 || s2.Sessions == 0 || s1.Forwarded == 0 || s2.Forwarded == 0 {
		t.Errorf("G1 %+v, G2 %+v: want sessions on both, and requests forwarded by both", s1, s2)
	}
	for i := range 20 {
		from := nodes[i%2]
		from.server("emit", map[string]any{"to": []string{"r1"}, "event": "ev", "args": []any{jv(i).js}})
	}
	g2.server("sync", map[string]any{"tag": "forwarded"})
	var got map[string][]string
	json.Unmarshal(clients.call(map[string]any{"cmd": "drain", "tag": "forwarded"}), &got)
	for _, name := range names {
		// Each node's events in the order it sent them.
		var fromG1, fromG2, wantG1, wantG2 []string
		for _, f := range got[name] {
			var n int
			fmt.Sscanf(f, `2["ev",%d]`, &n)
			if n%2 == 0 {
				fromG1 = append(fromG1, f)
			} else {
				fromG2 = append(fromG2, f)
			}
		}
		for i := range 20 {
			w := fmt.Sprintf(`2["ev",%d]`, i)
			if i%2 == 0 {
				wantG1 = append(wantG1, w)
			} else {
				wantG2 = append(wantG2, w)
			}
		}
		if !slices.Equal(fromG1, wantG1) || !slices.Equal(fromG2, wantG2) || len(got[name]) != 20 {
			t.Errorf("%s received %q", name, got[name])
		}
	}
	var res struct {
		Responses []json.RawMessage
		Error     string
	}
	json.Unmarshal(g1.server("emitAck", map[string]any{"timeoutMs": 5000}), &res)
	if res.Error != "" || len(res.Responses) != len(names) {
		t.Errorf("emitWithAck from G1 = %d responses, %q; want %d", len(res.Responses), res.Error, len(names))
	}
	var cs map[string]struct {
		Connected   bool
		Disconnects int
	}
	json.Unmarshal(clients.call(map[string]any{"cmd": "clients"}), &cs)
	for _, name := range names {
		if !cs[name].Connected || cs[name].Disconnects != 0 {
			t.Errorf("client %s: %+v", name, cs[name])
		}
	}
	t.Logf("G1 %+v, G2 %+v", stats(g1), stats(g2))
}

// TestForwarder checks the forwarder in one process: session ids carry
// the node's tag, a request for another node's session is served by that
// node (a polling GET and POST, and the WebSocket upgrade), a request for
// an unknown or dead node's session is answered here as an unknown
// session, and a forwarded request is never forwarded again.
func TestForwarder(t *testing.T) {
	rs := redistest.Start(t)
	type node struct {
		srv *realtime.Server
		fw  *Forwarder
		hs  *httptest.Server
	}
	var ns []*node
	sids := make(chan string, 4)
	for range 2 {
		n := &node{}
		n.hs = httptest.NewUnstartedServer(nil)
		var err error
		n.fw, err = NewForwarder(rs.Client(t), &ForwardOptions{Address: "http://" + n.hs.Listener.Addr().String()})
		if err != nil {
			t.Fatal(err)
		}
		n.srv = realtime.NewServer(&realtime.Options{GenerateID: n.fw.GenerateID})
		n.srv.OnConnection(func(s *realtime.Socket) {
			sids <- s.SessionID()
			s.On("echo", func(e *realtime.Event) { e.Ack(e.Args.String(0)) })
		})
		n.hs.Config.Handler = n.fw.Wrap(n.srv)
		n.hs.Start()
		t.Cleanup(func() { n.hs.Close(); n.srv.Close(); n.fw.Close() })
		ns = append(ns, n)
	}
	a, b := ns[0], ns[1]
	if a.fw.Tag() == b.fw.Tag() || len(a.fw.Tag()) != TagLength {
		t.Fatalf("tags %q and %q", a.fw.Tag(), b.fw.Tag())
	}
	// A session opened on A, whose later requests all go to B: B forwards
	// every one to A.
	for _, tr := range [][]client.Transport{{client.Polling}, {client.Polling, client.WebSocket}} {
		rt := &splitTransport{first: a.hs.URL, rest: b.hs.URL}
		bAddr := b.hs.Listener.Addr().String()
		c, err := client.Dial(context.Background(), a.hs.URL, &client.Options{
			Transports: tr, NoReconnect: true, HTTPClient: &http.Client{Transport: rt},
			Dial: conn.DialOptions{NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, bAddr) // the upgrade reaches B
			}},
		})
		if err != nil {
			t.Fatalf("%v: %v", tr, err)
		}
		if sid := <-sids; !strings.HasPrefix(sid, a.fw.Tag()) || a.srv.Engine().Session(sid) == nil {
			t.Errorf("session id %q: want A's, with A's tag %q", sid, a.fw.Tag())
		}
		for i := range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			reply, err := c.EmitWithAck(ctx, "echo", fmt.Sprint(i))
			cancel()
			if err != nil || reply.String(0) != fmt.Sprint(i) {
				t.Fatalf("%v: echo %d = %v, %v", tr, i, reply, err)
			}
		}
		if len(tr) == 2 {
			eventually(t, "the upgrade", func() string {
				if c.Transport() != client.WebSocket {
					return fmt.Sprintf("transport %v", c.Transport())
				}
				return ""
			})
			reply, err := c.EmitWithAck(context.Background(), "echo", "ws")
			if err != nil || reply.String(0) != "ws" {
				t.Errorf("echo over the forwarded WebSocket = %v, %v", reply, err)
			}
		}
		c.Close()
	}
	if b.fw.Stats().Forwarded == 0 {
		t.Errorf("B forwarded nothing: %+v", b.fw.Stats())
	}
	// Unknown sessions, of a known node or of none, and a forwarded
	// request are answered by the node they reach.
	for _, tc := range []struct {
		name string
		sid  string
		hdr  bool
	}{
		{"A's tag, no such session", a.fw.Tag() + "AAAAAAAAAAAAAAAAAAAA", false},
		{"no such node", "zzzzzzAAAAAAAAAAAAAAAAAAAA", false},
		{"forwarded already", a.fw.Tag() + "AAAAAAAAAAAAAAAAAAAA", true},
	} {
		before := b.fw.Stats()
		req, _ := http.NewRequest("GET", b.hs.URL+"/socket.io/?EIO=4&transport=polling&sid="+tc.sid, nil)
		if tc.hdr {
			req.Header.Set(ForwardedHeader, "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400 Session ID unknown", tc.name, resp.StatusCode)
		}
		after := b.fw.Stats()
		if wantFwd := tc.name == "A's tag, no such session"; (after.Forwarded > before.Forwarded) != wantFwd {
			t.Errorf("%s: forwarded %d then %d", tc.name, before.Forwarded, after.Forwarded)
		}
	}
	// A dead node: its address no longer answers; the request is answered
	// here.
	a.hs.Close()
	req, _ := http.NewRequest("GET", b.hs.URL+"/socket.io/?EIO=4&transport=polling&sid="+a.fw.Tag()+"BBBBBBBBBBBBBBBBBBBB", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || b.fw.Stats().Failed == 0 {
		t.Errorf("dead node: status %d, stats %+v", resp.StatusCode, b.fw.Stats())
	}
	// Close forgets the node in Redis.
	a.fw.Close()
	if n, _ := rs.Client(t).Exists(context.Background(), "socket.io-node#"+a.fw.Tag()).Result(); n != 0 {
		t.Error("A's entry is still in Redis after Close")
	}
}

// splitTransport sends the first request to first and every later one to
// rest, as a balancer that moves a client to another node.
type splitTransport struct {
	first, rest string
	n           atomic.Int32
}

func (s *splitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	target := s.rest
	if s.n.Add(1) == 1 {
		target = s.first
	}
	r2 := r.Clone(r.Context())
	r2.URL.Host = strings.TrimPrefix(target, "http://")
	r2.Host = r2.URL.Host
	return http.DefaultTransport.RoundTrip(r2)
}
