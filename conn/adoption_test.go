//go:build !js

package conn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/deflate/deflatetest"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

func TestCloseCodeConstants(t *testing.T) {
	for _, tc := range []struct {
		got  CloseCode
		want uint16
	}{
		{CloseNormalClosure, 1000}, {CloseGoingAway, 1001}, {CloseProtocolError, 1002},
		{CloseUnsupportedData, 1003}, {CloseNoStatusReceived, 1005}, {CloseAbnormalClosure, 1006},
		{CloseInvalidFramePayloadData, 1007}, {ClosePolicyViolation, 1008}, {CloseMessageTooBig, 1009},
		{CloseMandatoryExtension, 1010}, {CloseInternalServerErr, 1011}, {CloseServiceRestart, 1012},
		{CloseTryAgainLater, 1013}, {CloseBadGateway, 1014}, {CloseTLSHandshake, 1015},
	} {
		if uint16(tc.got) != tc.want {
			t.Errorf("%v = %d, want %d", tc.got, uint16(tc.got), tc.want)
		}
	}
}

// TestOnPingReceived: the hook sees each ping; returning false suppresses
// the automatic pong, and WritePong answers instead.
func TestOnPingReceived(t *testing.T) {
	var seen []string
	c, peer := newServerUnderTest(t, &Options{OnPingReceived: func(c *Conn, p []byte) bool {
		seen = append(seen, string(p))
		if string(p) == "mine" {
			if err := c.WritePong(bg, []byte("answered")); err != nil {
				t.Errorf("WritePong: %v", err)
			}
			return false
		}
		return true
	}})
	go c.ReadMessage(bg, nil)
	peer.send(frame.Header{Fin: true, Opcode: frame.OpPing}, []byte("auto"))
	if f := peer.mustRead(); f.h.Opcode != frame.OpPong || string(f.payload) != "auto" {
		t.Fatalf("got %v %q, want the automatic pong", f.h.Opcode, f.payload)
	}
	peer.send(frame.Header{Fin: true, Opcode: frame.OpPing}, []byte("mine"))
	if f := peer.mustRead(); f.h.Opcode != frame.OpPong || string(f.payload) != "answered" {
		t.Fatalf("got %v %q, want the hook's pong", f.h.Opcode, f.payload)
	}
	peer.send(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("x"))
	if strings.Join(seen, ",") != "auto,mine" {
		t.Errorf("hook saw %q", seen)
	}
}

