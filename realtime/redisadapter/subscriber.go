package redisadapter

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"strings"
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

// subKind is the kind of a subscription: a channel (SUBSCRIBE), a pattern
// (PSUBSCRIBE) or a sharded channel (SSUBSCRIBE, Redis 7).
type subKind uint8

const (
	subChannel subKind = iota
	subPattern
	subShard
)

// sub names a subscription.
type sub struct {
	kind subKind
	name string
}

// route is what a subscription's messages go to: the adapter that made it
// and its handler, called with the message's channel and a copy of its
// payload.
type route struct {
	owner  any
	handle func(channel string, payload []byte)
}

// subscriber owns the node's one subscriber connection: it subscribes the
// channels and patterns of every namespace there and handles the messages
// one at a time, in the order they arrive, on its goroutine. When the
// connection fails it makes a new one and subscribes everything again.
type subscriber struct {
	c      *Cluster
	health time.Duration // healthInterval

	mu sync.RWMutex
	// guarded by mu
	ps        *redis.PubSub // the current connection's, nil while there is none
	routes    map[sub]route // every subscription
	confirmed map[sub]bool  // subscriptions Redis confirmed on ps
	lost      bool          // a connection was lost and none confirmed since
	changed   chan struct{} // closed and replaced when any of the above changes
	closed    bool
}

func (s *subscriber) init(c *Cluster) {
	s.c = c
	s.health = healthInterval
	s.routes = map[sub]route{}
	s.confirmed = map[sub]bool{}
	s.changed = make(chan struct{})
}

// notifyLocked wakes those waiting for a change.
func (s *subscriber) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// subscribeLocked sends the subscribe commands of subs on ps, grouped by
// kind; sharded channels one per command, as Node nodes subscribe them
// (on a Redis Cluster, channels of different slots cannot share one).
func subscribeLocked(ctx context.Context, ps *redis.PubSub, subs []sub) error {
	var chans, pats []string
	for _, sb := range subs {
		switch sb.kind {
		case subChannel:
			chans = append(chans, sb.name)
		case subPattern:
			pats = append(pats, sb.name)
		case subShard:
			if err := ps.SSubscribe(ctx, sb.name); err != nil {
				return err
			}
		}
	}
	if len(chans) > 0 {
		if err := ps.Subscribe(ctx, chans...); err != nil {
			return err
		}
	}
	if len(pats) > 0 {
		return ps.PSubscribe(ctx, pats...)
	}
	return nil
}

func unsubscribeLocked(ctx context.Context, ps *redis.PubSub, subs []sub) {
	var chans, pats []string
	for _, sb := range subs {
		switch sb.kind {
		case subChannel:
			chans = append(chans, sb.name)
		case subPattern:
			pats = append(pats, sb.name)
		case subShard:
			ps.SUnsubscribe(ctx, sb.name)
		}
	}
	if len(chans) > 0 {
		ps.Unsubscribe(ctx, chans...)
	}
	if len(pats) > 0 {
		ps.PUnsubscribe(ctx, pats...)
	}
}

// subscription is a subscription to make and the handler of its
// messages.
type subscription struct {
	sub
	handle func(channel string, payload []byte)
}

// add makes subscriptions for owner.
func (s *subscriber) add(owner any, ss ...subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	subs := make([]sub, len(ss))
	for i, x := range ss {
		s.routes[x.sub] = route{owner, x.handle}
		subs[i] = x.sub
	}
	if s.ps != nil {
		// Errors are the connection's: the receiving loop sees them too,
		// and subscribes everything again on a new connection.
		subscribeLocked(s.c.ctx, s.ps, subs)
	}
	s.notifyLocked()
}

// remove unsubscribes those of subs that owner subscribed.
func (s *subscriber) remove(owner any, subs ...sub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []sub
	for _, sb := range subs {
		if r, ok := s.routes[sb]; ok && r.owner == owner {
			delete(s.routes, sb)
			delete(s.confirmed, sb)
			gone = append(gone, sb)
		}
	}
	if s.ps != nil && !s.closed && len(gone) > 0 {
		unsubscribeLocked(s.c.ctx, s.ps, gone)
	}
	s.notifyLocked()
}

func (s *subscriber) allConfirmedLocked() bool {
	if s.ps == nil {
		return false
	}
	for sb := range s.routes {
		if !s.confirmed[sb] {
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
		n, closed, ch := len(s.routes), s.closed, s.changed
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
	subs := slices.SortedFunc(maps.Keys(s.routes), func(a, b sub) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return strings.Compare(a.name, b.name)
	})
	if err := subscribeLocked(ctx, ps, subs); err != nil {
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
	var sb sub
	switch m.Kind {
	case "subscribe":
		sb = sub{subChannel, m.Channel}
	case "psubscribe":
		sb = sub{subPattern, m.Channel}
	case "ssubscribe":
		sb = sub{subShard, m.Channel}
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.routes[sb]; !ok {
		return // removed meanwhile
	}
	s.confirmed[sb] = true
	if s.lost && s.allConfirmedLocked() {
		s.lost = false
		s.c.reconnects.Add(1)
	}
	s.notifyLocked()
}

// handle routes a message to its namespace's adapter.
func (s *subscriber) handle(m *redis.Message) {
	s.mu.RLock()
	var r route
	var ok bool
	if m.Pattern != "" {
		r, ok = s.routes[sub{subPattern, m.Pattern}]
	} else if r, ok = s.routes[sub{subChannel, m.Channel}]; !ok {
		// go-redis gives a sharded message (smessage) the same form.
		r, ok = s.routes[sub{subShard, m.Channel}]
	}
	s.mu.RUnlock()
	if !ok {
		return // an adapter closed meanwhile
	}
	// A copy: packets handed to sessions keep slices of it.
	r.handle(m.Channel, []byte(m.Payload))
}
