package redisadapter

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Adapter is a namespace's adapter in a Redis cluster, as
// @socket.io/redis-adapter's RedisAdapter: the embedded
// [realtime.MemoryAdapter] keeps this server's rooms, and everything that
// reaches other servers is published. [Cluster.NewAdapter] makes them; get
// one from [realtime.Namespace.Adapter] for the methods realtime's API
// does not reach, such as [Adapter.AllRooms].
//
// What each operation does across the cluster:
//
//   - Broadcast publishes [uid, packet, opts] (on the room's channel when
//     there is exactly one room), then delivers to this server's sockets.
//   - BroadcastWithAck publishes a BROADCAST request; every other node
//     answers with the number of its clients (BROADCAST_CLIENT_COUNT, 0
//     included) and then each client's acknowledgement (BROADCAST_ACK: its
//     first argument only, as between Node nodes).
//   - AddSockets, DelSockets and DisconnectSockets apply to this server's
//     sockets at once and publish REMOTE_JOIN, REMOTE_LEAVE or
//     REMOTE_DISCONNECT for the others, in the order of the node's other
//     messages, so a broadcast to a room right after a join reaches the
//     sockets that joined, on every node. (A Node node applies its own
//     requests when they come back from Redis instead; each node's
//     sockets see the same either way.)
//   - FetchSockets, Sockets, AllRooms and ServerSideEmit with
//     acknowledgements ask the other nodes and wait for as many answers as
//     PUBSUB NUMSUB counts nodes, less this one, for at most
//     RequestsTimeout (or until ctx is done): what came is returned with a
//     [*TimeoutError] when some did not.
//   - The Local flag keeps an operation on this server.
//
// Messages from Redis are handled one at a time in arrival order on the
// cluster's subscriber goroutine: broadcasts, joins and leaves are applied
// there (so the outgoing listeners of sockets, [realtime.Socket.OnAnyOutgoing],
// run there for broadcasts from other nodes and must not block);
// server-side event handlers and disconnections (which run the
// application's handlers) go to a goroutine of the namespace, in order.
// Connection state recovery, if enabled, stays within each server, as
// with the Node adapter, which has none.
type Adapter struct {
	*realtime.MemoryAdapter
	c   *Cluster
	ns  *realtime.Namespace
	uid string
	ch  wire.Channels

	worker

	requestTable[*pending]
}

// pending is a counted request of this node waiting for the others'
// answers.
type pending struct {
	typ      wire.RequestType
	expected int
	received int
	done     chan struct{} // closed when received reaches expected
	sockets  []realtime.SocketDetails
	ids      []string
	rooms    []string
	acks     []json.RawMessage
}

// ackRequest is a broadcast with acknowledgements this node published.
type ackRequest struct {
	clientCount func(int)
	ack         func(socketio.Args)
}

func newAdapter(c *Cluster, ns *realtime.Namespace) *Adapter {
	return &Adapter{
		MemoryAdapter: realtime.NewMemoryAdapter(ns),
		c:             c, ns: ns, uid: newUID(),
		ch:           wire.Channels{Key: c.opts.Key, Namespace: ns.Name()},
		worker:       newWorker(c),
		requestTable: newRequestTable[*pending](newUID),
	}
}

// UID returns the adapter's uid: 6 random characters that other nodes see
// in its messages, and that name its response channel.
func (a *Adapter) UID() string { return a.uid }

// subscriptions are the adapter's: its broadcast channels' pattern, and
// the request and response channels.
func (a *Adapter) subscriptions() []subscription {
	return []subscription{
		{sub{subPattern, a.ch.BroadcastPattern()}, a.onBroadcast},
		{sub{subChannel, a.ch.Request()}, a.onChannelMessage},
		{sub{subChannel, a.ch.Response()}, a.onChannelMessage},
		{sub{subChannel, a.ch.NodeResponse(a.uid)}, a.onChannelMessage},
	}
}

