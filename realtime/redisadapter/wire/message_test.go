package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime/socketio"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Golden vectors: bytes captured from Node nodes (research note
// socketio-redis-adapter.md, section 1), and messages written in the
// shapes captured there.
var (
	// io.emit("hello", 1, "two", {three: 3.5, d: new Date(0)}, Buffer.from([1,2,3])),
	// 90 bytes on socket.io#/#.
	goldenEmit = `93 a6 5f6235466872
		83 a4 74797065 02 a4 64617461 95 a5 68656c6c6f 01 a3 74776f
		   82 a5 7468726565 cb 400c000000000000 a1 64 d6 ff 00000000
		   c4 03 010203
		   a3 6e7370 a1 2f
		83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80`
	// The emitter's e.to("r1").volatile.emit("ev", 1): opts keys in the
	// emitter's order.
	goldenEmitter = `93 a7 656d6974746572
		83 a4 74797065 02 a4 64617461 92 a2 6576 01 a3 6e7370 a1 2f
		83 a5 726f6f6d73 91 a2 7231 a5 666c616773 81 a8 766f6c6174696c65 c3 a6 657863657074 90`
	// io.timeout(1000).emit("ack-me", 7, cb): the BROADCAST request, 108 bytes.
	goldenBroadcastAck = `85 a3 756964 a6 5f6235466872 a9 726571756573744964 a6 36305f39326e a4 74797065 07
		a6 7061636b6574 83 a4 74797065 02 a4 64617461 92 a6 61636b2d6d65 07 a3 6e7370 a1 2f
		a4 6f707473 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 81 a7 74696d656f7574 cd 03e8`
	// A client's ack {from: "c2", x: 7} as BROADCAST_ACK.
	goldenAck = `83 a4 74797065 09 a9 726571756573744964 a6 36305f39326e a6 7061636b6574 82 a4 66726f6d a2 6332 a1 78 07`
)

