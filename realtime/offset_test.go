package realtime_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/socketio"
)

// TestBroadcastWithOffset checks that BroadcastWithOffset appends the
// offset it is given, as a broker-backed adapter delivers a broadcast, to
// the events recovery keeps (and not to volatile ones, nor without
// recovery), and stores nothing in the adapter: a client that reconnects
// with such an offset is not recovered from memory.
func TestBroadcastWithOffset(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recovery bool
		volatile bool
		offset   string
		want     []string
	}{
		{"recovery", true, false, "1796169037734-2", []string{"x", "1", "1796169037734-2"}},
		{"volatile", true, true, "1796169037734-2", []string{"x", "1"}},
		{"no offset", true, false, "", []string{"x", "1"}},
		{"no recovery", false, false, "1796169037734-2", []string{"x", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &realtime.Options{}
			if tc.recovery {
				o.ConnectionStateRecovery = &realtime.RecoveryOptions{}
			}
			srv := realtime.NewServer(o)
			defer srv.Close()
			joined := make(chan *realtime.Socket, 1)
			srv.OnConnection(func(s *realtime.Socket) { joined <- s })
			hs := httptest.NewServer(srv)
			defer hs.Close()
			ctx := context.Background()
			c, err := client.Dial(ctx, hs.URL, &client.Options{Transports: []client.Transport{client.WebSocket}, NoReconnect: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got := make(chan []string, 1)
			c.On("ev", func(e *client.Event) {
				var args []string
				for i := range e.Args.Len() {
					args = append(args, e.Args.String(i))
				}
				got <- args
			})
			s := <-joined
			time.Sleep(50 * time.Millisecond) // the transport idle, so that a volatile event goes out
			data, _, err := socketio.AppendEvent(nil, nil, "ev", "x", "1")
			if err != nil {
				t.Fatal(err)
			}
			a := srv.Of("/").Adapter().(*realtime.MemoryAdapter)
			if r := a.Recovery(); (r != nil) != tc.recovery || r != nil && r.MaxDisconnectionDuration != realtime.DefaultMaxDisconnectionDuration {
				t.Errorf("Recovery() = %+v with recovery %v", r, tc.recovery)
			}
			a.BroadcastWithOffset(&socketio.Packet{Type: socketio.Event, Namespace: "/", Data: data},
				realtime.BroadcastOptions{Rooms: []string{s.ID()}, Flags: realtime.BroadcastFlags{Volatile: tc.volatile}}, tc.offset)
			wait := 5 * time.Second
			if tc.volatile {
				wait = time.Second // a volatile event may be dropped
			}
			select {
			case args := <-got:
				if !slices.Equal(args, tc.want) {
					t.Errorf("the client received %q, want %q", args, tc.want)
				}
			case <-time.After(wait):
				if !tc.volatile {
					t.Fatal("the client received nothing")
				}
			}
			if tc.recovery {
				a.PersistSession(&realtime.PersistedSession{SID: s.ID(), PID: "p", Rooms: []string{s.ID()}})
				if prev, _ := a.RestoreSession("p", tc.offset); prev != nil {
					t.Errorf("RestoreSession found offset %q in memory: %+v", tc.offset, prev)
				}
			}
		})
	}
}
