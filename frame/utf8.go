package frame

import "encoding/binary"

// The validator is a shift-based DFA: the state is a bit offset into a 64-bit
// row per input byte, and the row holds the next state for every current
// state. One table load and one shift per byte, and the state carries across
// calls. Each state is a multiple of 6 below 64.
const (
	utf8Accept = 0  // at a code point boundary
	utf8Reject = 6  // invalid; absorbing
	utf8Need1  = 12 // one continuation byte (80-BF) to go
	utf8Need2  = 18 // two to go
	utf8Need3  = 24 // three to go
	utf8E0     = 30 // after E0: A0-BF, then one more (no overlongs)
	utf8ED     = 36 // after ED: 80-9F, then one more (no surrogates)
	utf8F0     = 42 // after F0: 90-BF, then two more (no overlongs)
	utf8F4     = 48 // after F4: 80-8F, then two more (nothing above U+10FFFF)
)

var utf8Table = buildUTF8Table()

func buildUTF8Table() (t [256]uint64) {
	for c := 0; c < 256; c++ {
		for s := utf8Accept; s <= utf8F4; s += 6 {
			t[c] |= uint64(utf8Next(s, byte(c))) << s
		}
	}
	return t
}

// utf8Next is the transition function the table encodes.
func utf8Next(s int, c byte) int {
	in := func(lo, hi byte, to int) int {
		if c >= lo && c <= hi {
			return to
		}
		return utf8Reject
	}
	switch s {
	case utf8Accept:
		switch {
		case c < 0x80:
			return utf8Accept
		case c >= 0xC2 && c <= 0xDF:
			return utf8Need1
		case c == 0xE0:
			return utf8E0
		case c == 0xED:
			return utf8ED
		case c >= 0xE1 && c <= 0xEF:
			return utf8Need2
		case c == 0xF0:
			return utf8F0
		case c >= 0xF1 && c <= 0xF3:
			return utf8Need3
		case c == 0xF4:
			return utf8F4
		}
	case utf8Need1:
		return in(0x80, 0xBF, utf8Accept)
	case utf8Need2:
		return in(0x80, 0xBF, utf8Need1)
	case utf8Need3:
		return in(0x80, 0xBF, utf8Need2)
	case utf8E0:
		return in(0xA0, 0xBF, utf8Need1)
	case utf8ED:
		return in(0x80, 0x9F, utf8Need1)
	case utf8F0:
		return in(0x90, 0xBF, utf8Need2)
	case utf8F4:
		return in(0x80, 0x8F, utf8Need2)
	}
	return utf8Reject
}

// UTF8Validator checks a text message for valid UTF-8 (RFC 3629) as it arrives
// in pieces. Its state crosses call, frame and read boundaries, and it fails at
// the first byte after which the text can no longer be valid: an overlong
// form, a surrogate or a code point above U+10FFFF is rejected at the byte that
// rules it out, not at the end of the message. The zero value is ready to use.
type UTF8Validator struct {
	state uint64
}

// Write validates the next piece of the text. If p holds an invalid byte, Write
// returns its index in p and [ErrInvalidUTF8], and so do all later calls (with
// index 0) until Reset. Otherwise it returns len(p), nil.
func (v *UTF8Validator) Write(p []byte) (int, error) {
	s := v.state
	if s == utf8Reject {
		return 0, ErrInvalidUTF8
	}
	i := 0
	bulkEnd := 0 // after utf8Bulk finds a fault, the DFA alone runs up to here
	for i < len(p) {
		if s == utf8Accept {
			// At a code point boundary, text goes to the bulk validator if the
			// build has one (utf8_amd64.go): a long run at once, a short one
			// from its first multi-byte sequence, below. It only says whether
			// the run is valid; if not, the DFA rescans the run to find the
			// first invalid byte.
			if len(p)-i >= utf8BulkMin && i >= bulkEnd {
				i, bulkEnd = utf8BulkAt(p, i)
			}
			// ASCII fast path, 32 then 8 bytes at a time.
			for len(p)-i >= 32 {
				q := p[i : i+32]
				w := binary.LittleEndian.Uint64(q[0:8]) | binary.LittleEndian.Uint64(q[8:16]) |
					binary.LittleEndian.Uint64(q[16:24]) | binary.LittleEndian.Uint64(q[24:32])
				if w&0x8080808080808080 != 0 {
					break
				}
				i += 32
			}
			for len(p)-i >= 8 && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
				i += 8
			}
			for i < len(p) && p[i] < 0x80 {
				i++
			}
			if i == len(p) {
				break
			}
			if len(p)-i >= utf8BulkShort && i >= bulkEnd {
				i, bulkEnd = utf8BulkAt(p, i)
				continue
			}
		}
		s = utf8Table[p[i]] >> (s & 63) & 63
		if s == utf8Reject {
			v.state = s
			return i, ErrInvalidUTF8
		}
		i++
	}
	v.state = s
	return len(p), nil
}

// utf8BulkAt runs utf8Bulk on p[i:] and returns the index at which the DFA
// resumes, and the index up to which it must run alone: if utf8Bulk found a
// fault, the DFA rescans the run it checked rather than asking again at every
// code point.
func utf8BulkAt(p []byte, i int) (next, bulkEnd int) {
	n, ok := utf8Bulk(p[i:])
	if ok {
		return i + n, i + n
	}
	return i, i + n
}

// Complete reports whether the text so far is valid and ends on a code point
// boundary.
func (v *UTF8Validator) Complete() bool { return v.state == utf8Accept }

// End reports whether the text, now complete, is valid: it returns
// [ErrInvalidUTF8] if an invalid byte was seen or the text stops inside a code
// point.
func (v *UTF8Validator) End() error {
	if v.state != utf8Accept {
		return ErrInvalidUTF8
	}
	return nil
}

// Reset readies v for a new text.
func (v *UTF8Validator) Reset() { v.state = utf8Accept }

// ValidUTF8 reports whether b is entirely valid UTF-8 by the rules of
// [UTF8Validator]; it agrees with unicode/utf8.Valid.
func ValidUTF8(b []byte) bool {
	var v UTF8Validator
	_, err := v.Write(b)
	return err == nil && v.state == utf8Accept
}
