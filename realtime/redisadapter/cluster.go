package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

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
	// Sharded, if not nil, makes the cluster speak the sharded mode of
	// @socket.io/redis-adapter 8 (createShardedAdapter: Redis 7 SPUBLISH
	// and SSUBSCRIBE, the ClusterAdapter message format) instead of the
	// classic one; Key is then its channelPrefix. See [ShardedOptions].
	Sharded *ShardedOptions
	// Streams, if not nil, makes the cluster speak
	// @socket.io/redis-streams-adapter 0.3 instead (a Redis stream for
	// broadcasts and room changes, pub/sub for requests and responses,
	// sessions kept in Redis for connection state recovery across nodes);
	// Key is then its channelPrefix. See [StreamsOptions]. At most one of
	// Sharded and Streams may be set.
	Streams *StreamsOptions

	// OnError, if set, is called with what the cluster cannot act on: a
	// message from Redis that is malformed or hostile, dropped
	// ([*MessageError]); a publish that failed or was dropped
	// ([*PublishError]); the subscriber connection lost ([*ConnectionError]);
	// a socket's data or an acknowledgement's argument that cannot be
	// written for other nodes. It runs on the cluster's goroutines and on
	// the callers' and must not block.
	OnError func(err error)
}

// SubscriptionMode is the sharded mode's subscriptionMode option: which
// rooms have a channel of their own, which a node subscribes to while it
// has sockets in the room. Every node of a cluster must use the same.
type SubscriptionMode string

// The subscription modes of the sharded adapter.
const (
	// Dynamic, the default: a channel per public room (a room that is not
	// the id of one of the node's sockets); broadcasts to one such room
	// go there, to the nodes that have sockets in it.
	Dynamic SubscriptionMode = "dynamic"
	// DynamicPrivate: a channel per room, socket ids included.
	DynamicPrivate SubscriptionMode = "dynamic-private"
	// Static: no room channels; every node receives every broadcast.
	Static SubscriptionMode = "static"
)

// ShardedOptions are the sharded mode's own options, with the Node
// adapter's defaults (its channelPrefix is [Options].Key).
type ShardedOptions struct {
	// SubscriptionMode is "" for [Dynamic].
	SubscriptionMode SubscriptionMode
}

// Defaults for the zero fields of [StreamsOptions], the Node adapter's.
const (
	DefaultStreamName       = "socket.io"
	DefaultStreamMaxLen     = 10_000
	DefaultStreamReadCount  = 100
	DefaultStreamBlockTime  = 5 * time.Second
	DefaultSessionKeyPrefix = "sio:session:"
)

// StreamsOptions are @socket.io/redis-streams-adapter's own options, with
// its defaults (its channelPrefix is [Options].Key). Every node of a
// cluster must use the same StreamName, StreamCount, UseShardedPubSub
// and SessionKeyPrefix.
type StreamsOptions struct {
	// StreamName is the stream, or with StreamCount > 1 the prefix of the
	// streams (name-0, name-1, ...: a namespace uses the one its name
	// hashes to, as the Node adapter picks it). "" means "socket.io".
	StreamName string
	// StreamCount is the number of streams; 0 means 1.
	StreamCount int
	// UseShardedPubSub sends requests and responses with SPUBLISH and
	// SSUBSCRIBE (Redis 7) rather than PUBLISH and SUBSCRIBE.
	UseShardedPubSub bool
	// MaxLen bounds the stream: XADD trims it with MAXLEN ~. 0 means
	// 10,000 entries.
	MaxLen int64
	// ReadCount is the most entries one XREAD returns (COUNT); 0 means
	// 100.
	ReadCount int64
	// BlockTime is how long one XREAD waits for entries (BLOCK); 0 means
	// 5 s.
	BlockTime time.Duration
	// SessionKeyPrefix is the prefix of the keys of the sessions kept for
	// connection state recovery; "" means "sio:session:".
	SessionKeyPrefix string
	// OnlyPlaintext writes every stream entry's data in JSON, skipping
	// the check for binaries (which otherwise go in base64 msgpack), as
	// the Node adapter's onlyPlaintext.
	OnlyPlaintext bool
}

// mode is what a Cluster speaks.
type mode uint8

const (
	classic mode = iota
	sharded
	streams
)

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
	Request wire.RequestType // what was asked, such as REMOTE_FETCH
	// Message is what was asked in the sharded and streams modes, such as
	// FETCH_SOCKETS (0 in the classic mode).
	Message  wire.MessageType
	Received int // answers that came
	Expected int // answers expected: the other nodes Redis counted
}

