package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/realtime/socketio"
)

// Adapter is what a namespace's room memberships and broadcasts go
// through, as in Node's socket.io-adapter: the in-memory [MemoryAdapter]
// serves one process, and an adapter over a message broker (a module of its
// own, such as realtime/redisadapter) extends it to a cluster by embedding a
// MemoryAdapter for the local part and publishing the rest.
//
// Rooms and socket ids are strings; a socket is always in the room named
// after its id. Packets are Socket.IO event packets in wire form
// ([socketio.Packet]: JSON data with attachment placeholders); an adapter
// must not modify one it is given. Methods that reach other servers take a
// context that bounds the wait for their answers.
type Adapter interface {
	// Init is called once when the namespace is created, Close when the
	// server closes.
	Init() error
	Close() error

	// ServerCount returns the number of servers in the cluster, this one
	// included.
	ServerCount(ctx context.Context) (int, error)

	// AddAll puts the socket with the id given in rooms.
	AddAll(id string, rooms []string)
	// Del takes it out of a room, DelAll out of every room.
	Del(id, room string)
	DelAll(id string)
	// SocketRooms returns the rooms of a local socket, nil if it has none.
	SocketRooms(id string) []string
	// Rooms returns the local rooms, socket-id rooms included.
	Rooms() []string

	// Broadcast sends p to the sockets opts selects.
	Broadcast(p *socketio.Packet, opts BroadcastOptions)
	// BroadcastWithAck sends p, which carries an acknowledgement id, to
	// the sockets opts selects. It calls clientCount once per server with
	// the number of sockets that server sent p to, and ack with each
	// acknowledgement that comes back.
	BroadcastWithAck(p *socketio.Packet, opts BroadcastOptions, clientCount func(n int), ack func(socketio.Args))

	// Sockets returns the ids of the sockets in any of rooms (all when
	// rooms is empty), cluster-wide.
	Sockets(ctx context.Context, rooms []string) ([]string, error)
	// FetchSockets describes the sockets opts selects, cluster-wide.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketDetails, error)
	// AddSockets makes the sockets opts selects join rooms, DelSockets
	// leave them, DisconnectSockets disconnect (closing their whole
	// connection if close is true).
	AddSockets(opts BroadcastOptions, rooms []string)
	DelSockets(opts BroadcastOptions, rooms []string)
	DisconnectSockets(opts BroadcastOptions, close bool)

	// ServerSideEmit sends an event to the other servers of the cluster
	// (see [Namespace.ServerSideEmit]). data is the JSON array [event,
	// args...]. With wantAck it waits until ctx is done for every other
	// server's acknowledgement and returns them (each a JSON array of the
	// acknowledgement's arguments); otherwise it returns at once.
	ServerSideEmit(ctx context.Context, data json.RawMessage, wantAck bool) ([]json.RawMessage, error)

	// PersistSession keeps the state of a socket that disconnected, for
	// connection state recovery; RestoreSession returns it with the
	// packets the socket missed since offset, or nil when the session is
	// unknown, expired, or offset is too old.
	PersistSession(s *PersistedSession)
	RestoreSession(pid, offset string) (*PersistedSession, error)
}

// BroadcastOptions select the sockets of a broadcast: those in any of
// Rooms (every socket when Rooms is empty) and in none of Except.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  BroadcastFlags
}

// BroadcastFlags qualify a broadcast.
type BroadcastFlags struct {
	// Volatile drops the packet for sockets whose transport is not
	// writable at once, instead of queueing it.
	Volatile bool
	// NoCompress sends it without permessage-deflate.
	NoCompress bool
	// Local keeps it on this server (cluster adapters do not publish it).
	Local bool
	// Timeout bounds the wait for acknowledgements; 0 means none set.
	Timeout time.Duration
	// ExpectSingleResponse marks an emit to one remote socket (see
	// [RemoteSocket]): its acknowledgement is one response, not a list.
	ExpectSingleResponse bool
}

// SocketDetails describe a socket, possibly on another server, as
// fetchSockets returns it.
type SocketDetails struct {
	ID        string
	Handshake *Handshake
	Rooms     []string
	Data      any
}

// PersistedSession is the state of a disconnected socket kept for
// connection state recovery.
type PersistedSession struct {
	SID   string   // the socket id, restored on recovery
	PID   string   // the private session id the client presents
	Rooms []string // rooms to rejoin
	Data  any      // the socket's data
	// MissedPackets are the packets broadcast to the socket since its
	// offset, in order (set by RestoreSession).
	MissedPackets []*socketio.Packet
	// DisconnectedAt is when the socket disconnected.
	DisconnectedAt time.Time
}

