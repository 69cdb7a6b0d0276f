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
