package loadgen

import (
	"errors"
	"fmt"
	"net"

	"github.com/wirelevel/ws/frame"
)

// Message is one data message the server sent.
type Message struct {
	Op         frame.Opcode
	Compressed bool  // RSV1 was set on its first frame
	Len        int64 // payload bytes on the wire, all frames
	// Payload is the message's payload as sent (still compressed if
	// Compressed), kept only by a scanner that assembles.
	Payload []byte
}

// ErrServerClosed is returned when the server sends a close frame.
var ErrServerClosed = errors.New("loadgen: server sent a close frame")

// scanner reads server frames off a connection and splits them into
// messages. It parses headers with frame.ParseHeader and skips payloads
// unless it assembles them; it checks nothing else.
type scanner struct {
	nc       net.Conn
	buf      []byte
	r, w     int // unread bytes are buf[r:w]
	assemble bool
	// beforeRead, if set, runs before every read that may block, so a
	// caller can publish progress at the moment it has to wait.
	beforeRead func()
}

func newScanner(c *Conn, size int, assemble bool) *scanner {
	s := &scanner{nc: c.nc, buf: make([]byte, max(size, 2*len(c.rest), 64)), assemble: assemble}
	s.w = copy(s.buf, c.rest)
	c.rest = nil
	return s
}

// buffered returns the number of bytes read but not yet parsed.
func (s *scanner) buffered() int { return s.w - s.r }

// next reads the next whole data message into m. Pings and pongs are skipped;
// a close frame ends with ErrServerClosed.
func (s *scanner) next(m *Message) error {
	m.Len, m.Payload = 0, m.Payload[:0]
	first := true
	for {
		h, err := s.header()
		if err != nil {
			return err
		}
		if h.Opcode.IsControl() {
			if err := s.skip(h.Length, nil); err != nil {
				return err
			}
			if h.Opcode == frame.OpClose {
				return ErrServerClosed
			}
			continue
		}
		if first {
			m.Op, m.Compressed, first = h.Opcode, h.Rsv&frame.RSV1 != 0, false
		}
		m.Len += h.Length
		if s.assemble {
			start := len(m.Payload)
			err = s.skip(h.Length, m)
			if h.Masked {
				// The raw TCP echo returns the client's own frames.
				frame.Mask(h.Mask, 0, m.Payload[start:])
			}
		} else {
			err = s.skip(h.Length, nil)
		}
		if err != nil {
			return err
		}
		if h.Fin {
			return nil
		}
	}
}

func (s *scanner) header() (frame.Header, error) {
	for {
		h, n, err := frame.ParseHeader(s.buf[s.r:s.w])
		if err != nil {
			return h, fmt.Errorf("loadgen: server frame: %w", err)
		}
		if n > 0 {
			s.r += n
			return h, nil
		}
		if err := s.fill(); err != nil {
			return h, err
		}
	}
}

// skip consumes n payload bytes, appending them to m.Payload if m is set.
func (s *scanner) skip(n int64, m *Message) error {
	for n > 0 {
		if s.r == s.w {
			if err := s.fill(); err != nil {
				return err
			}
		}
		k := int(min(n, int64(s.w-s.r)))
		if m != nil {
			m.Payload = append(m.Payload, s.buf[s.r:s.r+k]...)
		}
		s.r += k
		n -= int64(k)
	}
	return nil
}

// fill reads more bytes, first making room at the end of the buffer.
func (s *scanner) fill() error {
	if s.r == s.w {
		s.r, s.w = 0, 0
	} else if s.w == len(s.buf) || s.r > len(s.buf)/2 {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	if s.beforeRead != nil {
		s.beforeRead()
	}
	n, err := s.nc.Read(s.buf[s.w:])
	s.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = errors.New("loadgen: empty read")
	}
	return err
}
