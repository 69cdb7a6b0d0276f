package redisadapter

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
)

// streamReader reads one stream of the streams mode, as the Node adapter
// polls each of its streams: XREAD COUNT readCount BLOCK blockTime from
// the last entry read, on a connection of its own (a client made from
// the cluster's options, as the Node adapter duplicates its client), and
// hands each entry to its namespace's adapter, in order, on its
// goroutine. It starts after the stream's last entry, which it looks up
// first (the Node adapter reads from "$" until a first entry comes, and
// misses what is added between two of those reads); after a lost
// connection it goes on from the last entry read, so that nothing the
// stream still holds is missed.
type streamReader struct {
	c      *Cluster
	stream string
	rdb    *redis.Client

	startOnce sync.Once
	started   chan struct{} // closed once the start offset is known
}

func newStreamReader(c *Cluster, stream string) *streamReader {
	o := *c.rdb.Options() // go-redis gives XREAD's BLOCK time more read timeout
	o.PoolSize = 1
	o.MinIdleConns, o.MaxIdleConns = 0, 1
	return &streamReader{c: c, stream: stream, rdb: redis.NewClient(&o), started: make(chan struct{})}
}

func (r *streamReader) ready(ctx context.Context) error {
	select {
	case <-r.started:
		return nil
	case <-r.c.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close closes the reader's client, which ends a blocked XREAD.
func (r *streamReader) close() { r.rdb.Close() }

func (r *streamReader) run() {
	defer r.c.wg.Done()
	ctx := r.c.ctx
	offset := ""
	backoff := minBackoff
	lost := false
	for ctx.Err() == nil {
		var err error
		if offset == "" {
			offset, err = r.lastID(ctx)
			if err == nil {
				r.startOnce.Do(func() { close(r.started) })
			}
		}
		if err == nil {
			var res []redis.XStream
			res, err = r.rdb.XRead(ctx, &redis.XReadArgs{
				Streams: []string{r.stream, offset}, Count: r.c.sopts.ReadCount, Block: r.c.sopts.BlockTime,
			}).Result()
			if errors.Is(err, redis.Nil) {
				err = nil // BLOCK ran out
			}
			if err == nil {
				lost = false
				backoff = minBackoff
				for _, st := range res {
					for _, m := range st.Messages {
						r.handle(&m)
						offset = m.ID
					}
				}
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		if !lost {
			lost = true
			r.c.report(&ConnectionError{Err: err})
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// lastID returns the id of the stream's last entry, or "0-0" when it is
// empty or does not exist yet.
func (r *streamReader) lastID(ctx context.Context) (string, error) {
	msgs, err := r.rdb.XRevRangeN(ctx, r.stream, "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// handle routes an entry to its namespace's adapter; entries without a
// namespace, or of a namespace this node does not have, are skipped, as
// the Node adapter skips them.
func (r *streamReader) handle(m *redis.XMessage) {
	r.c.received.Add(1)
	e := streamEntry(m)
	if e.Namespace == "" {
		return
	}
	a, ok := r.c.adapters.Load(e.Namespace)
	if !ok {
		return
	}
	a.(*ClusterAdapter).onStreamEntry(r.stream, e, m.ID)
}

// streamEntry returns an entry's fields as the streams adapter reads them:
// strings, missing ones "".
func streamEntry(m *redis.XMessage) wire.StreamEntry {
	get := func(k string) string {
		s, _ := m.Values[k].(string)
		return s
	}
	return wire.StreamEntry{UID: get("uid"), Namespace: get("nsp"), Type: get("type"), Data: get("data")}
}
