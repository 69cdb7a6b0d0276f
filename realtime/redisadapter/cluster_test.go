package redisadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
)

// cluster2 is two Go nodes and their clients: a1 (r1) and a2 (r1, r2) on
// A over WebSocket and polling, b1 (r2) and b2 (r3) on B, k1 on B's
// /chat.
type cluster2 struct {
	rs                 *redistest.Server
	a, b               *goNode
	a1, a2, b1, b2, k1 *goClient
}

func (c *cluster2) all() []*goClient { return []*goClient{c.a1, c.a2, c.b1, c.b2} }

// clusterModes are the modes the in-process cluster tests run in.
var clusterModes = []struct {
	name string
	opts Options
}{
	{"classic", Options{}},
	{"sharded", Options{Sharded: &ShardedOptions{}}},
	{"sharded static", Options{Sharded: &ShardedOptions{SubscriptionMode: Static}}},
	{"sharded dynamic-private", Options{Sharded: &ShardedOptions{SubscriptionMode: DynamicPrivate}}},
	{"streams", Options{Streams: &StreamsOptions{}}},
	{"streams sharded pub/sub", Options{Streams: &StreamsOptions{UseShardedPubSub: true, StreamCount: 3}}},
}

// forModes runs test in every mode of clusterModes, or in those named.
func forModes(t *testing.T, test func(t *testing.T, opts *Options), only ...string) {
	for _, m := range clusterModes {
		if len(only) > 0 && !slices.Contains(only, m.name) {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			o := m.opts
			test(t, &o)
		})
	}
}

// silentNode subscribes where a node of the mode is counted, and never
// answers (as a paused node).
func silentNode(t *testing.T, rs *redistest.Server, opts *Options) {
	t.Helper()
	ctx := context.Background()
	rdb := rs.Client(t)
	var ps *redis.PubSub
	switch {
	case opts.Sharded != nil:
		ps = rdb.SSubscribe(ctx, wire.Channels{}.Broadcast())
	case opts.Streams != nil && opts.Streams.UseShardedPubSub:
		ps = rdb.SSubscribe(ctx, wire.Channels{}.Broadcast())
	case opts.Streams != nil:
		ps = rdb.Subscribe(ctx, wire.Channels{}.Broadcast())
	default:
		ps = rdb.Subscribe(ctx, wire.Channels{}.Request())
	}
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
}

func startCluster2(t *testing.T, opts *Options) *cluster2 {
	t.Helper()
	c := &cluster2{rs: redistest.Start(t)}
	c.a = startGoNode(t, c.rs, "A", opts)
	c.b = startGoNode(t, c.rs, "B", opts)
	c.a1 = dialGo(t, c.a, "a1", "/", "r1", client.WebSocket)
	c.a2 = dialGo(t, c.a, "a2", "/", "r1,r2", client.Polling)
	c.b1 = dialGo(t, c.b, "b1", "/", "r2", client.WebSocket)
	c.b2 = dialGo(t, c.b, "b2", "/", "r3", client.Polling, client.WebSocket)
	c.k1 = dialGo(t, c.b, "k1", "/chat", "r1", client.WebSocket)
	return c
}

func TestBroadcasts(t *testing.T) { forModes(t, testBroadcasts) }

