package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/internal/nodepeer"
	"github.com/wirelevel/ws/realtime/socketio"
)

// The tests in this file run the client against the official socket.io
// server, goclient-server.js, with connection state recovery on.

// startNode starts goclient-server.js with args.
func startNode(t *testing.T, args ...string) *nodepeer.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	return nodepeer.StartProcess(t, nodepeer.Command(t, []string{"socket.io"}, "goclient-server.js", args...))
}

// modes are the three ways to reach the server: polling only, WebSocket
// only, and polling upgraded to WebSocket (the default).
var modes = []struct {
	name       string
	transports []Transport
	want       Transport // the transport the session settles on
}{
	{"polling", []Transport{Polling}, Polling},
	{"websocket", []Transport{WebSocket}, WebSocket},
	{"upgrade", nil, WebSocket},
}

// serverInfo is the answer to "info".
type serverInfo struct {
	ID        string   `json:"id"`
	Recovered bool     `json:"recovered"`
	Transport string   `json:"transport"`
	Rooms     []string `json:"rooms"`
	Stats     struct {
		MaxGet  int `json:"maxGet"`
		MaxPost int `json:"maxPost"`
		Posts   int `json:"posts"`
		Gets    int `json:"gets"`
		Refused int `json:"refused"`
	} `json:"stats"`
}

func info(t *testing.T, c *Client) serverInfo {
	t.Helper()
	a, err := c.EmitWithAck(ctxT(t, 5*time.Second), "info")
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	var in serverInfo
	if err := a.Decode(0, &in); err != nil {
		t.Fatalf("info: %v", err)
	}
	return in
}

// settle waits until the session runs on want, on both sides.
func settle(t *testing.T, c *Client, want Transport) {
	t.Helper()
	waitFor(t, "transport "+string(want), func() bool { return c.Transport() == want })
	if in := info(t, c); in.Transport != string(want) {
		t.Fatalf("server says the transport is %q, want %q", in.Transport, want)
	}
}

// recorder keeps what listeners saw, for checking later.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// wait waits until n entries are in, then returns them.
func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d recorded entries", n), func() bool { return len(r.list()) >= n })
	return r.list()
}

func TestNodeEventsAcksBinary(t *testing.T) {
	node := startNode(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{Transports: m.transports})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			settle(t, c, m.want)

			// Client to server, acknowledged with the same arguments.
			a, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", "hi", 7, []byte{0, 1, 255}, map[string]any{"deep": []any{[]byte{4}}})
			if err != nil {
				t.Fatal(err)
			}
			vals, err := a.Values()
			if err != nil || len(vals) != 4 || vals[0] != "hi" || vals[1] != json.Number("7") || !bytes.Equal(vals[2].([]byte), []byte{0, 1, 255}) {
				t.Fatalf("echo = %v, %v", vals, err)
			}
			obj, _ := vals[3].(socketio.Object)
			deep, _ := obj.Map()["deep"].([]any)
			if b, ok := first(deep).([]byte); !ok || !bytes.Equal(b, []byte{4}) {
				t.Errorf("nested attachment = %v", vals[3])
			}

			// Server to client, acknowledged by the client, text and binary.
			c.On("question", func(e *Event) {
				q, _ := e.Args.Value(0)
				if b, ok := q.([]byte); ok {
					e.Ack(append([]byte("re:"), b...))
					return
				}
				e.Ack("answer:" + e.Args.String(0))
			})
			a, err = c.EmitWithAck(ctxT(t, 5*time.Second), "ask-me", "q")
			if err != nil || a.String(0) != "answer:q" {
				t.Errorf("ask-me = %q, %v", a.String(0), err)
			}
			a, err = c.EmitWithAck(ctxT(t, 5*time.Second), "ask-me", []byte("x"))
			var b []byte
			if err != nil || a.Decode(0, &b) != nil || string(b) != "re:x" {
				t.Errorf("binary ask-me = %q, %v", b, err)
			}

			// Binary from the server.
			bins := make(chan []any, 1)
			c.On("bin", func(e *Event) {
				v, _ := e.Args.Values()
				bins <- v
			})
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "send-bin"); err != nil {
				t.Fatal(err)
			}
			select {
			case v := <-bins:
				obj, _ := v[1].(socketio.Object)
				nested, _ := obj.Map()["nested"].([]any)
				if !bytes.Equal(v[0].([]byte), []byte{1, 2, 3}) || len(nested) != 1 || !bytes.Equal(nested[0].([]byte), []byte("hi")) {
					t.Errorf("bin = %v", v)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no binary event from the server")
			}

			// Events reach the server in order, binary included.
			c.Emit("record", "a", 1)
			c.Emit("record", []byte{1, 2})
			c.Emit("record", "c")
			a, err = c.EmitWithAck(ctxT(t, 5*time.Second), "recorded")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(a.Raw(0)); got != `[["a",1],["bin:2"],["c"]]` {
				t.Errorf("server recorded %s", got)
			}

			in := info(t, c)
			if in.Stats.MaxGet > 1 || in.Stats.MaxPost > 1 {
				t.Errorf("requests in flight at once: %d GET, %d POST; want at most 1 each", in.Stats.MaxGet, in.Stats.MaxPost)
			}
		})
	}
}

