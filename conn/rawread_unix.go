//go:build unix

package conn

import (
	"io"
	"net"
	"os"
	"syscall"
)

// initRawRead sets up reading straight from the socket of a plain TCP or
// Unix connection through syscall.RawConn. The runtime's poller then parks
// the reader while the socket is empty, and the Conn gives its pooled read
// buffer back before it parks: an idle connection holds no buffer, and a
// busy one reads whatever the socket holds in one call.
func (c *Conn) initRawRead() {
	switch c.nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return // a wrapper such as TLS has its own records
	}
	rc, err := c.nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return
	}
	c.raw = &rawReader{rc: rc}
	c.raw.step = c.rawReadStep
}

// rawReadStep is the RawConn.Read callback. It returns false to have the
// runtime wait until the socket is readable.
func (c *Conn) rawReadStep(fd uintptr) bool {
	r := c.raw
	for {
		if c.rpooled == nil {
			c.borrowReadBuf(r.need)
		}
		n, err := syscall.Read(int(fd), c.rbuf[c.rw:])
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if c.rr == c.rw {
				c.releaseReadBuf() // nothing in flight: wait without a buffer
			}
			if r.nonblock {
				r.wouldBlock = true
				return true // a Poller serves this Conn: do not wait
			}
			return false
		}
		r.n, r.err = n, err
		return true
	}
}

// readRaw reads once from the socket into c.rbuf[c.rw:], borrowing a buffer
// of at least need bytes if none is held, and returns the byte count.
func (c *Conn) readRaw(need int) (int, error) {
	r := c.raw
	r.need, r.n, r.err, r.wouldBlock = need, 0, nil, false
	if err := r.rc.Read(r.step); err != nil {
		return 0, err // deadline or closed connection, as net.Conn reports them
	}
	switch {
	case r.wouldBlock:
		return 0, errWouldBlock
	case r.err != nil:
		return 0, &net.OpError{Op: "read", Net: c.nc.LocalAddr().Network(), Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: os.NewSyscallError("read", r.err)}
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}
