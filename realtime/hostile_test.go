package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engine"
)

func TestBadRequests(t *testing.T) {
	rc, _ := newRaw(t, &Options{DisableWebSocket: false})
	tests := []struct {
		name, method, query string
		status              int
		body                string
	}{
		{"no EIO", "GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO 3", "GET", "EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"no transport", "GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown transport", "GET", "EIO=4&transport=flashsocket", 400, `{"code":0,"message":"Transport unknown"}`},
		{"POST handshake", "POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
		{"unknown sid GET", "GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, hdr := rc.do(tt.method, tt.query, "40")
			if status != tt.status || body != tt.body || hdr.Get("Content-Type") != "application/json" {
				t.Errorf("%s ?%s = %d %s (%s), want %d %s", tt.method, tt.query, status, body, hdr.Get("Content-Type"), tt.status, tt.body)
			}
		})
	}
	t.Run("unknown sid websocket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket&sid=nope"), nil)
		if err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("WebSocket with unknown sid: %v, want a 400 refusal", err)
		}
	})
	t.Run("forbidden", func(t *testing.T) {
		rc, _ := newRaw(t, &Options{AllowRequest: func(*http.Request) error { return errors.New("no") }})
		status, body, _ := rc.do("GET", "EIO=4&transport=polling", "")
		if status != 403 || body != `{"code":4,"message":"no"}` {
			t.Errorf("refused by AllowRequest = %d %s", status, body)
		}
	})
}

// closeRecorder records the sessions' close reasons.
type closeRecorder struct {
	mu   sync.Mutex
	errs map[string]error
	why  map[string]string
	ch   chan string
}

func newRecorder() *closeRecorder {
	return &closeRecorder{errs: map[string]error{}, why: map[string]string{}, ch: make(chan string, 100)}
}

func (r *closeRecorder) hook(sid string, reason DisconnectReason, err error) {
	r.mu.Lock()
	r.errs[sid], r.why[sid] = err, string(reason)
	r.mu.Unlock()
	r.ch <- sid
}

// wait waits for session sid to close and returns its reason and error.
func (r *closeRecorder) wait(t *testing.T, sid string) (string, error) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		why, ok := r.why[sid]
		err := r.errs[sid]
		r.mu.Unlock()
		if ok {
			return why, err
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("session %s did not close", sid)
		}
	}
}

