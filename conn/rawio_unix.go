//go:build unix

package conn

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawConn holds the state of reads and of writes that must not wait,
// straight on the socket of a plain TCP or Unix connection, through
// syscall.RawConn.
type rawConn struct {
	rc    syscall.RawConn
	read  func(fd uintptr) bool // c.rawReadStep, made once
	write func(fd uintptr) bool // c.rawWriteStep, made once

	// The read in progress: into c.rbuf[c.rw:] (borrowing a buffer of at
	// least need bytes if none is held), or into into if it is set.
	need       int
	into       []byte
	n          int
	err        error
	nonblock   bool // return errWouldBlock instead of waiting (Poller)
	wouldBlock bool

	// A Poller's reads may take a short read as the end of what the
	// socket holds: "if you call read(2) by asking to read a certain
	// amount of data and read(2) returns a lower number of bytes, you can
	// be sure of having exhausted the read I/O space for the file
	// descriptor" (epoll(7), for stream sockets), and edge-triggered epoll
	// announces whatever arrives after it. That saves the read that would
	// find the socket empty. The Poller sets trustShort for each event,
	// unless the peer has hung up (its end of stream follows the last data
	// with no event of its own), and clears drained. (A TCP read also
	// stops short at urgent data; a peer that sends some delays only its
	// own connection, until its next bytes raise an event.)
	stream     bool // the socket is a byte stream (TCP, Unix SOCK_STREAM)
	trustShort bool
	drained    bool // a read under trustShort was short: the socket is empty

	// The write in progress: vec, less the first off bytes of vec[0].
	vec  [][]byte
	off  int
	wn   int
	werr error
}

// initRawIO sets up reading straight from the socket of a plain TCP or
// Unix connection through syscall.RawConn. The runtime's poller then parks
// the reader while the socket is empty, and the Conn gives its pooled read
// buffer back before it parks: an idle connection holds no buffer, and a
// busy one reads whatever the socket holds in one call. The same RawConn
// writes without waiting for the outgoing buffer (flushSoon).
func (c *Conn) initRawIO() {
	switch c.nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return // a wrapper such as TLS has its own records
	}
	rc, err := c.nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return
	}
	c.rawStore = rawConn{rc: rc, stream: c.nc.LocalAddr().Network() != "unixpacket"}
	c.raw = &c.rawStore
	c.raw.read = c.rawReadStep
	c.raw.write = c.rawWriteStep
}

// rawReadStep is the RawConn.Read callback. It returns false to have the
// runtime wait until the socket is readable.
func (c *Conn) rawReadStep(fd uintptr) bool {
	r := c.raw
	for {
		dst := r.into
		if dst == nil {
			if c.rpooled == nil {
				c.borrowReadBuf(r.need)
			}
			dst = c.rbuf[c.rw:]
		}
		n, err := syscall.Read(int(fd), dst)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if r.into == nil && (c.rr == c.rw || r.nonblock) {
				// Wait without a buffer if what is buffered fits the stub:
				// nothing, or (for a Poller, which may wait long between
				// the pieces of a frame) the start of one.
				c.releaseReadBuf()
			}
			if r.nonblock {
				r.wouldBlock = true
				return true // a Poller serves this Conn: do not wait
			}
			return false
		}
		if r.nonblock && r.trustShort && n > 0 && n < len(dst) {
			r.drained = true
		}
		r.n, r.err = n, err
		return true
	}
}

// pollEvent prepares the Conn's reads for a Poller's service of an event
// (see rawConn.trustShort): hup says the peer may have hung up.
func (c *Conn) pollEvent(hup bool) {
	c.readMu.lock()
	c.raw.trustShort = c.raw.stream && !hup
	c.raw.drained = false
	c.readMu.unlock()
}

// readRaw reads once from the socket into c.rbuf[c.rw:], borrowing a buffer
// of at least need bytes if none is held, and returns the byte count.
func (c *Conn) readRaw(need int) (int, error) {
	c.raw.need = need
	return c.rawRead()
}

// readRawInto reads once from the socket into p.
func (c *Conn) readRawInto(p []byte) (int, error) {
	c.raw.into = p
	c.raw.nonblock = c.pollRead
	n, err := c.rawRead()
	c.raw.into = nil
	return n, err
}

func (c *Conn) rawRead() (int, error) {
	r := c.raw
	if r.nonblock && r.drained {
		// Empty since the last read, as if it had returned EAGAIN.
		if r.into == nil {
			c.releaseReadBuf()
		}
		return 0, errWouldBlock
	}
	r.n, r.err, r.wouldBlock = 0, nil, false
	if err := r.rc.Read(r.read); err != nil {
		return 0, err // deadline or closed connection, as net.Conn reports them
	}
	switch {
	case r.wouldBlock:
		return 0, errWouldBlock
	case r.err != nil:
		return 0, c.opError("read", r.err)
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.nc.LocalAddr().Network(), Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}

// rawTryWrite writes what the socket takes of vec without waiting.
func (c *Conn) rawTryWrite(vec [][]byte) (int, error) {
	r := c.raw
	r.vec, r.off = vec, 0
	total, err := 0, error(nil)
	for len(r.vec) > 0 {
		given := len(r.vec[0]) - r.off
		for _, b := range r.vec[1:min(len(r.vec), maxIovec)] {
			given += len(b)
		}
		r.wn, r.werr = 0, nil
		if err = r.rc.Write(r.write); err != nil {
			break
		}
		if r.werr != nil {
			err = c.opError("write", r.werr)
			break
		}
		total += r.wn
		if r.wn < given {
			break // the socket is full
		}
		for n := r.wn; n > 0; {
			k := min(n, len(r.vec[0])-r.off)
			r.off += k
			n -= k
			if r.off == len(r.vec[0]) {
				r.vec, r.off = r.vec[1:], 0
			}
		}
	}
	r.vec = nil
	return total, err
}

// rawWriteStep is the RawConn.Write callback: one write of what is left of
// r.vec, never waiting.
func (c *Conn) rawWriteStep(fd uintptr) bool {
	r := c.raw
	for {
		n, err := writeVecFD(int(fd), r.vec, r.off)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			n, err = 0, nil
		}
		r.wn, r.werr = max(n, 0), err
		return true
	}
}
