package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"time"

	"github.com/wirelevel/ws/frame"
)

var errBadType = errors.New("conn: message type must be Text or Binary")

// WriteMessage sends one data message. The payload of a Text message must be
// valid UTF-8; WriteMessage does not check it. With [Options.FragmentSize]
// set, a larger payload goes out as several frames. WriteMessage makes one
// write call for a payload that fits the write buffer (a server uses a
// vectored write for larger ones) and never modifies p.
//
// If ctx is done before the message is out, WriteMessage returns ctx.Err(); a
// message cut short fails the connection.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if typ != Text && typ != Binary {
		return errBadType
	}
	if err := c.lock(ctx, &c.msgMu); err != nil {
		return err
	}
	defer c.msgMu.Unlock()
	op := frame.Opcode(typ)
	p, rsv, pb := c.deflateMessage(p)
	if pb != nil {
		defer putBuf(pb)
	}
	if fs := c.opts.fragmentSize; fs > 0 {
		for len(p) > fs {
			if err := c.writeFrame(ctx, false, op, rsv, p[:fs]); err != nil {
				return err
			}
			p, op, rsv = p[fs:], frame.OpContinuation, 0
		}
	}
	return c.writeFrame(ctx, true, op, rsv, p)
}

// deflateMessage compresses p for a message if permessage-deflate is on and
// p reaches the threshold. It returns the payload to send, its RSV bits, and
// the pooled buffer holding it (nil if p is returned as is). Called with
// msgMu held.
func (c *Conn) deflateMessage(p []byte) ([]byte, byte, *[]byte) {
	if c.comp == nil || len(p) < c.threshold {
		return p, 0, nil
	}
	// Stored blocks bound the size of incompressible input.
	pb := getBuf(len(p) + len(p)/512 + 64)
	return c.comp.AppendMessage((*pb)[:0], p), frame.RSV1, pb
}

// QueueMessage adds a message to this Conn's write queue instead of sending
// it at once. Queued messages go out together, in one write, when the queue
// fills (it holds up to the write buffer size), before any other frame is
// written, when Flush is called, and at the latest when this Conn's reader
// next needs to read from the network. A request/response server that
// answers with QueueMessage from its read loop so sends the replies to all
// the requests one read returned with a single write; it must call Flush
// if it stops reading. A message larger than the write buffer is written
// at once, after the queue. QueueMessage does not fragment.
func (c *Conn) QueueMessage(typ MessageType, p []byte) error {
	if typ != Text && typ != Binary {
		return errBadType
	}
	ctx := context.Background()
	if err := c.lock(ctx, &c.msgMu); err != nil {
		return err
	}
	defer c.msgMu.Unlock()
	p, rsv, pb := c.deflateMessage(p)
	if pb != nil {
		defer putBuf(pb)
	}
	if err := c.lock(ctx, &c.writeMu); err != nil {
		return err
	}
	defer c.writeMu.Unlock()
	if err := c.writable(); err != nil {
		return err
	}
	h := c.header(true, frame.Opcode(typ), len(p))
	h.Rsv = rsv
	if n := h.Size() + len(p); n > c.opts.writeBufferSize || (c.wq != nil && c.wqn+n > len(*c.wq)) {
		// Too big to queue, or no room left: emitLocked sends the queue
		// first, then this frame.
		return c.guardWrite(ctx, c.opts.writeTimeout, func() error { return c.emitLocked(h, p) })
	}
	c.queueLocked(h, p)
	return nil
}

// queueLocked appends a frame to the write queue, which has room for it.
func (c *Conn) queueLocked(h frame.Header, p []byte) {
	if c.wq == nil {
		c.wq = getBuf(c.opts.writeBufferSize)
		c.wqn = 0
		c.queued.Store(true)
	}
	b := (*c.wq)[c.wqn:]
	n := frame.PutHeader(b, h)
	copy(b[n:], p)
	if h.Masked {
		frame.Mask(h.Mask, 0, b[n:n+len(p)])
	}
	c.wqn += n + len(p)
}

// Flush sends the messages in the write queue (see QueueMessage).
func (c *Conn) Flush(ctx context.Context) error {
	if err := c.lock(ctx, &c.writeMu); err != nil {
		return err
	}
	defer c.writeMu.Unlock()
	if c.wq == nil {
		return nil
	}
	return c.guardWrite(ctx, c.opts.writeTimeout, c.flushQueueLocked)
}

// flushQueueLocked writes the queue and gives its buffer back.
func (c *Conn) flushQueueLocked() error {
	if c.wq == nil {
		return nil
	}
	_, err := c.nc.Write((*c.wq)[:c.wqn])
	putBuf(c.wq)
	c.wq, c.wqn = nil, 0
	c.queued.Store(false)
	return err
}

// flushBeforeRead sends queued messages before the reader waits for the
// network, unless a writer is busy (it flushes the queue itself).
func (c *Conn) flushBeforeRead() {
	if !c.writeMu.TryLock() {
		return
	}
	defer c.writeMu.Unlock()
	if c.wq != nil {
		c.guardWrite(context.Background(), c.opts.writeTimeout, c.flushQueueLocked)
	}
}

