//go:build !js

package conn

import (
	"context"
	"sync"
)

// ctxWatch interrupts the I/O of one side of a Conn, its reads or its
// writes, when the context of the call in progress is done: it sets that
// side's deadline in the past, as net/http and crypto/tls do. Registering
// with a context (context.AfterFunc) allocates, so the registration is kept
// from one call to the next while the calls use contexts with the same Done
// channel, as a read loop on r.Context() does: in that steady state a call
// costs two uncontended mutex operations and allocates nothing. A call with
// another context replaces the registration; the Conn's end drops it, so
// that a long-lived context does not keep the Conn alive.
type ctxWatch struct {
	c     *Conn
	write bool // the write side's deadline, not the read side's

	mu     sync.Mutex
	done   <-chan struct{} // Done of the context registered with, or nil
	stop   func() bool     // its registration
	active bool            // a call under that context is in progress
	fired  bool            // that context is done (it stays done)
}

// begin starts a call under ctx. It returns whether the call is watched
// (ctx can be done at all) and, if ctx is done already, its error: the
// call must then not start its I/O.
func (w *ctxWatch) begin(ctx context.Context) (bool, error) {
	d := ctx.Done()
	if d == nil {
		return false, nil
	}
	select {
	case <-d:
		return false, ctx.Err()
	default:
	}
	w.mu.Lock()
	if w.done != d {
		if w.stop != nil {
			w.stop()
		}
		w.done, w.fired = d, false
		w.stop = context.AfterFunc(ctx, func() { w.fire(d) })
	}
	if w.fired {
		// Done between the check above and now.
		w.mu.Unlock()
		return false, ctx.Err()
	}
	w.active = true
	w.mu.Unlock()
	return true, nil
}

// end ends a watched call and reports whether its context was done by the
// time it ended; the side's deadline may then have been set in the past,
// and the caller restores it.
func (w *ctxWatch) end() (fired bool) {
	w.mu.Lock()
	w.active = false
	fired = w.fired
	w.mu.Unlock()
	return fired
}

// fire runs when the context with Done channel d is done.
func (w *ctxWatch) fire(d <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != d {
		return // replaced meanwhile
	}
	w.fired = true
	if !w.active {
		return // the next call sees the context done at its start
	}
	if w.write {
		w.c.nc.SetWriteDeadline(aLongTimeAgo)
	} else {
		w.c.nc.SetReadDeadline(aLongTimeAgo)
	}
}

// release drops the registration.
func (w *ctxWatch) release() {
	w.mu.Lock()
	if w.stop != nil {
		w.stop()
	}
	w.done, w.stop = nil, nil
	w.mu.Unlock()
}

// doneErr returns ctx's error if it is done, without taking its lock.
func doneErr(ctx context.Context) error {
	d := ctx.Done()
	if d == nil {
		return nil
	}
	select {
	case <-d:
		return ctx.Err()
	default:
		return nil
	}
}
