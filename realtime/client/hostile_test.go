package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engineio"
	"github.com/wirelevel/ws/realtime/socketio"
)

// fakePolling is a hostile Engine.IO server over polling. It answers the
// handshake with open, the first GET of the session with the namespace
// CONNECT, and the next one with bad. Later GETs wait for the client to go.
type fakePolling struct {
	open string // the open packet; "" means a valid one
	bad  func(w http.ResponseWriter)

	mu   sync.Mutex
	gets int
}

const fakeOpen = `0{"sid":"s1","upgrades":[],"pingInterval":10000,"pingTimeout":5000,"maxPayload":1000000}`

func (f *fakePolling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		w.Write([]byte("ok"))
		return
	}
	if r.URL.Query().Get("sid") == "" {
		open := f.open
		if open == "" {
			open = fakeOpen
		}
		w.Write([]byte(open))
		return
	}
	f.mu.Lock()
	f.gets++
	n := f.gets
	f.mu.Unlock()
	switch n {
	case 1:
		w.Write([]byte(`40{"sid":"x"}`))
	case 2:
		f.bad(w)
	default:
		<-r.Context().Done()
	}
}

// body returns a bad answer with that body.
func body(s string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.Write([]byte(s)) }
}

// checkNoLeak fails the test if the goroutine count does not come back to
// before within 5 s.
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var b strings.Builder
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHostilePolling: a server that sends garbage, too much or nothing
// ends the connection with a clear error and the reason the official
// client would give, and the client leaves no goroutine behind.
func TestHostilePolling(t *testing.T) {
	big := "4" + strings.Repeat("x", 2000) // over MaxPayload 1000
	manyAtts := `451000-["a"` + strings.Repeat(`,{"_placeholder":true,"num":0}`, 3) + `]`
	tests := []struct {
		name   string
		open   string
		bad    func(w http.ResponseWriter)
		reason DisconnectReason
		is     error // errors.Is target, if any
		text   string
	}{
		{name: "body over MaxPayload", bad: body(big), reason: ReasonTransportError, is: ErrTooLarge},
		{name: "Content-Length over MaxPayload", bad: func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "1000000000")
			w.Write([]byte("42"))
		}, reason: ReasonTransportError, is: ErrTooLarge, text: "Content-Length 1000000000"},
		{name: "endless chunked body", bad: func(w http.ResponseWriter) {
			chunk := bytes.Repeat([]byte("x"), 100)
			w.Write([]byte("4"))
			for range 1000 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}, reason: ReasonTransportError, is: ErrTooLarge},
		{name: "unknown packet type", bad: body("9hello"), reason: ReasonTransportError, is: engineio.ErrBadPacket},
		{name: "invalid UTF-8", bad: body("4\xff\xfe"), reason: ReasonTransportError, is: engineio.ErrBadPacket, text: "UTF-8"},
		{name: "bad base64", bad: body("b!!!"), reason: ReasonTransportError, is: engineio.ErrBadPacket, text: "base64"},
		{name: "empty packet", bad: body("2\x1e"), reason: ReasonTransportError, is: engineio.ErrBadPacket},
		{name: "empty body", bad: body(""), reason: ReasonTransportError, is: engineio.ErrBadPacket},
		{name: "second open", bad: body(fakeOpen), reason: ReasonTransportError, text: "unexpected open"},
		{name: "Socket.IO garbage", bad: body(`4{"no":"type"}`), reason: ReasonParseError, is: socketio.ErrBadPacket},
		{name: "event not an array", bad: body(`42{"a":1}`), reason: ReasonParseError, is: socketio.ErrBadPacket},
		{name: "too many attachments", bad: body(manyAtts), reason: ReasonParseError, is: socketio.ErrTooManyAttachments},
		{name: "binary without a packet", bad: body("bAQID"), reason: ReasonParseError, is: socketio.ErrBadPacket},
		{name: "HTTP 500", bad: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(strings.Repeat("oops", 10000)))
		}, reason: ReasonTransportError, text: "HTTP 500"},
		{name: "unknown session", bad: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			w.Write(engineio.AppendError(nil, engineio.UnknownSID))
		}, reason: ReasonTransportError, text: "polling GET: HTTP 400: Session ID unknown"},
		{name: "close packet", bad: body("1"), reason: ReasonTransportClose, is: ErrServerClose},
		{name: "no ping", open: `0{"sid":"s1","upgrades":[],"pingInterval":100,"pingTimeout":100}`,
			bad: func(w http.ResponseWriter) { time.Sleep(time.Second) }, reason: ReasonPingTimeout, is: ErrPingTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			srv := httptest.NewServer(&fakePolling{open: tt.open, bad: tt.bad})
			reasons := make(chan DisconnectReason, 1)
			c, err := Dial(ctxT(t, 5*time.Second), srv.URL, &Options{
				Transports: []Transport{Polling}, NoReconnect: true, MaxPayload: 1000,
				OnDisconnect: func(r DisconnectReason, err error) { reasons <- r },
			})
			if err != nil {
				srv.Close()
				t.Fatal(err)
			}
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("client still running")
			}
			err = c.Err()
			var de *DisconnectError
			if !errors.As(err, &de) || de.Reason != tt.reason || tt.is != nil && !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Err() = %v, want reason %q, %v, %q", err, tt.reason, tt.is, tt.text)
			}
			if r := <-reasons; r != tt.reason {
				t.Errorf("OnDisconnect reason %q, want %q", r, tt.reason)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error of %d bytes: the server's body is not bounded", len(err.Error()))
			}
			c.Close()
			srv.Close()
			checkNoLeak(t, before)
		})
	}
}