// TestHostilePolling sends bad input over polling: each closes the session
// with a clear error; the session's next GET finds it gone (a parse error
// of Engine.IO), or gets its close packet (a Socket.IO error, which closes
// the session as the server's own decision). The statuses, bodies and
// reasons are those of Node's socket.io 4.8 for the same requests.
func TestHostilePolling(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		status  int
		reason  string
		err     string
		lastGet string // the body of the GET after the close; "" for a 400
	}{
		{"unknown engine type", "9", 200, "parse error", "engineio: malformed packet", ""},
		{"empty packet", "40\x1e", 200, "parse error", "engineio: malformed packet", ""},
		{"invalid utf-8", "4\xff", 200, "parse error", "not valid UTF-8", ""},
		{"bad base64", "b!!", 200, "parse error", "base64", ""},
		{"ping from the client", "2", 200, "transport error", "heartbeat", ""},
		{"bad socket.io type", "49", 200, "forced close", "socketio: malformed packet", "6\x1e1"},
		{"event not an array", `42{"a":1}`, 200, "forced close", "socketio: malformed packet", "6\x1e1"},
		{"reserved event", `42["disconnect"]`, 200, "forced close", "reserved event name", "6\x1e1"},
		{"invalid JSON", `42["a"`, 200, "forced close", "not valid JSON", "6\x1e1"},
		{"too many attachments", `4511-["a"]`, 200, "forced close", "too many attachments", "6\x1e1"},
		{"binary without packet", "bAQID", 200, "forced close", "binary message without a packet", "6\x1e1"},
		{"placeholder out of range", "451-[\"a\",{\"_placeholder\":true,\"num\":3}]\x1ebAQID", 200, "forced close", "placeholder", "6\x1e1"},
		{"connect error from client", `44{"message":"x"}`, 200, "forced server close", ErrInvalidState.Error(), "6\x1e1"},
		{"event before connect", `42["x"]`, 200, "forced server close", ErrInvalidState.Error(), "6\x1e1"},
		{"oversized", "4" + strings.Repeat("x", 2000), 413, "transport error", ErrPayloadTooLarge.Error(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			rc, srv := newRaw(t, &Options{MaxPayload: 1000, OnSessionClose: rec.hook})
			h := rc.open()
			status, _ := rc.post(h.SID, tt.body)
			if status != tt.status {
				t.Errorf("POST %.20q = %d, want %d", tt.body, status, tt.status)
			}
			reason, err := rec.wait(t, h.SID)
			if reason != tt.reason || err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("session closed with %q, %v; want %q, an error containing %q", reason, err, tt.reason, tt.err)
			}
			if tt.lastGet != "" {
				if s, b := rc.poll(h.SID); s != 200 || b != tt.lastGet {
					t.Errorf("GET after the close = %d %q, want 200 %q", s, b, tt.lastGet)
				}
			}
			if s, _ := rc.poll(h.SID); s != 400 {
				t.Errorf("GET on the closed session = %d, want 400", s)
			}
			if n := srv.SessionCount(); n != 0 {
				t.Errorf("%d sessions left", n)
			}
		})
	}
	t.Run("overlapping GETs", func(t *testing.T) {
		rec := newRecorder()
		rc, _ := newRaw(t, &Options{OnSessionClose: rec.hook})
		h := rc.open()
		done := make(chan string, 1)
		go func() { _, b := rc.poll(h.SID); done <- b }()
		time.Sleep(50 * time.Millisecond)
		if s, _ := rc.poll(h.SID); s != 400 {
			t.Errorf("second GET = %d, want 400", s)
		}
		if b := <-done; b != "1" {
			t.Errorf("first GET ended with %q, want the close packet", b)
		}
		if _, err := rec.wait(t, h.SID); !errors.Is(err, engine.ErrOverlap) {
			t.Errorf("closed with %v, want errOverlap", err)
		}
	})
}

// TestHostileWebSocket sends bad input over WebSocket.
func TestHostileWebSocket(t *testing.T) {
	tests := []struct {
		name string
		send func(ctx context.Context, c *conn.Conn)
		err  string
	}{
		{"unknown engine type", text("8"), "engineio: malformed packet"},
		{"bad socket.io packet", text(`42["a"`), "socketio: malformed packet"},
		{"too many attachments", text(`4511-["a"]`), "too many attachments"},
		{"binary without packet", func(ctx context.Context, c *conn.Conn) { c.WriteMessage(ctx, conn.Binary, []byte{1}) }, "binary message without a packet"},
		{"text while awaiting attachments", func(ctx context.Context, c *conn.Conn) {
			c.WriteMessage(ctx, conn.Text, []byte(`451-["a",{"_placeholder":true,"num":0}]`))
			c.WriteMessage(ctx, conn.Text, []byte(`42["a"]`))
		}, "text message while 1 attachments are awaited"},
		{"message over MaxPayload", func(ctx context.Context, c *conn.Conn) {
			c.WriteMessage(ctx, conn.Binary, make([]byte, 5000))
		}, "1009"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			rc, srv := newRaw(t, &Options{MaxPayload: 1000, OnSessionClose: rec.hook})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			_, open, err := c.ReadMessage(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			sid := strings.Split(strings.Split(string(open), `"sid":"`)[1], `"`)[0]
			readDone := make(chan struct{})
			go func() { // the server closes the connection
				defer close(readDone)
				for {
					if _, _, err := c.ReadMessage(ctx, nil); err != nil {
						return
					}
				}
			}()
			tt.send(ctx, c)
			_, err = rec.wait(t, sid)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("session closed with %v, want an error containing %q", err, tt.err)
			}
			<-readDone
			waitCount(t, srv, 0)
		})
	}
}

func text(s string) func(context.Context, *conn.Conn) {
	return func(ctx context.Context, c *conn.Conn) { c.WriteMessage(ctx, conn.Text, []byte(s)) }
}

