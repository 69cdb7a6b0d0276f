package wire

import (
	"math"
	"time"

	"github.com/wirelevel/ws/realtime/socketio"
)

// EmitterUID is the uid @socket.io/redis-emitter puts in its broadcasts
// and server-side emits.
const EmitterUID = "emitter"

// Packet is the Socket.IO packet inside a broadcast or a BROADCAST
// request: {type, data, nsp}, with data in msgpack.
type Packet struct {
	// Type is the packet type. Node nodes publish [socketio.Event] (2)
	// even when the data holds binaries: socket.io-parser turns an event
	// into a BINARY_EVENT when it encodes it for a client.
	Type socketio.Type
	// Data is the packet's data as one msgpack value, for an event the
	// array [name, args...]; nil when absent. Decoded, it aliases the
	// message.
	Data []byte
	// Namespace is the nsp field; "" when absent (and left out when
	// encoded), which a classic Node node reads as "/". The packets of
	// ClusterAdapter messages have none.
	Namespace string
	// HasID and ID are the packet's id field, which nodes never publish:
	// each gives a broadcast with acknowledgements its own id.
	HasID bool
	ID    uint64

	fields
}

var packetKeys = []string{"type", "data", "nsp", "id"}

// NamespaceOf returns the namespace, with "" read as "/".
func (p *Packet) NamespaceOf() string {
	if p.Namespace == "" {
		return socketio.MainNamespace
	}
	return p.Namespace
}

// FromSocketIO returns the wire form of a realtime packet: its data
// converted to msgpack with [AppendMsgpack], BinaryEvent and BinaryAck
// folded into Event and Ack as Node nodes publish them, and the namespace
// ("/" for ""). The ack id is left out: nodes do not publish it.
func FromSocketIO(p *socketio.Packet, lim *Limits) (Packet, error) {
	w := Packet{Type: p.Type, Namespace: p.NamespaceOf()}
	switch p.Type {
	case socketio.BinaryEvent:
		w.Type = socketio.Event
	case socketio.BinaryAck:
		w.Type = socketio.Ack
	}
	if p.Data != nil {
		data, err := AppendMsgpack(nil, p.Data, p.Attachments, lim)
		if err != nil {
			return Packet{}, err
		}
		w.Data = data
	}
	return w, nil
}

// SocketIO returns the packet as realtime carries it: Data in JSON with
// placeholders and the binaries as Attachments (see [AppendJSON]), the type
// made BinaryEvent or BinaryAck when there are attachments, and the
// namespace as [Packet.NamespaceOf] gives it. The attachments alias p.Data.
func (p *Packet) SocketIO(lim *Limits) (*socketio.Packet, error) {
	sp := &socketio.Packet{Type: p.Type, Namespace: p.NamespaceOf(), HasID: p.HasID, ID: p.ID}
	if p.Data != nil {
		data, atts, err := AppendJSON(nil, nil, p.Data, lim)
		if err != nil {
			return nil, err
		}
		sp.Data, sp.Attachments = data, atts
	}
	if len(sp.Attachments) > 0 {
		switch sp.Type {
		case socketio.Event:
			sp.Type = socketio.BinaryEvent
		case socketio.Ack:
			sp.Type = socketio.BinaryAck
		}
	}
	return sp, nil
}

func (p *Packet) decode(o object) error {
	*p = Packet{}
	return o.each(&p.fields, func(k string, v []byte) (bool, error) {
		switch k {
		case "type":
			t, err := o.int(v)
			if err != nil || t < 0 || t > 255 {
				return true, malformed("bad packet type")
			}
			p.Type = socketio.Type(t)
		case "data":
			d, err := o.asMsgpack(v)
			if err != nil {
				return true, err
			}
			p.Data = d
		case "nsp":
			s, err := o.str(v)
			if err != nil {
				return true, err
			}
			p.Namespace = s
		case "id":
			id, err := o.int(v)
			if err != nil || id < 0 {
				return true, malformed("bad packet id")
			}
			p.HasID, p.ID = true, uint64(id)
		default:
			return false, nil
		}
		return true, nil
	})
}

