//go:build linux

package conn

import (
	"errors"
	"sync"
	"syscall"
)

// Poller serves many connections without a goroutine for each idle one.
// It watches their sockets with epoll; when data arrives for a
// connection, a goroutine reads the messages that have arrived, hands each
// to the connection's OnMessage, and ends once the socket is empty. An idle connection then costs only its Conn and socket
// (no goroutine stack, no buffer), which matters for servers holding tens
// of thousands of mostly idle connections. A message that has begun to
// arrive costs no goroutine either: the service returns as soon as the
// socket is empty, even in the middle of a frame, and the Conn keeps what
// has arrived until the rest does (bound how long with keepalive).
//
// Connections that are not plain TCP or Unix sockets (TLS, HTTP/2 streams)
// are served by a goroutine each instead. A Conn added to a Poller must not
// be read by anything else; writing, Ping, Close and the rest work as
// usual. Poller is available on Linux; elsewhere every connection gets a
// goroutine.
type Poller struct {
	epfd         int
	wakeR, wakeW int // a pipe that wakes the event loop for Close

	mu     sync.Mutex
	byFD   map[int]*pollEntry
	closed bool
	done   chan struct{}
}

type pollEntry struct {
	c  *Conn
	fd int
	h  PollHandler
	// class is the size class of the buffer the next message starts in
	// (see serve).
	class int
}

// NewPoller starts a Poller and its event loop goroutine.
func NewPoller() (*Poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(pipe[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(pipe[0])
		syscall.Close(pipe[1])
		return nil, err
	}
	p := &Poller{epfd: epfd, wakeR: pipe[0], wakeW: pipe[1], byFD: make(map[int]*pollEntry), done: make(chan struct{})}
	go p.loop()
	return p, nil
}

// armEvents is the registration of a served socket: level-triggered and
// one-shot, so that exactly one service runs per connection and a re-arm
// reports data that arrived meanwhile.
const armEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// Add serves c with h until the connection ends. h.OnMessage must be set.
func (p *Poller) Add(c *Conn, h PollHandler) error {
	if h.OnMessage == nil {
		return errors.New("conn: PollHandler.OnMessage is nil")
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return errPollerClosed
	}
	watchClose(c, h)
	if c.raw == nil {
		go serveBlocking(c, h)
		return nil
	}
	fd := -1
	c.raw.rc.Control(func(f uintptr) { fd = int(f) })
	if fd < 0 {
		go serveBlocking(c, h)
		return nil
	}
	e := &pollEntry{c: c, fd: fd, h: h}
	if c.hasBufferedInput() {
		// Bytes that earlier reads took from the socket are in the Conn,
		// where epoll cannot see them: serve them first, then watch the
		// socket (adding a readable socket reports it at once).
		go func() {
			if !serve(c, h, true, &e.class) {
				p.register(e)
			}
		}()
		return nil
	}
	p.register(e)
	return nil
}

// register watches an entry's socket.
func (p *Poller) register(e *pollEntry) {
	fd := e.fd
	p.mu.Lock()
	p.byFD[fd] = e
	p.mu.Unlock()
	e.c.afterClose(func() {
		p.mu.Lock()
		if p.byFD[fd] == e {
			delete(p.byFD, fd)
		}
		p.mu.Unlock()
	})
	ev := syscall.EpollEvent{Events: armEvents, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.byFD, fd)
		p.mu.Unlock()
		go serveBlocking(e.c, e.h)
	}
}

// Close stops the Poller and closes every connection it still serves,
// without a closing handshake (use a Group to shut down gracefully first).
func (p *Poller) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	entries := make([]*pollEntry, 0, len(p.byFD))
	for _, e := range p.byFD {
		entries = append(entries, e)
	}
	p.mu.Unlock()
	syscall.Write(p.wakeW, []byte{1})
	<-p.done
	for _, e := range entries {
		e.c.CloseNow()
	}
	syscall.Close(p.epfd)
	syscall.Close(p.wakeR)
	syscall.Close(p.wakeW)
	return nil
}

// loop waits for readable sockets and starts a service for each.
func (p *Poller) loop() {
	defer close(p.done)
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for i := range n {
			fd := int(events[i].Fd)
			if fd == p.wakeR {
				return
			}
			p.mu.Lock()
			e := p.byFD[fd]
			p.mu.Unlock()
			if e != nil {
				go p.service(e)
			}
		}
	}
}

// service reads the messages that have arrived for one connection, then
// re-arms its registration. It returns as soon as the socket is empty, even
// in the middle of a frame: the Conn keeps what has arrived of a message,
// and the next service goes on with it.
func (p *Poller) service(e *pollEntry) {
	if serve(e.c, e.h, true, &e.class) {
		return
	}
	ev := syscall.EpollEvent{Events: armEvents, Fd: int32(e.fd)}
	p.mu.Lock()
	current := p.byFD[e.fd] == e
	p.mu.Unlock()
	if current {
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, e.fd, &ev)
	}
}