func waitCount(t *testing.T, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for srv.SessionCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions, want %d", srv.SessionCount(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowConsumer floods clients that do not read: the session is closed
// with ErrBufferFull once its queue passes MaxBufferedBytes, so memory stays
// bounded.
func TestSlowConsumer(t *testing.T) {
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			rec := newRecorder()
			const limit = 256 << 10
			rc, srv := newRaw(t, &Options{MaxBufferedBytes: limit, OnSessionClose: rec.hook})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var sid string
			if transport == "polling" {
				sid = rc.open().SID
				rc.post(sid, "40")
			} else {
				c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), &conn.DialOptions{Options: conn.Options{ReadBufferSize: 512}})
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				_, open, _ := c.ReadMessage(ctx, nil)
				sid = strings.Split(strings.Split(string(open), `"sid":"`)[1], `"`)[0]
				c.WriteMessage(ctx, conn.Text, []byte("40"))
				// and never read again: TCP buffers fill, then the queue.
			}
			ns := srv.Of("/")
			waitFor(t, func() bool { return ns.SocketCount() == 1 })
			chunk := strings.Repeat("x", 32<<10)
			var sent int
			for i := 0; i < 10_000 && ctx.Err() == nil; i++ { // bounded: ~320 MiB at most
				ns.Emit("flood", chunk)
				sent += len(chunk)
				if srv.SessionCount() == 0 {
					break
				}
			}
			reason, err := rec.wait(t, sid)
			if !errors.Is(err, ErrBufferFull) || reason != "transport error" {
				t.Errorf("session closed with %q, %v; want transport error, ErrBufferFull", reason, err)
			}
			t.Logf("closed after %d KiB emitted (limit %d KiB queued)", sent>>10, limit>>10)
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVanishedClients checks that sessions whose client goes silent are
// freed: no pong within the ping timeout, or no namespace joined in time.
func TestVanishedClients(t *testing.T) {
	rec := newRecorder()
	rc, srv := newRaw(t, &Options{
		PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond,
		ConnectTimeout: 5 * time.Second, OnSessionClose: rec.hook,
	})
	silent := rc.open().SID
	rc.post(silent, "40")
	reason, err := rec.wait(t, silent)
	if reason != "ping timeout" || !errors.Is(err, ErrPingTimeout) {
		t.Errorf("silent polling session closed with %q, %v", reason, err)
	}

	rec2 := newRecorder()
	rc2, srv2 := newRaw(t, &Options{ConnectTimeout: 100 * time.Millisecond, OnSessionClose: rec2.hook})
	idle := rc2.open().SID
	if _, err := rec2.wait(t, idle); !errors.Is(err, ErrConnectTimeout) {
		t.Errorf("session without CONNECT closed with %v, want ErrConnectTimeout", err)
	}
	waitCount(t, srv, 0)
	waitCount(t, srv2, 0)
}

func TestMaxSessions(t *testing.T) {
	rc, _ := newRaw(t, &Options{MaxSessions: 2})
	rc.open()
	rc.open()
	status, body, _ := rc.do("GET", "EIO=4&transport=polling", "")
	if status != http.StatusServiceUnavailable {
		t.Errorf("third handshake = %d %s, want 503", status, body)
	}
}

