package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engineio"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Disconnect reasons, in the reference implementation's words.
const (
	reasonTransportClose  = "transport close"
	reasonTransportError  = "transport error"
	reasonPingTimeout     = "ping timeout"
	reasonParseError      = "parse error"
	reasonServerShutdown  = "server shutting down"
	reasonForcedClose     = "forced close"
	reasonClientNamespace = "client namespace disconnect"
	reasonServerNamespace = "server namespace disconnect"
)

// Handshake describes the HTTP request that opened a session.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	Host       string
	RemoteAddr string
	Time       time.Time
}

type transportKind int

const (
	polling transportKind = iota
	websocket
)

func (t transportKind) String() string {
	if t == websocket {
		return "websocket"
	}
	return "polling"
}

// wireMsg is one Engine.IO packet ready to go out: for text, its text form
// (type digit included); for binary, the raw bytes. A broadcast shares one
// wireMsg among every recipient, so it is never modified.
type wireMsg struct {
	binary bool
	data   []byte
}

// msgOverhead is what a queued message costs besides its data, counted
// against MaxBufferedBytes so that many tiny messages are bounded too.
const msgOverhead = 64

var (
	pingMsg  = wireMsg{data: []byte{'0' + byte(engineio.Ping)}}
	closeMsg = []byte{'0' + byte(engineio.Close)}
	noopMsg  = []byte{'0' + byte(engineio.Noop)}

	errOverlap       = errors.New("realtime: overlapping polling requests")
	errSessionEnded  = errors.New("realtime: session ended by the client")
	errUnexpectedPkt = errors.New("realtime: unexpected packet")
)

// session is one Engine.IO session and the Socket.IO connection on it.
type session struct {
	srv    *Server
	id     string
	info   *Handshake
	ctx    context.Context // canceled when the session closes
	cancel context.CancelFunc

	events   chan inPacket // to the handler goroutine
	inWake   chan struct{} // capacity 1: the handler goroutine took a packet
	pollWake chan struct{} // capacity 1: state changed, for a waiting GET
	wsWake   chan struct{} // capacity 1: state changed, for the writer
	dropping atomic.Bool   // closed without flushing: stop writing

	// inMu serializes incoming packets, which may come from a POST and the
	// WebSocket being upgraded to.
	inMu sync.Mutex
	dec  socketio.Decoder // guarded by inMu

	mu sync.Mutex
	// guarded by mu
	transport    transportKind
	upgrading    bool // a WebSocket is being probed
	probed       bool // ... and answered the probe
	pollActive   bool // a GET is being served
	postActive   bool // a POST is being served
	queue        []wireMsg
	queued       int // bytes in queue, with msgOverhead each
	inBytes      int // bytes of the packets in events
	closed       bool
	reason       string
	err          error
	sockets      map[string]*Socket // by namespace
	pingTimer    *time.Timer
	pongTimer    *time.Timer // running while a pong is due
	connectTimer *time.Timer
	lingerTimer  *time.Timer
}

func newSession(srv *Server, id string, r *http.Request, ws *conn.Conn) *session {
	ss := &session{
		srv: srv,
		id:  id,
		info: &Handshake{
			Header: r.Header.Clone(), Query: r.URL.Query(), Host: r.Host,
			RemoteAddr: r.RemoteAddr, Time: time.Now(),
		},
		events:   make(chan inPacket, srv.opts.EventQueue),
		inWake:   make(chan struct{}, 1),
		pollWake: make(chan struct{}, 1),
		wsWake:   make(chan struct{}, 1),
		sockets:  map[string]*Socket{},
	}
	ss.dec.MaxAttachments = srv.opts.MaxAttachments
	ss.ctx, ss.cancel = context.WithCancel(context.Background())
	if ws != nil {
		ss.transport = websocket
	}
	return ss
}

// start starts the session's goroutines and timers. The server's mu is
// held, so the goroutines are counted before Close can wait for them. For a
// WebSocket session the caller is the reader and counts as a goroutine.
func (ss *session) start(ws *conn.Conn) {
	o := &ss.srv.opts
	if ws != nil {
		ss.queue = append(ss.queue, wireMsg{data: engineio.AppendOpen(nil, ss.handshake())})
		ss.srv.wg.Add(2)
		go ss.writeLoop(ws)
	}
	ss.srv.wg.Add(1)
	go ss.dispatch()
	ss.mu.Lock()
	ss.pingTimer = time.AfterFunc(o.PingInterval, ss.ping)
	ss.connectTimer = time.AfterFunc(o.ConnectTimeout, func() {
		ss.close(reasonForcedClose, ErrConnectTimeout, false)
	})
	ss.mu.Unlock()
}

