package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime/engine"
)

// newFeatureApp adds to srv the events testdata/node/features.js drives:
// the server API a Node application relies on, each answered through an
// acknowledgement the script checks.
func newFeatureApp(srv *Server) {
	main := srv.Of("/")
	var blocked atomic.Int64
	main.Use(func(s *Socket) error {
		var auth struct {
			User string `json:"user"`
		}
		json.Unmarshal(s.Auth(), &auth)
		if auth.User != "" {
			s.SetData(map[string]any{"user": auth.User})
		}
		return nil
	})
	main.OnConnection(func(s *Socket) {
		var seen atomic.Int64
		s.OnAny(func(e *Event) { seen.Add(1) })
		s.Use(func(e *Event) error {
			if e.Name == "forbidden" {
				blocked.Add(1)
				return errors.New("forbidden event")
			}
			return nil
		})
		s.On("forbidden", func(e *Event) { e.Ack("should not run") })
		s.On("echo", func(e *Event) {
			vals, err := e.Args.Values()
			if err == nil {
				e.Ack(vals...)
			}
		})
		s.On("auth", func(e *Event) { e.Ack(s.Auth(), s.Recovered()) })
		s.On("seen", func(e *Event) { e.Ack(seen.Load(), blocked.Load()) })
		s.On("join", func(e *Event) {
			s.Join(e.Args.String(0))
			e.Ack(s.Rooms())
		})
		s.On("rooms-of", func(e *Event) {
			if o := main.Socket(e.Args.String(0)); o != nil {
				e.Ack(o.Rooms())
				return
			}
			e.Ack(nil)
		})
		s.On("gather", func(e *Event) {
			var ms int
			e.Args.Decode(1, &ms)
			ctx, cancel := context.WithTimeout(s.Context(), 10*time.Second)
			defer cancel()
			acks, err := main.To(e.Args.String(0)).Except(s.ID()).Timeout(time.Duration(ms)*time.Millisecond).EmitWithAck(ctx, "poll", "q")
			answers := []string{}
			for _, a := range acks {
				answers = append(answers, a.String(0))
			}
			msg := ""
			var te *AckTimeoutError
			if errors.As(err, &te) {
				msg = err.Error()
			}
			e.Ack(answers, msg)
		})
		s.On("ask-one", func(e *Event) {
			// A socket's own acknowledgement with a timeout.
			a, err := s.Timeout(300*time.Millisecond).EmitWithAck(context.Background(), e.Args.String(0))
			if err != nil {
				e.Ack("error: " + err.Error())
				return
			}
			e.Ack(a.String(0))
		})
		s.On("fetch", func(e *Event) {
			ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
			defer cancel()
			found, err := main.In(e.Args.String(0)).FetchSockets(ctx)
			if err != nil {
				e.Ack("error: " + err.Error())
				return
			}
			type info struct {
				ID    string          `json:"id"`
				Rooms []string        `json:"rooms"`
				Data  any             `json:"data"`
				Auth  json.RawMessage `json:"auth"`
			}
			out := []info{}
			for _, r := range found {
				out = append(out, info{r.ID, r.Rooms, r.Data, r.Handshake.Auth})
			}
			e.Ack(out)
		})
		s.On("remote-emit", func(e *Event) {
			// fetchSockets, then emit to each result.
			found, _ := main.In(e.Args.String(0)).FetchSockets(s.Context())
			for _, r := range found {
				r.Emit("remote", "hello "+r.ID)
			}
			e.Ack(len(found))
		})
		s.On("sockets-join", func(e *Event) {
			main.In(e.Args.String(0)).SocketsJoin(e.Args.String(1))
			// The join lands before a broadcast that follows it.
			main.To(e.Args.String(1)).Emit("joined-msg", e.Args.String(1))
			e.Ack()
		})
		s.On("sockets-leave", func(e *Event) {
			main.In(e.Args.String(0)).SocketsLeave(e.Args.String(1))
			e.Ack()
		})
		s.On("disconnect-room", func(e *Event) {
			var close bool
			e.Args.Decode(1, &close)
			e.Ack()
			main.In(e.Args.String(0)).DisconnectSockets(close)
		})
		s.On("volatile-burst", func(e *Event) {
			var n int
			e.Args.Decode(0, &n)
			for i := range min(n, 10_000) {
				s.Volatile().Emit("v", i)
			}
			s.Emit("v-done", n)
			e.Ack()
		})
		s.On("uncompressed", func(e *Event) {
			s.Compress(false).Emit("plain", strings.Repeat("z", 2048))
			main.Compress(false).To(s.ID()).Emit("plain", "broadcast")
			e.Ack()
		})
		s.On("server-side", func(e *Event) {
			acks, err := main.ServerSideEmitWithAck(s.Context(), "hello")
			e.Ack(len(acks), err == nil)
		})
		s.On("two-listeners", func(e *Event) { e.Ack("first") })
		off := s.On("two-listeners", func(e *Event) { e.Ack("second") }) // never wins: acked once
		off()
		s.On("to-room-seq", func(e *Event) {
			var from, n int
			e.Args.Decode(1, &from)
			e.Args.Decode(2, &n)
			for i := from; i < from+n; i++ {
				main.To(e.Args.String(0)).Emit("seq", i)
			}
			e.Ack()
		})
		s.On("connected", func(e *Event) { e.Ack(main.Socket(e.Args.String(0)) != nil) })
		s.On("drop-me", func(e *Event) {
			e.Ack()
			// A transport failure: the session ends without a close
			// packet, as when the network drops.
			go func() {
				time.Sleep(50 * time.Millisecond)
				s.client.sess.Close()
			}()
		})
	})
	dyn := srv.OfPattern(regexp.MustCompile(`^/dyn-\d+$`))
	dyn.Use(func(s *Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		json.Unmarshal(s.Auth(), &auth)
		if auth.Token != "dyn" {
			return &ConnectError{Message: "no token"}
		}
		return nil
	})
	dyn.OnConnection(func(s *Socket) {
		s.On("where", func(e *Event) { e.Ack(s.Namespace().Name()) })
	})
	srv.OfFunc(func(name string, auth json.RawMessage) bool { return strings.HasPrefix(name, "/fn-") }).
		OnConnection(func(s *Socket) {
			s.On("where", func(e *Event) { e.Ack("fn " + s.Namespace().Name()) })
		})
}

