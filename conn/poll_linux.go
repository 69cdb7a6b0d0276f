//go:build linux

package conn

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Poller serves many connections without a goroutine for each idle one.
// It watches their sockets with epoll; when data arrives for a
// connection, a goroutine reads the messages that have arrived, hands each
// to the connection's OnMessage, and ends once the socket is empty. An idle
// connection then costs only its Conn and socket (no goroutine stack, no
// buffer), which matters for servers holding tens of thousands of mostly
// idle connections. A message that has begun to arrive costs no goroutine
// either: the service returns as soon as the socket is empty, even in the
// middle of a frame, and the Conn keeps what has arrived until the rest
// does (bound how long with keepalive).
//
// The Poller's epoll instance is itself watched by the Go runtime's network
// poller, so its event loop waits the way a goroutine reading a socket
// does. The goroutine that receives an event serves that connection
// itself, as promptly as a goroutine blocked on its socket would wake;
// other connections with input at the same time get goroutines of their
// own. Input that arrives while that service runs waits for it to end, for
// at most about 10 ms: a service that lasts longer (OnMessage may wait) has
// the other connections served on goroutines of their own meanwhile, so a
// waiting handler holds up no other connection for longer than that.
//
// Connections that are not plain TCP or Unix sockets (TLS, HTTP/2 streams)
// are served by a goroutine each instead. A Conn added to a Poller must not
// be read by anything else; writing, Ping, Close and the rest work as
// usual. Poller is available on Linux; elsewhere every connection gets a
// goroutine.
type Poller struct {
	epfd int
	ep   *os.File        // a duplicate of epfd, registered with the runtime's poller; nil if that failed
	rc   syscall.RawConn // ep's

	// Without ep, the loop blocks in epoll_wait and Close wakes it with a
	// pipe.
	wakeR, wakeW int

	mu     sync.Mutex
	byFD   map[int]*pollEntry
	closed bool

	// While the event loop's goroutine serves a connection itself
	// (waitLoop), the events of the others wait in epfd until it is done;
	// if that service runs for longer than stallBound, the watchdog arms
	// the helper, which then serves those connections on goroutines of
	// their own until the loop's service ends. Arming puts epfd's events
	// in the helper's epoll instance (helpFD), and disarming takes them
	// out; a service that ends within the bound costs neither.
	helpFD int             // the helper's epoll instance
	help   *os.File        // a duplicate of helpFD, registered with the runtime's poller
	helpRC syscall.RawConn // help's
	// inline is the state of the loop's own services: bit 0 set while one
	// runs, bit 1 while the helper is armed for it, and above them a count
	// of the services, so that the watchdog tells a long one from a series
	// of short ones. Only the loop sets bit 0; the watchdog sets bit 1
	// (holding armMu) only while bit 0 is set.
	inline atomic.Uint64
	armMu  sync.Mutex
	// The watchdog sleeps on wdWake while no service runs; wdIdle says it
	// does, and whoever clears it first (the loop starting a service, or
	// the watchdog finding one started) owns the wake-up.
	wdIdle atomic.Bool
	wdWake chan struct{}
	users  atomic.Int32 // of epfd and helpFD: the loop, the helper and the watchdog

	done     chan struct{} // closed once the event loop has stopped
	doneOnce sync.Once
}

type pollEntry struct {
	c  *Conn
	fd int
	h  PollHandler
	// class is the size class of the buffer the next message starts in
	// (see serve).
	class int
	// state makes sure one service at a time runs: idle, serving, or
	// serving with more input announced meanwhile.
	state atomic.Int32
	// run is p.service(e), made once: a go statement with a bound
	// method and arguments would allocate a closure per service.
	run func()
	// hup is set once an event reports that the peer hung up or the
	// socket failed (see rawConn.trustShort).
	hup atomic.Bool
}

const (
	entryIdle int32 = iota
	entryServing
	entryAgain
)

