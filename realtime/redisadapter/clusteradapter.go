package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
	"github.com/wirelevel/ws/realtime/socketio"
)

// ClusterAdapter is a namespace's adapter in the sharded mode
// ([Options].Sharded) and the streams mode ([Options].Streams), which
// speak socket.io-adapter's ClusterAdapter format, as the Node adapters
// ShardedRedisAdapter and RedisStreamsAdapter do: the embedded
// [realtime.MemoryAdapter] keeps this server's rooms, and everything that
// reaches other servers is published. [Cluster.NewAdapter] makes them;
// get one from [realtime.Namespace.Adapter] for [ClusterAdapter.AllRooms]
// and [ClusterAdapter.UID].
//
// Where each message goes, in the sharded mode: SPUBLISH on the
// namespace's channel key#nsp# (which every node SSUBSCRIBEs), a
// broadcast without acknowledgements to exactly one room on that room's
// channel key#nsp#room# instead (in the dynamic subscription modes: a
// node subscribes to the channels of its rooms while it has sockets in
// them), and responses on the requester's channel key#nsp#uid#; in JSON,
// or in msgpack when they hold binaries. In the streams mode: broadcasts
// without acknowledgements, joins, leaves and disconnections go to the
// namespace's stream with XADD, which every node reads with XREAD;
// requests (broadcasts with acknowledgements, FETCH_SOCKETS,
// SERVER_SIDE_EMIT) go to key#nsp# and responses to key#nsp#uid# with
// PUBLISH (or SPUBLISH), in msgpack.
//
// Everything the classic [Adapter] does across the cluster, this one does
// too, as the Node adapters do it: operations apply to this server's
// sockets and are published; requests wait for as many answers as Redis
// counts other nodes (PUBSUB SHARDNUMSUB, or NUMSUB, of key#nsp#), for
// Flags.Timeout or RequestsTimeout. Sockets and AllRooms, which the
// ClusterAdapter format has no request for, ask with FETCH_SOCKETS (a Node
// node's allSockets and allRooms stay local there).
//
// With connection state recovery in the streams mode, every broadcast
// that recovery keeps waits for its stream entry id and carries it as its
// offset, on every node; a socket's session is kept in Redis when it
// disconnects (SET sessionKeyPrefix+pid, for MaxDisconnectionDuration),
// and a client that reconnects to any node, Go or Node, gets its id,
// rooms and data back with the packets it missed, read from the stream.
// In the sharded mode, recovery stays within each server (the Node
// sharded adapter has none: its clients get "" as the offset).
//
// Messages from Redis are handled in arrival order: those of pub/sub on
// the cluster's subscriber goroutine, those of a stream on its reader's;
// as with [Adapter], server-side event handlers and disconnections go to
// a goroutine of the namespace.
type ClusterAdapter struct {
	*realtime.MemoryAdapter
	c        *Cluster
	ns       *realtime.Namespace
	uid      string
	ch       wire.Channels // Broadcast() is key#nsp#, Room(x) key#nsp#x#
	stream   string        // the namespace's stream, in the streams mode
	recovery *realtime.RecoveryOptions

	worker

	requestTable[*clusterRequest]

	roomMu sync.Mutex
	// guarded by roomMu
	roomSubs map[string]bool      // rooms whose channel is subscribed (sharded, dynamic modes)
	joined   map[string]time.Time // rooms of this node's recent SOCKETS_JOIN (sharded, dynamic modes)
}

// joinWindow: in the dynamic subscription modes, a broadcast to a room
// within this long of this node's SOCKETS_JOIN for it goes to the
// namespace's channel, not the room's, which the nodes whose sockets just
// joined may not have subscribed to yet.
const joinWindow = 2 * time.Second

// clusterRequest is a request of this node waiting for the others'
// answers.
type clusterRequest struct {
	typ      wire.MessageType
	expected int
	received int
	done     chan struct{} // closed when received reaches expected
	sockets  []realtime.SocketDetails
	acks     []json.RawMessage
}