// Init subscribes the namespace's channels and starts its handler
// goroutine. realtime calls it when it creates the namespace.
func (a *Adapter) Init() error {
	if !a.c.goWorker(a.runWork) {
		return ErrClosed
	}
	a.c.sub.add(a, a.subscriptions()...)
	return nil
}

// Close unsubscribes the namespace's channels and ends the requests still
// waiting, with [ErrClosed]. realtime calls it when the server closes, or
// when an empty child namespace is removed.
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.endAllLocked()
	a.mu.Unlock()
	var subs []sub
	for _, x := range a.subscriptions() {
		subs = append(subs, x.sub)
	}
	a.c.sub.remove(a, subs...)
	close(a.stopWork)
	return nil
}

func (a *Adapter) publish(channel string, payload []byte, wait bool) {
	a.c.pub.publish(channel, payload, wait)
}

// ServerCount returns the number of nodes in the cluster: PUBSUB NUMSUB of
// the namespace's request channel, as the Node adapter counts them.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	return a.c.serverCount(ctx, a.ch.Request())
}

// Broadcast publishes p to the other nodes, unless opts has the Local
// flag, and sends it to this server's sockets.
func (a *Adapter) Broadcast(p *socketio.Packet, opts realtime.BroadcastOptions) {
	if !opts.Flags.Local {
		wp, err := wire.FromSocketIO(p, a.c.lim)
		if err != nil {
			a.c.pub.drop(a.ch.Broadcast(), err)
		} else {
			m := wire.Broadcast{UID: a.uid, Packet: wp, Opts: wireOpts(&opts, true)}
			a.publish(a.ch.For(&m.Opts), wire.AppendBroadcast(nil, &m), true)
		}
	}
	a.MemoryAdapter.Broadcast(p, opts)
}

// BroadcastWithAck publishes a BROADCAST request for p, unless opts has the
// Local flag, and sends p to this server's sockets. The other nodes'
// client counts and acknowledgements are taken for Flags.Timeout, or
// RequestsTimeout when it is 0.
func (a *Adapter) BroadcastWithAck(p *socketio.Packet, opts realtime.BroadcastOptions, clientCount func(int), ack func(socketio.Args)) {
	if !opts.Flags.Local {
		wp, err := wire.FromSocketIO(p, a.c.lim)
		if err != nil {
			a.c.pub.drop(a.ch.Request(), err)
		} else if id, ok := a.registerAck(&ackRequest{clientCount, ack}, opts.Flags.Timeout, a.c.opts.RequestsTimeout); ok {
			r := wire.Request{Type: wire.BroadcastWithAck, UID: a.uid, RequestID: id, Packet: wp}
			o := wireOpts(&opts, true)
			r.Opts = &o
			a.publish(a.ch.Request(), wire.AppendRequest(nil, &r), true)
		}
	}
	a.MemoryAdapter.BroadcastWithAck(p, opts, clientCount, ack)
}

// AddSockets makes the sockets opts selects join rooms: this server's at
// once, the other nodes' through REMOTE_JOIN (unless opts has the Local
// flag).
func (a *Adapter) AddSockets(opts realtime.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.AddSockets(opts, rooms)
	if !opts.Flags.Local {
		a.selectionRequest(&wire.Request{Type: wire.RemoteJoin, Rooms: slices.Clone(rooms)}, &opts)
	}
}

// DelSockets makes the sockets opts selects leave rooms, as AddSockets
// joins them.
func (a *Adapter) DelSockets(opts realtime.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.DelSockets(opts, rooms)
	if !opts.Flags.Local {
		a.selectionRequest(&wire.Request{Type: wire.RemoteLeave, Rooms: slices.Clone(rooms)}, &opts)
	}
}

// DisconnectSockets disconnects the sockets opts selects, as AddSockets
// makes them join.
func (a *Adapter) DisconnectSockets(opts realtime.BroadcastOptions, close bool) {
	a.MemoryAdapter.DisconnectSockets(opts, close)
	if !opts.Flags.Local {
		a.selectionRequest(&wire.Request{Type: wire.RemoteDisconnect, Close: close}, &opts)
	}
}

