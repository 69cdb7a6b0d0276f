package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

	"github.com/wirelevel/ws/conn"
)

// server runs handler on each connection an Upgrader accepts.
func server(t *testing.T, u *Upgrader, handler func(*Conn)) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, http.Header{"Set-Cookie": {"sid=1"}})
		if err != nil {
			return
		}
		defer c.Close()
		handler(c)
	}))
	t.Cleanup(s.Close)
	return s
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/" }

func echoLoop(c *Conn) {
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, p); err != nil {
			return
		}
	}
}

func dial(t *testing.T, s *httptest.Server, d *Dialer) *Conn {
	t.Helper()
	if d == nil {
		d = &Dialer{}
	}
	c, resp, err := d.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("response %d", resp.StatusCode)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEcho(t *testing.T) {
	s := server(t, &Upgrader{}, echoLoop)
	c := dial(t, s, nil)
	var kept [][]byte
	for i, msg := range []string{"", "a", strings.Repeat("b", 126), strings.Repeat("c", 70000)} {
		mt := TextMessage
		if i%2 == 1 {
			mt = BinaryMessage
		}
		if err := c.WriteMessage(mt, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		gotType, p, err := c.ReadMessage()
		if err != nil || gotType != mt || string(p) != msg {
			t.Fatalf("ReadMessage = %d, %d bytes, %v; want %d, %d bytes", gotType, len(p), err, mt, len(msg))
		}
		kept = append(kept, p)
	}
	// ReadMessage gives each message memory of its own, as gorilla does.
	if len(kept[1]) != 1 || kept[1][0] != 'a' || len(kept[2]) != 126 {
		t.Error("an earlier message was overwritten")
	}
	// NextReader and NextWriter.
	w, err := c.NextWriter(BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "streamed %d", 42)
	w.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	mt, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if mt != BinaryMessage || string(b) != "streamed 42" {
		t.Errorf("NextReader: %d %q", mt, b)
	}
	if err := c.WriteMessage(3, nil); err != errBadWriteOpCode {
		t.Errorf("WriteMessage(3) = %v", err)
	}
}

// TestClosingHandshake: a close message written by the client is answered;
// both sides read the *CloseError; later writes get ErrCloseSent.
func TestClosingHandshake(t *testing.T) {
	got := make(chan error, 1)
	s := server(t, &Upgrader{}, func(c *Conn) {
		_, _, err := c.ReadMessage()
		got <- err
		if err := c.WriteMessage(TextMessage, []byte("late")); err != ErrCloseSent {
			t.Errorf("server write after the close = %v, want ErrCloseSent", err)
		}
	})
	c := dial(t, s, nil)
	if err := c.WriteMessage(CloseMessage, FormatCloseMessage(CloseNormalClosure, "bye")); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(TextMessage, []byte("x")); err != ErrCloseSent {
		t.Errorf("write after the close = %v, want ErrCloseSent", err)
	}
	if err := c.WriteControl(CloseMessage, FormatCloseMessage(CloseNormalClosure, ""), time.Time{}); err != ErrCloseSent {
		t.Errorf("second close = %v, want ErrCloseSent", err)
	}
	_, _, err := c.ReadMessage()
	if !IsCloseError(err, CloseNormalClosure) || IsUnexpectedCloseError(err, CloseNormalClosure) {
		t.Errorf("client read = %v, want the echoed 1000", err)
	}
	serr := <-got
	var ce *CloseError
	if !errors.As(serr, &ce) || ce.Code != 1000 || ce.Text != "bye" || serr.Error() != "websocket: close 1000 (normal): bye" {
		t.Errorf("server read = %v", serr)
	}
	if _, _, err2 := c.ReadMessage(); err2 != err {
		t.Errorf("second read = %v, want the same error", err2)
	}
}

func TestHandlers(t *testing.T) {
	pings := make(chan string, 4)
	closes := make(chan string, 1)
	s := server(t, &Upgrader{}, func(c *Conn) {
		c.SetPingHandler(func(data string) error {
			pings <- data
			return c.WriteControl(PongMessage, []byte("re:"+data), time.Now().Add(time.Second))
		})
		c.SetCloseHandler(func(code int, text string) error {
			closes <- fmt.Sprint(code, " ", text)
			return c.WriteControl(CloseMessage, FormatCloseMessage(4000, "handled"), time.Now().Add(time.Second))
		})
		echoLoop(c)
	})
	c := dial(t, s, nil)
	pongs := make(chan string, 4)
	c.SetPongHandler(func(data string) error { pongs <- data; return nil })
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	if err := c.WriteControl(PingMessage, []byte("p1"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := <-pongs; got != "re:p1" {
		t.Errorf("pong %q, want the handler's re:p1", got)
	}
	if got := <-pings; got != "p1" {
		t.Errorf("ping handler saw %q", got)
	}
	if err := c.WriteControl(PingMessage, nil, time.Now().Add(-time.Second)); err == nil {
		t.Error("WriteControl with a past deadline succeeded")
	}
	c.WriteMessage(CloseMessage, FormatCloseMessage(CloseGoingAway, "leaving"))
	if got := <-closes; got != "1001 leaving" {
		t.Errorf("close handler saw %q", got)
	}
	if err := <-readErr; !IsCloseError(err, 4000) {
		t.Errorf("client read %v, want the handler's 4000", err)
	}
	if c.PingHandler() == nil || c.PongHandler() == nil || c.CloseHandler() == nil {
		t.Error("a handler getter returned nil")
	}
}

// TestHandlerError: a handler's error ends reading with that error, at
// once, and the connection stays usable for writing.
func TestHandlerError(t *testing.T) {
	s := server(t, &Upgrader{}, func(c *Conn) {
		c.WriteControl(PingMessage, []byte("x"), time.Time{})
		echoLoop(c)
	})
	c := dial(t, s, nil)
	boom := errors.New("boom")
	c.SetPingHandler(func(string) error { return boom })
	start := time.Now()
	if _, _, err := c.ReadMessage(); err != boom {
		t.Fatalf("ReadMessage = %v, want the handler's error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the handler's error took %v", d)
	}
	if _, _, err := c.NextReader(); err != boom {
		t.Errorf("later read = %v, want the same error", err)
	}
	if err := c.WriteMessage(TextMessage, []byte("still")); err != nil {
		t.Errorf("write after a handler error: %v", err)
	}
}

func TestReadLimitAndStrictness(t *testing.T) {
	got := make(chan error, 2)
	s := server(t, &Upgrader{}, func(c *Conn) {
		c.SetReadLimit(10)
		_, _, err := c.ReadMessage()
		got <- err
	})
	c := dial(t, s, nil)
	c.WriteMessage(BinaryMessage, make([]byte, 11))
	if err := <-got; err != ErrReadLimit && !errors.Is(err, ErrReadLimit) {
		t.Errorf("server read = %v, want ErrReadLimit", err)
	}
	if _, _, err := c.ReadMessage(); !IsCloseError(err, CloseMessageTooBig) {
		t.Errorf("client read = %v, want 1009", err)
	}

	// Invalid UTF-8 in a text message fails the connection with 1007.
	s2 := server(t, &Upgrader{}, func(c *Conn) {
		_, _, err := c.ReadMessage()
		got <- err
	})
	cc, err := conn.Dial(context.Background(), wsURL(s2), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.CloseNow()
	cc.WriteMessage(context.Background(), conn.Text, []byte{'a', 0xff})
	if err := <-got; err == nil {
		t.Error("invalid UTF-8 read without error")
	}
	if _, _, err := cc.ReadMessage(context.Background(), nil); conn.CloseStatus(err) != 1007 {
		t.Errorf("peer saw %v, want 1007", err)
	}
}

// TestConcurrentWriters: writers from many goroutines never corrupt a
// frame (gorilla would panic).
func TestConcurrentWriters(t *testing.T) {
	const writers, each = 8, 100
	s := server(t, &Upgrader{}, func(c *Conn) {
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				for j := range each {
					if err := c.WriteMessage(TextMessage, []byte(fmt.Sprintf("%d-%d-%s", i, j, strings.Repeat("x", i*100)))); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		c.ReadMessage()
	})
	c := dial(t, s, nil)
	seen := map[string]bool{}
	for range writers * each {
		_, p, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var i, j int
		var pad string
		if _, err := fmt.Sscanf(string(p), "%d-%d-%s", &i, &j, &pad); err != nil && i != 0 {
			t.Fatalf("garbled message %q", p)
		}
		if len(pad) != i*100 {
			t.Fatalf("message %q has the wrong length", p[:20])
		}
		seen[fmt.Sprint(i, j)] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct messages, want %d", len(seen), writers*each)
	}
}

func TestWriterLeftOpen(t *testing.T) {
	s := server(t, &Upgrader{}, echoLoop)
	c := dial(t, s, nil)
	w, _ := c.NextWriter(TextMessage)
	w.Write([]byte("first"))
	// gorilla's rule: the next write closes the writer left open.
	if err := c.WriteMessage(TextMessage, []byte("second")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first", "second"} {
		if _, p, err := c.ReadMessage(); err != nil || string(p) != want {
			t.Fatalf("ReadMessage = %q %v, want %q", p, err, want)
		}
	}
}

func TestJSONPreparedJoin(t *testing.T) {
	s := server(t, &Upgrader{}, echoLoop)
	c := dial(t, s, nil)
	type T struct{ A int }
	if err := c.WriteJSON(T{7}); err != nil {
		t.Fatal(err)
	}
	var v T
	if err := c.ReadJSON(&v); err != nil || v.A != 7 {
		t.Fatalf("ReadJSON = %+v %v", v, err)
	}
	WriteJSON(c, T{8})
	_, raw, _ := c.ReadMessage()
	if string(raw) != "{\"A\":8}\n" {
		t.Errorf("WriteJSON sent %q, want gorilla's form with a newline", raw)
	}
	c.WriteMessage(TextMessage, nil)
	if err := ReadJSON(c, &v); err != io.ErrUnexpectedEOF {
		t.Errorf("ReadJSON of an empty message = %v, want io.ErrUnexpectedEOF", err)
	}
	pm, err := NewPreparedMessage(TextMessage, []byte("prepared"))
	if err != nil {
		t.Fatal(err)
	}
	c.WritePreparedMessage(pm)
	c.WritePreparedMessage(pm)
	r := JoinMessages(c, "|")
	buf := make([]byte, len("prepared|prepared|"))
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "prepared|prepared|" {
		t.Errorf("JoinMessages read %q %v", buf, err)
	}
	if _, err := NewPreparedMessage(PingMessage, make([]byte, 126)); err == nil {
		t.Error("a 126-byte prepared ping was accepted")
	}
}

func TestUpgraderChecks(t *testing.T) {
	var mu sync.Mutex
	var statuses []int
	u := &Upgrader{
		Subprotocols: []string{"b", "a"},
		CheckOrigin:  func(r *http.Request) bool { return r.Header.Get("Origin") != "https://evil.example" },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			mu.Lock()
			statuses = append(statuses, status)
			mu.Unlock()
			if _, ok := reason.(HandshakeError); !ok {
				t.Errorf("Error got %T, want HandshakeError", reason)
			}
			http.Error(w, "custom", status)
		},
	}
	upgradeErr := make(chan error, 10)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/plain" && IsWebSocketUpgrade(r) {
			t.Error("IsWebSocketUpgrade of a plain request")
		}
		if r.URL.Path == "/protocols" {
			fmt.Fprint(w, strings.Join(Subprotocols(r), "|"))
			return
		}
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			upgradeErr <- err
			return
		}
		c.WriteMessage(TextMessage, []byte(c.Subprotocol()))
		c.Close()
	}))
	defer s.Close()
	d := &Dialer{Subprotocols: []string{"a", "b"}}
	c, resp, err := d.Dial(wsURL(s), http.Header{"Origin": {"https://good.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, p, _ := c.ReadMessage(); string(p) != "b" || resp.Header.Get("Sec-Websocket-Protocol") != "b" {
		t.Errorf("subprotocol %q, want the server's first choice b", p)
	}
	c.Close()
	_, resp, err = d.Dial(wsURL(s), http.Header{"Origin": {"https://evil.example"}})
	if err != ErrBadHandshake || resp.StatusCode != 403 {
		t.Fatalf("evil origin: %v %v", resp, err)
	}
	if body, _ := io.ReadAll(resp.Body); strings.TrimSpace(string(body)) != "custom" {
		t.Errorf("body %q, want the Error hook's", body)
	}
	if err := <-upgradeErr; err.Error() != "websocket: request origin not allowed by Upgrader.CheckOrigin" {
		t.Errorf("Upgrade error %q", err)
	}
	plain, _ := http.Get(s.URL + "/plain")
	plain.Body.Close()
	if plain.StatusCode != 426 {
		t.Errorf("plain GET: %d, want 426", plain.StatusCode)
	}
	if _, ok := (<-upgradeErr).(HandshakeError); !ok {
		t.Error("a plain GET did not give a HandshakeError")
	}
	req, _ := http.NewRequest("GET", s.URL+"/protocols", nil)
	req.Header.Add("Sec-WebSocket-Protocol", "x, y")
	req.Header.Add("Sec-WebSocket-Protocol", "z")
	pr, _ := http.DefaultClient.Do(req)
	body, _ := io.ReadAll(pr.Body)
	pr.Body.Close()
	if string(body) != "x|y|z" {
		t.Errorf("Subprotocols = %q", body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(statuses) != 2 || statuses[0] != 403 || statuses[1] != 426 {
		t.Errorf("Error hook saw %v, want [403 426]", statuses)
	}

	// The default answer and the deprecated Upgrade.
	s2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, http.Header{"Sec-Websocket-Protocol": {"old"}}, 1024, 1024)
		if err != nil {
			http.Error(w, "app's own answer", 400)
			return
		}
		c.WriteMessage(TextMessage, []byte(c.Subprotocol()))
		c.Close()
	}))
	defer s2.Close()
	c, _, err = (&Dialer{Subprotocols: []string{"old"}}).Dial(wsURL(s2), http.Header{"Origin": {"https://anywhere.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, p, _ := c.ReadMessage(); string(p) != "old" {
		t.Errorf("deprecated Upgrade: subprotocol %q, want old", p)
	}
	c.Close()
	resp2, _ := http.Get(s2.URL)
	b2, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != 400 || !strings.Contains(string(b2), "app's own answer") {
		t.Errorf("deprecated Upgrade answered %d %q itself", resp2.StatusCode, b2)
	}
}

func TestDialer(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Host+" "+r.Header.Get("Cookie")+" "+r.Header.Get("X-App"))
		mu.Unlock()
		if r.URL.Path == "/deny" {
			http.Error(w, "denied", http.StatusUnauthorized)
			return
		}
		u := &Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		c, err := u.Upgrade(w, r, http.Header{"Set-Cookie": {"sid=7"}})
		if err != nil {
			return
		}
		c.Close()
	}))
	defer s.Close()
	jar, _ := cookiejar.New(nil)
	d := &Dialer{Jar: jar}
	c, resp, err := d.Dial(wsURL(s), http.Header{"Host": {"example.test"}, "X-App": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if resp.Header.Get("Set-Cookie") != "sid=7" {
		t.Errorf("response header %v", resp.Header)
	}
	c, _, err = d.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, resp, err = d.Dial(strings.TrimSuffix(wsURL(s), "/")+"/deny", nil)
	if err != ErrBadHandshake || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("Dial /deny = %v %v", resp, err)
	}
	if body, _ := io.ReadAll(resp.Body); strings.TrimSpace(string(body)) != "denied" {
		t.Errorf("body %q", body)
	}
	for _, bad := range []string{"http://x/", "ws://user:pw@x/"} {
		if _, _, err := d.Dial(bad, nil); err != errMalformedURL {
			t.Errorf("Dial(%s) = %v, want malformed URL", bad, err)
		}
	}
	if _, _, err := d.Dial(wsURL(s), http.Header{"Sec-WebSocket-Key": {"x"}}); err == nil || !strings.Contains(err.Error(), "duplicate header") {
		t.Errorf("duplicate key header: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	u, _ := url.Parse(s.URL)
	if want := []string{"example.test  1", u.Host + " sid=7 ", u.Host + " sid=7 "}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("server saw %q, want %q", seen, want)
	}
}

func TestCompressionAndNewClient(t *testing.T) {
	s := server(t, &Upgrader{EnableCompression: true}, func(c *Conn) {
		c.SetCompressionLevel(9)
		c.EnableWriteCompression(true)
		echoLoop(c)
	})
	c := dial(t, s, &Dialer{EnableCompression: true})
	if ext := c.Unwrap().Extensions(); !strings.Contains(ext, "permessage-deflate") || !strings.Contains(ext, "client_no_context_takeover") {
		t.Errorf("extensions %q, want permessage-deflate without context takeover", ext)
	}
	msg := bytes.Repeat([]byte("compress me "), 1000)
	c.WriteMessage(TextMessage, msg)
	if _, p, err := c.ReadMessage(); err != nil || !bytes.Equal(p, msg) {
		t.Fatalf("compressed echo: %d bytes %v", len(p), err)
	}
	for _, level := range []int{-3, 10} {
		if err := c.SetCompressionLevel(level); err == nil {
			t.Errorf("SetCompressionLevel(%d) accepted", level)
		}
	}

	nc, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(wsURL(s))
	c2, resp, err := NewClient(nc, u, nil, 1024, 1024)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("NewClient: %v %v", resp, err)
	}
	defer c2.Close()
	c2.WriteMessage(BinaryMessage, []byte{1, 2})
	if _, p, err := c2.ReadMessage(); err != nil || !bytes.Equal(p, []byte{1, 2}) {
		t.Errorf("NewClient echo: %v %v", p, err)
	}
	if c2.UnderlyingConn() != nc || c2.NetConn() != nc || c2.LocalAddr() == nil || c2.RemoteAddr() == nil {
		t.Error("accessors")
	}
}

func TestCloseErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    CloseError
		want string
	}{
		{CloseError{1000, ""}, "websocket: close 1000 (normal)"},
		{CloseError{1006, "unexpected EOF"}, "websocket: close 1006 (abnormal closure): unexpected EOF"},
		{CloseError{4000, "x"}, "websocket: close 4000: x"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
	if b := FormatCloseMessage(CloseNoStatusReceived, "x"); len(b) != 0 {
		t.Errorf("FormatCloseMessage(1005) = % x", b)
	}
	if b := FormatCloseMessage(1000, "ok"); !bytes.Equal(b, []byte{0x03, 0xe8, 'o', 'k'}) {
		t.Errorf("FormatCloseMessage(1000) = % x", b)
	}
	wrapped := fmt.Errorf("read: %w", &CloseError{Code: 1001})
	if !IsCloseError(wrapped, 1001) || IsUnexpectedCloseError(wrapped, 1001) || !IsUnexpectedCloseError(wrapped, 1000) {
		t.Error("Is*CloseError on a wrapped error")
	}
}