func TestBroadcastGolden(t *testing.T) {
	b := unhex(t, goldenEmit)
	if len(b) != 90 {
		t.Fatalf("golden emit is %d bytes, the capture 90", len(b))
	}
	m, err := ParseBroadcast(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.UID != "_b5Fhr" || m.Packet.Type != socketio.Event || m.Packet.NamespaceOf() != "/" || len(m.Opts.Rooms) != 0 || m.Opts.Flags == nil {
		t.Errorf("ParseBroadcast(%x) = %+v", b, m)
	}
	p, err := m.Packet.SocketIO(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `["hello",1,"two",{"three":3.5,"d":"1970-01-01T00:00:00.000Z"},{"_placeholder":true,"num":0}]`
	if string(p.Data) != want || p.Type != socketio.BinaryEvent || len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Errorf("SocketIO() = %v %s %x, want BINARY_EVENT %s [010203]", p.Type, p.Data, p.Attachments, want)
	}
	if got := AppendBroadcast(nil, m); !bytes.Equal(got, b) {
		t.Errorf("AppendBroadcast(ParseBroadcast(x)) = %x, want x = %x", got, b)
	}
	// Built in Go: the same call.
	data, err := AppendEventData(nil, "hello", 1, "two", Object{{"three", 3.5}, {"d", time.Unix(0, 0)}}, []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	built := &Broadcast{UID: "_b5Fhr", Packet: Packet{Type: socketio.Event, Data: data, Namespace: "/"}}
	if got := AppendBroadcast(nil, built); !bytes.Equal(got, b) {
		t.Errorf("AppendBroadcast(built) =\n%x, want\n%x", got, b)
	}
}

func TestBroadcastEmitterGolden(t *testing.T) {
	b := unhex(t, goldenEmitter)
	m, err := ParseBroadcast(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.UID != EmitterUID || len(m.Opts.Rooms) != 1 || m.Opts.Rooms[0] != "r1" || !m.Opts.Flags.Volatile {
		t.Errorf("ParseBroadcast(%x) = %+v", b, m)
	}
	if got := AppendBroadcast(nil, m); !bytes.Equal(got, b) {
		t.Errorf("AppendBroadcast(ParseBroadcast(x)) = %x, want x = %x", got, b)
	}
	ch := Channels{}
	if got := ch.For(&m.Opts); got != "socket.io#/#r1#" {
		t.Errorf("Channels.For = %q", got)
	}
}

// TestBroadcastTolerance feeds what a Node node accepts by hand (research
// note, 1.4): type as int64, no nsp, no except, no flags.
func TestBroadcastTolerance(t *testing.T) {
	b := unhex(t, `93 a1 78 82 a4 74797065 d3 0000000000000002 a4 64617461 92 a1 65 c4 02 0102 81 a5 726f6f6d73 90`)
	m, err := ParseBroadcast(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Packet.Type != socketio.Event || m.Packet.Namespace != "" || m.Packet.NamespaceOf() != "/" || m.Opts.Flags != nil {
		t.Errorf("ParseBroadcast = %+v", m)
	}
	if got := AppendBroadcast(nil, m); !bytes.Equal(got[:3], b[:3]) || len(got) == 0 {
		t.Errorf("AppendBroadcast = %x", got)
	}
	for _, bad := range []string{
		`92 a1 78 80`,                      // no opts: a Node node throws
		`93 a1 78 80 c0`,                   // opts nil
		`93 01 80 80`,                      // uid not a string
		`93 a1 78 a1 78 80`,                // packet not a map
		`93 a1 78 81 a4 74797065 a1 78 80`, // type not a number
		`93 a1 78 80 80 c0`,                // trailing byte
		`dd ffffffff`,
	} {
		if m, err := ParseBroadcast(unhex(t, bad), nil); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseBroadcast(%s) = %+v, %v; want ErrMalformed", bad, m, err)
		}
	}
}

func TestRequestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire string
		want func(r *Request) bool
	}{
		{"ALL_ROOMS", `{"uid":"IHaavo","requestId":"M5UqV8","type":1}`,
			func(r *Request) bool { return r.Type == AllRooms && r.UID == "IHaavo" && r.RequestID == "M5UqV8" }},
		{"REMOTE_JOIN", `{"uid":"IHaavo","type":2,"opts":{"rooms":["r1"],"except":[]},"rooms":["j1","j2"]}`,
			func(r *Request) bool {
				return r.Type == RemoteJoin && r.Opts.Rooms[0] == "r1" && len(r.Opts.Except) == 0 && r.Rooms[1] == "j2"
			}},
		{"REMOTE_LEAVE", `{"uid":"IHaavo","type":3,"opts":{"rooms":["r1"],"except":[]},"rooms":["j2"]}`,
			func(r *Request) bool { return r.Type == RemoteLeave && r.Rooms[0] == "j2" }},
		{"REMOTE_DISCONNECT", `{"uid":"IHaavo","type":4,"opts":{"rooms":["j1"],"except":[]},"close":false}`,
			func(r *Request) bool { return r.Type == RemoteDisconnect && !r.Close && r.Opts.Rooms[0] == "j1" }},
		{"REMOTE_FETCH", `{"uid":"_b5Fhr","requestId":"sK8Uwe","type":5,"opts":{"rooms":[],"except":[]}}`,
			func(r *Request) bool { return r.Type == RemoteFetch && r.RequestID == "sK8Uwe" && r.Opts != nil }},
		{"SERVER_SIDE_EMIT", `{"uid":"IHaavo","type":6,"data":["sse",1,"a"]}`,
			func(r *Request) bool {
				return r.Type == ServerSideEmit && r.RequestID == "" && string(r.Data) == `["sse",1,"a"]`
			}},
		{"SERVER_SIDE_EMIT with ack", `{"uid":"IHaavo","requestId":"GFYKgI","type":6,"data":["sse2",1]}`,
			func(r *Request) bool { return r.RequestID == "GFYKgI" }},
		{"SOCKETS", `{"uid":"IHaavo","requestId":"abcdef","type":0,"rooms":["r1"]}`,
			func(r *Request) bool { return r.Type == Sockets && r.Rooms[0] == "r1" }},
		{"emitter REMOTE_JOIN", `{"type":2,"opts":{"rooms":["r1"],"except":[]},"rooms":["r2"]}`,
			func(r *Request) bool { return r.UID == "" && r.Rooms[0] == "r2" }},
		{"emitter REMOTE_DISCONNECT", `{"type":4,"opts":{"rooms":[],"except":["x"]},"close":true}`,
			func(r *Request) bool { return r.Close && r.Opts.Except[0] == "x" }},
		{"emitter SERVER_SIDE_EMIT", `{"uid":"emitter","type":6,"data":["sse",1]}`,
			func(r *Request) bool { return r.UID == EmitterUID }},
		{"legacy REMOTE_JOIN", `{"requestId":"abcdef","type":2,"sid":"s1","room":"r9"}`,
			func(r *Request) bool { return r.SID == "s1" && r.Room == "r9" }},
		{"legacy REMOTE_DISCONNECT", `{"requestId":"abcdef","type":4,"sid":"s1","close":true}`,
			func(r *Request) bool { return r.SID == "s1" && r.Close }},
		{"BROADCAST", goldenBroadcastAck,
			func(r *Request) bool {
				return r.Type == BroadcastWithAck && r.UID == "_b5Fhr" && r.RequestID == "60_92n" &&
					r.Opts.Flags.HasTimeout && r.Opts.Flags.Timeout == time.Second && r.Packet.Type == socketio.Event
			}},
		{"unknown fields kept", `{"type":1,"zz":[1,{"a":null}],"uid":"u"}`,
			func(r *Request) bool { return r.UID == "u" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.wire)
			if tc.wire[0] != '{' {
				b = unhex(t, tc.wire)
			}
			r, err := ParseRequest(b, nil)
			if err != nil {
				t.Fatalf("ParseRequest(%s): %v", b, err)
			}
			if !tc.want(r) {
				t.Errorf("ParseRequest(%s) = %+v", b, r)
			}
			if got := AppendRequest(nil, r); !bytes.Equal(got, b) {
				t.Errorf("AppendRequest(ParseRequest(x)) =\n%s, want x =\n%s", got, b)
			}
			// The same request built in Go writes the same bytes
			// (the order is the Node adapter's for every type).
			built := *r
			built.fields = fields{}
			if tc.name == "unknown fields kept" {
				return
			}
			if got := AppendRequest(nil, &built); !bytes.Equal(got, b) {
				t.Errorf("AppendRequest(built) =\n%s, want\n%s", got, b)
			}
		})
	}
}

