package frame

import (
	"encoding/binary"
	"io"
	"strconv"
)

// Opcode is the 4-bit frame type. See RFC 6455, Section 5.2.
type Opcode uint8

// Opcodes defined by RFC 6455, Section 11.8. Opcodes 3-7 and 11-15 are
// reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong or a
// reserved control opcode): "Control frames are identified by opcodes where
// the most significant bit of the opcode is 1" (RFC 6455, Section 5.5).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsReserved reports whether op is one of the reserved opcodes 3-7 and 11-15.
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name, or "opN" for a reserved one.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "op" + strconv.Itoa(int(op))
}

// Reserved bits as they appear in [Header.Rsv].
const (
	RSV1 = 0x4 // used by permessage-deflate (RFC 7692)
	RSV2 = 0x2
	RSV3 = 0x1
)

// MaxHeaderSize is the size of the largest frame header: 2 bytes, an 8-byte
// extended payload length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload a control frame may carry. See
// RFC 6455, Section 5.5.
const MaxControlPayload = 125

// Header is a decoded frame header. See RFC 6455, Section 5.2.
type Header struct {
	Fin    bool
	Rsv    byte // RSV1|RSV2|RSV3 bits, 0-7
	Opcode Opcode
	Masked bool
	Mask   [4]byte // masking key; meaningful when Masked
	Length int64   // payload length, 0 to 1<<63-1
}

// Size returns the number of bytes [AppendHeader] writes for h.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the encoding of h to dst and returns the extended slice.
// It writes exactly what h holds, valid or not, with the payload length in its
// minimal form. It panics if h.Length is negative.
func AppendHeader(dst []byte, h Header) []byte {
	var b [MaxHeaderSize]byte
	n := PutHeader(b[:], h)
	return append(dst, b[:n]...)
}

// PutHeader encodes h into b, which must hold at least h.Size() bytes, and
// returns the number of bytes written. It panics if h.Length is negative.
func PutHeader(b []byte, h Header) int {
	if h.Length < 0 {
		panic("frame: negative payload length")
	}
	b0 := byte(h.Opcode&0xF) | (h.Rsv&7)<<4
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	n := 2
	switch {
	case h.Length <= 125:
		b[0], b[1] = b0, b1|byte(h.Length)
	case h.Length <= 0xFFFF:
		_ = b[3]
		b[0], b[1] = b0, b1|126
		binary.BigEndian.PutUint16(b[2:], uint16(h.Length))
		n = 4
	default:
		_ = b[9]
		b[0], b[1] = b0, b1|127
		binary.BigEndian.PutUint64(b[2:], uint64(h.Length))
		n = 10
	}
	if h.Masked {
		copy(b[n:n+4], h.Mask[:])
		n += 4
	}
	return n
}

// HeaderLen returns the length of the header that starts b, as far as b
// tells: 2 when b holds fewer than 2 bytes, else the exact header size (2 to
// 14). A caller can read until it holds HeaderLen(b) bytes, then call
// [ParseHeader] once.
func HeaderLen(b []byte) int {
	if len(b) < 2 {
		return 2
	}
	n := 2
	switch b[1] & 0x7F {
	case 126:
		n = 4
	case 127:
		n = 10
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	return n
}

// ParseHeader decodes the frame header at the start of b. It returns the header
// and the number of bytes it took. If b does not yet hold the whole header it
// returns n == 0 and a nil error: read more and call again.
//
// ParseHeader rejects only what cannot be a header: a length that is not in
// its minimal form ([ErrNonMinimalLength]) or a 64-bit length with the most
// significant bit set ([ErrLengthMSB]). Use [Check] for the rules that depend on
// the sender's role and negotiated extensions.
func ParseHeader(b []byte) (h Header, n int, err error) {
	n = HeaderLen(b)
	if len(b) < n {
		return Header{}, 0, nil
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Rsv = (b0 >> 4) & 7
	h.Opcode = Opcode(b0 & 0xF)
	h.Masked = b1&0x80 != 0
	p := 2
	switch l := b1 & 0x7F; l {
	case 126:
		v := binary.BigEndian.Uint16(b[2:4])
		if v < 126 {
			return Header{}, 0, ErrNonMinimalLength
		}
		h.Length = int64(v)
		p = 4
	case 127:
		v := binary.BigEndian.Uint64(b[2:10])
		if v>>63 != 0 {
			return Header{}, 0, ErrLengthMSB
		}
		if v <= 0xFFFF {
			return Header{}, 0, ErrNonMinimalLength
		}
		h.Length = int64(v)
		p = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], b[p:p+4])
	}
	return h, n, nil
}

// ReadHeader reads one frame header from r, using buf as scratch space, and
// decodes it with [ParseHeader]. It makes at most two reads of exactly the
// bytes the header needs, so r is left at the first payload byte. A header cut
// short by EOF gives io.ErrUnexpectedEOF (io.EOF if no byte was read).
func ReadHeader(r io.Reader, buf *[MaxHeaderSize]byte) (Header, error) {
	if _, err := io.ReadFull(r, buf[:2]); err != nil {
		return Header{}, err
	}
	n := HeaderLen(buf[:2])
	if n > 2 {
		if _, err := io.ReadFull(r, buf[2:n]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, err
		}
	}
	h, _, err := ParseHeader(buf[:n])
	return h, err
}

// AppendFrame appends a whole frame to dst: the header h with its length set to
// len(payload), then the payload, masked with h.Mask when h.Masked. payload is
// not modified.
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	h.Length = int64(len(payload))
	dst = AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, payload...)
	if h.Masked {
		Mask(h.Mask, 0, dst[start:])
	}
	return dst
}