func (p *Packet) encode(w *out) {
	keys := p.layout(packetKeys, func(k string) bool {
		switch k {
		case "data":
			return p.Data != nil
		case "id":
			return p.HasID
		case "nsp":
			return p.Namespace != ""
		}
		return true
	})
	w.writeMap(&p.fields, keys, func(k string) {
		switch k {
		case "type":
			w.int(int64(p.Type))
		case "data":
			w.convertedRaw(p.Data, false)
		case "nsp":
			w.str(p.Namespace)
		case "id":
			w.number(float64(p.ID))
		}
	})
}

// Opts are a broadcast's options, {rooms, except, flags}, and in the
// requests that select sockets, {rooms, except}.
type Opts struct {
	// Rooms selects the sockets in any of these rooms; none selects all.
	Rooms []string
	// Except leaves out the sockets in any of these rooms.
	Except []string
	// Flags are the broadcast's flags; nil leaves the field out (requests
	// other than BROADCAST carry none). A broadcast always has them: nil
	// is written as {}.
	Flags *Flags

	fields
}

var optsKeys = []string{"rooms", "except", "flags"}

// EmitterOpts returns broadcast options laid out as @socket.io/redis-emitter
// writes them, {rooms, flags, except}, where nodes write {rooms, except,
// flags}.
func EmitterOpts(rooms, except []string, flags *Flags) Opts {
	return Opts{Rooms: rooms, Except: except, Flags: flags, fields: fields{keys: []string{"rooms", "flags", "except"}}}
}

func (o *Opts) decode(ob object) error {
	*o = Opts{}
	return ob.each(&o.fields, func(k string, v []byte) (bool, error) {
		var err error
		switch k {
		case "rooms":
			o.Rooms, err = ob.rooms(v)
		case "except":
			o.Except, err = ob.rooms(v)
		case "flags":
			if ob.isNull(v) {
				return false, nil
			}
			fo, err := parseObject(v, ob.json, ob.lim, ob.lim.MaxDepth)
			if err != nil {
				return true, err
			}
			o.Flags = new(Flags)
			return true, o.Flags.decode(fo)
		default:
			return false, nil
		}
		return true, err
	})
}

