//go:build !js

package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/wirelevel/ws/frame"
)

// The write side. Every frame reaches the socket through sendLocked, with
// writeMu held, and sendLocked writes what waits in the outgoing buffer
// before the frame it is given: nothing overtakes a queued message, as in
// x/net/http2, where every frame goes through one write path. Two ways of
// writing use it:
//
//   - Direct writes (WriteMessage, NextWriter, WritePrepared, Ping, Flush,
//     control frames) return once their frame is on the socket, waiting
//     for the peer as long as it takes, within ctx, WriteTimeout or (for
//     control frames) CloseTimeout.
//   - Queued writes (QueueMessage, QueuePrepared, Group.Broadcast) return
//     at once. Their frames join the outgoing buffer, bounded by
//     MaxBuffered, and go out when the batch reaches the write buffer
//     size, before the reader waits, on Flush or before any direct write:
//     written without waiting by whoever is at hand (flushSoon), and by a
//     background flusher, while one is needed, for what the socket does
//     not take at once. When MaxBuffered bytes wait, QueueMessage writes
//     them out itself first, waiting (a connection's own writer is slowed
//     down by its peer); QueuePrepared, for fan-out, never waits and
//     applies WhenFull instead.

// ErrBufferFull is returned by [Conn.QueuePrepared] (and reported by
// [Group.Broadcast]) when the outgoing buffer holds MaxBuffered bytes or
// more (see [Options.MaxBuffered]). With [FailWhenFull] the connection has
// failed and ErrBufferFull is its error; with [DropWhenFull] only the
// message was dropped.
var ErrBufferFull = errors.New("conn: outgoing buffer full")

// WriteMessage sends one data message. The payload of a Text message must be
// valid UTF-8; WriteMessage does not check it. With [Options.FragmentSize]
// set, a larger payload goes out as several frames. WriteMessage makes one
// write call for a payload that fits the write buffer (a server uses a
// vectored write for larger ones), after any queued messages, and never
// modifies p.
//
// A message written while the reader holds unread input between messages
// (the read that returned the message being answered also returned the
// start of the next) is corked: its frame joins the outgoing buffer, and
// WriteMessage returns at once. Corked frames go out, in order and before
// anything written after them, when the reader next reads from the network,
// with the next message written once no input is left, on Flush or Close,
// and at the latest 1 ms after the first of them. So a read loop answers
// all the messages one read returned with one write, while one message in
// flight is answered at once. A corked message that cannot be sent fails
// the connection: the error is returned by the next read or write, and by
// Err, rather than by the WriteMessage that queued it. Only messages that
// fit the write buffer, and only while the outgoing buffer is not full
// ([Options.MaxBuffered]), are corked; the others are written directly.
//
// If ctx is done before the message is out, WriteMessage returns ctx.Err(); a
// message cut short fails the connection. ctx may be done already: nothing
// is sent then and the Conn stays usable. A corked message does not wait,
// so ctx no longer applies to it.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	op, compress, err := typ.split()
	if err != nil {
		return err
	}
	if err := doneErr(ctx); err != nil {
		return err // nothing sent, nothing lost
	}
	if err := c.lockMsg(ctx); err != nil {
		return err
	}
	defer c.unlockMsg()
	if err := c.writable(); err != nil {
		return err
	}
	p, rsv, pb := c.deflateMessage(p, compress)
	if pb != nil {
		defer putBuf(pb)
	}
	fs := c.opts.fragmentSize
	if (fs == 0 || len(p) <= fs) && c.corkLocked(op, rsv, p) {
		return nil
	}
	if fs > 0 {
		for len(p) > fs {
			if err := c.writeFrame(ctx, false, op, rsv, p[:fs]); err != nil {
				return err
			}
			p, op, rsv = p[fs:], frame.OpContinuation, 0
		}
	}
	return c.writeFrame(ctx, true, op, rsv, p)
}