func newClusterAdapter(c *Cluster, ns *realtime.Namespace) *ClusterAdapter {
	mem := realtime.NewMemoryAdapter(ns)
	a := &ClusterAdapter{
		MemoryAdapter: mem,
		c:             c, ns: ns, uid: newHexID(),
		ch:           wire.Channels{Key: c.opts.Key, Namespace: ns.Name()},
		recovery:     mem.Recovery(),
		worker:       newWorker(c),
		requestTable: newRequestTable[*clusterRequest](newHexID),
		roomSubs:     map[string]bool{},
		joined:       map[string]time.Time{},
	}
	if c.mode == streams {
		a.stream = c.streamOf(ns.Name())
	}
	return a
}

// UID returns the adapter's uid: 16 hexadecimal digits that other nodes
// see in its messages, and that name its response channel.
func (a *ClusterAdapter) UID() string { return a.uid }

// pubsubKind is the kind of the adapter's pub/sub channels.
func (a *ClusterAdapter) pubsubKind() subKind {
	if a.c.mode == sharded || a.c.sopts.UseShardedPubSub {
		return subShard
	}
	return subChannel
}

func (a *ClusterAdapter) subscriptions() []subscription {
	k := a.pubsubKind()
	if a.c.mode == sharded {
		return []subscription{
			{sub{k, a.ch.Broadcast()}, a.onPubSub},
			{sub{k, a.ch.Room(a.uid)}, a.onPubSubResponse},
		}
	}
	return []subscription{
		{sub{k, a.ch.Broadcast()}, a.onPubSub},
		{sub{k, a.ch.Room(a.uid)}, a.onPubSub},
	}
}

// Init subscribes the namespace's channels and starts its handler
// goroutine. realtime calls it when it creates the namespace.
func (a *ClusterAdapter) Init() error {
	if !a.c.goWorker(a.runWork) {
		return ErrClosed
	}
	if a.c.mode == streams {
		a.c.adapters.Store(a.ns.Name(), a)
	}
	a.c.sub.add(a, a.subscriptions()...)
	return nil
}

// Close unsubscribes the namespace's channels and ends the requests still
// waiting, with [ErrClosed].
func (a *ClusterAdapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.endAllLocked()
	a.mu.Unlock()
	if a.c.mode == streams {
		a.c.adapters.CompareAndDelete(a.ns.Name(), a)
	}
	var subs []sub
	for _, x := range a.subscriptions() {
		subs = append(subs, x.sub)
	}
	a.roomMu.Lock()
	for room := range a.roomSubs {
		subs = append(subs, sub{subShard, a.ch.Room(room)})
	}
	clear(a.roomSubs)
	a.roomMu.Unlock()
	a.c.sub.remove(a, subs...)
	close(a.stopWork)
	return nil
}

// ServerCount returns the number of nodes in the cluster, as the Node
// adapters count them: PUBSUB SHARDNUMSUB (or NUMSUB) of key#nsp#.
func (a *ClusterAdapter) ServerCount(ctx context.Context) (int, error) {
	if a.pubsubKind() == subShard {
		return a.c.shardCount(ctx, a.ch.Broadcast())
	}
	return a.c.serverCount(ctx, a.ch.Broadcast())
}

// isEphemeral reports whether the streams mode sends m with pub/sub rather
// than in the stream: broadcasts with acknowledgements, SERVER_SIDE_EMIT
// and FETCH_SOCKETS (the Node adapter's isEphemeral).
func isEphemeral(m *wire.Message) bool {
	return m.Type == wire.MsgBroadcast && m.RequestID != "" || m.Type == wire.MsgServerSideEmit || m.Type == wire.MsgFetchSockets
}

// looksLikeASocketID is the sharded adapter's test: any string of 20
// UTF-16 code units.
func looksLikeASocketID(room string) bool {
	n := 0
	for _, r := range room {
		n += utf16.RuneLen(r)
		if n > 20 {
			return false
		}
	}
	return n == 20
}

