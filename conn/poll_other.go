//go:build !linux && !js

package conn

import (
	"errors"
	"sync"
)

// Poller serves many connections, one goroutine each on this system (see
// the Linux version for the goroutine-free one).
type Poller struct {
	mu     sync.Mutex
	closed bool
	conns  map[*Conn]struct{}
}

// NewPoller returns a Poller.
func NewPoller() (*Poller, error) { return &Poller{conns: make(map[*Conn]struct{})}, nil }

// Add serves c with h until the connection ends.
func (p *Poller) Add(c *Conn, h PollHandler) error {
	if h.OnMessage == nil {
		return errors.New("conn: PollHandler.OnMessage is nil")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPollerClosed
	}
	p.conns[c] = struct{}{}
	c.afterClose(func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	})
	watchClose(c, h)
	go serveBlocking(c, h)
	return nil
}

// Close stops the Poller and closes every connection it still serves.
func (p *Poller) Close() error {
	p.mu.Lock()
	p.closed = true
	cs := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.CloseNow()
	}
	return nil
}