// MemoryAdapter is the default adapter: rooms and broadcasts within this
// process. With connection state recovery enabled it also keeps the
// sessions of disconnected sockets and the packets broadcast since, for
// [Options.ConnectionStateRecovery]'s MaxDisconnectionDuration, bounded by
// MaxPackets and MaxBytes. Cluster adapters embed one for their local part;
// its methods are safe for concurrent use.
type MemoryAdapter struct {
	ns *Namespace

	mu sync.RWMutex
	// guarded by mu
	rooms map[string]map[string]struct{} // room -> socket ids
	sids  map[string]map[string]struct{} // socket id -> rooms

	rec *recoveryStore // nil without connection state recovery
}

// NewMemoryAdapter returns the in-memory adapter of a namespace.
func NewMemoryAdapter(ns *Namespace) *MemoryAdapter {
	a := &MemoryAdapter{ns: ns, rooms: map[string]map[string]struct{}{}, sids: map[string]map[string]struct{}{}}
	if r := ns.srv.opts.ConnectionStateRecovery; r != nil {
		a.rec = newRecoveryStore(r)
	}
	return a
}

// Namespace returns the adapter's namespace.
func (a *MemoryAdapter) Namespace() *Namespace { return a.ns }

// Init does nothing.
func (a *MemoryAdapter) Init() error { return nil }

// Close does nothing.
func (a *MemoryAdapter) Close() error { return nil }

// ServerCount returns 1.
func (a *MemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// AddAll implements [Adapter].
func (a *MemoryAdapter) AddAll(id string, rooms []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[id]
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		a.sids[id] = mine
	}
	for _, r := range rooms {
		mine[r] = struct{}{}
		m := a.rooms[r]
		if m == nil {
			m = map[string]struct{}{}
			a.rooms[r] = m
		}
		m[id] = struct{}{}
	}
}

// Del implements [Adapter].
func (a *MemoryAdapter) Del(id, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine := a.sids[id]; mine != nil {
		delete(mine, room)
	}
	a.delLocked(room, id)
}

func (a *MemoryAdapter) delLocked(room, id string) {
	if m := a.rooms[room]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(a.rooms, room)
		}
	}
}

// DelAll implements [Adapter].
func (a *MemoryAdapter) DelAll(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for room := range a.sids[id] {
		a.delLocked(room, id)
	}
	delete(a.sids, id)
}

// SocketRooms implements [Adapter]. The result is sorted.
func (a *MemoryAdapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine := a.sids[id]
	if mine == nil {
		return nil
	}
	out := make([]string, 0, len(mine))
	for r := range mine {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Rooms implements [Adapter]. The result is sorted.
func (a *MemoryAdapter) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// RoomSize returns the number of local sockets in a room.
func (a *MemoryAdapter) RoomSize(room string) int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.rooms[room])
}

// apply calls fn with every local socket opts selects, each once.
func (a *MemoryAdapter) apply(opts *BroadcastOptions, fn func(*Socket)) {
	for _, s := range a.selectSockets(opts) {
		fn(s)
	}
}

