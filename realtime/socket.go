package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/wirelevel/ws/realtime/socketio"
)

// Socket is one client's connection to one namespace.
type Socket struct {
	id     string
	ns     *Namespace
	ss     *session
	auth   json.RawMessage
	ctx    context.Context
	cancel context.CancelFunc

	rooms map[string]struct{} // guarded by ns.mu

	mu sync.Mutex
	// guarded by mu
	handlers     map[string]func(*Event)
	onDisconnect []func(reason string)
	acks         map[uint64]chan socketio.Args
	nextAck      uint64
	ended        bool
}

func newSocket(ns *Namespace, ss *session, auth []byte) *Socket {
	s := &Socket{
		id: newID(), ns: ns, ss: ss, auth: json.RawMessage(auth),
		rooms:    map[string]struct{}{},
		handlers: map[string]func(*Event){},
		acks:     map[uint64]chan socketio.Args{},
	}
	s.ctx, s.cancel = context.WithCancel(ss.ctx)
	return s
}

// ID returns the socket's id, which is also the name of a room holding only
// this socket. It differs from the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// SessionID returns the id of the Engine.IO session the socket runs on.
func (s *Socket) SessionID() string { return s.ss.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Auth returns the auth payload of the client's CONNECT packet (a JSON
// object), or nil if it sent none.
func (s *Socket) Auth() json.RawMessage { return s.auth }

// Handshake returns the request that opened the socket's session.
func (s *Socket) Handshake() *Handshake { return s.ss.info }

// Transport returns the session's current transport: "polling" or
// "websocket".
func (s *Socket) Transport() string { return s.ss.transportName() }

// Context returns a context canceled when the socket disconnects.
func (s *Socket) Context() context.Context { return s.ctx }

// On sets the handler for an event, replacing any earlier one. Events with
// no handler are dropped (their acknowledgement is never sent).
func (s *Socket) On(event string, fn func(e *Event)) {
	s.mu.Lock()
	s.handlers[event] = fn
	s.mu.Unlock()
}

// OnDisconnect adds a handler run once when the socket disconnects, on the
// session's handler goroutine (or the caller's, for [Socket.Disconnect]), with
// the reason: "client namespace disconnect", "server namespace disconnect",
// "transport close", "transport error", "ping timeout", "parse error",
// "forced close" or "server shutting down".
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

func (s *Socket) fire(e *Event) {
	s.mu.Lock()
	fn := s.handlers[e.Name]
	s.mu.Unlock()
	if fn != nil {
		fn(e)
	}
}

// Emit sends an event to this socket's client. []byte arguments become
// binary attachments (see package socketio); they are copied.
func (s *Socket) Emit(event string, args ...any) error {
	if s.isEnded() {
		return ErrClosed
	}
	msgs, err := encodeEvent(s.ns.name, event, args, 0, false)
	if err != nil {
		return err
	}
	return s.ss.send(msgs...)
}

// EmitWithAck sends an event that asks the client for an acknowledgement
// and waits for it until ctx is done, returning ctx.Err() then; use
// context.WithTimeout for an acknowledgement timeout. If the socket
// disconnects first it returns [ErrClosed].
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Args, error) {
	ch := make(chan socketio.Args, 1)
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return socketio.Args{}, ErrClosed
	}
	id := s.nextAck
	s.nextAck++
	s.acks[id] = ch
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}
	msgs, err := encodeEvent(s.ns.name, event, args, id, true)
	if err == nil {
		err = s.ss.send(msgs...)
	}
	if err != nil {
		forget()
		return socketio.Args{}, err
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return socketio.Args{}, ErrClosed
		}
		return a, nil
	case <-ctx.Done():
		forget()
		return socketio.Args{}, ctx.Err()
	}
}

// resolveAck hands an acknowledgement to the EmitWithAck waiting for it.
// Unknown ids (late or forged) are dropped.
func (s *Socket) resolveAck(p *socketio.Packet) {
	args, err := socketio.ParseArgs(p)
	if err != nil {
		return
	}
	s.mu.Lock()
	if ch := s.acks[p.ID]; ch != nil {
		delete(s.acks, p.ID)
		ch <- args // capacity 1, one sender
	}
	s.mu.Unlock()
}