// TestOnPongReceived: the hook gets the round-trip time of pongs that
// answer our pings (Ping, WritePing, keepalive) and 0 for unsolicited ones.
func TestOnPongReceived(t *testing.T) {
	type pong struct {
		payload string
		rtt     time.Duration
	}
	pongs := make(chan pong, 10)
	opts := &Options{OnPongReceived: func(c *Conn, p []byte, rtt time.Duration) { pongs <- pong{string(p), rtt} }}
	srv, cli := Pipe(opts, &Options{OnPingReceived: func(c *Conn, p []byte) bool {
		time.Sleep(20 * time.Millisecond) // a slow peer: the rtt shows it
		return true
	}})
	defer srv.CloseNow()
	defer cli.CloseNow()
	go srv.ReadMessage(bg, nil)
	go cli.ReadMessage(bg, nil)

	if err := srv.Ping(bg, nil); err != nil {
		t.Fatal(err)
	}
	if p := <-pongs; p.rtt < 20*time.Millisecond || p.rtt > 5*time.Second {
		t.Errorf("Ping's pong: rtt %v, want about 20 ms", p.rtt)
	}
	if err := srv.WritePing(bg, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if p := <-pongs; p.payload != "hello" || p.rtt < 20*time.Millisecond {
		t.Errorf("WritePing's pong: %+v, want hello after about 20 ms", p)
	}
	if err := cli.WritePong(bg, []byte("beat")); err != nil {
		t.Fatal(err)
	}
	if p := <-pongs; p.payload != "beat" || p.rtt != 0 {
		t.Errorf("unsolicited pong: %+v, want rtt 0", p)
	}
	if err := srv.WritePing(bg, make([]byte, 126)); err == nil {
		t.Error("WritePing took a 126-byte payload")
	}

	// Keepalive pings are timed too.
	ka, peer := Pipe(&Options{PingInterval: 30 * time.Millisecond, PongTimeout: time.Second,
		OnPongReceived: func(c *Conn, p []byte, rtt time.Duration) { pongs <- pong{string(p), rtt} }}, nil)
	defer ka.CloseNow()
	defer peer.CloseNow()
	go ka.ReadMessage(bg, nil)
	go peer.ReadMessage(bg, nil)
	select {
	case p := <-pongs:
		if p.rtt <= 0 {
			t.Errorf("keepalive pong: rtt %v, want > 0", p.rtt)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no keepalive pong")
	}
}

// TestOnCloseReceived: the hook sees the peer's close frame before the
// answer; by default the Conn echoes the code, and a hook that calls
// WriteClose answers with its own.
func TestOnCloseReceived(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   CloseCode
		wantEcho CloseCode
	}{
		{"echo", 0, 4001},
		{"own answer", CloseGoingAway, CloseGoingAway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotCode CloseCode
			var gotReason string
			c, peer := newServerUnderTest(t, &Options{OnCloseReceived: func(c *Conn, code CloseCode, reason string) {
				gotCode, gotReason = code, reason
				if tc.answer != 0 {
					if err := c.WriteClose(tc.answer, "bye"); err != nil {
						t.Errorf("WriteClose: %v", err)
					}
				}
			}})
			done := make(chan error, 1)
			go func() { _, _, err := c.ReadMessage(bg, nil); done <- err }()
			peer.send(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(4001, "done"))
			if code := peer.expectClose(); code != tc.wantEcho {
				t.Errorf("answer %v, want %v", code, tc.wantEcho)
			}
			err := <-done
			if CloseStatus(err) != 4001 {
				t.Errorf("ReadMessage = %v, want the peer's 4001", err)
			}
			if CloseStatus(c.Err()) != 4001 {
				t.Errorf("Err() = %v, want the peer's close", c.Err())
			}
			if gotCode != 4001 || gotReason != "done" {
				t.Errorf("hook saw %v %q", gotCode, gotReason)
			}
		})
	}
}

// TestWriteClose: WriteClose returns once the close frame is out; the
// reader then gets the peer's answer and the connection closes.
func TestWriteClose(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	srvErr := make(chan error, 1)
	go func() { srvErr <- echo(srv) }()
	if err := cli.WriteMessage(bg, Text, []byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := cli.WriteClose(CloseNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	if err := cli.WriteMessage(bg, Text, []byte("after")); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteMessage after WriteClose = %v, want ErrClosed", err)
	}
	if err := cli.WriteClose(CloseNormalClosure, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("second WriteClose = %v, want ErrClosed", err)
	}
	// The echo of "before" is dropped: data after our close frame is.
	_, _, err := cli.ReadMessage(bg, nil)
	if CloseStatus(err) != CloseNormalClosure {
		t.Errorf("ReadMessage = %v, want the server's 1000", err)
	}
	if CloseStatus(<-srvErr) != CloseNormalClosure {
		t.Error("server did not see 1000")
	}
	select {
	case <-cli.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("TCP not closed after the closing handshake")
	}
	if err := cli.WriteClose(1006, ""); err == nil {
		t.Error("WriteClose(1006) accepted")
	}

	// Without a reader, TCP is closed after CloseTimeout.
	a, b := Pipe(nil, &Options{CloseTimeout: 50 * time.Millisecond})
	defer a.CloseNow()
	if err := b.WriteClose(CloseNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("TCP not closed after CloseTimeout")
	}
}

func TestAcceptOriginAndReject(t *testing.T) {
	var mu sync.Mutex
	var requests []string
	var rejected []int
	opts := &AcceptOptions{
		CheckOrigin: func(r *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			requests = append(requests, r.Header.Get("Origin"))
			return r.Header.Get("Origin") == "https://good.example"
		},
		OnRequest: func(req *handshake.Request) error {
			if string(req.Get("X-Token")) == "bad" {
				return &handshake.RejectError{Status: http.StatusUnauthorized, Err: errors.New("bad token")}
			}
			return nil
		},
		OnReject: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			mu.Lock()
			rejected = append(rejected, status)
			mu.Unlock()
			w.Header().Set("X-Rejected", "yes")
			w.WriteHeader(status)
			io.WriteString(w, "custom: "+err.Error())
		},
	}
	s := httptest.NewServer(echoHandler(t, opts))
	defer s.Close()
	ln := listen(t)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c, err := Upgrade(nc, opts)
				if err == nil {
					defer c.CloseNow()
					echo(c)
				}
			}()
		}
	}()
	for _, base := range []string{wsURL(s, "/"), "ws://" + ln.Addr().String() + "/"} {
		for _, tc := range []struct {
			name, origin, token string
			status              int
		}{
			{"allowed origin", "https://good.example", "", 101},
			{"no Origin, refused by the callback", "", "", 403},
			{"other origin", "https://evil.example", "", 403},
			{"OnRequest refuses", "https://good.example", "bad", 401},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := http.Header{}
				if tc.token != "" {
					h.Set("X-Token", tc.token)
				}
				c, err := Dial(bg, base, &DialOptions{Origin: tc.origin, Header: h})
				if tc.status == 101 {
					if err != nil {
						t.Fatal(err)
					}
					c.CloseNow()
					return
				}
				var se *handshake.StatusError
				if !errors.As(err, &se) || se.Status != tc.status {
					t.Fatalf("Dial = %v, want status %d", err, tc.status)
				}
				if base == wsURL(s, "/") {
					if se.Header.Get("X-Rejected") != "yes" || !strings.HasPrefix(string(se.Body), "custom: ") {
						t.Errorf("OnReject not used: header %v body %q", se.Header, se.Body)
					}
				}
			})
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requests) != 8 {
		t.Errorf("CheckOrigin saw %d requests, want 8: %q", len(requests), requests)
	}
	if len(rejected) != 3 {
		t.Errorf("OnReject ran %d times (%v), want 3 (Accept path only)", len(rejected), rejected)
	}
}

