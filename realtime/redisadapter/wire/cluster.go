package wire

import (
	"encoding/base64"
	"strconv"
)

// This file is the message format of socket.io-adapter's ClusterAdapter
// (lib/cluster-adapter.ts, socket.io-adapter 2.5), which the sharded mode
// of @socket.io/redis-adapter 8 and @socket.io/redis-streams-adapter 0.3
// share: {type, data, uid, nsp}, in JSON or msgpack as a whole, or for
// the streams adapter's durable messages as the fields of a stream entry.

// MessageType is the type of a ClusterAdapter message (MessageType in
// socket.io-adapter's lib/cluster-adapter.ts).
type MessageType int

// The message types of socket.io-adapter's ClusterAdapter.
const (
	MsgInitialHeartbeat       MessageType = iota + 1 // INITIAL_HEARTBEAT: a node starts (heartbeat adapters only)
	MsgHeartbeat                                     // HEARTBEAT: a node is alive (heartbeat adapters only)
	MsgBroadcast                                     // BROADCAST: a packet for the sockets opts selects; with requestId, acknowledged
	MsgSocketsJoin                                   // SOCKETS_JOIN: sockets join rooms
	MsgSocketsLeave                                  // SOCKETS_LEAVE: sockets leave rooms
	MsgDisconnectSockets                             // DISCONNECT_SOCKETS: sockets are disconnected
	MsgFetchSockets                                  // FETCH_SOCKETS: the sockets' details
	MsgFetchSocketsResponse                          // FETCH_SOCKETS_RESPONSE: one node's sockets
	MsgServerSideEmit                                // SERVER_SIDE_EMIT: an event for the other nodes; with requestId, acknowledged
	MsgServerSideEmitResponse                        // SERVER_SIDE_EMIT_RESPONSE: one node's acknowledgement
	MsgBroadcastClientCount                          // BROADCAST_CLIENT_COUNT: how many clients a node sent an acknowledged BROADCAST to
	MsgBroadcastAck                                  // BROADCAST_ACK: one client's acknowledgement
	MsgAdapterClose                                  // ADAPTER_CLOSE: a node leaves (heartbeat adapters only)
)

var messageNames = [...]string{"", "INITIAL_HEARTBEAT", "HEARTBEAT", "BROADCAST", "SOCKETS_JOIN", "SOCKETS_LEAVE",
	"DISCONNECT_SOCKETS", "FETCH_SOCKETS", "FETCH_SOCKETS_RESPONSE", "SERVER_SIDE_EMIT", "SERVER_SIDE_EMIT_RESPONSE",
	"BROADCAST_CLIENT_COUNT", "BROADCAST_ACK", "ADAPTER_CLOSE"}

