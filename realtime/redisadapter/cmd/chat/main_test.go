package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime/client"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
)

// TestTwoNodes runs two chat nodes on one redis-server, in each -mode: a
// message sent to a room on one node reaches the room's member on the
// other.
func TestTwoNodes(t *testing.T) {
	for _, mode := range []string{"classic", "sharded", "streams"} {
		t.Run(mode, func(t *testing.T) { testTwoNodes(t, mode) })
	}
	if _, _, err := newNode("redis://127.0.0.1:1", "", "carrier-pigeon"); err == nil {
		t.Error("newNode accepted an unknown mode")
	}
}

func testTwoNodes(t *testing.T, mode string) {
	rs := redistest.Start(t)
	var urls []string
	for range 2 {
		app, leave, err := newNode("redis://"+rs.Addr, "", mode)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: app.Handler()}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close(); app.Server().Close(); leave() })
		urls = append(urls, "http://"+ln.Addr().String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cs []*client.Client
	for _, u := range urls {
		c, err := client.Dial(ctx, u, &client.Options{Transports: []client.Transport{client.WebSocket}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.EmitWithAck(ctx, "join", "lobby"); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	got := make(chan string, 1)
	cs[1].On("chat", func(e *client.Event) { got <- e.Args.String(1) })
	// The second node's subscription may be a moment behind its
	// listener: send until it arrives.
	for {
		if _, err := cs[0].EmitWithAck(ctx, "chat", "lobby", "hello from node 1"); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != "hello from node 1" {
				t.Errorf("node 2 got %q", s)
			}
			return
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("the message did not reach the other node within 10 s")
		}
	}
}

// TestTwoNodesChromium opens the page of each node in headless Chromium:
// a message typed in the page of one node appears in the page of the
// other.
func TestTwoNodesChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test runs in the full test run")
	}
	exe := testpeer.Chromium(t)
	rs := redistest.Start(t)
	var urls []string
	for range 2 {
		app, leave, err := newNode("redis://"+rs.Addr, "", "")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: app.Handler()}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close(); app.Server().Close(); leave() })
		urls = append(urls, "http://"+ln.Addr().String()+"/")
	}
	script := filepath.Join(testpeer.Root(), "internal", "chatapp", "testdata", "chromium.js")
	cmd := testpeer.NodeCmd(t, []string{"playwright-core"}, script, strings.Join(urls, ","), exe, t.TempDir())
	cmd.Args = append(cmd.Args, testpeer.ChromiumFlags...)
	testpeer.RunScript(t, cmd, 3*time.Minute, nil)
}