// TestNoGoroutineLeak opens and closes many sessions of both transports and
// checks that, once the server is closed, their goroutines are gone.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	// The test's clients do not read, so the server's closing handshakes
	// time out: keep that short.
	ws := conn.AcceptOptions{Options: conn.Options{CloseTimeout: 100 * time.Millisecond}}
	rc, srv := newRaw(t, &Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond, WebSocket: ws})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 20 {
		h := rc.open()
		rc.post(h.SID, "40")
		if i%2 == 0 {
			c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket&sid="+h.SID), nil)
			if err != nil {
				t.Fatal(err)
			}
			c.WriteMessage(ctx, conn.Text, []byte("2probe"))
			c.ReadMessage(ctx, nil)
			c.WriteMessage(ctx, conn.Text, []byte("5"))
			if i%4 == 0 {
				c.CloseNow() // vanished
			} else {
				defer c.CloseNow()
			}
		}
		c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		c.ReadMessage(ctx, nil)
		c.WriteMessage(ctx, conn.Text, []byte("40"))
		defer c.CloseNow()
	}
	if n := srv.SessionCount(); n == 0 {
		t.Fatal("no sessions open")
	}
	srv.Close()
	if n := srv.SessionCount(); n != 0 {
		t.Errorf("%d sessions after Close", n)
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestIncomingFlood floods a session whose handler is stuck: the packets
// held for the handler stay within MaxBufferedBytes (reading from the
// client stops), and once the handler moves again every event is handled,
// in order.
func TestIncomingFlood(t *testing.T) {
	const limit = 64 << 10
	srv := NewServer(&Options{MaxBufferedBytes: limit, EventQueue: 10_000})
	release := make(chan struct{})
	var mu sync.Mutex
	var got []int
	srv.Of("/").OnConnection(func(s *Socket) {
		s.On("e", func(e *Event) {
			<-release
			var i int
			e.Args.Decode(0, &i)
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		})
	})
	url, _ := serve(t, srv)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := conn.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	go func() {
		for {
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	}()
	const n = 400
	pad := strings.Repeat("x", 1000)
	writeErr := make(chan error, 1)
	go func() {
		if err := c.WriteMessage(ctx, conn.Text, []byte("40")); err != nil {
			writeErr <- err
			return
		}
		for i := range n {
			msg := fmt.Sprintf(`42["e",%d,"%s"]`, i, pad)
			if err := c.WriteMessage(ctx, conn.Text, []byte(msg)); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	var cl *client
	waitFor(t, func() bool {
		for _, s := range srv.Of("/").Sockets() {
			cl = s.client
		}
		return cl != nil
	})
	heldBytes := func() int {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return cl.inBytes
	}
	// The flood fills the handler queue up to the limit, and no further.
	full := limit - 2*len(pad)
	waitFor(t, func() bool { return heldBytes() >= full })
	for range 20 {
		if held := heldBytes(); held > limit {
			t.Fatalf("%d bytes held for the stuck handler, over the %d limit", held, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if err := <-writeErr; err != nil {
		t.Fatalf("client write: %v", err)
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	for i, v := range got {
		if v != i {
			t.Fatalf("event %d handled as %d: out of order", i, v)
		}
	}
}

// TestHostileRecovery sends CONNECT packets with malformed or forged
// recovery fields: each gets a new socket (not recovered) and the session
// stays usable; only the true pid with a known offset recovers, once.
func TestHostileRecovery(t *testing.T) {
	rc, srv := newRaw(t, &Options{ConnectionStateRecovery: &RecoveryOptions{}})
	ns := srv.Of("/")
	var pid, sid, offset string
	{
		h := rc.open()
		rc.post(h.SID, "40")
		_, b := rc.poll(h.SID)
		var c struct{ Sid, Pid string }
		json.Unmarshal([]byte(strings.TrimPrefix(b, "40")), &c)
		pid, sid = c.Pid, c.Sid
		if pid == "" || sid == "" {
			t.Fatalf("CONNECT reply %q has no sid and pid", b)
		}
		ns.To(sid).Emit("x", 1)
		_, b = rc.poll(h.SID)
		// 42["x",1,"<offset>"]
		parts := strings.Split(strings.TrimSuffix(b, `"]`), `"`)
		offset = parts[len(parts)-1]
		rc.post(h.SID, "1") // the client closes: "transport close", recoverable
		waitFor(t, func() bool { return ns.Socket(sid) == nil })
	}
	tests := []struct {
		name string
		auth string
	}{
		{"pid of the wrong type", `{"pid":1,"offset":"` + offset + `"}`},
		{"offset of the wrong type", `{"pid":"` + pid + `","offset":{"a":1}}`},
		{"unknown pid", `{"pid":"nope","offset":"` + offset + `"}`},
		{"unknown offset", `{"pid":"` + pid + `","offset":"0"}`},
		{"huge offset", `{"pid":"` + pid + `","offset":"` + strings.Repeat("9", 50_000) + `"}`},
		{"auth not an object", `["pid","offset"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rc.open()
			rc.post(h.SID, "40"+tt.auth)
			_, b := rc.poll(h.SID)
			if tt.name == "auth not an object" {
				// A malformed CONNECT: the session is closed.
				if b != "6\x1e1" {
					t.Errorf("CONNECT with an array = %q, want the session closed", b)
				}
				return
			}
			if !strings.HasPrefix(b, "40{") || strings.Contains(b, sid) {
				t.Errorf("CONNECT with %.40s... = %q, want a new socket", tt.auth, b)
			}
			rc.post(h.SID, "1")
		})
	}
	// The session was forgotten by the attempt with the unknown offset
	// (a session is restored at most once), so even the right pair now
	// gives a new socket.
	h := rc.open()
	rc.post(h.SID, `40{"pid":"`+pid+`","offset":"`+offset+`"}`)
	if _, b := rc.poll(h.SID); strings.Contains(b, sid) {
		t.Errorf("a consumed session recovered again: %q", b)
	}
}

// TestHostileAcks floods a session with acknowledgements for ids it was
// never sent: they are dropped, nothing is kept, the session stays open.
func TestHostileAcks(t *testing.T) {
	rc, srv := newRaw(t, nil)
	h := rc.open()
	rc.post(h.SID, "40")
	rc.poll(h.SID)
	var body strings.Builder
	for i := range 5000 {
		if i > 0 {
			body.WriteByte(0x1e)
		}
		fmt.Fprintf(&body, "43%d[\"forged\",%d]", i, i)
	}
	if s, _ := rc.post(h.SID, body.String()); s != 200 {
		t.Fatalf("POST of 5,000 acks = %d", s)
	}
	s := srv.Of("/").Sockets()
	if len(s) != 1 {
		t.Fatalf("%d sockets, want 1", len(s))
	}
	s[0].mu.Lock()
	n := len(s[0].acks)
	s[0].mu.Unlock()
	if n != 0 || srv.SessionCount() != 1 {
		t.Errorf("after the flood: %d acks kept, %d sessions", n, srv.SessionCount())
	}
	// Acknowledgements still work.
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := s[0].EmitWithAck(ctx, "q")
		got <- err
	}()
	_, b := rc.poll(h.SID) // 421["q"] : the id the server chose
	id := strings.TrimSuffix(strings.TrimPrefix(b, "42"), `["q"]`)
	rc.post(h.SID, "43"+id+"[]")
	if err := <-got; err != nil {
		t.Errorf("a real acknowledgement after the flood: %v", err)
	}
}

// TestNamespaceFlood connects one session to many names a parent
// namespace accepts: with CleanupEmptyChildNamespaces every child goes
// away with its last socket, so the namespaces do not pile up; unknown
// names are refused each with "Invalid namespace".
func TestNamespaceFlood(t *testing.T) {
	rc, srv := newRaw(t, &Options{CleanupEmptyChildNamespaces: true})
	srv.OfFunc(func(name string, _ json.RawMessage) bool { return strings.HasPrefix(name, "/room-") })
	before := len(srv.Namespaces())
	h := rc.open()
	var body strings.Builder
	for i := range 500 {
		fmt.Fprintf(&body, "40/room-%d,\x1e41/room-%d,\x1e40/unknown-%d,\x1e", i, i, i)
	}
	rc.post(h.SID, strings.TrimSuffix(body.String(), "\x1e"))
	refused := 0
	for refused < 500 {
		s, b := rc.poll(h.SID)
		if s != 200 {
			t.Fatalf("GET = %d %q", s, b)
		}
		refused += strings.Count(b, `{"message":"Invalid namespace"}`)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Namespaces()) != before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.Namespaces(); len(n) != before {
		t.Errorf("%d namespaces left, want the %d from before the flood: %.5q", len(n), before, n)
	}
	if n := srv.SessionCount(); n != 1 {
		t.Errorf("%d sessions, want the flooding one still open", n)
	}
}
