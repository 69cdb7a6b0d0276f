package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
)

// Defaults for the zero fields of [Options].
const (
	// DefaultRequestsTimeout is how long a request to the other nodes waits
	// for their answers, as the Node adapter's requestsTimeout.
	DefaultRequestsTimeout = 5 * time.Second
	// DefaultPublishQueue and DefaultPublishQueueBytes bound the messages
	// waiting to be published.
	DefaultPublishQueue      = 4096
	DefaultPublishQueueBytes = 64 << 20
)

// Options configure a [Cluster]. A nil *Options gives the defaults, which
// are the Node adapter's.
type Options struct {
	// Key is the channel prefix; "" means "socket.io". Every node and
	// emitter of a cluster must use the same.
	Key string
	// RequestsTimeout bounds the wait for the other nodes' answers to
	// FetchSockets, AllSockets, AllRooms and ServerSideEmitWithAck, and
	// for acknowledgements of a broadcast that has no timeout of its own.
	// 0 means 5 s.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel answers another node's requests on
	// that node's own response channel (key-response#nsp#uid#) rather than
	// on the shared one, as the Node adapter's option of the same name.
	// Requesters listen on both, so nodes need not agree on it.
	PublishOnSpecificResponseChannel bool
	// Limits bound what is accepted from Redis; nil gives wire's defaults.
	Limits *wire.Limits
	// PublishQueue and PublishQueueBytes bound the messages waiting for
	// the publisher: 0 means 4096 messages and 64 MiB. A publish that finds
	// the queue full waits for room while Redis answers, for at most
	// RequestsTimeout, and is dropped at once while it does not.
	PublishQueue      int
	PublishQueueBytes int
	// OnError, if set, is called with what the cluster cannot act on: a
	// message from Redis that is malformed or hostile, dropped
	// ([*MessageError]); a publish that failed or was dropped
	// ([*PublishError]); the subscriber connection lost ([*ConnectionError]);
	// a socket's data or an acknowledgement's argument that cannot be
	// written for other nodes. It runs on the cluster's goroutines and on
	// the callers' and must not block.
	OnError func(err error)
}

// Errors.
var (
	// ErrClosed is returned by requests made after the adapter or the
	// cluster closed, and ends the requests still waiting then.
	ErrClosed = errors.New("redisadapter: closed")
	// ErrTimeout is what a [*TimeoutError] matches with errors.Is.
	ErrTimeout = errors.New("redisadapter: timeout reached")
	// ErrQueueFull is the cause of a publish dropped because the publish
	// queue was full.
	ErrQueueFull = errors.New("redisadapter: publish queue full")
)

// TimeoutError is returned by a request whose answers did not all come
// within [Options.RequestsTimeout]: a node is paused or overloaded, or was
// counted by Redis but does not answer. The results that came are returned
// with it. It matches [ErrTimeout].
type TimeoutError struct {
	Request  wire.RequestType // what was asked, such as REMOTE_FETCH
	Received int              // answers that came
	Expected int              // answers expected: the other nodes Redis counted
}

// Error implements error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("redisadapter: timeout reached waiting for %s: only %d responses received out of %d", e.Request, e.Received, e.Expected)
}

// Is reports whether target is [ErrTimeout].
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// MessageError reports a message from Redis that was dropped because it
// could not be decoded or used. Err wraps [wire.ErrMalformed] or
// [wire.ErrLimit] for bad input.
type MessageError struct {
	Channel string
	Err     error
}

// Error implements error.
func (e *MessageError) Error() string {
	return fmt.Sprintf("redisadapter: message on %s dropped: %v", e.Channel, e.Err)
}

// Unwrap returns Err.
func (e *MessageError) Unwrap() error { return e.Err }

// PublishError reports messages that were not published: Err is
// [ErrQueueFull] or the error of the Redis client. Redis pub/sub delivers
// at most once, so they are lost.
type PublishError struct {
	Channel  string // the channel of the first message
	Messages int
	Err      error
}

// Error implements error.
func (e *PublishError) Error() string {
	return fmt.Sprintf("redisadapter: %d messages to %s not published: %v", e.Messages, e.Channel, e.Err)
}

// Unwrap returns Err.
func (e *PublishError) Unwrap() error { return e.Err }

// ConnectionError reports the subscriber connection lost. The cluster
// connects and subscribes again by itself; what is published meanwhile
// does not reach this node.
type ConnectionError struct{ Err error }

