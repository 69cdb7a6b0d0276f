package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Type is the type of a Socket.IO packet, written as one ASCII digit.
type Type byte

// The packet types of Socket.IO version 5.
const (
	Connect      Type = iota // client: join a namespace (data: auth); server: accepted (data: {"sid"})
	Disconnect               // leave a namespace
	Event                    // an event: data is ["name", args...]
	Ack                      // an acknowledgement: data is [args...]
	ConnectError             // server: namespace connection refused (data: {"message", "data"})
	BinaryEvent              // an Event with attachments
	BinaryAck                // an Ack with attachments
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the name the protocol uses for t, such as "BINARY_EVENT".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Binary reports whether packets of type t carry attachments.
func (t Type) Binary() bool { return t == BinaryEvent || t == BinaryAck }

// IsEvent reports whether t is [Event] or [BinaryEvent].
func (t Type) IsEvent() bool { return t == Event || t == BinaryEvent }

// IsAck reports whether t is [Ack] or [BinaryAck].
func (t Type) IsAck() bool { return t == Ack || t == BinaryAck }

// Packet is one Socket.IO packet.
type Packet struct {
	Type      Type
	Namespace string // "" and "/" both mean the main namespace
	HasID     bool   // the packet carries an acknowledgement id
	ID        uint64
	// Data is the JSON payload as it goes over the wire, with a placeholder
	// {"_placeholder":true,"num":N} for attachment N; nil when absent.
	Data json.RawMessage
	// Attachments are the binary attachments of a BinaryEvent or BinaryAck,
	// each sent as its own binary Engine.IO message after the packet.
	Attachments [][]byte
}

// MainNamespace is the namespace a client joins by default.
const MainNamespace = "/"

// NamespaceOf returns the namespace name, with "" read as [MainNamespace].
func (p *Packet) NamespaceOf() string {
	if p.Namespace == "" {
		return MainNamespace
	}
	return p.Namespace
}

// ErrBadPacket is the error every malformed packet wraps.
var ErrBadPacket = errors.New("socketio: malformed packet")

// ErrTooManyAttachments means a binary packet announced more attachments
// than allowed.
var ErrTooManyAttachments = errors.New("socketio: too many attachments")

// AppendPacket appends the text form of p to dst. For the binary types the
// attachment count written is len(p.Attachments); the attachments themselves
// are not appended (they go out as separate binary messages). It encodes
// what it is given; it checks nothing.
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	if p.Type.Binary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != MainNamespace {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// maxIDDigits bounds an acknowledgement id: JavaScript numbers are exact up
// to 2^53, which has 16 digits.
const maxIDDigits = 16

// ParsePacket parses the text form of a packet. It returns the packet
// (Attachments is nil) and the number of attachments a binary packet
// announced, which must not exceed maxAttachments. Data aliases b. The
// payload must be valid JSON of the shape the type calls for: an object or
// nothing for Connect, nothing for Disconnect, an object or string for
// ConnectError, an array for acknowledgements, and for events an array whose
// first element is the event name: a string that is not reserved, or a
// number. Errors wrap [ErrBadPacket] or [ErrTooManyAttachments].
func ParsePacket(b []byte, maxAttachments int) (Packet, int, error) {
	var p Packet
	if len(b) == 0 {
		return p, 0, fmt.Errorf("%w: empty", ErrBadPacket)
	}
	if b[0] < '0' || b[0] > '0'+byte(BinaryAck) {
		return p, 0, fmt.Errorf("%w: unknown type %q", ErrBadPacket, b[0])
	}
	p.Type = Type(b[0] - '0')
	i := 1
	n := 0
	if p.Type.Binary() {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-start >= 9 {
				return p, 0, fmt.Errorf("%w: %s announces more than %d", ErrTooManyAttachments, p.Type, maxAttachments)
			}
			n = n*10 + int(b[i]-'0')
			i++
		}
		if i == start || i >= len(b) || b[i] != '-' {
			return p, 0, fmt.Errorf("%w: %s without an attachment count", ErrBadPacket, p.Type)
		}
		i++
		if n > maxAttachments {
			return p, 0, fmt.Errorf("%w: %s announces %d, the limit is %d", ErrTooManyAttachments, p.Type, n, maxAttachments)
		}
	}
	if i < len(b) && b[i] == '/' {
		start := i
		for i < len(b) && b[i] != ',' {
			i++
		}
		p.Namespace = string(b[start:i])
		if i < len(b) {
			i++ // the comma
		}
	}
	if start := i; i < len(b) && b[i] >= '0' && b[i] <= '9' {
		var id uint64
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-start >= maxIDDigits {
				return p, 0, fmt.Errorf("%w: acknowledgement id over %d digits", ErrBadPacket, maxIDDigits)
			}
			id = id*10 + uint64(b[i]-'0')
			i++
		}
		p.ID, p.HasID = id, true
	}
	if i < len(b) {
		p.Data = b[i:]
		if !json.Valid(p.Data) {
			return p, 0, fmt.Errorf("%w: %s payload is not valid JSON", ErrBadPacket, p.Type)
		}
	}
	if err := checkPayload(p.Type, p.Data); err != nil {
		return p, 0, err
	}
	return p, n, nil
}

// reserved are the event names the protocol keeps for itself.
var reserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// checkPayload checks that valid JSON data has the shape t calls for.
func checkPayload(t Type, data []byte) error {
	kind := jsonKind(data)
	ok := false
	switch t {
	case Connect:
		ok = kind == 0 || kind == '{'
	case Disconnect:
		ok = kind == 0
	case ConnectError:
		ok = kind == '{' || kind == '"'
	case Ack, BinaryAck:
		ok = kind == '['
	case Event, BinaryEvent:
		if kind == '[' {
			_, err := eventName(data)
			return err
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s payload of the wrong shape", ErrBadPacket, t)
	}
	return nil
}

// jsonKind returns the first non-space byte of valid JSON data, with digits
// and '-' reported as '0', or 0 for no data.
func jsonKind(data []byte) byte {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return '0'
		}
		return c
	}
	return 0
}

// eventName returns the name in the first element of an event's data array.
func eventName(data []byte) (string, error) {
	first, err := splitArray(data, 1)
	if err != nil || len(first) == 0 {
		return "", fmt.Errorf("%w: event without a name", ErrBadPacket)
	}
	switch jsonKind(first[0]) {
	case '"':
		name, ok := plainString(first[0])
		if ok {
			if reserved[name] {
				return "", fmt.Errorf("%w: reserved event name %q", ErrBadPacket, name)
			}
			return name, nil
		}
		if err := json.Unmarshal(first[0], &name); err != nil {
			return "", fmt.Errorf("%w: event name: %v", ErrBadPacket, err)
		}
		if reserved[name] {
			return "", fmt.Errorf("%w: reserved event name %q", ErrBadPacket, name)
		}
		return name, nil
	case '0':
		return string(first[0]), nil
	}
	return "", fmt.Errorf("%w: event name is not a string or number", ErrBadPacket)
}
