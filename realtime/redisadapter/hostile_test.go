package redisadapter

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
	"github.com/wirelevel/ws/realtime/socketio"
)

func mustHex(s string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// hostileMessages are messages a node must drop, each reported (report)
// or silently ignored as the Node adapter ignores it.
var hostileMessages = []struct {
	name    string
	channel string // "b" broadcast, "r1" room r1, "q" request, "s" response
	payload string
	report  bool
}{
	{"empty broadcast", "b", "", true},
	{"never-used byte", "b", "\xc1", true},
	{"JSON broadcast", "b", `["x",{"type":2,"data":["ev"],"nsp":"/"},{}]`, true},
	{"two elements", "b", mustHex("92 a1 78 80"), true},
	{"no opts", "b", mustHex("93 a1 78 83 a4 74797065 02 a4 64617461 91 a2 6576 a3 6e7370 a1 2f c0"), true},
	{"disconnect packet", "b", mustHex("93 a1 78 82 a4 74797065 01 a3 6e7370 a1 2f 80"), true},
	{"reserved event", "b", mustHex("93 a1 78 83 a4 74797065 02 a4 64617461 91 a7 636f6e6e656374 a3 6e7370 a1 2f 80"), true},
	{"data not an array", "b", mustHex("93 a1 78 83 a4 74797065 02 a4 64617461 05 a3 6e7370 a1 2f 80"), true},
	{"event name a map", "b", mustHex("93 a1 78 83 a4 74797065 02 a4 64617461 91 80 a3 6e7370 a1 2f 80"), true},
	{"str32 of 4 GiB announced", "b", mustHex("93 db ffffffff 41"), true},
	{"bin32 of 4 GiB announced", "r1", mustHex("93 a1 78 83 a4 74797065 02 a4 64617461 92 a2 6576 c6 ffffffff a3 6e7370 a1 2f 80"), true},
	{"array32 of 2^32-1 announced", "b", mustHex("dd ffffffff"), true},
	{"map32 announced", "r1", mustHex("93 a1 78 df ffffffff"), true},
	{"nested 1000 deep", "b", "\x93\xa1x" + strings.Repeat("\x91", 1000), true},
	{"other namespace", "b", mustHex("93 a1 78 83 a4 74797065 02 a4 64617461 91 a2 6576 a3 6e7370 a5 2f6368617a 80"), false},
	{"room nobody is in", "b#nobody", "\xc1", false},
	{"broken JSON request", "q", `{"type":`, true},
	{"request type a string", "q", `{"type":"5"}`, true},
	{"fetch without requestId", "q", `{"uid":"z","type":5,"opts":{"rooms":[],"except":[]}}`, true},
	{"broadcast request without opts", "q", mustHex("84 a3 756964 a1 7a a9 72657175657374 4964 a1 71 a4 74797065 07 a6 7061636b6574 83 a4 74797065 02 a4 64617461 91 a2 6576 a3 6e7370 a1 2f"), true},
	{"join rooms as objects", "q", `{"uid":"z","type":2,"opts":{"rooms":[{}],"except":[]},"rooms":["x"]}`, true},
	{"server-side event not an array", "q", `{"uid":"z","type":6,"data":5}`, true},
	{"server-side event reserved", "q", `{"uid":"z","type":6,"data":["connect"]}`, true},
	{"unknown request type", "q", `{"uid":"z","type":42}`, false},
	{"msgpack request junk", "q", "\x85\xa3uid", true},
	{"broken JSON response", "s", `{"requestId":`, true},
	{"response to no one", "s", `{"requestId":"nobody","sockets":[]}`, false},
}

// TestHostileMessages publishes malformed and hostile messages on every
// channel of a node: each is dropped (and reported, unless the Node
// adapter ignores such a message as well), the clients receive nothing,
// and the node goes on working.
func TestHostileMessages(t *testing.T) {
	rs := redistest.Start(t)
	n := startGoNode(t, rs, "A", nil)
	a1 := dialGo(t, n, "a1", "/", "r1", client.WebSocket)
	rdb := rs.Client(t)
	ch := wire.Channels{}
	em := NewEmitter(rdb, nil)
	ctx := context.Background()
	for _, tc := range hostileMessages {
		t.Run(tc.name, func(t *testing.T) {
			before := len(n.errors())
			channel := map[string]string{"b": ch.Broadcast(), "r1": ch.Room("r1"), "q": ch.Request(), "s": ch.Response()}[tc.channel]
			if rest, ok := strings.CutPrefix(tc.channel, "b#"); ok {
				channel = ch.Room(rest)
			}
			if err := rdb.Publish(ctx, channel, tc.payload).Err(); err != nil {
				t.Fatal(err)
			}
			// The emitter's "sync" comes after it on the same subscriber
			// connection: once a1 has it, the message was handled.
			em.Emit(ctx, "sync", tc.name)
			if got := a1.until(t, tc.name); len(got) != 0 {
				t.Errorf("the client received %q", got)
			}
			var reported []error
			time.Sleep(10 * time.Millisecond) // server-side events run on the namespace's goroutine
			for _, err := range n.errors()[before:] {
				var me *MessageError
				if !errors.As(err, &me) || me.Channel != channel {
					t.Errorf("reported %v, want a MessageError on %s", err, channel)
				}
				reported = append(reported, err)
			}
			if got := len(reported) > 0; got != tc.report || len(reported) > 1 {
				t.Errorf("reported %v, want a report: %v", reported, tc.report)
			}
		})
	}
	// Still working.
	n.ns("/").Emit("ev", "still here")
	if got := syncAll(t, n, "/", "end", a1)["a1"]; !slices.Equal(got, []string{`ev "still here"`}) {
		t.Errorf("after the hostile messages the client received %q", got)
	}
	if st := n.cl.Stats(); st.Malformed == 0 || !st.Subscribed {
		t.Errorf("stats %+v", st)
	}
}

// fuzzNode is the node FuzzAdapterMessage feeds: a server whose adapter's
// message handlers are called directly, with no Redis (what it publishes
// fails, quietly), and a fake socket in room r1 so that room broadcasts
// are decoded.
type fuzzNode struct {
	cl *Cluster
	a  *Adapter
}

var (
	fuzzOnce sync.Once
	fuzzN    *fuzzNode
)

func newFuzzNode() *fuzzNode {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 10 * time.Millisecond})
	cl := New(rdb, &Options{RequestsTimeout: 50 * time.Millisecond, Limits: &wire.Limits{MaxSize: 1 << 16, MaxValues: 4096, MaxAttachments: 16}})
	srv := realtime.NewServer(&realtime.Options{NewAdapter: cl.NewAdapter})
	srv.Of("/").OnServerSideEmit("sse", func(e *realtime.ServerSideEvent) {
		if e.WantsAck() {
			e.Ack("x")
		}
	})
	return &fuzzNode{cl: cl, a: srv.Of("/").Adapter().(*Adapter)}
}