func testBroadcasts(t *testing.T, opts *Options) {
	c := startCluster2(t, opts)
	bin := []byte{0, 1, 0xff}
	for _, tc := range []struct {
		name string
		from *goNode
		emit func(ns *realtime.Namespace) error
		want map[string]string
	}{
		{"all", c.a, func(ns *realtime.Namespace) error {
			return ns.Emit("ev", 1, "two", 3.5, map[string]any{"k": []any{true, nil}})
		},
			map[string]string{"a1": `ev 1,"two",3.5,{"k":[true,null]}`, "a2": "=a1", "b1": "=a1", "b2": "=a1"}},
		{"binary and dates", c.b, func(ns *realtime.Namespace) error {
			return ns.Emit("ev", bin, map[string]any{"nested": []any{[]byte{7}}}, time.UnixMilli(1796156264687).UTC())
		}, map[string]string{"a1": `ev {"_placeholder":true,"num":0},{"nested":[{"_placeholder":true,"num":1}]},"2026-12-01T20:17:44.687Z" bin:0001ff bin:07`, "a2": "=a1", "b1": "=a1", "b2": "=a1"}},
		{"one room", c.b, func(ns *realtime.Namespace) error { return ns.To("r1").Emit("ev", "r1") },
			map[string]string{"a1": `ev "r1"`, "a2": "=a1"}},
		{"several rooms", c.a, func(ns *realtime.Namespace) error { return ns.To("r2", "r3").Emit("ev", "r23") },
			map[string]string{"a2": `ev "r23"`, "b1": "=a2", "b2": "=a2"}},
		{"except", c.a, func(ns *realtime.Namespace) error { return ns.To("r1", "r2").Except("r1").Emit("ev", "x") },
			map[string]string{"b1": `ev "x"`}},
		{"except only", c.b, func(ns *realtime.Namespace) error { return ns.Except("r2").Emit("ev", "y") },
			map[string]string{"a1": `ev "y"`, "b2": "=a1"}},
		{"socket id", c.a, func(ns *realtime.Namespace) error { return ns.To(c.b2.c.ID()).Emit("ev", "you") },
			map[string]string{"b2": `ev "you"`}},
		{"local", c.a, func(ns *realtime.Namespace) error { return ns.Local().Emit("ev", "here") },
			map[string]string{"a1": `ev "here"`, "a2": "=a1"}},
		{"volatile and uncompressed", c.b, func(ns *realtime.Namespace) error { return ns.To("r1").Compress(false).Emit("ev", 0) },
			map[string]string{"a1": "ev 0", "a2": "=a1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.emit(tc.from.ns("/")); err != nil {
				t.Fatal(err)
			}
			got := syncAll(t, tc.from, "/", tc.name, c.all()...)
			for _, cl := range c.all() {
				want := tc.want[cl.name]
				if strings.HasPrefix(want, "=") {
					want = tc.want[want[1:]]
				}
				var w []string
				if want != "" {
					w = []string{want}
				}
				if !slices.Equal(got[cl.name], w) {
					t.Errorf("client %s received %q, want %q", cl.name, got[cl.name], w)
				}
			}
		})
	}
	// The namespaces are apart: /chat's client received none of it.
	if got := syncAll(t, c.a, "/chat", "chat", c.k1)["k1"]; len(got) != 0 {
		t.Errorf("/chat client received %q", got)
	}
	c.a.ns("/chat").To("r1").Emit("ev", "chat")
	if got := syncAll(t, c.a, "/chat", "chat2", c.k1)["k1"]; !slices.Equal(got, []string{`ev "chat"`}) {
		t.Errorf("/chat client received %q", got)
	}
	for _, n := range []*goNode{c.a, c.b} {
		if errs := n.errors(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.name, errs)
		}
	}
}

func TestSocketsJoinThenBroadcast(t *testing.T) { forModes(t, testSocketsJoinThenBroadcast) }

func testSocketsJoinThenBroadcast(t *testing.T, opts *Options) {
	c := startCluster2(t, opts)
	for i := range 20 {
		room := fmt.Sprintf("new%d", i)
		from := []*goNode{c.a, c.b}[i%2]
		ns := from.ns("/")
		// Join then emit at once, from either node: every joined socket,
		// here and there, gets it.
		ns.In("r2").SocketsJoin(room)
		ns.To(room).Emit("ev", room)
		ns.In(room).SocketsLeave(room)
		ns.To(room).Emit("ev", "after leave")
		got := syncAll(t, from, "/", room, c.all()...)
		want := `ev "` + room + `"`
		for _, cl := range c.all() {
			var w []string
			if cl == c.a2 || cl == c.b1 {
				w = []string{want}
			}
			if !slices.Equal(got[cl.name], w) {
				t.Fatalf("round %d from %s: client %s received %q, want %q", i, from.name, cl.name, got[cl.name], w)
			}
		}
	}
}

