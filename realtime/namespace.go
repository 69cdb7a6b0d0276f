package realtime

import (
	"slices"
	"sync"
)

// Namespace is a Socket.IO namespace: a channel of its own over each
// client's connection, with its own middleware, sockets and rooms. Get one
// with [Server.Of].
type Namespace struct {
	srv  *Server
	name string

	mu sync.RWMutex
	// guarded by mu, as is Socket.rooms
	sockets map[string]*Socket
	rooms   map[string]map[*Socket]struct{}
	use     []func(*Socket) error
	onConn  []func(*Socket)
}

func newNamespace(srv *Server, name string) *Namespace {
	return &Namespace{srv: srv, name: name, sockets: map[string]*Socket{}, rooms: map[string]map[*Socket]struct{}{}}
}

// Name returns the namespace's name, such as "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Use adds a middleware, run in order for every client that asks to join
// the namespace, before its connection handlers. A middleware that returns
// an error refuses the client: it gets a CONNECT_ERROR with the error's
// message, or with the Message and Data of a [*ConnectError]. The auth
// payload the client sent is [Socket.Auth].
func (n *Namespace) Use(fn func(s *Socket) error) {
	n.mu.Lock()
	n.use = append(n.use, fn)
	n.mu.Unlock()
}

// OnConnection adds a handler run for every socket that joins the
// namespace, on the session's handler goroutine. Register the socket's
// event handlers there.
func (n *Namespace) OnConnection(fn func(s *Socket)) {
	n.mu.Lock()
	n.onConn = append(n.onConn, fn)
	n.mu.Unlock()
}

func (n *Namespace) middlewares() []func(*Socket) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Clip(n.use)
}

func (n *Namespace) connectionHandlers() []func(*Socket) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Clip(n.onConn)
}

// add registers a connected socket and puts it in the room named after its
// id.
func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.joinLocked(s, s.id)
	n.mu.Unlock()
}

// remove takes a socket out of the namespace and all its rooms.
func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	delete(n.sockets, s.id)
	for room := range s.rooms {
		n.leaveLocked(s, room)
	}
	n.mu.Unlock()
}

func (n *Namespace) joinLocked(s *Socket, room string) {
	m := n.rooms[room]
	if m == nil {
		m = map[*Socket]struct{}{}
		n.rooms[room] = m
	}
	m[s] = struct{}{}
	s.rooms[room] = struct{}{}
}

func (n *Namespace) leaveLocked(s *Socket, room string) {
	delete(s.rooms, room)
	if m := n.rooms[room]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(n.rooms, room)
		}
	}
}

// SocketCount returns the number of sockets connected to the namespace.
func (n *Namespace) SocketCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

// RoomSize returns the number of sockets in a room.
func (n *Namespace) RoomSize(room string) int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.rooms[room])
}

// Emit sends an event to every socket in the namespace. See
// [Broadcast.Emit].
func (n *Namespace) Emit(event string, args ...any) error {
	return Broadcast{ns: n}.Emit(event, args...)
}

// To returns a broadcast to the sockets in any of the rooms.
func (n *Namespace) To(rooms ...string) Broadcast {
	return Broadcast{ns: n}.To(rooms...)
}

// Except returns a broadcast to every socket in the namespace but those in
// any of the rooms.
func (n *Namespace) Except(rooms ...string) Broadcast {
	return Broadcast{ns: n}.Except(rooms...)
}

// Broadcast selects sockets of a namespace to send an event to: those in
// any of its rooms (every socket when there are none), minus those in any
// of its excepted rooms. Its methods return new values, so a Broadcast can
// be kept and reused.
type Broadcast struct {
	ns     *Namespace
	rooms  []string
	except []string
}

// To returns b with more rooms to send to.
func (b Broadcast) To(rooms ...string) Broadcast {
	b.rooms = append(slices.Clip(b.rooms), rooms...)
	return b
}

// Except returns b with more rooms to leave out.
func (b Broadcast) Except(rooms ...string) Broadcast {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Emit sends an event to the selected sockets. It encodes the packet once
// and queues the same bytes for every recipient; over WebSocket each
// recipient gets them as one message (plus one per attachment). A recipient
// whose queue is full is closed (see [ErrBufferFull]); the others still get
// the event. Emit returns an error only when the arguments cannot be
// encoded.
func (b Broadcast) Emit(event string, args ...any) error {
	msgs, err := encodeEvent(b.ns.name, event, args, 0, false)
	if err != nil {
		return err
	}
	for _, s := range b.targets() {
		s.ss.send(msgs...)
	}
	return nil
}

func (b Broadcast) targets() []*Socket {
	n := b.ns
	n.mu.RLock()
	defer n.mu.RUnlock()
	excluded := func(s *Socket) bool {
		for _, r := range b.except {
			if _, in := s.rooms[r]; in {
				return true
			}
		}
		return false
	}
	var out []*Socket
	if len(b.rooms) == 0 {
		out = make([]*Socket, 0, len(n.sockets))
		for _, s := range n.sockets {
			if !excluded(s) {
				out = append(out, s)
			}
		}
		return out
	}
	var seen map[*Socket]struct{}
	if len(b.rooms) > 1 {
		seen = map[*Socket]struct{}{}
	}
	for _, r := range b.rooms {
		for s := range n.rooms[r] {
			if seen != nil {
				if _, dup := seen[s]; dup {
					continue
				}
				seen[s] = struct{}{}
			}
			if !excluded(s) {
				out = append(out, s)
			}
		}
	}
	return out
}
