package realtime

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
)

// testApp is the application the interop tests run: the events the Node
// scripts in testdata/node expect.
type testApp struct {
	mu      sync.Mutex
	reasons map[string]string // socket id -> disconnect reason
}

func newTestApp(srv *Server) *testApp {
	app := &testApp{reasons: map[string]string{}}
	main := srv.Of("/")
	main.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(reason DisconnectReason) {
			app.mu.Lock()
			app.reasons[s.ID()] = string(reason)
			app.mu.Unlock()
		})
		s.On("echo", func(e *Event) {
			vals, err := e.Args.Values()
			if err != nil {
				return
			}
			e.Ack(vals...)
		})
		s.On("join", func(e *Event) {
			room := e.Args.String(0)
			s.Join(room)
			e.Ack("joined", room)
		})
		s.On("to-room", func(e *Event) {
			s.To(e.Args.String(0)).Emit("room-msg", e.Args.Raw(1))
			e.Ack()
		})
		s.On("to-rooms", func(e *Event) {
			var rooms []string
			e.Args.Decode(0, &rooms)
			main.To(rooms...).Emit("rooms-msg", e.Args.Raw(1))
			e.Ack()
		})
		s.On("shout", func(e *Event) {
			main.Emit("shout", e.Args.Raw(0))
			e.Ack()
		})
		s.On("shout-others", func(e *Event) {
			s.Broadcast().Emit("shout-others", e.Args.Raw(0))
			e.Ack()
		})
		s.On("ask-me", func(e *Event) {
			q, _ := e.Args.Value(0)
			ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
			defer cancel()
			a, err := s.EmitWithAck(ctx, "question", q)
			if err != nil {
				e.Ack("error: " + err.Error())
				return
			}
			vals, _ := a.Values()
			e.Ack(vals...)
		})
		s.On("bin-please", func(e *Event) {
			s.Emit("bin", []byte{0, 1, 2, 255}, map[string]any{"buf": []byte("hello")})
		})
		s.On("burst", func(e *Event) {
			var n int
			e.Args.Decode(0, &n)
			for i := range min(n, 1000) {
				s.Emit("seq", i)
			}
			e.Ack()
		})
		s.On("reason-of", func(e *Event) {
			app.mu.Lock()
			r := app.reasons[e.Args.String(0)]
			app.mu.Unlock()
			e.Ack(r)
		})
	})
	admin := srv.Of("/admin")
	admin.Use(func(s *Socket) error {
		var auth struct{ Token string }
		if len(s.Auth()) > 0 {
			_ = jsonUnmarshal(s.Auth(), &auth)
		}
		if auth.Token != "secret" {
			return &ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
		}
		return nil
	})
	admin.OnConnection(func(s *Socket) {
		s.On("whoami", func(e *Event) {
			var auth struct{ Token string }
			jsonUnmarshal(s.Auth(), &auth)
			e.Ack(s.Namespace().Name(), auth.Token)
		})
	})
	return app
}

// clientOf returns the Socket.IO connection of the session with the id
// given.
func clientOf(t testing.TB, srv *Server, sid string) *client {
	t.Helper()
	sess := srv.Engine().Session(sid)
	if sess == nil {
		t.Fatalf("no session %s", sid)
	}
	c, _ := sess.UserData().(*client)
	if c == nil {
		t.Fatalf("session %s has no Socket.IO connection", sid)
	}
	return c
}

// serve runs h on a loopback listener until the test ends and returns the
// base URL.
func serve(t testing.TB, h http.Handler) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	stop := func() { hs.Close() }
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func nodeScript(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "node", name)
}

func nodeCmd(t *testing.T, pkgs []string, args ...string) *exec.Cmd {
	t.Helper()
	return testpeer.NodeCmd(t, pkgs, args...)
}
