package redisadapter

import (
	"context"
	"slices"
	"sync/atomic"
	"time"
)

// Batches of the publisher: at most this many messages, or about this many
// bytes, go to Redis in one pipeline.
const (
	maxBatch      = 256
	maxBatchBytes = 1 << 20
	closeTimeout  = 2 * time.Second
)

type pubMsg struct {
	channel string
	payload []byte
	flushed chan struct{} // set on a flush marker, which is not published
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

// publish queues a message. With wait, a full queue is waited for while
// Redis answers, for at most RequestsTimeout; without, and while Redis
// does not answer, the message is dropped and reported. The subscriber
// goroutine never waits.
func (p *publisher) publish(channel string, payload []byte, wait bool) {
	n := int64(len(payload))
	if p.bytes.Add(n) > int64(p.c.opts.PublishQueueBytes) {
		p.bytes.Add(-n)
		p.drop(channel, ErrQueueFull)
		return
	}
	m := pubMsg{channel: channel, payload: payload}
	select {
	case p.q <- m:
		return
	case <-p.stop:
		p.bytes.Add(-n)
		p.drop(channel, ErrClosed)
		return
	default:
	}
	if !wait || !p.healthy.Load() {
		p.bytes.Add(-n)
		p.drop(channel, ErrQueueFull)
		return
	}
	t := time.NewTimer(p.c.opts.RequestsTimeout)
	defer t.Stop()
	select {
	case p.q <- m:
		return
	case <-t.C:
		p.drop(channel, ErrQueueFull)
	case <-p.stop:
		p.drop(channel, ErrClosed)
	}
	p.bytes.Add(-n)
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
	size := 0
	for _, m := range batch {
		size += len(m.payload)
	}
	for len(batch) < maxBatch && size < maxBatchBytes {
		select {
		case m := <-p.q:
			batch = append(batch, m)
			size += len(m.payload)
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
		size += int64(len(m.payload))
	}
	defer p.bytes.Add(-size)
	if len(batch) == 0 {
		return
	}
	rdb := p.c.rdb
	if len(batch) == 1 {
		if err := rdb.Publish(ctx, batch[0].channel, batch[0].payload).Err(); err != nil {
			p.failed(batch[0].channel, 1, err)
			return
		}
		p.healthy.Store(true)
		p.c.published.Add(1)
		return
	}
	pipe := rdb.Pipeline()
	for _, m := range batch {
		pipe.Publish(ctx, m.channel, m.payload)
	}
	cmds, err := pipe.Exec(ctx)
	if err == nil {
		p.healthy.Store(true)
		p.c.published.Add(uint64(len(batch)))
		return
	}
	failed, first := 0, ""
	for i, cmd := range cmds {
		if cmd.Err() != nil {
			if failed == 0 {
				first = batch[i].channel
			}
			failed++
		}
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
