package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/realtime/socketio"
)

// Namespace is a Socket.IO namespace: a channel of its own over each
// client's connection, with its own middleware, sockets, rooms and
// adapter. Get one with [Server.Of].
type Namespace struct {
	srv     *Server
	name    string
	parent  *ParentNamespace // nil unless made by a parent namespace
	adapter Adapter
	ackIDs  atomic.Uint64 // acknowledgement ids, shared by every socket and broadcast

	mu sync.RWMutex
	// guarded by mu
	sockets map[string]*Socket // connected sockets by id
	use     []func(*Socket) error
	onConn  []func(*Socket)
	onSSE   map[string][]func(*ServerSideEvent)
}

func newNamespace(srv *Server, name string, parent *ParentNamespace) *Namespace {
	ns := &Namespace{srv: srv, name: name, parent: parent, sockets: map[string]*Socket{}, onSSE: map[string][]func(*ServerSideEvent){}}
	if srv.opts.NewAdapter != nil {
		ns.adapter = srv.opts.NewAdapter(ns)
	} else {
		ns.adapter = NewMemoryAdapter(ns)
	}
	return ns
}

// Name returns the namespace's name, such as "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Server returns the namespace's server.
func (n *Namespace) Server() *Server { return n.srv }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// nextAckID returns a fresh acknowledgement id. Ids are per namespace, as
// in Node, so that a socket's own acknowledgements and broadcast ones never
// share an id.
func (n *Namespace) nextAckID() uint64 { return n.ackIDs.Add(1) - 1 }

// Use adds a middleware, run in order for every client that asks to join
// the namespace, before its connection handlers (after those of the parent
// namespace, for a child). A middleware that returns an error refuses the
// client: it gets a CONNECT_ERROR with the error's message, or with the
// Message and Data of a [*ConnectError]. The auth payload the client sent
// is [Socket.Auth]. Middleware runs on the session's handler goroutine.
func (n *Namespace) Use(fn func(s *Socket) error) {
	n.mu.Lock()
	n.use = append(slices.Clip(n.use), fn)
	n.mu.Unlock()
}

// OnConnection adds a handler run for every socket that joins the
// namespace, on the session's handler goroutine. Register the socket's
// event handlers there.
func (n *Namespace) OnConnection(fn func(s *Socket)) {
	n.mu.Lock()
	n.onConn = append(slices.Clip(n.onConn), fn)
	n.mu.Unlock()
}

func (n *Namespace) middlewares() []func(*Socket) error {
	var out []func(*Socket) error
	if n.parent != nil {
		out = n.parent.middlewares()
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return append(out, n.use...)
}

func (n *Namespace) connectionHandlers() []func(*Socket) {
	var out []func(*Socket)
	if n.parent != nil {
		out = n.parent.connectionHandlers()
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return append(out, n.onConn...)
}

// add creates the socket of a client that asks to join: its state restored
// when connection state recovery finds it, the middleware run (unless
// skipped for a recovered socket), then connected.
func (n *Namespace) add(c *client, auth json.RawMessage) {
	var prev *PersistedSession
	if rec := n.srv.opts.ConnectionStateRecovery; rec != nil {
		var ids struct {
			PID    any `json:"pid"`
			Offset any `json:"offset"`
		}
		if json.Unmarshal(auth, &ids) == nil {
			pid, ok1 := ids.PID.(string)
			offset, ok2 := ids.Offset.(string)
			if ok1 && ok2 {
				prev, _ = n.adapter.RestoreSession(pid, offset)
			}
		}
	}
	s := newSocket(n, c, auth, prev)
	if prev != nil {
		s.Join(prev.Rooms...)
	}
	if prev == nil || n.srv.opts.ConnectionStateRecovery.RunMiddlewares {
		for _, mw := range n.middlewares() {
			if err := mw(s); err != nil {
				var ce *ConnectError
				if !errors.As(err, &ce) {
					ce = &ConnectError{Message: err.Error()}
				}
				n.adapter.DelAll(s.id)
				c.write(engineWrite, encodeConnectError(n.name, ce))
				return
			}
		}
	}
	if !c.connected(s) {
		n.adapter.DelAll(s.id)
		return
	}
	// The missed packets go just before the CONNECT reply, as from Node's
	// server: the client holds them until it has connected.
	if prev != nil {
		for _, p := range prev.MissedPackets {
			s.client.write(engineWrite, encodePacket(p))
		}
	}
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
	s.onConnect()
	for _, fn := range n.connectionHandlers() {
		fn(s)
	}
}

// remove takes a socket out of the namespace.
func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	empty := len(n.sockets) == 0
	n.mu.Unlock()
	if empty && n.parent != nil && n.srv.opts.CleanupEmptyChildNamespaces {
		n.parent.removeChild(n)
	}
}

// Sockets returns this server's connected sockets of the namespace.
func (n *Namespace) Sockets() []*Socket { return n.localSockets() }

func (n *Namespace) localSockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns this server's connected socket with the id given, or
// nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// SocketCount returns the number of this server's sockets connected to the
// namespace.
func (n *Namespace) SocketCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

// RoomSize returns the number of this server's sockets in a room.
func (n *Namespace) RoomSize(room string) int {
	if m, ok := n.adapter.(interface{ RoomSize(string) int }); ok {
		return m.RoomSize(room)
	}
	count := 0
	for _, s := range n.localSockets() { // without n.mu: the adapter has its own lock
		if slices.Contains(n.adapter.SocketRooms(s.id), room) {
			count++
		}
	}
	return count
}

func (n *Namespace) broadcast() Broadcast { return Broadcast{ns: n} }

// Emit sends an event to every socket in the namespace. See
// [Broadcast.Emit].
func (n *Namespace) Emit(event string, args ...any) error { return n.broadcast().Emit(event, args...) }

// To returns a broadcast to the sockets in any of the rooms.
func (n *Namespace) To(rooms ...string) Broadcast { return n.broadcast().To(rooms...) }

// In is To.
func (n *Namespace) In(rooms ...string) Broadcast { return n.To(rooms...) }

// Except returns a broadcast to every socket in the namespace but those in
// any of the rooms.
func (n *Namespace) Except(rooms ...string) Broadcast { return n.broadcast().Except(rooms...) }

// Volatile returns a volatile broadcast; see [Broadcast.Volatile].
func (n *Namespace) Volatile() Broadcast { return n.broadcast().Volatile() }

// Compress returns a broadcast with compression on or off.
func (n *Namespace) Compress(on bool) Broadcast { return n.broadcast().Compress(on) }

// Local returns a broadcast to this server's sockets only.
func (n *Namespace) Local() Broadcast { return n.broadcast().Local() }

// Timeout returns a broadcast whose acknowledgements are awaited for at
// most d.
func (n *Namespace) Timeout(d time.Duration) Broadcast { return n.broadcast().Timeout(d) }

// FetchSockets describes every socket of the namespace, cluster-wide.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.broadcast().FetchSockets(ctx)
}