func (ss *session) handshake() engineio.Handshake {
	o := &ss.srv.opts
	h := engineio.Handshake{
		SID:          ss.id,
		Upgrades:     []string{},
		PingInterval: engineio.Millis(o.PingInterval),
		PingTimeout:  engineio.Millis(o.PingTimeout),
		MaxPayload:   o.MaxPayload,
	}
	if ss.transport == polling && !o.DisableWebSocket {
		h.Upgrades = []string{"websocket"}
	}
	return h
}

// wake tells a waiting GET and the writer that the state changed.
func (ss *session) wake() {
	select {
	case ss.pollWake <- struct{}{}:
	default:
	}
	select {
	case ss.wsWake <- struct{}{}:
	default:
	}
}

// send queues messages for the transport. A session whose queue would pass
// MaxBufferedBytes is closed.
func (ss *session) send(msgs ...wireMsg) error {
	n := 0
	for _, m := range msgs {
		n += len(m.data) + msgOverhead
	}
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return ErrClosed
	}
	if ss.queued+n > ss.srv.opts.MaxBufferedBytes {
		ss.mu.Unlock()
		ss.close(reasonTransportError, ErrBufferFull, false)
		return ErrBufferFull
	}
	ss.queue = append(ss.queue, msgs...)
	ss.queued += n
	ss.mu.Unlock()
	ss.wake()
	return nil
}

// close ends the session once. With flush, messages already queued still go
// out (over polling, to the next GET within PingTimeout); without, they are
// dropped.
func (ss *session) close(reason string, err error, flush bool) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.closed, ss.reason, ss.err = true, reason, err
	if !flush {
		clear(ss.queue)
		ss.queue, ss.queued = ss.queue[:0], 0
		ss.dropping.Store(true)
	}
	for _, t := range []*time.Timer{ss.pingTimer, ss.pongTimer, ss.connectTimer} {
		if t != nil {
			t.Stop()
		}
	}
	linger := ss.transport == polling && len(ss.queue) > 0 && !ss.pollActive
	if linger {
		ss.lingerTimer = time.AfterFunc(ss.srv.opts.PingTimeout, func() { ss.srv.remove(ss) })
	}
	ss.mu.Unlock()
	ss.cancel()
	ss.wake()
	if !linger {
		ss.srv.remove(ss)
	}
}

func (ss *session) stopLinger() {
	ss.mu.Lock()
	if ss.lingerTimer != nil {
		ss.lingerTimer.Stop()
	}
	ss.mu.Unlock()
}

// ping sends a ping and arms the pong timeout.
func (ss *session) ping() {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.pongTimer = time.AfterFunc(ss.srv.opts.PingTimeout, func() {
		ss.close(reasonPingTimeout, ErrPingTimeout, false)
	})
	ss.mu.Unlock()
	ss.send(pingMsg)
}

// pong takes a pong: the next ping goes out PingInterval from now.
func (ss *session) pong() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed || ss.pongTimer == nil {
		return
	}
	ss.pongTimer.Stop()
	ss.pongTimer = nil
	ss.pingTimer.Reset(ss.srv.opts.PingInterval)
}

// onPacket handles one incoming Engine.IO packet from either transport.
// errSessionEnded means the client closed the session.
func (ss *session) onPacket(p engineio.Packet) error {
	switch p.Type {
	case engineio.Message:
		ss.inMu.Lock()
		defer ss.inMu.Unlock()
		var sp *socketio.Packet
		var err error
		if p.Binary {
			sp, err = ss.dec.Binary(p.Data)
		} else {
			sp, err = ss.dec.Text(p.Data)
		}
		if err != nil || sp == nil {
			return err
		}
		return ss.route(sp)
	case engineio.Pong:
		ss.pong()
	case engineio.Ping:
		return ss.send(wireMsg{data: engineio.AppendPacket(nil, engineio.Packet{Type: engineio.Pong, Data: p.Data})})
	case engineio.Close:
		ss.close(reasonTransportClose, nil, false)
		return errSessionEnded
	case engineio.Noop:
	default:
		return fmt.Errorf("%w: %s from the client", errUnexpectedPkt, p.Type)
	}
	return nil
}

// inPacket is a packet waiting for the handler goroutine, with its size.
type inPacket struct {
	p    *socketio.Packet
	size int
}