// TestOnRejectHeaders: OnReject finds the header fields the status
// requires already set.
func TestOnRejectHeaders(t *testing.T) {
	s := httptest.NewServer(echoHandler(t, &AcceptOptions{OnReject: func(w http.ResponseWriter, r *http.Request, status int, err error) {
		w.WriteHeader(status)
	}}))
	defer s.Close()
	req, _ := http.NewRequest("GET", s.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "12")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 426 || resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Errorf("got %d with version %q, want 426 with 13", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Version"))
	}
}

func TestDialResponseJarHost(t *testing.T) {
	var mu sync.Mutex
	var hosts, cookies []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
		if r.URL.Path == "/deny" {
			w.Header().Set("Set-Cookie", "denied=1")
			http.Error(w, "go away, please", http.StatusForbidden)
			return
		}
		c, err := Accept(w, r, &AcceptOptions{InsecureSkipOriginCheck: true,
			Header: http.Header{"Set-Cookie": {"session=abc"}, "X-Server": {"test"}}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	}))
	defer s.Close()
	jar, _ := cookiejar.New(nil)
	opts := &DialOptions{Jar: jar, Host: "chat.example:1234", Header: http.Header{"Cookie": {"pre=0"}}}
	c, err := Dial(bg, wsURL(s, "/"), opts)
	if err != nil {
		t.Fatal(err)
	}
	resp := c.Response()
	if resp == nil || resp.StatusCode != 101 || resp.Header.Get("X-Server") != "test" || resp.Status != "101 Switching Protocols" {
		t.Fatalf("Response() = %+v", resp)
	}
	c.Close(CloseNormalClosure, "")
	u, _ := url.Parse(s.URL)
	if got := jar.Cookies(u); len(got) != 1 || got[0].String() != "session=abc" {
		t.Errorf("jar holds %v, want session=abc", got)
	}
	c, err = Dial(bg, wsURL(s, "/"), opts)
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	_, err = Dial(bg, wsURL(s, "/deny"), opts)
	var se *handshake.StatusError
	if !errors.As(err, &se) || se.Status != 403 || strings.TrimSpace(string(se.Body)) != "go away, please" {
		t.Fatalf("Dial /deny = %v (body %q), want 403 with its body", err, se.Body)
	}
	if got := jar.Cookies(u); len(got) != 2 {
		t.Errorf("jar holds %v, want the cookie of the 403 too", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range hosts {
		if h != "chat.example:1234" {
			t.Errorf("server saw Host %q, want the override", h)
		}
	}
	if want := []string{"pre=0", "pre=0; session=abc", "pre=0; session=abc"}; strings.Join(cookies, "|") != strings.Join(want, "|") {
		t.Errorf("server saw cookies %q, want %q", cookies, want)
	}
	srvConn, _ := Pipe(nil, nil)
	if srvConn.Response() != nil {
		t.Error("Response() of a Pipe Conn is not nil")
	}
}

// TestDialTLSContext: NetDialTLSContext supplies the TLS connection.
func TestDialNetDialTLSContext(t *testing.T) {
	s := httptest.NewTLSServer(echoHandler(t, nil))
	defer s.Close()
	used := false
	opts := &DialOptions{NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		used = true
		cfg := s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		cfg.ServerName = "example.com"
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return tls.Client(nc, cfg), nil
	}}
	c, err := Dial(bg, "wss"+strings.TrimPrefix(s.URL, "https")+"/", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if !used {
		t.Fatal("NetDialTLSContext not used")
	}
	if err := c.WriteMessage(bg, Text, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(bg, nil); err != nil || string(msg) != "hi" {
		t.Fatalf("ReadMessage = %q, %v", msg, err)
	}
}

// TestCompressionControl: EnableWriteCompression(false) sends every
// message uncompressed without breaking the context; SetCompressionLevel
// changes the level for the next message.
func TestCompressionControl(t *testing.T) {
	for _, noCtx := range []bool{false, true} {
		p := &pmdParams{Agreement: deflate.Agreement{ServerWindowBits: 15, ClientWindowBits: 15, ServerNoContextTakeover: noCtx}, level: 1, threshold: 64}
		c, peer := newServerUnderTest(t, nil)
		c.setCompression(p, "permessage-deflate")
		inf := &deflatetest.Inflater{Window: 1 << 15, Takeover: !noCtx}
		msg := jsonLike(20000, 7)
		sizes := map[string]int{}
		for i, step := range []struct {
			name       string
			set        func()
			compressed bool
		}{
			{"default", func() {}, true},
			{"off", func() { c.EnableWriteCompression(false) }, false},
			{"on again", func() { c.EnableWriteCompression(true) }, true},
			{"level 9", func() {
				if err := c.SetCompressionLevel(9); err != nil {
					t.Fatal(err)
				}
			}, true},
		} {
			step.set()
			for j, send := range []func() error{
				func() error { return c.WriteMessage(bg, Text, msg) },
				func() error {
					w, err := c.NextWriter(bg, Text)
					if err != nil {
						return err
					}
					w.Write(msg)
					return w.Close()
				},
				func() error {
					pm, _ := NewPreparedMessage(Text, msg)
					return c.WritePrepared(bg, pm)
				},
			} {
				go func() {
					if err := send(); err != nil {
						t.Error(err)
					}
				}()
				f := peer.mustRead()
				if got := f.h.Rsv == frame.RSV1; got != step.compressed {
					t.Fatalf("noctx=%v %s: compressed %v, want %v", noCtx, step.name, got, step.compressed)
				}
				payload := f.payload
				if step.compressed {
					var err error
					if payload, err = inf.Message(f.payload); err != nil {
						t.Fatalf("noctx=%v %s (step %d): %v", noCtx, step.name, i, err)
					}
				}
				mustEqual(t, step.name, payload, msg)
				if j < 2 { // WriteMessage and NextWriter: this Conn's compressor
					sizes[step.name] += len(f.payload)
				}
			}
		}
		if sizes["level 9"] >= sizes["default"] {
			t.Errorf("level 9 gave %d bytes, level 1 %d: the level did not change", sizes["level 9"], sizes["default"])
		}
	}
	srv, _ := Pipe(nil, nil)
	if err := srv.SetCompressionLevel(10); err == nil {
		t.Error("SetCompressionLevel(10) accepted")
	}
	if err := srv.SetCompressionLevel(5); err != nil {
		t.Errorf("SetCompressionLevel on a connection without compression: %v", err)
	}
}

func TestNetConn(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	a := NetConn(bg, srv, Binary)
	b := NetConn(bg, cli, Binary)
	go func() {
		w := bufio.NewWriterSize(a, 100)
		for i := range 50 {
			w.WriteString(strings.Repeat(string(rune('a'+i%26)), i))
		}
		w.Flush()
		a.Write(nil) // an empty message is no end of stream
		a.Write([]byte("end"))
		a.Close()
	}()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	var want strings.Builder
	for i := range 50 {
		want.WriteString(strings.Repeat(string(rune('a'+i%26)), i))
	}
	want.WriteString("end")
	if string(got) != want.String() {
		t.Fatalf("read %d bytes, want %d", len(got), want.Len())
	}
	if n, err := b.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v, want io.EOF again", n, err)
	}

	// A read deadline between messages leaves the stream usable.
	srv2, cli2 := Pipe(nil, nil)
	defer srv2.CloseNow()
	defer cli2.CloseNow()
	r := NetConn(bg, cli2, Text)
	r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := r.Read(make([]byte, 10)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past the deadline = %v, want a timeout", err)
	}
	r.SetReadDeadline(time.Time{})
	srv2.WriteMessage(bg, Text, []byte("later"))
	buf := make([]byte, 10)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "later" {
		t.Fatalf("Read after the timeout = %q, %v", buf[:n], err)
	}
	// A message of the other type fails the stream with 1003.
	peerErr := make(chan error, 1)
	go func() { _, _, err := srv2.ReadMessage(bg, nil); peerErr <- err }()
	srv2.WriteMessage(bg, Binary, []byte{1})
	if _, err := r.Read(buf); err == nil {
		t.Fatal("Read took a binary message on a text stream")
	}
	if err := <-peerErr; CloseStatus(err) != CloseUnsupportedData {
		t.Errorf("peer saw %v, want 1003", err)
	}
}

// TestCloseAfterPeerVanished: Close on a connection whose peer has closed
// TCP without a close frame returns as soon as its read finds the
// connection gone, not after CloseTimeout; the same after the peer's
// close frame when nobody was reading.
func TestCloseAfterPeerVanished(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(peer *Conn)
	}{
		{"peer closed TCP", func(peer *Conn) { peer.CloseNow() }},
		{"peer closed TCP after data", func(peer *Conn) {
			peer.WriteMessage(bg, Text, []byte("unread"))
			peer.CloseNow()
		}},
	} {
		for _, side := range []string{"client", "server"} {
			for _, transport := range []string{"pipe", "tcp", "http"} {
				t.Run(tc.name+"/"+side+"/"+transport, func(t *testing.T) {
					opts := &Options{CloseTimeout: 3 * time.Second}
					var srv, cli *Conn
					switch transport {
					case "pipe":
						srv, cli = Pipe(opts, opts)
					case "tcp":
						srv, cli = tcpPair(t, opts, opts)
					case "http":
						srv, cli = httpPair(t, opts)
					}
					defer srv.CloseNow()
					defer cli.CloseNow()
					c, peer := cli, srv
					if side == "server" {
						c, peer = srv, cli
					}
					tc.end(peer)
					time.Sleep(10 * time.Millisecond) // let the close reach c
					start := time.Now()
					if err := c.Close(CloseNormalClosure, ""); err != nil {
						t.Fatalf("Close = %v", err)
					}
					if d := time.Since(start); d > time.Second {
						t.Errorf("Close took %v with the peer gone, want well under CloseTimeout (3 s)", d)
					}
					select {
					case <-c.Done():
					default:
						t.Error("TCP not closed when Close returned")
					}
				})
			}
		}
	}
}

// httpPair returns a server Conn from Accept and the client Conn dialled
// to it, over TCP on 127.0.0.1, both with opts.
func httpPair(t *testing.T, opts *Options) (srv, cli *Conn) {
	t.Helper()
	got := make(chan *Conn, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{Options: *opts})
		if err != nil {
			t.Error(err)
			return
		}
		got <- c
	}))
	t.Cleanup(s.Close)
	cli, err := Dial(bg, wsURL(s, "/"), &DialOptions{Options: *opts})
	if err != nil {
		t.Fatal(err)
	}
	return <-got, cli
}
