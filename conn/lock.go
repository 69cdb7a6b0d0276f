//go:build !js

package conn

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// readLock is the mutex of the read side. A goroutine that must wait for it
// in a select (Close, which takes over reading once the reader stops) can
// do so without polling: it counts itself in waiters, then waits on
// freeChan(); while it waits, every unlock signals that channel. The
// channel is made by the first to need it, so a Conn whose Close never
// waits for a reader has none.
type readLock struct {
	mu      sync.Mutex
	waiters atomic.Int32
	free    atomic.Pointer[chan struct{}] // capacity 1; nil until needed
}

func (l *readLock) lock()         { l.mu.Lock() }
func (l *readLock) tryLock() bool { return l.mu.TryLock() }

// freeChan returns the channel unlock signals while there are waiters.
func (l *readLock) freeChan() chan struct{} {
	if p := l.free.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{}, 1)
	if l.free.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *l.free.Load()
}

func (l *readLock) unlock() {
	l.mu.Unlock()
	if l.waiters.Load() > 0 {
		select {
		case l.freeChan() <- struct{}{}:
		default:
		}
	}
}

// locker is a mutex whose Unlock may do more than unlock (see unlockMsg
// and unlockWrite).
type locker interface {
	Lock()
	TryLock() bool
	Unlock()
}

// msgLocker and writeLocker are a Conn seen as its msgMu and writeMu. The
// conversion of a *Conn to either allocates nothing.
type (
	msgLocker   Conn
	writeLocker Conn
)

func (l *msgLocker) Lock()           { l.msgMu.Lock() }
func (l *msgLocker) TryLock() bool   { return l.msgMu.TryLock() }
func (l *msgLocker) Unlock()         { (*Conn)(l).unlockMsg() }
func (l *writeLocker) Lock()         { l.writeMu.Lock() }
func (l *writeLocker) TryLock() bool { return l.writeMu.TryLock() }
func (l *writeLocker) Unlock()       { (*Conn)(l).unlockWrite() }

// lock acquires l, giving up when ctx is done. Uncontended, it is one
// TryLock; a contended wait with a cancellable ctx costs a goroutine.
func lock(ctx context.Context, l locker) error {
	if l.TryLock() {
		return nil
	}
	if ctx.Done() == nil {
		l.Lock()
		return nil
	}
	return lockWait(l, ctx.Done(), ctx.Err)
}

// lockTimeout acquires l within d.
func lockTimeout(l locker, d time.Duration) error {
	if l.TryLock() {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	return lockWait(l, t.C, func() error { return errLockTimeout })
}

// lockWait acquires l unless cancel fires first. A helper goroutine waits
// for the lock and hands it over on an unbuffered channel; if the caller has
// given up by then, the helper releases it.
func lockWait[T any](l locker, cancel <-chan T, cause func() error) error {
	acquired := make(chan struct{})
	giveUp := make(chan struct{})
	go func() {
		l.Lock()
		select {
		case acquired <- struct{}{}:
		case <-giveUp:
			l.Unlock()
		}
	}()
	select {
	case <-acquired:
		return nil
	case <-cancel:
		close(giveUp)
		return cause()
	}
}

var errLockTimeout = errors.New("conn: timed out waiting for another writer")

// lockMsg acquires msgMu for a data message, giving up when ctx is done.
func (c *Conn) lockMsg(ctx context.Context) error { return lock(ctx, (*msgLocker)(c)) }

// lockWrite acquires writeMu, giving up when ctx is done.
func (c *Conn) lockWrite(ctx context.Context) error { return lock(ctx, (*writeLocker)(c)) }

// lockWriteTimeout acquires writeMu within d.
func (c *Conn) lockWriteTimeout(d time.Duration) error {
	return lockTimeout((*writeLocker)(c), d)
}