// Error implements error.
func (e *ConnectionError) Error() string {
	return fmt.Sprintf("redisadapter: subscriber connection lost, reconnecting: %v", e.Err)
}

// Unwrap returns Err.
func (e *ConnectionError) Unwrap() error { return e.Err }

// Stats are counters of a [Cluster] since it was made.
type Stats struct {
	Published      uint64 // messages published
	PublishFailed  uint64 // messages Redis did not take
	PublishDropped uint64 // messages dropped because the queue was full
	Received       uint64 // messages received
	Malformed      uint64 // messages dropped as malformed or hostile
	Reconnects     uint64 // times the subscriber connection was made again after a loss
	Subscribed     bool   // every subscription is confirmed on the current connection
}

// Cluster is one node's link to a Socket.IO cluster over Redis: one
// subscriber connection that carries the subscriptions of every namespace,
// and one publisher that writes every message in the order it was made.
// Make one per server with [New] and pass its NewAdapter method as the
// server's [realtime.Options].NewAdapter. Its methods are safe for
// concurrent use.
type Cluster struct {
	rdb  *redis.Client
	opts Options
	lim  *wire.Limits

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	pub publisher
	sub subscriber

	mu      sync.Mutex
	closing bool // guarded by mu; no goroutine starts once set

	published, publishFailed, publishDropped atomic.Uint64
	received, malformed, reconnects          atomic.Uint64
}

// New returns a cluster link that publishes and subscribes through rdb.
// The subscriber takes a connection of its own from rdb (PUBSUB NUMSUB
// counts this node once per namespace); publishes and PUBSUB NUMSUB use
// rdb's pool, one command at a time. Close the Cluster after the server;
// rdb stays open.
func New(rdb *redis.Client, opts *Options) *Cluster {
	c := &Cluster{rdb: rdb}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = DefaultRequestsTimeout
	}
	if o.PublishQueue <= 0 {
		o.PublishQueue = DefaultPublishQueue
	}
	if o.PublishQueueBytes <= 0 {
		o.PublishQueueBytes = DefaultPublishQueueBytes
	}
	c.lim = o.Limits
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.pub.init(c)
	c.sub.init(c)
	c.wg.Add(2)
	go c.pub.run()
	go c.sub.run()
	return c
}

// NewAdapter returns the adapter of a namespace; it is what
// [realtime.Options].NewAdapter takes.
func (c *Cluster) NewAdapter(ns *realtime.Namespace) realtime.Adapter {
	return newAdapter(c, ns)
}

// Ready waits until every namespace's subscriptions are confirmed by Redis
// on the subscriber connection, so that other nodes count this one and
// reach it, or until ctx is done.
func (c *Cluster) Ready(ctx context.Context) error { return c.sub.ready(ctx) }

// Stats returns the cluster's counters.
func (c *Cluster) Stats() Stats {
	return Stats{
		Published: c.published.Load(), PublishFailed: c.publishFailed.Load(), PublishDropped: c.publishDropped.Load(),
		Received: c.received.Load(), Malformed: c.malformed.Load(), Reconnects: c.reconnects.Load(),
		Subscribed: c.sub.subscribed(),
	}
}

// Close publishes what is queued (waiting at most 2 s), closes the
// subscriber connection and waits for the cluster's goroutines to end.
// Close the server first: its adapters then have nothing left to send.
func (c *Cluster) Close() error {
	c.mu.Lock()
	closing := c.closing
	c.closing = true
	c.mu.Unlock()
	if closing {
		return nil
	}
	c.pub.close()
	c.sub.close()
	c.cancel()
	c.wg.Wait()
	return nil
}

// goWorker runs f on a goroutine that Close waits for; false once the
// cluster is closing.
func (c *Cluster) goWorker(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

func (c *Cluster) report(err error) {
	if c.opts.OnError != nil {
		c.opts.OnError(err)
	}
}

func (c *Cluster) dropped(channel string, err error) {
	c.malformed.Add(1)
	c.report(&MessageError{Channel: channel, Err: err})
}

// serverCount returns the number of nodes subscribed to a request
// channel, as the Node adapter counts them.
func (c *Cluster) serverCount(ctx context.Context, channel string) (int, error) {
	m, err := c.rdb.PubSubNumSub(ctx, channel).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: PUBSUB NUMSUB: %w", err)
	}
	return int(m[channel]), nil
}

// newUID returns 6 random characters of [A-Za-z0-9_-], as uid2(6) gives
// the Node adapter's uids and request ids.
func newUID() string {
	var b [6]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])[:6]
}
