package socketio

import (
	"bytes"
	"fmt"
)

// DefaultMaxAttachments is the attachment limit of a zero [Decoder], the
// same as the reference parser's.
const DefaultMaxAttachments = 10

// Decoder reassembles packets from the Engine.IO messages of one connection:
// a binary packet's text part is followed by one binary message per
// attachment. A Decoder is not safe for concurrent use.
type Decoder struct {
	// MaxAttachments bounds the attachments of one packet. 0 means
	// DefaultMaxAttachments.
	MaxAttachments int

	pending *Packet // a binary packet awaiting attachments, or nil
	want    int     // attachments pending needs in all
}

func (d *Decoder) max() int {
	if d.MaxAttachments > 0 {
		return d.MaxAttachments
	}
	return DefaultMaxAttachments
}

// Text decodes the text form of a packet. It returns the packet, or nil for a
// binary packet whose attachments are still to come. A text message while
// attachments are awaited is an error. The packet's Data aliases b.
func (d *Decoder) Text(b []byte) (*Packet, error) {
	if d.pending != nil {
		return nil, fmt.Errorf("%w: text message while %d attachments are awaited", ErrBadPacket, d.want-len(d.pending.Attachments))
	}
	p, n, err := ParsePacket(b, d.max())
	if err != nil {
		return nil, err
	}
	if !p.Type.Binary() {
		return &p, nil
	}
	p.Attachments = make([][]byte, 0, n)
	if n == 0 {
		return &p, checkPlaceholders(&p)
	}
	d.pending, d.want = &p, n
	return nil, nil
}

// Binary adds an attachment to the packet awaiting it and returns the packet
// once it is complete, or nil. A binary message when no packet awaits one is
// an error, and so is a complete packet whose placeholders do not match its
// attachments. b is kept, not copied.
func (d *Decoder) Binary(b []byte) (*Packet, error) {
	p := d.pending
	if p == nil {
		return nil, fmt.Errorf("%w: binary message without a packet awaiting it", ErrBadPacket)
	}
	p.Attachments = append(p.Attachments, b)
	if len(p.Attachments) < d.want {
		return nil, nil
	}
	d.pending, d.want = nil, 0
	return p, checkPlaceholders(p)
}

// Reset drops a packet awaiting attachments.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

// checkPlaceholders checks that every placeholder in a binary packet's data
// names one of its attachments.
func checkPlaceholders(p *Packet) error {
	if !bytes.Contains(p.Data, []byte(`"_placeholder"`)) {
		return nil
	}
	v, err := decodeValue(p.Data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadPacket, err)
	}
	bad := false
	walk(v, func(m Object) any {
		num, ok := placeholderNum(m)
		if !ok || num >= len(p.Attachments) {
			bad = true
		}
		return nil
	})
	if bad {
		return fmt.Errorf("%w: placeholder without a matching attachment", ErrBadPacket)
	}
	return nil
}