// TestHostileHandshake: a bad handshake fails Dial with a clear error.
func TestHostileHandshake(t *testing.T) {
	tests := []struct {
		name string
		open string
		text string
	}{
		{"garbage", "hello", "malformed packet"},
		{"not open", "40", "want open"},
		{"no sid", `0{"upgrades":[],"pingInterval":100,"pingTimeout":100}`, "without sid"},
		{"not JSON", `0{"sid":`, "handshake"},
		{"over MaxPayload", "0" + strings.Repeat(" ", 2000), "polling response over MaxPayload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			srv := httptest.NewServer(&fakePolling{open: tt.open})
			_, err := Dial(ctxT(t, 5*time.Second), srv.URL, &Options{Transports: []Transport{Polling}, NoReconnect: true, MaxPayload: 1000})
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Dial = %v, want an error with %q", err, tt.text)
			}
			srv.Close()
			checkNoLeak(t, before)
		})
	}
}

// fakeWS is a hostile Engine.IO server over WebSocket: open, the CONNECT
// reply, then bad.
func fakeWS(t *testing.T, bad func(c *conn.Conn)) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := conn.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		c.WriteMessage(ctx, conn.Text, []byte(fakeOpen))
		if _, _, err := c.ReadMessage(ctx, nil); err != nil { // 40
			return
		}
		c.WriteMessage(ctx, conn.Text, []byte(`40{"sid":"x"}`))
		bad(c)
		for { // until the client goes
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	}))
}

func TestHostileWebSocket(t *testing.T) {
	text := func(s string) func(c *conn.Conn) {
		return func(c *conn.Conn) { c.WriteMessage(t.Context(), conn.Text, []byte(s)) }
	}
	tests := []struct {
		name   string
		bad    func(c *conn.Conn)
		reason DisconnectReason
		is     error
	}{
		{"message over MaxPayload", text("4" + strings.Repeat("x", 2000)), ReasonTransportError, nil},
		{"unknown packet type", text("9"), ReasonTransportError, engineio.ErrBadPacket},
		{"Socket.IO garbage", text("4zzz"), ReasonParseError, socketio.ErrBadPacket},
		{"binary without a packet", func(c *conn.Conn) { c.WriteMessage(t.Context(), conn.Binary, []byte{1}) }, ReasonParseError, socketio.ErrBadPacket},
		{"close packet", text("1"), ReasonTransportClose, ErrServerClose},
		{"close frame", func(c *conn.Conn) { c.Close(4000, "bye") }, ReasonTransportClose, nil},
		{"TCP reset", func(c *conn.Conn) { c.CloseNow() }, ReasonTransportClose, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			srv := fakeWS(t, tt.bad)
			c, err := Dial(ctxT(t, 5*time.Second), srv.URL, &Options{Transports: []Transport{WebSocket}, NoReconnect: true, MaxPayload: 1000})
			if err != nil {
				srv.Close()
				t.Fatal(err)
			}
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("client still running")
			}
			var de *DisconnectError
			if err := c.Err(); !errors.As(err, &de) || de.Reason != tt.reason || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Err() = %v, want reason %q, %v", err, tt.reason, tt.is)
			}
			c.Close()
			srv.Close()
			checkNoLeak(t, before)
		})
	}
}

