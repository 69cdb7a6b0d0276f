package redisadapter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
)

// nodeNode drives realtime/testdata/node/redis-node.js: a Node socket.io
// node with the official Redis adapter, its clients, and the official
// emitter.
type nodeNode struct {
	t       *testing.T
	in      io.WriteCloser
	mu      sync.Mutex
	waiting map[int]chan map[string]json.RawMessage
	nextID  int
	sse     chan json.RawMessage
}

func startNodeNode(t *testing.T, redisAddr string) *nodeNode {
	t.Helper()
	_, port, _ := strings.Cut(redisAddr, ":")
	script := filepath.Join(testpeer.Root(), "realtime", "testdata", "node", "redis-node.js")
	cmd := testpeer.NodeCmd(t, []string{"socket.io", "socket.io-client", "redis", "@socket.io/redis-adapter", "@socket.io/redis-emitter"}, script, port)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killer := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	n := &nodeNode{t: t, in: in, waiting: map[int]chan map[string]json.RawMessage{}, sse: make(chan json.RawMessage, 16)}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Logf("node: %s", sc.Bytes())
				continue
			}
			switch {
			case m["ready"] != nil:
				ready <- nil
			case m["error"] != nil && m["id"] == nil:
				ready <- fmt.Errorf("node: %s", m["error"])
			case m["sse"] != nil:
				select {
				case n.sse <- m["sse"]:
				default:
				}
			case m["id"] != nil:
				var id int
				json.Unmarshal(m["id"], &id)
				n.mu.Lock()
				ch := n.waiting[id]
				delete(n.waiting, id)
				n.mu.Unlock()
				if ch != nil {
					ch <- m
				}
			default:
				t.Logf("node: %s", sc.Bytes())
			}
		}
		close(ready)
	}()
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
		killer.Stop()
	})
	select {
	case err, ok := <-ready:
		if err != nil || !ok {
			t.Fatalf("the Node node did not start: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the Node node did not start within 30 s")
	}
	return n
}

// call sends a command and returns its answer.
func (n *nodeNode) call(cmd map[string]any) map[string]json.RawMessage {
	n.t.Helper()
	n.mu.Lock()
	n.nextID++
	id := n.nextID
	ch := make(chan map[string]json.RawMessage, 1)
	n.waiting[id] = ch
	n.mu.Unlock()
	cmd["id"] = id
	b, _ := json.Marshal(cmd)
	if _, err := n.in.Write(append(b, '\n')); err != nil {
		n.t.Fatalf("node: %v", err)
	}
	select {
	case m := <-ch:
		if m["error"] != nil {
			n.t.Fatalf("node %v: %s", cmd, m["error"])
		}
		return m
	case <-time.After(20 * time.Second):
		n.t.Fatalf("node %v: no answer within 20 s", cmd)
	}
	return nil
}

// drain returns what each client received since the last drain, up to the
// next "sync" event, which the official emitter sends.
func (n *nodeNode) drain() map[string][]string {
	n.call(map[string]any{"cmd": "sync-emitter"})
	var got map[string][]string
	json.Unmarshal(n.call(map[string]any{"cmd": "drain"})["got"], &got)
	return got
}

// captured is one message published on Redis.
type captured struct{ channel, payload string }

// capture records every message published on the socket.io channels.
type capture struct {
	mu   sync.Mutex
	all  []captured
	next int
	cond *sync.Cond
}

func startCapture(t *testing.T, c *redis.Client) *capture {
	ps := c.PSubscribe(context.Background(), "socket.io*")
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	cp := &capture{}
	cp.cond = sync.NewCond(&cp.mu)
	go func() {
		for m := range ps.Channel(redis.WithChannelSize(1000)) {
			cp.mu.Lock()
			cp.all = append(cp.all, captured{m.Channel, m.Payload})
			cp.cond.Broadcast()
			cp.mu.Unlock()
		}
	}()
	t.Cleanup(func() { ps.Close() })
	return cp
}

