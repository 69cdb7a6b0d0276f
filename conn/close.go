package conn

import (
	"errors"
	"net"
	"time"

	"github.com/wirelevel/ws/frame"
)

// Close runs the closing handshake (RFC 6455, Section 7): it sends a close
// frame with code and reason, waits up to [Options.CloseTimeout] for the
// peer's close frame, and closes the TCP connection. A server closes TCP as
// soon as the peer's close frame arrives, with a half-close (FIN) whose
// socket lingers in the background, discarding input, until the peer closes
// too or CloseTimeout passes, so that a reset cannot destroy frames not yet
// delivered; a client first waits, within the same timeout, for the server
// to close it (Section 7.1.1).
//
// If a goroutine is reading, it receives the peer's close frame and returns
// it as a [*CloseError]; otherwise Close reads, discarding data messages,
// until the close frame comes. Use [frame.CloseNoStatus] as code to send a
// close frame without a code. Close returns an error for a code that may not
// be sent or a reason over 123 bytes or not valid UTF-8, and nil once the
// connection is closed, even if the peer did not answer in time. Calls after
// the first wait for the connection to close and return nil.
func (c *Conn) Close(code CloseCode, reason string) error {
	if code != frame.CloseNoStatus && !code.Valid() {
		return errors.New("conn: close code " + code.String() + " may not be sent")
	}
	if code == frame.CloseNoStatus && reason != "" {
		return errors.New("conn: a close reason needs a close code")
	}
	if len(reason) > frame.MaxCloseReason || !frame.ValidUTF8([]byte(reason)) {
		return errors.New("conn: close reason over 123 bytes or not valid UTF-8")
	}
	deadline := time.Now().Add(c.opts.closeTimeout)
	if c.closeSent.Swap(true) {
		c.waitDone(deadline)
		return nil
	}
	c.setErr(ErrClosed)
	var buf [frame.MaxControlPayload]byte
	if err := c.writeControl(frame.OpClose, frame.AppendClose(buf[:0], code, reason)); err != nil {
		c.closeTCP()
		return nil
	}
	// If nobody is reading, read until the peer's close frame; if a reader
	// is busy, it will receive it, unless it stops reading, in which case
	// take over.
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		if c.readMu.TryLock() {
			c.readUntilClose(deadline)
			c.readMu.Unlock()
			break
		}
		select {
		case <-c.closeRcvd:
			done = true
		case <-t.C:
			done = true
		case <-tick.C:
		}
	}
	c.waitDone(deadline)
	return nil
}

// CloseNow closes the TCP connection at once, without a closing handshake.
// Blocked reads and writes return; later calls return [ErrClosed].
func (c *Conn) CloseNow() error {
	c.closeSent.Store(true)
	c.setErr(ErrClosed)
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
	c.markCloseRcvd(ce)
	if !c.closeSent.Swap(true) {
		c.setErr(ce)
		// "When sending a Close frame in response, the endpoint typically
		// echos the status code it received" (RFC 6455, Section 5.5.1).
		var echo []byte
		if code != frame.CloseNoStatus {
			echo = frame.AppendClose(c.ctrl[:0], code, "")
		}
		c.writeControl(frame.OpClose, echo)
	}
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

// failRead turns an error met while reading into the permanent read error,
// failing the connection as the error requires. It is called with readMu
// held.
func (c *Conn) failRead(err error) error {
	if c.readErr != nil {
		return c.readErr
	}
	c.rstate = stateClosed
	var ce *CloseError
	switch code, isProtocol := protocolCode(err); {
	case errors.As(err, &ce):
		// Orderly close: handleClose did the work.
	case isProtocol:
		// "_Fail the WebSocket Connection_": send a close frame with the code
		// the violation calls for (Section 7.1.7), then close TCP. The stream
		// may be out of step (a bad header, a frame cut short), so instead of
		// parsing what follows, half-close and discard until the peer closes,
		// for at most CloseTimeout.
		c.setErr(err)
		if !c.closeSent.Swap(true) {
			var buf [frame.MaxControlPayload]byte
			p := frame.AppendClose(buf[:0], code, closeReason(err))
			// Without a half-close the peer would wait for us to close
			// while we waited for it: endTCP closes at once then.
			c.endTCP(c.writeControl(frame.OpClose, p) == nil)
		}
		c.closeTCP()
	default:
		if terr := c.Err(); terr != nil {
			err = terr // we closed the connection; that is the story
		} else {
			if errors.Is(err, net.ErrClosed) {
				err = ErrClosed
			} else {
				err = &CloseError{Code: frame.CloseAbnormal, Err: err}
			}
			err = c.setErr(err)
		}
		c.closeTCP()
	}
	c.markCloseRcvd(nil)
	c.readErr = err
	return err
}

// closeReason is the short reason sent with a failure's close frame.
func closeReason(err error) string {
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
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
