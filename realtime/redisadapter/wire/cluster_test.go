package wire

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime/socketio"
)

// Golden ClusterAdapter messages, captured with MONITOR from two Node
// socket.io 4.8.4 nodes: @socket.io/redis-adapter 8.3.0's sharded mode
// (notepack.io 3.0.1 for msgpack) and @socket.io/redis-streams-adapter
// 0.3.1 (@msgpack/msgpack 2.8.0), on Redis 7.0.15.
var (
	// io.emit("hello", 1, "two", {three: 3.5, d: new Date(0)}, Buffer.from([1,2,3]))
	// on socket.io#/# (sharded: binary, so notepack.io).
	goldenShardedEmit = `84 a4 74797065 03 a4 64617461 82
		a6 7061636b6574 82 a4 74797065 02 a4 64617461 95 a5 68656c6c6f 01 a3 74776f
		   82 a5 7468726565 cb 400c000000000000 a1 64 d6 ff 00000000 c4 03 010203
		a4 6f707473 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80
		a3 756964 b0 37356634343533383331356361313733 a3 6e7370 a1 2f`
	// The FETCH_SOCKETS_RESPONSE of the streams adapter (@msgpack/msgpack;
	// issued is a uint64).
	goldenStreamsFetchResponse = `84a47479706508a46461746182a9726571756573744964b064613638653535626339366564616430a7736f636b6574739184a26964b47a57784b6c726d42734436583532634b41414141a968616e647368616b6589a76865616465727386b57365632d776562736f636b65742d76657273696f6ea23133b17365632d776562736f636b65742d6b6579b849413449686e396d62672b5230674a3532545a684c413d3daa636f6e6e656374696f6ea755706772616465a775706772616465a9776562736f636b6574b87365632d776562736f636b65742d657874656e73696f6e73d92a7065726d6573736167652d6465666c6174653b20636c69656e745f6d61785f77696e646f775f62697473a4686f7374af3132372e302e302e313a3333353139a474696d65d93e5475652044656320303120323032362032333a35343a303520474d542b303030302028436f6f7264696e6174656420556e6976657273616c2054696d6529a761646472657373a93132372e302e302e31a778646f6d61696ec2a6736563757265c2a6697373756564cf000001a23407a4eea375726cd9252f736f636b65742e696f2f3f45494f3d34267472616e73706f72743d776562736f636b6574a5717565727982a345494fa134a97472616e73706f7274a9776562736f636b6574a46175746880a5726f6f6d7392b47a57784b6c726d42734436583532634b41414141a27231a46461746181a16ea142a3756964b031376261313534393130656130383765a36e7370a12f`
)

// clearLayout forgets what a decoded message remembers of its layout, so
// that encoding it writes what a message built in Go writes.
func clearLayout(m *Message) *Message {
	c := *m
	c.fields, c.data = fields{}, fields{}
	c.Packet.fields = fields{}
	if c.Opts != nil {
		o := *c.Opts
		o.fields = fields{}
		if o.Flags != nil {
			f := *o.Flags
			f.fields = fields{}
			o.Flags = &f
		}
		c.Opts = &o
	}
	c.Sockets = nil
	for _, s := range m.Sockets {
		s.fields = fields{}
		c.Sockets = append(c.Sockets, s)
	}
	return &c
}

