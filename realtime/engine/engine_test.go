package engine

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/realtime/engineio"
)

// serve runs h on a loopback listener until the test ends and returns the
// base URL of the Engine.IO path.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String() + "/engine.io/"
}

// raw speaks Engine.IO by hand.
type raw struct {
	t    *testing.T
	base string
}

func newRaw(t *testing.T, opts *Options) (*raw, *Server) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.WebSocket.CloseTimeout == 0 {
		// Raw test clients rarely answer a close frame: do not wait 5 s
		// for it when the test ends.
		opts.WebSocket.CloseTimeout = 200 * time.Millisecond
	}
	srv := NewServer(opts)
	base := serve(t, srv)
	t.Cleanup(func() { srv.Close() })
	return &raw{t: t, base: base}, srv
}

func (rc *raw) req(method, query, body string, hdr http.Header) (int, string, http.Header) {
	rc.t.Helper()
	req, err := http.NewRequest(method, rc.base+"?"+query, strings.NewReader(body))
	if err != nil {
		rc.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
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

func (rc *raw) open() engineio.Handshake {
	rc.t.Helper()
	status, body, _ := rc.req("GET", "EIO=4&transport=polling", "", nil)
	if status != 200 || !strings.HasPrefix(body, "0{") {
		rc.t.Fatalf("handshake = %d %q", status, body)
	}
	h, err := engineio.ParseHandshake([]byte(body[1:strings.IndexByte(body+"\x1e", 0x1e)]))
	if err != nil {
		rc.t.Fatal(err)
	}
	return h
}

func (rc *raw) poll(sid string) (int, string) {
	rc.t.Helper()
	s, b, _ := rc.req("GET", "EIO=4&transport=polling&sid="+sid, "", nil)
	return s, b
}

func (rc *raw) post(sid, body string) (int, string) {
	rc.t.Helper()
	s, b, _ := rc.req("POST", "EIO=4&transport=polling&sid="+sid, body, nil)
	return s, b
}

func (rc *raw) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(rc.base, "http") + "?" + query
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRefusals checks each refusal's status, body and connection_error
// report against what Node's engine.io answers, in its order of checks.
func TestRefusals(t *testing.T) {
	var mu sync.Mutex
	var reported []*ConnectionError
	rc, srv := newRaw(t, &Options{AllowRequest: func(r *http.Request) error {
		if r.URL.Query().Get("deny") != "" {
			return errors.New("go away")
		}
		return nil
	}})
	srv.OnConnectionError(func(e *ConnectionError) {
		mu.Lock()
		reported = append(reported, e)
		mu.Unlock()
	})
	sid := rc.open().SID
	tests := []struct {
		name, method, query string
		status              int
		body                string
		code                engineio.ErrorCode
	}{
		{"no transport", "GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`, engineio.UnknownTransport},
		{"unknown transport before version", "GET", "EIO=3&transport=flashsocket", 400, `{"code":0,"message":"Transport unknown"}`, engineio.UnknownTransport},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`, engineio.UnknownSID},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`, engineio.UnknownSID},
		{"transport mismatch", "GET", "EIO=4&transport=websocket&sid=" + sid, 400, `{"code":3,"message":"Bad request"}`, engineio.BadRequest},
		{"POST handshake", "POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`, engineio.BadHandshakeMethod},
		{"method before version", "PUT", "transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`, engineio.BadHandshakeMethod},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`, engineio.BadRequest},
		{"forbidden", "GET", "EIO=4&transport=polling&deny=1", 403, `{"code":4,"message":"go away"}`, engineio.Forbidden},
		{"no EIO", "GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`, engineio.UnsupportedVersion},
		{"EIO 3", "GET", "EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`, engineio.UnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			reported = nil
			mu.Unlock()
			status, body, hdr := rc.req(tt.method, tt.query, "", nil)
			if status != tt.status || body != tt.body || hdr.Get("Content-Type") != "application/json" {
				t.Errorf("%s ?%s = %d %s (%s), want %d %s", tt.method, tt.query, status, body, hdr.Get("Content-Type"), tt.status, tt.body)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reported) != 1 || reported[0].Code != tt.code || reported[0].Message != tt.code.String() || reported[0].Request == nil {
				t.Errorf("connection_error reports = %+v, want one with code %d", reported, tt.code)
			}
		})
	}
	t.Run("websocket refusal", func(t *testing.T) {
		// The reference server answers a refused WebSocket handshake
		// with a plain 400 whose body is the message.
		req, _ := http.NewRequest("GET", rc.base+"?EIO=4&transport=websocket&sid=nope", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || string(b) != "Session ID unknown" || resp.Header.Get("Content-Type") != "text/html" {
			t.Errorf("refused WebSocket = %d %q (%s)", resp.StatusCode, b, resp.Header.Get("Content-Type"))
		}
	})
	t.Run("other method on a session", func(t *testing.T) {
		if status, _, _ := rc.req("PUT", "EIO=4&transport=polling&sid="+sid, "", nil); status != 500 {
			t.Errorf("PUT on a session = %d, want 500", status)
		}
	})
}

// TestStandalone uses the engine on its own: text and binary messages both
// ways over polling and WebSocket, and close listeners.
func TestStandalone(t *testing.T) {
	srv := NewServer(&Options{WebSocket: conn.AcceptOptions{Options: conn.Options{CloseTimeout: 200 * time.Millisecond}}})
	closed := make(chan Reason, 4)
	srv.OnConnection(func(s *Session) {
		s.OnMessage(func(m Message) {
			if m.Binary {
				s.SendBinary(append([]byte{0xff}, m.Data...))
			} else {
				s.SendText("echo " + string(m.Data))
			}
		})
		s.OnClose(func(r Reason, err error) { closed <- r })
	})
	base := serve(t, srv)
	defer srv.Close()
	rc := &raw{t: t, base: base}

	t.Run("polling", func(t *testing.T) {
		sid := rc.open().SID
		if s, b := rc.post(sid, "4hello\x1ebAQID"); s != 200 || b != "ok" {
			t.Fatalf("POST = %d %q", s, b)
		}
		got := ""
		for len(strings.Split(got, "\x1e")) < 2 {
			_, b := rc.poll(sid)
			got += b
			if !strings.HasSuffix(got, "\x1e") && len(strings.Split(got, "\x1e")) < 2 {
				got += "\x1e"
			}
		}
		if !strings.Contains(got, "4echo hello") || !strings.Contains(got, "b/wECAw==") {
			t.Errorf("polled %q, want the text and binary echoes", got)
		}
		rc.post(sid, "1")
		if r := <-closed; r != ReasonTransportClose {
			t.Errorf("closed with %q, want transport close", r)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		ctx := ctxT(t, 10*time.Second)
		c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if _, b, err := c.ReadMessage(ctx, nil); err != nil || !strings.HasPrefix(string(b), "0{") {
			t.Fatalf("open = %q, %v", b, err)
		}
		c.WriteMessage(ctx, conn.Text, []byte("4hi"))
		c.WriteMessage(ctx, conn.Binary, []byte{1, 2})
		if _, b, _ := c.ReadMessage(ctx, nil); string(b) != "4echo hi" {
			t.Errorf("text echo %q", b)
		}
		if typ, b, _ := c.ReadMessage(ctx, nil); typ != conn.Binary || string(b) != "\xff\x01\x02" {
			t.Errorf("binary echo %v %q", typ, b)
		}
		c.WriteMessage(ctx, conn.Text, []byte("1"))
		if r := <-closed; r != ReasonTransportClose {
			t.Errorf("closed with %q, want transport close", r)
		}
	})
}

// TestClientCloseEndsWaitingGET: a client that closes with a POST while its
// GET waits gets a noop on the GET (the spec and Node agree); a server
// close gives the close packet.
func TestClientCloseEndsWaitingGET(t *testing.T) {
	rc, srv := newRaw(t, nil)
	for _, tt := range []struct {
		name  string
		close func(sid string)
		want  string
	}{
		{"client close", func(sid string) { rc.post(sid, "1") }, "6"},
		{"server close", func(sid string) { srv.Session(sid).Close() }, "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sid := rc.open().SID
			got := make(chan string, 1)
			go func() { _, b := rc.poll(sid); got <- b }()
			waitFor(t, "GET waiting", func() bool { return srv.Session(sid).Writable() })
			tt.close(sid)
			select {
			case b := <-got:
				if b != tt.want {
					t.Errorf("waiting GET ended with %q, want %q", b, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the waiting GET did not end")
			}
			if s, _ := rc.poll(sid); s != 400 {
				t.Errorf("GET after the close = %d, want 400", s)
			}
		})
	}
}

// TestServerCloseReachesLateGET: a polling session the server closes while
// no GET waits is kept until the next GET, which gets noop and close, as
// from Node.
func TestServerCloseReachesLateGET(t *testing.T) {
	rc, srv := newRaw(t, nil)
	sid := rc.open().SID
	srv.Session(sid).Close()
	if n := srv.SessionCount(); n != 0 {
		t.Errorf("SessionCount = %d after the close", n)
	}
	if s, b := rc.poll(sid); s != 200 || b != "6\x1e1" {
		t.Errorf("late GET = %d %q, want 200 \"6\\x1e1\"", s, b)
	}
	if s, _ := rc.poll(sid); s != 400 {
		t.Errorf("second GET = %d, want 400", s)
	}
}

// upgrade runs the probe and the upgrade packet on a WebSocket for sid.
func upgrade(t *testing.T, ctx context.Context, rc *raw, sid string) *conn.Conn {
	t.Helper()
	c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(ctx, conn.Text, []byte("2probe"))
	if _, b, err := c.ReadMessage(ctx, nil); err != nil || string(b) != "3probe" {
		t.Fatalf("probe answer %q, %v", b, err)
	}
	c.WriteMessage(ctx, conn.Text, []byte("5"))
	return c
}

// TestSecondWebSocket: a WebSocket for a session that already upgraded is
// accepted (101) and closed at once, as the spec says, not refused with an
// HTTP error.
func TestSecondWebSocket(t *testing.T) {
	rc, srv := newRaw(t, nil)
	ctx := ctxT(t, 10*time.Second)
	sid := rc.open().SID
	first := upgrade(t, ctx, rc, sid)
	defer first.CloseNow()
	waitFor(t, "upgrade", func() bool { return srv.Session(sid).Transport() == "websocket" })
	second, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatalf("second WebSocket refused: %v", err)
	}
	if _, _, err := second.ReadMessage(ctx, nil); conn.CloseStatus(err) == 0 {
		t.Errorf("second WebSocket read %v, want a close frame", err)
	}
	// The first goes on working.
	srv.Session(sid).SendText("still here")
	if _, b, err := first.ReadMessage(ctx, nil); err != nil || string(b) != "4still here" {
		t.Errorf("first WebSocket got %q, %v", b, err)
	}
}

// TestIgnoredPackets: open, upgrade and noop packets from a client are
// ignored, as by Node; a ping from the client closes the session.
func TestIgnoredPackets(t *testing.T) {
	closed := make(chan Reason, 1)
	rc, srv := newRaw(t, nil)
	srv.OnConnection(func(s *Session) { s.OnClose(func(r Reason, _ error) { closed <- r }) })
	sid := rc.open().SID
	for _, body := range []string{"0", "5", "6", "0\x1e5\x1e6"} {
		if s, _ := rc.post(sid, body); s != 200 || srv.Session(sid).Closed() {
			t.Fatalf("POST %q = %d, closed %v", body, s, srv.Session(sid).Closed())
		}
	}
	rc.post(sid, "2")
	if r := <-closed; r != ReasonTransportError {
		t.Errorf("a ping from the client closed with %q, want transport error", r)
	}
}

// TestCORS checks preflight and actual responses against the npm cors
// package's headers, and that CORS's origins may open WebSockets.
func TestCORS(t *testing.T) {
	rc, _ := newRaw(t, &Options{CORS: &CORSOptions{
		Origins: []string{"https://app.example"}, Credentials: true,
		ExposedHeaders: []string{"X-Trace"}, MaxAge: 10 * time.Minute,
	}})
	t.Run("preflight", func(t *testing.T) {
		s, body, h := rc.req("OPTIONS", "EIO=4&transport=polling", "", http.Header{
			"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"content-type"},
		})
		want := map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET,HEAD,PUT,PATCH,POST,DELETE",
			"Access-Control-Allow-Headers":     "content-type",
			"Access-Control-Max-Age":           "600",
			"Access-Control-Expose-Headers":    "X-Trace",
		}
		if s != 204 || body != "" {
			t.Errorf("preflight = %d %q, want 204 and no body", s, body)
		}
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("preflight %s = %q, want %q", k, h.Get(k), v)
			}
		}
		if vary := h.Values("Vary"); !slices.Contains(vary, "Origin") || !slices.Contains(vary, "Access-Control-Request-Headers") {
			t.Errorf("preflight Vary = %q", vary)
		}
	})
	t.Run("actual", func(t *testing.T) {
		_, _, h := rc.req("GET", "EIO=4&transport=polling", "", http.Header{"Origin": {"https://app.example"}})
		if h.Get("Access-Control-Allow-Origin") != "https://app.example" || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("handshake CORS headers %v", h)
		}
		_, _, h = rc.req("GET", "EIO=4&transport=polling", "", http.Header{"Origin": {"https://evil.example"}})
		if h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("another origin got Access-Control-Allow-Origin %q", h.Get("Access-Control-Allow-Origin"))
		}
		// Refusals carry the headers too, so that the page can read them.
		_, _, h = rc.req("GET", "EIO=4&transport=polling&sid=nope", "", http.Header{"Origin": {"https://app.example"}})
		if h.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("refusal without CORS headers")
		}
	})
	t.Run("websocket", func(t *testing.T) {
		ctx := ctxT(t, 10*time.Second)
		for _, tt := range []struct {
			origin string
			ok     bool
		}{{"https://app.example", true}, {"https://evil.example", false}} {
			nc, _, err := dialResponse(ctx, rc.wsURL("EIO=4&transport=websocket"), "Origin: "+tt.origin)
			if (err == nil) != tt.ok {
				t.Errorf("WebSocket from %s: %v, want allowed %v", tt.origin, err, tt.ok)
			}
			if nc != nil {
				nc.Close()
			}
		}
	})
	t.Run("any origin", func(t *testing.T) {
		rc, _ := newRaw(t, &Options{CORS: &CORSOptions{}})
		_, _, h := rc.req("GET", "EIO=4&transport=polling", "", http.Header{"Origin": {"https://x.example"}})
		if h.Get("Access-Control-Allow-Origin") != "*" || len(h.Values("Vary")) != 0 {
			t.Errorf("default CORS: Allow-Origin %q, Vary %q; want * and none", h.Get("Access-Control-Allow-Origin"), h.Values("Vary"))
		}
	})
	t.Run("hostile preflight", func(t *testing.T) {
		// Request headers are echoed only when they are a short list of
		// tokens: a 400 KB list, or one with bytes outside tokens, is not
		// reflected, so the preflight fails in the browser and the answer
		// stays small.
		for _, list := range []string{strings.Repeat("x-a,", 100_000), "x-a;evil=1", "a:b"} {
			s, _, h := rc.req("OPTIONS", "", "", http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Headers": {list}})
			if s != 204 || h.Get("Access-Control-Allow-Headers") != "" {
				t.Errorf("preflight with headers %.20q... = %d, Allow-Headers %.20q; want 204 and none", list, s, h.Get("Access-Control-Allow-Headers"))
			}
		}
	})
}

// TestCookie checks the io cookie on handshakes of both transports, with
// Node's defaults and with options.
func TestCookie(t *testing.T) {
	rc, _ := newRaw(t, &Options{Cookie: &CookieOptions{}})
	_, _, h := rc.req("GET", "EIO=4&transport=polling", "", nil)
	var sid string
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "io" {
			sid = c.Value
		}
	}
	if got := h.Get("Set-Cookie"); sid == "" || got != "io="+sid+"; Path=/; HttpOnly; SameSite=Lax" {
		t.Errorf("polling handshake Set-Cookie = %q", got)
	}
	// Not on later requests of the session.
	if _, _, h := rc.req("POST", "EIO=4&transport=polling&sid="+sid, "6", nil); h.Get("Set-Cookie") != "" {
		t.Errorf("a later request set a cookie: %q", h.Get("Set-Cookie"))
	}

	rc2, _ := newRaw(t, &Options{Cookie: &CookieOptions{Name: "lb", Path: "/app", SameSite: http.SameSiteStrictMode, NoHTTPOnly: true, Secure: true}})
	ctx := ctxT(t, 10*time.Second)
	_, resp, err := dialResponse(ctx, rc2.wsURL("EIO=4&transport=websocket"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Get("Set-Cookie"); !strings.HasPrefix(got, "lb=") || !strings.HasSuffix(got, "; Path=/app; Secure; SameSite=Strict") {
		t.Errorf("WebSocket handshake Set-Cookie = %q", got)
	}
}

// dialResponse makes a WebSocket handshake by hand and returns the
// response headers.
func dialResponse(ctx context.Context, wsURL string, extra ...string) (net.Conn, http.Header, error) {
	u := strings.TrimPrefix(wsURL, "ws://")
	host, path, _ := strings.Cut(u, "/")
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, nil, err
	}
	more := ""
	for _, line := range extra {
		more += line + "\r\n"
	}
	fmt.Fprintf(nc, "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\n", path, host, more)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	if resp.StatusCode != 101 {
		nc.Close()
		return nil, nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return bufConn{nc, br}, resp.Header, nil
}

// bufConn reads what its bufio.Reader holds first.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestHeaderEvents: the initial-headers listeners see handshakes only, the
// headers listeners every polling response and 101, and what they set is
// sent.
func TestHeaderEvents(t *testing.T) {
	rc, srv := newRaw(t, nil)
	srv.OnInitialHeaders(func(h http.Header, r *http.Request) { h.Set("X-Initial", "1") })
	srv.OnHeaders(func(h http.Header, r *http.Request) { h.Set("X-Every", r.Method) })
	_, _, h := rc.req("GET", "EIO=4&transport=polling", "", nil)
	if h.Get("X-Initial") != "1" || h.Get("X-Every") != "GET" {
		t.Errorf("handshake headers %v", h)
	}
	sid := rc.open().SID
	_, _, h = rc.req("POST", "EIO=4&transport=polling&sid="+sid, "6", nil)
	if h.Get("X-Initial") != "" || h.Get("X-Every") != "POST" {
		t.Errorf("POST headers %v", h)
	}
	ctx := ctxT(t, 10*time.Second)
	nc, hdr, err := dialResponse(ctx, rc.wsURL("EIO=4&transport=websocket"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if hdr.Get("X-Initial") != "1" || hdr.Get("X-Every") != "GET" {
		t.Errorf("101 headers %v", hdr)
	}
}

// TestInitialPacket: the initial packet follows the open packet on both
// transports.
func TestInitialPacket(t *testing.T) {
	rc, _ := newRaw(t, &Options{InitialPacket: []byte("welcome")})
	_, body, _ := rc.req("GET", "EIO=4&transport=polling", "", nil)
	if _, after, ok := strings.Cut(body, "\x1e"); !ok || after != "4welcome" {
		t.Errorf("handshake body %q, want the open packet then 4welcome", body)
	}
	ctx := ctxT(t, 10*time.Second)
	c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.ReadMessage(ctx, nil)
	if _, b, _ := c.ReadMessage(ctx, nil); string(b) != "4welcome" {
		t.Errorf("second WebSocket message %q", b)
	}
}

// TestVolatile: over polling a volatile message is dropped unless a GET is
// waiting; over WebSocket unless the writer is idle.
func TestVolatile(t *testing.T) {
	rc, srv := newRaw(t, nil)
	sid := rc.open().SID
	s := srv.Session(sid)
	vol := WriteOptions{Volatile: true}
	s.Write(vol, EncodeText([]byte("dropped")))
	if n := s.BufferedAmount(); n != 0 {
		t.Errorf("a volatile message was queued with no GET waiting: %d bytes", n)
	}
	s.SendText("kept")
	if n := s.BufferedAmount(); n != len("4kept")+msgOverhead {
		t.Errorf("BufferedAmount = %d", n)
	}
	if _, b := rc.poll(sid); b != "4kept" {
		t.Errorf("GET = %q, want only the non-volatile message", b)
	}
	got := make(chan string, 1)
	go func() { _, b := rc.poll(sid); got <- b }()
	waitFor(t, "GET waiting", s.Writable)
	s.Write(vol, EncodeText([]byte("sent")))
	if b := <-got; b != "4sent" {
		t.Errorf("GET = %q, want the volatile message sent to a waiting GET", b)
	}
}

// TestVolatileStalledWebSocket: a client that stops reading its WebSocket
// fills its socket buffers; volatile messages then stop being queued, so
// the session stays within its buffer and is not closed, while non-volatile
// ones would close it.
func TestVolatileStalledWebSocket(t *testing.T) {
	const limit = 256 << 10
	rc, srv := newRaw(t, &Options{MaxBufferedBytes: limit})
	ctx := ctxT(t, 20*time.Second)
	c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), &conn.DialOptions{Options: conn.Options{ReadBufferSize: 512}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, open, _ := c.ReadMessage(ctx, nil)
	h, _ := engineio.ParseHandshake(open[1:])
	s := srv.Session(h.SID)
	chunk := EncodeText([]byte(strings.Repeat("v", 16<<10)))
	sent, dropped := 0, 0
	// Each write waits (50 ms at most) for the transport to be writable:
	// while the client's socket buffers have room the writer keeps up, and
	// once they are full it stalls for good. Bounded: 20,000 writes.
	for i := 0; i < 20_000 && ctx.Err() == nil && dropped <= 1000; i++ {
		if dropped == 0 {
			for range 50 {
				if s.Writable() {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		// Only this loop writes, so a session writable before the write
		// stays so until it; the writer may take the message at once, so
		// BufferedAmount cannot tell a sent message from a dropped one.
		writable := s.Writable()
		if err := s.Write(WriteOptions{Volatile: true}, chunk); err != nil {
			t.Fatalf("volatile write %d: %v", i, err)
		}
		if writable {
			sent++
		} else {
			dropped++
		}
	}
	if sent < 3 {
		t.Errorf("only %d volatile messages went out before the client stalled", sent)
	}
	if s.Closed() || dropped <= 1000 {
		t.Fatalf("stalled client: %d sent, %d dropped, closed %v; want drops and the session open", sent, dropped, s.Closed())
	}
	if n := s.BufferedAmount(); n > limit {
		t.Errorf("%d bytes queued, over the %d limit", n, limit)
	}
	t.Logf("%d volatile messages sent before the socket stalled, %d dropped after", sent, dropped)
}

// TestNoGoroutineLeak opens sessions of both transports, some upgraded,
// and checks that Close leaves no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	ws := conn.AcceptOptions{Options: conn.Options{CloseTimeout: 100 * time.Millisecond}}
	srv := NewServer(&Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond, WebSocket: ws})
	base := serve(t, srv)
	rc := &raw{t: t, base: base}
	ctx := ctxT(t, 20*time.Second)
	for i := range 10 {
		sid := rc.open().SID
		if i%2 == 0 {
			c := upgrade(t, ctx, rc, sid)
			defer c.CloseNow()
		}
		c, err := conn.Dial(ctx, rc.wsURL("EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
	}
	srv.Close()
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

// TestHTTPCompression: polling bodies from 1 KiB are compressed with gzip
// or deflate when the request accepts it (Node's httpCompression), unless
// every message in them was written with NoCompress.
func TestHTTPCompression(t *testing.T) {
	rc, srv := newRaw(t, nil)
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(sid, accept string) (string, []byte) {
		req, _ := http.NewRequest("GET", rc.base+"?EIO=4&transport=polling&sid="+sid, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Content-Encoding"), b
	}
	big := strings.Repeat("compressible ", 200)
	tests := []struct {
		name, accept string
		text         string
		opts         WriteOptions
		want         string
	}{
		{"gzip", "gzip, deflate, br", big, WriteOptions{}, "gzip"},
		{"deflate preferred", "gzip;q=0.5, deflate", big, WriteOptions{}, "deflate"},
		{"gzip refused", "gzip;q=0, deflate", big, WriteOptions{}, "deflate"},
		{"not accepted", "br", big, WriteOptions{}, ""},
		{"no header", "", big, WriteOptions{}, ""},
		{"under the threshold", "gzip", "small", WriteOptions{}, ""},
		{"NoCompress", "gzip", big, WriteOptions{NoCompress: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sid := rc.open().SID
			srv.Session(sid).Write(tt.opts, EncodeText([]byte(tt.text)))
			enc, b := get(sid, tt.accept)
			if enc != tt.want {
				t.Fatalf("Content-Encoding %q, want %q", enc, tt.want)
			}
			var plain []byte
			switch enc {
			case "gzip":
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				plain, _ = io.ReadAll(zr)
			case "deflate":
				zr, err := zlib.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				plain, _ = io.ReadAll(zr)
			default:
				plain = b
			}
			if string(plain) != "4"+tt.text {
				t.Errorf("body %.40q..., want the message", plain)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		rc, srv := newRaw(t, &Options{HTTPCompressionThreshold: -1})
		sid := rc.open().SID
		srv.Session(sid).SendText(big)
		req, _ := http.NewRequest("GET", rc.base+"?EIO=4&transport=polling&sid="+sid, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if enc := resp.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("compression off, Content-Encoding %q", enc)
		}
	})
}

// TestBinaryPollingBody: a POST with Content-Type application/octet-stream
// (Engine.IO version 3's binary payload) closes the session with 400, as
// Node's engine.io does for version 4.
func TestBinaryPollingBody(t *testing.T) {
	rc, srv := newRaw(t, nil)
	sid := rc.open().SID
	s, body, _ := rc.req("POST", "EIO=4&transport=polling&sid="+sid, "4hi", http.Header{"Content-Type": {"application/octet-stream"}})
	if s != 400 || body != "" {
		t.Errorf("binary POST = %d %q, want 400 and no body", s, body)
	}
	if ss := srv.Session(sid); ss != nil && !ss.Closed() {
		t.Error("the session is still open")
	}
	if s, _ := rc.poll(sid); s != 400 {
		t.Errorf("GET after = %d, want 400", s)
	}
}

// TestNoCompress: on a WebSocket that negotiated permessage-deflate,
// messages written with NoCompress go out with RSV1 clear, the others
// compressed (Socket.IO's compress(false)).
func TestNoCompress(t *testing.T) {
	rc, srv := newRaw(t, &Options{WebSocket: conn.AcceptOptions{Compression: &conn.CompressionOptions{}}})
	ctx := ctxT(t, 10*time.Second)
	nc, hdr, err := dialResponse(ctx, rc.wsURL("EIO=4&transport=websocket"), "Sec-WebSocket-Extensions: permessage-deflate")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if !strings.Contains(hdr.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("no compression negotiated: %v", hdr)
	}
	br := bufio.NewReader(nc)
	readFrame := func() frame.Header {
		var buf [frame.MaxHeaderSize]byte
		h, err := frame.ReadHeader(br, &buf)
		if err != nil {
			t.Fatal(err)
		}
		io.CopyN(io.Discard, br, h.Length)
		return h
	}
	readFrame() // the open packet
	waitFor(t, "session", func() bool { return srv.SessionCount() == 1 })
	var s *Session
	srv.mu.Lock()
	for _, ss := range srv.sessions {
		s = ss
	}
	srv.mu.Unlock()
	big := []byte(strings.Repeat("zzzz", 1000))
	s.Write(WriteOptions{}, EncodeText(big))
	s.Write(WriteOptions{NoCompress: true}, EncodeText(big))
	compressed, plain := readFrame(), readFrame()
	if compressed.Rsv&4 == 0 || compressed.Length >= int64(len(big)) {
		t.Errorf("default message: RSV %03b, %d bytes; want compressed", compressed.Rsv, compressed.Length)
	}
	if plain.Rsv != 0 || plain.Length != int64(len(big))+1 {
		t.Errorf("NoCompress message: RSV %03b, %d bytes; want plain", plain.Rsv, plain.Length)
	}
}
