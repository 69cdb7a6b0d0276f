//go:build !js

package conn

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/wirelevel/ws/frame"
)

// closeState is where a Conn stands in the closing handshake (RFC 6455,
// Section 7). It is one value, Conn.state, that only moves forward, through
// advance; sendClose is the one sender of close frames.
type closeState uint32

const (
	// csOpen: data may flow both ways.
	csOpen closeState = iota
	// csCloseSent: our close frame is out or on its way. We send no more
	// data; data that still arrives is read and dropped until the peer's
	// close frame.
	csCloseSent
	// csCloseDone: the peer's close frame has arrived after ours, or ours
	// answered it; only the TCP connection is left to end.
	csCloseDone
	// csTCPClosed: the TCP connection is closed.
	csTCPClosed
)

// closeState returns the state of the closing handshake.
func (c *Conn) closeState() closeState { return closeState(c.state.Load()) }

// advance moves the state forward to s, unless it is there or past it
// already, and returns the state it was in.
func (c *Conn) advance(s closeState) closeState {
	for {
		old := c.state.Load()
		if old >= uint32(s) || c.state.CompareAndSwap(old, uint32(s)) {
			return closeState(old)
		}
	}
}

// sendClose is the one sender of close frames. It records cause as the
// connection's error (unless one is recorded already) and moves the state
// from open to close-sent; the call that makes that move sends a close
// frame with code and reason (no payload for [frame.CloseNoStatus]) after
// whatever the outgoing buffer holds, and reports sent. With wait it writes
// the frame within CloseTimeout and returns the write's error; without, the
// frame joins the outgoing buffer and TCP is closed once it is out, or after
// CloseTimeout: a connection failed by a queued write must not make that
// write wait.
func (c *Conn) sendClose(code CloseCode, reason string, cause error, wait bool) (sent bool, err error) {
	if cause != nil {
		c.setErr(cause)
	}
	if c.advance(csCloseSent) != csOpen {
		return false, nil
	}
	// Only the call that made the move gets here, so c.closeBuf is ours.
	p := frame.AppendClose(c.closeBuf[:0], code, reason)
	if wait {
		return true, c.writeControl(frame.OpClose, p)
	}
	h := c.header(true, frame.OpClose, len(p))
	c.outMu.Lock()
	c.out.appendFrame(h, p, 0)
	c.out.closeAfter = true
	c.outN.Add(int64(h.Size() + len(p)))
	c.outMu.Unlock()
	time.AfterFunc(c.opts.closeTimeout, c.closeTCP)
	c.flushSoon()
	return true, nil
}

// Close runs the closing handshake (RFC 6455, Section 7): it sends a close
// frame with code and reason, after any queued messages, waits up to
// [Options.CloseTimeout] for the peer's close frame, and closes the TCP
// connection. A server closes TCP as soon as the peer's close frame
// arrives, with a half-close (FIN) whose socket lingers in the background,
// discarding input, until the peer closes too or CloseTimeout passes, so
// that a reset cannot destroy frames not yet delivered; a client first
// waits, within the same timeout, for the server to close it (Section
// 7.1.1).
//
// If a goroutine is reading, it receives the peer's close frame and returns
// it as a [*CloseError]; otherwise, or once that reader stops, Close reads,
// discarding data messages, until the close frame comes. Use
// [CloseNoStatusReceived] as code to send a close frame without a code. Close
// returns an error for a code that may not be sent or a reason over 123
// bytes or not valid UTF-8, and nil once the connection is closed, even if
// the peer did not answer in time. Calls after the first wait for the
// connection to close and return nil.
func (c *Conn) Close(code CloseCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	deadline := time.Now().Add(c.opts.closeTimeout)
	if c.closeState() != csOpen {
		c.waitDone(deadline)
		return nil
	}
	sent, err := c.sendClose(code, reason, ErrClosed, true)
	if !sent {
		c.waitDone(deadline)
		return nil
	}
	if err != nil {
		c.closeTCP()
		return nil
	}
	// If nobody is reading, read until the peer's close frame; if a reader
	// is busy, it will receive it, unless it stops reading first, in which
	// case take over.
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	c.readMu.waiters.Add(1)
	defer c.readMu.waiters.Add(-1)
	free := c.readMu.freeChan()
wait:
	for {
		if c.readMu.tryLock() {
			c.readUntilClose(deadline)
			c.readMu.unlock()
			break
		}
		select {
		case <-free:
		case <-c.closeRcvd:
			break wait
		case <-t.C:
			break wait
		}
	}
	c.waitDone(deadline)
	return nil
}

// checkClose checks the code and reason of a close frame we are asked to
// send.
func checkClose(code CloseCode, reason string) error {
	if code != frame.CloseNoStatus && !code.Valid() {
		return errors.New("conn: close code " + code.String() + " may not be sent")
	}
	if code == frame.CloseNoStatus && reason != "" {
		return errors.New("conn: a close reason needs a close code")
	}
	if len(reason) > frame.MaxCloseReason || !frame.ValidUTF8([]byte(reason)) {
		return errors.New("conn: close reason over 123 bytes or not valid UTF-8")
	}
	return nil
}