// untilSync returns the messages published since the last call, up to the
// two "sync" broadcasts (of "/" and "/chat") that drain has the emitter
// send.
func (cp *capture) untilSync(t *testing.T) []captured {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { cp.mu.Lock(); cp.cond.Broadcast(); cp.mu.Unlock() })
	defer timer.Stop()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var out []captured
	syncs := 0
	for syncs < 2 {
		for cp.next >= len(cp.all) {
			if time.Now().After(deadline) {
				t.Fatalf("no sync on Redis within 10 s; got %d messages", len(out))
			}
			cp.cond.Wait()
		}
		m := cp.all[cp.next]
		cp.next++
		if isSync(m) {
			syncs++
			continue
		}
		out = append(out, m)
	}
	return out
}

func isSync(m captured) bool {
	if !strings.HasPrefix(m.channel, "socket.io#") {
		return false
	}
	b, err := wire.ParseBroadcast([]byte(m.payload), nil)
	if err != nil {
		return false
	}
	j, _, _ := wire.AppendJSON(nil, nil, b.Packet.Data, nil)
	return string(j) == `["sync"]`
}

func (cp *capture) everything() []captured {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]captured(nil), cp.all...)
}

// A tagged value stands for the same argument in Go and in JavaScript.
type tagged struct {
	js  map[string]any
	go_ any
}

func jv(v any) tagged { return tagged{map[string]any{"t": "json", "v": v}, v} }
func buf(b ...byte) tagged {
	return tagged{map[string]any{"t": "buf", "hex": hex.EncodeToString(b)}, append([]byte{}, b...)}
}
func date(ms int64) tagged {
	return tagged{map[string]any{"t": "date", "ms": ms}, time.UnixMilli(ms)}
}
func arr(items ...tagged) tagged {
	js, g := []any{}, []any{}
	for _, it := range items {
		js, g = append(js, it.js), append(g, it.go_)
	}
	return tagged{map[string]any{"t": "arr", "items": js}, g}
}
func obj(kv ...any) tagged {
	js := []any{}
	var g wire.Object
	for i := 0; i < len(kv); i += 2 {
		v := kv[i+1].(tagged)
		js = append(js, []any{kv[i], v.js})
		g = append(g, wire.Field{Key: kv[i].(string), Value: v.go_})
	}
	return tagged{map[string]any{"t": "obj", "fields": js}, g}
}

