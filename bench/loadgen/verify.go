package loadgen

import (
	"bytes"
	"fmt"

	"github.com/wirelevel/ws/frame"
)

// Expect returns a verifier that checks a message has type op and payload
// want, inflating it first if it came compressed (without context takeover).
func Expect(op frame.Opcode, want []byte) func(*Message) error {
	return func(m *Message) error {
		if m.Op != op {
			return fmt.Errorf("loadgen: echo is %v, want %v", m.Op, op)
		}
		got := m.Payload
		if m.Compressed {
			var err error
			if got, err = Inflate(got); err != nil {
				return err
			}
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("loadgen: echo of %d bytes differs from the %d bytes sent", len(got), len(want))
		}
		return nil
	}
}
