package engine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
)

// TestOfficialEngineClient runs the official engine.io-client 6.x (Node)
// against the engine on its own, mounted at /engine.io/, over polling,
// WebSocket and polling upgraded to WebSocket: text and binary messages
// both ways, a close by the server, the heartbeat.
func TestOfficialEngineClient(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range []string{"websocket", "polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			srv := NewServer(&Options{PingInterval: 300 * time.Millisecond, PingTimeout: 2 * time.Second})
			srv.OnConnection(func(s *Session) {
				s.OnMessage(func(m Message) {
					switch {
					case m.Binary:
						s.SendBinary(append([]byte{0xff}, m.Data...))
					case string(m.Data) == "close-me":
						s.Close()
					default:
						s.SendText("echo " + string(m.Data))
					}
				})
			})
			base := serve(t, srv)
			cmd := testpeer.NodeCmd(t, []string{"engine.io-client"}, filepath.Join(testpeer.Root(), "realtime", "testdata", "node", "engine-client.js"), base[:len(base)-len("/engine.io/")], mode)
			testpeer.RunScript(t, cmd, time.Minute, nil)
			srv.Close()
			if n := srv.SessionCount(); n != 0 {
				t.Errorf("%d sessions after Close", n)
			}
		})
	}
}