// publish sends a message of this node to the others; in the streams mode,
// with wait, it waits for the stream entry's id (for a durable message)
// and returns it.
func (a *ClusterAdapter) publish(m *wire.Message, wait bool) string {
	m.UID, m.Namespace = a.uid, a.ns.Name()
	if a.c.mode == sharded {
		channel := a.ch.Broadcast()
		if m.Type == wire.MsgBroadcast && m.RequestID == "" && len(m.Opts.Rooms) == 1 {
			switch room := m.Opts.Rooms[0]; a.c.opts.Sharded.SubscriptionMode {
			case Dynamic:
				if !looksLikeASocketID(room) && !a.joinedRecently(room) {
					channel = a.ch.Room(room)
				}
			case DynamicPrivate:
				if !a.joinedRecently(room) {
					channel = a.ch.Room(room)
				}
			}
		}
		if m.Type == wire.MsgSocketsJoin && a.dynamic() {
			a.noteJoin(m.Rooms)
		}
		a.c.pub.enqueue(pubMsg{op: opSPublish, channel: channel, payload: wire.AppendMessage(nil, m)}, true)
		return ""
	}
	if isEphemeral(m) {
		a.c.pub.enqueue(pubMsg{op: a.publishOp(), channel: a.ch.Broadcast(), payload: wire.AppendMessageMsgpack(nil, m)}, true)
		return ""
	}
	e := wire.NewStreamEntry(m, a.c.sopts.OnlyPlaintext)
	id, err := a.c.pub.xadd(context.Background(), a.stream, a.c.sopts.MaxLen, e.Values(), wait)
	if err != nil {
		a.c.report(fmt.Errorf("redisadapter: a broadcast went out without its offset: %w", err))
	}
	return id
}

func (a *ClusterAdapter) publishOp() pubOp {
	if a.pubsubKind() == subShard {
		return opSPublish
	}
	return opPublish
}

// respond publishes a response to the node requester, on its channel.
func (a *ClusterAdapter) respond(requester string, m *wire.Message) {
	m.UID, m.Namespace = a.uid, a.ns.Name()
	var payload []byte
	if a.c.mode == sharded {
		payload = wire.AppendMessage(nil, m)
	} else {
		payload = wire.AppendMessageMsgpack(nil, m)
	}
	a.c.pub.enqueue(pubMsg{op: a.publishOp(), channel: a.ch.Room(requester), payload: payload}, false)
}

// clusterOpts returns the options of a published message: rooms and
// except without duplicates, and flags, always present, as
// socket.io-adapter's encodeOptions writes them.
func clusterOpts(o *realtime.BroadcastOptions) *wire.Opts {
	w := wireOpts(o, true)
	return &w
}

// recoverable reports whether recovery keeps a broadcast of p with opts:
// an event without an acknowledgement id, not volatile.
func recoverable(p *socketio.Packet, opts *realtime.BroadcastOptions) bool {
	return p.Type.IsEvent() && !p.HasID && !opts.Flags.Volatile
}

// Broadcast publishes p to the other nodes, unless opts has the Local
// flag, and sends it to this server's sockets. In the streams mode with
// connection state recovery, an event recovery keeps is sent once Redis
// has given its entry id, with that id as its offset.
func (a *ClusterAdapter) Broadcast(p *socketio.Packet, opts realtime.BroadcastOptions) {
	offset := ""
	if !opts.Flags.Local {
		wp, err := wire.FromSocketIO(p, a.c.lim)
		if err != nil {
			a.c.pub.drop(a.ch.Broadcast(), err)
		} else {
			wp.Namespace = ""
			m := &wire.Message{Type: wire.MsgBroadcast, Packet: wp, Opts: clusterOpts(&opts)}
			wait := a.c.mode == streams && a.recovery != nil && recoverable(p, &opts)
			offset = a.publish(m, wait)
		}
	}
	if a.c.mode == streams {
		a.MemoryAdapter.BroadcastWithOffset(p, opts, offset)
		return
	}
	a.MemoryAdapter.Broadcast(p, opts)
}

// BroadcastWithAck publishes p as a BROADCAST with a requestId, unless
// opts has the Local flag, and sends it to this server's sockets. The
// other nodes' client counts and acknowledgements are taken for
// Flags.Timeout, or RequestsTimeout when it is 0.
func (a *ClusterAdapter) BroadcastWithAck(p *socketio.Packet, opts realtime.BroadcastOptions, clientCount func(int), ack func(socketio.Args)) {
	if !opts.Flags.Local {
		wp, err := wire.FromSocketIO(p, a.c.lim)
		if err != nil {
			a.c.pub.drop(a.ch.Broadcast(), err)
		} else if id, ok := a.registerAck(&ackRequest{clientCount, ack}, opts.Flags.Timeout, a.c.opts.RequestsTimeout); ok {
			wp.Namespace, wp.HasID, wp.ID = "", false, 0
			a.publish(&wire.Message{Type: wire.MsgBroadcast, RequestID: id, Packet: wp, Opts: clusterOpts(&opts)}, false)
		}
	}
	a.MemoryAdapter.BroadcastWithAck(p, opts, clientCount, ack)
}