// String returns the name socket.io-adapter gives t, such as
// "FETCH_SOCKETS".
func (t MessageType) String() string {
	if t > 0 && int(t) < len(messageNames) {
		return messageNames[t]
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// IsResponse reports whether t answers a request: FETCH_SOCKETS_RESPONSE,
// SERVER_SIDE_EMIT_RESPONSE, BROADCAST_CLIENT_COUNT or BROADCAST_ACK.
func (t MessageType) IsResponse() bool {
	switch t {
	case MsgFetchSocketsResponse, MsgServerSideEmitResponse, MsgBroadcastClientCount, MsgBroadcastAck:
		return true
	}
	return false
}

// mayHoldBinary reports whether the data of type t may hold binaries,
// which the Node adapters then write in msgpack.
func (t MessageType) mayHoldBinary() bool {
	switch t {
	case MsgBroadcast, MsgFetchSocketsResponse, MsgServerSideEmit, MsgServerSideEmitResponse, MsgBroadcastAck:
		return true
	}
	return false
}

// hasData reports whether messages of type t have a data field:
// every type but the heartbeats and ADAPTER_CLOSE.
func (t MessageType) hasData() bool {
	return t != MsgInitialHeartbeat && t != MsgHeartbeat && t != MsgAdapterClose
}

// Message is a ClusterAdapter message: {type, data, uid, nsp}. Which
// fields of data a type uses, in the order Node nodes write them (every
// other field is left out):
//
//	BROADCAST                  packet {type, data}, requestId (only with acknowledgements), opts {rooms, except, flags}
//	SOCKETS_JOIN, SOCKETS_LEAVE opts, rooms
//	DISCONNECT_SOCKETS         opts, close
//	FETCH_SOCKETS              opts, requestId
//	FETCH_SOCKETS_RESPONSE     requestId, sockets
//	SERVER_SIDE_EMIT           requestId (only with acknowledgements), packet [event, args...]
//	SERVER_SIDE_EMIT_RESPONSE  requestId, packet (the acknowledgement's first argument; left out when none)
//	BROADCAST_CLIENT_COUNT     requestId, clientCount
//	BROADCAST_ACK              requestId, packet (the client's first acknowledgement argument; left out when none)
//
// The heartbeats and ADAPTER_CLOSE have no data. Unlike the classic
// adapter's, a BROADCAST's packet has no nsp: the namespace is the
// envelope's.
type Message struct {
	Type MessageType
	// UID is the sender's uid: 16 hex digits, or "emitter".
	UID string
	// Namespace is the nsp field; a Node node ignores a message of another
	// namespace, or without one.
	Namespace string

	// RequestID identifies a request and its responses; "" leaves it out
	// where it is optional.
	RequestID string
	// Packet is BROADCAST's packet. Built in Go, leave its Namespace ""
	// (as Node nodes write it, without nsp).
	Packet Packet
	// Opts select the sockets; nil is written as empty options.
	Opts *Opts
	// Rooms are the rooms to join or leave.
	Rooms []string
	// Close is DISCONNECT_SOCKETS': close the connections too.
	Close bool
	// Sockets are FETCH_SOCKETS_RESPONSE's.
	Sockets []RemoteSocket
	// Args is SERVER_SIDE_EMIT's packet, the msgpack array [event,
	// args...].
	Args []byte
	// Reply is the packet of SERVER_SIDE_EMIT_RESPONSE and BROADCAST_ACK:
	// one msgpack value, nil to leave it out.
	Reply []byte
	// ClientCount is BROADCAST_CLIENT_COUNT's.
	ClientCount int

	fields        // the envelope's keys
	data   fields // the data's keys

	packet     []byte // data.packet as decoded, until finish
	packetJSON bool
}

var envelopeKeys = []string{"type", "data", "uid", "nsp"}

// dataKeys returns the keys of a type's data in the order Node nodes write
// them.
func (m *Message) dataKeys() []string {
	switch m.Type {
	case MsgBroadcast:
		return []string{"packet", "requestId", "opts"}
	case MsgSocketsJoin, MsgSocketsLeave:
		return []string{"opts", "rooms"}
	case MsgDisconnectSockets:
		return []string{"opts", "close"}
	case MsgFetchSockets:
		return []string{"opts", "requestId"}
	case MsgFetchSocketsResponse:
		return []string{"requestId", "sockets"}
	case MsgServerSideEmit, MsgServerSideEmitResponse, MsgBroadcastAck:
		return []string{"requestId", "packet"}
	case MsgBroadcastClientCount:
		return []string{"requestId", "clientCount"}
	}
	return nil
}

func (m *Message) hasDataKey(k string) bool {
	t := m.Type
	switch k {
	case "packet":
		switch t {
		case MsgBroadcast, MsgServerSideEmit:
			return true
		case MsgServerSideEmitResponse, MsgBroadcastAck:
			return m.Reply != nil
		}
	case "requestId":
		switch t {
		case MsgBroadcast, MsgServerSideEmit:
			return m.RequestID != ""
		}
		return t == MsgFetchSockets || t.IsResponse()
	case "opts":
		return t >= MsgBroadcast && t <= MsgFetchSockets
	case "rooms":
		return t == MsgSocketsJoin || t == MsgSocketsLeave
	case "close":
		return t == MsgDisconnectSockets
	case "sockets":
		return t == MsgFetchSocketsResponse
	case "clientCount":
		return t == MsgBroadcastClientCount
	}
	return false
}

// HasBinary reports whether the message's data holds a binary: the Node
// adapters then write it in msgpack (see [AppendMessage]).
func (m *Message) HasBinary() bool {
	if !m.Type.mayHoldBinary() {
		return false
	}
	switch m.Type {
	case MsgBroadcast:
		return hasBinary(m.Packet.Data)
	case MsgServerSideEmit:
		return hasBinary(m.Args)
	case MsgServerSideEmitResponse, MsgBroadcastAck:
		return hasBinary(m.Reply)
	}
	return false // sockets are carried as JSON
}

// AppendMessage appends m to dst as the sharded adapter writes messages:
// in msgpack when the data holds a binary ([Message.HasBinary]), in JSON
// otherwise.
func AppendMessage(dst []byte, m *Message) []byte {
	return m.append(dst, !m.HasBinary())
}

// AppendMessageMsgpack appends m to dst in msgpack, as the streams adapter
// writes every message it publishes on Redis pub/sub.
func AppendMessageMsgpack(dst []byte, m *Message) []byte { return m.append(dst, false) }

func (m *Message) append(dst []byte, isJSON bool) []byte {
	w := &out{json: isJSON, b: dst}
	keys := m.layout(envelopeKeys, func(k string) bool { return k != "data" || m.Type.hasData() })
	w.writeMap(&m.fields, keys, func(k string) {
		switch k {
		case "type":
			w.int(int64(m.Type))
		case "data":
			m.appendData(w)
		case "uid":
			w.str(m.UID)
		case "nsp":
			w.str(m.Namespace)
		}
	})
	return w.b
}

func (m *Message) appendData(w *out) {
	keys := m.data.layout(m.dataKeys(), m.hasDataKey)
	w.writeMap(&m.data, keys, func(k string) {
		switch k {
		case "packet":
			switch m.Type {
			case MsgBroadcast:
				m.Packet.encode(w)
			case MsgServerSideEmit:
				args := m.Args
				if args == nil {
					args = []byte{0x90}
				}
				w.convertedRaw(args, false)
			default:
				w.convertedRaw(m.Reply, false)
			}
		case "requestId":
			w.str(m.RequestID)
		case "opts":
			o := m.Opts
			if o == nil {
				o = &Opts{}
			}
			o.encode(w, true)
		case "rooms":
			w.strings(nonNil(m.Rooms))
		case "close":
			w.bool(m.Close)
		case "sockets":
			w.array(len(m.Sockets), func(i int) { m.Sockets[i].encode(w) })
		case "clientCount":
			w.int(int64(m.ClientCount))
		}
	})
}

// ParseMessage decodes a message, JSON if it starts with '{' and msgpack
// otherwise, as the sharded adapter tells them apart (the streams adapter
// publishes msgpack only). It accepts any key order and keeps what it does
// not know, so that a decoded message encodes again to the same bytes in
// the same encoding. The type must be there, and data must be an object
// when present; the fields a type needs are checked by [Message.Check].
// The fields alias b. Errors wrap [ErrMalformed] or [ErrLimit].
func ParseMessage(b []byte, lim *Limits) (*Message, error) {
	o, err := parseMessage(b, lim)
	if err != nil {
		return nil, err
	}
	m := new(Message)
	typed := false
	err = o.each(&m.fields, func(k string, v []byte) (bool, error) {
		var err error
		switch k {
		case "type":
			var t int64
			t, err = o.int(v)
			m.Type, typed = MessageType(t), true
		case "uid":
			if o.isNull(v) {
				return false, nil
			}
			m.UID, err = o.str(v)
		case "nsp":
			if o.isNull(v) {
				return false, nil
			}
			m.Namespace, err = o.str(v)
		case "data":
			if o.isNull(v) {
				return false, nil
			}
			d, err := parseObject(v, o.json, o.lim, o.lim.MaxDepth)
			if err != nil {
				return true, err
			}
			return true, m.decodeData(d)
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if !typed {
		return nil, malformed("message without a type")
	}
	if err := m.finish(o.lim); err != nil {
		return nil, err
	}
	return m, nil
}

// finish decodes data.packet, once the type is known: BROADCAST's is a
// packet object, the others' any value, kept in msgpack.
func (m *Message) finish(lim Limits) error {
	v := m.packet
	m.packet = nil
	if v == nil {
		return nil
	}
	if m.Type == MsgBroadcast {
		po, err := parseObject(v, m.packetJSON, lim, lim.MaxDepth)
		if err != nil {
			return malformed("\"packet\": %v", err)
		}
		if err := m.Packet.decode(po); err != nil {
			return malformed("\"packet\": %v", err)
		}
		return nil
	}
	o := object{json: m.packetJSON, lim: lim}
	mp, err := o.asMsgpack(v)
	if err != nil {
		return malformed("\"packet\": %v", err)
	}
	if m.Type == MsgServerSideEmit {
		m.Args = mp
	} else {
		m.Reply = mp
	}
	return nil
}

func (m *Message) decodeData(o object) error {
	return o.each(&m.data, func(k string, v []byte) (bool, error) {
		var err error
		switch k {
		case "requestId":
			if o.isNull(v) {
				return false, nil
			}
			m.RequestID, err = o.str(v)
		case "packet":
			// What it is depends on the type, which may come after the
			// data: see finish.
			m.packet, m.packetJSON = v, o.json
			return true, nil
		case "opts":
			oo, err := parseObject(v, o.json, o.lim, o.lim.MaxDepth)
			if err != nil {
				return true, err
			}
			m.Opts = new(Opts)
			return true, m.Opts.decode(oo)
		case "rooms":
			m.Rooms, err = o.rooms(v)
		case "close":
			if o.isNull(v) {
				return false, nil
			}
			m.Close, err = o.bool(v)
		case "sockets":
			var elems [][]byte
			if elems, err = o.array(v); err != nil {
				return true, err
			}
			m.Sockets = make([]RemoteSocket, 0, len(elems))
			for _, e := range elems {
				so, err := parseObject(e, o.json, o.lim, o.lim.MaxDepth)
				if err != nil {
					return true, err
				}
				var s RemoteSocket
				if err := s.decode(so); err != nil {
					return true, err
				}
				m.Sockets = append(m.Sockets, s)
			}
		case "clientCount":
			var n int64
			n, err = o.int(v)
			m.ClientCount = int(n)
		default:
			return false, nil
		}
		return true, err
	})
}

// Check reports a message that lacks what its type needs, as a Node node
// would fail on it: a namespace; opts for BROADCAST, SOCKETS_JOIN,
// SOCKETS_LEAVE, DISCONNECT_SOCKETS and FETCH_SOCKETS; an object packet
// for BROADCAST and an array for SERVER_SIDE_EMIT; a requestId for
// FETCH_SOCKETS and every response. Errors wrap [ErrMalformed].
func (m *Message) Check() error {
	t := m.Type
	switch {
	case m.Namespace == "" && !m.has("nsp"):
		return malformed("%s without nsp", t)
	case t >= MsgBroadcast && t <= MsgFetchSockets && m.Opts == nil:
		return malformed("%s without opts", t)
	case (t == MsgFetchSockets || t.IsResponse()) && m.RequestID == "":
		return malformed("%s without a requestId", t)
	case t == MsgBroadcast && m.Packet.Data == nil:
		return malformed("BROADCAST without packet data")
	case t == MsgServerSideEmit && (len(m.Args) == 0 || !isArray(m.Args[0])):
		return malformed("SERVER_SIDE_EMIT packet is not an array")
	}
	return nil
}

// has reports whether the decoded map had key k.
func (fs *fields) has(k string) bool { return contains(fs.keys, k) }

// StreamEntry is a message as @socket.io/redis-streams-adapter writes it
// in a Redis stream (XADD ... uid U nsp N type T data D): the values of
// the entry's fields. Its durable messages go there: BROADCAST without
// acknowledgements, SOCKETS_JOIN, SOCKETS_LEAVE and DISCONNECT_SOCKETS.
type StreamEntry struct {
	UID       string
	Namespace string
	Type      string // the message type in decimal
	// Data is the message's data as JSON text, or when it holds a binary,
	// the standard base64 of its msgpack; "" when the message has none.
	Data string
}

// Values returns the entry's fields and values as XADD takes them, in the
// order the Node adapter writes them: uid, nsp, type, then data unless it
// is "".
func (e *StreamEntry) Values() []string {
	v := []string{"uid", e.UID, "nsp", e.Namespace, "type", e.Type}
	if e.Data != "" {
		v = append(v, "data", e.Data)
	}
	return v
}

// NewStreamEntry returns m as the streams adapter writes it in the
// stream: its data in JSON, or in base64 msgpack when it holds a binary
// and onlyPlaintext (the adapter's option that skips the check) is false.
func NewStreamEntry(m *Message, onlyPlaintext bool) StreamEntry {
	e := StreamEntry{UID: m.UID, Namespace: m.Namespace, Type: strconv.Itoa(int(m.Type))}
	if !m.Type.hasData() {
		return e
	}
	if !onlyPlaintext && m.HasBinary() {
		w := &out{b: nil}
		m.appendData(w)
		e.Data = base64.StdEncoding.EncodeToString(w.b)
		return e
	}
	w := &out{json: true}
	m.appendData(w)
	e.Data = string(w.b)
	return e
}

// ParseStreamEntry decodes a stream entry as the streams adapter does:
// the type read as parseInt reads it, data as JSON when it starts with
// '{' and as base64 msgpack otherwise. Errors wrap [ErrMalformed] or
// [ErrLimit].
func ParseStreamEntry(e StreamEntry, lim *Limits) (*Message, error) {
	l := lim.orDefaults()
	if len(e.Data) > l.MaxSize*4/3+4 {
		return nil, overLimit("stream entry of %d bytes, the limit is %d", len(e.Data), l.MaxSize)
	}
	t, ok := parseIntPrefix(e.Type)
	if !ok {
		return nil, malformed("stream entry type %q", e.Type)
	}
	m := &Message{Type: MessageType(t), UID: e.UID, Namespace: e.Namespace}
	m.fields.keys = []string{"uid", "nsp", "type"}
	if e.Data == "" {
		return m, nil
	}
	m.fields.keys = append(m.fields.keys, "data")
	var b []byte
	isJSON := e.Data[0] == '{'
	if isJSON {
		b = []byte(e.Data)
	} else {
		var err error
		if b, err = base64.StdEncoding.DecodeString(e.Data); err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(e.Data); err != nil {
				return nil, malformed("stream entry data: %v", err)
			}
		}
	}
	o, err := parseObject(b, isJSON, l, l.MaxDepth)
	if err != nil {
		return nil, err
	}
	if err := m.decodeData(o); err != nil {
		return nil, err
	}
	if err := m.finish(l); err != nil {
		return nil, err
	}
	return m, nil
}

// parseIntPrefix reads a decimal integer as JavaScript's parseInt(s, 10):
// white space and a sign first, then the digits up to the first other
// character.
func parseIntPrefix(s string) (int, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	n, digits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && digits < 9; i++ {
		n = n*10 + int(s[i]-'0')
		digits++
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// Session is a disconnected socket's state as the streams adapter keeps it
// for connection state recovery: msgpack {sid, pid, rooms, data}, in
// base64, under the key sessionKeyPrefix + pid.
type Session struct {
	SID   string
	PID   string
	Rooms []string
	// Data is the socket's data as one msgpack value; nil is written as
	// {}, a Node socket's default.
	Data []byte

	fields
}

var sessionKeys = []string{"sid", "pid", "rooms", "data"}

// AppendSession appends the base64 text of s's msgpack to dst, as the
// streams adapter stores a session.
func AppendSession(dst []byte, s *Session) []byte {
	w := &out{}
	keys := s.layout(sessionKeys, func(string) bool { return true })
	w.writeMap(&s.fields, keys, func(k string) {
		switch k {
		case "sid":
			w.str(s.SID)
		case "pid":
			w.str(s.PID)
		case "rooms":
			w.strings(nonNil(s.Rooms))
		case "data":
			d := s.Data
			if d == nil {
				d = []byte{0x80}
			}
			w.convertedRaw(d, false)
		}
	})
	return base64.StdEncoding.AppendEncode(dst, w.b)
}

// ParseSession decodes a session the streams adapter stored: base64 of a
// msgpack map. sid and pid must be there. Errors wrap [ErrMalformed] or
// [ErrLimit].
func ParseSession(b []byte, lim *Limits) (*Session, error) {
	l := lim.orDefaults()
	if len(b) > l.MaxSize*4/3+4 {
		return nil, overLimit("session of %d bytes, the limit is %d", len(b), l.MaxSize)
	}
	mp, err := base64.StdEncoding.AppendDecode(nil, b)
	if err != nil {
		return nil, malformed("session: %v", err)
	}
	o, err := parseObject(mp, false, l, l.MaxDepth)
	if err != nil {
		return nil, err
	}
	s := new(Session)
	err = o.each(&s.fields, func(k string, v []byte) (bool, error) {
		var err error
		switch k {
		case "sid":
			s.SID, err = o.str(v)
		case "pid":
			s.PID, err = o.str(v)
		case "rooms":
			s.Rooms, err = o.rooms(v)
		case "data":
			s.Data = v
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if s.SID == "" || s.PID == "" {
		return nil, malformed("session without sid or pid")
	}
	return s, nil
}

// hasBinary reports whether a msgpack value holds a binary: a bin, or an
// extension other than a timestamp (which stands for a Date). A value that
// does not decode holds none.
func hasBinary(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	found := false
	rd := newReader(v)
	var walk func(depth int) error
	walk = func(depth int) error {
		if depth <= 0 || found {
			return errStop
		}
		c, err := rd.peek()
		if err != nil {
			return err
		}
		switch {
		case isBin(c):
			found = true
			return errStop
		case isExt(c):
			id, n, err := rd.d.DecodeExtHeader()
			if err != nil {
				return err
			}
			if id != -1 && !(id == 0 && n == 8 && c == 0xd7) { // a Date in notepack.io 3 and 2
				found = true
				return errStop
			}
			_, err = rd.take(n)
			return err
		case isArray(c):
			n, err := rd.arrayLen()
			if err != nil {
				return err
			}
			for range n {
				if err := walk(depth - 1); err != nil {
					return err
				}
			}
			return nil
		case isMap(c):
			n, err := rd.mapLen()
			if err != nil {
				return err
			}
			for range 2 * n {
				if err := walk(depth - 1); err != nil {
					return err
				}
			}
			return nil
		}
		return rd.skip(1)
	}
	walk(DefaultMaxDepth)
	return found
}

var errStop = malformed("stop")
