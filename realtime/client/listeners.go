package client

import "sync/atomic"

// listener is one registration of On, Once, OnAny or PrependAny.
type listener struct {
	fn      func(*Event)
	once    bool
	removed atomic.Bool
}

// outListener is one registration of OnAnyOutgoing or PrependAnyOutgoing.
type outListener struct {
	fn      func(event string, args []any)
	removed atomic.Bool
}

// The listener lists are copied on write: a list is never changed in
// place, so the handler goroutine iterates over the one it read under mu.

// without returns a copy of s without x.
func without[T comparable](s []T, x T) []T {
	out := make([]T, 0, len(s))
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// prepend returns a copy of s with x first.
func prepend[T any](s []T, x T) []T {
	return append([]T{x}, s...)
}

// On adds a listener for an event and returns a function that removes it.
// Listeners of an event run in the order they were added, after the
// catch-all listeners (see [Client.OnAny]). The same func may be added
// several times; each registration has its own remove function, which may
// be called more than once. Once it has returned, that registration is not
// called again, though a call already running finishes.
//
// Go funcs cannot be compared, so where the official client's
// socket.off(event, fn) names the function, here the function On returns
// removes it; [Client.Off] removes all the listeners of an event.
func (c *Client) On(event string, fn func(e *Event)) (off func()) {
	return c.addListener(event, &listener{fn: fn})
}

// Once adds a listener called for the next event of that name only; the
// function it returns removes it before then.
func (c *Client) Once(event string, fn func(e *Event)) (off func()) {
	return c.addListener(event, &listener{fn: fn, once: true})
}

func (c *Client) addListener(event string, l *listener) func() {
	if l.fn == nil {
		panic("client: nil listener")
	}
	c.mu.Lock()
	list := c.listeners[event]
	c.listeners[event] = append(list[:len(list):len(list)], l)
	c.mu.Unlock()
	return func() {
		l.removed.Store(true)
		c.mu.Lock()
		defer c.mu.Unlock()
		if list := without(c.listeners[event], l); len(list) > 0 {
			c.listeners[event] = list
		} else {
			delete(c.listeners, event)
		}
	}
}

// Off removes every listener of an event, as the official client's
// socket.off(event) does.
func (c *Client) Off(event string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.listeners[event] {
		l.removed.Store(true)
	}
	delete(c.listeners, event)
}

// OnAny adds a catch-all listener, called for every event the server sends,
// before the event's own listeners, in the order the catch-all listeners
// were added. It returns a function that removes it.
func (c *Client) OnAny(fn func(e *Event)) (off func()) {
	return c.addAny(fn, false)
}

// PrependAny adds a catch-all listener that runs before the others.
func (c *Client) PrependAny(fn func(e *Event)) (off func()) {
	return c.addAny(fn, true)
}

func (c *Client) addAny(fn func(*Event), first bool) func() {
	if fn == nil {
		panic("client: nil listener")
	}
	l := &listener{fn: fn}
	c.mu.Lock()
	if first {
		c.anyIn = prepend(c.anyIn, l)
	} else {
		c.anyIn = append(c.anyIn[:len(c.anyIn):len(c.anyIn)], l)
	}
	c.mu.Unlock()
	return func() {
		l.removed.Store(true)
		c.mu.Lock()
		c.anyIn = without(c.anyIn, l)
		c.mu.Unlock()
	}
}

// OffAny removes every catch-all listener.
func (c *Client) OffAny() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.anyIn {
		l.removed.Store(true)
	}
	c.anyIn = nil
}

// OnAnyOutgoing adds a listener called with each event the client sends,
// as it is handed to the transport: at once when connected, or when the
// disconnected buffer is flushed. It runs on the goroutine that sends (the
// caller of Emit, or the connecting goroutine for a flush) and must not
// block for long. args are the values given to Emit, not copies.
// Acknowledgements are not reported. It returns a function that removes
// the listener.
func (c *Client) OnAnyOutgoing(fn func(event string, args []any)) (off func()) {
	return c.addAnyOut(fn, false)
}

// PrependAnyOutgoing adds an outgoing listener that runs before the others.
func (c *Client) PrependAnyOutgoing(fn func(event string, args []any)) (off func()) {
	return c.addAnyOut(fn, true)
}

func (c *Client) addAnyOut(fn func(string, []any), first bool) func() {
	if fn == nil {
		panic("client: nil listener")
	}
	l := &outListener{fn: fn}
	c.mu.Lock()
	if first {
		c.anyOut = prepend(c.anyOut, l)
	} else {
		c.anyOut = append(c.anyOut[:len(c.anyOut):len(c.anyOut)], l)
	}
	c.mu.Unlock()
	return func() {
		l.removed.Store(true)
		c.mu.Lock()
		c.anyOut = without(c.anyOut, l)
		c.mu.Unlock()
	}
}

// OffAnyOutgoing removes every outgoing listener.
func (c *Client) OffAnyOutgoing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.anyOut {
		l.removed.Store(true)
	}
	c.anyOut = nil
}

// notifyOut calls the outgoing listeners for sent packets.
func (c *Client) notifyOut(ps ...*outPacket) {
	c.mu.Lock()
	ls := c.anyOut
	c.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	for _, p := range ps {
		if p.notified {
			continue
		}
		for _, l := range ls {
			if !l.removed.Load() {
				l.fn(p.name, p.args)
			}
		}
	}
}

// dispatchEvent calls the listeners of one event: the catch-all ones, then
// the event's own.
func (c *Client) dispatchEvent(e *Event) {
	c.mu.Lock()
	anys, ls := c.anyIn, c.listeners[e.Name]
	c.mu.Unlock()
	for _, l := range anys {
		if !l.removed.Load() {
			l.fn(e)
		}
	}
	for _, l := range ls {
		if l.once {
			if l.removed.Swap(true) {
				continue
			}
			c.mu.Lock()
			if list := without(c.listeners[e.Name], l); len(list) > 0 {
				c.listeners[e.Name] = list
			} else {
				delete(c.listeners, e.Name)
			}
			c.mu.Unlock()
		} else if l.removed.Load() {
			continue
		}
		l.fn(e)
	}
}