// TestOfficialClientFeatures runs the official socket.io-client (Node)
// against the server API: multi-client acknowledgements with a timeout and
// a silent client, fetchSockets and its remote sockets, socketsJoin /
// socketsLeave / disconnectSockets, volatile events, per-packet middleware,
// catch-all listeners, dynamic namespaces, the {} auth default, key order
// in echoes, and connection state recovery after a forced transport drop,
// over each transport set.
func TestOfficialClientFeatures(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range []string{"websocket", "polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			srv := NewServer(&Options{ConnectionStateRecovery: &RecoveryOptions{}, PingInterval: 2 * time.Second, PingTimeout: 2 * time.Second})
			newFeatureApp(srv)
			url, _ := serve(t, srv)
			cmd := nodeCmd(t, []string{"socket.io-client"}, nodeScript("features.js"), url, mode)
			testpeer.RunScript(t, cmd, 2*time.Minute, nil)
			srv.Close()
		})
	}
}

// TestStickyCookie runs two independent servers behind a proxy that routes
// by the io cookie (as a sticky load balancer does): the official client,
// polling only, with credentials, keeps every request of its session on one
// server. Without the cookie option the same client fails.
func TestStickyCookie(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, tt := range []struct {
		name   string
		cookie *engine.CookieOptions
		want   string
	}{
		{"with cookie", &engine.CookieOptions{}, "sticky"},
		{"without cookie", nil, "unsticky"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var backends []*url.URL
			for range 2 {
				srv := NewServer(&Options{Cookie: tt.cookie})
				newTestApp(srv)
				u, _ := serve(t, srv)
				t.Cleanup(func() { srv.Close() })
				parsed, _ := url.Parse(u)
				backends = append(backends, parsed)
			}
			var next atomic.Int64
			var mu sync.Mutex
			owner := map[string]int{} // session id -> backend
			proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
				i := -1
				if c, err := r.In.Cookie("io"); err == nil {
					mu.Lock()
					if o, ok := owner[c.Value]; ok {
						i = o
					}
					mu.Unlock()
				}
				if i < 0 {
					i = int(next.Add(1)) % 2 // round robin without a known cookie
				}
				r.SetURL(backends[i])
				r.Out.Header.Set("X-Backend", backends[i].Host)
			}, ModifyResponse: func(resp *http.Response) error {
				for _, c := range resp.Cookies() {
					if c.Name == "io" {
						mu.Lock()
						for i, b := range backends {
							if b.Host == resp.Request.URL.Host {
								owner[c.Value] = i
							}
						}
						mu.Unlock()
					}
				}
				return nil
			}}
			front, _ := serve(t, proxy)
			cmd := nodeCmd(t, []string{"socket.io-client"}, nodeScript("sticky.js"), front, tt.want)
			testpeer.RunScript(t, cmd, time.Minute, nil)
		})
	}
}

// TestOfficialClientChromium runs the scenarios of features.js in headless
// Chromium with the official client's browser bundle, from a page whose
// origin (127.0.0.1) differs from the server's (localhost): CORS with
// credentials and the io cookie on polling, the WebSocket origin check
// following CORS's origins, over each transport set. A page from an origin
// CORS does not list must fail to connect over both transports.
func TestOfficialClientChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests run in the full test run")
	}
	exe := testpeer.Chromium(t)
	_, modules := testpeer.Node(t, "socket.io-client", "playwright-core")
	pages := func() http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			http.ServeFile(w, r, filepath.Join("testdata", "page", "features.html"))
		})
		mux.HandleFunc("/socket.io.min.js", func(w http.ResponseWriter, r *http.Request) {
			http.ServeFile(w, r, filepath.Join(modules, "socket.io-client", "dist", "socket.io.min.js"))
		})
		mux.HandleFunc("/features-scenarios.js", func(w http.ResponseWriter, r *http.Request) {
			http.ServeFile(w, r, filepath.Join("testdata", "node", "features-scenarios.js"))
		})
		return mux
	}
	pageURL, _ := serve(t, pages())
	deniedURL, _ := serve(t, pages())
	srv := NewServer(&Options{
		ConnectionStateRecovery: &RecoveryOptions{},
		PingInterval:            2 * time.Second, PingTimeout: 2 * time.Second,
		CORS:   &engine.CORSOptions{Origins: []string{pageURL}, Credentials: true},
		Cookie: &engine.CookieOptions{},
	})
	defer srv.Close()
	newFeatureApp(srv)
	serverURL, _ := serve(t, srv)
	serverURL = strings.Replace(serverURL, "127.0.0.1", "localhost", 1)
	cmd := testpeer.NodeCmd(t, []string{"playwright-core"}, nodeScript("chromium-features.js"), pageURL+"/", deniedURL+"/", serverURL, exe, t.TempDir())
	cmd.Args = append(cmd.Args, testpeer.ChromiumFlags...)
	testpeer.RunScript(t, cmd, 4*time.Minute, nil)
}
