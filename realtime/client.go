package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/realtime/engine"
	"github.com/wirelevel/ws/realtime/socketio"
)

// client is the Socket.IO connection over one Engine.IO session (Node's
// Client): it decodes packets, routes them to the session's sockets, and
// runs their handlers on one goroutine.
type client struct {
	srv     *Server
	sess    *engine.Session
	ctx     context.Context // the session's: canceled when it closes
	created time.Time

	inWake chan struct{} // capacity 1: the handler goroutine took a packet
	work   chan struct{} // capacity 1: a packet was queued, for an idle handler goroutine

	dec socketio.Decoder // used by the session's reading goroutine only

	tap atomic.Pointer[func([]engine.Encoded)] // tests: sees every write

	mu sync.Mutex
	// guarded by mu
	sockets      map[string]*Socket // by namespace
	queue        []inPacket         // for the handler goroutine, oldest first
	inBytes      int                // bytes of the packets in queue
	running      bool               // a handler goroutine is running
	closing      bool               // the session closed: the handler goroutine ends the sockets
	connectTimer *time.Timer
	reason       DisconnectReason // set by whoever closes first
	err          error
}

// inPacket is a packet waiting for the handler goroutine, with its size.
type inPacket struct {
	p    *socketio.Packet
	size int
}

func newClient(srv *Server, sess *engine.Session) {
	c := &client{
		srv: srv, sess: sess, ctx: sess.Context(), created: time.Now(),
		inWake:  make(chan struct{}, 1),
		work:    make(chan struct{}, 1),
		sockets: map[string]*Socket{},
	}
	c.dec.MaxAttachments = srv.opts.MaxAttachments
	if srv.isClosed() {
		sess.Close()
		return
	}
	sess.SetUserData(c)
	sess.OnMessage(c.onMessage)
	sess.OnClose(c.onSessionClose)
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		joined := len(c.sockets) > 0
		c.mu.Unlock()
		if !joined {
			c.closeWith(ReasonForcedServerClose, ErrConnectTimeout)
		}
	})
	c.mu.Unlock()
}

// onSessionClose records the Engine.IO reason, unless the Socket.IO layer
// closed the session for a reason of its own.
func (c *client) onSessionClose(reason engine.Reason, err error) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason, c.err = DisconnectReason(reason), err
	}
	if c.connectTimer != nil {
		c.connectTimer.Stop()
	}
	c.closing = true
	c.startLocked()
	c.mu.Unlock()
	select { // a route waiting for room gives up
	case c.inWake <- struct{}{}:
	default:
	}
}

// handlerLinger is how long the handler goroutine waits for more packets
// before it ends.
const handlerLinger = 250 * time.Millisecond

// startLocked starts the handler goroutine unless it runs, and wakes it if
// it waits. It runs only while packets come (it ends handlerLinger after the
// last one): an idle session has none, which saves its stack.
func (c *client) startLocked() {
	if !c.running {
		c.running = true
		c.srv.wg.Add(1)
		go c.dispatch()
		return
	}
	select {
	case c.work <- struct{}{}:
	default:
	}
}

// closeWith closes the connection for a reason of the Socket.IO layer,
// after the packets already queued. For a shutdown the engine server closes
// the session itself.
func (c *client) closeWith(reason DisconnectReason, err error) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason, c.err = reason, err
	}
	c.mu.Unlock()
	if reason != ReasonServerShutdown {
		c.sess.Close()
	}
}

// write queues packets on the session; a session whose queue is full is
// closed, which is reported to its sockets, so callers may ignore the
// error.
func (c *client) write(opts engine.WriteOptions, msgs []engine.Encoded) error {
	if tap := c.tap.Load(); tap != nil {
		(*tap)(msgs)
	}
	err := c.sess.Write(opts, msgs...)
	if errors.Is(err, engine.ErrClosed) {
		return ErrClosed
	}
	return err
}

// onMessage decodes an Engine.IO message, on the session's reading
// goroutine.
func (c *client) onMessage(m engine.Message) {
	var p *socketio.Packet
	var err error
	if m.Binary {
		p, err = c.dec.Binary(m.Data)
	} else {
		p, err = c.dec.Text(m.Data)
	}
	if err != nil {
		// Node: the sockets' error listeners get it and the session is
		// closed ("forced close").
		for _, s := range c.allSockets() {
			s.emitError(err)
		}
		c.mu.Lock()
		if c.reason == "" {
			c.reason, c.err = ReasonForcedClose, err
		}
		c.mu.Unlock()
		c.sess.Close()
		return
	}
	if p != nil {
		c.route(p)
	}
}