func TestResponseGolden(t *testing.T) {
	hs := `{"headers":{"host":"127.0.0.1:3000"},"time":"Tue Dec 01 2026 20:17:44 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1796156264687,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{}}`
	for _, tc := range []struct {
		name string
		typ  RequestType // the requester's
		wire string
		want func(r *Response) bool
	}{
		{"ALL_ROOMS", AllRooms, `{"requestId":"M5UqV8","rooms":["l1LpAAAB","r1","j1"]}`,
			func(r *Response) bool { return r.Type == AllRooms && len(r.Rooms) == 3 }},
		{"ALL_ROOMS none", AllRooms, `{"requestId":"M5UqV8","rooms":[]}`,
			func(r *Response) bool { return r.Type == AllRooms && len(r.Rooms) == 0 }},
		{"REMOTE_FETCH", RemoteFetch, `{"requestId":"sK8Uwe","sockets":[{"id":"l1LpAAAB","handshake":` + hs + `,"rooms":["l1LpAAAB","r1"],"data":{}}]}`,
			func(r *Response) bool {
				return r.Type == RemoteFetch && r.Sockets[0].ID == "l1LpAAAB" && string(r.Sockets[0].Handshake) == hs && string(r.Sockets[0].Data) == "{}"
			}},
		{"REMOTE_FETCH none", RemoteFetch, `{"requestId":"sK8Uwe","sockets":[]}`,
			func(r *Response) bool { return r.Type == RemoteFetch && len(r.Sockets) == 0 }},
		{"SOCKETS", Sockets, `{"requestId":"abcdef","sockets":["s1","s2"]}`,
			func(r *Response) bool { return r.Type == Sockets && r.SocketIDs[1] == "s2" }},
		{"SERVER_SIDE_EMIT", ServerSideEmit, `{"type":6,"requestId":"GFYKgI","data":"B-reply"}`,
			func(r *Response) bool { return string(r.Data) == `"B-reply"` }},
		{"SERVER_SIDE_EMIT no argument", ServerSideEmit, `{"type":6,"requestId":"GFYKgI"}`,
			func(r *Response) bool { return r.Data == nil }},
		{"BROADCAST_CLIENT_COUNT", BroadcastClientCount, `{"type":8,"requestId":"60_92n","clientCount":1}`,
			func(r *Response) bool { return r.ClientCount == 1 }},
		{"BROADCAST_CLIENT_COUNT zero", BroadcastClientCount, `{"type":8,"requestId":"60_92n","clientCount":0}`,
			func(r *Response) bool { return r.ClientCount == 0 }},
		{"BROADCAST_ACK", BroadcastAck, goldenAck,
			func(r *Response) bool {
				j, _, err := AppendJSON(nil, nil, r.Packet, nil)
				return err == nil && string(j) == `{"from":"c2","x":7}`
			}},
		{"legacy", RemoteJoin, `{"requestId":"abcdef"}`,
			func(r *Response) bool { return r.RequestID == "abcdef" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.wire)
			if tc.wire[0] != '{' {
				b = unhex(t, tc.wire)
			}
			r, err := ParseResponse(b, nil)
			if err != nil {
				t.Fatalf("ParseResponse(%s): %v", b, err)
			}
			if !tc.want(r) {
				t.Errorf("ParseResponse(%s) = %+v", b, r)
			}
			if got := AppendResponse(nil, r); !bytes.Equal(got, b) {
				t.Errorf("AppendResponse(ParseResponse(x)) =\n%s, want x =\n%s", got, b)
			}
			built := *r
			built.fields = fields{}
			built.Type = tc.typ
			for i := range built.Sockets {
				built.Sockets[i].fields = fields{}
			}
			if got := AppendResponse(nil, &built); !bytes.Equal(got, b) {
				t.Errorf("AppendResponse(built) =\n%s, want\n%s", got, b)
			}
		})
	}
}

