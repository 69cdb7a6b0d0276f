package wire

import (
	"encoding/json"
	"strconv"
)

// RequestType is the type of a request between nodes, and of some
// responses (RequestType in @socket.io/redis-adapter's lib/index.ts).
type RequestType int

// The request and response types of @socket.io/redis-adapter 8.
const (
	Sockets              RequestType = iota // SOCKETS: the ids of the sockets in rooms (no longer sent by 8.x, still answered)
	AllRooms                                // ALL_ROOMS: every node's rooms
	RemoteJoin                              // REMOTE_JOIN: sockets join rooms
	RemoteLeave                             // REMOTE_LEAVE: sockets leave rooms
	RemoteDisconnect                        // REMOTE_DISCONNECT: sockets are disconnected
	RemoteFetch                             // REMOTE_FETCH: the sockets' details
	ServerSideEmit                          // SERVER_SIDE_EMIT: an event for the other nodes
	BroadcastWithAck                        // BROADCAST: a broadcast whose clients acknowledge
	BroadcastClientCount                    // BROADCAST_CLIENT_COUNT: how many clients a node sent a BROADCAST to
	BroadcastAck                            // BROADCAST_ACK: one client's acknowledgement
)

var requestNames = [...]string{"SOCKETS", "ALL_ROOMS", "REMOTE_JOIN", "REMOTE_LEAVE", "REMOTE_DISCONNECT", "REMOTE_FETCH", "SERVER_SIDE_EMIT", "BROADCAST", "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK"}

// String returns the name the Node adapter gives t, such as "REMOTE_FETCH".
func (t RequestType) String() string {
	if t >= 0 && int(t) < len(requestNames) {
		return requestNames[t]
	}
	return "RequestType(" + strconv.Itoa(int(t)) + ")"
}

// msgpackType reports whether messages of type t are msgpack: the
// BROADCAST request and the BROADCAST_ACK response, whose packets may
// hold binaries. Everything else is JSON.
func (t RequestType) msgpack() bool { return t == BroadcastWithAck || t == BroadcastAck }

// Request is a message on the request channel. Which fields a type uses,
// as Node nodes write them (every other field is left out):
//
//	SOCKETS            uid, requestId, type, rooms
//	ALL_ROOMS          uid, requestId, type
//	REMOTE_JOIN        uid, type, opts {rooms, except}, rooms (the rooms to join)
//	REMOTE_LEAVE       uid, type, opts, rooms
//	REMOTE_DISCONNECT  uid, type, opts, close
//	REMOTE_FETCH       uid, requestId, type, opts
//	SERVER_SIDE_EMIT   uid, requestId (only when acknowledgements are wanted), type, data
//	BROADCAST          uid, requestId, type, packet, opts {rooms, except, flags}
//
// The emitter leaves uid out of REMOTE_JOIN, REMOTE_LEAVE and
// REMOTE_DISCONNECT, and sends "emitter" in SERVER_SIDE_EMIT. Adapters
// before 7 sent REMOTE_JOIN and REMOTE_LEAVE as {requestId, type, sid,
// room} and REMOTE_DISCONNECT as {requestId, type, sid, close}, answered
// by the socket's node with {requestId}.
type Request struct {
	Type RequestType
	// UID is the sender's uid; "" leaves it out.
	UID string
	// RequestID identifies the request in responses; "" leaves it out.
	RequestID string
	// Rooms are the rooms of SOCKETS, or those to join or leave.
	Rooms []string
	// Opts select the sockets; nil leaves them out.
	Opts *Opts
	// Close is REMOTE_DISCONNECT's: close the connection too.
	Close bool
	// Data is SERVER_SIDE_EMIT's [event, args...], as JSON. Node nodes
	// write it with JSON.stringify, so a binary argument arrives as
	// {"type":"Buffer","data":[...]}.
	Data json.RawMessage
	// Packet is BROADCAST's packet.
	Packet Packet
	// SID and Room are the socket and room of the requests of adapters
	// before 7.
	SID, Room string

	fields
}

var requestKeys = []string{"uid", "requestId", "type", "packet", "opts", "rooms", "sid", "room", "close", "data"}

func (r *Request) has(k string) bool {
	switch k {
	case "uid":
		return r.UID != ""
	case "requestId":
		return r.RequestID != ""
	case "type":
		return true
	case "packet":
		return r.Type == BroadcastWithAck
	case "opts":
		return r.Opts != nil
	case "rooms":
		return r.SID == "" && (r.Type == Sockets || r.Type == RemoteJoin || r.Type == RemoteLeave)
	case "sid":
		return r.SID != ""
	case "room":
		return r.SID != "" && (r.Type == RemoteJoin || r.Type == RemoteLeave)
	case "close":
		return r.Type == RemoteDisconnect
	case "data":
		return r.Type == ServerSideEmit
	}
	return false
}

