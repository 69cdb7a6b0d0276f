//go:build !js

package conn

import (
	"context"
	"io"
	"slices"

	"github.com/wirelevel/ws/frame"
)

// directReadMin is the payload size from which a read with an empty buffer
// goes straight into the caller's memory instead of through the read buffer.
const directReadMin = 1024

// ReadMessage reads the next data message into dst[:0], growing it as needed,
// and returns the message type and the payload. dst may be reused for the
// next call once the caller is done with the payload. Control frames that
// arrive before or inside the message are handled on the way.
//
// Text messages are validated as UTF-8 while they arrive. A protocol
// violation, invalid UTF-8 or a message over the read limit fails the
// connection (see the package documentation) and is returned as an error
// carrying the close code (a *frame.ProtocolError; errors.Is(err,
// ErrMessageTooBig) for the read limit). A close frame from the peer ends
// reading with a [*CloseError], and so does a connection lost without one
// (code 1006).
//
// When ctx is done, or a read deadline passes, ReadMessage returns ctx.Err()
// (or the deadline's error) as it is. If that happens between messages,
// nothing is lost and the Conn stays usable: a later ReadMessage goes on
// with the next message. Inside a message what was read of it is gone, so
// the connection fails: the peer gets a close frame with 1008 (policy
// violation), and the error is returned again by every later read. Any
// other error is returned again by every later read too.
func (c *Conn) ReadMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	c.readMu.lock()
	defer c.readMu.unlock()
	dst = dst[:0]
	if c.readErr != nil {
		return 0, dst, c.readErr
	}
	watched, err := c.watch.begin(sideRead, ctx)
	var typ MessageType
	if err == nil {
		typ, dst, err = c.readMessageLocked(dst)
	}
	if err = c.endRead(ctx, watched, err); err != nil {
		return 0, dst[:0], err
	}
	return typ, dst, nil
}

func (c *Conn) readMessageLocked(dst []byte) (MessageType, []byte, error) {
	if err := c.startMessage(); err != nil {
		return 0, dst, err
	}
	typ := MessageType(c.fhdr.Opcode)
	if c.inflate {
		return c.inflateMessage(typ, dst)
	}
	for {
		for c.fremain > 0 {
			if len(dst) == cap(dst) {
				// Grow by what has arrived so far (at least 4 KiB), never by
				// what the header announced: the peer controls that number.
				dst = slices.Grow(dst, int(min(c.fremain, int64(max(len(dst), 4096)))))
			}
			end := len(dst) + int(min(c.fremain, int64(cap(dst)-len(dst))))
			n, err := c.readPayload(dst[len(dst):end])
			if n > 0 && typ == Text {
				if _, verr := c.utf8.Write(dst[len(dst) : len(dst)+n]); verr != nil {
					return 0, dst, verr
				}
			}
			dst = dst[:len(dst)+n]
			if err != nil {
				return 0, dst, err
			}
		}
		if c.fhdr.Fin {
			break
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, dst, err
		}
	}
	return typ, dst, c.endMessage()
}

// inflateMessage reads the rest of a compressed message into dst.
func (c *Conn) inflateMessage(typ MessageType, dst []byte) (MessageType, []byte, error) {
	for {
		if cap(dst)-len(dst) < 512 {
			dst = slices.Grow(dst, max(len(dst), 4096))
		}
		n, err := c.decomp.Read(dst[len(dst):cap(dst)])
		if n > 0 && typ == Text {
			if _, verr := c.utf8.Write(dst[len(dst) : len(dst)+n]); verr != nil {
				return 0, dst, verr
			}
		}
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return typ, dst, c.endMessage()
		}
		if err != nil {
			return 0, dst, c.inflateErr(err)
		}
	}
}

// startMessage reads up to the first frame of the next message, first
// skipping what is left of one a NextReader caller abandoned. Once we have
// sent a close frame (the closing state), data messages are read and
// dropped: all that is left to receive is the peer's close frame.
func (c *Conn) startMessage() error {
	for {
		if c.rstate == stateText || c.rstate == stateBinary {
			if err := c.discardMessage(); err != nil {
				return err
			}
		}
		if err := c.nextDataFrame(); err != nil {
			return err
		}
		if c.closeState() == csOpen {
			return nil
		}
	}
}

