package realtime

import (
	"strings"
	"sync"
	"testing"

	"github.com/wirelevel/ws/realtime/engine"
)

// TestBroadcastEncodesOnce checks that a broadcast queues the same encoded
// bytes, not copies, for every recipient, and selects recipients by room.
func TestBroadcastEncodesOnce(t *testing.T) {
	rc, srv := newRaw(t, nil)
	ns := srv.Of("/")
	var sids []string
	for range 4 {
		h := rc.open()
		rc.post(h.SID, "40")
		sids = append(sids, h.SID)
	}
	waitFor(t, func() bool { return ns.SocketCount() == 4 })
	var socks []*Socket
	var mu sync.Mutex
	written := map[*Socket][]engine.Encoded{}
	for _, sid := range sids {
		c := clientOf(t, srv, sid)
		s := c.socket("/")
		if s == nil {
			t.Fatalf("no socket for session %s", sid)
		}
		tap := func(msgs []engine.Encoded) {
			mu.Lock()
			written[s] = append(written[s], msgs...)
			mu.Unlock()
		}
		c.tap.Store(&tap)
		socks = append(socks, s)
	}
	socks[0].Join("a")
	socks[1].Join("a", "b")
	socks[2].Join("b")
	drain := func(s *Socket) []engine.Encoded {
		mu.Lock()
		defer mu.Unlock()
		q := written[s]
		delete(written, s)
		return q
	}
	tests := []struct {
		name string
		emit func() error
		want [4]bool
	}{
		{"to all", func() error { return ns.Emit("x", []byte{1}) }, [4]bool{true, true, true, true}},
		{"to room a", func() error { return ns.To("a").Emit("x", []byte{1}) }, [4]bool{true, true, false, false}},
		{"to rooms a and b, once each", func() error { return ns.To("a", "b").Emit("x", []byte{1}) }, [4]bool{true, true, true, false}},
		{"except b", func() error { return ns.Except("b").Emit("x", []byte{1}) }, [4]bool{true, false, false, true}},
		{"from socket 1 to room a", func() error { return socks[1].To("a").Emit("x", []byte{1}) }, [4]bool{true, false, false, false}},
		{"from socket 0 to all others", func() error { return socks[0].Broadcast().Emit("x", []byte{1}) }, [4]bool{false, true, true, true}},
		{"to one socket's own room", func() error { return ns.To(socks[3].ID()).Emit("x", []byte{1}) }, [4]bool{false, false, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.emit(); err != nil {
				t.Fatal(err)
			}
			var first *byte
			for i, s := range socks {
				q := drain(s)
				if !tt.want[i] {
					if len(q) != 0 {
						t.Errorf("socket %d got %d messages, want none", i, len(q))
					}
					continue
				}
				if len(q) != 2 || !strings.HasPrefix(string(q[0].Bytes()), `451-["x",`) || !q[1].IsBinary() {
					t.Fatalf("socket %d queue = %+v, want the text packet and one attachment", i, q)
				}
				if first == nil {
					first = &q[0].Bytes()[0]
				} else if first != &q[0].Bytes()[0] {
					t.Errorf("socket %d got its own copy of the encoded packet", i)
				}
			}
		})
	}
}