// encode writes the options; withFlags writes flags even when nil, as {}.
func (o *Opts) encode(w *out, withFlags bool) {
	keys := o.layout(optsKeys, func(k string) bool {
		return k != "flags" || withFlags || o.Flags != nil
	})
	w.writeMap(&o.fields, keys, func(k string) {
		switch k {
		case "rooms":
			w.strings(nonNil(o.Rooms))
		case "except":
			w.strings(nonNil(o.Except))
		case "flags":
			f := o.Flags
			if f == nil {
				f = &Flags{}
			}
			f.encode(w)
		}
	})
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// Flags are a broadcast's flags, as socket.io's BroadcastOperator sets
// them.
type Flags struct {
	Volatile bool // volatile: the packet may be dropped
	// HasCompress and Compress are the compress flag: compress(false)
	// asks for no compression.
	HasCompress bool
	Compress    bool
	Local       bool // local: this node only (never published)
	Broadcast   bool // broadcast
	Binary      bool // binary (socket.io 2)
	// HasTimeout and Timeout are the timeout of a broadcast with
	// acknowledgements, in milliseconds on the wire.
	HasTimeout bool
	Timeout    time.Duration
	// ExpectSingleResponse marks an emit to one socket, as
	// RemoteSocket.emit sends with an acknowledgement.
	ExpectSingleResponse bool

	fields
}

var flagKeys = []string{"volatile", "compress", "local", "broadcast", "binary", "timeout", "expectSingleResponse"}

func (f *Flags) decode(o object) error {
	*f = Flags{}
	return o.each(&f.fields, func(k string, v []byte) (bool, error) {
		var b *bool
		switch k {
		case "volatile":
			b = &f.Volatile
		case "compress":
			b = &f.Compress
		case "local":
			b = &f.Local
		case "broadcast":
			b = &f.Broadcast
		case "binary":
			b = &f.Binary
		case "expectSingleResponse":
			b = &f.ExpectSingleResponse
		case "timeout":
			ms, err := o.number(v)
			if err != nil || ms < 0 || ms > math.MaxInt64/1e6 {
				return false, nil // kept as it is; not a timeout this package can use
			}
			f.HasTimeout, f.Timeout = true, time.Duration(ms*1e6)
			return true, nil
		default:
			return false, nil
		}
		x, err := o.bool(v)
		if err != nil {
			return false, nil // not a boolean: kept as it is
		}
		*b = x
		if k == "compress" {
			f.HasCompress = true
		}
		return true, nil
	})
}

func (f *Flags) encode(w *out) {
	keys := f.layout(flagKeys, func(k string) bool {
		switch k {
		case "volatile":
			return f.Volatile
		case "compress":
			return f.HasCompress
		case "local":
			return f.Local
		case "broadcast":
			return f.Broadcast
		case "binary":
			return f.Binary
		case "timeout":
			return f.HasTimeout
		}
		return f.ExpectSingleResponse
	})
	w.writeMap(&f.fields, keys, func(k string) {
		switch k {
		case "volatile":
			w.bool(f.Volatile)
		case "compress":
			w.bool(f.Compress)
		case "local":
			w.bool(f.Local)
		case "broadcast":
			w.bool(f.Broadcast)
		case "binary":
			w.bool(f.Binary)
		case "timeout":
			w.millis(f.Timeout)
		case "expectSingleResponse":
			w.bool(f.ExpectSingleResponse)
		}
	})
}

// Broadcast is the message a node publishes on the broadcast channels:
// msgpack [uid, packet, opts].
type Broadcast struct {
	UID    string // the publisher: a node's uid, or [EmitterUID]
	Packet Packet
	Opts   Opts
}

// AppendBroadcast appends the msgpack encoding of m to dst.
func AppendBroadcast(dst []byte, m *Broadcast) []byte {
	en := newEncoder(dst)
	en.array(3)
	en.str(m.UID)
	w := &out{b: en.w.b}
	m.Packet.encode(w)
	m.Opts.encode(w, true)
	return w.b
}

// ParseBroadcast decodes a broadcast. It accepts what Node nodes accept:
// any key order, a packet without nsp, options without except or flags;
// the options themselves must be there (a Node node throws without them).
// A decoded message encodes again to the same bytes. Data and the extra
// fields alias b. Errors wrap [ErrMalformed] or [ErrLimit].
func ParseBroadcast(b []byte, lim *Limits) (*Broadcast, error) {
	l := lim.orDefaults()
	if len(b) > l.MaxSize {
		return nil, overLimit("message of %d bytes, the limit is %d", len(b), l.MaxSize)
	}
	rd := newReader(b)
	c, err := rd.peek()
	if err != nil {
		return nil, err
	}
	if !isArray(c) {
		return nil, malformed("broadcast: not an array")
	}
	n, err := rd.arrayLen()
	if err != nil {
		return nil, err
	}
	if n != 3 {
		return nil, malformed("broadcast: %d elements, want 3", n)
	}
	m := new(Broadcast)
	if m.UID, err = rd.str(); err != nil {
		return nil, malformed("broadcast uid: %v", err)
	}
	for _, dst := range []func(object) error{m.Packet.decode, func(o object) error { return m.Opts.decode(o) }} {
		span, err := rd.span(l.MaxDepth)
		if err != nil {
			return nil, err
		}
		o, err := parseObject(span, false, l, l.MaxDepth)
		if err != nil {
			return nil, err
		}
		if err := dst(o); err != nil {
			return nil, err
		}
	}
	if rd.left() != 0 {
		return nil, malformed("broadcast: %d bytes after it", rd.left())
	}
	return m, nil
}