func TestClusterMessageGolden(t *testing.T) {
	const a, b = "75f44538315ca173", "2ec4940f6524093f"
	for _, tc := range []struct {
		name    string
		wire    string // JSON, or spaced hex
		msgpack bool   // written in msgpack whatever its data (the streams adapter's pub/sub)
		want    func(m *Message) bool
	}{
		{"BROADCAST to one room", `{"type":3,"data":{"packet":{"type":2,"data":["room","x"]},"opts":{"rooms":["r1"],"except":[],"flags":{}}},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool {
				return m.Type == MsgBroadcast && m.UID == a && m.Namespace == "/" && m.RequestID == "" &&
					m.Packet.Type == socketio.Event && m.Packet.Namespace == "" && m.Opts.Rooms[0] == "r1"
			}},
		{"BROADCAST with binary", goldenShardedEmit, false,
			func(m *Message) bool { return m.Type == MsgBroadcast && m.HasBinary() && len(m.Opts.Rooms) == 0 }},
		{"BROADCAST without binary", `{"type":3,"data":{"packet":{"type":2,"data":["plain",1.5,"é",{"d":"1970-01-01T00:00:00.000Z"}]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool { return !m.HasBinary() }},
		{"BROADCAST with acknowledgements", `{"type":3,"data":{"packet":{"type":2,"data":["ack-me"]},"requestId":"5bbb6d6ce918a986","opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool {
				return m.RequestID == "5bbb6d6ce918a986" && m.Opts.Flags.HasTimeout && m.Opts.Flags.Timeout == time.Second
			}},
		{"BROADCAST_CLIENT_COUNT", `{"type":11,"data":{"requestId":"5bbb6d6ce918a986","clientCount":1},"uid":"` + b + `","nsp":"/"}`, false,
			func(m *Message) bool {
				return m.Type == MsgBroadcastClientCount && m.ClientCount == 1 && m.Type.IsResponse()
			}},
		{"BROADCAST_ACK", `{"type":12,"data":{"requestId":"5bbb6d6ce918a986","packet":{"from":"c"}},"uid":"` + b + `","nsp":"/"}`, false,
			func(m *Message) bool {
				return m.Type == MsgBroadcastAck && bytes.Equal(m.Reply, []byte("\x81\xa4from\xa1c"))
			}},
		{"FETCH_SOCKETS", `{"type":7,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"requestId":"ca1b7ddfd625407b"},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool { return m.Type == MsgFetchSockets && m.RequestID == "ca1b7ddfd625407b" }},
		{"FETCH_SOCKETS_RESPONSE", `{"type":8,"data":{"requestId":"ca1b7ddfd625407b","sockets":[{"id":"Gib-xtc3R3XjIdIzAAAA","handshake":{"headers":{"sec-websocket-version":"13","sec-websocket-key":"DHEJk5kypZfDU6vT/NJ+8Q==","connection":"Upgrade","upgrade":"websocket","sec-websocket-extensions":"permessage-deflate; client_max_window_bits","host":"127.0.0.1:44951"},"time":"Tue Dec 01 2026 23:50:28 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1796169028192,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{}},"rooms":["Gib-xtc3R3XjIdIzAAAA","r1"],"data":{"n":"B"}}]},"uid":"` + b + `","nsp":"/"}`, false,
			func(m *Message) bool {
				return len(m.Sockets) == 1 && m.Sockets[0].ID == "Gib-xtc3R3XjIdIzAAAA" && string(m.Sockets[0].Data) == `{"n":"B"}`
			}},
		{"SOCKETS_JOIN", `{"type":4,"data":{"opts":{"rooms":["r1"],"except":[],"flags":{}},"rooms":["j1"]},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool {
				return m.Type == MsgSocketsJoin && m.Rooms[0] == "j1" && m.Opts.Rooms[0] == "r1"
			}},
		{"SOCKETS_LEAVE", `{"type":5,"data":{"opts":{"rooms":["r1"],"except":[],"flags":{}},"rooms":["j1"]},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool { return m.Type == MsgSocketsLeave }},
		{"DISCONNECT_SOCKETS", `{"type":6,"data":{"opts":{"rooms":["nobody"],"except":[],"flags":{}},"close":true},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool { return m.Type == MsgDisconnectSockets && m.Close }},
		{"SERVER_SIDE_EMIT with acknowledgements", `{"type":9,"data":{"requestId":"71754cc7a5bedf89","packet":["sse",1,"a"]},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool { return m.RequestID != "" && bytes.Equal(m.Args, []byte("\x93\xa3sse\x01\xa1a")) }},
		{"SERVER_SIDE_EMIT", `{"type":9,"data":{"packet":["sse2",2]},"uid":"` + a + `","nsp":"/"}`, false,
			func(m *Message) bool { return m.RequestID == "" && bytes.Equal(m.Args, []byte("\x92\xa4sse2\x02")) }},
		{"SERVER_SIDE_EMIT_RESPONSE", `{"type":10,"data":{"requestId":"71754cc7a5bedf89","packet":"B-reply"},"uid":"` + b + `","nsp":"/"}`, false,
			func(m *Message) bool { return bytes.Equal(m.Reply, []byte("\xa7B-reply")) }},
		{"SERVER_SIDE_EMIT_RESPONSE without argument", `{"type":10,"data":{"requestId":"71754cc7a5bedf89"},"uid":"` + b + `","nsp":"/"}`, false,
			func(m *Message) bool { return m.Reply == nil }},
		{"HEARTBEAT", `{"type":2,"uid":"` + b + `","nsp":"/"}`, false,
			func(m *Message) bool { return m.Type == MsgHeartbeat }},

		// The streams adapter's pub/sub, in @msgpack/msgpack.
		{"streams BROADCAST with acknowledgements", "\x84\xa4type\x03\xa4data\x83\xa6packet\x82\xa4type\x02\xa4data\x91\xa6ack-me\xa9requestId\xb0a97ecf018ca82de7\xa4opts\x83\xa5rooms\x90\xa6except\x90\xa5flags\x81\xa7timeout\xcd\x03\xe8\xa3uid\xb0789cf8881017a8c3\xa3nsp\xa1/", true,
			func(m *Message) bool { return m.RequestID == "a97ecf018ca82de7" && m.Opts.Flags.Timeout == time.Second }},
		{"streams BROADCAST_CLIENT_COUNT", "\x84\xa4type\x0b\xa4data\x82\xa9requestId\xb0a97ecf018ca82de7\xabclientCount\x01\xa3uid\xb0bee50fa6dd20f4ba\xa3nsp\xa1/", true,
			func(m *Message) bool { return m.ClientCount == 1 }},
		{"streams BROADCAST_ACK", "\x84\xa4type\x0c\xa4data\x82\xa9requestId\xb0a97ecf018ca82de7\xa6packet\x81\xa4from\xa1c\xa3uid\xb0bee50fa6dd20f4ba\xa3nsp\xa1/", true,
			func(m *Message) bool { return string(m.Reply) == "\x81\xa4from\xa1c" }},
		{"streams FETCH_SOCKETS", "\x84\xa4type\x07\xa4data\x82\xa4opts\x83\xa5rooms\x90\xa6except\x90\xa5flags\x80\xa9requestId\xb0d052a38ac9d9e736\xa3uid\xb0789cf8881017a8c3\xa3nsp\xa1/", true,
			func(m *Message) bool { return m.Type == MsgFetchSockets }},
		{"streams FETCH_SOCKETS_RESPONSE", goldenStreamsFetchResponse, true,
			func(m *Message) bool {
				return len(m.Sockets) == 1 && strings.Contains(string(m.Sockets[0].Handshake), `"issued":1796169245934`)
			}},
		{"streams SERVER_SIDE_EMIT", "\x84\xa4type\x09\xa4data\x82\xa9requestId\xb0298d681abe178a0f\xa6packet\x93\xa3sse\x01\xa1a\xa3uid\xb0789cf8881017a8c3\xa3nsp\xa1/", true,
			func(m *Message) bool { return m.Type == MsgServerSideEmit && m.RequestID == "298d681abe178a0f" }},
		{"streams SERVER_SIDE_EMIT_RESPONSE", "\x84\xa4type\x0a\xa4data\x82\xa9requestId\xb0298d681abe178a0f\xa6packet\xa7B-reply\xa3uid\xb0bee50fa6dd20f4ba\xa3nsp\xa1/", true,
			func(m *Message) bool { return string(m.Reply) == "\xa7B-reply" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.wire)
			if tc.wire[0] != '{' && tc.wire[0] != 0x84 {
				in = unhex(t, tc.wire)
			}
			m, err := ParseMessage(in, nil)
			if err != nil {
				t.Fatalf("ParseMessage(%q): %v", in, err)
			}
			if err := m.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if !tc.want(m) {
				t.Errorf("ParseMessage(%q) = %+v", in, m)
			}
			enc := AppendMessage
			if tc.msgpack {
				enc = AppendMessageMsgpack
			}
			if got := enc(nil, m); !bytes.Equal(got, in) {
				t.Errorf("encoded again:\n%q\nwant\n%q", got, in)
			}
			// Built in Go, the message is written as the Node node wrote it.
			if got := enc(nil, clearLayout(m)); !bytes.Equal(got, in) && !strings.Contains(tc.name, "FETCH_SOCKETS_RESPONSE") {
				t.Errorf("built in Go:\n%q\nwant\n%q", got, in)
			}
		})
	}
}

// TestClusterMessageFromGo checks messages built from realtime's packets:
// the packet has no nsp, binaries make the message msgpack, and a
// decoded message gives the packet back.
func TestClusterMessageFromGo(t *testing.T) {
	data, atts, err := socketio.AppendEvent(nil, nil, "ev", 1, []byte{7})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    socketio.Packet
		json bool
	}{
		{"text", socketio.Packet{Type: socketio.Event, Namespace: "/chat", Data: []byte(`["ev",1,"x"]`)}, true},
		{"binary", socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/chat", Data: data, Attachments: atts}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wp, err := FromSocketIO(&tc.p, nil)
			if err != nil {
				t.Fatal(err)
			}
			wp.Namespace = ""
			m := &Message{Type: MsgBroadcast, UID: "0123456789abcdef", Namespace: "/chat", Packet: wp, Opts: &Opts{Rooms: []string{"r"}}}
			b := AppendMessage(nil, m)
			if isJSON := b[0] == '{'; isJSON != tc.json {
				t.Errorf("AppendMessage = %q: JSON %v, want %v", b, isJSON, tc.json)
			}
			if tc.json {
				want := `{"type":3,"data":{"packet":{"type":2,"data":["ev",1,"x"]},"opts":{"rooms":["r"],"except":[],"flags":{}}},"uid":"0123456789abcdef","nsp":"/chat"}`
				if string(b) != want {
					t.Errorf("AppendMessage =\n%s\nwant\n%s", b, want)
				}
			}
			back, err := ParseMessage(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			sp, err := back.Packet.SocketIO(nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(sp.Data) != string(tc.p.Data) || len(sp.Attachments) != len(tc.p.Attachments) || sp.Type != tc.p.Type {
				t.Errorf("packet back: %+v, want %+v", sp, tc.p)
			}
		})
	}
}

func TestStreamEntryGolden(t *testing.T) {
	const uid = "789cf8881017a8c3"
	for _, tc := range []struct {
		name string
		typ  string
		data string
		want func(m *Message) bool
	}{
		{"BROADCAST", "3", `{"packet":{"type":2,"data":["room","x"]},"opts":{"rooms":["r1"],"except":[],"flags":{}}}`,
			func(m *Message) bool { return m.Type == MsgBroadcast && m.Opts.Rooms[0] == "r1" }},
		{"BROADCAST with binary", "3", "gqZwYWNrZXSCpHR5cGUCpGRhdGGVpWhlbGxvAaN0d2+CpXRocmVly0AMAAAAAAAAoWTW/wAAAADEAwECA6RvcHRzg6Vyb29tc5CmZXhjZXB0kKVmbGFnc4A=",
			func(m *Message) bool { return m.HasBinary() }},
		{"BROADCAST without binary", "3", `{"packet":{"type":2,"data":["plain",1.5,"é",{"d":"1970-01-01T00:00:00.000Z"}]},"opts":{"rooms":[],"except":[],"flags":{}}}`,
			func(m *Message) bool { return !m.HasBinary() }},
		{"SOCKETS_JOIN", "4", `{"opts":{"rooms":["r1"],"except":[],"flags":{}},"rooms":["j1"]}`,
			func(m *Message) bool { return m.Type == MsgSocketsJoin && m.Rooms[0] == "j1" }},
		{"SOCKETS_LEAVE", "5", `{"opts":{"rooms":["r1"],"except":[],"flags":{}},"rooms":["j1"]}`,
			func(m *Message) bool { return m.Type == MsgSocketsLeave }},
		{"DISCONNECT_SOCKETS", "6", `{"opts":{"rooms":["nobody"],"except":[],"flags":{}},"close":true}`,
			func(m *Message) bool { return m.Close }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := StreamEntry{UID: uid, Namespace: "/", Type: tc.typ, Data: tc.data}
			m, err := ParseStreamEntry(e, nil)
			if err != nil {
				t.Fatalf("ParseStreamEntry: %v", err)
			}
			if err := m.Check(); err != nil || !tc.want(m) {
				t.Errorf("ParseStreamEntry = %+v, Check %v", m, err)
			}
			for _, mm := range []*Message{m, clearLayout(m)} {
				if got := NewStreamEntry(mm, false); got != e {
					t.Errorf("NewStreamEntry =\n%+v\nwant\n%+v", got, e)
				}
			}
			v := e.Values()
			if strings.Join(v[:6], " ") != "uid "+uid+" nsp / type "+tc.typ || v[6] != "data" {
				t.Errorf("Values() = %q", v)
			}
		})
	}
	// With onlyPlaintext, binaries are written as JSON as Node writes them
	// then (JSON.stringify): not something a receiver can use as binary.
	m, _ := ParseStreamEntry(StreamEntry{UID: uid, Namespace: "/", Type: "3", Data: "gqZwYWNrZXSCpHR5cGUCpGRhdGGVpWhlbGxvAaN0d2+CpXRocmVly0AMAAAAAAAAoWTW/wAAAADEAwECA6RvcHRzg6Vyb29tc5CmZXhjZXB0kKVmbGFnc4A="}, nil)
	if e := NewStreamEntry(m, true); e.Data[0] != '{' {
		t.Errorf("NewStreamEntry(onlyPlaintext) = %q", e.Data)
	}
	if _, err := ParseStreamEntry(StreamEntry{Type: "3", Data: "%%%"}, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseStreamEntry(bad base64) = %v", err)
	}
	if _, err := ParseStreamEntry(StreamEntry{Type: "x"}, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseStreamEntry(type x) = %v", err)
	}
	if m, err := ParseStreamEntry(StreamEntry{Type: " 2abc", UID: "u", Namespace: "/"}, nil); err != nil || m.Type != MsgHeartbeat {
		t.Errorf("ParseStreamEntry(type \" 2abc\") = %+v, %v; want HEARTBEAT as parseInt reads it", m, err)
	}
}

func TestSessionGolden(t *testing.T) {
	// A socket's session as the streams adapter stored it on a transport
	// close: {sid, pid, rooms: [sid, "r1"], data: {n: "B"}}.
	const stored = "hKNzaWS0eld4S2xybUJzRDZYNTJjS0FBQUGjcGlktEluQmVjQXV0SmdhSlNmNFdBQUFCpXJvb21zkrR6V3hLbHJtQnNENlg1MmNLQUFBQaJyMaRkYXRhgaFuoUI="
	s, err := ParseSession([]byte(stored), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.SID != "zWxKlrmBsD6X52cKAAAA" || s.PID != "InBecAutJgaJSf4WAAAB" || len(s.Rooms) != 2 || s.Rooms[1] != "r1" || string(s.Data) != "\x81\xa1n\xa1B" {
		t.Errorf("ParseSession = %+v", s)
	}
	built := &Session{SID: s.SID, PID: s.PID, Rooms: s.Rooms, Data: s.Data}
	if got := string(AppendSession(nil, built)); got != stored {
		t.Errorf("AppendSession = %s, want %s", got, stored)
	}
	if got := AppendSession(nil, &Session{SID: "a", PID: "b"}); !strings.HasSuffix(mustBase64(t, got), "\xa4data\x80") {
		t.Errorf("AppendSession without data: %q, want data {}", mustBase64(t, got))
	}
	for _, bad := range []string{"", "!!", base64.StdEncoding.EncodeToString([]byte("\x81\xa3sid\xa1a")), base64.StdEncoding.EncodeToString([]byte("\x92\x01\x02"))} {
		if _, err := ParseSession([]byte(bad), nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSession(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func mustBase64(t *testing.T, b []byte) string {
	d, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return string(d)
}

func TestClusterMessageMalformed(t *testing.T) {
	for _, s := range []string{
		`{"data":{}}`,
		`{"type":3,"data":[1]}`,
		`{"type":3,"data":{"packet":{"type":"x"}}}`,
		"\x84\xa4type\x03\xa4data\x81\xa6packet\x92\x01",
	} {
		if _, err := ParseMessage([]byte(s), nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseMessage(%q) = %v, want ErrMalformed", s, err)
		}
	}
	for _, s := range []string{
		`{"type":3,"data":{"packet":{"type":2,"data":[]}},"uid":"u","nsp":"/"}`,        // no opts
		`{"type":3,"data":{"opts":{}},"uid":"u","nsp":"/"}`,                            // no packet
		`{"type":7,"data":{"opts":{}},"uid":"u","nsp":"/"}`,                            // no requestId
		`{"type":8,"data":{"sockets":[]},"uid":"u","nsp":"/"}`,                         // no requestId
		`{"type":9,"data":{"packet":"x"},"uid":"u","nsp":"/"}`,                         // not an array
		`{"type":4,"data":{"opts":{"rooms":[]},"rooms":["j"]},"uid":"u"}`,              // no nsp
		`{"type":12,"data":{"requestId":"r","packet":{"type":"x"}},"uid":"u","nsp":1}`, // nsp not a string
	} {
		m, err := ParseMessage([]byte(s), nil)
		if err == nil {
			err = m.Check()
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseMessage(%q) and Check = %v, want ErrMalformed", s, err)
		}
	}
	// A reply that looks like a packet is a reply.
	m, err := ParseMessage([]byte(`{"data":{"requestId":"r","packet":{"type":"x"}},"type":12,"uid":"u","nsp":"/"}`), nil)
	if err != nil || m.Check() != nil || string(m.Reply) != "\x81\xa4type\xa1x" {
		t.Errorf("BROADCAST_ACK of {type: \"x\"} = %+v, %v", m, err)
	}
}
