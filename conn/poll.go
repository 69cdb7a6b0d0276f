package conn

import (
	"context"
	"errors"
	"math/bits"
	"sync"
)

// PollHandler receives the events of a connection served by a [Poller].
type PollHandler struct {
	// OnMessage is called for each data message, one at a time per
	// connection. p is valid only until OnMessage returns. A handler that
	// answers with QueueMessage has its replies sent in one write before
	// the connection goes idle again.
	OnMessage func(c *Conn, typ MessageType, p []byte)

	// OnClose, if set, is called once when the connection has ended, with
	// the error that ended it (a *CloseError for the peer's close frame, the
	// protocol error the peer caused, ErrClosed if this side closed it).
	OnClose func(c *Conn, err error)
}

// errWouldBlock is returned by reads under a Poller when the socket has
// nothing for an idle connection; it is never returned to users.
var errWouldBlock = errors.New("conn: would block")

// errPollerClosed is returned by Add on a closed Poller.
var errPollerClosed = errors.New("conn: poller closed")

// readPolled reads the next message if one has started to arrive: at a
// message boundary with nothing buffered and nothing on the socket it
// returns errWouldBlock at once instead of waiting; once a message has
// begun, it waits for the rest as ReadMessage does.
func (c *Conn) readPolled(dst []byte) (MessageType, []byte, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	dst = dst[:0]
	if c.readErr != nil {
		return 0, dst, c.readErr
	}
	c.pollRead = true
	typ, dst, err := c.readMessageLocked(dst)
	c.pollRead = false
	if err == errWouldBlock {
		return 0, dst[:0], err
	}
	if err != nil {
		return 0, dst[:0], c.failRead(err)
	}
	return typ, dst, nil
}

// pollBufs holds the message buffers of Poller services.
var pollBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Messages over smallPollBuf get a buffer from bigPollBufs, by size class:
// class k holds buffers of capacity 2^k to 2^(k+1)-1 (over 64 KiB), for k
// from 16 to 24 (up to 32 MiB). A connection whose last message needed one
// starts its next service with one of the same class, so a stream of large
// messages is read without allocating; an idle connection holds none.
const (
	smallPollBuf  = 64 << 10
	bigClassFirst = 16
	bigClassLast  = 24
)

var bigPollBufs [bigClassLast + 1]sync.Pool

// bigClass returns the size class of a buffer of capacity n, or 0 if n is
// not pooled in bigPollBufs.
func bigClass(n int) int {
	k := bits.Len(uint(n)) - 1 // 2^k <= n < 2^(k+1)
	if n <= smallPollBuf || k < bigClassFirst || k > bigClassLast {
		return 0
	}
	return k
}

// serveBlocking is the Poller's fallback for a connection it cannot watch
// itself (not a plain TCP or Unix socket, or no epoll): a goroutine that
// reads until the connection ends.
func serveBlocking(c *Conn, h PollHandler) {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(context.Background(), buf)
		if err != nil {
			return // OnClose runs from the close hook
		}
		h.OnMessage(c, typ, msg)
		if cap(msg) <= 64<<10 {
			buf = msg
		} else {
			buf = nil
		}
	}
}

// watchClose arranges for h.OnClose to run once the connection is closed.
func watchClose(c *Conn, h PollHandler) {
	if h.OnClose == nil {
		return
	}
	c.afterClose(func() { go h.OnClose(c, c.terminal()) })
}
