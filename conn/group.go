//go:build !js

package conn

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/wirelevel/ws/frame"
)

// Group is a set of open connections a server can broadcast to and shut
// down together. A Conn leaves its Group by itself when its TCP connection
// closes. The zero value is an empty Group; it is safe for concurrent use.
type Group struct {
	mu    sync.Mutex
	conns map[*Conn]struct{}
}

// Add puts c in the group until its connection closes.
func (g *Group) Add(c *Conn) {
	g.mu.Lock()
	if g.conns == nil {
		g.conns = make(map[*Conn]struct{})
	}
	g.conns[c] = struct{}{}
	g.mu.Unlock()
	c.afterClose(func() { g.Remove(c) })
}

// Remove takes c out of the group.
func (g *Group) Remove(c *Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// Len returns the number of connections in the group.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// snapshot returns the members.
func (g *Group) snapshot() []*Conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	cs := make([]*Conn, 0, len(g.conns))
	for c := range g.conns {
		cs = append(cs, c)
	}
	return cs
}

// Broadcast queues pm on every connection in the group (see
// [Conn.QueuePrepared]) and starts writing it, spreading the work over up
// to GOMAXPROCS goroutines. It never waits for a connection's socket, so
// it returns promptly whatever a member does: the frame goes out as each
// member's peer reads it, and a member that stops reading meets its own
// outgoing buffer's bound ([Options.MaxBuffered] and [Options.WhenFull])
// instead of holding up the others. Broadcast returns how many connections
// the message was queued on, and the errors of those it was not (joined):
// closed or failed connections, and [ErrBufferFull]. It stops early, with
// ctx.Err() among the errors, if ctx is done.
func (g *Group) Broadcast(ctx context.Context, pm *PreparedMessage) (int, error) {
	cs := g.snapshot()
	workers := min(runtime.GOMAXPROCS(0), max(len(cs)/32, 1))
	var mu sync.Mutex
	var errs []error
	sent := 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			var werrs []error
			for i := w; i < len(cs); i += workers {
				if err := ctx.Err(); err != nil {
					werrs = append(werrs, err)
					break
				}
				c := cs[i]
				if err := c.QueuePrepared(pm); err != nil {
					werrs = append(werrs, err)
					continue
				}
				c.flushSoon()
				n++
			}
			mu.Lock()
			sent += n
			errs = append(errs, werrs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sent, errors.Join(errs...)
}

// Shutdown closes every connection in the group with 1001 (going away) and
// the given reason, running their closing handshakes at once, and waits for
// all of them to close. If ctx is done first, the rest are dropped with
// CloseNow and ctx.Err() is returned.
func (g *Group) Shutdown(ctx context.Context, reason string) error {
	cs := g.snapshot()
	for _, c := range cs {
		go c.Close(frame.CloseGoingAway, reason)
	}
	for _, c := range cs {
		select {
		case <-c.Done():
		case <-ctx.Done():
			for _, c := range cs {
				c.CloseNow()
			}
			return ctx.Err()
		}
	}
	return nil
}
