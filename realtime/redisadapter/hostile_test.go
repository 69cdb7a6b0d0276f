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

// hostileClusterMessages are ClusterAdapter messages a node of the
// sharded or streams mode must drop, each reported (report) or silently
// ignored as the Node adapter ignores it. In the streams mode they go to
// the stream as an entry's data (type from the message, "3" for junk) and
// on pub/sub.
var hostileClusterMessages = []struct {
	name    string
	typ     string // the stream entry's type
	payload string
	report  bool
}{
	{"empty", "3", "", true},
	{"never-used byte", "3", "\xc1", true},
	{"broken JSON", "3", `{"type":3,"data":{`, true},
	{"data not an object", "3", `{"type":3,"data":[1],"uid":"z","nsp":"/"}`, true},
	{"broadcast without opts", "3", `{"type":3,"data":{"packet":{"type":2,"data":["ev"]}},"uid":"z","nsp":"/"}`, true},
	{"broadcast without packet data", "3", `{"type":3,"data":{"packet":{"type":2},"opts":{"rooms":[],"except":[]}},"uid":"z","nsp":"/"}`, true},
	{"connect packet", "3", `{"type":3,"data":{"packet":{"type":0,"data":{}},"opts":{"rooms":[],"except":[]}},"uid":"z","nsp":"/"}`, true},
	{"reserved event", "3", `{"type":3,"data":{"packet":{"type":2,"data":["disconnect"]},"opts":{"rooms":[],"except":[]}},"uid":"z","nsp":"/"}`, true},
	{"rooms as objects", "4", `{"type":4,"data":{"opts":{"rooms":[{}],"except":[]},"rooms":["x"]},"uid":"z","nsp":"/"}`, true},
	{"fetch without requestId", "7", `{"type":7,"data":{"opts":{"rooms":[],"except":[]}},"uid":"z","nsp":"/"}`, true},
	{"server-side event not an array", "9", `{"type":9,"data":{"packet":5},"uid":"z","nsp":"/"}`, true},
	{"server-side event with binary", "9", "\x84\xa4type\x09\xa4data\x81\xa6packet\x92\xa3sse\xc4\x01\x00\xa3uid\xa1z\xa3nsp\xa1/", true},
	{"bin32 of 4 GiB announced", "3", "\x84\xa4type\x03\xa4data\x82\xa6packet\x82\xa4type\x02\xa4data\x92\xa2ev\xc6\xff\xff\xff\xff\xa4opts\x80\xa3uid\xa1z\xa3nsp\xa1/", true},
	{"nested 1000 deep", "3", `{"type":3,"data":{"packet":{"type":2,"data":` + strings.Repeat("[", 1000) + `}}}`, true},
	{"no namespace", "3", `{"type":3,"data":{"packet":{"type":2,"data":["ev"]},"opts":{"rooms":[],"except":[]}},"uid":"z"}`, false},
	{"other namespace", "3", `{"type":3,"data":{"packet":{"type":2,"data":["ev"]},"opts":{"rooms":[],"except":[]}},"uid":"z","nsp":"/chaz"}`, false},
	{"unknown type", "42", `{"type":42,"data":{},"uid":"z","nsp":"/"}`, false},
	{"response to no one", "8", `{"type":8,"data":{"requestId":"nobody","sockets":[]},"uid":"z","nsp":"/"}`, false},
}

// TestHostileClusterMessages sends malformed and hostile messages to a
// node of the sharded mode (on its channels) and of the streams mode (on
// pub/sub, and in its stream, the data as Node writes it there, base64
// for msgpack): each is dropped, and reported unless the Node adapter
// ignores such a message too; the client receives nothing; the node goes
// on working.
func TestHostileClusterMessages(t *testing.T) {
	forModes(t, testHostileClusterMessages, "sharded", "streams")
}

