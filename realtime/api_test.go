package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime/socketio"
)

// TestListeners checks the listener API on one socket: On adds, the
// returned function removes one, Off removes all; catch-all listeners in
// order, PrependAny first, OffAny; outgoing listeners see direct emits and
// broadcasts; per-packet middleware errors reach OnError.
func TestListeners(t *testing.T) {
	rc, srv := newRaw(t, nil)
	var mu sync.Mutex
	var log []string
	add := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	ready := make(chan *Socket, 1)
	srv.Of("/").OnConnection(func(s *Socket) {
		s.On("ev", func(e *Event) { add("a") })
		offB := s.On("ev", func(e *Event) { add("b") })
		s.On("ev", func(e *Event) { add("c") })
		offB()
		s.On("gone", func(e *Event) { add("gone") })
		s.Off("gone")
		s.OnAny(func(e *Event) { add("any1:" + e.Name) })
		s.PrependAny(func(e *Event) { add("any0:" + e.Name) })
		s.Use(func(e *Event) error {
			if e.Name == "bad" {
				return errors.New("no bad")
			}
			return nil
		})
		s.OnError(func(err error) { add("error:" + err.Error()) })
		s.OnAnyOutgoing(func(ev string, args socketio.Args) { add("out:" + ev + ":" + args.String(0)) })
		ready <- s
	})
	h := rc.open()
	rc.post(h.SID, "40")
	s := <-ready
	rc.post(h.SID, `42["ev"]`+"\x1e"+`42["gone"]`+"\x1e"+`42["bad"]`)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) >= 8 })
	mu.Lock()
	want := []string{"any0:ev", "any1:ev", "a", "c", "any0:gone", "any1:gone", "any0:bad", "any1:bad", "error:no bad"}
	if !slices.Equal(log, want) {
		t.Errorf("incoming: %q, want %q", log, want)
	}
	log = nil
	mu.Unlock()
	s.OffAny()
	s.Emit("direct", "1")
	srv.Of("/").Emit("broadcast", "2")
	s.Volatile().Emit("volatile", "3") // dropped or not, it is seen going out
	mu.Lock()
	want = []string{"out:direct:1", "out:broadcast:2", "out:volatile:3"}
	if !slices.Equal(log, want) {
		t.Errorf("outgoing: %q, want %q", log, want)
	}
	log = nil
	mu.Unlock()
	s.OffAnyOutgoing()
	rc.post(h.SID, `42["ev"]`)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 2 })
	s.Emit("after", "x")
	mu.Lock()
	if !slices.Equal(log, []string{"a", "c"}) {
		t.Errorf("after OffAny and OffAnyOutgoing: %q", log)
	}
	mu.Unlock()
}

// TestDisconnectAll checks Disconnect(true): every socket of the
// connection gets a DISCONNECT and "server namespace disconnect", as in
// Node, and disconnecting handlers still see the rooms.
func TestDisconnectAll(t *testing.T) {
	rc, srv := newRaw(t, nil)
	var mu sync.Mutex
	reasons := map[string]DisconnectReason{}
	var roomsSeen []string
	sockets := make(chan *Socket, 2)
	for _, name := range []string{"/", "/admin2"} {
		ns := srv.Of(name)
		ns.OnConnection(func(s *Socket) {
			s.Join("r")
			s.OnDisconnecting(func(DisconnectReason) {
				mu.Lock()
				roomsSeen = append(roomsSeen, strings.Join(s.Rooms(), ","))
				mu.Unlock()
			})
			s.OnDisconnect(func(r DisconnectReason) {
				mu.Lock()
				reasons[name] = r
				mu.Unlock()
			})
			sockets <- s
		})
	}
	h := rc.open()
	rc.post(h.SID, "40\x1e40/admin2,")
	first := <-sockets
	<-sockets
	first.Disconnect(true)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(reasons) == 2 })
	_, body := rc.poll(h.SID)
	if !strings.Contains(body, "41") || !strings.Contains(body, "41/admin2,") || !strings.HasSuffix(body, "1") {
		t.Errorf("GET after Disconnect(true) = %q, want both DISCONNECTs then the close packet", body)
	}
	mu.Lock()
	defer mu.Unlock()
	for ns, r := range reasons {
		if r != ReasonServerNamespace {
			t.Errorf("%s disconnected with %q", ns, r)
		}
	}
	for _, rs := range roomsSeen {
		if !strings.Contains(rs, "r") {
			t.Errorf("disconnecting handler saw rooms %q", rs)
		}
	}
}