// CloseNow closes the TCP connection at once, without a closing handshake.
// It first writes what the socket takes without waiting of the messages in
// the outgoing buffer (queued or corked, see [Conn.WriteMessage]), if no
// other write is in progress. Blocked reads and writes return; later calls
// return [ErrClosed].
func (c *Conn) CloseNow() error {
	c.setErr(ErrClosed)
	c.advance(csCloseSent)
	if c.outN.Load() > 0 && c.canTry() && c.writeMu.TryLock() {
		c.sendLocked(false, nil, nil)
		c.writeMu.Unlock()
	}
	c.closeTCP()
	return nil
}

// waitDone waits until the TCP connection is closed or the deadline passes,
// then makes sure it is closed.
func (c *Conn) waitDone(deadline time.Time) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.closeTCP()
	}
}

// readUntilClose reads and discards frames until the peer's close frame, an
// error, or the deadline. It is called with readMu held.
func (c *Conn) readUntilClose(deadline time.Time) {
	if c.readErr != nil {
		return
	}
	c.pollRead = false
	c.nc.SetReadDeadline(deadline)
	var err error
	for err == nil {
		if err = c.skipPayload(); err != nil {
			break
		}
		if c.rstate != stateIdle && c.fhdr.Fin && c.fremain == 0 {
			c.rstate = stateIdle // the last frame of a message was skipped
			c.utf8.Reset()
		}
		err = c.nextDataFrame()
	}
	c.failRead(err)
}

// handleClose acts on the peer's close frame with payload p: it checks it,
// answers it if we have not sent a close frame, and closes TCP as the role
// requires. It returns the [*CloseError] that ends reading.
func (c *Conn) handleClose(p []byte) error {
	code, reason, err := frame.ParseClose(p)
	if err != nil {
		return err
	}
	ce := &CloseError{Code: code, Reason: string(reason)}
	c.rstate = stateClosed
	c.markCloseRcvd()
	if c.opts.onCloseFrame != nil {
		c.setErr(ce) // the peer ended it, even if the hook answers
		c.opts.onCloseFrame(c, code, ce.Reason)
	}
	// "When sending a Close frame in response, the endpoint typically
	// echos the status code it received" (RFC 6455, Section 5.5.1).
	c.sendClose(code, "", ce, true)
	c.advance(csCloseDone)
	c.finishTCP()
	return ce
}

// finishTCP ends the TCP connection after both close frames: "the server
// MUST close the underlying TCP connection immediately; the client SHOULD
// wait for the server to close the connection" (RFC 6455, Section 7.1.1).
// The server closes with a half-close and lets the rest linger in the
// background (lingerClose), so that its close frame is never lost to a reset.
func (c *Conn) finishTCP() {
	if c.client {
		c.drain(time.Now().Add(c.opts.closeTimeout))
		c.closeTCP()
		return
	}
	c.endTCP(true)
}

// drain reads and discards until EOF, an error or the deadline.
func (c *Conn) drain(deadline time.Time) {
	c.rr, c.rw = 0, 0
	discardUntil(c.nc, c.rbuf, deadline)
}

// discardUntil reads from nc into buf, discarding, until EOF, an error or
// the deadline.
func discardUntil(nc net.Conn, buf []byte, deadline time.Time) {
	nc.SetReadDeadline(deadline)
	for {
		if _, err := nc.Read(buf); err != nil {
			return
		}
	}
}

// errInterrupted is the reason of the close frame that fails a connection
// whose read stopped, by its context or deadline, in the middle of a
// message: what was read of it is gone, so the stream cannot go on.
const errInterrupted = "read interrupted in the middle of a message"

// failRead turns an error met while reading into the permanent read error,
// failing the connection as the error requires. It is called with readMu
// held.
func (c *Conn) failRead(err error) error {
	if c.readErr != nil {
		return c.readErr
	}
	c.rstate = stateClosed
	_, isClose := errors.AsType[*CloseError](err)
	switch code, isProtocol := protocolCode(err); {
	case isClose:
		// Orderly close: handleClose did the work.
	case isProtocol:
		// "_Fail the WebSocket Connection_": send a close frame with the code
		// the violation calls for (Section 7.1.7), then close TCP. The stream
		// may be out of step (a bad header, a frame cut short), so instead of
		// parsing what follows, half-close and discard until the peer closes,
		// for at most CloseTimeout.
		c.failWithClose(code, closeReason(err), err)
	default:
		switch terr := c.Err(); {
		case terr != nil:
			// We ended the connection; that is the story. If the read
			// found the peer gone (EOF, a reset) rather than stopped by
			// a context or deadline of ours, nothing is left to wait for:
			// a Close waiting for the peer's close frame returns now,
			// not after CloseTimeout.
			if !interrupted(err) {
				c.closeTCP()
			}
			err = terr
		case interrupted(err):
			// Our own context or deadline stopped a read inside a message.
			// The error is returned as it is, and the peer gets a close
			// frame (1008) rather than a dropped connection.
			c.failWithClose(frame.ClosePolicyViolation, errInterrupted, err)
		case errors.Is(err, net.ErrClosed):
			err = c.setErr(ErrClosed)
			c.closeTCP()
		default:
			// The connection is lost: 1006, no close frame.
			err = c.setErr(&CloseError{Code: frame.CloseAbnormal, Err: err})
			c.closeTCP()
		}
	}
	c.markCloseRcvd()
	c.readErr = err
	// Nothing more will be read: the pooled read buffer goes back for the
	// next connection, instead of to the garbage collector with this one.
	if c.rpooled != nil {
		putBuf(c.rpooled)
		c.rbuf, c.rpooled, c.rr, c.rw = c.rstub[:], nil, 0, 0
	}
	return err
}

