package engineio

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// AppendPayload appends the HTTP long-polling payload holding packets: their
// text forms (see [AppendPacket]) separated by [Separator].
func AppendPayload(dst []byte, packets []Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendPacket(dst, p)
	}
	return dst
}

// ParsePayload calls fn with each packet of an HTTP long-polling payload, in
// order, and stops at the first error fn returns. A payload must be valid
// UTF-8 and hold at least one packet; an empty packet is malformed. maxPackets
// bounds the number of packets (0 means no bound). Text packet data aliases
// b.
func ParsePayload(b []byte, maxPackets int, fn func(Packet) error) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: payload is not valid UTF-8", ErrBadPacket)
	}
	for n := 1; ; n++ {
		if maxPackets > 0 && n > maxPackets {
			return fmt.Errorf("%w: more than %d packets in a payload", ErrBadPacket, maxPackets)
		}
		i := bytes.IndexByte(b, Separator)
		one := b
		if i >= 0 {
			one = b[:i]
		}
		p, err := ParsePacket(one)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
}