// endMessage finishes a message whose last frame has been read.
func (c *Conn) endMessage() error {
	if c.rstate == stateText {
		if err := c.utf8.End(); err != nil {
			return err
		}
	}
	c.rstate = stateIdle
	if c.rr == c.rw {
		c.releaseReadBuf()
	} else {
		c.setCork()
	}
	return nil
}

// NextReader waits for the next data message and returns its type and a
// reader for its payload, which returns io.EOF at the end of the message. The
// reader is valid until the next call to NextReader or ReadMessage, which
// discard whatever of the message is left unread; it must not be used after
// that (NextReader allocates nothing, so the reader is reused). Errors are as for
// [Conn.ReadMessage]; the read limit applies to the message as a whole.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	c.readMu.lock()
	defer c.readMu.unlock()
	if c.readErr != nil {
		return 0, nil, c.readErr
	}
	watched, err := c.watch.begin(sideRead, ctx)
	if err == nil {
		err = c.startMessage()
	}
	if err := c.endRead(ctx, watched, err); err != nil {
		return 0, nil, err
	}
	c.reader.ctx = ctx
	return MessageType(c.fhdr.Opcode), &c.reader, nil
}

// messageReader reads the payload of the current message for NextReader.
// There is one per Conn, reused for every message.
type messageReader struct {
	c   *Conn
	ctx context.Context
}

// Read reads the next bytes of the message; it returns io.EOF at its end.
func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	c.readMu.lock()
	defer c.readMu.unlock()
	if c.readErr != nil {
		return 0, c.readErr
	}
	if c.rstate == stateIdle {
		return 0, io.EOF
	}
	watched, err := c.watch.begin(sideRead, r.ctx)
	var n int
	if err == nil {
		n, err = c.readMessagePart(p)
	}
	if err == io.EOF {
		c.endRead(r.ctx, watched, nil)
		return n, io.EOF
	}
	return n, c.endRead(r.ctx, watched, err)
}