func testHostileClusterMessages(t *testing.T, opts *Options) {
	rs := redistest.Start(t)
	n := startGoNode(t, rs, "A", opts)
	a1 := dialGo(t, n, "a1", "/", "r1", client.WebSocket)
	rdb := rs.Client(t)
	ctx := context.Background()
	ch := wire.Channels{}
	a := n.srv.Of("/").Adapter().(*ClusterAdapter)
	// sync is a valid broadcast from another node, sent after a hostile
	// message by the same path: once a1 has it, that one was handled.
	sync := func(tag string) *wire.Message {
		data, _ := wire.AppendEventData(nil, "sync", tag)
		return &wire.Message{Type: wire.MsgBroadcast, UID: "0000000000000000", Namespace: "/",
			Packet: wire.Packet{Type: socketio.Event, Data: data}, Opts: &wire.Opts{}}
	}
	type path struct {
		name    string
		channel string
		send    func(payload, typ string) error
		sync    func(tag string) error
	}
	var paths []path
	if opts.Sharded != nil {
		for _, channel := range []string{ch.Broadcast(), ch.Room("r1"), ch.Room(a.UID())} {
			paths = append(paths, path{channel, channel,
				func(p, _ string) error { return rdb.SPublish(ctx, channel, p).Err() },
				func(tag string) error {
					return rdb.SPublish(ctx, ch.Broadcast(), wire.AppendMessage(nil, sync(tag))).Err()
				}})
		}
		// Responses go to a node's own channel: sync there is a response
		// to no one, so use the main channel, after a PING round trip.
		paths[2].sync = func(tag string) error {
			rdb.Ping(ctx)
			return rdb.SPublish(ctx, ch.Broadcast(), wire.AppendMessage(nil, sync(tag))).Err()
		}
	} else {
		paths = append(paths, path{"pub/sub", ch.Broadcast(),
			func(p, _ string) error { return rdb.Publish(ctx, ch.Broadcast(), p).Err() },
			func(tag string) error {
				m := sync(tag)
				m.RequestID = "r" // with acknowledgements, to go by pub/sub; no one waits for them
				return rdb.Publish(ctx, ch.Broadcast(), wire.AppendMessageMsgpack(nil, m)).Err()
			}})
		paths = append(paths, path{"stream", DefaultStreamName,
			func(p, typ string) error {
				data := ""
				switch {
				case strings.HasPrefix(p, `{"type":`):
					if i := strings.Index(p, `"data":`); i >= 0 {
						data = p[i+len(`"data":`):]
						if j := strings.LastIndex(data, `,"uid"`); j >= 0 {
							data = data[:j]
						}
					} else {
						data = p
					}
				default:
					data = base64Std(p)
				}
				nsp := "/"
				switch {
				case strings.Contains(p, `"nsp":"/chaz"`):
					nsp = "/chaz"
				case strings.HasSuffix(p, `"uid":"z"}`): // "no namespace"
					nsp = "" // skipped, as the Node adapter skips it
				}
				return rdb.XAdd(ctx, &redis.XAddArgs{Stream: DefaultStreamName, Values: []string{"uid", "z", "nsp", nsp, "type", typ, "data", data}}).Err()
			},
			func(tag string) error {
				e := wire.NewStreamEntry(sync(tag), false)
				return rdb.XAdd(ctx, &redis.XAddArgs{Stream: DefaultStreamName, Values: e.Values()}).Err()
			}})
	}
	for _, p := range paths {
		for _, tc := range hostileClusterMessages {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				before := len(n.errors())
				if err := p.send(tc.payload, tc.typ); err != nil {
					t.Fatal(err)
				}
				tag := p.name + "/" + tc.name
				if err := p.sync(tag); err != nil {
					t.Fatal(err)
				}
				if got := a1.until(t, tag); len(got) != 0 {
					t.Errorf("the client received %q", got)
				}
				time.Sleep(10 * time.Millisecond) // server-side events run on the namespace's goroutine
				var reported []error
				for _, err := range n.errors()[before:] {
					var me *MessageError
					if !errors.As(err, &me) {
						t.Errorf("reported %v, want a MessageError", err)
					}
					reported = append(reported, err)
				}
				// A message a stream entry cannot carry (no data, or
				// junk that is not base64 of an object) is reported too;
				// a response to no one on pub/sub may be silent.
				want := tc.report
				if p.channel == ch.Room(a.UID()) {
					// The sharded mode takes what comes on a node's own
					// channel as a response, and ignores what is not one,
					// as the Node adapter does: only what does not decode
					// is reported.
					_, err := wire.ParseMessage([]byte(tc.payload), nil)
					want = err != nil
				}
				if got := len(reported) > 0; got != want || len(reported) > 1 {
					if !(p.name == "stream" && !tc.report && got) {
						t.Errorf("reported %v, want a report: %v", reported, want)
					}
				}
			})
		}
	}
	n.ns("/").To("r1").Emit("ev", "still here")
	if err := paths[0].sync("end"); err != nil {
		t.Fatal(err)
	}
	if got := a1.until(t, "end"); !slices.Equal(got, []string{`ev "still here"`}) {
		t.Errorf("after the hostile messages the client received %q", got)
	}
	if st := n.cl.Stats(); st.Malformed == 0 || !st.Subscribed {
		t.Errorf("stats %+v", st)
	}
}