// FuzzAdapterMessage hands arbitrary messages to a node's handlers, on
// every kind of channel, with requests of every type waiting for answers:
// none may panic, and the node's state stays bounded (what a message joins
// is undone before the next).
func FuzzAdapterMessage(f *testing.F) {
	ch := wire.Channels{}
	data, _ := wire.AppendEventData(nil, "ev", 1, []byte{2}, time.UnixMilli(3))
	pkt := wire.Packet{Type: socketio.Event, Data: data, Namespace: "/"}
	seeds := map[byte][][]byte{
		0: {wire.AppendBroadcast(nil, &wire.Broadcast{UID: "x", Packet: pkt, Opts: wire.Opts{Rooms: []string{"r1"}, Except: []string{"r2"}, Flags: &wire.Flags{Volatile: true}}})},
		2: {
			wire.AppendRequest(nil, &wire.Request{Type: wire.RemoteFetch, UID: "x", RequestID: "q1", Opts: &wire.Opts{}}),
			wire.AppendRequest(nil, &wire.Request{Type: wire.AllRooms, UID: "x", RequestID: "q2"}),
			wire.AppendRequest(nil, &wire.Request{Type: wire.Sockets, UID: "x", RequestID: "q3", Rooms: []string{"r1"}}),
			wire.AppendRequest(nil, &wire.Request{Type: wire.RemoteJoin, UID: "x", Opts: &wire.Opts{Rooms: []string{"r1"}}, Rooms: []string{"j"}}),
			wire.AppendRequest(nil, &wire.Request{Type: wire.RemoteDisconnect, Opts: &wire.Opts{}, Close: true}),
			wire.AppendRequest(nil, &wire.Request{Type: wire.ServerSideEmit, UID: "x", RequestID: "q4", Data: []byte(`["sse",1]`)}),
			wire.AppendRequest(nil, &wire.Request{Type: wire.BroadcastWithAck, UID: "x", RequestID: "q5", Packet: pkt, Opts: &wire.Opts{Flags: &wire.Flags{HasTimeout: true, Timeout: time.Second}}}),
			[]byte(`{"requestId":"q","type":2,"sid":"fake","room":"x"}`),
		},
		3: {
			wire.AppendResponse(nil, &wire.Response{Type: wire.RemoteFetch, RequestID: "fuzz01", Sockets: []wire.RemoteSocket{{ID: "s", Handshake: []byte(`{"address":"1.2.3.4","headers":{"a":"b"},"query":{"EIO":"4"},"issued":5}`), Rooms: []string{"s"}, Data: []byte(`{"a":1}`)}}}),
			wire.AppendResponse(nil, &wire.Response{Type: wire.AllRooms, RequestID: "fuzz01", Rooms: []string{"r"}}),
			wire.AppendResponse(nil, &wire.Response{Type: wire.Sockets, RequestID: "fuzz01", SocketIDs: []string{"s"}}),
			wire.AppendResponse(nil, &wire.Response{Type: wire.ServerSideEmit, RequestID: "fuzz01", Data: []byte(`"r"`)}),
			wire.AppendResponse(nil, &wire.Response{Type: wire.BroadcastClientCount, RequestID: "fuzz02", ClientCount: 3}),
			wire.AppendResponse(nil, &wire.Response{Type: wire.BroadcastAck, RequestID: "fuzz02", Packet: data}),
		},
	}
	for kind, ss := range seeds {
		for _, s := range ss {
			f.Add(kind, s)
			if kind == 3 {
				for k := byte(4); k < 8; k++ {
					f.Add(k, s) // with each type of request waiting
				}
			}
		}
	}
	f.Add(byte(1), []byte("\x93\xa1x\x83\xa4type\x02\xa4data\x91\xa2ev\xa3nsp\xa1/\x80"))
	fuzzOnce.Do(func() { fuzzN = newFuzzNode() })
	n := fuzzN
	a := n.a
	types := []wire.RequestType{wire.RemoteFetch, wire.AllRooms, wire.Sockets, wire.ServerSideEmit}
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		a.MemoryAdapter.AddAll("fake", []string{"fake", "r1"})
		a.mu.Lock()
		a.requests["fuzz01"] = &pending{typ: types[kind%4], expected: 2, done: make(chan struct{})}
		a.acks["fuzz02"] = &ackRequest{clientCount: func(int) {}, ack: func(socketio.Args) {}}
		a.mu.Unlock()
		switch kind % 5 {
		case 0:
			a.onBroadcast(ch.Broadcast(), b)
		case 1:
			a.onBroadcast(ch.Room("r1"), b)
		case 2:
			a.onChannelMessage(ch.Request(), b)
		case 3:
			a.onChannelMessage(ch.Response(), b)
		case 4:
			a.onChannelMessage(ch.NodeResponse(a.uid), b)
		}
		a.mu.Lock()
		delete(a.requests, "fuzz01")
		delete(a.acks, "fuzz02")
		a.mu.Unlock()
		a.MemoryAdapter.DelAll("fake")
		for _, r := range a.MemoryAdapter.Rooms() {
			t.Fatalf("room %q left after the message", r)
		}
	})
}