// deflateMessage compresses p for a message if permessage-deflate is on,
// the message may be compressed and p reaches the threshold. It returns the
// payload to send, its RSV bits, and the pooled buffer holding it (nil if p
// is returned as is). Called with msgMu held.
func (c *Conn) deflateMessage(p []byte, compress bool) ([]byte, byte, *[]byte) {
	if len(p) < c.threshold || !c.compressing(compress) {
		return p, 0, nil
	}
	// Stored blocks bound the size of incompressible input.
	pb := getBuf(len(p) + len(p)/512 + 64)
	return c.comp.AppendMessage((*pb)[:0], p), frame.RSV1, pb
}

// QueueMessage adds a message to this Conn's outgoing buffer instead of
// sending it at once, and returns without waiting for the socket. Queued
// messages go out, in order and before any frame written after them:
// together, in one write, when they reach the write buffer size; on Flush;
// before any other frame; and at the latest when this Conn's reader next
// needs to read from the network. A request/response server that answers
// with QueueMessage from its read loop so sends the replies to all the
// requests one read returned with a single write; it must call Flush if it
// stops reading. A message larger than the write buffer goes out at once,
// after the queue, straight from p as far as the socket takes it. What the
// socket does not take stays in the outgoing buffer, which a background
// flusher writes out as the peer reads.
//
// QueueMessage is for a connection's own writer, such as its read loop: a
// peer that does not keep up slows it down. Once [Options.MaxBuffered]
// bytes wait, QueueMessage first writes them out itself, waiting for the
// socket within WriteTimeout as a direct write does. (To send to many
// connections without waiting for any, use [Conn.QueuePrepared] or
// [Group.Broadcast].) QueueMessage copies p (or compresses it) before it
// returns and does not fragment.
func (c *Conn) QueueMessage(typ MessageType, p []byte) error { return c.queueMessage(typ, p, true) }

// queueMessage is QueueMessage; without wait, it is QueuePrepared's
// fallback for connections that encode a message themselves, and applies
// WhenFull instead of waiting.
func (c *Conn) queueMessage(typ MessageType, p []byte, wait bool) error {
	op, compress, err := typ.split()
	if err != nil {
		return err
	}
	if !wait {
		if err := c.admit(); err != nil {
			return err
		}
	} else if err := c.writable(); err != nil {
		return err
	} else if c.full() {
		if err := c.Flush(context.Background()); err != nil {
			return err
		}
	}
	if !c.msgMu.TryLock() {
		c.outMu.Lock()
		if !c.msgMu.TryLock() {
			// A message is being written: this one waits for it.
			pb := getBuf(len(p))
			copy(*pb, p)
			c.out.held = append(c.out.held, heldMsg{typ: typ, data: pb, n: len(p)})
			c.outN.Add(int64(len(p)))
			c.outMu.Unlock()
			return nil
		}
		c.outMu.Unlock()
	}
	err = c.queueLocked(op, compress, p)
	c.unlockMsg()
	return err
}

// queueLocked queues one message. Called with msgMu held.
func (c *Conn) queueLocked(op frame.Opcode, compress bool, p []byte) error {
	p, rsv, pb := c.deflateMessage(p, compress)
	if pb != nil {
		defer putBuf(pb)
	}
	h := c.header(true, op, len(p))
	h.Rsv = rsv
	size := h.Size() + len(p)
	c.outMu.Lock()
	if size > c.opts.writeBufferSize && !h.Masked && c.vec && !c.out.bg && c.writeMu.TryLock() {
		// Too big to batch: try it straight from p, after what is
		// waiting; only what the socket does not take is copied.
		c.outMu.Unlock()
		n := frame.PutHeader(c.wsmall[:], h)
		err := c.trySendLocked(c.wsmall[:n], p)
		c.unlockWrite()
		return err
	}
	c.out.appendFrame(h, p, c.opts.writeBufferSize)
	c.outN.Add(int64(size))
	batch := c.out.n >= c.opts.writeBufferSize
	c.outMu.Unlock()
	if batch {
		c.flushSoon()
	}
	return nil
}

// full reports whether MaxBuffered bytes or more wait.
func (c *Conn) full() bool {
	m := c.opts.maxBuffered
	return m >= 0 && c.outN.Load() >= m
}

