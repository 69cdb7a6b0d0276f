package loadgen

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Receivers counts the messages arriving on many connections, one reading
// goroutine per connection.
type Receivers struct {
	total  atomic.Int64
	target atomic.Int64
	reach  chan struct{} // gets a value when total reaches target
	counts []atomic.Int64
	mu     sync.Mutex
	err    error
}

// Receive starts reading every connection; verify, if set, checks each
// message.
func Receive(conns []*Conn, verify func(*Message) error) *Receivers {
	r := &Receivers{reach: make(chan struct{}, 1), counts: make([]atomic.Int64, len(conns))}
	r.target.Store(-1)
	for i, c := range conns {
		go r.read(i, c, verify)
	}
	return r
}

func (r *Receivers) read(i int, c *Conn, verify func(*Message) error) {
	s := newScanner(c, 4096, verify != nil)
	var m Message
	for {
		if err := s.next(&m); err != nil {
			r.fail(fmt.Errorf("loadgen: connection %d: %w", i, err))
			return
		}
		if verify != nil {
			if err := verify(&m); err != nil {
				r.fail(err)
				return
			}
		}
		r.counts[i].Add(1)
		if r.total.Add(1) == r.target.Load() {
			select {
			case r.reach <- struct{}{}:
			default:
			}
		}
	}
}

func (r *Receivers) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	select {
	case r.reach <- struct{}{}:
	default:
	}
}

// Err returns the first error a reader had. Readers of closed connections
// report one too.
func (r *Receivers) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Total returns the number of messages received on all connections.
func (r *Receivers) Total() int64 { return r.total.Load() }

// Count returns the number of messages received on connection i.
func (r *Receivers) Count(i int) int64 { return r.counts[i].Load() }

// WaitTotal waits until total messages have arrived in all, a reader fails,
// or timeout passes.
func (r *Receivers) WaitTotal(total int64, timeout time.Duration) error {
	r.target.Store(total)
	t := time.NewTimer(timeout)
	defer t.Stop()
	for r.total.Load() < total {
		if err := r.Err(); err != nil {
			return err
		}
		select {
		case <-r.reach:
		case <-t.C:
			return fmt.Errorf("loadgen: %d of %d messages arrived in %v", r.total.Load(), total, timeout)
		}
	}
	return nil
}