// readMessagePart reads the next bytes of the current message into p.
func (c *Conn) readMessagePart(p []byte) (int, error) {
	if c.inflate {
		if len(p) == 0 {
			return 0, nil
		}
		n, err := c.decomp.Read(p)
		if n > 0 && c.rstate == stateText {
			if _, verr := c.utf8.Write(p[:n]); verr != nil {
				return 0, verr
			}
		}
		switch {
		case err == io.EOF:
			if err = c.endMessageEOF(); err == io.EOF && n > 0 {
				err = nil // report EOF on the next call
			}
		case err != nil:
			err = c.inflateErr(err)
		}
		return n, err
	}
	for c.fremain == 0 {
		if c.fhdr.Fin {
			return 0, c.endMessageEOF()
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.readPayload(p[:min(int64(len(p)), c.fremain)])
	if n > 0 && c.rstate == stateText {
		if _, verr := c.utf8.Write(p[:n]); verr != nil {
			return 0, verr
		}
	}
	if err == nil && c.fremain == 0 && c.fhdr.Fin {
		err = c.endMessageEOF()
		if err == io.EOF && n > 0 {
			err = nil // report EOF on the next call
		}
	}
	return n, err
}

func (c *Conn) endMessageEOF() error {
	if err := c.endMessage(); err != nil {
		return err
	}
	return io.EOF
}

// discardMessage skips the rest of the current message, still checking it.
func (c *Conn) discardMessage() error {
	var scratch [512]byte
	for {
		_, err := c.readMessagePart(scratch[:])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// nextDataFrame reads frames, handling control frames, up to the next data
// frame, checks it against the protocol and the limits, and makes it the
// current frame. It consumes a frame's header only once the whole header is
// buffered, and a control frame only once its payload is too, so that a read
// that stops on the way (a Poller's socket is empty, a context ends between
// messages) leaves the stream at a frame boundary, to go on from there.
func (c *Conn) nextDataFrame() error {
	for {
		if c.raw == nil && c.rstate == stateIdle && c.rr == c.rw {
			c.releaseReadBuf() // nothing in flight: block in the stub
		}
		h, n, err := c.peekHeader()
		if err != nil {
			return err
		}
		if err := frame.Check(h, c.peerRole(), c.rsv); err != nil {
			c.rr += n
			return err
		}
		if h.Opcode.IsControl() {
			if err := c.fill(n + int(h.Length)); err != nil {
				return err
			}
			c.rr += n
			if c.keepalive != nil {
				c.framesRead.Add(1)
			}
			c.fhdr, c.fremain, c.fpos = h, h.Length, 0
			if err := c.handleControl(); err != nil {
				return err
			}
			continue
		}
		c.rr += n
		if c.keepalive != nil {
			c.framesRead.Add(1)
		}
		c.fhdr, c.fremain, c.fpos = h, h.Length, 0
		// "An endpoint MUST NOT ... interleave" fragments of different messages
		// (RFC 6455, Section 5.4).
		if h.Opcode == frame.OpContinuation {
			if c.rstate == stateIdle {
				return ErrContinuation
			}
		} else {
			if c.rstate != stateIdle {
				return ErrInterleaved
			}
			c.msgLen, c.msgFrags = 0, 0
			c.utf8.Reset()
			c.inflate = h.Rsv&frame.RSV1 != 0
			if c.inflate {
				c.decomp.SetLimit(c.opts.readLimit)
				if !c.pollRead {
					// A Poller inflates the message once it has all of it.
					c.decomp.Start(&c.src)
				}
			}
			c.rstate = stateBinary
			if h.Opcode == frame.OpText {
				c.rstate = stateText
			}
		}
		c.msgFrags++
		if c.msgFrags > c.opts.maxFragments {
			return ErrTooManyFrags
		}
		if h.Length > c.opts.readLimit-c.msgLen {
			return tooBig(c.opts.readLimit)
		}
		c.msgLen += h.Length
		return nil
	}
}

func (c *Conn) peerRole() frame.Role {
	if c.client {
		return frame.Server
	}
	return frame.Client
}

// peekHeader decodes the next frame header, reading until it is buffered
// whole, and returns it with its size; it consumes nothing.
func (c *Conn) peekHeader() (frame.Header, int, error) {
	for {
		avail := c.rbuf[c.rr:c.rw]
		if need := frame.HeaderLen(avail); len(avail) < need {
			if err := c.fill(need); err != nil {
				return frame.Header{}, 0, err
			}
			continue
		}
		return frame.ParseHeader(avail)
	}
}

// readPayload reads up to len(p) bytes (at most the rest of the current
// frame) of payload into p, unmasked, with at most one read from the network.
func (c *Conn) readPayload(p []byte) (int, error) {
	if int64(len(p)) > c.fremain {
		p = p[:c.fremain]
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	switch {
	case c.rr < c.rw:
		n = copy(p, c.rbuf[c.rr:c.rw])
		c.rr += n
	case len(p) >= directReadMin:
		c.beforeNetRead()
		var err error
		if c.pollRead {
			n, err = c.readRawInto(p) // a Poller's read must not wait
		} else {
			n, err = c.nc.Read(p)
		}
		if n == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return 0, err
		}
	default:
		if err := c.fill(1); err != nil {
			return 0, err
		}
		n = copy(p, c.rbuf[c.rr:c.rw])
		c.rr += n
	}
	if c.fhdr.Masked {
		c.fpos = frame.Mask(c.fhdr.Mask, c.fpos, p[:n])
	}
	c.fremain -= int64(n)
	return n, nil
}

// skipPayload discards the rest of the current frame's payload.
func (c *Conn) skipPayload() error {
	for c.fremain > 0 {
		if c.rr == c.rw {
			if err := c.fill(1); err != nil {
				return err
			}
		}
		n := int(min(c.fremain, int64(c.rw-c.rr)))
		c.rr += n
		c.fremain -= int64(n)
	}
	return nil
}

// fill reads from the network until at least n bytes are unread.
func (c *Conn) fill(n int) error {
	for c.rw-c.rr < n {
		if c.rr == c.rw {
			c.rr, c.rw = 0, 0
		}
		// The stub takes only the first read at an idle message boundary:
		// anything after that is a message in flight, which gets a real
		// buffer.
		stubOK := c.rstate == stateIdle && c.fremain == 0 && c.rr == c.rw
		if c.rpooled == nil && !stubOK {
			c.borrowReadBuf(n)
		}
		if len(c.rbuf)-c.rr < n || c.rw == len(c.rbuf) {
			if c.rpooled == nil || len(c.rbuf) < n {
				// The stub is full, so more is coming: switch to a real buffer.
				c.borrowReadBuf(n)
			} else {
				c.rw = copy(c.rbuf, c.rbuf[c.rr:c.rw])
				c.rr = 0
			}
		}
		c.beforeNetRead()
		var m int
		var err error
		if c.raw != nil {
			// Under a Poller no read waits: the Poller comes back when
			// more arrives.
			c.raw.nonblock = c.pollRead
			m, err = c.readRaw(n)
		} else {
			m, err = c.nc.Read(c.rbuf[c.rw:])
		}
		c.rw += m
		if err != nil {
			if c.rw-c.rr >= n {
				return nil
			}
			return err
		}
	}
	return nil
}

// borrowReadBuf moves the unread bytes into a pooled buffer of at least n
// bytes (and at least the configured read buffer size).
func (c *Conn) borrowReadBuf(n int) {
	pb := getBuf(max(n, c.opts.readBufferSize))
	buf := (*pb)[:cap(*pb)]
	m := copy(buf, c.rbuf[c.rr:c.rw])
	if c.rpooled != nil {
		putBuf(c.rpooled)
	}
	c.rbuf, c.rpooled, c.rr, c.rw = buf, pb, 0, m
}

// releaseReadBuf gives the pooled read buffer back if what is left in it fits
// in the stub.
func (c *Conn) releaseReadBuf() {
	if c.rpooled == nil || c.rw-c.rr > len(c.rstub) {
		return
	}
	n := copy(c.rstub[:], c.rbuf[c.rr:c.rw])
	putBuf(c.rpooled)
	c.rbuf, c.rpooled, c.rr, c.rw = c.rstub[:], nil, 0, n
}

// handleControl reads the payload of the current control frame and acts on
// it: a ping is answered, a pong wakes Ping callers, a close frame ends
// reading.
func (c *Conn) handleControl() error {
	n := int(c.fremain)
	p := c.ctrl[:n]
	copy(p, c.rbuf[c.rr:c.rr+n]) // nextDataFrame has buffered it
	c.rr += n
	c.fremain = 0
	if c.fhdr.Masked {
		frame.Mask(c.fhdr.Mask, 0, p)
	}
	switch c.fhdr.Opcode {
	case frame.OpPing:
		return c.gotPing(p)
	case frame.OpPong:
		c.gotPong(p)
		return nil
	case frame.OpClose:
		return c.handleClose(p)
	}
	return nil
}

// endRead finishes a read operation: it ends the context watch and turns
// any error into the permanent read error, failing the connection when the
// error calls for it. A context or deadline that stops the read between
// messages, at a frame boundary, fails nothing: its error is returned and
// the next read goes on from there.
func (c *Conn) endRead(ctx context.Context, watched bool, err error) error {
	fired := watched && c.watch.end(sideRead)
	if err == errWouldBlock {
		return err // a Poller's idle read: nothing to read, nothing wrong
	}
	if err == nil {
		if fired {
			c.restoreReadDeadline() // the read finished first
		}
		return nil
	}
	if fired && interrupted(err) {
		err = ctx.Err()
	}
	if interrupted(err) && c.rstate == stateIdle && !c.errSet.Load() {
		if fired {
			c.restoreReadDeadline()
		}
		return err
	}
	return c.failRead(err)
}
