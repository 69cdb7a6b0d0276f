package redisadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
	"github.com/wirelevel/ws/realtime/socketio"
)

var (
	errBusy        = errors.New("redisadapter: the namespace's handler queue is full")
	errNoRequestID = fmt.Errorf("%w: request without a requestId", wire.ErrMalformed)
	errNoOpts      = fmt.Errorf("%w: request without opts", wire.ErrMalformed)
	errNotEvent    = fmt.Errorf("%w: broadcast packet is not an event", wire.ErrMalformed)
)

// The handlers below run on the subscriber goroutine, one message at a
// time. They never wait for the network: what they publish is queued.

// onBroadcast handles a message on the namespace's broadcast channel or one
// of its room channels, as the Node adapter's onmessage.
func (a *Adapter) onBroadcast(channel string, b []byte) {
	room, ok := a.ch.RoomOf(channel)
	if !ok {
		return // a longer namespace name that the pattern matched
	}
	if room != "" && a.RoomSize(room) == 0 {
		return // no socket here is in the room
	}
	m, err := wire.ParseBroadcast(b, a.c.lim)
	if err != nil {
		a.c.dropped(channel, err)
		return
	}
	if m.UID == a.uid || m.Packet.NamespaceOf() != a.ns.Name() {
		return
	}
	p, err := a.eventPacket(&m.Packet)
	if err != nil {
		a.c.dropped(channel, err)
		return
	}
	a.MemoryAdapter.Broadcast(p, realtime.BroadcastOptions{Rooms: m.Opts.Rooms, Except: m.Opts.Except, Flags: localFlags(m.Opts.Flags)})
}

// eventPacket converts a published packet for this server's sockets, and
// checks that it is an event their clients accept: a Node node would
// deliver anything, a CONNECT or a "disconnect" event included.
func (a *Adapter) eventPacket(w *wire.Packet) (*socketio.Packet, error) {
	if w.Type != socketio.Event && w.Type != socketio.BinaryEvent {
		return nil, errNotEvent
	}
	p, err := w.SocketIO(a.c.lim)
	if err != nil {
		return nil, err
	}
	p.Namespace = a.ns.Name()
	p.HasID, p.ID = false, 0
	if _, _, err := socketio.ParseEvent(p); err != nil {
		return nil, fmt.Errorf("%w: %v", wire.ErrMalformed, err)
	}
	return p, nil
}

func (a *Adapter) onChannelMessage(channel string, b []byte) {
	if channel == a.ch.Request() {
		a.onRequest(channel, b)
		return
	}
	a.onResponse(channel, b)
}