func TestNodeCatchAll(t *testing.T) {
	node := startNode(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{Transports: m.transports})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var in, out recorder
			c.OnAny(func(e *Event) { in.add("any:" + e.Name + ":" + string(e.Args.Raw(0))) })
			c.PrependAny(func(e *Event) { in.add("first:" + e.Name) })
			off := c.On("n1", func(e *Event) { in.add("n1:" + string(e.Args.Raw(0))) })
			c.On("n1", func(e *Event) { in.add("n1 again") })
			c.OnAnyOutgoing(func(name string, args []any) { out.add(fmt.Sprintf("%s %v", name, args)) })
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "many", 3); err != nil {
				t.Fatal(err)
			}
			want := []string{"first:n0", "any:n0:0", "first:n1", "any:n1:1", "n1:1", "n1 again", "first:n2", "any:n2:2"}
			if got := in.wait(t, len(want)); !slices.Equal(got, want) {
				t.Errorf("listeners saw %q, want %q", got, want)
			}
			if got := out.wait(t, 1); got[0] != "many [3]" {
				t.Errorf("outgoing listener saw %q", got)
			}

			// Removing: one registration, then all catch-all listeners.
			off()
			c.OffAny()
			c.OffAnyOutgoing()
			in.mu.Lock()
			in.got = nil
			in.mu.Unlock()
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "many", 2); err != nil {
				t.Fatal(err)
			}
			if got := in.wait(t, 1); !slices.Equal(got, []string{"n1 again"}) {
				t.Errorf("after off: %q, want only the second n1 listener", got)
			}
			if got := out.list(); len(got) != 1 {
				t.Errorf("outgoing listener called after OffAnyOutgoing: %q", got)
			}
		})
	}
}

func TestNodeAckTimeout(t *testing.T) {
	node := startNode(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{Transports: m.transports, AckTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			_, err = c.Timeout(100*time.Millisecond).EmitWithAck(ctxT(t, 5*time.Second), "ignore")
			if !errors.Is(err, ErrTimeout) || time.Since(start) > 3*time.Second {
				t.Errorf("Timeout(100ms) on an event never acknowledged = %v after %v, want ErrTimeout", err, time.Since(start))
			}
			_, err = c.EmitWithAck(ctxT(t, 5*time.Second), "ignore")
			if !errors.Is(err, ErrTimeout) {
				t.Errorf("AckTimeout on an event never acknowledged = %v, want ErrTimeout", err)
			}
			if err != nil && err.Error() != "client: operation has timed out" {
				t.Errorf("error text %q", err)
			}
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", 1); err != nil {
				t.Errorf("acknowledged event with AckTimeout: %v", err)
			}
		})
	}
}

