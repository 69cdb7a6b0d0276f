// Package pipe is a buffered in-memory network connection: the transport
// under conn.Pipe, the request body of an HTTP/2 WebSocket stream, and the
// peer that tests and fuzz targets drive byte by byte.
//
// Unlike net.Pipe, each direction buffers up to [Capacity] bytes, so a
// write returns without a concurrent read; deadlines and half-close work as
// on a TCP connection, and [Conn.TryWrite] writes without waiting. Package
// pipe opens no sockets and starts no goroutines.
package pipe

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Capacity is how many bytes a pipe buffers in each direction.
const Capacity = 256 << 10

// New returns the two ends of a pipe. Writes to one are read from the
// other; a write waits only while the other end's buffer is full.
func New() (*Conn, *Conn) {
	ab, ba := newBuffer(), newBuffer()
	a := &Conn{in: ba, out: ab, local: Addr("pipe-a"), remote: Addr("pipe-b"), closed: make(chan struct{})}
	b := &Conn{in: ab, out: ba, local: Addr("pipe-b"), remote: Addr("pipe-a"), closed: make(chan struct{})}
	a.rd.init()
	a.wd.init()
	b.rd.init()
	b.wd.init()
	return a, b
}

// Addr is the address of a pipe end; its network is "memory".
type Addr string

// Network returns "memory".
func (a Addr) Network() string { return "memory" }

// String returns the name of the end, "pipe-a" or "pipe-b".
func (a Addr) String() string { return string(a) }

// buffer is one direction of a pipe.
type buffer struct {
	mu       sync.Mutex
	data     []byte
	eof      bool          // the writer closed its side
	broken   bool          // the reader closed its side: writes fail
	readable chan struct{} // signalled when data arrives or the state changes
	writable chan struct{} // signalled when room frees up or the state changes
}

func newBuffer() *buffer {
	return &buffer{readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// deadline is a settable deadline whose channel closes when it passes.
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

func (d *deadline) init() { d.ch = make(chan struct{}) }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired and closed ch
	}
	d.timer = nil
	select {
	case <-d.ch:
		d.ch = make(chan struct{})
	default:
	}
	if t.IsZero() {
		return
	}
	if dur := time.Until(t); dur <= 0 {
		close(d.ch)
	} else {
		ch := d.ch
		d.timer = time.AfterFunc(dur, func() { close(ch) })
	}
}

func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// Conn is one end of a pipe. It implements net.Conn and is safe for
// concurrent use.
type Conn struct {
	in, out       *buffer
	local, remote net.Addr
	rd, wd        deadline
	closeOnce     sync.Once
	closed        chan struct{}
}

// Read reads what the other end wrote. It returns io.EOF once the other end
// has closed or half-closed and everything it wrote has been read.
func (m *Conn) Read(p []byte) (int, error) {
	for {
		select {
		case <-m.closed:
			return 0, net.ErrClosed
		default:
		}
		b := m.in
		b.mu.Lock()
		if len(b.data) > 0 {
			n := copy(p, b.data)
			b.data = b.data[n:]
			if len(b.data) == 0 {
				b.data = nil
			}
			b.mu.Unlock()
			signal(b.writable)
			return n, nil
		}
		if b.eof {
			b.mu.Unlock()
			return 0, io.EOF
		}
		b.mu.Unlock()
		select {
		case <-b.readable:
		case <-m.rd.wait():
			return 0, os.ErrDeadlineExceeded
		case <-m.closed:
			return 0, net.ErrClosed
		}
	}
}

// Write writes p, waiting while the other end's buffer is full.
func (m *Conn) Write(p []byte) (int, error) {
	written := 0
	for {
		n, err := m.TryWrite(p)
		written += n
		p = p[n:]
		if err != nil || len(p) == 0 {
			return written, err
		}
		b := m.out
		select {
		case <-b.writable:
		case <-m.wd.wait():
			return written, os.ErrDeadlineExceeded
		case <-m.closed:
			return written, net.ErrClosed
		}
	}
}

// TryWrite writes as much of p as the other end's buffer has room for
// without waiting, and returns the count; n < len(p) with a nil error means
// the buffer is full.
func (m *Conn) TryWrite(p []byte) (n int, err error) {
	select {
	case <-m.closed:
		return 0, net.ErrClosed
	default:
	}
	b := m.out
	b.mu.Lock()
	switch {
	case b.eof:
		err = net.ErrClosed
	case b.broken:
		err = io.ErrClosedPipe
	default:
		if room := Capacity - len(b.data); room > 0 {
			n = min(room, len(p))
			b.data = append(b.data, p[:n]...)
		}
	}
	b.mu.Unlock()
	if n > 0 {
		signal(b.readable)
	}
	return n, err
}

// CloseWrite shuts down the sending side: the other end reads io.EOF once
// it has read what was sent.
func (m *Conn) CloseWrite() error {
	m.out.mu.Lock()
	m.out.eof = true
	m.out.mu.Unlock()
	signal(m.out.readable)
	return nil
}

// Close closes both directions. Blocked reads and writes on this end
// return net.ErrClosed; writes from the other end fail.
func (m *Conn) Close() error {
	m.closeOnce.Do(func() {
		close(m.closed)
		m.CloseWrite()
		m.in.mu.Lock()
		m.in.broken = true
		m.in.data = nil
		m.in.mu.Unlock()
		signal(m.in.writable)
	})
	return nil
}

// LocalAddr returns the address of this end.
func (m *Conn) LocalAddr() net.Addr { return m.local }

// RemoteAddr returns the address of the other end.
func (m *Conn) RemoteAddr() net.Addr { return m.remote }

// SetDeadline sets both deadlines.
func (m *Conn) SetDeadline(t time.Time) error {
	m.rd.set(t)
	m.wd.set(t)
	return nil
}

// SetReadDeadline sets the deadline for reads.
func (m *Conn) SetReadDeadline(t time.Time) error { m.rd.set(t); return nil }

// SetWriteDeadline sets the deadline for writes.
func (m *Conn) SetWriteDeadline(t time.Time) error { m.wd.set(t); return nil }