// Join puts the socket in rooms.
func (s *Socket) Join(rooms ...string) {
	if s.isEnded() {
		return
	}
	s.ns.mu.Lock()
	for _, r := range rooms {
		s.ns.joinLocked(s, r)
	}
	s.ns.mu.Unlock()
}

// Leave takes the socket out of rooms.
func (s *Socket) Leave(rooms ...string) {
	s.ns.mu.Lock()
	for _, r := range rooms {
		s.ns.leaveLocked(s, r)
	}
	s.ns.mu.Unlock()
}

// Rooms returns the rooms the socket is in, its own included, sorted.
func (s *Socket) Rooms() []string {
	s.ns.mu.RLock()
	out := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		out = append(out, r)
	}
	s.ns.mu.RUnlock()
	slices.Sort(out)
	return out
}

// To returns a broadcast to the sockets in any of the rooms, except this
// socket.
func (s *Socket) To(rooms ...string) Broadcast {
	return Broadcast{ns: s.ns, except: []string{s.id}}.To(rooms...)
}

// Broadcast returns a broadcast to every socket in the namespace except
// this one.
func (s *Socket) Broadcast() Broadcast {
	return Broadcast{ns: s.ns, except: []string{s.id}}
}

// Disconnect ends the socket: the client gets a DISCONNECT packet (so it
// does not reconnect) and the disconnect handlers run with "server
// namespace disconnect". With closeSession, the whole Engine.IO session is
// closed too, ending the client's other namespaces.
func (s *Socket) Disconnect(closeSession bool) {
	if s.isEnded() {
		return
	}
	s.ss.send(encodePacket(&socketio.Packet{Type: socketio.Disconnect, Namespace: s.ns.name})...)
	s.end(reasonServerNamespace)
	if closeSession {
		s.ss.close(reasonForcedClose, nil, true)
	}
}

func (s *Socket) isEnded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// end disconnects the socket once: out of its namespace, rooms and
// session, pending acknowledgements failed, disconnect handlers run.
func (s *Socket) end(reason string) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	for id, ch := range s.acks {
		close(ch)
		delete(s.acks, id)
	}
	handlers := s.onDisconnect
	s.onDisconnect = nil
	s.mu.Unlock()
	s.ns.remove(s)
	s.ss.removeSocket(s)
	s.cancel()
	for _, fn := range handlers {
		fn(reason)
	}
}

// Event is an event received from a client.
type Event struct {
	Name string
	Args socketio.Args

	s        *Socket
	id       uint64
	wantsAck bool
	acked    atomic.Bool
}

// Socket returns the socket the event arrived on.
func (e *Event) Socket() *Socket { return e.s }

// WantsAck reports whether the client asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.wantsAck }

var (
	errNoAck      = errors.New("realtime: the event wants no acknowledgement")
	errAckedTwice = errors.New("realtime: the event is already acknowledged")
)

// Ack sends the acknowledgement the client asked for, with args ([]byte
// arguments become attachments). It may be called from any goroutine, at
// most once.
func (e *Event) Ack(args ...any) error {
	if !e.wantsAck {
		return errNoAck
	}
	if e.acked.Swap(true) {
		return errAckedTwice
	}
	data, atts, err := socketio.AppendArgs(nil, nil, args...)
	if err != nil {
		return err
	}
	p := &socketio.Packet{Type: socketio.Ack, Namespace: e.s.ns.name, HasID: true, ID: e.id, Data: data, Attachments: copyAll(atts)}
	if len(atts) > 0 {
		p.Type = socketio.BinaryAck
	}
	return e.s.ss.send(encodePacket(p)...)
}

// ConnectError is a middleware error that refuses a client with a message
// and optional data, which the client's connect_error event receives.
type ConnectError struct {
	Message string
	Data    any
}

// Error implements error.
func (e *ConnectError) Error() string { return "realtime: connection refused: " + e.Message }
