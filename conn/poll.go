//go:build !js

package conn

import (
	"errors"
	"slices"
)

// PollHandler receives the events of a connection served by a [Poller].
type PollHandler struct {
	// OnMessage is called for each data message, one at a time per
	// connection. p is valid only until OnMessage returns. A handler that
	// answers with QueueMessage has its replies sent in one write before
	// the connection goes idle again. QueueMessage waits, holding the
	// service's goroutine, only once the connection's outgoing buffer is
	// full (see [Options.MaxBuffered]); set WriteTimeout to bound that, or
	// answer with QueuePrepared, which never waits.
	OnMessage func(c *Conn, typ MessageType, p []byte)

	// OnClose, if set, is called once when the connection has ended, with
	// the error that ended it (a *CloseError for the peer's close frame, the
	// protocol error the peer caused, ErrClosed if this side closed it).
	OnClose func(c *Conn, err error)
}

// errWouldBlock is returned by reads under a Poller when the socket is
// empty; it is never returned to users.
var errWouldBlock = errors.New("conn: would block")

// errPollerClosed is returned by Add on a closed Poller.
var errPollerClosed = errors.New("conn: poller closed")

// polledMsg is a message a Poller has begun to read and not finished: the
// payload read so far, in a pooled buffer, and for a compressed message the
// compressed payload so far, inflated once the message is whole. It waits
// with its Conn, costing memory but no goroutine, until more arrives. A Conn
// keeps the struct once it has needed one.
type polledMsg struct {
	active bool
	pb     *[]byte // holder of dst's buffer
	dst    []byte
	z      *[]byte // compressed payload so far, or nil
	zn     int
}

// smallPollBuf is the size of the buffer a Poller starts a message in,
// unless the connection's last message needed a larger one.
const smallPollBuf = 4 << 10

// readPolled reads the next message for a Poller or its fallback. Under
// epoll (poll set) it never waits: it returns errWouldBlock as soon as the
// socket is empty, keeping a message that has begun (see polledMsg) to go on
// with next time, so that a peer that sends half a frame and stops holds no
// goroutine. The message is returned in a pooled buffer, *pb, which the
// caller gives back (putBuf) once done with it; class is the size class of
// the buffer to start a new message in, if the pool has one.
func (c *Conn) readPolled(poll bool, class int) (typ MessageType, msg []byte, pb *[]byte, err error) {
	c.readMu.lock()
	defer c.readMu.unlock()
	if c.readErr != nil {
		return 0, nil, nil, c.readErr
	}
	var z *[]byte
	var zn int
	if p := c.polled; p != nil && p.active {
		pb, msg, z, zn = p.pb, p.dst, p.z, p.zn
		*p = polledMsg{}
	} else {
		pb = nil
		if class > 0 {
			pb, _ = bufPools[class].Get().(*[]byte)
		}
		if pb == nil {
			pb = getBuf(smallPollBuf)
		}
		msg = (*pb)[:0]
	}
	if poll {
		c.pollRead = true
		typ, msg, err = c.readPolledLocked(msg, &z, &zn)
		c.pollRead = false
	} else {
		typ, msg, err = c.readMessageLocked(msg)
	}
	*pb = msg[:0]
	switch {
	case err == nil:
		return typ, msg, pb, nil
	case err == errWouldBlock && c.rstate != stateIdle:
		if c.polled == nil {
			c.polled = new(polledMsg)
		}
		*c.polled = polledMsg{active: true, pb: pb, dst: msg, z: z, zn: zn}
		return 0, nil, nil, err
	}
	putBuf(pb)
	if z != nil {
		putBuf(z)
	}
	if err == errWouldBlock {
		return 0, nil, nil, err
	}
	return 0, nil, nil, c.failRead(err)
}