// AddSockets makes the sockets opts selects join rooms: this server's at
// once, the other nodes' through SOCKETS_JOIN (unless opts has the Local
// flag).
func (a *ClusterAdapter) AddSockets(opts realtime.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.AddSockets(opts, rooms)
	if !opts.Flags.Local {
		a.publish(&wire.Message{Type: wire.MsgSocketsJoin, Opts: clusterOpts(&opts), Rooms: slices.Clone(rooms)}, false)
	}
}

// DelSockets makes the sockets opts selects leave rooms, as AddSockets
// joins them (SOCKETS_LEAVE).
func (a *ClusterAdapter) DelSockets(opts realtime.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.DelSockets(opts, rooms)
	if !opts.Flags.Local {
		a.publish(&wire.Message{Type: wire.MsgSocketsLeave, Opts: clusterOpts(&opts), Rooms: slices.Clone(rooms)}, false)
	}
}

// DisconnectSockets disconnects the sockets opts selects, as AddSockets
// makes them join (DISCONNECT_SOCKETS).
func (a *ClusterAdapter) DisconnectSockets(opts realtime.BroadcastOptions, close bool) {
	a.MemoryAdapter.DisconnectSockets(opts, close)
	if !opts.Flags.Local {
		a.publish(&wire.Message{Type: wire.MsgDisconnectSockets, Opts: clusterOpts(&opts), Close: close}, false)
	}
}

// FetchSockets describes the sockets opts selects: this server's, then
// those of the other nodes (FETCH_SOCKETS) in the order they answered,
// waiting Flags.Timeout, or RequestsTimeout when it is 0. A socket of
// another node has its data as JSON ([json.RawMessage]).
func (a *ClusterAdapter) FetchSockets(ctx context.Context, opts realtime.BroadcastOptions) ([]realtime.SocketDetails, error) {
	local, _ := a.MemoryAdapter.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	p, err := a.ask(ctx, opts.Flags.Timeout, &wire.Message{Type: wire.MsgFetchSockets, Opts: clusterOpts(&opts)})
	if p == nil {
		return local, err
	}
	return append(local, p.sockets...), err
}

// Sockets returns the ids of the sockets in any of rooms (every socket
// when rooms is empty) on every node, sorted, asking the others with
// FETCH_SOCKETS.
func (a *ClusterAdapter) Sockets(ctx context.Context, rooms []string) ([]string, error) {
	ss, err := a.FetchSockets(ctx, realtime.BroadcastOptions{Rooms: rooms})
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return slices.Compact(out), err
}

