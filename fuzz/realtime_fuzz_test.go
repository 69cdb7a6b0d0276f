package fuzz

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/engineio"
)

var (
	rtOnce sync.Once
	rtSrv  *realtime.Server
)

// realtimeServer is one Socket.IO server for every input, with an
// application that echoes, acknowledges, joins rooms and broadcasts, and
// recovery on, so that inputs reach every path of the server.
func realtimeServer() *realtime.Server {
	rtOnce.Do(func() {
		rtSrv = realtime.NewServer(&realtime.Options{
			MaxPayload: 64 << 10, MaxBufferedBytes: 256 << 10,
			// Closed polling sessions wait PingTimeout for a last GET that
			// never comes here: keep it short, and the count unbounded.
			PingInterval: time.Minute, PingTimeout: 100 * time.Millisecond, MaxSessions: -1,
			ConnectTimeout:              time.Minute,
			ConnectionStateRecovery:     &realtime.RecoveryOptions{MaxPackets: 100},
			CleanupEmptyChildNamespaces: true,
		})
		rtSrv.OnConnection(func(s *realtime.Socket) {
			s.OnAny(func(e *realtime.Event) {
				vals, err := e.Args.Values()
				if err != nil {
					return
				}
				if e.WantsAck() {
					e.Ack(vals...)
				}
				s.Join(e.Name)
				s.To(e.Name).Emit("echo", vals...)
			})
		})
		rtSrv.OfFunc(func(name string, auth json.RawMessage) bool { return strings.HasPrefix(name, "/d") })
	})
	return rtSrv
}

// FuzzRealtimePolling posts arbitrary polling payloads to a session of the
// Socket.IO server: no panic, an answer of the protocol's (ok, 400, 413),
// and the session's state bounded.
func FuzzRealtimePolling(f *testing.F) {
	for _, s := range []string{
		"40", `40{"token":1}`, `40/d1,{}`, `42["a",1,{"b":[2]}]`, `421["a"]`, `43[]`, "41",
		"451-[\"a\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
		"462-7[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]\x1ebAQ==\x1ebAg==",
		`40{"pid":"x","offset":"y"}`, "40\x1e42[\"a\"]\x1e41\x1e40", "1", "2", "3", "5", "6", "9",
		"4\xff", "b!!", `44{"message":"x"}`, `42{}`, `42abc["a"]`, "4", "", "\x1e",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		srv := realtimeServer()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
		open := rec.Body.String()
		h, err := engineio.ParseHandshake([]byte(strings.TrimPrefix(open, "0")))
		if err != nil {
			t.Fatalf("handshake %q: %v", open, err)
		}
		rec = httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+h.SID, strings.NewReader(string(body))))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("POST %q = %d %q", body, rec.Code, rec.Body)
		}
		if s := srv.Engine().Session(h.SID); s != nil {
			if n := s.BufferedAmount(); n > 256<<10 {
				t.Fatalf("%d bytes queued, over MaxBufferedBytes", n)
			}
			s.Close()
		}
	})
}
