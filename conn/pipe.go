package conn

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Pipe returns a connected pair of Conns, server and client, over an
// in-memory connection: no sockets, no handshake. It is meant for tests of
// code that uses this package. The in-memory connection buffers up to 256 KiB
// in each direction, so a write does not need a concurrent read as with
// net.Pipe, and it supports deadlines and half-close.
func Pipe(server, client *Options) (*Conn, *Conn) {
	a, b := NetPipe()
	return Server(a, nil, server), Client(b, nil, client)
}

// pipeCapacity is how many bytes a memory pipe buffers per direction.
const pipeCapacity = 256 << 10

// NetPipe returns the two ends of a buffered in-memory connection, the
// transport under [Pipe]. Writes block only when the peer's buffer is full.
func NetPipe() (net.Conn, net.Conn) {
	ab, ba := newPipeBuf(), newPipeBuf()
	a := &memConn{in: ba, out: ab, local: memAddr("pipe-a"), remote: memAddr("pipe-b"), closed: make(chan struct{})}
	b := &memConn{in: ab, out: ba, local: memAddr("pipe-b"), remote: memAddr("pipe-a"), closed: make(chan struct{})}
	a.rd.init()
	a.wd.init()
	b.rd.init()
	b.wd.init()
	return a, b
}

type memAddr string

func (a memAddr) Network() string { return "memory" }
func (a memAddr) String() string  { return string(a) }

// pipeBuf is one direction of a memory pipe.
type pipeBuf struct {
	mu       sync.Mutex
	data     []byte
	eof      bool          // the writer closed its side
	broken   bool          // the reader closed its side: writes fail
	readable chan struct{} // signalled when data arrives or the state changes
	writable chan struct{} // signalled when room frees up or the state changes
}

func newPipeBuf() *pipeBuf {
	return &pipeBuf{readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
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

type memConn struct {
	in, out       *pipeBuf
	local, remote net.Addr
	rd, wd        deadline
	closeOnce     sync.Once
	closed        chan struct{}
}

func (m *memConn) Read(p []byte) (int, error) {
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

func (m *memConn) Write(p []byte) (int, error) {
	written := 0
	for {
		select {
		case <-m.closed:
			return written, net.ErrClosed
		default:
		}
		b := m.out
		b.mu.Lock()
		if b.eof {
			b.mu.Unlock()
			return written, net.ErrClosed
		}
		if b.broken {
			b.mu.Unlock()
			return written, io.ErrClosedPipe
		}
		if room := pipeCapacity - len(b.data); room > 0 {
			k := min(room, len(p))
			b.data = append(b.data, p[:k]...)
			p = p[k:]
			written += k
		}
		b.mu.Unlock()
		signal(b.readable)
		if len(p) == 0 {
			return written, nil
		}
		select {
		case <-b.writable:
		case <-m.wd.wait():
			return written, os.ErrDeadlineExceeded
		case <-m.closed:
			return written, net.ErrClosed
		}
	}
}

// CloseWrite shuts down the sending side: the peer reads EOF once it has
// read what was sent.
func (m *memConn) CloseWrite() error {
	m.out.mu.Lock()
	m.out.eof = true
	m.out.mu.Unlock()
	signal(m.out.readable)
	return nil
}

func (m *memConn) Close() error {
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

func (m *memConn) LocalAddr() net.Addr  { return m.local }
func (m *memConn) RemoteAddr() net.Addr { return m.remote }
func (m *memConn) SetDeadline(t time.Time) error {
	m.rd.set(t)
	m.wd.set(t)
	return nil
}
func (m *memConn) SetReadDeadline(t time.Time) error  { m.rd.set(t); return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { m.wd.set(t); return nil }
