//go:build !js

package conn

import (
	"time"

	"github.com/wirelevel/ws/frame"
)

// Corking. A read that takes whatever the socket holds often returns
// several messages; a read loop that answers each with WriteMessage would
// make one write call per answer. Instead, while the reader holds unread
// input between messages, WriteMessage adds its frame to the outgoing
// buffer, as QueueMessage does, and the reader sends what waits there
// before it next reads from the network: the answers to one read leave in
// one write, at a point fixed by the reader, not by a timer. The last
// answer, written once nothing unread is left, goes out directly, with the
// ones before it, in one vectored write. A single message in flight is
// never corked, so round trips cost what they did.
//
// The cork is also bounded in time: corkDelay after the first corked frame,
// a timer sends what waits, so that a handler that takes long over the next
// buffered message, or a program that stops reading, does not hold an
// answer back longer than that.

// corkDelay bounds how long a corked frame waits for the reader.
const corkDelay = time.Millisecond

// corkLocked adds a final frame with opcode op, RSV bits rsv and payload p
// to the outgoing buffer if the connection is corked (the reader holds
// unread input), the frame fits the write buffer and the outgoing buffer is
// not full, and reports whether it did. Called with msgMu held.
func (c *Conn) corkLocked(op frame.Opcode, rsv byte, p []byte) bool {
	n := len(p) + frame.MaxHeaderSize
	if n > c.opts.writeBufferSize || c.full() {
		return false
	}
	c.outMu.Lock()
	if !c.out.cork {
		c.outMu.Unlock()
		return false
	}
	h := c.header(true, op, len(p))
	h.Rsv = rsv
	c.out.appendFrame(h, p, c.opts.writeBufferSize)
	c.outN.Add(int64(h.Size() + len(p)))
	batch := c.out.n >= c.opts.writeBufferSize
	if !c.out.corkArmed {
		c.out.corkArmed = true
		if c.corkT == nil {
			c.corkT = time.AfterFunc(corkDelay, c.corkExpired)
		} else {
			c.corkT.Reset(corkDelay)
		}
	}
	c.outMu.Unlock()
	if batch {
		c.flushSoon()
	}
	return true
}

// corkExpired sends corked frames the reader has not sent within
// corkDelay.
func (c *Conn) corkExpired() {
	c.outMu.Lock()
	c.out.corkArmed = false
	c.outMu.Unlock()
	c.flushSoon()
}

// setCork corks the connection after a message, if unread input is left.
// Called by the reader, with readMu held.
func (c *Conn) setCork() {
	if c.rcork || c.rr == c.rw {
		return
	}
	c.rcork = true
	c.outMu.Lock()
	c.out.cork = true
	c.outMu.Unlock()
}

// beforeNetRead runs before every read from the network: it uncorks the
// connection and starts sending what waits in the outgoing buffer. A writer
// checks the cork under outMu, so a frame corked before the cork is
// cleared is in the outgoing buffer by then and is sent here. Called by
// the reader, with readMu held.
func (c *Conn) beforeNetRead() {
	if c.rcork {
		c.rcork = false
		c.outMu.Lock()
		c.out.cork = false
		if c.out.corkArmed {
			c.out.corkArmed = false
			c.corkT.Stop()
		}
		c.outMu.Unlock()
	}
	if c.outN.Load() > 0 {
		c.flushSoon()
	}
}
