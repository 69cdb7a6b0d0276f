package realtime_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
)

// threeServers is the in-memory adapter of a server that believes it is one
// of three: its broadcasts reach no other server, so only a Local
// broadcast can complete.
type threeServers struct{ *realtime.MemoryAdapter }

func (threeServers) ServerCount(context.Context) (int, error) { return 3, nil }

// TestLocalEmitWithAckCountsThisServer checks that a Local broadcast with
// acknowledgements waits for this server's clients only, not for the
// client counts of the other servers of the cluster, which a Local
// broadcast never reaches.
func TestLocalEmitWithAckCountsThisServer(t *testing.T) {
	srv := realtime.NewServer(&realtime.Options{NewAdapter: func(ns *realtime.Namespace) realtime.Adapter {
		return threeServers{realtime.NewMemoryAdapter(ns)}
	}})
	defer srv.Close()
	joined := make(chan struct{}, 2)
	srv.OnConnection(func(s *realtime.Socket) { joined <- struct{}{} })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	for range 2 {
		c, err := client.Dial(ctx, hs.URL, &client.Options{Transports: []client.Transport{client.WebSocket}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.On("q", func(e *client.Event) { e.Ack("a") })
		<-joined
	}
	start := time.Now()
	acks, err := srv.Local().Timeout(5*time.Second).EmitWithAck(ctx, "q")
	if err != nil || len(acks) != 2 {
		t.Fatalf("Local().EmitWithAck = %d acks, %v; want 2", len(acks), err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Local().EmitWithAck took %v: it waited for the other servers", d)
	}
}
