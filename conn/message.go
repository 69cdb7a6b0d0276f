package conn

import (
	"errors"

	"github.com/wirelevel/ws/frame"
)

var errBadType = errors.New("conn: message type must be Text or Binary, with or without Uncompressed")

// MessageType is the type of a data message: [Text] or [Binary]. For
// sending, it may carry the [Uncompressed] flag too.
type MessageType int

// The two data message types. Their values are the frame opcodes.
const (
	Text   MessageType = MessageType(frame.OpText)
	Binary MessageType = MessageType(frame.OpBinary)
)

// Uncompressed, added to a message type (Text|Uncompressed), sends that one
// message without permessage-deflate on a connection that negotiated it:
// the frame goes out with RSV1 clear, which RFC 7692 allows for any message
// (Section 6), and the compressor's context is left as it was. Every write
// method and [NewPreparedMessage] take it; on a connection without
// compression it changes nothing. It is the per-message switch that
// Socket.IO's compress(false) asks for, and a per-connection setting such as
// gorilla's EnableWriteCompression(false) maps onto it by adding the flag to
// every message. ReadMessage and NextReader never return it.
const Uncompressed MessageType = 1 << 8

// String returns "text" or "binary", followed by ", uncompressed" when the
// flag is set.
func (t MessageType) String() string {
	s := frame.Opcode(t &^ Uncompressed).String()
	if t&Uncompressed != 0 {
		s += ", uncompressed"
	}
	return s
}

// split checks a message type given to a write method and returns its
// opcode and whether the message may be compressed.
func (t MessageType) split() (op frame.Opcode, compress bool, err error) {
	base := t &^ Uncompressed
	if base != Text && base != Binary {
		return 0, false, errBadType
	}
	return frame.Opcode(base), t&Uncompressed == 0, nil
}
