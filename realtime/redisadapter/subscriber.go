package redisadapter

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timing of the subscriber connection.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// healthInterval: after this long without a message the subscriber pings
// Redis, and after twice this long it reconnects (a Redis that hangs
// without closing the connection). A variable for the tests, read when a
// Cluster is made.
var healthInterval = 5 * time.Second

// subscriber owns the node's one subscriber connection: it subscribes the
// channels and patterns of every namespace there and handles the messages
// one at a time, in the order they arrive, on its goroutine. When the
// connection fails it makes a new one and subscribes everything again.
type subscriber struct {
	c      *Cluster
	health time.Duration // healthInterval

	mu sync.RWMutex
	// guarded by mu
	ps        *redis.PubSub       // the current connection's, nil while there is none
	channels  map[string]*Adapter // request and response channels
	patterns  map[string]*Adapter // broadcast patterns
	confirmed map[string]bool     // subscriptions Redis confirmed on ps
	lost      bool                // a connection was lost and none confirmed since
	changed   chan struct{}       // closed and replaced when any of the above changes
	closed    bool
}

func (s *subscriber) init(c *Cluster) {
	s.c = c
	s.health = healthInterval
	s.channels = map[string]*Adapter{}
	s.patterns = map[string]*Adapter{}
	s.confirmed = map[string]bool{}
	s.changed = make(chan struct{})
}

// notifyLocked wakes those waiting for a change.
func (s *subscriber) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// add subscribes an adapter's channels and pattern.
func (s *subscriber) add(a *Adapter) {
	chans := a.subscribedChannels()
	pattern := a.ch.BroadcastPattern()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, ch := range chans {
		s.channels[ch] = a
	}
	s.patterns[pattern] = a
	if s.ps != nil {
		// Errors are the connection's: the receiving loop sees them too,
		// and subscribes everything again on a new connection.
		s.ps.Subscribe(s.c.ctx, chans...)
		s.ps.PSubscribe(s.c.ctx, pattern)
	}
	s.notifyLocked()
}

// remove unsubscribes an adapter's channels and pattern.
func (s *subscriber) remove(a *Adapter) {
	chans := a.subscribedChannels()
	pattern := a.ch.BroadcastPattern()
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []string
	for _, ch := range chans {
		if s.channels[ch] == a {
			delete(s.channels, ch)
			delete(s.confirmed, ch)
			gone = append(gone, ch)
		}
	}
	patternGone := s.patterns[pattern] == a
	if patternGone {
		delete(s.patterns, pattern)
		delete(s.confirmed, pattern)
	}
	if s.ps != nil && !s.closed {
		if len(gone) > 0 {
			s.ps.Unsubscribe(s.c.ctx, gone...)
		}
		if patternGone {
			s.ps.PUnsubscribe(s.c.ctx, pattern)
		}
	}
	s.notifyLocked()
}

func (s *subscriber) allConfirmedLocked() bool {
	if s.ps == nil {
		return false
	}
	for ch := range s.channels {
		if !s.confirmed[ch] {
			return false
		}
	}
	for p := range s.patterns {
		if !s.confirmed[p] {
			return false
		}
	}
	return true
}

func (s *subscriber) subscribed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.allConfirmedLocked()
}

func (s *subscriber) ready(ctx context.Context) error {
	for {
		s.mu.RLock()
		ok, closed, ch := s.allConfirmedLocked(), s.closed, s.changed
		s.mu.RUnlock()
		switch {
		case closed:
			return ErrClosed
		case ok:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *subscriber) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.ps != nil {
		s.ps.Close()
	}
	s.notifyLocked()
}

func (s *subscriber) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// run keeps a subscriber connection up until the cluster closes.
func (s *subscriber) run() {
	defer s.c.wg.Done()
	ctx := s.c.ctx
	backoff := minBackoff
	for {
		if !s.waitForRoutes() {
			return
		}
		ps, err := s.connect()
		if err == nil {
			err = s.receive(ps)
			if s.dropConn(ps) {
				backoff = minBackoff
			}
		}
		if s.isClosed() {
			return
		}
		s.mu.Lock()
		first := !s.lost
		s.lost = true
		s.mu.Unlock()
		s.c.pub.healthy.Store(false) // publishes drop rather than wait
		if first {
			s.c.report(&ConnectionError{Err: err})
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// waitForRoutes waits until there is something to subscribe to; false
// when the cluster closed.
func (s *subscriber) waitForRoutes() bool {
	for {
		s.mu.RLock()
		n, closed, ch := len(s.channels)+len(s.patterns), s.closed, s.changed
		s.mu.RUnlock()
		switch {
		case closed:
			return false
		case n > 0:
			return true
		}
		select {
		case <-ch:
		case <-s.c.ctx.Done():
			return false
		}
	}
}

// connect opens a subscriber connection and subscribes every channel and
// pattern there.
func (s *subscriber) connect() (*redis.PubSub, error) {
	ctx := s.c.ctx
	ps := s.c.rdb.Subscribe(ctx) // no connection yet
	// Dial outside the lock: PING opens the connection.
	if err := ps.Ping(ctx); err != nil {
		ps.Close()
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ps.Close()
		return nil, ErrClosed
	}
	var err error
	if chans := slices.Sorted(maps.Keys(s.channels)); len(chans) > 0 {
		err = ps.Subscribe(ctx, chans...)
	}
	if pats := slices.Sorted(maps.Keys(s.patterns)); err == nil && len(pats) > 0 {
		err = ps.PSubscribe(ctx, pats...)
	}
	if err != nil {
		ps.Close()
		return nil, err
	}
	s.ps = ps
	clear(s.confirmed)
	s.notifyLocked()
	return ps, nil
}

// dropConn forgets a connection that failed; it reports whether Redis had
// confirmed a subscription on it.
func (s *subscriber) dropConn(ps *redis.PubSub) bool {
	ps.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	worked := len(s.confirmed) > 0
	if s.ps == ps {
		s.ps = nil
		clear(s.confirmed)
		s.notifyLocked()
	}
	return worked
}

// receive handles the connection's messages until it fails.
func (s *subscriber) receive(ps *redis.PubSub) error {
	ctx := s.c.ctx
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.health)
		if err != nil {
			var ne net.Error
			if !pinged && errors.As(err, &ne) && ne.Timeout() {
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				pinged = true
				continue
			}
			return err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Message:
			s.c.received.Add(1)
			s.handle(m)
		case *redis.Subscription:
			s.confirm(m)
		}
	}
}

func (s *subscriber) confirm(m *redis.Subscription) {
	if m.Kind != "subscribe" && m.Kind != "psubscribe" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channels[m.Channel] == nil && s.patterns[m.Channel] == nil {
		return // removed meanwhile
	}
	s.confirmed[m.Channel] = true
	if s.lost && s.allConfirmedLocked() {
		s.lost = false
		s.c.reconnects.Add(1)
	}
	s.notifyLocked()
}

// handle routes a message to its namespace's adapter.
func (s *subscriber) handle(m *redis.Message) {
	s.mu.RLock()
	var a *Adapter
	if m.Pattern != "" {
		a = s.patterns[m.Pattern]
	} else {
		a = s.channels[m.Channel]
	}
	s.mu.RUnlock()
	if a == nil {
		return // an adapter closed meanwhile
	}
	// A copy: packets handed to sessions keep slices of it.
	payload := []byte(m.Payload)
	if m.Pattern != "" {
		a.onBroadcast(m.Channel, payload)
	} else {
		a.onChannelMessage(m.Channel, payload)
	}
}