// admit checks that a queued message that must not wait may join the
// outgoing buffer, and applies the full policy if not.
func (c *Conn) admit() error {
	if err := c.writable(); err != nil {
		return err
	}
	if c.full() {
		if c.opts.whenFull == FailWhenFull {
			c.failFull()
		}
		return ErrBufferFull
	}
	return nil
}

// unlockMsg releases msgMu, first queueing the messages held while it was
// busy, in order. It gives up msgMu while holding outMu, so that a queued
// write that finds msgMu busy under outMu can rely on its message being
// seen here.
func (c *Conn) unlockMsg() {
	for {
		c.outMu.Lock()
		held := c.out.held
		if len(held) == 0 {
			c.msgMu.Unlock()
			c.outMu.Unlock()
			return
		}
		c.out.held = nil // messages held from now on follow these
		c.outMu.Unlock()
		for _, m := range held {
			c.outN.Add(-int64(m.n))
			switch {
			case c.writable() != nil:
			case m.pm != nil:
				c.queuePreparedLocked(m.pm.frameFor(c))
			default:
				op, compress, _ := m.typ.split()
				c.queueLocked(op, compress, (*m.data)[:m.n])
			}
			if m.data != nil {
				putBuf(m.data)
			}
		}
		// Their writers have returned, perhaps into a Flush that found
		// them still held: they must not wait for the next write.
		c.flushSoon()
	}
}

// Flush sends the messages in the outgoing buffer (see QueueMessage) and
// returns once the socket has taken them, or ctx is done. Messages held
// behind a message still being written (NextWriter) go out as soon as it
// is done, without waiting for a further Flush.
func (c *Conn) Flush(ctx context.Context) error {
	if c.outN.Load() == 0 {
		return nil
	}
	if err := c.Err(); err != nil {
		return err
	}
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	defer c.unlockWrite()
	return c.guardWrite(ctx, c.opts.writeTimeout, c.sendWaitingLocked)
}

// sendWaitingLocked writes the outgoing buffer, waiting for the socket.
func (c *Conn) sendWaitingLocked() error {
	_, err := c.sendLocked(true, nil, nil)
	return err
}

// flushSoon sends what waits in the outgoing buffer without making the
// caller wait: if nobody is writing, it writes what the socket takes at
// once, and a background flusher writes the rest; if somebody is, that
// writer does this before it lets go of writeMu (unlockWrite).
func (c *Conn) flushSoon() {
	c.outMu.Lock()
	if c.out.bg || len(c.out.segs) == 0 {
		c.outMu.Unlock()
		return
	}
	if !c.writeMu.TryLock() {
		c.out.kick = true
		c.outMu.Unlock()
		return
	}
	c.outMu.Unlock()
	c.trySendLocked(nil, nil)
	c.unlockWrite()
}

// trySendLocked writes the outgoing buffer, then head and body, as far as
// the socket takes them without waiting, and starts a background flusher
// for the rest. Called with writeMu held.
func (c *Conn) trySendLocked(head, body []byte) error {
	left, err := c.sendLocked(false, head, body)
	if err != nil {
		return c.failWrite(context.Background(), false, err)
	}
	if left {
		c.outMu.Lock()
		start := !c.out.bg
		c.out.bg = true
		c.outMu.Unlock()
		if start {
			go c.flushBackground()
		}
	}
	return nil
}

// unlockWrite releases writeMu, first writing, without waiting, what
// flushSoon asked for while it was held. It gives up writeMu while holding
// outMu, so that a flushSoon that finds writeMu busy under outMu can rely on
// its request being seen here.
func (c *Conn) unlockWrite() {
	for {
		c.outMu.Lock()
		if !c.out.kick || c.out.bg || len(c.out.segs) == 0 {
			c.out.kick = false
			c.writeMu.Unlock()
			c.outMu.Unlock()
			return
		}
		c.out.kick = false
		c.outMu.Unlock()
		c.trySendLocked(nil, nil)
	}
}