func TestFetchSockets(t *testing.T) { forModes(t, testFetchSockets) }

func testFetchSockets(t *testing.T, opts *Options) {
	c := startCluster2(t, opts)
	ctx := context.Background()
	ss, err := c.a.ns("/").In("r2", "r3").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*realtime.RemoteSocket{}
	for _, s := range ss {
		byID[s.ID] = s
	}
	for _, cl := range []*goClient{c.a2, c.b1, c.b2} {
		s := byID[cl.c.ID()]
		if s == nil {
			t.Fatalf("FetchSockets(r2, r3) from A: %d sockets, not %s's", len(ss), cl.name)
		}
		if !slices.Contains(s.Rooms, cl.c.ID()) {
			t.Errorf("%s: rooms %q lack its id", cl.name, s.Rooms)
		}
		if s.Handshake == nil || s.Handshake.Query.Get("EIO") != "4" || !strings.HasPrefix(s.Handshake.RemoteAddr, "127.0.0.1") {
			t.Errorf("%s: handshake %+v", cl.name, s.Handshake)
		}
		var data struct{ Name string }
		switch d := s.Data.(type) {
		case json.RawMessage:
			json.Unmarshal(d, &data)
		case map[string]any:
			data.Name, _ = d["name"].(string)
		}
		if data.Name != cl.name {
			t.Errorf("%s: data %#v", cl.name, s.Data)
		}
	}
	if len(ss) != 3 {
		t.Errorf("FetchSockets(r2, r3) = %d sockets, want 3", len(ss))
	}
	// What can be done to a remote socket.
	b2 := byID[c.b2.c.ID()]
	b2.Emit("ev", "direct")
	b2.Join("j")
	c.a.ns("/").To("j").Emit("ev", "in j")
	b2.Leave("j")
	c.a.ns("/").To("j").Emit("ev", "nobody")
	got := syncAll(t, c.a, "/", "remote", c.all()...)
	if want := []string{`ev "direct"`, `ev "in j"`}; !slices.Equal(got["b2"], want) {
		t.Errorf("b2 received %q, want %q", got["b2"], want)
	}
	reply, err := b2.EmitWithAck(ctx, "ack-me")
	if err != nil || rawArgs(reply) != `{"from":"b2"}` {
		t.Errorf("EmitWithAck to remote b2 = %v, %v", reply, err)
	}
	ids, err := c.b.ns("/").AllSockets(ctx)
	if err != nil || len(ids) != 4 {
		t.Errorf("AllSockets from B = %q, %v; want 4", ids, err)
	}
	rooms, err := c.b.allRooms(ctx, "/")
	if err != nil || !slices.Contains(rooms, "r1") || !slices.Contains(rooms, c.a1.c.ID()) {
		t.Errorf("AllRooms from B = %q, %v", rooms, err)
	}
	local, err := c.a.ns("/").Local().FetchSockets(ctx)
	if err != nil || len(local) != 2 {
		t.Errorf("Local().FetchSockets from A = %d sockets, %v; want 2", len(local), err)
	}
	b2.Disconnect(false)
	eventually(t, "b2 disconnected", func() string {
		if c.b.ns("/").Socket(c.b2.c.ID()) != nil {
			return "still connected"
		}
		return ""
	})
	ss, err = c.a.ns("/").FetchSockets(ctx)
	if err != nil || len(ss) != 3 {
		t.Errorf("FetchSockets after the disconnect = %d sockets, %v; want 3", len(ss), err)
	}
}

// TestBroadcastWithAck runs in the modes whose requests differ (the subscription
// modes do not change them).
func TestBroadcastWithAck(t *testing.T) {
	forModes(t, testBroadcastWithAck, "classic", "sharded", "streams", "streams sharded pub/sub")
}