// selectSockets returns the local sockets opts selects, each once, in no
// particular order.
func (a *MemoryAdapter) selectSockets(opts *BroadcastOptions) []*Socket {
	a.mu.RLock()
	defer a.mu.RUnlock()
	ns := a.ns
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	excluded := func(id string) bool {
		for _, r := range opts.Except {
			if _, in := a.rooms[r][id]; in {
				return true
			}
		}
		return false
	}
	var out []*Socket
	if len(opts.Rooms) == 0 {
		out = make([]*Socket, 0, len(a.sids))
		for id := range a.sids {
			if s := ns.sockets[id]; s != nil && !excluded(id) {
				out = append(out, s)
			}
		}
		return out
	}
	var seen map[string]struct{}
	if len(opts.Rooms) > 1 {
		seen = map[string]struct{}{}
	}
	for _, r := range opts.Rooms {
		for id := range a.rooms[r] {
			if seen != nil {
				if _, dup := seen[id]; dup {
					continue
				}
				seen[id] = struct{}{}
			}
			if s := ns.sockets[id]; s != nil && !excluded(id) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Broadcast implements [Adapter]: it encodes p once and queues the same
// bytes for every local socket opts selects. With connection state recovery
// an event without an acknowledgement that is not volatile gets an offset
// as its last argument and is kept for sockets that reconnect.
func (a *MemoryAdapter) Broadcast(p *socketio.Packet, opts BroadcastOptions) {
	if a.rec != nil && p.Type.IsEvent() && !p.HasID && !opts.Flags.Volatile {
		p = a.rec.store(p, &opts)
	}
	a.deliver(p, &opts, nil)
}

// deliver sends p to the local sockets opts selects and returns how many.
// register, if set, runs for each before the packet is queued.
func (a *MemoryAdapter) deliver(p *socketio.Packet, opts *BroadcastOptions, register func(*Socket)) int {
	msgs := encodePacket(p)
	wo := writeOptions(opts.Flags)
	n := 0
	var args *outgoing
	for _, s := range a.selectSockets(opts) {
		if register != nil {
			register(s)
		}
		if s.hasOutgoingListeners() {
			if args == nil {
				args = newOutgoing(p)
			}
			s.notifyOutgoing(args)
		}
		s.client.write(wo, msgs)
		n++
	}
	return n
}

// BroadcastWithAck implements [Adapter]. A packet without an
// acknowledgement id (one that came from another server) gets one of this
// namespace's, as in Node, and with Flags.Timeout set the sockets forget
// it once the timeout passes.
func (a *MemoryAdapter) BroadcastWithAck(p *socketio.Packet, opts BroadcastOptions, clientCount func(int), ack func(socketio.Args)) {
	var forget []*Socket
	if !p.HasID {
		q := *p
		q.HasID, q.ID = true, a.ns.nextAckID()
		p = &q
	}
	n := a.deliver(p, &opts, func(s *Socket) {
		s.registerAck(p.ID, ack)
		if opts.Flags.Timeout > 0 {
			forget = append(forget, s)
		}
	})
	if len(forget) > 0 {
		id := p.ID
		time.AfterFunc(opts.Flags.Timeout, func() {
			for _, s := range forget {
				s.forgetAck(id)
			}
		})
	}
	clientCount(n)
}

// Sockets implements [Adapter] for this process.
func (a *MemoryAdapter) Sockets(_ context.Context, rooms []string) ([]string, error) {
	ss := a.selectSockets(&BroadcastOptions{Rooms: rooms})
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.id
	}
	slices.Sort(out)
	return out, nil
}

// FetchSockets implements [Adapter] for this process.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketDetails, error) {
	ss := a.selectSockets(&opts)
	out := make([]SocketDetails, len(ss))
	for i, s := range ss {
		out[i] = s.details()
	}
	slices.SortFunc(out, func(x, y SocketDetails) int {
		switch {
		case x.ID < y.ID:
			return -1
		case x.ID > y.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// AddSockets implements [Adapter].
func (a *MemoryAdapter) AddSockets(opts BroadcastOptions, rooms []string) {
	a.apply(&opts, func(s *Socket) { s.Join(rooms...) })
}

// DelSockets implements [Adapter].
func (a *MemoryAdapter) DelSockets(opts BroadcastOptions, rooms []string) {
	a.apply(&opts, func(s *Socket) { s.Leave(rooms...) })
}

// DisconnectSockets implements [Adapter].
func (a *MemoryAdapter) DisconnectSockets(opts BroadcastOptions, close bool) {
	a.apply(&opts, func(s *Socket) { s.Disconnect(close) })
}

// ServerSideEmit implements [Adapter]: with no other server there is no
// one to reach, and acknowledgements are an empty list at once.
func (a *MemoryAdapter) ServerSideEmit(context.Context, json.RawMessage, bool) ([]json.RawMessage, error) {
	return nil, nil
}

// PersistSession implements [Adapter]; it keeps nothing without
// connection state recovery.
func (a *MemoryAdapter) PersistSession(s *PersistedSession) {
	if a.rec != nil {
		a.rec.persist(s)
	}
}

// RestoreSession implements [Adapter].
func (a *MemoryAdapter) RestoreSession(pid, offset string) (*PersistedSession, error) {
	if a.rec == nil {
		return nil, nil
	}
	return a.rec.restore(pid, offset), nil
}

// Recovery defaults.
const (
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	DefaultRecoveryMaxPackets       = 10_000
	DefaultRecoveryMaxBytes         = 16 << 20
)

// RecoveryOptions enable connection state recovery (Socket.IO 4.6): a
// client that reconnects within MaxDisconnectionDuration gets its socket id,
// rooms and data back and receives the packets broadcast to it meanwhile,
// in order; its [Socket.Recovered] is true.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long a disconnected socket's state
	// and the packets broadcast since are kept. 0 means 2 minutes.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the namespace middleware for a recovered socket
	// too; by default it is skipped, as Node's skipMiddlewares: true.
	RunMiddlewares bool
	// MaxPackets and MaxBytes bound the packets kept per namespace; the
	// oldest go first. 0 means 10,000 packets and 16 MiB.
	MaxPackets int
	MaxBytes   int
}

// recoveryStore keeps the state of the in-memory adapter's recovery: the
// sessions of disconnected sockets and the packets broadcast recently.
type recoveryStore struct {
	maxAge              time.Duration
	maxPackets, maxSize int
	prefix              string        // makes offsets unique across restarts
	seq                 atomic.Uint64 // offsets

	mu sync.Mutex
	// guarded by mu
	sessions map[string]*PersistedSession // by pid
	packets  []storedPacket               // oldest first
	size     int
}

type storedPacket struct {
	offset string
	at     time.Time
	p      *socketio.Packet
	rooms  []string
	except []string
	size   int
}

func newRecoveryStore(o *RecoveryOptions) *recoveryStore {
	r := &recoveryStore{maxAge: o.MaxDisconnectionDuration, maxPackets: o.MaxPackets, maxSize: o.MaxBytes, sessions: map[string]*PersistedSession{}}
	if r.maxAge <= 0 {
		r.maxAge = DefaultMaxDisconnectionDuration
	}
	if r.maxPackets <= 0 {
		r.maxPackets = DefaultRecoveryMaxPackets
	}
	if r.maxSize <= 0 {
		r.maxSize = DefaultRecoveryMaxBytes
	}
	r.prefix = newID()[:6]
	return r
}

// store appends an offset to the event p and keeps the result.
func (r *recoveryStore) store(p *socketio.Packet, opts *BroadcastOptions) *socketio.Packet {
	offset := r.prefix + "-" + strconv.FormatUint(r.seq.Add(1), 36)
	q := *p
	q.Data = appendOffset(slices.Clip(p.Data), offset)
	now := time.Now()
	sp := storedPacket{offset: offset, at: now, p: &q, rooms: slices.Clone(opts.Rooms), except: slices.Clone(opts.Except)}
	sp.size = len(q.Data) + 64
	for _, b := range q.Attachments {
		sp.size += len(b)
	}
	r.mu.Lock()
	r.packets = append(r.packets, sp)
	r.size += sp.size
	r.expireLocked(now)
	r.mu.Unlock()
	return &q
}

// appendOffset adds offset as the last element of the JSON array data.
func appendOffset(data []byte, offset string) []byte {
	end := len(data) - 1 // the closing bracket
	out := make([]byte, 0, len(data)+len(offset)+3)
	out = append(out, data[:end]...)
	if end > 1 {
		out = append(out, ',')
	}
	out = strconv.AppendQuote(out, offset) // offsets are ASCII
	return append(out, ']')
}

// expireLocked drops what is older than maxAge and what exceeds the
// bounds.
func (r *recoveryStore) expireLocked(now time.Time) {
	cut := 0
	for cut < len(r.packets) && (now.Sub(r.packets[cut].at) > r.maxAge ||
		len(r.packets)-cut > r.maxPackets || r.size > r.maxSize) {
		r.size -= r.packets[cut].size
		cut++
	}
	if cut > 0 {
		clear(r.packets[:cut])
		r.packets = r.packets[cut:]
	}
	for pid, s := range r.sessions {
		if now.Sub(s.DisconnectedAt) > r.maxAge {
			delete(r.sessions, pid)
		}
	}
}

func (r *recoveryStore) persist(s *PersistedSession) {
	c := *s
	c.DisconnectedAt = time.Now()
	c.MissedPackets = nil
	r.mu.Lock()
	r.sessions[c.PID] = &c
	r.expireLocked(c.DisconnectedAt)
	r.mu.Unlock()
}

func (r *recoveryStore) restore(pid, offset string) *PersistedSession {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	s := r.sessions[pid]
	if s == nil {
		return nil
	}
	delete(r.sessions, pid) // a session is restored once
	i := slices.IndexFunc(r.packets, func(sp storedPacket) bool { return sp.offset == offset })
	if i < 0 {
		return nil // the offset is unknown or too old
	}
	out := *s
	for _, sp := range r.packets[i+1:] {
		if includes(s.Rooms, sp.rooms, sp.except) {
			out.MissedPackets = append(out.MissedPackets, sp.p)
		}
	}
	return &out
}

// includes reports whether a socket in rooms was a recipient of a
// broadcast to to, except except.
func includes(rooms, to, except []string) bool {
	in := len(to) == 0
	for _, r := range rooms {
		if slices.Contains(except, r) {
			return false
		}
		if !in && slices.Contains(to, r) {
			in = true
		}
	}
	return in
}

// ErrNotSupported is returned by operations a namespace does not support,
// such as FetchSockets on a parent namespace.
var ErrNotSupported = errors.New("realtime: not supported")