// NextWriter starts a data message and returns a writer for its payload; the
// message ends when the writer is closed. Bytes are buffered and sent as a
// frame each time the write buffer fills, so a long message streams out as
// fragments. Other data messages wait until the writer is closed; control
// frames do not. ctx applies to every frame of the message. The writer must
// not be used after Close (NextWriter allocates nothing, so it is reused).
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, errBadType
	}
	if err := c.lock(ctx, &c.msgMu); err != nil {
		return nil, err
	}
	if err := c.writable(); err != nil {
		c.msgMu.Unlock()
		return nil, err
	}
	w := &c.writer
	w.ctx, w.op, w.n = ctx, frame.Opcode(typ), 0
	w.buf = getBuf(c.opts.writeBufferSize)
	w.rsv = 0
	if w.compress = c.comp != nil; w.compress {
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
	w.c.msgMu.Unlock()
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
	if err := c.lock(w.ctx, &c.writeMu); err != nil {
		return err
	}
	defer c.writeMu.Unlock()
	err := c.guardWrite(w.ctx, c.opts.writeTimeout, func() error {
		b := (*w.buf)[:frame.MaxHeaderSize+w.n]
		h := c.header(fin, w.op, w.n)
		h.Rsv = w.rsv
		start := frame.MaxHeaderSize - h.Size()
		frame.PutHeader(b[start:], h)
		if h.Masked {
			frame.Mask(h.Mask, 0, b[frame.MaxHeaderSize:])
		}
		_, err := c.nc.Write(b[start:])
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

// writeFrame sends one frame, waiting for other frames to finish first.
func (c *Conn) writeFrame(ctx context.Context, fin bool, op frame.Opcode, rsv byte, p []byte) error {
	if err := c.lock(ctx, &c.writeMu); err != nil {
		return err
	}
	defer c.writeMu.Unlock()
	return c.guardWrite(ctx, c.opts.writeTimeout, func() error {
		h := c.header(fin, op, len(p))
		h.Rsv = rsv
		return c.emitLocked(h, p)
	})
}

// writeControl sends a control frame, bounded by the close timeout so a peer
// that stops reading cannot hold the reader or Close forever.
func (c *Conn) writeControl(op frame.Opcode, p []byte) error {
	if err := c.lockTimeout(&c.writeMu, c.opts.closeTimeout); err != nil {
		return err
	}
	defer c.writeMu.Unlock()
	if op == frame.OpClose {
		// Writes after the close frame fail; this one must go out.
		return c.guardWriteRaw(context.Background(), c.opts.closeTimeout, func() error {
			return c.emitLocked(c.header(true, op, len(p)), p)
		})
	}
	return c.guardWrite(context.Background(), c.opts.closeTimeout, func() error {
		return c.emitLocked(c.header(true, op, len(p)), p)
	})
}

// writable returns the error that forbids data writes, if any: the
// connection has failed, or a close frame has been sent ("the application
// MUST NOT send any more data frames after sending a Close frame", RFC 6455
// Section 5.5.1).
func (c *Conn) writable() error {
	if c.errSet.Load() {
		return c.Err()
	}
	if c.closeSent.Load() {
		return ErrClosed
	}
	return nil
}

// guardWrite runs write, with writeMu held, under ctx and a timeout, and
// turns a failure into the connection's terminal error.
func (c *Conn) guardWrite(ctx context.Context, timeout time.Duration, write func() error) error {
	if err := c.writable(); err != nil {
		return err
	}
	return c.guardWriteRaw(ctx, timeout, write)
}

func (c *Conn) guardWriteRaw(ctx context.Context, timeout time.Duration, write func() error) error {
	if c.errSet.Load() && !c.closeSent.Load() {
		return c.Err()
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { c.nc.SetWriteDeadline(aLongTimeAgo) })
	}
	if timeout > 0 {
		d := time.Now().Add(timeout)
		if u := c.userWD.Load(); u != 0 && u < d.UnixNano() {
			d = time.Unix(0, u)
		}
		c.nc.SetWriteDeadline(d)
	}
	err := write()
	fired := stop != nil && !stop()
	if timeout > 0 || fired {
		c.restoreWriteDeadline()
	}
	if err == nil {
		return nil
	}
	if fired {
		err = ctx.Err()
	}
	// A frame may be half written: the stream is broken.
	if terr := c.Err(); terr != nil {
		err = terr
	} else {
		err = c.setErr(&CloseError{Code: frame.CloseAbnormal, Err: err})
	}
	c.closeTCP()
	return err
}

// emitLocked writes one frame with header h and payload p. Small frames are
// copied into an embedded buffer and written at once; a server writes larger
// ones with one vectored write where the connection supports it; otherwise
// the frame is copied (and masked) through a pooled buffer.
func (c *Conn) emitLocked(h frame.Header, p []byte) error {
	hl := h.Size()
	if c.wq != nil {
		// Queued messages go first, with this frame if it fits.
		if c.wqn+hl+len(p) <= len(*c.wq) {
			c.queueLocked(h, p)
			return c.flushQueueLocked()
		}
		if err := c.flushQueueLocked(); err != nil {
			return err
		}
	}
	if hl+len(p) <= len(c.wsmall) {
		frame.PutHeader(c.wsmall[:], h)
		copy(c.wsmall[hl:], p)
		if h.Masked {
			frame.Mask(h.Mask, 0, c.wsmall[hl:hl+len(p)])
		}
		_, err := c.nc.Write(c.wsmall[:hl+len(p)])
		return err
	}
	if !h.Masked && c.vec {
		frame.PutHeader(c.wsmall[:], h)
		c.wbufs = append(c.warr[:0], c.wsmall[:hl], p)
		_, err := c.wbufs.WriteTo(c.nc)
		c.warr = [2][]byte{}
		return err
	}
	pb := getBuf(min(hl+len(p), c.opts.writeBufferSize))
	defer putBuf(pb)
	buf := (*pb)[:cap(*pb)]
	n := frame.PutHeader(buf, h)
	pos := 0
	for first := true; first || len(p) > 0; first = false {
		k := copy(buf[n:], p)
		if h.Masked {
			pos = frame.Mask(h.Mask, pos, buf[n:n+k])
		}
		if _, err := c.nc.Write(buf[:n+k]); err != nil {
			return err
		}
		p = p[k:]
		n = 0
	}
	return nil
}
