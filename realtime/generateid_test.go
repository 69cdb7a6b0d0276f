package realtime_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
)

// TestGenerateID checks that Options.GenerateID makes the Engine.IO
// session ids of both transports, and only those.
func TestGenerateID(t *testing.T) {
	var n atomic.Int32
	srv := realtime.NewServer(&realtime.Options{GenerateID: func(r *http.Request) (string, error) {
		return "node7-" + string(rune('a'+n.Add(1))), nil
	}})
	defer srv.Close()
	joined := make(chan *realtime.Socket, 2)
	srv.OnConnection(func(s *realtime.Socket) { joined <- s })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, tr := range []client.Transport{client.Polling, client.WebSocket} {
		c, err := client.Dial(context.Background(), hs.URL, &client.Options{Transports: []client.Transport{tr}, NoReconnect: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s := <-joined
		if !strings.HasPrefix(s.SessionID(), "node7-") || strings.HasPrefix(s.ID(), "node7-") {
			t.Errorf("%v: session id %q, socket id %q; want the session id from GenerateID only", tr, s.SessionID(), s.ID())
		}
	}
}