func (a *Adapter) selectionRequest(r *wire.Request, opts *realtime.BroadcastOptions) {
	r.UID = a.uid
	o := wireOpts(opts, false)
	r.Opts = &o
	a.publish(a.ch.Request(), wire.AppendRequest(nil, r), true)
}

// Sockets returns the ids of the sockets in any of rooms (every socket
// when rooms is empty) on every node, sorted, asking the others with a
// SOCKETS request.
func (a *Adapter) Sockets(ctx context.Context, rooms []string) ([]string, error) {
	local, _ := a.MemoryAdapter.Sockets(ctx, rooms)
	p, err := a.ask(ctx, wire.Sockets, func(r *wire.Request) { r.Rooms = nonNil(slices.Clone(rooms)) })
	if p == nil {
		return local, err
	}
	out := append(local, p.ids...)
	slices.Sort(out)
	return slices.Compact(out), err
}

// FetchSockets describes the sockets opts selects: this server's, then
// those of the other nodes (REMOTE_FETCH) in the order they answered. A
// socket of another node has its handshake as that node reported it and
// its data as JSON ([json.RawMessage]). With the Local flag, only this
// server's.
func (a *Adapter) FetchSockets(ctx context.Context, opts realtime.BroadcastOptions) ([]realtime.SocketDetails, error) {
	local, _ := a.MemoryAdapter.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	p, err := a.ask(ctx, wire.RemoteFetch, func(r *wire.Request) {
		o := wireOpts(&opts, false)
		r.Opts = &o
	})
	if p == nil {
		return local, err
	}
	return append(local, p.sockets...), err
}

// AllRooms returns the rooms of every node, socket-id rooms included,
// sorted, asking the others with an ALL_ROOMS request.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	local := a.MemoryAdapter.Rooms()
	p, err := a.ask(ctx, wire.AllRooms, nil)
	if p == nil {
		return local, err
	}
	out := append(local, p.rooms...)
	slices.Sort(out)
	return slices.Compact(out), err
}

// ServerSideEmit publishes a server-side event, data being its JSON array
// [event, args...]. With wantAck it waits for an acknowledgement from each
// other node, for at most RequestsTimeout or until ctx is done, and
// returns them, each a JSON array holding the acknowledgement's first
// argument (only that one crosses nodes), or empty when it had none. A
// node with no handler for the event, or whose handler does not
// acknowledge, never answers, as a Node node.
func (a *Adapter) ServerSideEmit(ctx context.Context, data json.RawMessage, wantAck bool) ([]json.RawMessage, error) {
	data = slices.Clone(data)
	if !wantAck {
		r := wire.Request{Type: wire.ServerSideEmit, UID: a.uid, Data: data}
		a.publish(a.ch.Request(), wire.AppendRequest(nil, &r), true)
		return nil, nil
	}
	p, err := a.ask(ctx, wire.ServerSideEmit, func(r *wire.Request) { r.Data = data })
	if p == nil {
		return nil, err
	}
	return p.acks, err
}

// ask publishes a counted request and waits for the answers of the other
// nodes, as many as PUBSUB NUMSUB counts less this one (as the Node
// adapter counts them). It returns nil when there is no one to ask;
// otherwise the request with what came, and a *TimeoutError, ErrClosed or
// ctx's error when not everything did.
func (a *Adapter) ask(ctx context.Context, typ wire.RequestType, fill func(*wire.Request)) (*pending, error) {
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	expected := n - 1
	if expected <= 0 {
		return nil, nil
	}
	p := &pending{typ: typ, expected: expected, done: make(chan struct{})}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	id := a.newRequestIDLocked()
	a.requests[id] = p
	a.mu.Unlock()

	r := wire.Request{Type: typ, UID: a.uid, RequestID: id}
	if fill != nil {
		fill(&r)
	}
	a.publish(a.ch.Request(), wire.AppendRequest(nil, &r), true)

	timer := time.NewTimer(a.c.opts.RequestsTimeout)
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
	return p, &TimeoutError{Request: typ, Received: p.received, Expected: p.expected}
}
