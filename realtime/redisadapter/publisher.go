package redisadapter

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Batches of the publisher: at most this many messages, or about this many
// bytes, go to Redis in one pipeline.
const (
	maxBatch      = 256
	maxBatchBytes = 1 << 20
	closeTimeout  = 2 * time.Second
)

// pubOp is the command a queued message goes out with.
type pubOp uint8

const (
	opPublish  pubOp = iota // PUBLISH channel payload
	opSPublish              // SPUBLISH channel payload (Redis 7)
	opXAdd                  // XADD channel MAXLEN ~ maxLen * fields...
)

type pubMsg struct {
	op      pubOp
	channel string   // the channel, or the stream of XADD
	payload []byte   // what PUBLISH and SPUBLISH send
	fields  []string // XADD's fields and values
	maxLen  int64    // XADD's MAXLEN ~, 0 for none
	// result, if set, receives XADD's entry id, or the error that kept the
	// message from Redis; it has room for one.
	result  chan pubResult
	flushed chan struct{} // set on a flush marker, which is not published
}

// pubResult is the outcome of a message published with a result channel.
type pubResult struct {
	id  string
	err error
}

// size is what the message counts against PublishQueueBytes.
func (m *pubMsg) size() int64 {
	n := len(m.payload)
	for _, f := range m.fields {
		n += len(f)
	}
	return int64(n)
}

// cmd queues the message's command on c.
func (m *pubMsg) cmd(ctx context.Context, c redis.Cmdable) redis.Cmder {
	switch m.op {
	case opSPublish:
		return c.SPublish(ctx, m.channel, m.payload)
	case opXAdd:
		return c.XAdd(ctx, &redis.XAddArgs{Stream: m.channel, MaxLen: m.maxLen, Approx: true, Values: m.fields})
	}
	return c.Publish(ctx, m.channel, m.payload)
}

// done reports the outcome to the waiter, if any.
func (m *pubMsg) done(cmd redis.Cmder, err error) {
	if m.result == nil {
		return
	}
	r := pubResult{err: err}
	if err == nil {
		if sc, ok := cmd.(*redis.StringCmd); ok {
			r.id = sc.Val()
		}
	}
	m.result <- r
}

// publisher writes every message of the node in the order they were
// queued, from one goroutine, one pipeline at a time: a message reaches
// Redis only after the ones queued before it, so every subscriber receives
// them in that order, whatever connection of the pool carried them (a
// socketsJoin then a broadcast to the room arrive in that order).
type publisher struct {
	c       *Cluster
	q       chan pubMsg
	bytes   atomic.Int64 // payload bytes queued
	healthy atomic.Bool  // the last pipeline succeeded, and the subscriber has not lost Redis since
	stop    chan struct{}
	done    chan struct{}
}

func (p *publisher) init(c *Cluster) {
	p.c = c
	p.q = make(chan pubMsg, c.opts.PublishQueue)
	p.stop = make(chan struct{})
	p.done = make(chan struct{})
	p.healthy.Store(true)
}

// publish queues a PUBLISH. With wait, a full queue is waited for while
// Redis answers, for at most RequestsTimeout; without, and while Redis
// does not answer, the message is dropped and reported. The subscriber
// goroutine never waits.
func (p *publisher) publish(channel string, payload []byte, wait bool) {
	p.enqueue(pubMsg{channel: channel, payload: payload}, wait)
}

// enqueue queues m as publish does; a message that is dropped reports the
// error to m.result too.
func (p *publisher) enqueue(m pubMsg, wait bool) {
	n := m.size()
	if p.bytes.Add(n) > int64(p.c.opts.PublishQueueBytes) {
		p.bytes.Add(-n)
		p.dropMsg(&m, ErrQueueFull)
		return
	}
	select {
	case p.q <- m:
		return
	case <-p.stop:
		p.bytes.Add(-n)
		p.dropMsg(&m, ErrClosed)
		return
	default:
	}
	if !wait || !p.healthy.Load() {
		p.bytes.Add(-n)
		p.dropMsg(&m, ErrQueueFull)
		return
	}
	t := time.NewTimer(p.c.opts.RequestsTimeout)
	defer t.Stop()
	select {
	case p.q <- m:
		return
	case <-t.C:
		p.dropMsg(&m, ErrQueueFull)
	case <-p.stop:
		p.dropMsg(&m, ErrClosed)
	}
	p.bytes.Add(-n)
}