// flushBackground writes the outgoing buffer, waiting for the socket as
// long as it takes (within WriteTimeout, if set, or CloseTimeout once a
// failure's close frame waits), until it is empty. One runs at a time, only
// while the socket has not taken everything queued: a connection whose peer
// keeps up never starts one.
func (c *Conn) flushBackground() {
	c.writeMu.Lock()
	for {
		c.outMu.Lock()
		empty, closing := len(c.out.segs) == 0, c.out.closeAfter
		if empty || c.closeState() >= csTCPClosed {
			c.out.bg, c.out.kick = false, false
			c.writeMu.Unlock()
			c.outMu.Unlock()
			return
		}
		c.outMu.Unlock()
		timeout := c.opts.writeTimeout
		if closing {
			timeout = c.opts.closeTimeout
		}
		if c.guardWrite(context.Background(), timeout, c.sendWaitingLocked) != nil {
			c.outMu.Lock()
			c.out.bg = false
			c.writeMu.Unlock()
			c.outMu.Unlock()
			return
		}
	}
}

// sendLocked is the one path to the socket. With writeMu held, it writes
// what waits in the outgoing buffer, then head, then body. With wait it
// writes all of it, waiting for the socket as long as it takes (callers
// bound that with guardWrite); without, it writes what the socket takes at
// once, puts the rest of the outgoing buffer back, copies the rest of head
// and body in after it, and reports whether anything is left.
func (c *Conn) sendLocked(wait bool, head, body []byte) (left bool, err error) {
	if !wait && !c.canTry() {
		// This connection cannot write without waiting: everything stays
		// for a background flusher.
		c.outMu.Lock()
		if m := len(head) + len(body); m > 0 {
			b := c.out.room(m, m)
			copy(b[copy(b, head):], body)
			c.outN.Add(int64(m))
		}
		left = len(c.out.segs) > 0
		c.outMu.Unlock()
		return left, nil
	}
	c.outMu.Lock()
	segs := c.out.take(c.wsegs)
	c.outMu.Unlock()
	vec := c.wvec[:0]
	queued := 0
	for _, s := range segs {
		vec = append(vec, s.b)
		queued += len(s.b)
	}
	if len(head) > 0 {
		vec = append(vec, head)
	}
	if len(body) > 0 {
		vec = append(vec, body)
	}
	var n int
	if wait {
		n, err = c.writeVec(vec)
	} else {
		n, err = c.tryWriteVec(vec)
	}
	clear(vec)
	c.wvec = vec[:0]
	c.outN.Add(-int64(min(n, queued)))

	// Give back the buffers written; keep the rest.
	i := 0
	for ; i < len(segs) && n >= len(segs[i].b); i++ {
		n -= len(segs[i].b)
		if segs[i].buf != nil {
			putBuf(segs[i].buf)
		}
	}
	rest := segs[i:]
	if len(rest) > 0 {
		rest[0].b = rest[0].b[n:]
		n = 0
	}
	k := min(n, len(head))
	head, n = head[k:], n-k
	body = body[min(n, len(body)):]
	if err != nil || wait || len(rest)+len(head)+len(body) == 0 {
		for _, s := range rest {
			c.outN.Add(-int64(len(s.b))) // dropped: the connection has failed
			if s.buf != nil {
				putBuf(s.buf)
			}
		}
		clear(segs)
		c.wsegs = segs[:0]
		if err == nil {
			c.afterSend()
		}
		return false, err
	}
	var extra outSeg
	if m := len(head) + len(body); m > 0 {
		pb := getBuf(m)
		copy((*pb)[copy(*pb, head):], body)
		extra = outSeg{b: (*pb)[:m], buf: pb}
		c.outN.Add(int64(m))
	}
	c.outMu.Lock()
	c.out.putFront(rest, extra)
	c.outMu.Unlock()
	clear(segs)
	c.wsegs = segs[:0]
	return true, nil
}

// afterSend closes the TCP connection once a failure's close frame is out.
func (c *Conn) afterSend() {
	c.outMu.Lock()
	done := c.out.closeAfter && len(c.out.segs) == 0
	c.outMu.Unlock()
	if done {
		c.closeTCP()
	}
}

