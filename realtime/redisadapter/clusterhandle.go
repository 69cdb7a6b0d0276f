package redisadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
	"github.com/wirelevel/ws/realtime/socketio"
)

// The handlers below run on the subscriber goroutine or a stream reader's,
// one message at a time. They never wait for the network: what they
// publish is queued.

// onPubSub handles a message on the namespace's channel, a room's or (in
// the streams mode) this node's, as the Node adapters' onMessage.
func (a *ClusterAdapter) onPubSub(channel string, b []byte) {
	m, err := wire.ParseMessage(b, a.c.lim)
	if err != nil {
		a.c.dropped(channel, err)
		return
	}
	a.onMessage(channel, m, "")
}

// onPubSubResponse handles a message on this node's channel in the
// sharded mode, which the Node adapter takes as a response whatever it
// says.
func (a *ClusterAdapter) onPubSubResponse(channel string, b []byte) {
	m, err := wire.ParseMessage(b, a.c.lim)
	if err != nil {
		a.c.dropped(channel, err)
		return
	}
	a.onResponse(channel, m)
}

// onStreamEntry handles an entry of the namespace's stream; its id is the
// offset of a broadcast.
func (a *ClusterAdapter) onStreamEntry(stream string, e wire.StreamEntry, id string) {
	m, err := wire.ParseStreamEntry(e, a.c.lim)
	if err != nil {
		a.c.dropped(stream, err)
		return
	}
	a.onMessage(stream, m, id)
}

// onMessage handles a message of another node, as socket.io-adapter's
// ClusterAdapter.onMessage: a node's own messages, and those of other
// namespaces, are skipped.
func (a *ClusterAdapter) onMessage(channel string, m *wire.Message, offset string) {
	if m.UID == a.uid || m.Namespace != a.ns.Name() {
		return
	}
	if err := m.Check(); err != nil {
		a.c.dropped(channel, err)
		return
	}
	if m.Type.IsResponse() {
		a.onResponse(channel, m)
		return
	}
	switch m.Type {
	case wire.MsgBroadcast:
		p, err := a.eventPacket(&m.Packet)
		if err != nil {
			a.c.dropped(channel, err)
			return
		}
		opts := realtime.BroadcastOptions{Rooms: m.Opts.Rooms, Except: m.Opts.Except}
		if m.RequestID == "" {
			opts.Flags = localFlags(m.Opts.Flags)
			switch {
			case a.c.mode == streams:
				a.MemoryAdapter.BroadcastWithOffset(p, opts, offset)
			default:
				a.MemoryAdapter.Broadcast(p, opts)
			}
			return
		}
		if f := m.Opts.Flags; f != nil && f.HasTimeout && f.Timeout > 0 {
			opts.Flags.Timeout = f.Timeout
		} else {
			opts.Flags.Timeout = a.c.opts.RequestsTimeout
		}
		requester, id := m.UID, m.RequestID
		a.MemoryAdapter.BroadcastWithAck(p, opts,
			func(n int) {
				a.respond(requester, &wire.Message{Type: wire.MsgBroadcastClientCount, RequestID: id, ClientCount: n})
			},
			func(args socketio.Args) {
				a.respond(requester, &wire.Message{Type: wire.MsgBroadcastAck, RequestID: id, Reply: a.firstArg(args)})
			})

	case wire.MsgSocketsJoin:
		a.MemoryAdapter.AddSockets(selection(m.Opts), m.Rooms)
	case wire.MsgSocketsLeave:
		a.MemoryAdapter.DelSockets(selection(m.Opts), m.Rooms)
	case wire.MsgDisconnectSockets:
		// Disconnect handlers are the application's: not on this goroutine.
		opts, closeConn := selection(m.Opts), m.Close
		a.later(channel, func() { a.MemoryAdapter.DisconnectSockets(opts, closeConn) })

	case wire.MsgFetchSockets:
		details, _ := a.MemoryAdapter.FetchSockets(context.Background(), selection(m.Opts))
		resp := &wire.Message{Type: wire.MsgFetchSocketsResponse, RequestID: m.RequestID, Sockets: make([]wire.RemoteSocket, len(details))}
		for i, d := range details {
			resp.Sockets[i] = wire.RemoteSocket{ID: d.ID, Handshake: handshakeJSON(d.Handshake), Rooms: nonNil(d.Rooms), Data: dataJSON(a.c, d.ID, d.Data)}
		}
		a.respond(m.UID, resp)

	case wire.MsgServerSideEmit:
		data, atts, err := wire.AppendJSON(nil, nil, m.Args, a.c.lim)
		if err == nil && len(atts) > 0 {
			err = fmt.Errorf("%w: a server-side event with binary arguments", wire.ErrMalformed)
		}
		if err != nil {
			a.c.dropped(channel, err)
			return
		}
		var ack func(json.RawMessage)
		if m.RequestID != "" {
			requester, id := m.UID, m.RequestID
			ack = func(args json.RawMessage) {
				// Only the first argument crosses nodes; none leaves the
				// packet out, as Node writes an undefined one.
				var reply []byte
				if first := firstElement(args); first != nil {
					var err error
					if reply, err = wire.AppendMsgpack(nil, first, nil, a.c.lim); err != nil {
						a.c.report(fmt.Errorf("redisadapter: a server-side acknowledgement sent on without its argument: %w", err))
						reply = nil
					}
				}
				a.respond(requester, &wire.Message{Type: wire.MsgServerSideEmitResponse, RequestID: id, Reply: reply})
			}
		}
		a.later(channel, func() {
			if err := a.ns.DeliverServerSideEmit(data, ack); err != nil {
				a.c.dropped(channel, fmt.Errorf("%w: %v", wire.ErrMalformed, err))
			}
		})
	}
	// The heartbeats and ADAPTER_CLOSE of heartbeat adapters, and unknown
	// types, are ignored, as the ClusterAdapter ignores them.
}