// TestPollingRequests checks the polling writes against a server with a
// small maxPayload: POSTs never overlap, never exceed maxPayload unless one
// packet does, and carry every packet in order, binary as b + base64.
func TestPollingRequests(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	inGet, inPost, maxGet, maxPost := 0, 0, 0, 0
	connected := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sid") == "" {
			w.Write([]byte(`0{"sid":"s1","upgrades":["websocket"],"pingInterval":10000,"pingTimeout":5000,"maxPayload":100}`))
			return
		}
		mu.Lock()
		if r.Method == http.MethodPost {
			inPost++
			maxPost = max(maxPost, inPost)
		} else {
			inGet++
			maxGet = max(maxGet, inGet)
		}
		mu.Unlock()
		defer func() {
			mu.Lock()
			if r.Method == http.MethodPost {
				inPost--
			} else {
				inGet--
			}
			mu.Unlock()
		}()
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			time.Sleep(5 * time.Millisecond) // let packets pile up
			mu.Lock()
			posts = append(posts, string(b))
			mu.Unlock()
			w.Write([]byte("ok"))
			return
		}
		first := false
		once.Do(func() { first = true })
		if first {
			w.Write([]byte(`40{"sid":"x"}`))
			close(connected)
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(50 * time.Millisecond):
			w.Write([]byte("6"))
		}
	}))
	defer srv.Close()
	// No upgrade: the server offers one but it has no WebSocket.
	c, err := Dial(ctxT(t, 5*time.Second), srv.URL, &Options{Transports: []Transport{Polling}})
	if err != nil {
		t.Fatal(err)
	}
	<-connected
	for i := range 20 {
		c.Emit("e", i)
	}
	c.Emit("bin", []byte{1, 2, 3})
	big := strings.Repeat("y", 200)
	c.Emit("big", big)
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(posts, "\x1e")
	want := []string{"40"}
	for i := range 20 {
		want = append(want, fmt.Sprintf(`42["e",%d]`, i))
	}
	want = append(want, `451-["bin",{"_placeholder":true,"num":0}]`, "bAQID", `42["big","`+big+`"]`, "41", "1")
	if got := strings.Split(all, "\x1e"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("POSTs carried\n%q\nwant\n%q", got, want)
	}
	for _, p := range posts {
		if len(p) > 100 && strings.Contains(p, "\x1e") {
			t.Errorf("POST of %d bytes with several packets, over maxPayload 100", len(p))
		}
	}
	if len(posts) < 5 {
		t.Errorf("%d POSTs, want the ~600 bytes split into several", len(posts))
	}
	if maxGet > 1 || maxPost > 1 {
		t.Errorf("in flight at once: %d GET, %d POST; want at most 1 each", maxGet, maxPost)
	}
}

// TestHugeHeartbeat: a handshake with heartbeat durations that would
// overflow time.Duration does not time the connection out at once.
func TestHugeHeartbeat(t *testing.T) {
	srv := httptest.NewServer(&fakePolling{
		open: `0{"sid":"s1","upgrades":[],"pingInterval":9223372036854775807,"pingTimeout":9223372036854775807}`,
		bad:  func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond); w.Write([]byte("6")) },
	})
	defer srv.Close()
	c, err := Dial(ctxT(t, 5*time.Second), srv.URL, &Options{Transports: []Transport{Polling}, NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(200 * time.Millisecond)
	if !c.Connected() {
		t.Errorf("disconnected: %v", c.Err())
	}
}

// TestCloseDuringUpgrade: Close while a probed WebSocket waits for the GET
// in flight to end (a server that never ends it) gives the upgrade up,
// posts DISCONNECT and the close packet, and returns at once.
func TestCloseDuringUpgrade(t *testing.T) {
	var mu sync.Mutex
	var posted []string
	var gets int
	polling := make(chan struct{}) // closed when the GET that never ends is in
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("transport") == "websocket":
			c, err := conn.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			if _, b, err := c.ReadMessage(r.Context(), nil); err != nil || string(b) != "2probe" {
				return
			}
			<-polling
			c.WriteMessage(r.Context(), conn.Text, []byte("3probe"))
			for {
				if _, _, err := c.ReadMessage(r.Context(), nil); err != nil {
					return
				}
			}
		case q.Get("sid") == "":
			w.Write([]byte(`0{"sid":"s1","upgrades":["websocket"],"pingInterval":10000,"pingTimeout":5000,"maxPayload":1000000}`))
		case r.Method == http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			posted = append(posted, string(b))
			mu.Unlock()
			w.Write([]byte("ok"))
		default:
			mu.Lock()
			gets++
			n := gets
			mu.Unlock()
			if n == 1 {
				w.Write([]byte(`40{"sid":"x"}`))
				return
			}
			if n == 2 {
				close(polling)
			}
			<-r.Context().Done() // never a noop
		}
	}))
	defer srv.Close()
	c, err := Dial(ctxT(t, 5*time.Second), srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the probed WebSocket", func() bool {
		c.mu.Lock()
		e := c.eng
		c.mu.Unlock()
		if e == nil {
			return false
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.probe != nil
	})
	start := time.Now()
	c.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(posted, "|"); !strings.HasSuffix(got, "41\x1e1") && !strings.HasSuffix(got, "41|1") {
		t.Errorf("POSTs %q, want DISCONNECT and close at the end", got)
	}
}