// tick is one "tick" event the server broadcast: its number, its offset
// and its attachment if it has one.
type tick struct {
	n      int
	offset string
	bin    []byte
}

func (tk tick) String() string { return fmt.Sprintf("%d%x", tk.n, tk.bin) }

// onTicks records the client's ticks; the function it returns gives a copy
// of those so far.
func onTicks(c *Client) func() []tick {
	var mu sync.Mutex
	var ticks []tick
	c.On("tick", func(e *Event) {
		var tk tick
		e.Args.Decode(0, &tk.n)
		e.Args.Decode(e.Args.Len()-1, &tk.offset)
		if e.Args.Len() == 3 {
			e.Args.Decode(1, &tk.bin)
		}
		mu.Lock()
		ticks = append(ticks, tk)
		mu.Unlock()
	})
	return func() []tick {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(ticks)
	}
}

func tickStrings(ticks []tick) []string {
	var s []string
	for _, tk := range ticks {
		s = append(s, tk.String())
	}
	return s
}

// TestNodeRecovery: the server closes the Engine.IO connection and, once the
// socket is disconnected, broadcasts ticks to its room. The client
// reconnects with its pid and offset, gets its id and room back, and the
// missed ticks in order; Recovered is true.
func TestNodeRecovery(t *testing.T) {
	node := startNode(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			reasons := make(chan DisconnectReason, 4)
			c, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{
				Transports:     m.transports,
				ReconnectDelay: 50 * time.Millisecond, Jitter: -1,
				OnDisconnect: func(r DisconnectReason, err error) { reasons <- r },
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ticks := onTicks(c)
			count := func() int { return len(ticks()) }
			settle(t, c, m.want)
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "join", "r"); err != nil {
				t.Fatal(err)
			}
			// A first broadcast gives the client an offset.
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "tick", "r", 1); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "first tick", func() bool { return count() == 1 })
			if ticks()[0].offset == "" {
				t.Fatal("broadcast without an offset as last argument")
			}
			id := c.ID()
			if c.Recovered() {
				t.Error("Recovered() on the first connection")
			}
			c.Emit("drop", "r", 5)
			select {
			case r := <-reasons:
				if r != ReasonTransportClose {
					t.Errorf("disconnect reason %q, want %q", r, ReasonTransportClose)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no disconnection")
			}
			waitFor(t, "the missed ticks", func() bool { return count() >= 6 })
			waitFor(t, "reconnection", c.Connected)
			if !c.Recovered() {
				t.Error("Recovered() = false after a recovered reconnection")
			}
			if c.ID() != id {
				t.Errorf("id after recovery %q, want the old %q", c.ID(), id)
			}
			got := tickStrings(ticks()[1:])
			offsets := map[string]bool{}
			for _, tk := range ticks()[1:] {
				offsets[tk.offset] = true
			}
			if want := []string{"101", "202", "303", "404", "505"}; !slices.Equal(got, want) {
				t.Errorf("missed ticks %q, want %q in order", got, want)
			}
			if len(offsets) != 5 {
				t.Errorf("missed ticks carry %d distinct offsets, want 5", len(offsets))
			}
			in := info(t, c)
			if !in.Recovered || !slices.Contains(in.Rooms, "r") {
				t.Errorf("server: recovered %v, rooms %q; want true and r", in.Recovered, in.Rooms)
			}
			// The session keeps working, and recovers again.
			if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "tick", "r", 1); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a tick after recovery", func() bool { return count() == 7 })
		})
	}
}

// connTracker is a NetDialContext that remembers its connections, so a
// test can break them.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (ct *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		ct.mu.Lock()
		ct.conns = append(ct.conns, c)
		ct.mu.Unlock()
	}
	return c, err
}

// breakAll closes every connection dialled so far.
func (ct *connTracker) breakAll() {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, c := range ct.conns {
		c.Close()
	}
	ct.conns = nil
}

