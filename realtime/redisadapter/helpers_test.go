package redisadapter

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
)

// goNode is a realtime server in a Redis cluster, in this process: the
// test application of every cluster test (rooms and data from the
// client's auth, a server-side event "sse" acknowledged with "go-reply").
type goNode struct {
	name string
	srv  *realtime.Server
	cl   *Cluster
	url  string
	hs   *http.Server
	rdb  *redis.Client

	mu   sync.Mutex
	errs []error
	sse  []string
}

func startGoNode(t *testing.T, rs *redistest.Server, name string, opts *Options) *goNode {
	t.Helper()
	return startGoNodeWith(t, rs, name, opts, nil)
}

// startGoNodeWith is startGoNode with the server's options (NewAdapter is
// set).
func startGoNodeWith(t *testing.T, rs *redistest.Server, name string, opts *Options, rt *realtime.Options) *goNode {
	t.Helper()
	n := &goNode{name: name}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.OnError = func(err error) {
		n.mu.Lock()
		n.errs = append(n.errs, err)
		n.mu.Unlock()
	}
	// No retries: a publish during an outage fails at once, so the tests
	// of outages need not wait for the retries to give up.
	n.rdb = redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, DialerRetries: 1})
	n.cl = New(n.rdb, &o)
	ro := realtime.Options{}
	if rt != nil {
		ro = *rt
	}
	ro.NewAdapter = n.cl.NewAdapter
	n.srv = realtime.NewServer(&ro)
	for _, nsp := range []string{"/", "/chat"} {
		ns := n.srv.Of(nsp)
		ns.OnConnection(func(s *realtime.Socket) {
			var auth struct {
				Rooms string
				Data  any
			}
			json.Unmarshal(s.Auth(), &auth)
			for _, r := range strings.Split(auth.Rooms, ",") {
				if r != "" {
					s.Join(r)
				}
			}
			if auth.Data != nil {
				s.SetData(auth.Data)
			}
		})
		ns.OnServerSideEmit("sse", func(e *realtime.ServerSideEvent) {
			n.mu.Lock()
			n.sse = append(n.sse, rawArgs(e.Args))
			n.mu.Unlock()
			if e.WantsAck() {
				e.Ack(n.name + "-reply")
			}
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.hs = &http.Server{Handler: n.srv}
	go n.hs.Serve(ln)
	n.url = "http://" + ln.Addr().String()
	t.Cleanup(n.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.cl.Ready(ctx); err != nil {
		t.Fatalf("node %s: not subscribed: %v", name, err)
	}
	return n
}

func (n *goNode) stop() {
	n.hs.Close()
	n.srv.Close()
	n.cl.Close()
	n.rdb.Close()
}

func (n *goNode) errors() []error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.errs)
}

func (n *goNode) ns(name string) *realtime.Namespace { return n.srv.Of(name) }

func (n *goNode) adapter(name string) *Adapter { return n.srv.Of(name).Adapter().(*Adapter) }

// allRooms asks the namespace's adapter, of either kind, for every node's
// rooms.
func (n *goNode) allRooms(ctx context.Context, nsp string) ([]string, error) {
	return n.srv.Of(nsp).Adapter().(interface {
		AllRooms(context.Context) ([]string, error)
	}).AllRooms(ctx)
}

// rawArgs writes arguments as the tests compare them: their JSON, then the
// attachments in hex.
func rawArgs(a interface {
	Len() int
	Raw(int) json.RawMessage
	Attachments() [][]byte
}) string {
	var sb strings.Builder
	for i := range a.Len() {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.Write(a.Raw(i))
	}
	for _, b := range a.Attachments() {
		sb.WriteString(" bin:" + hex.EncodeToString(b))
	}
	return sb.String()
}

// goClient is a Socket.IO client of package client that records the
// events it receives and acknowledges "ack-me" with {"from": name}.
type goClient struct {
	name string
	c    *client.Client

	mu   sync.Mutex
	got  []string
	cond *sync.Cond
}

func dialGo(t *testing.T, node *goNode, name, nsp, rooms string, transports ...client.Transport) *goClient {
	t.Helper()
	gc := &goClient{name: name}
	gc.cond = sync.NewCond(&gc.mu)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, node.url, &client.Options{
		Namespace: nsp, Auth: map[string]any{"rooms": rooms, "data": map[string]any{"name": name}},
		Transports: transports, NoReconnect: true,
	})
	if err != nil {
		t.Fatalf("client %s: %v", name, err)
	}
	gc.c = c
	c.OnAny(func(e *client.Event) {
		gc.mu.Lock()
		gc.got = append(gc.got, e.Name+" "+rawArgs(e.Args))
		gc.cond.Broadcast()
		gc.mu.Unlock()
	})
	c.On("ack-me", func(e *client.Event) { e.Ack(map[string]any{"from": name}) })
	t.Cleanup(func() { c.Close() })
	return gc
}

// until returns the events received before the event "sync <tag>" and
// forgets them.
func (gc *goClient) until(t *testing.T, tag string) []string {
	t.Helper()
	marker := "sync " + fmt.Sprintf("%q", tag)
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { gc.mu.Lock(); gc.cond.Broadcast(); gc.mu.Unlock() })
	defer timer.Stop()
	gc.mu.Lock()
	defer gc.mu.Unlock()
	for {
		if i := slices.Index(gc.got, marker); i >= 0 {
			out := slices.Clone(gc.got[:i])
			gc.got = slices.Delete(gc.got, 0, i+1)
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("client %s: no %s within 10 s; got %q", gc.name, marker, gc.got)
		}
		gc.cond.Wait()
	}
}

// syncAll has node send "sync tag" to every socket of nsp and returns
// what each client received before it. A node's messages reach every
// node in the order it sent them, so the events the node sent before are
// all there.
func syncAll(t *testing.T, node *goNode, nsp, tag string, clients ...*goClient) map[string][]string {
	t.Helper()
	if err := node.ns(nsp).Emit("sync", tag); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, c := range clients {
		out[c.name] = c.until(t, tag)
	}
	return out
}

// eventually retries check until it returns "" or 10 s pass.
func eventually(t testing.TB, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet is a go-redis logger that drops the client's messages (its dial
// errors while a test has Redis down).
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }

// switchProxy is a TCP proxy in front of one node at a time, so that a
// client's reconnection reaches another node: cut closes its connections
// and refuses new ones, switchTo points it at a node and lets clients in.
type switchProxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string // "" while cut
	conns  map[net.Conn]struct{}
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	return p
}

func (p *switchProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *switchProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		if target == "" {
			c.Close()
			continue
		}
		b, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[b] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() {
			io.Copy(b, c)
			b.Close()
			c.Close()
		}()
		go func() {
			io.Copy(c, b)
			b.Close()
			c.Close()
		}()
	}
}

// cut closes every connection through the proxy and refuses new ones.
func (p *switchProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = ""
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// switchTo sends new connections to target (host:port or a URL).
func (p *switchProxy) switchTo(target string) {
	target = strings.TrimPrefix(target, "http://")
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