// Error implements error.
func (e *TimeoutError) Error() string {
	what := e.Request.String()
	if e.Message != 0 {
		what = e.Message.String()
	}
	return fmt.Sprintf("redisadapter: timeout reached waiting for %s: only %d responses received out of %d", what, e.Received, e.Expected)
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
	mode mode

	// streams mode
	sopts    StreamsOptions
	readers  []*streamReader
	adapters sync.Map // namespace name -> *ClusterAdapter, for the stream readers

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
	switch {
	case o.Sharded != nil && o.Streams != nil:
		panic("redisadapter: both Options.Sharded and Options.Streams are set")
	case o.Sharded != nil:
		c.mode = sharded
		sh := *o.Sharded
		if sh.SubscriptionMode == "" {
			sh.SubscriptionMode = Dynamic
		}
		switch sh.SubscriptionMode {
		case Dynamic, DynamicPrivate, Static:
		default:
			panic("redisadapter: unknown subscription mode " + string(sh.SubscriptionMode))
		}
		o.Sharded = &sh
	case o.Streams != nil:
		c.mode = streams
		c.sopts = *o.Streams
		so := &c.sopts
		if so.StreamName == "" {
			so.StreamName = DefaultStreamName
		}
		if so.StreamCount <= 0 {
			so.StreamCount = 1
		}
		if so.MaxLen <= 0 {
			so.MaxLen = DefaultStreamMaxLen
		}
		if so.ReadCount <= 0 {
			so.ReadCount = DefaultStreamReadCount
		}
		if so.BlockTime <= 0 {
			so.BlockTime = DefaultStreamBlockTime
		}
		if so.SessionKeyPrefix == "" {
			so.SessionKeyPrefix = DefaultSessionKeyPrefix
		}
		o.Streams = so
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.pub.init(c)
	c.sub.init(c)
	c.wg.Add(2)
	go c.pub.run()
	go c.sub.run()
	if c.mode == streams {
		for i := range c.sopts.StreamCount {
			r := newStreamReader(c, c.streamName(i))
			c.readers = append(c.readers, r)
			c.wg.Add(1)
			go r.run()
		}
	}
	return c
}

// NewAdapter returns the adapter of a namespace; it is what
// [realtime.Options].NewAdapter takes.
// It is an [*Adapter] in the classic mode and a [*ClusterAdapter] in the
// sharded and streams modes.
func (c *Cluster) NewAdapter(ns *realtime.Namespace) realtime.Adapter {
	if c.mode != classic {
		return newClusterAdapter(c, ns)
	}
	return newAdapter(c, ns)
}

// Ready waits until every namespace's subscriptions are confirmed by Redis
// on the subscriber connection, so that other nodes count this one and
// reach it, and with Streams until every stream is read from a known
// entry on, or until ctx is done.
func (c *Cluster) Ready(ctx context.Context) error {
	if err := c.sub.ready(ctx); err != nil {
		return err
	}
	for _, r := range c.readers {
		if err := r.ready(ctx); err != nil {
			return err
		}
	}
	return nil
}

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
	for _, r := range c.readers {
		r.close()
	}
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

// shardCount returns the number of nodes subscribed to a sharded
// channel: PUBSUB SHARDNUMSUB, as the sharded adapter counts them.
func (c *Cluster) shardCount(ctx context.Context, channel string) (int, error) {
	m, err := c.rdb.PubSubShardNumSub(ctx, channel).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: PUBSUB SHARDNUMSUB: %w", err)
	}
	return int(m[channel]), nil
}

// streamName returns the name of the stream i, as the streams adapter
// names them: the name itself when there is one stream, name-i otherwise.
func (c *Cluster) streamName(i int) string {
	if c.sopts.StreamCount == 1 {
		return c.sopts.StreamName
	}
	return c.sopts.StreamName + "-" + strconv.Itoa(i)
}

// streamOf returns the stream of a namespace: the streams adapter's
// hashCode of its name (Java's, over UTF-16 code units, in 32 bits)
// modulo the stream count, negative included.
func (c *Cluster) streamOf(nsp string) string {
	if c.sopts.StreamCount == 1 {
		return c.sopts.StreamName
	}
	var h int32
	for _, u := range utf16.Encode([]rune(nsp)) {
		h = h*31 + int32(u)
	}
	return c.sopts.StreamName + "-" + strconv.Itoa(int(h)%c.sopts.StreamCount)
}

// newUID returns 6 random characters of [A-Za-z0-9_-], as uid2(6) gives
// the Node adapter's uids and request ids.
func newUID() string {
	var b [6]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])[:6]
}

// newHexID returns 16 hexadecimal digits, as randomBytes(8) gives
// socket.io-adapter's ClusterAdapter its uids and request ids.
func newHexID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
