package realtime

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime/engineio"
)

// rawClient speaks Engine.IO by hand, to check the server's bytes and feed
// it bad ones.
type rawClient struct {
	t    *testing.T
	base string // http://host:port/socket.io/
}

func newRaw(t *testing.T, opts *Options) (*rawClient, *Server) {
	t.Helper()
	srv := NewServer(opts)
	newTestApp(srv)
	url, _ := serve(t, srv)
	t.Cleanup(func() { srv.Close() })
	return &rawClient{t: t, base: url + "/socket.io/"}, srv
}

func (rc *rawClient) do(method, query, body string) (int, string, http.Header) {
	rc.t.Helper()
	req, err := http.NewRequest(method, rc.base+"?"+query, strings.NewReader(body))
	if err != nil {
		rc.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		rc.t.Fatalf("%s ?%s: %v", method, query, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// open does a polling handshake and returns the handshake data.
func (rc *rawClient) open() engineio.Handshake {
	rc.t.Helper()
	status, body, hdr := rc.do("GET", "EIO=4&transport=polling", "")
	if status != 200 || !strings.HasPrefix(body, "0{") {
		rc.t.Fatalf("handshake = %d %q", status, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		rc.t.Errorf("handshake Content-Type %q", ct)
	}
	h, err := engineio.ParseHandshake([]byte(body[1:]))
	if err != nil {
		rc.t.Fatal(err)
	}
	return h
}

func (rc *rawClient) poll(sid string) (int, string) {
	rc.t.Helper()
	s, b, _ := rc.do("GET", "EIO=4&transport=polling&sid="+sid, "")
	return s, b
}

func (rc *rawClient) post(sid, body string) (int, string) {
	rc.t.Helper()
	s, b, _ := rc.do("POST", "EIO=4&transport=polling&sid="+sid, body)
	return s, b
}

func (rc *rawClient) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(rc.base, "http") + "?" + query
}

func TestPollingHandshakeAndEvents(t *testing.T) {
	rc, _ := newRaw(t, &Options{PingInterval: 300 * time.Millisecond, PingTimeout: 2 * time.Second, MaxPayload: 5000})
	h := rc.open()
	if len(h.SID) != 20 || h.PingInterval != 300 || h.PingTimeout != 2000 || h.MaxPayload != 5000 ||
		len(h.Upgrades) != 1 || h.Upgrades[0] != "websocket" {
		t.Errorf("handshake = %+v", h)
	}
	if s, b := rc.post(h.SID, "40"); s != 200 || b != "ok" {
		t.Fatalf("POST CONNECT = %d %q", s, b)
	}
	s, b := rc.poll(h.SID)
	if s != 200 || !strings.HasPrefix(b, `40{"sid":"`) {
		t.Fatalf("GET after CONNECT = %d %q, want 40{\"sid\":...}", s, b)
	}
	// An event with an ack, and a binary one, in one POST.
	if s, b := rc.post(h.SID, "421[\"echo\",\"x\"]\x1e451-3[\"echo\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID"); s != 200 || b != "ok" {
		t.Fatalf("POST events = %d %q", s, b)
	}
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		_, b = rc.poll(h.SID)
		for _, p := range strings.Split(b, "\x1e") {
			if p != "2" {
				got = append(got, p)
			}
		}
	}
	want := []string{`431["x"]`, `461-3[{"_placeholder":true,"num":0}]`, "bAQID"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("acks over polling = %q, want %q", got, want)
	}
	// The server pings within PingInterval; the GET carries "2".
	_, b = rc.poll(h.SID)
	if b != "2" {
		t.Errorf("idle GET = %q, want a ping \"2\"", b)
	}
	if s, _ := rc.post(h.SID, "3"); s != 200 {
		t.Errorf("POST pong = %d", s)
	}
	// The client closes the session; the sid is then unknown.
	if s, _ := rc.post(h.SID, "1"); s != 200 {
		t.Errorf("POST close = %d", s)
	}
	if s, b := rc.poll(h.SID); s != 400 || b != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("GET after close = %d %q", s, b)
	}
}

// TestUpgradeByHand walks through the upgrade of the Engine.IO protocol v4,
// section "Upgrade": probe, noop to the waiting GET, upgrade, then data
// queued meanwhile arrives on the WebSocket.
func TestUpgradeByHand(t *testing.T) {
	rc, srv := newRaw(t, nil)
	h := rc.open()
	rc.post(h.SID, "40")
	rc.poll(h.SID) // the CONNECT reply
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket&sid="+h.SID), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// A GET waiting while the probe runs must end with a noop.
	var wg sync.WaitGroup
	var pollBody string
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, pollBody = rc.poll(h.SID)
	}()
	time.Sleep(50 * time.Millisecond)
	ws.WriteMessage(ctx, conn.Text, []byte("2probe"))
	_, b, err := ws.ReadMessage(ctx, nil)
	if err != nil || string(b) != "3probe" {
		t.Fatalf("probe answer = %q, %v", b, err)
	}
	wg.Wait()
	if pollBody != "6" {
		t.Errorf("GET during the upgrade = %q, want noop \"6\"", pollBody)
	}
	// Something emitted before the upgrade completes goes out on the
	// WebSocket after it.
	srv.Of("/").Emit("hello", "during")
	ws.WriteMessage(ctx, conn.Text, []byte("5"))
	_, b, err = ws.ReadMessage(ctx, nil)
	if err != nil || string(b) != `42["hello","during"]` {
		t.Errorf("first WebSocket message = %q, %v", b, err)
	}
	if s, _ := rc.poll(h.SID); s != 400 {
		t.Errorf("GET after the upgrade = %d, want 400", s)
	}
	ws.WriteMessage(ctx, conn.Text, []byte(`42["echo","after"]`)) // no ack wanted: nothing comes back
	ws.WriteMessage(ctx, conn.Text, []byte(`429["echo","after"]`))
	for {
		_, b, err = ws.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == "2" {
			ws.WriteMessage(ctx, conn.Text, []byte("3"))
			continue
		}
		if string(b) != `439["after"]` {
			t.Errorf("ack over WebSocket = %q", b)
		}
		break
	}
}