// AppendRequest appends the encoding of r to dst: msgpack for BROADCAST,
// JSON for every other type, as Node nodes write them.
func AppendRequest(dst []byte, r *Request) []byte {
	w := &out{json: !r.Type.msgpack(), b: dst}
	keys := r.layout(requestKeys, r.has)
	w.writeMap(&r.fields, keys, func(k string) {
		switch k {
		case "uid":
			w.str(r.UID)
		case "requestId":
			w.str(r.RequestID)
		case "type":
			w.int(int64(r.Type))
		case "packet":
			r.Packet.encode(w)
		case "opts":
			r.Opts.encode(w, false)
		case "rooms":
			w.strings(nonNil(r.Rooms))
		case "sid":
			w.str(r.SID)
		case "room":
			w.str(r.Room)
		case "close":
			w.bool(r.Close)
		case "data":
			data := []byte(r.Data)
			if data == nil {
				data = []byte("[]")
			}
			w.convertedRaw(data, true)
		}
	})
	return w.b
}

// ParseRequest decodes a request, JSON if it starts with '{' and msgpack
// otherwise, as Node nodes tell them apart. It accepts any key order and
// leaves missing fields zero; type must be there. A decoded request
// encodes again to the same bytes when it is in the encoding its type
// calls for. The fields alias b. Errors wrap [ErrMalformed] or [ErrLimit].
func ParseRequest(b []byte, lim *Limits) (*Request, error) {
	o, err := parseMessage(b, lim)
	if err != nil {
		return nil, err
	}
	r := new(Request)
	typed := false
	err = o.each(&r.fields, func(k string, v []byte) (bool, error) {
		var err error
		switch k {
		case "type":
			var t int64
			t, err = o.int(v)
			r.Type, typed = RequestType(t), true
		case "uid":
			if o.isNull(v) {
				return false, nil
			}
			r.UID, err = o.str(v)
		case "requestId":
			if o.isNull(v) {
				return false, nil
			}
			r.RequestID, err = o.str(v)
		case "rooms":
			r.Rooms, err = o.rooms(v)
		case "opts":
			oo, err := parseObject(v, o.json, o.lim, o.lim.MaxDepth)
			if err != nil {
				return true, err
			}
			r.Opts = new(Opts)
			return true, r.Opts.decode(oo)
		case "close":
			r.Close, err = o.bool(v)
		case "data":
			r.Data, err = o.asJSON(v)
		case "packet":
			po, err := parseObject(v, o.json, o.lim, o.lim.MaxDepth)
			if err != nil {
				return true, err
			}
			return true, r.Packet.decode(po)
		case "sid":
			r.SID, err = o.str(v)
		case "room":
			r.Room, err = o.str(v)
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if !typed {
		return nil, malformed("request without a type")
	}
	return r, nil
}

func parseMessage(b []byte, lim *Limits) (object, error) {
	l := lim.orDefaults()
	if len(b) > l.MaxSize {
		return object{}, overLimit("message of %d bytes, the limit is %d", len(b), l.MaxSize)
	}
	if len(b) == 0 {
		return object{}, malformed("empty message")
	}
	// "if the buffer starts with a "{" character" (lib/index.ts)
	return parseObject(b, b[0] == '{', l, l.MaxDepth)
}

// Response is a message on a response channel. Which fields a type uses,
// as Node nodes write them:
//
//	SOCKETS                 requestId, sockets (socket ids)
//	ALL_ROOMS               requestId, rooms
//	REMOTE_FETCH            requestId, sockets ([RemoteSocket]s)
//	SERVER_SIDE_EMIT        type, requestId, data (left out when the ack had no argument)
//	BROADCAST_CLIENT_COUNT  type, requestId, clientCount
//	BROADCAST_ACK           type, requestId, packet (the client's first ack argument; left out when none)
//	(adapters before 7)     requestId, for REMOTE_JOIN, REMOTE_LEAVE and REMOTE_DISCONNECT
//
// Only the last three kinds carry their type on the wire; the requester
// knows the others by requestId. A Node requester that gets a SOCKETS,
// ALL_ROOMS or REMOTE_FETCH response without its array counts it but never
// completes, and a BROADCAST_CLIENT_COUNT without a numeric clientCount
// makes its broadcast time out: these fields are always written.
type Response struct {
	// Type is the response's type. It is written only for
	// SERVER_SIDE_EMIT, BROADCAST_CLIENT_COUNT and BROADCAST_ACK; it also
	// picks the fields written. A decoded response without it has the type
	// its fields show (REMOTE_FETCH or SOCKETS for sockets, ALL_ROOMS for
	// rooms), or -1.
	Type      RequestType
	RequestID string
	// SocketIDs are SOCKETS' sockets.
	SocketIDs []string
	// Sockets are REMOTE_FETCH's sockets.
	Sockets []RemoteSocket
	// Rooms are ALL_ROOMS' rooms.
	Rooms []string
	// Data is SERVER_SIDE_EMIT's acknowledgement argument, as JSON; nil
	// leaves it out.
	Data json.RawMessage
	// ClientCount is BROADCAST_CLIENT_COUNT's count.
	ClientCount int
	// Packet is BROADCAST_ACK's acknowledgement argument as one msgpack
	// value; nil leaves it out. [AppendJSON] turns it into realtime's form.
	Packet []byte

	fields
}

var responseKeys = []string{"type", "requestId", "sockets", "rooms", "data", "clientCount", "packet"}

func (r *Response) has(k string) bool {
	switch k {
	case "type":
		return r.Type == ServerSideEmit || r.Type == BroadcastClientCount || r.Type == BroadcastAck
	case "requestId":
		return true
	case "sockets":
		return r.Type == Sockets || r.Type == RemoteFetch
	case "rooms":
		return r.Type == AllRooms
	case "data":
		return r.Type == ServerSideEmit && r.Data != nil
	case "clientCount":
		return r.Type == BroadcastClientCount
	case "packet":
		return r.Type == BroadcastAck && r.Packet != nil
	}
	return false
}

// AppendResponse appends the encoding of r to dst: msgpack for
// BROADCAST_ACK, JSON for every other type, as Node nodes write them.
func AppendResponse(dst []byte, r *Response) []byte {
	w := &out{json: !r.Type.msgpack(), b: dst}
	keys := r.layout(responseKeys, r.has)
	w.writeMap(&r.fields, keys, func(k string) {
		switch k {
		case "type":
			w.int(int64(r.Type))
		case "requestId":
			w.str(r.RequestID)
		case "sockets":
			if r.Type == Sockets || len(r.SocketIDs) > 0 {
				w.strings(nonNil(r.SocketIDs))
				return
			}
			w.array(len(r.Sockets), func(i int) { r.Sockets[i].encode(w) })
		case "rooms":
			w.strings(nonNil(r.Rooms))
		case "data":
			w.convertedRaw(r.Data, true)
		case "clientCount":
			w.int(int64(r.ClientCount))
		case "packet":
			w.convertedRaw(r.Packet, false)
		}
	})
	return w.b
}

// ParseResponse decodes a response, JSON if it starts with '{' and msgpack
// otherwise. It accepts any key order and leaves missing fields zero. A
// decoded response encodes again to the same bytes when it is in the
// encoding its type calls for. The fields alias b. Errors wrap
// [ErrMalformed] or [ErrLimit].
func ParseResponse(b []byte, lim *Limits) (*Response, error) {
	o, err := parseMessage(b, lim)
	if err != nil {
		return nil, err
	}
	r := &Response{Type: -1}
	typed := false
	err = o.each(&r.fields, func(k string, v []byte) (bool, error) {
		var err error
		switch k {
		case "type":
			var t int64
			t, err = o.int(v)
			r.Type, typed = RequestType(t), true
		case "requestId":
			if o.isNull(v) {
				return false, nil
			}
			r.RequestID, err = o.str(v)
		case "sockets":
			var elems [][]byte
			if elems, err = o.array(v); err != nil {
				return true, err
			}
			for _, e := range elems {
				if id, err := o.str(e); err == nil {
					r.SocketIDs = append(r.SocketIDs, id)
					continue
				}
				so, err := parseObject(e, o.json, o.lim, o.lim.MaxDepth)
				if err != nil {
					return true, err
				}
				var s RemoteSocket
				if err := s.decode(so); err != nil {
					return true, err
				}
				r.Sockets = append(r.Sockets, s)
			}
			if !typed {
				r.Type = RemoteFetch
				if len(r.SocketIDs) > 0 {
					r.Type = Sockets
				}
			}
		case "rooms":
			r.Rooms, err = o.rooms(v)
			if !typed {
				r.Type = AllRooms
			}
		case "data":
			r.Data, err = o.asJSON(v)
		case "clientCount":
			var n int64
			n, err = o.int(v)
			r.ClientCount = int(n)
		case "packet":
			r.Packet, err = o.asMsgpack(v)
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RemoteSocket is one socket in a REMOTE_FETCH response: what
// fetchSockets gives a Node application as a RemoteSocket.
type RemoteSocket struct {
	ID string
	// Handshake is the socket's handshake as JSON, in the shape of
	// socket.io's: see [Handshake].
	Handshake json.RawMessage
	Rooms     []string
	// Data is the socket's data (socket.data) as JSON; nil leaves it out.
	Data json.RawMessage

	fields
}

var socketKeys = []string{"id", "handshake", "rooms", "data"}

func (s *RemoteSocket) decode(o object) error {
	return o.each(&s.fields, func(k string, v []byte) (bool, error) {
		var err error
		switch k {
		case "id":
			s.ID, err = o.str(v)
		case "handshake":
			s.Handshake, err = o.asJSON(v)
		case "rooms":
			s.Rooms, err = o.rooms(v)
		case "data":
			s.Data, err = o.asJSON(v)
		default:
			return false, nil
		}
		return true, err
	})
}

func (s *RemoteSocket) encode(w *out) {
	keys := s.layout(socketKeys, func(k string) bool { return k != "data" || s.Data != nil })
	w.writeMap(&s.fields, keys, func(k string) {
		switch k {
		case "id":
			w.str(s.ID)
		case "handshake":
			h := []byte(s.Handshake)
			if h == nil {
				h = []byte("{}")
			}
			w.convertedRaw(h, true)
		case "rooms":
			w.strings(nonNil(s.Rooms))
		case "data":
			w.convertedRaw(s.Data, true)
		}
	})
}
