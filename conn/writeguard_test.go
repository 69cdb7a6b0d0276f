//go:build !js

package conn

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/pipe"
)

// slowDeadlineConn takes its time returning from the SetWriteDeadline call
// with which a cancelled context interrupts a write, after the deadline is
// set: it records when that call has returned.
type slowDeadlineConn struct {
	net.Conn
	returned atomic.Bool
}

func (s *slowDeadlineConn) SetWriteDeadline(t time.Time) error {
	err := s.Conn.SetWriteDeadline(t)
	if t.Equal(aLongTimeAgo) {
		time.Sleep(100 * time.Millisecond)
		s.returned.Store(true)
	}
	return err
}

// TestWriteWaitsForItsContextsDeadline: a write ended by its context
// returns only after the call that interrupted it has returned. Over
// HTTP/2 that call goes through the handler's ResponseController, which
// must not be used after the handler returns, and a handler returns as
// soon as its write does (a data race under -race in autobahn's
// TestHTTP2Section before).
func TestWriteWaitsForItsContextsDeadline(t *testing.T) {
	a, b := pipe.New()
	defer b.Close()
	nc := &slowDeadlineConn{Conn: a}
	c := Server(nc, nil, nil)
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(20*time.Millisecond, cancel)
	// Nobody reads b: the write blocks until the context ends it.
	err := c.WriteMessage(ctx, Binary, make([]byte, 8<<20))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteMessage = %v, want context.Canceled", err)
	}
	if !nc.returned.Load() {
		t.Error("WriteMessage returned while the SetWriteDeadline call that interrupted it was still running")
	}
}
