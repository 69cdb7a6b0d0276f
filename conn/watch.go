//go:build !js

package conn

import (
	"context"
	"sync"
)

// ctxWatch interrupts the I/O of a Conn, its reads and its writes, when
// the context of the call in progress on that side is done: it sets that
// side's deadline in the past, as net/http and crypto/tls do. Registering
// with a context (context.AfterFunc) allocates, so a registration is kept
// from one call to the next while the calls use contexts with the same
// Done channel, as a loop on r.Context() does, and the two sides share it
// when their calls use the same context: in that steady state a call costs
// two uncontended mutex operations and allocates nothing, and a connection
// registers once. A call with another context replaces a registration that
// the other side does not use (there are two, one per side at most); the
// Conn's end drops them, so that a long-lived context does not keep the
// Conn alive.
type ctxWatch struct {
	c *Conn

	mu    sync.Mutex
	regs  [2]ctxReg
	sides [2]watchSide // sideRead, sideWrite
}

// The sides of a Conn a ctxWatch watches.
const (
	sideRead = iota
	sideWrite
)

// ctxReg is a registration with a context.
type ctxReg struct {
	done  <-chan struct{} // Done of the context registered with, or nil
	stop  func() bool     // its registration
	fired bool            // that context is done (it stays done)
}

// watchSide is what a ctxWatch knows of one side's calls.
type watchSide struct {
	reg    int  // the index in regs of the registration of its last call's context
	active bool // a call under that context is in progress
}

// begin starts a call on side under ctx. It returns whether the call is
// watched (ctx can be done at all) and, if ctx is done already, its error:
// the call must then not start its I/O.
func (w *ctxWatch) begin(side int, ctx context.Context) (bool, error) {
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
	i := w.find(side, d)
	if w.regs[i].done != d {
		r := &w.regs[i]
		if r.stop != nil {
			r.stop()
		}
		r.done, r.fired = d, false
		r.stop = context.AfterFunc(ctx, func() { w.fire(i, d) })
	}
	if w.regs[i].fired {
		// Done between the check above and now.
		w.mu.Unlock()
		return false, ctx.Err()
	}
	w.sides[side] = watchSide{reg: i, active: true}
	w.mu.Unlock()
	return true, nil
}

// find returns the index of the registration for Done channel d if there
// is one, or else of one that side may replace: an unused one, or the one
// the other side's last call did not use.
func (w *ctxWatch) find(side int, d <-chan struct{}) int {
	for i := range w.regs {
		if w.regs[i].done == d {
			return i
		}
	}
	for i := range w.regs {
		if w.regs[i].done == nil {
			return i
		}
	}
	return 1 - w.sides[1-side].reg
}

// end ends a watched call on side and reports whether its context was done
// by the time it ended; the side's deadline may then have been set in the
// past, and the caller restores it.
func (w *ctxWatch) end(side int) (fired bool) {
	w.mu.Lock()
	s := &w.sides[side]
	s.active = false
	fired = w.regs[s.reg].fired
	w.mu.Unlock()
	return fired
}

// fire runs when the context with Done channel d, registered in regs[i],
// is done.
func (w *ctxWatch) fire(i int, d <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.regs[i].done != d {
		return // replaced meanwhile
	}
	w.regs[i].fired = true
	// A side with no call in progress sees the context done at the start
	// of its next call.
	if s := w.sides[sideRead]; s.active && s.reg == i {
		w.c.nc.SetReadDeadline(aLongTimeAgo)
	}
	if s := w.sides[sideWrite]; s.active && s.reg == i {
		w.c.nc.SetWriteDeadline(aLongTimeAgo)
	}
}

// release drops the registrations.
func (w *ctxWatch) release() {
	w.mu.Lock()
	for i := range w.regs {
		if w.regs[i].stop != nil {
			w.regs[i].stop()
		}
		w.regs[i] = ctxReg{}
	}
	w.mu.Unlock()
}

// registered reports whether any registration is kept.
func (w *ctxWatch) registered() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.regs[0].stop != nil || w.regs[1].stop != nil
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