// NewPoller starts a Poller and its event loop goroutine.
func NewPoller() (*Poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	p := &Poller{epfd: epfd, wakeR: -1, wakeW: -1, byFD: make(map[int]*pollEntry), done: make(chan struct{}), helpFD: -1}
	if err := p.registerWithRuntime(); err != nil {
		// Wait in epoll_wait itself, woken by a pipe for Close.
		var pipe [2]int
		if err := syscall.Pipe2(pipe[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			syscall.Close(epfd)
			return nil, os.NewSyscallError("pipe2", err)
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(pipe[0])}
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
			syscall.Close(epfd)
			syscall.Close(pipe[0])
			syscall.Close(pipe[1])
			return nil, os.NewSyscallError("epoll_ctl", err)
		}
		p.wakeR, p.wakeW = pipe[0], pipe[1]
	} else {
		p.wdWake = make(chan struct{}, 1)
		p.users.Store(3)
	}
	go p.loop()
	return p, nil
}

// registerWithRuntime hands the epoll instance, and the helper's, to the
// runtime's network poller (an epoll instance is readable while it has
// events).
func (p *Poller) registerWithRuntime() error {
	ep, rc, err := pollFile(p.epfd)
	if err != nil {
		return err
	}
	hfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		ep.Close()
		return err
	}
	// epfd stays in the helper's epoll instance, with no events but while
	// the helper is armed (arm).
	ev := syscall.EpollEvent{Events: 1 << 31, Fd: int32(p.epfd)}
	if err := syscall.EpollCtl(hfd, syscall.EPOLL_CTL_ADD, p.epfd, &ev); err != nil {
		ep.Close()
		syscall.Close(hfd)
		return err
	}
	help, hrc, err := pollFile(hfd)
	if err != nil {
		ep.Close()
		syscall.Close(hfd)
		return err
	}
	p.ep, p.rc = ep, rc
	p.helpFD, p.help, p.helpRC = hfd, help, hrc
	return nil
}

// pollFile returns an os.File, watched by the runtime's network poller, for
// a non-blocking duplicate of the epoll descriptor fd.
func pollFile(fd int) (*os.File, syscall.RawConn, error) {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return nil, nil, err
	}
	syscall.CloseOnExec(dup)
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return nil, nil, err
	}
	f := os.NewFile(uintptr(dup), "epoll")
	// os.File reports a descriptor the runtime does not poll by refusing
	// deadlines.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}

// watchEvents is the registration of a served socket: edge-triggered, so
// that the kernel announces input that arrives after a service has read
// the socket empty, and no re-arming is needed (entry.state keeps services
// from overlapping).
const watchEvents = uint32(syscall.EPOLLIN|syscall.EPOLLRDHUP) | 1<<31 // EPOLLET

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
	e.run = func() { p.service(e) }
	if !p.register(e) {
		go serveBlocking(c, h)
		return nil
	}
	// Bytes that earlier reads took from the socket (sent with the
	// handshake, or left by reads before Add) are in the Conn, where epoll
	// cannot see them: serve them now. An event for the socket meanwhile
	// finds the service running (claim).
	if c.hasBufferedInput() {
		p.dispatch(e)
	}
	return nil
}

// register watches an entry's socket, edge-triggered. It reports false if
// epoll refused the socket.
func (p *Poller) register(e *pollEntry) bool {
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
	ev := syscall.EpollEvent{Events: watchEvents, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.byFD, fd)
		p.mu.Unlock()
		return false
	}
	return true
}

// Close stops the Poller and closes every connection it still serves,
// without a closing handshake (use a Group to shut down gracefully first).
// It does not wait for handlers that are running, so a handler may call it.
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
	if p.ep != nil {
		// Closing the files wakes the loop and the helper. The loop's
		// goroutine ends after the service it may be running.
		go p.ep.Close()
		p.help.Close()
	} else {
		syscall.Write(p.wakeW, []byte{1})
		<-p.done
	}
	for _, e := range entries {
		e.c.CloseNow()
	}
	if p.ep == nil {
		syscall.Close(p.epfd)
		syscall.Close(p.wakeR)
		syscall.Close(p.wakeW)
	}
	return nil
}

// loop waits for readable sockets and serves them.
func (p *Poller) loop() {
	if p.ep == nil {
		defer close(p.done)
		events := make([]syscall.EpollEvent, 256)
		for {
			n, err := syscall.EpollWait(p.epfd, events, -1)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || !p.handle(events[:n]) {
				return
			}
		}
	}
	go p.helper()
	go p.watchdog()
	p.waitLoop()
}