// TestServerSideEvents delivers a server-side event as a cluster adapter
// does: the listeners get the arguments and their acknowledgement goes
// back once.
func TestServerSideEvents(t *testing.T) {
	srv := NewServer(nil)
	defer srv.Close()
	ns := srv.Of("/")
	ns.OnServerSideEmit("hello", func(e *ServerSideEvent) {
		e.Ack("hi " + e.Args.String(0))
		if err := e.Ack("again"); err == nil {
			t.Error("a second Ack succeeded")
		}
	})
	var got []string
	err := ns.DeliverServerSideEmit(json.RawMessage(`["hello","node-2"]`), func(a json.RawMessage) { got = append(got, string(a)) })
	if err != nil || !slices.Equal(got, []string{`["hi node-2"]`}) {
		t.Errorf("DeliverServerSideEmit: %v, acks %q", err, got)
	}
	if err := ns.DeliverServerSideEmit(json.RawMessage(`{"not":"an array"}`), nil); err == nil {
		t.Error("a malformed server-side event was delivered")
	}
	if err := ns.ServerSideEmit("bin", []byte{1}); err == nil {
		t.Error("ServerSideEmit took binary data")
	}
	acks, err := ns.ServerSideEmitWithAck(context.Background(), "hello", "x")
	if err != nil || len(acks) != 0 {
		t.Errorf("ServerSideEmitWithAck on one server = %v, %v; want none at once", acks, err)
	}
}

// TestHandshakeJSON checks Node's layout of a handshake and the round trip.
func TestHandshakeJSON(t *testing.T) {
	h := &Handshake{
		Header: http.Header{"User-Agent": {"x"}, "Cookie": {"a=1", "b=2"}},
		Query:  url.Values{"EIO": {"4"}, "t": {"1", "2"}},
		Host:   "example.com", RemoteAddr: "10.0.0.1:5555",
		Time: time.UnixMilli(1_700_000_000_123).UTC(),
		URL:  "/socket.io/?EIO=4", XDomain: true, Auth: json.RawMessage(`{"token":"t"}`),
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["address"] != "10.0.0.1" || m["issued"] != float64(1_700_000_000_123) || m["xdomain"] != true ||
		m["time"] != "Tue Nov 14 2023 22:13:20 GMT+0000 (Coordinated Universal Time)" {
		t.Errorf("handshake JSON %s", b)
	}
	hdrs := m["headers"].(map[string]any)
	if hdrs["user-agent"] != "x" || hdrs["host"] != "example.com" || !reflect.DeepEqual(hdrs["cookie"], []any{"a=1", "b=2"}) {
		t.Errorf("headers %v", hdrs)
	}
	var back Handshake
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Host != "example.com" || back.Header.Get("User-Agent") != "x" || !slices.Equal(back.Query["t"], []string{"1", "2"}) ||
		string(back.Auth) != `{"token":"t"}` || !back.Time.Equal(h.Time) {
		t.Errorf("round trip: %+v", back)
	}
}

// TestRecoverableReasons pins which reasons keep a socket's state.
func TestRecoverableReasons(t *testing.T) {
	for r, want := range map[DisconnectReason]bool{
		ReasonTransportClose: true, ReasonTransportError: true, ReasonPingTimeout: true, ReasonForcedClose: true,
		ReasonServerShutdown: true, ReasonForcedServerClose: true,
		ReasonClientNamespace: false, ReasonServerNamespace: false, ReasonParseError: false,
	} {
		if r.Recoverable() != want {
			t.Errorf("%q.Recoverable() = %v", r, !want)
		}
	}
}