// failWithClose fails the connection with a close frame: code and reason,
// err as the connection's error. Without a half-close the peer would wait
// for us to close while we waited for it, so TCP then closes at once.
func (c *Conn) failWithClose(code CloseCode, reason string, err error) {
	if sent, werr := c.sendClose(code, reason, err, true); sent {
		c.endTCP(werr == nil)
	}
	c.closeTCP()
}

// interrupted reports whether err is a context's or a deadline's: the
// reader was stopped, nothing is wrong with the connection.
func interrupted(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
}

// closeReason is the short reason sent with a failure's close frame.
func closeReason(err error) string {
	if pe, ok := errors.AsType[*frame.ProtocolError](err); ok {
		r := pe.Reason
		if len(r) > frame.MaxCloseReason {
			r = r[:frame.MaxCloseReason]
			for !frame.ValidUTF8([]byte(r)) {
				r = r[:len(r)-1]
			}
		}
		return r
	}
	return ""
}

// Done returns a channel that is closed when the underlying connection has
// been closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns the error that ended the connection, or nil while it is open:
// a [*CloseError] for the peer's close frame or a lost connection, the
// protocol error the peer caused, [ErrClosed] after Close or CloseNow,
// [ErrBufferFull], or the context or deadline error that stopped a read
// inside a message or a write.
func (c *Conn) Err() error {
	if !c.errSet.Load() {
		return nil
	}
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.err
}

// setErr records err as the terminal error unless one is already set, and
// returns the terminal error.
func (c *Conn) setErr(err error) error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.err == nil {
		c.err = err
		c.errSet.Store(true)
	}
	return c.err
}

// terminal returns the terminal error, or ErrClosed if none was recorded.
func (c *Conn) terminal() error {
	if err := c.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// closeTCP closes the network connection once and wakes everyone waiting.
func (c *Conn) closeTCP() { c.endTCP(false) }

// endTCP is closeTCP; with linger set it ends the connection with a
// lingering close (see lingerClose) if the connection can half-close.
func (c *Conn) endTCP(linger bool) {
	c.doneOnce.Do(func() {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); linger && ok && cw.CloseWrite() == nil {
			go lingerClose(c.nc, time.Now().Add(c.opts.closeTimeout))
		} else {
			c.nc.Close()
		}
		c.advance(csTCPClosed)
		c.watch.release()
		if c.keepalive != nil {
			c.keepalive.Stop()
		}
		c.outMu.Lock()
		c.out.discard()
		c.outN.Store(0)
		c.outMu.Unlock()
		c.markCloseRcvd()
		close(c.done)
		c.pingMu.Lock()
		for k, chs := range c.pings {
			for _, ch := range chs {
				close(ch)
			}
			delete(c.pings, k)
		}
		c.pingMu.Unlock()
		c.closeMu.Lock()
		fns := c.onClose
		c.onClose = nil
		c.closeMu.Unlock()
		for _, f := range fns {
			f()
		}
	})
}

// lingerClose finishes a connection whose sending side has been shut down:
// it discards what the peer still sends until the peer closes its side or
// the deadline passes, then closes. Closing a socket that has unread data
// makes the kernel answer with a reset and drop what it has not sent yet
// (RFC 1122, Section 4.2.2.13), which would lose the last frames, the close
// frame among them, when the peer sent anything after its close frame (a
// ping, say) or before it read all of ours. The half-close has already
// sent the FIN, so for the peer the connection closed at once.
func lingerClose(nc net.Conn, deadline time.Time) {
	b := getBuf(1 << minPoolShift)
	discardUntil(nc, *b, deadline)
	putBuf(b)
	nc.Close()
}

// afterClose arranges for f to run once the TCP connection is closed, or at
// once if it already is.
func (c *Conn) afterClose(f func()) {
	c.closeMu.Lock()
	select {
	case <-c.done:
		c.closeMu.Unlock()
		f()
		return
	default:
	}
	c.onClose = append(c.onClose, f)
	c.closeMu.Unlock()
}

// markCloseRcvd releases anyone waiting for the peer's close frame: it has
// arrived, or reading has ended without it.
func (c *Conn) markCloseRcvd() {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if !c.rcvdOnce {
		c.rcvdOnce = true
		close(c.closeRcvd)
	}
}