// waitLoop is the event loop over the runtime's poller, which watches epfd
// edge-triggered: each wait first takes the events that are ready, and
// waits only if there are none; events that arrive meanwhile end the wait
// at once.
//
// The loop's goroutine serves the first connection of each wait itself,
// the others on goroutines of their own. Starting a goroutine wakes an idle
// processor, which costs a round trip more than the service itself, so
// serving in place keeps a polled connection's round trip as short as a
// blocked reader's. A service that takes long (OnMessage may wait) holds
// up no other connection for more than about stallBound: the watchdog then
// arms the helper (see Poller.inline).
func (p *Poller) waitLoop() {
	events := make([]syscall.EpollEvent, 256)
	// The services run inside the wait, so that the runtime's poller keeps
	// the edges that arrive meanwhile: after a service, the goroutine
	// parks, and finds any such event at once when it does.
	p.rc.Read(func(fd uintptr) bool {
		for {
			n, err := syscall.EpollWait(int(fd), events, 0)
			switch {
			case err == syscall.EINTR:
				continue
			case err != nil:
				return true
			case n == 0:
				return false
			}
			var first *pollEntry
			for i := range events[:n] {
				e := p.entry(&events[i])
				switch {
				case e == nil:
				case first == nil && e.claim():
					first = e
				default:
					p.dispatch(e)
				}
			}
			if first != nil {
				p.serveInline(first)
			}
			if n < len(events) {
				return false // anything newer has raised an edge
			}
		}
	})
	p.endLoop() // Close closed ep (err or werr)
}

// eventWait waits until an epoll instance watched by the runtime's poller
// has events, and takes them into events. Its callback is made once, so
// that a wait allocates nothing.
type eventWait struct {
	rc     syscall.RawConn
	events []syscall.EpollEvent
	n      int
	err    error
	take   func(fd uintptr) bool
}

func newEventWait(rc syscall.RawConn, n int) *eventWait {
	w := &eventWait{rc: rc, events: make([]syscall.EpollEvent, n)}
	w.take = w.takeEvents
	return w
}

// wait returns the events ready, waiting for some if there are none.
func (w *eventWait) wait() ([]syscall.EpollEvent, error) {
	w.n, w.err = 0, nil
	err := w.rc.Read(w.take)
	if err == nil {
		err = w.err
	}
	return w.events[:w.n], err
}

// takeEvents is the rc.Read callback: it reports false to wait.
func (w *eventWait) takeEvents(fd uintptr) bool {
	for {
		k, err := syscall.EpollWait(int(fd), w.events, 0)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			w.err = err
		case k == 0:
			return false
		}
		w.n = k
		return true
	}
}

// stallBound is how long the loop's goroutine serves a connection itself
// before the watchdog has the helper serve the others meanwhile; they wait
// at most about twice that for a handler that waits. The watchdog looks
// once per stallBound while services run: at 1 ms those looks alone made
// the bench kit's median round trip through a Poller about 25 % longer
// (bench/, workload 3, at 1, 5, 10 and 50 ms).
const stallBound = 5 * time.Millisecond

// serveInline serves e on the loop's goroutine, telling the watchdog.
func (p *Poller) serveInline(e *pollEntry) {
	v := (p.inline.Load()&^3 + 4) | 1
	p.inline.Store(v)
	if p.wdIdle.Load() && p.wdIdle.CompareAndSwap(true, false) {
		p.wdWake <- struct{}{}
	}
	p.service(e)
	if p.inline.CompareAndSwap(v, v&^1) {
		return // the helper was not armed
	}
	p.armMu.Lock()
	p.inline.Store(v &^ 3)
	p.setHelper(false)
	p.armMu.Unlock()
}

