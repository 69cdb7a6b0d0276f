package client

import (
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime"
)

// TestRecoveryOwnServer recovers against this repository's server over
// each transport set: the server closes the session, broadcasts to the
// client's room while it is away, and the client gets its id, its room and
// the missed events, in order, when it reconnects.
func TestRecoveryOwnServer(t *testing.T) {
	for _, tt := range []struct {
		name       string
		transports []Transport
	}{
		{"websocket", []Transport{WebSocket}},
		{"polling", []Transport{Polling}},
		{"upgrade", []Transport{Polling, WebSocket}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := realtime.NewServer(&realtime.Options{ConnectionStateRecovery: &realtime.RecoveryOptions{}})
			defer srv.Close()
			main := srv.Of("/")
			main.OnConnection(func(s *realtime.Socket) {
				s.On("join", func(e *realtime.Event) {
					s.Join(e.Args.String(0))
					e.Ack()
				})
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := &http.Server{Handler: srv}
			go hs.Serve(ln)
			defer hs.Close()
			c, err := Dial(ctxT(t, 10*time.Second), "http://"+ln.Addr().String(), &Options{
				Transports: tt.transports, ReconnectDelay: 50 * time.Millisecond, ReconnectDelayMax: 100 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var mu sync.Mutex
			var got []string
			c.On("seq", func(e *Event) {
				mu.Lock()
				got = append(got, e.Args.String(0))
				mu.Unlock()
			})
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "join", "r"); err != nil {
				t.Fatal(err)
			}
			id := c.ID()
			main.To("r").Emit("seq", "0")
			waitFor(t, "seq 0", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
			s := main.Socket(id)
			srv.Engine().Session(s.SessionID()).Close()
			waitFor(t, "the server to notice", func() bool { return main.Socket(id) == nil })
			for _, i := range []string{"1", "2", "3"} {
				main.To("r").Emit("seq", i)
			}
			waitFor(t, "recovery", func() bool { return c.Connected() && c.Recovered() })
			waitFor(t, "missed events", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 })
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(got, []string{"0", "1", "2", "3"}) || c.ID() != id {
				t.Errorf("after recovery: events %q, id %s (was %s)", got, c.ID(), id)
			}
			if r := main.Socket(id); r == nil || !slices.Contains(r.Rooms(), "r") || !r.Recovered() {
				t.Errorf("the server's socket after recovery: %v", r)
			}
		})
	}
}