// xadd queues an XADD and, with wait, waits for its entry id (for at most
// RequestsTimeout, or until ctx is done); without, it returns "" at once.
func (p *publisher) xadd(ctx context.Context, stream string, maxLen int64, fields []string, wait bool) (string, error) {
	m := pubMsg{op: opXAdd, channel: stream, fields: fields, maxLen: maxLen}
	if !wait {
		p.enqueue(m, true)
		return "", nil
	}
	m.result = make(chan pubResult, 1)
	p.enqueue(m, true)
	t := time.NewTimer(p.c.opts.RequestsTimeout)
	defer t.Stop()
	select {
	case r := <-m.result:
		return r.id, r.err
	case <-p.done:
		return "", ErrClosed
	case <-t.C:
		return "", ErrTimeout
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (p *publisher) dropMsg(m *pubMsg, err error) {
	p.drop(m.channel, err)
	m.done(nil, err)
}

// flush waits until the messages queued before it have been handed to
// Redis (or given up), or until ctx is done.
func (p *publisher) flush(ctx context.Context) error {
	m := pubMsg{flushed: make(chan struct{})}
	select {
	case p.q <- m:
	case <-p.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-m.flushed:
		return nil
	case <-p.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *publisher) drop(channel string, err error) {
	p.c.publishDropped.Add(1)
	p.c.report(&PublishError{Channel: channel, Messages: 1, Err: err})
}

func (p *publisher) run() {
	defer p.c.wg.Done()
	defer close(p.done)
	batch := make([]pubMsg, 0, maxBatch)
	ctx := p.c.ctx
	for {
		select {
		case m := <-p.q:
			batch = append(batch, m)
		case <-p.stop:
			// Publish what is queued, for a little while.
			dctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			for {
				batch = p.gather(batch[:0])
				if len(batch) == 0 || dctx.Err() != nil {
					break
				}
				p.exec(dctx, batch)
			}
			cancel()
			return
		}
		batch = p.gather(batch)
		p.exec(ctx, batch)
		clear(batch)
		batch = batch[:0]
	}
}

// gather appends the messages waiting, up to a batch.
func (p *publisher) gather(batch []pubMsg) []pubMsg {
	var size int64
	for _, m := range batch {
		size += m.size()
	}
	for len(batch) < maxBatch && size < maxBatchBytes {
		select {
		case m := <-p.q:
			batch = append(batch, m)
			size += m.size()
		default:
			return batch
		}
	}
	return batch
}

func (p *publisher) exec(ctx context.Context, all []pubMsg) {
	var size int64
	batch := all
	for i, m := range all {
		if m.flushed != nil {
			if len(batch) == len(all) { // the first marker: copy the messages
				batch = slices.Clone(all[:i])
			}
			defer close(m.flushed) // once the messages before it are out
			continue
		}
		if len(batch) != len(all) {
			batch = append(batch, m)
		}
		size += m.size()
	}
	defer p.bytes.Add(-size)
	if len(batch) == 0 {
		return
	}
	rdb := p.c.rdb
	if len(batch) == 1 {
		m := &batch[0]
		cmd := m.cmd(ctx, rdb)
		err := cmd.Err()
		m.done(cmd, err)
		if err != nil {
			p.failed(m.channel, 1, err)
			return
		}
		p.healthy.Store(true)
		p.c.published.Add(1)
		return
	}
	pipe := rdb.Pipeline()
	for i := range batch {
		batch[i].cmd(ctx, pipe)
	}
	cmds, err := pipe.Exec(ctx)
	failed, first := 0, ""
	for i := range batch {
		var cmd redis.Cmder
		cerr := err
		if i < len(cmds) {
			cmd, cerr = cmds[i], cmds[i].Err()
		}
		batch[i].done(cmd, cerr)
		if cerr != nil {
			if failed == 0 {
				first = batch[i].channel
			}
			failed++
		}
	}
	if err == nil {
		p.healthy.Store(true)
		p.c.published.Add(uint64(len(batch)))
		return
	}
	if failed == 0 { // the pipeline failed as a whole
		failed, first = len(batch), batch[0].channel
	}
	p.c.published.Add(uint64(len(batch) - failed))
	p.failed(first, failed, err)
}

func (p *publisher) failed(channel string, n int, err error) {
	p.healthy.Store(false)
	p.c.publishFailed.Add(uint64(n))
	p.c.report(&PublishError{Channel: channel, Messages: n, Err: err})
}

// close stops taking messages, publishes those queued (for at most 2 s) and
// waits for the goroutine to end.
func (p *publisher) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}