func testBroadcastWithAck(t *testing.T, opts *Options) {
	c := startCluster2(t, opts)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		from  *goNode
		rooms []string
		want  []string
	}{
		{"all from A", c.a, nil, []string{"a1", "a2", "b1", "b2"}},
		{"all from B", c.b, nil, []string{"a1", "a2", "b1", "b2"}},
		{"room on B only", c.a, []string{"r3"}, []string{"b2"}},
		{"room on A only", c.b, []string{"r1"}, []string{"a1", "a2"}},
		{"no one", c.a, []string{"nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			acks, err := tc.from.ns("/").To(tc.rooms...).Timeout(3*time.Second).EmitWithAck(ctx, "ack-me")
			if err != nil {
				t.Fatalf("EmitWithAck: %v after %v", err, time.Since(start))
			}
			var from []string
			for _, a := range acks {
				var v struct{ From string }
				a.Decode(0, &v)
				from = append(from, v.From)
			}
			slices.Sort(from)
			if !slices.Equal(from, tc.want) {
				t.Errorf("acknowledgements from %q, want %q", from, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v: some node's count did not come", d)
			}
		})
	}
	// A client that never acknowledges: the timeout, with the others'.
	c.b1.c.Off("ack-me")
	acks, err := c.a.ns("/").Timeout(500*time.Millisecond).EmitWithAck(ctx, "ack-me")
	var te *realtime.AckTimeoutError
	if !errors.As(err, &te) || len(acks) != 3 || te.Expected != 4 {
		t.Errorf("EmitWithAck with b1 silent = %d acks, %v; want 3 and a timeout expecting 4", len(acks), err)
	}
}

// TestServerSideEmit runs in the modes whose requests differ (the subscription
// modes do not change them).
func TestServerSideEmit(t *testing.T) {
	forModes(t, testServerSideEmit, "classic", "sharded", "streams", "streams sharded pub/sub")
}

func testServerSideEmit(t *testing.T, opts *Options) {
	c := startCluster2(t, opts)
	ctx := context.Background()
	if err := c.a.srv.ServerSideEmit("sse", 1, "x"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B's handler", func() string {
		c.b.mu.Lock()
		defer c.b.mu.Unlock()
		if !slices.Equal(c.b.sse, []string{`1,"x"`}) {
			return fmt.Sprintf("got %q", c.b.sse)
		}
		return ""
	})
	acks, err := c.b.ns("/").ServerSideEmitWithAck(ctx, "sse", "ask")
	if err != nil || len(acks) != 1 || rawArgs(acks[0]) != `"A-reply"` {
		t.Errorf("ServerSideEmitWithAck from B = %v, %v", acks, err)
	}
	c.a.mu.Lock()
	if len(c.a.sse) != 1 {
		t.Errorf("A's handler ran %d times, want 1 (B's ask; its own emit is not for it)", len(c.a.sse))
	}
	c.a.mu.Unlock()
	// No handler: no answer, so the wait ends with ctx (or
	// RequestsTimeout).
	start := time.Now()
	ctx2, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = c.b.ns("/").ServerSideEmitWithAck(ctx2, "nobody-listens")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("ServerSideEmitWithAck with no handler = %v after %v", err, time.Since(start))
	}
}

// TestRequestsTimeout runs in the modes whose requests differ (the subscription
// modes do not change them).
func TestRequestsTimeout(t *testing.T) {
	forModes(t, testRequestsTimeout, "classic", "sharded", "streams")
}