// TestNodeRecoveryTCPBreak breaks the client's TCP connections. The server
// sees the socket go and broadcasts meanwhile; the client reconnects once a
// second client, in the same room, has seen the server notice, and recovers
// the missed broadcasts in order.
func TestNodeRecoveryTCPBreak(t *testing.T) {
	node := startNode(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			watcher, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{Transports: []Transport{WebSocket}})
			if err != nil {
				t.Fatal(err)
			}
			defer watcher.Close()
			noticed := make(chan string, 1)
			watcher.On("dropped", func(e *Event) { noticed <- e.Args.String(0) })
			if _, err := watcher.EmitWithAck(ctxT(t, 5*time.Second), "join", "r"); err != nil {
				t.Fatal(err)
			}

			ct := &connTracker{}
			reasons := make(chan DisconnectReason, 4)
			c, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{
				Transports:     m.transports,
				ReconnectDelay: 20 * time.Millisecond, Jitter: -1,
				Dial:         conn.DialOptions{NetDialContext: ct.dial},
				OnDisconnect: func(r DisconnectReason, err error) { reasons <- r },
				OnReconnectAttempt: func(int, time.Duration) {
					// Reconnect only once the server has seen the socket go.
					select {
					case why := <-noticed:
						if why != "transport close" && why != "transport error" {
							t.Errorf("the server saw the socket go with %q", why)
						}
					case <-time.After(10 * time.Second):
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ticks := onTicks(c)
			settle(t, c, m.want)
			for _, ev := range [][]any{{"join", "r"}, {"tick", "r", 1}, {"arm", "r", 3}} {
				if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), ev[0].(string), ev[1:]...); err != nil {
					t.Fatal(err)
				}
			}
			// Over polling, breaking an idle keep-alive connection is no
			// failure (net/http dials again); break until a request in
			// flight fails.
			want := ReasonTransportClose
			if m.want == Polling {
				want = ReasonTransportError
			}
			deadline := time.After(10 * time.Second)
		breaking:
			for {
				ct.breakAll()
				select {
				case r := <-reasons:
					if r != want {
						t.Errorf("disconnect reason %q, want %q", r, want)
					}
					break breaking
				case <-time.After(50 * time.Millisecond):
				case <-deadline:
					t.Fatal("no disconnection")
				}
			}
			waitFor(t, "the missed ticks", func() bool { return len(ticks()) >= 4 })
			waitFor(t, "reconnection", c.Connected)
			if !c.Recovered() {
				t.Error("Recovered() = false")
			}
			if ns, want := tickStrings(ticks()), []string{"1", "1", "2", "3"}; !slices.Equal(ns, want) {
				t.Errorf("ticks %q, want %q", ns, want)
			}
		})
	}
}

// TestNodeDisconnectReasons checks the reasons OnDisconnect gets for what
// the server does, over each transport.
func TestNodeDisconnectReasons(t *testing.T) {
	node := startNode(t)
	tests := []struct {
		name   string
		event  string
		reason DisconnectReason
		cause  error
		ends   bool
	}{
		{"server disconnect", "kick", ReasonServerDisconnect, ErrServerDisconnect, true},
		{"transport close", "close-conn", ReasonTransportClose, nil, false},
		{"parse error", "garbage", ReasonParseError, socketio.ErrBadPacket, false},
		{"client disconnect", "", ReasonClientDisconnect, ErrClosed, true},
	}
	for _, m := range modes {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				type end struct {
					r   DisconnectReason
					err error
				}
				ends := make(chan end, 4)
				c, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{
					Transports:     m.transports,
					ReconnectDelay: 50 * time.Millisecond,
					OnDisconnect:   func(r DisconnectReason, err error) { ends <- end{r, err} },
				})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				settle(t, c, m.want)
				if tt.event == "" {
					c.Close()
				} else {
					c.Emit(tt.event)
				}
				select {
				case e := <-ends:
					if e.r != tt.reason || tt.cause != nil && !errors.Is(e.err, tt.cause) {
						t.Errorf("OnDisconnect(%q, %v), want %q and %v", e.r, e.err, tt.reason, tt.cause)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no disconnection")
				}
				if tt.ends {
					select {
					case <-c.Done():
					case <-time.After(5 * time.Second):
						t.Fatal("client still running")
					}
					if tt.reason == ReasonServerDisconnect {
						var de *DisconnectError
						if !errors.As(c.Err(), &de) || de.Reason != tt.reason || !errors.Is(c.Err(), ErrServerDisconnect) {
							t.Errorf("Err() = %v", c.Err())
						}
					}
					return
				}
				waitFor(t, "reconnection", c.Connected)
				if _, err := c.EmitWithAck(ctxT(t, 5*time.Second), "echo", 1); err != nil {
					t.Errorf("after reconnecting: %v", err)
				}
			})
		}
	}
}

