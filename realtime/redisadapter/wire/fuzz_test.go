package wire

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and
// what decodes must encode again without error, to bytes that decode the
// same way.
func FuzzDecode(f *testing.F) {
	for _, h := range []string{goldenEmit, goldenEmitter, goldenBroadcastAck, goldenAck} {
		f.Add(unhex(f, h))
	}
	for _, s := range []string{
		`{"uid":"IHaavo","requestId":"M5UqV8","type":1}`,
		`{"type":2,"opts":{"rooms":["r1"],"except":[]},"rooms":["r2"]}`,
		`{"requestId":"a","sockets":[{"id":"s","handshake":{},"rooms":[],"data":{}}]}`,
		`{"type":8,"requestId":"60_92n","clientCount":1}`,
		`["a",{"_placeholder":true,"num":0},1.5,-3,"\u00e9"]`,
	} {
		f.Add([]byte(s))
	}
	for _, v := range edgeValues() {
		f.Add(v)
	}
	lim := &Limits{MaxSize: 1 << 16, MaxDepth: 16, MaxValues: 4096, MaxAttachments: 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		if j, atts, err := AppendJSON(nil, nil, b, lim); err == nil {
			mp, err := AppendMsgpack(nil, j, atts, nil)
			if err != nil {
				t.Fatalf("AppendMsgpack(AppendJSON(%x) = %s): %v", b, j, err)
			}
			j2, _, err := AppendJSON(nil, nil, mp, nil)
			if err != nil || !bytes.Equal(j, j2) {
				t.Fatalf("AppendJSON(%x) = %s, then %s, %v", b, j, j2, err)
			}
		}
		if mp, err := AppendMsgpack(nil, b, [][]byte{{1}}, lim); err == nil {
			if _, _, err := AppendJSON(nil, nil, mp, nil); err != nil {
				t.Fatalf("AppendJSON(AppendMsgpack(%q) = %x): %v", b, mp, err)
			}
		}
		if m, err := ParseBroadcast(b, lim); err == nil {
			again := AppendBroadcast(nil, m)
			if _, err := ParseBroadcast(again, nil); err != nil {
				t.Fatalf("ParseBroadcast(AppendBroadcast(ParseBroadcast(%x)) = %x): %v", b, again, err)
			}
			if sp, err := m.Packet.SocketIO(lim); err == nil {
				if _, err := FromSocketIO(sp, nil); err != nil {
					t.Fatalf("FromSocketIO(%+v): %v", sp, err)
				}
			}
		}
		if r, err := ParseRequest(b, lim); err == nil {
			again := AppendRequest(nil, r)
			if _, err := ParseRequest(again, nil); err != nil {
				t.Fatalf("ParseRequest(AppendRequest(ParseRequest(%q)) = %q): %v", b, again, err)
			}
		}
		if r, err := ParseResponse(b, lim); err == nil {
			again := AppendResponse(nil, r)
			if _, err := ParseResponse(again, nil); err != nil {
				t.Fatalf("ParseResponse(AppendResponse(ParseResponse(%q)) = %q): %v", b, again, err)
			}
		}
	})
}

// FuzzClusterDecode feeds arbitrary bytes to the decoders of the
// ClusterAdapter format (the sharded and streams modes): a message, a
// stream entry's data, a stored session. None may panic, and what decodes
// must encode again, in each encoding, to bytes that decode.
func FuzzClusterDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":3,"data":{"packet":{"type":2,"data":["room","x"]},"opts":{"rooms":["r1"],"except":[],"flags":{}}},"uid":"75f44538315ca173","nsp":"/"}`,
		`{"type":3,"data":{"packet":{"type":2,"data":["ack-me"]},"requestId":"5bbb6d6ce918a986","opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}},"uid":"u","nsp":"/"}`,
		`{"type":8,"data":{"requestId":"r","sockets":[{"id":"s","handshake":{"issued":1},"rooms":["s"],"data":{"n":"B"}}]},"uid":"u","nsp":"/"}`,
		`{"type":9,"data":{"requestId":"r","packet":["sse",1,"a"]},"uid":"u","nsp":"/"}`,
		`{"type":12,"data":{"requestId":"r","packet":{"from":"c"}},"uid":"u","nsp":"/"}`,
		`{"type":6,"data":{"opts":{"rooms":["x"],"except":[],"flags":{}},"close":true},"uid":"u","nsp":"/"}`,
		"\x84\xa4type\x0b\xa4data\x82\xa9requestId\xb0a97ecf018ca82de7\xabclientCount\x01\xa3uid\xb0bee50fa6dd20f4ba\xa3nsp\xa1/",
		"hKNzaWS0eld4S2xybUJzRDZYNTJjS0FBQUGjcGlktEluQmVjQXV0SmdhSlNmNFdBQUFCpXJvb21zkrR6V3hLbHJtQnNENlg1MmNLQUFBQaJyMaRkYXRhgaFuoUI=",
		"gqZwYWNrZXSCpHR5cGUCpGRhdGGVpWhlbGxvAaN0d2+CpXRocmVly0AMAAAAAAAAoWTW/wAAAADEAwECA6RvcHRzg6Vyb29tc5CmZXhjZXB0kKVmbGFnc4A=",
	} {
		f.Add([]byte(s))
	}
	f.Add(unhex(f, goldenShardedEmit))
	f.Add(unhex(f, goldenStreamsFetchResponse))
	lim := &Limits{MaxSize: 1 << 16, MaxDepth: 16, MaxValues: 4096, MaxAttachments: 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMessage(b, lim); err == nil {
			m.Check()
			for _, again := range [][]byte{AppendMessage(nil, m), AppendMessageMsgpack(nil, m)} {
				if _, err := ParseMessage(again, nil); err != nil {
					t.Fatalf("ParseMessage(encoded ParseMessage(%q) = %q): %v", b, again, err)
				}
			}
			if m.Type == MsgBroadcast {
				if sp, err := m.Packet.SocketIO(lim); err == nil {
					if _, err := FromSocketIO(sp, nil); err != nil {
						t.Fatalf("FromSocketIO(%+v): %v", sp, err)
					}
				}
			}
		}
		typ, data := "3", string(b)
		if len(b) > 0 && b[0] < 16 {
			typ, data = string(rune('0'+b[0]%10)), string(b[1:])
		}
		if m, err := ParseStreamEntry(StreamEntry{UID: "u", Namespace: "/", Type: typ, Data: data}, lim); err == nil {
			for _, plain := range []bool{false, true} {
				e := NewStreamEntry(m, plain)
				if _, err := ParseStreamEntry(e, nil); err != nil {
					t.Fatalf("ParseStreamEntry(NewStreamEntry(ParseStreamEntry(%q)) = %+v): %v", b, e, err)
				}
			}
		}
		if s, err := ParseSession(b, lim); err == nil {
			again := AppendSession(nil, s)
			if _, err := ParseSession(again, nil); err != nil {
				t.Fatalf("ParseSession(AppendSession(ParseSession(%q)) = %q): %v", b, again, err)
			}
		}
	})
}