// watchdog arms the helper when the loop's goroutine has served one
// connection for longer than stallBound. It sleeps while no service runs.
func (p *Poller) watchdog() {
	defer p.release()
	last := p.inline.Load()
	for {
		time.Sleep(stallBound)
		select {
		case <-p.done:
			return
		default:
		}
		cur := p.inline.Load()
		switch {
		case cur != last:
			last = cur // services ran since the last look
			continue
		case cur&3 == 1:
			// The same service as at the last look: arm the helper for
			// it, unless it has ended meanwhile.
			p.armMu.Lock()
			if p.inline.CompareAndSwap(cur, cur|2) {
				p.setHelper(true)
			}
			p.armMu.Unlock()
			continue
		case cur&1 != 0:
			continue // armed already
		}
		// No service since the last look: sleep until one starts.
		p.wdIdle.Store(true)
		if p.inline.Load() != cur && p.wdIdle.CompareAndSwap(true, false) {
			last = cur
			continue
		}
		select {
		case <-p.wdWake:
		case <-p.done:
			return
		}
		last = p.inline.Load() // the service that woke it, or a later one
	}
}

// setHelper has the helper's epoll instance report epfd's events, or stop
// doing so. Arming with events pending reports them at once.
func (p *Poller) setHelper(on bool) {
	ev := syscall.EpollEvent{Events: 1 << 31, Fd: int32(p.epfd)} // EPOLLET, no event
	if on {
		ev.Events |= syscall.EPOLLIN
	}
	syscall.EpollCtl(p.helpFD, syscall.EPOLL_CTL_MOD, p.epfd, &ev)
}

// helper serves, on goroutines of their own, the connections whose input
// arrives while it is armed.
func (p *Poller) helper() {
	mark := newEventWait(p.helpRC, 1)
	events := make([]syscall.EpollEvent, 256)
	for {
		if _, err := mark.wait(); err != nil {
			p.release() // Close closed help
			return
		}
		if p.inline.Load()&2 == 0 {
			continue // disarmed meanwhile: the loop takes them
		}
		n, err := syscall.EpollWait(p.epfd, events, 0)
		if err != nil {
			continue
		}
		p.handle(events[:n])
	}
}

// endLoop records that the event loop has stopped.
func (p *Poller) endLoop() {
	p.doneOnce.Do(func() { close(p.done) })
	p.release()
}

// release closes epfd and the helper's epoll instance once both the loop
// and the helper have stopped using them.
func (p *Poller) release() {
	if p.users.Add(-1) == 0 {
		syscall.Close(p.epfd)
		syscall.Close(p.helpFD)
	}
}

// handle starts services for the connections in events. It reports false
// for the wake-up of Close.
func (p *Poller) handle(events []syscall.EpollEvent) bool {
	for i := range events {
		if int(events[i].Fd) == p.wakeR {
			return false
		}
		if e := p.entry(&events[i]); e != nil {
			p.dispatch(e)
		}
	}
	return true
}

// entry returns the entry an event is for, or nil.
func (p *Poller) entry(ev *syscall.EpollEvent) *pollEntry {
	p.mu.Lock()
	e := p.byFD[int(ev.Fd)]
	p.mu.Unlock()
	if e != nil && ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		e.hup.Store(true)
	}
	return e
}

// claim makes the caller e's service, unless one is running: then that one
// reads again before it ends.
func (e *pollEntry) claim() bool {
	for {
		switch e.state.Load() {
		case entryIdle:
			if e.state.CompareAndSwap(entryIdle, entryServing) {
				return true
			}
		case entryServing:
			if e.state.CompareAndSwap(entryServing, entryAgain) {
				return false
			}
		default:
			return false
		}
	}
}

// dispatch starts a service for e on its own goroutine, unless one is
// running.
func (p *Poller) dispatch(e *pollEntry) {
	if e.claim() {
		go e.run()
	}
}

// service reads the messages that have arrived for one connection. It
// returns as soon as the socket is empty, even in the middle of a frame:
// the Conn keeps what has arrived of a message, and the next service goes
// on with it. Once reading has ended, the socket leaves the epoll set (it
// may linger open for the closing handshake).
func (p *Poller) service(e *pollEntry) {
	for {
		e.c.pollEvent(e.hup.Load())
		if serve(e.c, e.h, true, &e.class) {
			e.c.raw.rc.Control(func(fd uintptr) {
				syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
			})
			return
		}
		if e.state.CompareAndSwap(entryServing, entryIdle) {
			return
		}
		// Input was announced while serving: read again.
		e.state.Store(entryServing)
	}
}