// ownRequest reports whether r is one of this node's counted requests.
func (a *Adapter) ownRequest(r *wire.Request) bool {
	if r.UID == a.uid {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[r.RequestID] != nil || a.acks[r.RequestID] != nil
}

func selection(o *wire.Opts) realtime.BroadcastOptions {
	if o == nil {
		return realtime.BroadcastOptions{}
	}
	return realtime.BroadcastOptions{Rooms: o.Rooms, Except: o.Except}
}

// onRequest handles a request of another node (or of an emitter), as the
// Node adapter's onrequest.
func (a *Adapter) onRequest(channel string, b []byte) {
	r, err := wire.ParseRequest(b, a.c.lim)
	if err != nil {
		a.c.dropped(channel, err)
		return
	}
	ctx := context.Background()
	counted := r.Type == wire.Sockets || r.Type == wire.AllRooms || r.Type == wire.RemoteFetch || r.Type == wire.BroadcastWithAck
	if counted {
		if a.ownRequest(r) {
			return
		}
		if r.RequestID == "" {
			a.c.dropped(channel, errNoRequestID)
			return
		}
	}
	switch r.Type {
	case wire.Sockets:
		ids, _ := a.MemoryAdapter.Sockets(ctx, r.Rooms)
		a.respond(r, &wire.Response{Type: wire.Sockets, RequestID: r.RequestID, SocketIDs: ids})

	case wire.AllRooms:
		a.respond(r, &wire.Response{Type: wire.AllRooms, RequestID: r.RequestID, Rooms: a.MemoryAdapter.Rooms()})

	case wire.RemoteFetch:
		details, _ := a.MemoryAdapter.FetchSockets(ctx, selection(r.Opts))
		resp := &wire.Response{Type: wire.RemoteFetch, RequestID: r.RequestID, Sockets: make([]wire.RemoteSocket, len(details))}
		for i, d := range details {
			resp.Sockets[i] = wire.RemoteSocket{ID: d.ID, Handshake: handshakeJSON(d.Handshake), Rooms: nonNil(d.Rooms), Data: dataJSON(a.c, d.ID, d.Data)}
		}
		a.respond(r, resp)

	case wire.RemoteJoin, wire.RemoteLeave, wire.RemoteDisconnect:
		if r.UID == a.uid {
			return // applied to this server's sockets when it was made
		}
		if r.Opts == nil {
			a.legacyRequest(channel, r)
			return
		}
		opts := selection(r.Opts)
		switch r.Type {
		case wire.RemoteJoin:
			a.MemoryAdapter.AddSockets(opts, r.Rooms)
		case wire.RemoteLeave:
			a.MemoryAdapter.DelSockets(opts, r.Rooms)
		default:
			// Disconnect handlers are the application's: not on this
			// goroutine.
			closeConn := r.Close
			a.later(channel, func() { a.MemoryAdapter.DisconnectSockets(opts, closeConn) })
		}

	case wire.ServerSideEmit:
		if r.UID == a.uid {
			return
		}
		var ack func(json.RawMessage)
		if r.RequestID != "" {
			id := r.RequestID
			ack = func(args json.RawMessage) {
				// Always the shared channel, as the Node adapter answers.
				resp := wire.Response{Type: wire.ServerSideEmit, RequestID: id, Data: firstElement(args)}
				a.publish(a.ch.Response(), wire.AppendResponse(nil, &resp), false)
			}
		}
		data := r.Data
		a.later(channel, func() {
			if err := a.ns.DeliverServerSideEmit(data, ack); err != nil {
				a.c.dropped(channel, fmt.Errorf("%w: %v", wire.ErrMalformed, err))
			}
		})

	case wire.BroadcastWithAck:
		if r.Opts == nil {
			a.c.dropped(channel, errNoOpts)
			return
		}
		p, err := a.eventPacket(&r.Packet)
		if err != nil {
			a.c.dropped(channel, err)
			return
		}
		opts := selection(r.Opts)
		if f := r.Opts.Flags; f != nil && f.HasTimeout && f.Timeout > 0 {
			opts.Flags.Timeout = f.Timeout
		} else {
			opts.Flags.Timeout = a.c.opts.RequestsTimeout
		}
		a.MemoryAdapter.BroadcastWithAck(p, opts,
			func(n int) {
				a.respond(r, &wire.Response{Type: wire.BroadcastClientCount, RequestID: r.RequestID, ClientCount: n})
			},
			func(args socketio.Args) {
				a.respond(r, &wire.Response{Type: wire.BroadcastAck, RequestID: r.RequestID, Packet: a.firstArgMsgpack(args)})
			})
	}
	// Other types are ignored, as the Node adapter ignores them.
}

// legacyRequest handles REMOTE_JOIN, REMOTE_LEAVE and REMOTE_DISCONNECT as
// adapters before 7 sent them: for one socket, answered by its node.
func (a *Adapter) legacyRequest(channel string, r *wire.Request) {
	s := a.ns.Socket(r.SID)
	if s == nil {
		return
	}
	switch r.Type {
	case wire.RemoteJoin:
		s.Join(r.Room)
	case wire.RemoteLeave:
		s.Leave(r.Room)
	default:
		closeConn := r.Close
		a.later(channel, func() { s.Disconnect(closeConn) })
	}
	if r.RequestID != "" {
		a.respond(r, &wire.Response{Type: r.Type, RequestID: r.RequestID})
	}
}

// respond publishes the answer to a request: on the requester's own
// response channel with PublishOnSpecificResponseChannel, otherwise on the
// shared one.
func (a *Adapter) respond(r *wire.Request, resp *wire.Response) {
	channel := a.ch.Response()
	if a.c.opts.PublishOnSpecificResponseChannel && r.UID != "" {
		channel = a.ch.NodeResponse(r.UID)
	}
	a.publish(channel, wire.AppendResponse(nil, resp), false)
}

// onResponse handles an answer to a request, as the Node adapter's
// onresponse; answers to other nodes' requests are ignored.
func (a *Adapter) onResponse(channel string, b []byte) {
	r, err := wire.ParseResponse(b, a.c.lim)
	if err != nil {
		a.c.dropped(channel, err)
		return
	}
	if r.RequestID == "" {
		return
	}
	a.mu.Lock()
	if ar := a.acks[r.RequestID]; ar != nil {
		a.mu.Unlock()
		switch r.Type {
		case wire.BroadcastClientCount:
			ar.clientCount(max(r.ClientCount, 0))
		case wire.BroadcastAck:
			args, err := ackArgs(a.c, r.Packet)
			if err != nil {
				a.c.dropped(channel, err)
				return
			}
			ar.ack(args)
		}
		return
	}
	defer a.mu.Unlock()
	p := a.requests[r.RequestID]
	if p == nil {
		return
	}
	switch p.typ {
	case wire.Sockets:
		if r.Type != wire.Sockets && r.Type != wire.RemoteFetch {
			return // no sockets list: as Node, wait for a proper answer
		}
		p.ids = append(p.ids, r.SocketIDs...)
	case wire.RemoteFetch:
		if r.Type != wire.RemoteFetch {
			return
		}
		for _, s := range r.Sockets {
			p.sockets = append(p.sockets, remoteDetails(&s))
		}
	case wire.AllRooms:
		if r.Type != wire.AllRooms {
			return
		}
		p.rooms = append(p.rooms, r.Rooms...)
	case wire.ServerSideEmit:
		if r.Type != wire.ServerSideEmit {
			return
		}
		if r.Data == nil {
			p.acks = append(p.acks, json.RawMessage("[]"))
		} else {
			p.acks = append(p.acks, json.RawMessage("["+string(r.Data)+"]"))
		}
	}
	p.received++
	if p.received >= p.expected {
		delete(a.requests, r.RequestID)
		close(p.done)
	}
}

// ackArgs turns a BROADCAST_ACK's packet, one msgpack value or nothing,
// into the acknowledgement's arguments.
func ackArgs(c *Cluster, packet []byte) (socketio.Args, error) {
	p := socketio.Packet{Type: socketio.Ack, Data: []byte("[]")}
	if packet != nil {
		data, atts, err := wire.AppendJSON([]byte{'['}, nil, packet, c.lim)
		if err != nil {
			return socketio.Args{}, err
		}
		p.Data, p.Attachments = append(data, ']'), atts
		if len(atts) > 0 {
			p.Type = socketio.BinaryAck
		}
	}
	return socketio.ParseArgs(&p)
}

// firstArgMsgpack returns an acknowledgement's first argument in msgpack,
// the only one that crosses nodes; nil when there is none.
func (a *Adapter) firstArgMsgpack(args socketio.Args) []byte {
	if args.Len() == 0 {
		return nil
	}
	b, err := wire.AppendMsgpack(nil, args.Raw(0), args.Attachments(), a.c.lim)
	if err != nil {
		a.c.report(fmt.Errorf("redisadapter: an acknowledgement sent on without its argument: %w", err))
		return nil
	}
	return b
}
