package engineio

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Type is the type of an Engine.IO packet, written as one ASCII digit.
type Type byte

// The packet types of Engine.IO version 4.
const (
	Open    Type = iota // server to client: the handshake data
	Close               // either way: end the session
	Ping                // server to client, or "2probe" during an upgrade
	Pong                // the answer to a ping
	Message             // application data
	Upgrade             // client to server: switch to the probed transport
	Noop                // server to client: ends a polling cycle during an upgrade
)

var typeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the name the protocol uses for t, such as "ping".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Packet is one Engine.IO packet. A binary packet is always a [Message].
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool // Data is binary; only for Message packets
}

// Separator separates the packets of an HTTP long-polling payload.
const Separator = 0x1e

// ErrBadPacket is the error every malformed packet or payload wraps.
var ErrBadPacket = errors.New("engineio: malformed packet")

// AppendPacket appends the text form of p to dst: the type digit and the
// data, or for a binary packet "b" and the data in standard base64 (the
// polling form). It encodes what it is given; it checks nothing.
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// ParsePacket parses one packet in text form: a WebSocket text message, or
// one packet of a polling payload. "b" followed by base64 gives a binary
// Message. The Data of a text packet aliases b; a binary one is a new slice.
// An empty input, an unknown type digit or bad base64 is an error wrapping
// [ErrBadPacket].
func ParsePacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, fmt.Errorf("%w: empty", ErrBadPacket)
	}
	c := b[0]
	if c == 'b' {
		data, err := base64.StdEncoding.AppendDecode(nil, b[1:])
		if err != nil {
			return Packet{}, fmt.Errorf("%w: base64: %v", ErrBadPacket, err)
		}
		if data == nil {
			data = []byte{}
		}
		return Packet{Type: Message, Data: data, Binary: true}, nil
	}
	if c < '0' || c > '0'+byte(Noop) {
		return Packet{}, fmt.Errorf("%w: unknown type %q", ErrBadPacket, c)
	}
	return Packet{Type: Type(c - '0'), Data: b[1:]}, nil
}