// TestNodePostSplit sends more than the server's maxHttpBufferSize at once
// over polling: the client splits its POSTs to the server's maxPayload, one
// at a time, and the server takes every packet, in order.
func TestNodePostSplit(t *testing.T) {
	node := startNode(t, "--max-payload", "2000")
	c, err := Dial(ctxT(t, 10*time.Second), node.URL, &Options{Transports: []Transport{Polling}, NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := info(t, c).Stats.Posts
	pad := strings.Repeat("x", 150)
	for i := range 40 {
		if i%10 == 9 {
			c.Emit("record", i, bytes.Repeat([]byte{byte(i)}, 300))
		} else {
			c.Emit("record", i, pad)
		}
	}
	a, err := c.EmitWithAck(ctxT(t, 10*time.Second), "recorded")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	if err := json.Unmarshal(a.Raw(0), &got); err != nil || len(got) != 40 {
		t.Fatalf("server recorded %d events (%v), want 40", len(got), err)
	}
	for i, ev := range got {
		if ev[0] != float64(i) {
			t.Fatalf("event %d recorded as %v: out of order", i, ev[0])
		}
	}
	in := info(t, c)
	t.Logf("%d POSTs for 40 events; at most %d POST and %d GET in flight", in.Stats.Posts-before, in.Stats.MaxPost, in.Stats.MaxGet)
	if posts := in.Stats.Posts - before; posts < 4 {
		t.Errorf("%d POSTs carried ~8 kB to a server taking 2000 bytes per POST", posts)
	}
	if in.Stats.MaxPost > 1 || in.Stats.MaxGet > 1 {
		t.Errorf("in flight at once: %d POST, %d GET", in.Stats.MaxPost, in.Stats.MaxGet)
	}
}

// TestNodeStickyCookie: the server sets the "io" cookie and refuses any
// request of the session without it. The client's jar carries it, over
// polling and through the upgrade; a jar that drops cookies fails.
func TestNodeStickyCookie(t *testing.T) {
	node := startNode(t, "--sticky")
	c, err := Dial(ctxT(t, 10*time.Second), node.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	settle(t, c, WebSocket)
	in := info(t, c)
	if in.Stats.Refused != 0 {
		t.Errorf("the server refused %d requests without the cookie", in.Stats.Refused)
	}
	c.Close()

	_, err = Dial(ctxT(t, 10*time.Second), node.URL, &Options{Transports: []Transport{Polling}, Jar: nullJar{}, NoReconnect: true})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest || se.Message != "no sticky-session cookie" {
		t.Errorf("Dial with a jar that keeps nothing = %v, want the server's refusal", err)
	}
}

// nullJar keeps no cookies.
type nullJar struct{}

func (nullJar) SetCookies(*url.URL, []*http.Cookie) {}
func (nullJar) Cookies(*url.URL) []*http.Cookie     { return nil }

// first returns a[0], or nil for an empty slice.
func first(a []any) any {
	if len(a) == 0 {
		return nil
	}
	return a[0]
}