func testRequestsTimeout(t *testing.T, opts *Options) {
	rs := redistest.Start(t)
	o := *opts
	o.RequestsTimeout = 300 * time.Millisecond
	a := startGoNode(t, rs, "A", &o)
	dialGo(t, a, "a1", "/", "r1", client.WebSocket)
	// A node Redis counts that never answers (as a paused one).
	silentNode(t, rs, opts)
	ctx := context.Background()
	start := time.Now()
	ss, err := a.ns("/").FetchSockets(ctx)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, ErrTimeout) || te.Expected != 1 || te.Received != 0 || len(ss) != 1 {
		t.Errorf("FetchSockets = %d sockets, %v; want the local one and a timeout", len(ss), err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("FetchSockets took %v, want about 300 ms", d)
	}
	rooms, err := a.allRooms(ctx, "/")
	if !errors.Is(err, ErrTimeout) || !slices.Contains(rooms, "r1") {
		t.Errorf("AllRooms = %q, %v", rooms, err)
	}
	acks, err := a.ns("/").Timeout(300*time.Millisecond).EmitWithAck(ctx, "ack-me")
	var ate *realtime.AckTimeoutError
	if !errors.As(err, &ate) || ate.ServersMissing != 1 || len(acks) != 1 {
		t.Errorf("EmitWithAck = %d acks, %v; want 1 and one server missing", len(acks), err)
	}
}

// TestSpecificResponseChannel checks that a node with
// PublishOnSpecificResponseChannel answers on the requester's own channel,
// which the requester listens to.
func TestSpecificResponseChannel(t *testing.T) {
	rs := redistest.Start(t)
	a := startGoNode(t, rs, "A", &Options{PublishOnSpecificResponseChannel: true})
	b := startGoNode(t, rs, "B", nil)
	dialGo(t, a, "a1", "/", "r1", client.WebSocket)
	ps := rs.Client(t).PSubscribe(context.Background(), "socket.io-response*")
	defer ps.Close()
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	ss, err := b.ns("/").FetchSockets(context.Background())
	if err != nil || len(ss) != 1 {
		t.Fatalf("FetchSockets from B = %d sockets, %v", len(ss), err)
	}
	m, err := ps.ReceiveMessage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (wire.Channels{}).NodeResponse(b.adapter("/").UID()); m.Channel != want {
		t.Errorf("A answered on %s, want %s", m.Channel, want)
	}
}

// TestNamespaceLifecycle checks that namespaces made on demand join the
// cluster, and that one removed when its last socket leaves unsubscribes
// its channels.
func TestNamespaceLifecycle(t *testing.T) {
	rs := redistest.Start(t)
	rt := &realtime.Options{CleanupEmptyChildNamespaces: true}
	a := startGoNodeWith(t, rs, "A", nil, rt)
	b := startGoNodeWith(t, rs, "B", nil, rt)
	for _, n := range []*goNode{a, b} {
		p := n.srv.OfFunc(func(name string, _ json.RawMessage) bool { return strings.HasPrefix(name, "/dyn") })
		p.OnConnection(func(s *realtime.Socket) { s.Join("r") })
	}
	a1 := dialGo(t, a, "a1", "/dyn", "r", client.WebSocket)
	b1 := dialGo(t, b, "b1", "/dyn", "r", client.WebSocket)
	ch := wire.Channels{Namespace: "/dyn"}
	numsub := func() int64 {
		m, _ := rs.Client(t).PubSubNumSub(context.Background(), ch.Request()).Result()
		return m[ch.Request()]
	}
	for _, n := range []*goNode{a, b} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := n.cl.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	if got := numsub(); got != 2 {
		t.Fatalf("NUMSUB of /dyn = %d, want 2", got)
	}
	a.ns("/dyn").To("r").Emit("ev", 1)
	if got := syncAll(t, a, "/dyn", "dyn", a1, b1); !slices.Equal(got["b1"], []string{"ev 1"}) {
		t.Errorf("b1 received %q", got["b1"])
	}
	b1.c.Close()
	eventually(t, "B's /dyn gone", func() string {
		if got := numsub(); got != 1 {
			return fmt.Sprintf("NUMSUB of /dyn = %d, want 1", got)
		}
		return ""
	})
}
