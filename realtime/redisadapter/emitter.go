package redisadapter

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Publisher is the part of a go-redis client an [Emitter] uses:
// *redis.Client, *redis.ClusterClient and *redis.Ring have it.
type Publisher interface {
	Publish(ctx context.Context, channel string, message any) *redis.IntCmd
}

// EmitterOptions configure an [Emitter]. A nil *EmitterOptions gives the
// defaults.
type EmitterOptions struct {
	// Key is the channel prefix; "" means "socket.io", as for the Node
	// adapter and emitter. It must be the cluster's.
	Key string
}

// Emitter publishes to a Socket.IO cluster from a process that is not one
// of its servers, as @socket.io/redis-emitter 5 does: broadcasts, socket
// selections that join, leave or disconnect, and server-side events. It
// only publishes; it never subscribes, so nodes do not count it.
//
// The methods that narrow or flag an emit (Of, To, In, Except, Volatile,
// Compress) return a new Emitter and leave the receiver as it was, so an
// Emitter can be shared; an Emitter is safe for concurrent use.
type Emitter struct {
	pub   Publisher
	ch    wire.Channels
	opts  wire.Opts // Rooms, Except, Flags of the selection
	flags wire.Flags
}

// NewEmitter returns an emitter for the main namespace "/" that publishes
// through pub.
func NewEmitter(pub Publisher, opts *EmitterOptions) *Emitter {
	e := &Emitter{pub: pub, ch: wire.Channels{Namespace: socketio.MainNamespace}}
	if opts != nil {
		e.ch.Key = opts.Key
	}
	return e
}

func (e *Emitter) clone() *Emitter {
	c := *e
	c.opts.Rooms = slices.Clone(e.opts.Rooms)
	c.opts.Except = slices.Clone(e.opts.Except)
	return &c
}

// Of returns an emitter for the namespace nsp ("/" is prepended when it
// does not start with one), with no rooms and no flags.
func (e *Emitter) Of(nsp string) *Emitter {
	if len(nsp) == 0 || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	return &Emitter{pub: e.pub, ch: wire.Channels{Key: e.ch.Key, Namespace: nsp}}
}

// To returns an emitter that targets the sockets in any of rooms, besides
// the rooms already targeted. A room may be a socket id.
func (e *Emitter) To(rooms ...string) *Emitter {
	c := e.clone()
	for _, r := range rooms {
		if !slices.Contains(c.opts.Rooms, r) {
			c.opts.Rooms = append(c.opts.Rooms, r)
		}
	}
	return c
}

// In is the same as [Emitter.To].
func (e *Emitter) In(rooms ...string) *Emitter { return e.To(rooms...) }

// Except returns an emitter that leaves out the sockets in any of rooms.
func (e *Emitter) Except(rooms ...string) *Emitter {
	c := e.clone()
	for _, r := range rooms {
		if !slices.Contains(c.opts.Except, r) {
			c.opts.Except = append(c.opts.Except, r)
		}
	}
	return c
}

// Volatile returns an emitter whose events may be dropped for clients that
// are not ready to receive them.
func (e *Emitter) Volatile() *Emitter {
	c := e.clone()
	c.flags.Volatile = true
	return c
}

// Compress returns an emitter whose events are compressed, or not, for
// the clients whose connection can.
func (e *Emitter) Compress(compress bool) *Emitter {
	c := e.clone()
	c.flags.HasCompress, c.flags.Compress = true, compress
	return c
}

// reserved are the event names the Node emitter refuses, as socket.io
// keeps them for itself.
var reserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// Emit publishes an event to the clients the emitter targets: all of the
// namespace's, or those in its rooms, less those in its except rooms. The
// arguments are encoded as [wire.AppendEventData] says: []byte arrives as
// binary, time.Time as the ISO string a Date gives, map keys sorted,
// [wire.Object] keys in their order. With exactly one room it goes to that
// room's channel, as the Node emitter sends it; nodes with no socket in the
// room drop it unread. Acknowledgements are not possible from an emitter.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("redisadapter: %q is a reserved event name", event)
	}
	data, err := wire.AppendEventData(nil, event, args...)
	if err != nil {
		return fmt.Errorf("redisadapter: %w", err)
	}
	flags := e.flags
	m := wire.Broadcast{
		UID:    wire.EmitterUID,
		Packet: wire.Packet{Type: socketio.Event, Data: data, Namespace: e.ch.Namespace},
		Opts:   wire.EmitterOpts(slices.Clone(e.opts.Rooms), slices.Clone(e.opts.Except), &flags),
	}
	return e.publish(ctx, e.ch.For(&m.Opts), wire.AppendBroadcast(nil, &m))
}

func (e *Emitter) selection() wire.Opts {
	return wire.Opts{Rooms: slices.Clone(e.opts.Rooms), Except: slices.Clone(e.opts.Except)}
}

// SocketsJoin makes the sockets the emitter targets, on every node, join
// rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.request(ctx, &wire.Request{Type: wire.RemoteJoin, Rooms: rooms})
}

// SocketsLeave makes the sockets the emitter targets, on every node, leave
// rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.request(ctx, &wire.Request{Type: wire.RemoteLeave, Rooms: rooms})
}

// DisconnectSockets disconnects the sockets the emitter targets, on every
// node; close also closes their underlying connections.
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.request(ctx, &wire.Request{Type: wire.RemoteDisconnect, Close: close})
}

func (e *Emitter) request(ctx context.Context, r *wire.Request) error {
	o := e.selection()
	r.Opts = &o
	if r.Rooms == nil && r.Type != wire.RemoteDisconnect {
		r.Rooms = []string{}
	}
	return e.publish(ctx, e.ch.Request(), wire.AppendRequest(nil, r))
}

// ServerSideEmit sends an event to the servers of the cluster (their
// serverSideEmit handlers), as JSON: [wire.AppendJSONValue] encodes the
// arguments, so []byte arrives as a Buffer's JSON, as from the Node
// emitter. The emitter's rooms and flags do not apply.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("redisadapter: %q is a reserved event name", event)
	}
	data, err := wire.AppendJSONValue(nil, append([]any{event}, args...))
	if err != nil {
		return fmt.Errorf("redisadapter: %w", err)
	}
	r := wire.Request{Type: wire.ServerSideEmit, UID: wire.EmitterUID, Data: data}
	return e.publish(ctx, e.ch.Request(), wire.AppendRequest(nil, &r))
}

func (e *Emitter) publish(ctx context.Context, channel string, msg []byte) error {
	if err := e.pub.Publish(ctx, channel, msg).Err(); err != nil {
		return fmt.Errorf("redisadapter: publish to %s: %w", channel, err)
	}
	return nil
}