// writeVec writes every byte of vec to the socket.
func (c *Conn) writeVec(vec [][]byte) (int, error) {
	switch {
	case len(vec) == 0:
		return 0, nil
	case len(vec) == 1:
		return c.nc.Write(vec[0])
	case c.vec:
		// WriteTo consumes the slice it is called on: a field, so that
		// nothing escapes to the heap.
		c.wbufs = vec
		n, err := c.wbufs.WriteTo(c.nc)
		c.wbufs = nil
		return int(n), err
	}
	if size := vecLen(vec); size <= c.opts.writeBufferSize {
		// Without writev, gather small pieces (corked frames and the frame
		// after them) into one Write: one TLS record, one system call.
		pb := getBuf(size)
		b := (*pb)[:0]
		for _, v := range vec {
			b = append(b, v...)
		}
		n, err := c.nc.Write(b)
		putBuf(pb)
		return n, err
	}
	total := 0
	for _, b := range vec {
		n, err := c.nc.Write(b)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func vecLen(vec [][]byte) int {
	n := 0
	for _, b := range vec {
		n += len(b)
	}
	return n
}

// tryWriter is a connection that can write without waiting: the in-memory
// pipe and the client end of an HTTP/2 stream. TryWrite returns n < len(p)
// and a nil error when it would have to wait.
type tryWriter interface {
	TryWrite(p []byte) (int, error)
}

// canTry reports whether the connection can write without waiting: a
// connection that cannot (TLS, the server end of an HTTP/2 stream) leaves
// its queued frames to a background flusher.
func (c *Conn) canTry() bool {
	if c.raw != nil {
		return true
	}
	_, ok := c.nc.(tryWriter)
	return ok
}

// tryWriteVec writes what the socket takes of vec at once.
func (c *Conn) tryWriteVec(vec [][]byte) (int, error) {
	if c.raw != nil {
		return c.rawTryWrite(vec)
	}
	tw, ok := c.nc.(tryWriter)
	if !ok {
		return 0, nil
	}
	total := 0
	for _, b := range vec {
		n, err := tw.TryWrite(b)
		total += n
		if err != nil || n < len(b) {
			return total, err
		}
	}
	return total, nil
}

// NextWriter starts a data message and returns a writer for its payload; the
// message ends when the writer is closed. Bytes are buffered and sent as a
// frame each time the write buffer fills, so a long message streams out as
// fragments, after any queued messages. Other data messages wait until the
// writer is closed: direct writes block, queued ones are held and follow
// it; control frames do not wait. ctx applies to every frame of the
// message. The writer must not be used after Close (NextWriter allocates
// nothing, so it is reused).
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	op, compress, err := typ.split()
	if err != nil {
		return nil, err
	}
	if err := c.lockMsg(ctx); err != nil {
		return nil, err
	}
	if err := c.writable(); err != nil {
		c.unlockMsg()
		return nil, err
	}
	w := &c.writer
	w.ctx, w.op, w.n = ctx, op, 0
	w.buf = getBuf(c.opts.writeBufferSize)
	w.rsv = 0
	if w.compress = c.compressing(compress); w.compress {
		w.rsv = frame.RSV1
	}
	return w, nil
}

// messageWriter is the state of the message being written by NextWriter.
// There is one per Conn, reused for every message. Its buffer keeps room for
// a frame header in front of the payload, so each frame leaves in one write
// without another copy.
type messageWriter struct {
	c   *Conn
	ctx context.Context
	op  frame.Opcode
	rsv byte    // RSV bits of the next frame: RSV1 on the first of a compressed message
	buf *[]byte // nil when no message is open
	n   int     // payload bytes buffered after the header room

	compress bool    // the message is compressed as it is written
	cbuf     *[]byte // compressed output waiting for a frame
}

var errWriterClosed = errors.New("conn: write to a closed message writer")

// Write adds p to the message, sending a frame whenever the buffer fills.
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.buf == nil {
		return 0, errWriterClosed
	}
	if w.compress {
		return len(p), w.deflate(p, false)
	}
	written := 0
	for len(p) > 0 {
		room := (*w.buf)[frame.MaxHeaderSize+w.n:]
		if len(room) == 0 {
			if err := w.flush(false); err != nil {
				return written, err
			}
			continue
		}
		k := copy(room, p)
		w.n += k
		written += k
		p = p[k:]
	}
	return written, nil
}