// TestResponseFieldsAlwaysThere checks the traps of the research note
// (1.5): empty lists and a zero count are written, not left out.
func TestResponseFieldsAlwaysThere(t *testing.T) {
	for _, tc := range []struct {
		r    Response
		want string
	}{
		{Response{Type: RemoteFetch, RequestID: "a"}, `{"requestId":"a","sockets":[]}`},
		{Response{Type: AllRooms, RequestID: "a"}, `{"requestId":"a","rooms":[]}`},
		{Response{Type: Sockets, RequestID: "a"}, `{"requestId":"a","sockets":[]}`},
		{Response{Type: BroadcastClientCount, RequestID: "a"}, `{"type":8,"requestId":"a","clientCount":0}`},
		{Response{Type: RemoteFetch, RequestID: "a", Sockets: []RemoteSocket{{ID: "s"}}}, `{"requestId":"a","sockets":[{"id":"s","handshake":{},"rooms":[]}]}`},
	} {
		if got := AppendResponse(nil, &tc.r); string(got) != tc.want {
			t.Errorf("AppendResponse(%+v) = %s, want %s", tc.r, got, tc.want)
		}
	}
	req := Request{Type: RemoteFetch, UID: "u", RequestID: "r", Opts: &Opts{}}
	if got, want := string(AppendRequest(nil, &req)), `{"uid":"u","requestId":"r","type":5,"opts":{"rooms":[],"except":[]}}`; got != want {
		t.Errorf("AppendRequest = %s, want %s", got, want)
	}
}