// AllSockets returns the ids of every socket of the namespace,
// cluster-wide.
func (n *Namespace) AllSockets(ctx context.Context) ([]string, error) {
	return n.broadcast().AllSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) { n.broadcast().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) { n.broadcast().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace; with close,
// their whole connections.
func (n *Namespace) DisconnectSockets(close bool) { n.broadcast().DisconnectSockets(close) }

// ServerSideEvent is an event another server of the cluster sent with
// [Namespace.ServerSideEmit].
type ServerSideEvent struct {
	Name string
	Args socketio.Args

	ack   func(json.RawMessage)
	acked atomic.Bool
}

// WantsAck reports whether the sender waits for an acknowledgement.
func (e *ServerSideEvent) WantsAck() bool { return e.ack != nil }

// Ack answers the sender, at most once. Arguments must encode as JSON
// without binary attachments.
func (e *ServerSideEvent) Ack(args ...any) error {
	if e.ack == nil {
		return errNoAck
	}
	if e.acked.Swap(true) {
		return errAckedTwice
	}
	data, atts, err := socketio.AppendArgs(nil, nil, args...)
	if err != nil {
		return err
	}
	if len(atts) > 0 {
		return errBinaryServerSide
	}
	e.ack(data)
	return nil
}

var errBinaryServerSide = errors.New("realtime: server-side events cannot carry binary data")

// OnServerSideEmit adds a listener for an event that other servers of the
// cluster send with ServerSideEmit.
func (n *Namespace) OnServerSideEmit(event string, fn func(e *ServerSideEvent)) {
	n.mu.Lock()
	n.onSSE[event] = append(slices.Clip(n.onSSE[event]), fn)
	n.mu.Unlock()
}

// ServerSideEmit sends an event to the other servers of the cluster (not
// to clients): their [Namespace.OnServerSideEmit] listeners receive it. On
// one server it reaches no one. Arguments must encode as JSON without
// binary attachments.
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	data, err := encodeServerSide(event, args)
	if err != nil {
		return err
	}
	_, err = n.adapter.ServerSideEmit(context.Background(), data, false)
	return err
}

// ServerSideEmitWithAck sends an event to the other servers and waits until
// ctx is done for each one's acknowledgement, returning them (in no
// particular order); with servers missing when ctx ends, it returns the
// ones that came and the context's error. On one server it returns no
// acknowledgement at once.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]socketio.Args, error) {
	data, err := encodeServerSide(event, args)
	if err != nil {
		return nil, err
	}
	raw, err := n.adapter.ServerSideEmit(ctx, data, true)
	out := make([]socketio.Args, 0, len(raw))
	for _, r := range raw {
		a, perr := socketio.ParseArgs(&socketio.Packet{Type: socketio.Ack, Data: r})
		if perr == nil {
			out = append(out, a)
		}
	}
	return out, err
}

func encodeServerSide(event string, args []any) (json.RawMessage, error) {
	data, atts, err := socketio.AppendEvent(nil, nil, event, args...)
	if err != nil {
		return nil, err
	}
	if len(atts) > 0 {
		return nil, errBinaryServerSide
	}
	return data, nil
}

// DeliverServerSideEmit runs the listeners of a server-side event that
// arrived from another server: data is the JSON array [event, args...];
// ack, if not nil, sends the acknowledgement (a JSON array of its
// arguments) back. Cluster adapters call it.
func (n *Namespace) DeliverServerSideEmit(data json.RawMessage, ack func(json.RawMessage)) error {
	name, args, err := socketio.ParseEvent(&socketio.Packet{Type: socketio.Event, Data: data})
	if err != nil {
		return fmt.Errorf("realtime: server-side event: %w", err)
	}
	n.mu.RLock()
	listeners := n.onSSE[name]
	n.mu.RUnlock()
	e := &ServerSideEvent{Name: name, Args: args, ack: ack}
	for _, fn := range listeners {
		fn(e)
	}
	return nil
}
