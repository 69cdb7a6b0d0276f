package loadgen

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Echo describes a pipelined echo load.
type Echo struct {
	// Frame is one whole client frame, built once and sent over and over.
	Frame []byte
	// Window is the number of messages each connection keeps in flight.
	Window int
	// Verify, if set, checks every message that comes back; the scanner
	// then assembles payloads. Leave it nil when measuring.
	Verify func(*Message) error
}

// Window returns the number of messages to keep in flight per connection for
// frames of n bytes: up to 64, and no more than about 4 MiB.
func Window(n int) int { return min(64, max(1, (4<<20)/max(n, 1))) }

// Load is an echo load running on a set of connections.
type Load struct {
	e     Echo
	batch []byte // Window copies of Frame, so k frames go out in one write
	stop  chan struct{}
	once  sync.Once
	conns []*loadConn
	wg    sync.WaitGroup
}

type loadConn struct {
	c      *Conn
	quota  int64         // messages to send, or 0 to run until Stop
	recv   atomic.Int64  // messages echoed, published by the reader
	final  atomic.Int64  // messages written, once the writer is done
	wdone  chan struct{} // closed when the writer is done
	wake   chan struct{} // the reader's nudge to a writer out of window
	err    error         // first error, of the writer or the reader
	errMu  sync.Mutex
	reader chan struct{} // closed when the reader is done
}

// Start starts writing e.Frame on every connection, each keeping e.Window
// messages in flight, until Stop, or, if total > 0, until total messages
// have been echoed, shared out evenly over the connections (then Wait).
func Start(conns []*Conn, e Echo, total int64) *Load {
	l := &Load{e: e, batch: bytes.Repeat(e.Frame, e.Window), stop: make(chan struct{})}
	for i, c := range conns {
		var quota int64
		if total > 0 {
			quota = total / int64(len(conns))
			if int64(i) < total%int64(len(conns)) {
				quota++
			}
			if quota == 0 {
				continue
			}
		}
		lc := &loadConn{c: c, quota: quota, wdone: make(chan struct{}), wake: make(chan struct{}, 1), reader: make(chan struct{})}
		l.conns = append(l.conns, lc)
		l.wg.Add(2)
		go l.write(lc)
		go l.read(lc)
	}
	return l
}

// Received returns the number of messages echoed so far, on all connections.
func (l *Load) Received() int64 {
	var n int64
	for _, lc := range l.conns {
		n += lc.recv.Load()
	}
	return n
}

// Stop stops writing, waits up to 30 s for the messages in flight to come
// back, and returns the first error any connection had.
func (l *Load) Stop() error {
	l.once.Do(func() { close(l.stop) })
	deadline := time.Now().Add(30 * time.Second)
	for _, lc := range l.conns {
		<-lc.wdone
		// The reader may be blocked in a read with every echo in; a
		// deadline in the past wakes it, and it then sees it is done.
		for done := false; !done; {
			if lc.recv.Load() == lc.final.Load() || time.Now().After(deadline) {
				lc.c.nc.SetReadDeadline(time.Unix(1, 0))
			}
			select {
			case <-lc.reader:
				done = true
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	return l.Wait()
}

// Wait waits until every connection is done and returns the first error.
func (l *Load) Wait() error {
	l.wg.Wait()
	for _, lc := range l.conns {
		if lc.err != nil {
			return lc.err
		}
	}
	return nil
}

func (lc *loadConn) fail(err error) {
	lc.errMu.Lock()
	if lc.err == nil {
		lc.err = err
	}
	lc.errMu.Unlock()
	lc.c.nc.Close() // unblocks the other half
}

func (l *Load) write(lc *loadConn) {
	defer l.wg.Done()
	fl := int64(len(l.e.Frame))
	var sent int64
	defer func() {
		lc.final.Store(sent)
		close(lc.wdone)
	}()
	for {
		select {
		case <-l.stop:
			return
		case <-lc.reader:
			return
		default:
		}
		k := int64(l.e.Window) - (sent - lc.recv.Load())
		if lc.quota > 0 {
			k = min(k, lc.quota-sent)
			if sent == lc.quota {
				return
			}
		}
		if k <= 0 {
			select {
			case <-lc.wake:
			case <-l.stop:
			case <-lc.reader:
			}
			continue
		}
		if _, err := lc.c.nc.Write(l.batch[:k*fl]); err != nil {
			lc.fail(fmt.Errorf("loadgen: write: %w", err))
			return
		}
		sent += k
	}
}

func (l *Load) read(lc *loadConn) {
	defer l.wg.Done()
	defer close(lc.reader)
	var pending int64
	publish := func() {
		if pending > 0 {
			lc.recv.Add(pending)
			pending = 0
			select {
			case lc.wake <- struct{}{}:
			default:
			}
		}
	}
	s := newScanner(lc.c, 256<<10, l.e.Verify != nil)
	s.beforeRead = publish
	var m Message
	done := func() bool {
		if lc.quota > 0 {
			return lc.recv.Load()+pending == lc.quota
		}
		select {
		case <-lc.wdone:
			return lc.recv.Load()+pending == lc.final.Load()
		default:
			return false
		}
	}
	for {
		if done() {
			publish()
			return
		}
		if err := s.next(&m); err != nil {
			if done() {
				publish()
				return
			}
			lc.errMu.Lock()
			failed := lc.err != nil
			lc.errMu.Unlock()
			if !failed {
				lc.fail(fmt.Errorf("loadgen: read echo %d: %w", lc.recv.Load()+pending+1, err))
			}
			return
		}
		if l.e.Verify != nil {
			if err := l.e.Verify(&m); err != nil {
				lc.fail(err)
				return
			}
		}
		pending++
		if s.buffered() == 0 {
			publish()
		}
	}
}
