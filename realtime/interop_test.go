package realtime

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/testpeer"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestOfficialClient runs the official socket.io-client (Node) against the
// server over each transport set: WebSocket only, polling only, and polling
// upgraded to WebSocket.
func TestOfficialClient(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range []string{"websocket", "polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			srv := NewServer(nil)
			newTestApp(srv)
			url, _ := serve(t, srv)
			cmd := nodeCmd(t, []string{"socket.io-client"}, nodeScript("client.js"), url, mode)
			testpeer.RunScript(t, cmd, 2*time.Minute, nil)
			srv.Close()
			if n := srv.SessionCount(); n != 0 {
				t.Errorf("%d sessions left after Close", n)
			}
		})
	}
}

// TestOfficialClientPoller runs the official client's scenarios with the
// WebSockets served by a conn.Poller instead of a goroutine each.
func TestOfficialClientPoller(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	p, err := conn.NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, mode := range []string{"websocket", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			srv := NewServer(&Options{Poller: p})
			newTestApp(srv)
			url, _ := serve(t, srv)
			cmd := nodeCmd(t, []string{"socket.io-client"}, nodeScript("client.js"), url, mode)
			testpeer.RunScript(t, cmd, 2*time.Minute, nil)
			srv.Close()
			if n := srv.SessionCount(); n != 0 {
				t.Errorf("%d sessions left after Close", n)
			}
		})
	}
}

// TestOfficialClientReconnect stops the server while the official client is
// connected and starts a new one on the same port: the client must
// reconnect by itself, deliver what it emitted meanwhile, and carry on.
func TestOfficialClientReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range []string{"websocket", "polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			fast := &Options{PingInterval: time.Second, PingTimeout: time.Second}
			addr, stop := startOn(t, "127.0.0.1:0", fast)
			cmd := nodeCmd(t, []string{"socket.io-client"}, nodeScript("reconnect.js"), "http://"+addr, mode)
			restarted := false
			testpeer.RunScript(t, cmd, 2*time.Minute, func(line string) {
				switch {
				case line == "READY":
					stop()
				case strings.HasPrefix(line, "DISCONNECTED") && !restarted:
					restarted = true
					_, stop = startOn(t, addr, fast)
				}
			})
			if !restarted {
				t.Error("the client never saw the server go away")
			}
		})
	}
}

// startOn runs a test server on addr, retrying briefly if the port is
// still held, and returns its address and a stop function.
func startOn(t *testing.T, addr string, opts *Options) (string, func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(opts)
	newTestApp(srv)
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Close()
			hs.Close()
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}
