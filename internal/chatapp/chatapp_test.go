package chatapp

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime/client"
)

func startChat(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := New(nil)
	hs := &http.Server{Handler: a.Handler()}
	go hs.Serve(ln)
	t.Cleanup(func() { a.srv.Close(); hs.Close() })
	return "http://" + ln.Addr().String()
}

func dial(t *testing.T, url string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ack(t *testing.T, c *client.Client, event string, args ...any) []any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := c.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	vals, err := a.Values()
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// TestChatEvents checks the demo's events with the Go client.
func TestChatEvents(t *testing.T) {
	url := startChat(t)
	alice, bob, carol := dial(t, url), dial(t, url), dial(t, url)
	got := map[string]chan string{"bob": make(chan string, 4), "carol": make(chan string, 4)}
	bob.On("chat", func(e *client.Event) { got["bob"] <- e.Args.String(1) })
	carol.On("chat", func(e *client.Event) { got["carol"] <- e.Args.String(1) })
	if v := ack(t, alice, "chat", "r1", "too early"); len(v) != 1 || v[0] != "join the room first" {
		t.Errorf("chat before join = %v", v)
	}
	for _, c := range []*client.Client{alice, bob} {
		if v := ack(t, c, "join", "r1"); len(v) != 2 || v[0] != "joined" || v[1] != "r1" {
			t.Fatalf("join = %v", v)
		}
	}
	ack(t, carol, "join", "r2")
	if v := ack(t, alice, "chat", "r1", "hi room one"); len(v) != 0 {
		t.Errorf("chat ack = %v, want no arguments", v)
	}
	select {
	case s := <-got["bob"]:
		if s != "hi room one" {
			t.Errorf("bob got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bob got nothing")
	}
	select {
	case s := <-got["carol"]:
		t.Errorf("carol, in another room, got %q", s)
	case <-time.After(200 * time.Millisecond):
	}
	v := ack(t, alice, "echo", "text", []byte{0, 1, 255}, map[string]any{"n": 1})
	if len(v) != 3 || v[0] != "text" || !bytes.Equal(v[1].([]byte), []byte{0, 1, 255}) {
		t.Errorf("echo = %v", v)
	}
	if v := ack(t, alice, "join", strings.Repeat("x", 65)); v[0] != "error" {
		t.Errorf("join with a long name = %v", v)
	}
}

func TestPage(t *testing.T) {
	url := startChat(t)
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(body.String(), "class MiniSocket") {
		t.Errorf("GET / = %d, %d bytes", resp.StatusCode, body.Len())
	}
	if resp, err := http.Get(url + "/nope"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /nope = %v, %v; want 404", resp.StatusCode, err)
	}
}

// TestChatChromium opens two pages of the demo in headless Chromium: a
// message typed in one appears in the other.
func TestChatChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test runs in the full test run")
	}
	exe := testpeer.Chromium(t)
	url := startChat(t)
	cmd := testpeer.NodeCmd(t, []string{"playwright-core"}, "testdata/chromium.js", url+"/", exe, t.TempDir())
	cmd.Args = append(cmd.Args, testpeer.ChromiumFlags...)
	testpeer.RunScript(t, cmd, 3*time.Minute, nil)
}