// Close sends the rest of the message as its final frame.
func (w *messageWriter) Close() error {
	if w.buf == nil {
		return errWriterClosed
	}
	var err error
	if w.compress {
		err = w.deflate(nil, true)
	} else {
		err = w.flush(true)
	}
	putBuf(w.buf)
	w.buf, w.ctx = nil, nil
	w.c.unlockMsg()
	return err
}

// deflate compresses p, 64 KiB at a time, and moves the output into the
// frame buffer, sending a frame whenever it fills; end finishes the
// compressed stream and sends the last frame.
func (w *messageWriter) deflate(p []byte, end bool) error {
	c := w.c
	if w.cbuf == nil {
		w.cbuf = getBuf(256 << 10)
	}
	for first := true; first || len(p) > 0; first = false {
		chunk := p[:min(len(p), 64<<10)]
		p = p[len(chunk):]
		out := (*w.cbuf)[:0]
		if end && len(p) == 0 {
			out = c.comp.AppendEnd(out)
		} else {
			out = c.comp.AppendChunk(out, chunk)
		}
		for len(out) > 0 {
			room := (*w.buf)[frame.MaxHeaderSize+w.n:]
			if len(room) == 0 {
				if err := w.flush(false); err != nil {
					return err
				}
				continue
			}
			k := copy(room, out)
			w.n += k
			out = out[k:]
		}
	}
	if !end {
		return nil
	}
	putBuf(w.cbuf)
	w.cbuf = nil
	return w.flush(true)
}

// flush sends the buffered payload as one frame.
func (w *messageWriter) flush(fin bool) error {
	c := w.c
	if err := c.lockWrite(w.ctx); err != nil {
		return err
	}
	defer c.unlockWrite()
	err := c.guardWrite(w.ctx, c.opts.writeTimeout, func() error {
		b := (*w.buf)[:frame.MaxHeaderSize+w.n]
		h := c.header(fin, w.op, w.n)
		h.Rsv = w.rsv
		start := frame.MaxHeaderSize - h.Size()
		frame.PutHeader(b[start:], h)
		if h.Masked {
			frame.Mask(h.Mask, 0, b[frame.MaxHeaderSize:])
		}
		_, err := c.sendLocked(true, b[start:], nil)
		return err
	})
	w.op, w.rsv, w.n = frame.OpContinuation, 0, 0
	return err
}

// header returns the header of a frame with an n-byte payload, masked with a
// fresh key if we are the client. Keys come from math/rand/v2's ChaCha8-based
// generator, which is seeded from the system's entropy, as RFC 6455 Section
// 5.3 asks ("derived from a strong source of entropy").
func (c *Conn) header(fin bool, op frame.Opcode, n int) frame.Header {
	h := frame.Header{Fin: fin, Opcode: op, Length: int64(n)}
	if c.client {
		h.Masked = true
		binary.LittleEndian.PutUint32(h.Mask[:], rand.Uint32())
	}
	return h
}

// writeFrame sends one frame directly, waiting for other frames to finish
// first, within ctx and WriteTimeout.
func (c *Conn) writeFrame(ctx context.Context, fin bool, op frame.Opcode, rsv byte, p []byte) error {
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	defer c.unlockWrite()
	return c.guardWrite(ctx, c.opts.writeTimeout, func() error {
		h := c.header(fin, op, len(p))
		h.Rsv = rsv
		return c.sendFrameLocked(h, p)
	})
}

// writeControl sends a control frame directly, bounded by the close timeout
// so that a peer that stops reading cannot hold the reader, Close or
// keepalive forever.
func (c *Conn) writeControl(op frame.Opcode, p []byte) error {
	if err := c.lockWriteTimeout(c.opts.closeTimeout); err != nil {
		return err
	}
	defer c.unlockWrite()
	return c.guardWrite(context.Background(), c.opts.closeTimeout, func() error {
		return c.sendFrameLocked(c.header(true, op, len(p)), p)
	})
}

