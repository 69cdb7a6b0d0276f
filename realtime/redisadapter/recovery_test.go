package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
)

var streamID = regexp.MustCompile(`^"[0-9]+-[0-9]+"$`)

// TestRecoveryAcrossNodes checks connection state recovery in the streams
// mode between two Go nodes: a client whose connection drops while on A
// and that reconnects to B gets its socket id, rooms and data back, and
// the events broadcast to it meanwhile from either node, in order, each
// with its stream entry id as its offset; what was not for it is not
// replayed; and the session is restored once.
func TestRecoveryAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	rt := &realtime.Options{ConnectionStateRecovery: &realtime.RecoveryOptions{}}
	opts := &Options{Streams: &StreamsOptions{}}
	a := startGoNodeWith(t, rs, "A", opts, rt)
	b := startGoNodeWith(t, rs, "B", opts, rt)
	px := newSwitchProxy(t, strings.TrimPrefix(a.url, "http://"))

	var mu sync.Mutex
	var got []string
	c, err := client.Dial(context.Background(), px.url(), &client.Options{
		Transports: []client.Transport{client.WebSocket}, Auth: map[string]any{"rooms": "r1", "data": map[string]any{"name": "c1"}},
		ReconnectDelay: 50 * time.Millisecond, ReconnectDelayMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.On("ev", func(e *client.Event) {
		mu.Lock()
		got = append(got, rawArgs(e.Args))
		mu.Unlock()
	})
	received := func(n int) []string {
		t.Helper()
		var out []string
		eventually(t, fmt.Sprintf("%d events", n), func() string {
			mu.Lock()
			defer mu.Unlock()
			if len(got) < n {
				return fmt.Sprintf("got %q", got)
			}
			out = slices.Clone(got)
			return ""
		})
		return out
	}
	id := c.ID()
	a.ns("/").To("r1").Emit("ev", "one")
	first := received(1)
	if args := strings.SplitN(first[0], ",", 2); args[0] != `"one"` || !streamID.MatchString(args[1]) {
		t.Fatalf("first event %q, want \"one\" and a stream entry id", first[0])
	}

	px.cut()
	eventually(t, "A sees the socket go", func() string {
		if a.ns("/").Socket(id) != nil {
			return "still there"
		}
		return ""
	})
	a.ns("/").To("r1").Emit("ev", "two")
	b.ns("/").Emit("ev", "three", []byte{1, 2})
	a.ns("/").To("elsewhere").Emit("ev", "not for it")
	a.ns("/").Except("r1").Emit("ev", "not for it either")
	a.ns("/").To(id).Emit("ev", "four")
	px.switchTo(b.url)
	eventually(t, "recovered on B", func() string {
		if !c.Recovered() || b.ns("/").Socket(id) == nil {
			return fmt.Sprintf("recovered %v, on B %v", c.Recovered(), b.ns("/").Socket(id) != nil)
		}
		return ""
	})
	if c.ID() != id {
		t.Errorf("id after recovery %q, want %q", c.ID(), id)
	}
	all := received(4)
	var names []string
	var offsets []string
	for _, e := range all {
		args := strings.Split(strings.Fields(e)[0], ",")
		names = append(names, args[0])
		offsets = append(offsets, args[len(args)-1])
	}
	if want := []string{`"one"`, `"two"`, `"three"`, `"four"`}; !slices.Equal(names, want) {
		t.Errorf("events %q, want %q", all, want)
	}
	if !strings.HasSuffix(all[2], " bin:0102") {
		t.Errorf("missed binary event %q", all[2])
	}
	if !slices.IsSorted(offsets) || len(slices.Compact(slices.Clone(offsets))) != 4 {
		t.Errorf("offsets %q, want increasing stream ids", offsets)
	}
	// Its rooms and data came back.
	a.ns("/").To("r1").Emit("ev", "five")
	if all := received(5); !strings.HasPrefix(all[4], `"five",`) {
		t.Errorf("after recovery, a broadcast to r1 gave %q", all[4])
	}
	ss, err := a.ns("/").In(id).FetchSockets(context.Background())
	if err != nil || len(ss) != 1 {
		t.Fatalf("FetchSockets(%s) = %d, %v", id, len(ss), err)
	}
	if d, _ := json.Marshal(ss[0].Data); string(d) != `{"name":"c1"}` || !slices.Contains(ss[0].Rooms, "r1") {
		t.Errorf("recovered socket: data %s, rooms %q", d, ss[0].Rooms)
	}
	// The session was restored once: nothing is left in Redis.
	if keys, _ := rs.Client(t).Keys(context.Background(), DefaultSessionKeyPrefix+"*").Result(); len(keys) != 0 {
		t.Errorf("sessions left in Redis: %q", keys)
	}
	for _, n := range []*goNode{a, b} {
		if errs := n.errors(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.name, errs)
		}
	}
}