// AllRooms returns the rooms of every node, socket-id rooms included,
// sorted: this server's, and those of the other nodes' sockets
// (FETCH_SOCKETS).
func (a *ClusterAdapter) AllRooms(ctx context.Context) ([]string, error) {
	out := a.MemoryAdapter.Rooms()
	p, err := a.ask(ctx, 0, &wire.Message{Type: wire.MsgFetchSockets, Opts: &wire.Opts{Flags: &wire.Flags{}}})
	if p != nil {
		for _, s := range p.sockets {
			out = append(out, s.Rooms...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), err
}

// ServerSideEmit publishes a server-side event, data being its JSON array
// [event, args...]. With wantAck it waits for an acknowledgement from each
// other node, for at most RequestsTimeout or until ctx is done, and
// returns them, each a JSON array holding the acknowledgement's first
// argument (only that one crosses nodes), or empty when it had none.
func (a *ClusterAdapter) ServerSideEmit(ctx context.Context, data json.RawMessage, wantAck bool) ([]json.RawMessage, error) {
	args, err := wire.AppendMsgpack(nil, data, nil, a.c.lim)
	if err != nil {
		return nil, err
	}
	m := &wire.Message{Type: wire.MsgServerSideEmit, Args: args}
	if !wantAck {
		a.publish(m, false)
		return nil, nil
	}
	p, err := a.ask(ctx, 0, m)
	if p == nil {
		return nil, err
	}
	return p.acks, err
}

// ask publishes a request and waits for the answers of the other nodes,
// as many as Redis counts less this one, for timeout (RequestsTimeout if
// 0) or until ctx is done. It returns nil when there is no one to ask;
// otherwise the request with what came, and a *TimeoutError, ErrClosed or
// ctx's error when not everything did.
func (a *ClusterAdapter) ask(ctx context.Context, timeout time.Duration, m *wire.Message) (*clusterRequest, error) {
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	expected := n - 1
	if expected <= 0 {
		return nil, nil
	}
	if timeout <= 0 {
		timeout = a.c.opts.RequestsTimeout
	}
	p := &clusterRequest{typ: m.Type, expected: expected, done: make(chan struct{})}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	id := a.newRequestIDLocked()
	a.requests[id] = p
	a.mu.Unlock()

	m.RequestID = id
	a.publish(m, false)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	closed := a.requests[id] == nil && p.received < p.expected
	delete(a.requests, id)
	switch {
	case p.received >= p.expected:
		return p, nil
	case closed:
		return p, ErrClosed
	case ctx.Err() != nil:
		return p, ctx.Err()
	}
	typ := wire.RemoteFetch
	if m.Type == wire.MsgServerSideEmit {
		typ = wire.ServerSideEmit
	}
	return p, &TimeoutError{Request: typ, Message: m.Type, Received: p.received, Expected: p.expected}
}

// The dynamic subscription modes subscribe to the channel of each room
// this server has sockets in (in the dynamic mode, rooms that are not one
// of its sockets' ids), as the Node adapter does on its create-room and
// delete-room events.

func (a *ClusterAdapter) dynamic() bool {
	return a.c.mode == sharded && a.c.opts.Sharded.SubscriptionMode != Static
}

// AddAll implements [realtime.Adapter].
func (a *ClusterAdapter) AddAll(id string, rooms []string) {
	if !a.dynamic() {
		a.MemoryAdapter.AddAll(id, rooms)
		return
	}
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	a.MemoryAdapter.AddAll(id, rooms)
	for _, r := range rooms {
		a.syncRoomLocked(r)
	}
}

// Del implements [realtime.Adapter].
func (a *ClusterAdapter) Del(id, room string) {
	if !a.dynamic() {
		a.MemoryAdapter.Del(id, room)
		return
	}
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	a.MemoryAdapter.Del(id, room)
	a.syncRoomLocked(room)
}

// DelAll implements [realtime.Adapter].
func (a *ClusterAdapter) DelAll(id string) {
	if !a.dynamic() {
		a.MemoryAdapter.DelAll(id)
		return
	}
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	rooms := a.MemoryAdapter.SocketRooms(id)
	a.MemoryAdapter.DelAll(id)
	for _, r := range rooms {
		a.syncRoomLocked(r)
	}
}

// noteJoin remembers rooms this node made sockets join, for joinWindow.
func (a *ClusterAdapter) noteJoin(rooms []string) {
	now := time.Now()
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	if len(a.joined) > 1024 {
		for r, t := range a.joined {
			if now.Sub(t) > joinWindow {
				delete(a.joined, r)
			}
		}
		if len(a.joined) > 4096 { // a flood of joins: forget them (the Node adapter's behavior)
			clear(a.joined)
		}
	}
	for _, r := range rooms {
		a.joined[r] = now
	}
}

func (a *ClusterAdapter) joinedRecently(room string) bool {
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	t, ok := a.joined[room]
	if ok && time.Since(t) > joinWindow {
		delete(a.joined, room)
		ok = false
	}
	return ok
}

// syncRoomLocked subscribes to a room's channel or unsubscribes from it,
// as the room now needs.
func (a *ClusterAdapter) syncRoomLocked(room string) {
	want := a.MemoryAdapter.RoomSize(room) > 0 &&
		(a.c.opts.Sharded.SubscriptionMode == DynamicPrivate || a.MemoryAdapter.SocketRooms(room) == nil)
	if want == a.roomSubs[room] {
		return
	}
	sb := sub{subShard, a.ch.Room(room)}
	if !want {
		delete(a.roomSubs, room)
		a.c.sub.remove(a, sb)
		return
	}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return
	}
	a.roomSubs[room] = true
	a.c.sub.add(a, subscription{sb, a.onPubSub})
}