// route passes a Socket.IO packet on: acknowledgements straight to the
// socket waiting for them, everything else to the handler goroutine. The
// packets waiting for it are bounded in number (EventQueue) and in bytes
// (MaxBufferedBytes, or one packet if larger): route blocks until there is
// room, which stops reading from the client.
func (ss *session) route(p *socketio.Packet) error {
	switch p.Type {
	case socketio.Ack, socketio.BinaryAck:
		if s := ss.socket(p.NamespaceOf()); s != nil && p.HasID {
			s.resolveAck(p)
		}
		return nil
	case socketio.ConnectError:
		return fmt.Errorf("%w: %s from the client", errUnexpectedPkt, p.Type)
	}
	size := len(p.Data) + msgOverhead
	for _, a := range p.Attachments {
		size += len(a)
	}
	for {
		ss.mu.Lock()
		if ss.inBytes == 0 || ss.inBytes+size <= ss.srv.opts.MaxBufferedBytes {
			ss.inBytes += size
			ss.mu.Unlock()
			break
		}
		ss.mu.Unlock()
		select {
		case <-ss.inWake:
		case <-ss.ctx.Done():
			return ErrClosed
		}
	}
	select {
	case ss.events <- inPacket{p, size}:
		return nil
	case <-ss.ctx.Done():
		return ErrClosed
	}
}

// took releases the room a packet held in the handler queue.
func (ss *session) took(in inPacket) {
	ss.mu.Lock()
	ss.inBytes -= in.size
	ss.mu.Unlock()
	select {
	case ss.inWake <- struct{}{}:
	default:
	}
}

func (ss *session) socket(nsp string) *Socket {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.sockets[nsp]
}

// dispatch is the session's handler goroutine.
func (ss *session) dispatch() {
	defer ss.srv.wg.Done()
	for {
		select {
		case in := <-ss.events:
			ss.took(in)
			if ss.ctx.Err() == nil || in.p.Type == socketio.Disconnect {
				ss.handle(in.p)
			}
		case <-ss.ctx.Done():
			// A client that leaves a namespace and then closes the
			// transport gets "client namespace disconnect", as the packets
			// came in that order; other waiting packets are dropped.
			for len(ss.events) > 0 {
				if in := <-ss.events; in.p.Type == socketio.Disconnect {
					ss.handle(in.p)
				}
			}
			ss.mu.Lock()
			reason, err := ss.reason, ss.err
			all := make([]*Socket, 0, len(ss.sockets))
			for _, s := range ss.sockets {
				all = append(all, s)
			}
			ss.mu.Unlock()
			for _, s := range all {
				s.end(reason)
			}
			if f := ss.srv.opts.OnSessionClose; f != nil {
				f(ss.id, reason, err)
			}
			return
		}
	}
}

// handle runs on the handler goroutine.
func (ss *session) handle(p *socketio.Packet) {
	nsp := p.NamespaceOf()
	switch p.Type {
	case socketio.Connect:
		ss.connect(nsp, p.Data)
	case socketio.Event, socketio.BinaryEvent:
		s := ss.socket(nsp)
		if s == nil {
			return // not connected to that namespace: ignored, as the reference server does
		}
		name, args, err := socketio.ParseEvent(p)
		if err != nil {
			ss.close(reasonParseError, err, false)
			return
		}
		s.fire(&Event{Name: name, Args: args, s: s, id: p.ID, wantsAck: p.HasID})
	case socketio.Disconnect:
		if s := ss.socket(nsp); s != nil {
			s.end(reasonClientNamespace)
		}
	}
}

// connect joins the client to a namespace, running its middleware.
func (ss *session) connect(nsp string, auth []byte) {
	if ss.socket(nsp) != nil {
		return
	}
	ns := ss.srv.namespace(nsp)
	if ns == nil {
		ss.send(encodeConnectError(nsp, &ConnectError{Message: "Invalid namespace"})...)
		return
	}
	s := newSocket(ns, ss, auth)
	for _, mw := range ns.middlewares() {
		if err := mw(s); err != nil {
			var ce *ConnectError
			if !errors.As(err, &ce) {
				ce = &ConnectError{Message: err.Error()}
			}
			ss.send(encodeConnectError(nsp, ce)...)
			return
		}
	}
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.sockets[nsp] = s
	if ss.connectTimer != nil {
		ss.connectTimer.Stop()
		ss.connectTimer = nil
	}
	ss.mu.Unlock()
	ns.add(s)
	ss.send(encodePacket(&socketio.Packet{
		Type: socketio.Connect, Namespace: nsp,
		Data: fmt.Appendf(nil, `{"sid":%q}`, s.id),
	})...)
	for _, fn := range ns.connectionHandlers() {
		fn(s)
	}
}

func (ss *session) removeSocket(s *Socket) {
	ss.mu.Lock()
	if ss.sockets[s.ns.name] == s {
		delete(ss.sockets, s.ns.name)
	}
	ss.mu.Unlock()
}

func (ss *session) transportName() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.transport.String()
}