// readPolledLocked reads the rest of the current message, or the next one,
// into dst, never waiting: where ReadMessage would wait it returns
// errWouldBlock, at a point it can go on from. A compressed message's
// payload is gathered in *z (zn bytes) and inflated at its end. Messages
// that arrive once we have sent a close frame are read and dropped.
func (c *Conn) readPolledLocked(dst []byte, z **[]byte, zn *int) (MessageType, []byte, error) {
	for {
		if c.rstate == stateIdle {
			if err := c.nextDataFrame(); err != nil {
				return 0, dst, err
			}
			dst = dst[:0]
		}
		for c.fremain > 0 {
			if c.inflate {
				if *z == nil {
					*z = getBuf(int(min(c.fremain, 64<<10)))
				}
				if len(**z) == *zn {
					grown := slices.Grow((**z)[:*zn], int(min(c.fremain, int64(max(*zn, 4096)))))
					**z = grown[:cap(grown)]
				}
				end := *zn + int(min(c.fremain, int64(len(**z)-*zn)))
				n, err := c.readPayload((**z)[*zn:end])
				*zn += n
				if err != nil {
					return 0, dst, err
				}
				continue
			}
			if len(dst) == cap(dst) {
				// Grow by what has arrived so far (at least 4 KiB), never by
				// what the header announced: the peer controls that number.
				dst = slices.Grow(dst, int(min(c.fremain, int64(max(len(dst), 4096)))))
			}
			end := len(dst) + int(min(c.fremain, int64(cap(dst)-len(dst))))
			n, err := c.readPayload(dst[len(dst):end])
			if n > 0 && c.rstate == stateText {
				if _, verr := c.utf8.Write(dst[len(dst) : len(dst)+n]); verr != nil {
					return 0, dst, verr
				}
			}
			dst = dst[:len(dst)+n]
			if err != nil {
				return 0, dst, err
			}
		}
		if !c.fhdr.Fin {
			if err := c.nextDataFrame(); err != nil {
				return 0, dst, err
			}
			continue
		}
		typ := Binary
		if c.rstate == stateText {
			typ = Text
		}
		if c.inflate {
			var err error
			dst, err = c.inflateGathered(typ, dst, (**z)[:*zn])
			putBuf(*z)
			*z, *zn = nil, 0
			if err != nil {
				return 0, dst, err
			}
		}
		if err := c.endMessage(); err != nil {
			return 0, dst, err
		}
		if c.closeState() == csOpen {
			return typ, dst, nil
		}
	}
}

// inflateGathered inflates a whole compressed payload into dst.
func (c *Conn) inflateGathered(typ MessageType, dst, payload []byte) ([]byte, error) {
	dst, err := c.decomp.AppendMessage(dst, payload)
	if err != nil {
		return dst, c.inflateErr(err)
	}
	if typ == Text {
		if _, err := c.utf8.Write(dst); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// serve reads the messages of c and hands each to h.OnMessage, until
// reading would wait (poll: under epoll) or ends. It returns whether
// reading ended. *class is the size class of the buffer the connection's
// next message starts in: that of the last message, if it needed more than
// the small buffer, so that a stream of large messages is read without
// allocating, while an idle connection holds none.
func serve(c *Conn, h PollHandler, poll bool, class *int) (ended bool) {
	for {
		typ, msg, pb, err := c.readPolled(poll, *class)
		if err == errWouldBlock {
			return false
		}
		if err != nil {
			return true // the close hook reports it
		}
		h.OnMessage(c, typ, msg)
		*class = 0
		if len(msg) > smallPollBuf {
			*class = bufClass(cap(msg))
		}
		*pb = msg[:0]
		putBuf(pb)
	}
}

// hasBufferedInput reports whether the Conn holds bytes read from its
// socket and not yet parsed.
func (c *Conn) hasBufferedInput() bool {
	c.readMu.lock()
	defer c.readMu.unlock()
	return c.rr < c.rw
}

// serveBlocking is the Poller's fallback for a connection it cannot watch
// itself (not a plain TCP or Unix socket, or no epoll): a goroutine that
// reads until the connection ends, with buffers from the same pool.
func serveBlocking(c *Conn, h PollHandler) {
	class := 0
	serve(c, h, false, &class)
}

// watchClose arranges for h.OnClose to run once the connection is closed.
func watchClose(c *Conn, h PollHandler) {
	if h.OnClose == nil {
		return
	}
	c.afterClose(func() { go h.OnClose(c, c.terminal()) })
}