// route passes a packet on: acknowledgements for a connected socket
// straight to it, everything else, in order, to the handler goroutine. The
// packets waiting for it are bounded in number (EventQueue) and in bytes
// (MaxBufferedBytes, or one packet if larger): route blocks until there is
// room, which stops reading from the client.
func (c *client) route(p *socketio.Packet) {
	if p.Type.IsAck() {
		if s := c.socket(p.NamespaceOf()); s != nil {
			if p.HasID {
				s.resolveAck(p)
			}
			return
		}
	}
	size := len(p.Data) + 64
	for _, a := range p.Attachments {
		size += len(a)
	}
	o := &c.srv.opts
	for {
		c.mu.Lock()
		if c.closing {
			if p.Type == socketio.Disconnect { // still run: see dispatch
				c.queue = append(c.queue, inPacket{p, size})
			}
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 || len(c.queue) < o.EventQueue && c.inBytes+size <= o.MaxBufferedBytes {
			c.queue = append(c.queue, inPacket{p, size})
			c.inBytes += size
			c.startLocked()
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		select {
		case <-c.inWake:
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *client) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets[nsp]
}

func (c *client) allSockets() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		out = append(out, s)
	}
	return out
}

// dispatch is the session's handler goroutine: it handles the queued
// packets in order, then ends. Once the session has closed it handles only
// DISCONNECT packets (a client that leaves a namespace and then closes the
// transport gets "client namespace disconnect", as the packets came in
// that order), then disconnects the remaining sockets with the session's
// reason.
func (c *client) dispatch() {
	defer c.srv.wg.Done()
	var idle *time.Timer
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			closing := c.closing
			c.mu.Unlock()
			if closing {
				c.finish()
				return
			}
			if idle == nil {
				idle = time.NewTimer(handlerLinger)
			} else {
				idle.Reset(handlerLinger)
			}
			select {
			case <-c.work:
				continue
			case <-idle.C:
			}
			c.mu.Lock()
			if len(c.queue) > 0 || c.closing {
				c.mu.Unlock()
				continue
			}
			c.running = false
			c.queue = nil // an idle session keeps no buffer
			c.mu.Unlock()
			return
		}
		in := c.queue[0]
		c.queue[0] = inPacket{}
		c.queue = c.queue[1:]
		c.inBytes -= in.size
		closing := c.closing
		c.mu.Unlock()
		select {
		case c.inWake <- struct{}{}:
		default:
		}
		if !closing || in.p.Type == socketio.Disconnect {
			c.handle(in.p)
		}
	}
}

// finish disconnects the sockets of a closed session, once.
func (c *client) finish() {
	c.mu.Lock()
	reason, err := c.reason, c.err
	if reason == "" {
		reason = ReasonTransportClose
	}
	c.mu.Unlock()
	for _, s := range c.allSockets() {
		s.onClose(reason)
	}
	if f := c.srv.opts.OnSessionClose; f != nil {
		f(c.sess.ID(), reason, err)
	}
}

// handle runs on the handler goroutine. A packet the connection's state
// does not allow closes it, as in Node.
func (c *client) handle(p *socketio.Packet) {
	nsp := p.NamespaceOf()
	s := c.socket(nsp)
	switch {
	case s == nil && p.Type == socketio.Connect:
		c.connect(nsp, p.Data)
	case s != nil && p.Type.IsEvent():
		if err := s.onEvent(p); err != nil {
			s.emitError(err)
			c.closeWith(ReasonForcedClose, err)
		}
	case s != nil && p.Type.IsAck():
		if p.HasID {
			s.resolveAck(p)
		}
	case s != nil && p.Type == socketio.Disconnect:
		s.onClose(ReasonClientNamespace)
	default:
		c.closeWith(ReasonForcedServerClose, ErrInvalidState)
	}
}

// connect joins the client to a namespace.
func (c *client) connect(nsp string, auth json.RawMessage) {
	if len(auth) == 0 {
		auth = json.RawMessage("{}")
	}
	ns := c.srv.namespace(nsp, auth)
	if ns == nil {
		c.write(engineWrite, encodeConnectError(nsp, &ConnectError{Message: "Invalid namespace"}))
		return
	}
	ns.add(c, auth)
}

// connected records a socket whose connection completed; false if the
// session closed meanwhile.
func (c *client) connected(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return false
	}
	c.sockets[s.ns.name] = s
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	return true
}

func (c *client) remove(s *Socket) {
	c.mu.Lock()
	if c.sockets[s.ns.name] == s {
		delete(c.sockets, s.ns.name)
	}
	c.mu.Unlock()
}

// disconnectAll disconnects every socket with a DISCONNECT packet, then
// closes the connection, as Node's socket.disconnect(true).
func (c *client) disconnectAll() {
	for _, s := range c.allSockets() {
		s.Disconnect(false)
	}
	c.closeWith(ReasonForcedServerClose, nil)
}