// eventPacket converts a broadcast packet for this server's sockets, and
// checks that it is an event their clients accept.
func (a *ClusterAdapter) eventPacket(w *wire.Packet) (*socketio.Packet, error) {
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

// onResponse handles an answer to a request of this node; answers to
// requests it does not know (another node's, or timed out) are ignored.
func (a *ClusterAdapter) onResponse(channel string, m *wire.Message) {
	if m.RequestID == "" {
		return
	}
	a.mu.Lock()
	if ar := a.acks[m.RequestID]; ar != nil {
		a.mu.Unlock()
		switch m.Type {
		case wire.MsgBroadcastClientCount:
			ar.clientCount(max(m.ClientCount, 0))
		case wire.MsgBroadcastAck:
			args, err := ackArgs(a.c, m.Reply)
			if err != nil {
				a.c.dropped(channel, err)
				return
			}
			ar.ack(args)
		}
		return
	}
	defer a.mu.Unlock()
	p := a.requests[m.RequestID]
	if p == nil {
		return
	}
	switch {
	case p.typ == wire.MsgFetchSockets && m.Type == wire.MsgFetchSocketsResponse:
		for _, s := range m.Sockets {
			p.sockets = append(p.sockets, remoteDetails(&s))
		}
	case p.typ == wire.MsgServerSideEmit && m.Type == wire.MsgServerSideEmitResponse:
		if m.Reply == nil {
			p.acks = append(p.acks, json.RawMessage("[]"))
			break
		}
		j, atts, err := wire.AppendJSON([]byte{'['}, nil, m.Reply, a.c.lim)
		if err != nil || len(atts) > 0 {
			j = []byte("[null")
		}
		p.acks = append(p.acks, append(j, ']'))
	default:
		return // not an answer to this request
	}
	p.received++
	if p.received >= p.expected {
		delete(a.requests, m.RequestID)
		close(p.done)
	}
}

// firstArg returns an acknowledgement's first argument in msgpack, the
// only one that crosses nodes; nil when there is none.
func (a *ClusterAdapter) firstArg(args socketio.Args) []byte {
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

// Connection state recovery across nodes, in the streams mode, as the
// Node adapter keeps sessions: in Redis, read back once.

// streamOffset is what the Node adapter accepts as an offset: a stream
// entry id.
var streamOffset = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// restoreMaxCalls bounds the XRANGE calls of one restore, as the Node
// adapter's RESTORE_SESSION_MAX_XRANGE_CALLS; restoreCount bounds the
// entries of one call.
const (
	restoreMaxCalls = 100
	restoreCount    = 1000
)

// sessionTimeout bounds the Redis commands of PersistSession and
// RestoreSession.
const sessionTimeout = 5 * time.Second

// PersistSession keeps the state of a socket that disconnected in Redis,
// in the streams mode with connection state recovery, for
// MaxDisconnectionDuration, where any node can restore it; its data must
// encode as JSON. Otherwise it is [realtime.MemoryAdapter]'s.
func (a *ClusterAdapter) PersistSession(s *realtime.PersistedSession) {
	if a.c.mode != streams || a.recovery == nil {
		a.MemoryAdapter.PersistSession(s)
		return
	}
	ws := wire.Session{SID: s.SID, PID: s.PID, Rooms: s.Rooms}
	if s.Data != nil {
		d, err := wire.AppendValue(nil, s.Data)
		if err != nil {
			a.c.report(fmt.Errorf("redisadapter: the data of socket %s is not kept for its recovery: %w", s.SID, err))
		} else {
			ws.Data = d
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
	defer cancel()
	key := a.c.sopts.SessionKeyPrefix + s.PID
	if err := a.c.rdb.Set(ctx, key, wire.AppendSession(nil, &ws), a.recovery.MaxDisconnectionDuration).Err(); err != nil {
		a.c.report(fmt.Errorf("redisadapter: the session of socket %s is not kept: %w", s.SID, err))
	}
}

// RestoreSession returns the state of a socket that disconnected from any
// node, in the streams mode with connection state recovery, with the
// packets broadcast to it since offset (a stream entry id), each with its
// own entry id as its offset; nil when the session is unknown or expired,
// when offset is no longer in the stream, or when more packets were
// missed than [realtime.RecoveryOptions] MaxPackets and MaxBytes allow.
// The session is deleted: it is restored once. The socket's data comes
// back as JSON ([json.RawMessage]). Otherwise it is
// [realtime.MemoryAdapter]'s.
func (a *ClusterAdapter) RestoreSession(pid, offset string) (*realtime.PersistedSession, error) {
	if a.c.mode != streams || a.recovery == nil {
		return a.MemoryAdapter.RestoreSession(pid, offset)
	}
	if !streamOffset.MatchString(offset) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
	defer cancel()
	key := a.c.sopts.SessionKeyPrefix + pid
	var get *redis.StringCmd
	var at *redis.XMessageSliceCmd
	_, err := a.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		at = p.XRange(ctx, a.stream, offset, offset)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisadapter: restore session: %w", err)
	}
	raw, err := get.Bytes()
	if err != nil || len(at.Val()) == 0 {
		return nil, nil // no session, or the offset is gone
	}
	ws, err := wire.ParseSession(raw, a.c.lim)
	if err != nil {
		a.c.dropped(key, err)
		return nil, nil
	}
	prev := &realtime.PersistedSession{SID: ws.SID, PID: ws.PID, Rooms: ws.Rooms}
	if ws.Data != nil {
		if j, atts, err := wire.AppendJSON(nil, nil, ws.Data, a.c.lim); err == nil && len(atts) == 0 {
			prev.Data = json.RawMessage(j)
		}
	}
	maxPackets, maxBytes := a.recovery.MaxPackets, a.recovery.MaxBytes
	if maxPackets <= 0 {
		maxPackets = realtime.DefaultRecoveryMaxPackets
	}
	if maxBytes <= 0 {
		maxBytes = realtime.DefaultRecoveryMaxBytes
	}
	size := 0
	for range restoreMaxCalls {
		entries, err := a.c.rdb.XRangeN(ctx, a.stream, nextOffset(offset), "+", restoreCount).Result()
		if err != nil {
			return nil, fmt.Errorf("redisadapter: restore session: %w", err)
		}
		if len(entries) == 0 {
			break
		}
		for i := range entries {
			e := &entries[i]
			offset = e.ID
			se := streamEntry(e)
			if se.Namespace != a.ns.Name() || se.Type != "3" {
				continue
			}
			m, err := wire.ParseStreamEntry(se, a.c.lim)
			if err == nil {
				err = m.Check()
			}
			if err != nil {
				a.c.dropped(a.stream, err)
				continue
			}
			if !includes(ws.Rooms, m.Opts.Rooms, m.Opts.Except) {
				continue
			}
			p, err := a.eventPacket(&m.Packet)
			if err != nil {
				a.c.dropped(a.stream, err)
				continue
			}
			p.Data = appendOffset(p.Data, e.ID)
			size += len(p.Data)
			for _, b := range p.Attachments {
				size += len(b)
			}
			prev.MissedPackets = append(prev.MissedPackets, p)
			if len(prev.MissedPackets) > maxPackets || size > maxBytes {
				a.c.report(fmt.Errorf("redisadapter: socket %s missed more than the recovery bounds allow: not recovered", ws.SID))
				return nil, nil
			}
		}
	}
	return prev, nil
}

// nextOffset returns the entry id after offset, as the Node adapter
// computes it (exclusive ranges need Redis 6.2).
func nextOffset(offset string) string {
	ts, seq, _ := strings.Cut(offset, "-")
	n, _ := strconv.ParseUint(seq, 10, 64)
	return ts + "-" + strconv.FormatUint(n+1, 10)
}

// includes reports whether a socket in rooms was a recipient of a
// broadcast to to, except except (the Node adapter's shouldIncludePacket).
func includes(rooms, to, except []string) bool {
	in := len(to) == 0
	for _, r := range rooms {
		for _, x := range except {
			if r == x {
				return false
			}
		}
		if !in {
			for _, x := range to {
				if r == x {
					in = true
					break
				}
			}
		}
	}
	return in
}

// appendOffset adds offset as the last element of the JSON array data, as
// the Node adapter pushes it.
func appendOffset(data []byte, offset string) []byte {
	end := len(data) - 1 // the closing bracket
	out := make([]byte, 0, len(data)+len(offset)+3)
	out = append(out, data[:end]...)
	if end > 1 {
		out = append(out, ',')
	}
	out = strconv.AppendQuote(out, offset) // stream ids are ASCII
	return append(out, ']')
}