func TestWebSocketHandshake(t *testing.T) {
	rc, _ := newRaw(t, &Options{PingInterval: 200 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_, b, err := ws.ReadMessage(ctx, nil)
	if err != nil || b[0] != '0' {
		t.Fatalf("first message = %q, %v", b, err)
	}
	var h engineio.Handshake
	if err := json.Unmarshal(b[1:], &h); err != nil || len(h.Upgrades) != 0 || h.PingInterval != 200 {
		t.Errorf("WebSocket handshake = %s, %v; want no upgrades", b, err)
	}
	// Not answering pings: the server closes within PingInterval+PingTimeout.
	start := time.Now()
	for {
		_, b, err = ws.ReadMessage(ctx, nil)
		if err != nil {
			break
		}
		if string(b) != "2" {
			t.Errorf("unexpected %q", b)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v, want about 400 ms", d)
	}
}

// TestConnectReplyApart: the CONNECT reply goes in a write of its own, and
// what the connection handler emits follows later, so a client that handles
// one message per network read (Node's ws, as the official Socket.IO
// protocol test suite uses it) sees both; Node's server behaves so. It is a
// matter of timing, so 5 of 20 rounds may miss on a loaded machine; without
// the pause (engine.SeparateGap 0) all of them do.
func TestConnectReplyApart(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	srv := NewServer(nil)
	defer srv.Close()
	for _, name := range []string{"/", "/custom"} {
		srv.Of(name).OnConnection(func(s *Socket) { s.Emit("auth", s.Auth()) })
	}
	url, _ := serve(t, srv)
	ws := "ws" + strings.TrimPrefix(url, "http") + "/socket.io/?EIO=4&transport=websocket"
	testpeer.RunScript(t, nodeCmd(t, []string{"ws"}, nodeScript("one-per-read.js"), ws, "20", "5"), time.Minute, nil)
}