// TestInterop runs a Node socket.io node with the official Redis adapter
// and clients on a private redis-server, and checks, for the emitter, that
// ours and the official one publish the same bytes and the clients receive
// the same frames; and for everything Node nodes and the official emitter
// publish (broadcasts, requests, responses), that the wire package decodes
// it and encodes it again to the same bytes. A fake Go node subscribed to
// the request channel answers the Node node's requests with wire's
// responses, which the Node node must accept without waiting out its
// timeout.
func TestInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	srv := redistest.Start(t)
	rc := srv.Client(t)
	cp := startCapture(t, rc)
	fake := startFakeNode(t, srv)
	node := startNodeNode(t, srv.Addr)
	ctx := context.Background()
	em := NewEmitter(rc, nil)

	node.drain() // the CONNECT packets
	cp.untilSync(t)

	t.Run("emitter", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			nsp      string
			to       []string
			except   []string
			volatile bool
			compress *bool
			args     []tagged
			want     []string // the clients that receive it
		}{
			{name: "all", args: []tagged{jv(1), jv("two"), jv(3.5), jv(-7), jv(1e-7), jv(-2.5e-300), jv(9007199254740991), jv(nil), jv(true)}, want: []string{"c1", "c2", "c3"}},
			{name: "one room", to: []string{"r1"}, args: []tagged{jv("x")}, want: []string{"c1", "c3"}},
			{name: "several rooms", to: []string{"r2", "r3"}, args: []tagged{jv("y")}, want: []string{"c2", "c3"}},
			{name: "except", to: []string{"r1"}, except: []string{"r3"}, args: []tagged{jv(0)}, want: []string{"c1"}},
			{name: "except only", except: []string{"r1"}, args: []tagged{jv(0)}, want: []string{"c2"}},
			{name: "binary", args: []tagged{buf(1, 2, 3), obj("nested", buf(4), "list", arr(buf(), jv(5), buf(6, 7)))}, want: []string{"c1", "c2", "c3"}},
			{name: "ordered objects", args: []tagged{obj("z", jv(1), "a", obj("y", arr(jv(1), jv("x"), jv(nil)), "b", jv(true)), "m", jv(map[string]any{}))}, want: []string{"c1", "c2", "c3"}},
			{name: "dates", args: []tagged{date(1796156264687), date(0), date(-1), obj("when", date(253402300800000))}, want: []string{"c1", "c2", "c3"}},
			{name: "strings", args: []tagged{jv(""), jv("é€😀\n\"\\\u2028</script>"), jv(strings.Repeat("long ", 100))}, want: []string{"c1", "c2", "c3"}},
			{name: "volatile", volatile: true, args: []tagged{jv(1)}, want: []string{"c1", "c2", "c3"}},
			{name: "compress false", compress: new(bool), args: []tagged{jv(1)}, want: []string{"c1", "c2", "c3"}},
			{name: "namespace", nsp: "/chat", to: []string{"r1"}, args: []tagged{jv("chat")}, want: []string{"k1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				js := []any{}
				g := []any{}
				for _, a := range tc.args {
					js, g = append(js, a.js), append(g, a.go_)
				}
				flags := []any{}
				e := em
				if tc.nsp != "" {
					e = e.Of(tc.nsp)
				}
				if tc.to != nil {
					e = e.To(tc.to...)
				}
				if tc.except != nil {
					e = e.Except(tc.except...)
				}
				if tc.volatile {
					e = e.Volatile()
					flags = append(flags, []any{"volatile", true})
				}
				if tc.compress != nil {
					e = e.Compress(*tc.compress)
					flags = append(flags, []any{"compress", *tc.compress})
				}
				node.call(map[string]any{"cmd": "emitter", "nsp": tc.nsp, "to": tc.to, "except": tc.except, "flags": flags, "event": "ev", "args": js})
				fromNode := node.drain()
				nodeMsgs := cp.untilSync(t)
				if err := e.Emit(ctx, "ev", g...); err != nil {
					t.Fatal(err)
				}
				fromGo := node.drain()
				goMsgs := cp.untilSync(t)

				for _, c := range []string{"c1", "c2", "c3", "k1"} {
					wants := contains(tc.want, c)
					if got := len(fromNode[c]) > 0; got != wants {
						t.Errorf("official emitter: client %s received %q, want it to receive: %v", c, fromNode[c], wants)
					}
					if strings.Join(fromGo[c], "\n") != strings.Join(fromNode[c], "\n") {
						t.Errorf("client %s received\n%q from ours,\n%q from the official emitter", c, fromGo[c], fromNode[c])
					}
				}
				if fmt.Sprint(goMsgs) != fmt.Sprint(nodeMsgs) {
					t.Errorf("our emitter published\n%q,\nthe official one\n%q", goMsgs, nodeMsgs)
				}
			})
		}
		// Requests: the same bytes as the official emitter's.
		for _, tc := range []struct {
			name string
			node map[string]any
			ours func() error
		}{
			{"socketsJoin", map[string]any{"op": "socketsJoin", "to": []string{"r2"}, "rooms": []string{"e1", "e2"}},
				func() error { return em.To("r2").SocketsJoin(ctx, "e1", "e2") }},
			{"socketsLeave", map[string]any{"op": "socketsLeave", "except": []string{"r1"}, "rooms": []string{"e2"}},
				func() error { return em.Except("r1").SocketsLeave(ctx, "e2") }},
			{"disconnectSockets", map[string]any{"op": "disconnectSockets", "to": []string{"nobody"}, "close": true},
				func() error { return em.To("nobody").DisconnectSockets(ctx, true) }},
			{"serverSideEmit", map[string]any{"op": "serverSideEmit", "args": []any{jv("sse").js, jv(1).js, buf(1, 2).js, date(5).js}},
				func() error { return em.ServerSideEmit(ctx, "sse", 1, []byte{1, 2}, time.UnixMilli(5)) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.node["cmd"] = "emitter-op"
				node.call(tc.node)
				node.drain()
				nodeMsgs := cp.untilSync(t)
				if err := tc.ours(); err != nil {
					t.Fatal(err)
				}
				node.drain()
				goMsgs := cp.untilSync(t)
				if len(nodeMsgs) != 1 || fmt.Sprint(goMsgs) != fmt.Sprint(nodeMsgs) {
					t.Errorf("our emitter published\n%q,\nthe official one\n%q", goMsgs, nodeMsgs)
				}
			})
		}
	})

	t.Run("node messages", func(t *testing.T) {
		ids := map[string]string{}
		json.Unmarshal(node.call(map[string]any{"cmd": "ids"})["ids"], &ids)
		args := []any{
			map[string]any{"t": "json", "v": 1},
			map[string]any{"t": "buf", "hex": "0102"},
			map[string]any{"t": "date", "ms": 1796156264687},
			map[string]any{"t": "obj", "fields": []any{[]any{"b", map[string]any{"t": "json", "v": 2.5}}, []any{"a", map[string]any{"t": "buf", "hex": ""}}}},
		}
		node.call(map[string]any{"cmd": "server", "op": "emit", "event": "n1", "args": args})
		node.call(map[string]any{"cmd": "server", "op": "emit", "event": "n2", "to": []string{"r1"}, "except": []string{"r3"}})
		node.call(map[string]any{"cmd": "server", "op": "emit", "event": "n3", "to": []string{"r1", ids["c2"]}})
		node.drain()

		// The fake Go node answers with client count 0.
		res := node.call(map[string]any{"cmd": "server", "op": "emitAck"})
		var ack struct {
			Responses []json.RawMessage
			Error     string
		}
		json.Unmarshal(res["result"], &ack)
		if ack.Error != "" || len(ack.Responses) != 3 {
			t.Errorf("emitWithAck across the Node node and the fake Go node = %s, want 3 responses and no error", res["result"])
		}

		res = node.call(map[string]any{"cmd": "server", "op": "fetchSockets"})
		var sockets []struct {
			ID        string
			Rooms     []string
			Handshake map[string]any
		}
		json.Unmarshal(res["result"], &sockets)
		found := false
		for _, s := range sockets {
			if s.ID == "gosocket" {
				found = s.Handshake["address"] == "127.0.0.9" && contains(s.Rooms, "go-room")
			}
		}
		if len(sockets) != 4 || !found {
			t.Errorf("fetchSockets = %s, want the 3 Node sockets and the fake Go node's", res["result"])
		}
		res = node.call(map[string]any{"cmd": "server", "op": "allRooms"})
		var rooms []string
		json.Unmarshal(res["result"], &rooms)
		if !contains(rooms, "go-room") || !contains(rooms, "r1") {
			t.Errorf("allRooms = %s, want r1 and go-room", res["result"])
		}
		res = node.call(map[string]any{"cmd": "server", "op": "serverSideEmitWithAck"})
		if string(res["result"]) != `{"responses":["go-reply"]}` {
			t.Errorf("serverSideEmitWithAck = %s, want the fake Go node's reply", res["result"])
		}
		node.call(map[string]any{"cmd": "server", "op": "serverSideEmit", "args": args[:1]})
		node.call(map[string]any{"cmd": "server", "op": "socketsJoin", "to": []string{"r2"}, "rooms": []string{"j1", "j2"}})
		node.call(map[string]any{"cmd": "server", "op": "socketsLeave", "to": []string{"r2"}, "rooms": []string{"j2"}})
		node.call(map[string]any{"cmd": "server", "op": "disconnectSockets", "to": []string{"nobody"}, "close": true})

		// The fake Go node's own requests, which the Node node answers.
		fake.request(t, &wire.Request{Type: wire.AllRooms, UID: "gofake", RequestID: "goreq1"})
		fake.request(t, &wire.Request{Type: wire.RemoteFetch, UID: "gofake", RequestID: "goreq2", Opts: &wire.Opts{Rooms: []string{"r2"}}})
		data, _ := wire.AppendEventData(nil, "ack-me", 7)
		fake.request(t, &wire.Request{Type: wire.BroadcastWithAck, UID: "gofake", RequestID: "goreq3",
			Packet: wire.Packet{Type: 2, Data: data, Namespace: "/"},
			Opts:   &wire.Opts{Rooms: []string{"r2"}, Flags: &wire.Flags{HasTimeout: true, Timeout: time.Second}}})
		fake.request(t, &wire.Request{Type: wire.ServerSideEmit, UID: "gofake", RequestID: "goreq4", Data: json.RawMessage(`["sse","from go"]`)})
		// The Node node's answers: rooms, sockets, count and ack, reply.
		fake.waitResponses(t, "goreq1", "goreq2", "goreq3", "goreq4")
		if got := fake.response("goreq3", wire.BroadcastAck); got == nil {
			t.Error("no BROADCAST_ACK from the Node node")
		} else if j, _, _ := wire.AppendJSON(nil, nil, got.Packet, nil); string(j) != `{"from":"c2","x":7}` {
			t.Errorf("BROADCAST_ACK packet = %s", j)
		}
		if got := fake.response("goreq3", wire.BroadcastClientCount); got == nil || got.ClientCount != 1 {
			t.Errorf("BROADCAST_CLIENT_COUNT = %+v, want 1", got)
		}
		if got := fake.response("goreq2", -1); got == nil || len(got.Sockets) != 1 || got.Sockets[0].ID != ids["c2"] {
			t.Errorf("REMOTE_FETCH response = %+v, want c2", got)
		} else {
			var h map[string]any
			if err := json.Unmarshal(got.Sockets[0].Handshake, &h); err != nil || h["address"] == nil || h["query"] == nil || h["auth"] == nil {
				t.Errorf("REMOTE_FETCH handshake = %s", got.Sockets[0].Handshake)
			}
		}
		if got := fake.response("goreq4", wire.ServerSideEmit); got == nil || string(got.Data) != `"node-reply"` {
			t.Errorf("SERVER_SIDE_EMIT response = %+v", got)
		}
	})

	// Everything published in this test decodes and encodes again to the
	// same bytes.
	counts := map[string]int{}
	for _, m := range cp.everything() {
		var again []byte
		var kind string
		switch {
		case strings.HasPrefix(m.channel, "socket.io#"):
			b, err := wire.ParseBroadcast([]byte(m.payload), nil)
			if err != nil {
				t.Errorf("ParseBroadcast(%x) on %s: %v", m.payload, m.channel, err)
				continue
			}
			kind, again = "broadcast", wire.AppendBroadcast(nil, b)
		case strings.HasPrefix(m.channel, "socket.io-request#"):
			r, err := wire.ParseRequest([]byte(m.payload), nil)
			if err != nil {
				t.Errorf("ParseRequest(%q): %v", m.payload, err)
				continue
			}
			kind, again = "request "+r.Type.String(), wire.AppendRequest(nil, r)
		case strings.HasPrefix(m.channel, "socket.io-response#"):
			r, err := wire.ParseResponse([]byte(m.payload), nil)
			if err != nil {
				t.Errorf("ParseResponse(%q): %v", m.payload, err)
				continue
			}
			kind, again = "response", wire.AppendResponse(nil, r)
		default:
			t.Errorf("a message on %s", m.channel)
			continue
		}
		counts[kind]++
		if !bytes.Equal(again, []byte(m.payload)) {
			t.Errorf("%s on %s: decoded and encoded again\n%q, published\n%q", kind, m.channel, again, m.payload)
		}
	}
	t.Logf("decoded and re-encoded to the same bytes: %v", counts)
	for _, k := range []string{"broadcast", "request ALL_ROOMS", "request REMOTE_FETCH", "request REMOTE_JOIN", "request REMOTE_LEAVE", "request REMOTE_DISCONNECT", "request SERVER_SIDE_EMIT", "request BROADCAST", "response"} {
		if counts[k] == 0 {
			t.Errorf("no %s was published", k)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// fakeNode is a stand-in Go node: subscribed to the request and response
// channels of "/", so that Node nodes count it and ask it, and answering
// with wire's messages.
type fakeNode struct {
	pub  *redis.Client
	mu   sync.Mutex
	resp []*wire.Response
	cond *sync.Cond
}

func startFakeNode(t *testing.T, srv *redistest.Server) *fakeNode {
	ch := wire.Channels{}
	f := &fakeNode{pub: srv.Client(t)}
	f.cond = sync.NewCond(&f.mu)
	ps := srv.Client(t).Subscribe(context.Background(), ch.Request(), ch.Response())
	for range 2 {
		if _, err := ps.Receive(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		for m := range ps.Channel() {
			if m.Channel == ch.Response() {
				r, err := wire.ParseResponse([]byte(m.Payload), nil)
				if err != nil {
					t.Errorf("fake node: bad response %q: %v", m.Payload, err)
					continue
				}
				f.mu.Lock()
				f.resp = append(f.resp, r)
				f.cond.Broadcast()
				f.mu.Unlock()
				continue
			}
			r, err := wire.ParseRequest([]byte(m.Payload), nil)
			if err != nil {
				t.Errorf("fake node: bad request %q: %v", m.Payload, err)
				continue
			}
			if r.UID == "gofake" {
				continue
			}
			var answer *wire.Response
			switch {
			case r.Type == wire.AllRooms:
				answer = &wire.Response{Type: wire.AllRooms, RequestID: r.RequestID, Rooms: []string{"gosocket", "go-room"}}
			case r.Type == wire.RemoteFetch:
				hs := wire.AppendHandshake(nil, &wire.Handshake{Address: "127.0.0.9", Time: time.Now(), Issued: time.Now(), URL: "/socket.io/?EIO=4&transport=websocket"})
				answer = &wire.Response{Type: wire.RemoteFetch, RequestID: r.RequestID, Sockets: []wire.RemoteSocket{{ID: "gosocket", Handshake: hs, Rooms: []string{"gosocket", "go-room"}, Data: json.RawMessage(`{}`)}}}
			case r.Type == wire.ServerSideEmit && r.RequestID != "":
				answer = &wire.Response{Type: wire.ServerSideEmit, RequestID: r.RequestID, Data: json.RawMessage(`"go-reply"`)}
			case r.Type == wire.BroadcastWithAck:
				answer = &wire.Response{Type: wire.BroadcastClientCount, RequestID: r.RequestID, ClientCount: 0}
			}
			if answer != nil {
				f.pub.Publish(context.Background(), ch.Response(), wire.AppendResponse(nil, answer))
			}
		}
	}()
	t.Cleanup(func() { ps.Close() })
	return f
}

func (f *fakeNode) request(t *testing.T, r *wire.Request) {
	if err := f.pub.Publish(context.Background(), wire.Channels{}.Request(), wire.AppendRequest(nil, r)).Err(); err != nil {
		t.Fatal(err)
	}
}

// response returns the response to requestID of type typ, if it came.
func (f *fakeNode) response(requestID string, typ wire.RequestType) *wire.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.resp {
		if r.RequestID == requestID && (typ == -1 || r.Type == typ) {
			return r
		}
	}
	return nil
}

// waitResponses waits until a response to each request id has come, and
// the BROADCAST's acknowledgement too.
func (f *fakeNode) waitResponses(t *testing.T, ids ...string) {
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { f.mu.Lock(); f.cond.Broadcast(); f.mu.Unlock() })
	defer timer.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		missing := ""
		for _, id := range ids {
			n := 0
			for _, r := range f.resp {
				if r.RequestID == id {
					n++
				}
			}
			if n == 0 || id == "goreq3" && n < 2 {
				missing = id
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("no response to %s within 10 s", missing)
			return
		}
		f.cond.Wait()
	}
}