// sendFrameLocked writes one frame with header h and payload p through
// sendLocked, waiting for the socket. A small frame is copied into an
// embedded buffer; a server sends a larger one with one vectored write
// where the connection supports it, payload in place; otherwise the frame
// is copied (and masked) through a pooled buffer, a write buffer at a time.
func (c *Conn) sendFrameLocked(h frame.Header, p []byte) error {
	hl := h.Size()
	if hl+len(p) <= len(c.wsmall) {
		frame.PutHeader(c.wsmall[:], h)
		copy(c.wsmall[hl:], p)
		if h.Masked {
			frame.Mask(h.Mask, 0, c.wsmall[hl:hl+len(p)])
		}
		_, err := c.sendLocked(true, c.wsmall[:hl+len(p)], nil)
		return err
	}
	if !h.Masked && c.vec {
		frame.PutHeader(c.wsmall[:], h)
		_, err := c.sendLocked(true, c.wsmall[:hl], p)
		return err
	}
	pb := getBuf(min(hl+len(p), c.opts.writeBufferSize))
	defer putBuf(pb)
	buf := *pb
	n := frame.PutHeader(buf, h)
	pos := 0
	for first := true; first || len(p) > 0; first = false {
		k := copy(buf[n:], p)
		if h.Masked {
			pos = frame.Mask(h.Mask, pos, buf[n:n+k])
		}
		if _, err := c.sendLocked(true, buf[:n+k], nil); err != nil {
			return err
		}
		p = p[k:]
		n = 0
	}
	return nil
}

// writable returns the error that forbids data writes, if any: the
// connection has failed, or a close frame has been sent ("the application
// MUST NOT send any more data frames after sending a Close frame", RFC 6455
// Section 5.5.1).
func (c *Conn) writable() error {
	if c.errSet.Load() {
		return c.Err()
	}
	if c.closeState() != csOpen {
		return ErrClosed
	}
	return nil
}

// guardWrite runs write, with writeMu held, under ctx and a timeout, and
// turns a failure into the connection's terminal error.
func (c *Conn) guardWrite(ctx context.Context, timeout time.Duration, write func() error) error {
	watched, err := c.watch.begin(sideWrite, ctx)
	if err != nil {
		// Done before this frame: the frames of its message before it,
		// if any, are out, so the stream cannot go on.
		return c.failWrite(ctx, true, err)
	}
	if timeout > 0 {
		d := time.Now().Add(timeout)
		if u := c.userWD.Load(); u != 0 && u < d.UnixNano() {
			d = time.Unix(0, u)
		}
		c.nc.SetWriteDeadline(d)
	}
	err = write()
	fired := watched && c.watch.end(sideWrite)
	if timeout > 0 || fired {
		c.restoreWriteDeadline()
	}
	if err == nil {
		return nil
	}
	return c.failWrite(ctx, fired, err)
}

// failWrite ends a connection whose write failed, since a frame may be half
// written, and returns the connection's error: ctx.Err() if ctx ended the
// write (fired), a deadline's error as it is, and for a connection lost, a
// [*CloseError] with 1006; or the error of whatever ended it first.
func (c *Conn) failWrite(ctx context.Context, fired bool, err error) error {
	switch {
	case fired:
		err = ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
	case errors.Is(err, net.ErrClosed) && c.errSet.Load():
	default:
		err = &CloseError{Code: frame.CloseAbnormal, Err: err}
	}
	err = c.setErr(err)
	c.closeTCP()
	return err
}

// failFull fails a connection whose outgoing buffer is full, for
// FailWhenFull: a close frame with 1013 follows what waits, and TCP is
// closed once it is out, or after CloseTimeout.
func (c *Conn) failFull() {
	c.sendClose(frame.CloseTryAgainLater, "outgoing buffer full", ErrBufferFull, false)
}