func TestRequestMalformed(t *testing.T) {
	for _, bad := range []string{``, `{`, `{"uid":"x"}`, `{"type":"1"}`, `{"type":1.5}`, `{"type":1,"rooms":"ab"}`, `{"type":1,"opts":[]}`, `[1]`, `{"type":1,"uid":1}`} {
		if r, err := ParseRequest([]byte(bad), nil); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseRequest(%q) = %+v, %v; want ErrMalformed", bad, r, err)
		}
	}
	for _, bad := range []string{``, `{"requestId":1}`, `{"sockets":{}}`, `{"clientCount":"1"}`, "\x81\xa1\x61"} {
		if r, err := ParseResponse([]byte(bad), nil); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseResponse(%q) = %+v, %v; want ErrMalformed", bad, r, err)
		}
	}
}

func TestChannels(t *testing.T) {
	c := Channels{Namespace: "/chat"}
	for _, tc := range []struct{ got, want string }{
		{c.Broadcast(), "socket.io#/chat#"},
		{c.Room("r1"), "socket.io#/chat#r1#"},
		{c.Request(), "socket.io-request#/chat#"},
		{c.Response(), "socket.io-response#/chat#"},
		{c.NodeResponse("IHaavo"), "socket.io-response#/chat#IHaavo#"},
		{c.BroadcastPattern(), "socket.io#/chat#*"},
		{Channels{Key: "k*", Namespace: "/a?[b]"}.BroadcastPattern(), `k\*#/a\?\[b\]#*`},
		{Channels{}.Broadcast(), "socket.io#/#"},
		{c.For(&Opts{Rooms: []string{"a", "b"}}), "socket.io#/chat#"},
		{c.For(&Opts{Rooms: []string{"a"}}), "socket.io#/chat#a#"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		ch, room string
		ok       bool
	}{
		{"socket.io#/chat#", "", true},
		{"socket.io#/chat#r1#", "r1", true},
		{"socket.io#/chat#a#b#", "a#b", true},
		{"socket.io#/chatty#r1#", "", false},
		{"socket.io#/#r1#", "", false},
	} {
		if room, ok := c.RoomOf(tc.ch); room != tc.room || ok != tc.ok {
			t.Errorf("RoomOf(%q) = %q, %v; want %q, %v", tc.ch, room, ok, tc.room, tc.ok)
		}
	}
}

func TestHandshake(t *testing.T) {
	h := &Handshake{
		Headers: http.Header{"Host": {"127.0.0.1:3000"}, "Cookie": {"a=1", "b=2"}, "Accept": {"x", "y"}},
		Time:    time.Date(2026, 12, 1, 20, 17, 44, 0, time.UTC),
		Address: "127.0.0.1",
		Issued:  time.UnixMilli(1796156264687),
		URL:     "/socket.io/?EIO=4&transport=websocket",
		Query:   url.Values{"EIO": {"4"}, "transport": {"websocket"}, "t": {"1", "2"}},
	}
	want := `{"headers":{"accept":"x, y","cookie":"a=1; b=2","host":"127.0.0.1:3000"},"time":"Tue Dec 01 2026 20:17:44 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1796156264687,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","t":["1","2"],"transport":"websocket"},"auth":{}}`
	if got := string(AppendHandshake(nil, h)); got != want {
		t.Errorf("AppendHandshake =\n%s, want\n%s", got, want)
	}
}

func TestPacketFromSocketIO(t *testing.T) {
	sp := &socketio.Packet{Type: socketio.BinaryEvent, Data: []byte(`["e",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{9}}, HasID: true, ID: 4}
	p, err := FromSocketIO(sp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != socketio.Event || p.Namespace != "/" || p.HasID {
		t.Errorf("FromSocketIO = %+v", p)
	}
	if want := unhex(t, "92 a1 65 c4 01 09"); !bytes.Equal(p.Data, want) {
		t.Errorf("FromSocketIO data = %x, want %x", p.Data, want)
	}
	back, err := p.SocketIO(nil)
	if err != nil || back.Type != socketio.BinaryEvent || string(back.Data) != string(sp.Data) {
		t.Errorf("SocketIO = %+v, %v", back, err)
	}
}
