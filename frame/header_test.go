package frame

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// unhex decodes spaced hex such as "81 05 48".
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// spaced formats b as spaced hex for failure messages.
func spaced(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("% x … (%d bytes)", b[:24], len(b))
	}
	return fmt.Sprintf("% x", b)
}

var key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// RFC 6455 Section 5.7 examples.
var rfcFrames = []struct {
	name    string
	wire    string
	h       Header
	payload string
}{
	{"unmasked text Hello", "81 05 48 65 6c 6c 6f",
		Header{Fin: true, Opcode: OpText, Length: 5}, "Hello"},
	{"masked text Hello", "81 85 37 fa 21 3d 7f 9f 4d 51 58",
		Header{Fin: true, Opcode: OpText, Masked: true, Mask: key, Length: 5}, "Hello"},
	{"first fragment Hel", "01 03 48 65 6c",
		Header{Opcode: OpText, Length: 3}, "Hel"},
	{"last fragment lo", "80 02 6c 6f",
		Header{Fin: true, Opcode: OpContinuation, Length: 2}, "lo"},
	{"unmasked ping Hello", "89 05 48 65 6c 6c 6f",
		Header{Fin: true, Opcode: OpPing, Length: 5}, "Hello"},
	{"masked pong Hello", "8a 85 37 fa 21 3d 7f 9f 4d 51 58",
		Header{Fin: true, Opcode: OpPong, Masked: true, Mask: key, Length: 5}, "Hello"},
}

func TestRFCExamples(t *testing.T) {
	for _, tt := range rfcFrames {
		t.Run(tt.name, func(t *testing.T) {
			wire := unhex(t, tt.wire)
			if got := AppendFrame(nil, tt.h, []byte(tt.payload)); !bytes.Equal(got, wire) {
				t.Errorf("AppendFrame(%+v, %q) = %s, want %s", tt.h, tt.payload, spaced(got), spaced(wire))
			}
			h, n, err := ParseHeader(wire)
			if err != nil || h != tt.h || n != len(wire)-len(tt.payload) {
				t.Fatalf("ParseHeader(%s) = %+v, %d, %v, want %+v, %d, nil", spaced(wire), h, n, err, tt.h, len(wire)-len(tt.payload))
			}
			p := append([]byte(nil), wire[n:]...)
			if h.Masked {
				Mask(h.Mask, 0, p)
			}
			if string(p) != tt.payload {
				t.Errorf("payload of %s = %q, want %q", spaced(wire), p, tt.payload)
			}
		})
	}
}

func TestRFCLengthExamples(t *testing.T) {
	// Section 5.7: 256 bytes and 64 KiB binary messages in a single unmasked frame.
	tests := []struct {
		name   string
		length int64
		wire   string
	}{
		{"256 bytes", 256, "82 7e 01 00"},
		{"64 KiB", 65536, "82 7f 00 00 00 00 00 01 00 00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Header{Fin: true, Opcode: OpBinary, Length: tt.length}
			want := unhex(t, tt.wire)
			if got := AppendHeader(nil, h); !bytes.Equal(got, want) {
				t.Errorf("AppendHeader(%+v) = %s, want %s", h, spaced(got), spaced(want))
			}
		})
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	lengths := []int64{0, 1, 125, 126, 127, 65535, 65536, 1 << 20, 1<<63 - 1}
	opcodes := []Opcode{OpContinuation, OpText, OpBinary, 3, 7, OpClose, OpPing, OpPong, 11, 15}
	for _, length := range lengths {
		for _, op := range opcodes {
			for _, masked := range []bool{false, true} {
				for rsv := byte(0); rsv < 8; rsv++ {
					h := Header{Fin: rsv&1 == 0, Rsv: rsv, Opcode: op, Masked: masked, Length: length}
					if masked {
						h.Mask = [4]byte{byte(rsv), 0xff, byte(op), 0x01}
					}
					b := AppendHeader([]byte{0xAA}, h)[1:]
					if len(b) != h.Size() {
						t.Fatalf("AppendHeader(%+v) wrote %d bytes, Size() = %d", h, len(b), h.Size())
					}
					if HeaderLen(b) != len(b) {
						t.Fatalf("HeaderLen(%s) = %d, want %d", spaced(b), HeaderLen(b), len(b))
					}
					got, n, err := ParseHeader(append(b, 1, 2, 3))
					if err != nil || n != len(b) || got != h {
						t.Fatalf("ParseHeader(AppendHeader(%+v)) = %+v, %d, %v", h, got, n, err)
					}
					// Every proper prefix is "need more", never an error.
					for i := 0; i < len(b); i++ {
						if _, n, err := ParseHeader(b[:i]); n != 0 || err != nil {
							t.Fatalf("ParseHeader(%s) = n %d, %v, want 0, nil", spaced(b[:i]), n, err)
						}
					}
					var buf [MaxHeaderSize]byte
					rh, err := ReadHeader(bytes.NewReader(b), &buf)
					if err != nil || rh != h {
						t.Fatalf("ReadHeader(%s) = %+v, %v, want %+v", spaced(b), rh, err, h)
					}
				}
			}
		}
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"16-bit length 0", "82 7e 00 00", ErrNonMinimalLength},
		{"16-bit length 125", "82 7e 00 7d", ErrNonMinimalLength},
		{"64-bit length 0", "82 7f 00 00 00 00 00 00 00 00", ErrNonMinimalLength},
		{"64-bit length 65535", "82 7f 00 00 00 00 00 00 ff ff", ErrNonMinimalLength},
		{"64-bit length MSB", "82 7f 80 00 00 00 00 00 00 00", ErrLengthMSB},
		{"64-bit length all ones", "82 ff ff ff ff ff ff ff ff ff 01 02 03 04", ErrLengthMSB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := ParseHeader(unhex(t, tt.wire))
			if !errors.Is(err, tt.want) || n != 0 {
				t.Fatalf("ParseHeader(%s) = n %d, %v, want 0, %v", tt.wire, n, err, tt.want)
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != CloseProtocolError {
				t.Fatalf("ParseHeader(%s) error %v does not carry close code 1002", tt.wire, err)
			}
		})
	}
	// The largest legal length parses.
	h, _, err := ParseHeader(unhex(t, "82 7f 7f ff ff ff ff ff ff ff"))
	if err != nil || h.Length != 1<<63-1 {
		t.Fatalf("ParseHeader(max length) = %+v, %v", h, err)
	}
}

func TestReadHeaderShort(t *testing.T) {
	var buf [MaxHeaderSize]byte
	if _, err := ReadHeader(bytes.NewReader(nil), &buf); err != io.EOF {
		t.Errorf("ReadHeader(empty) error = %v, want io.EOF", err)
	}
	for _, wire := range []string{"81", "82 7e 01", "82 ff 00 00 00 00 00 01 00 00 aa"} {
		if _, err := ReadHeader(bytes.NewReader(unhex(t, wire)), &buf); err != io.ErrUnexpectedEOF {
			t.Errorf("ReadHeader(%s) error = %v, want io.ErrUnexpectedEOF", wire, err)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		from Role
		rsv  byte
		want error
	}{
		{"client text masked", Header{Fin: true, Opcode: OpText, Masked: true}, Client, 0, nil},
		{"server text unmasked", Header{Fin: true, Opcode: OpText}, Server, 0, nil},
		{"client text unmasked", Header{Fin: true, Opcode: OpText}, Client, 0, ErrUnmasked},
		{"server text masked", Header{Fin: true, Opcode: OpText, Masked: true}, Server, 0, ErrMasked},
		{"opcode 3", Header{Fin: true, Opcode: 3}, Server, 0, ErrReservedOpcode},
		{"opcode 7", Header{Fin: true, Opcode: 7}, Server, 0, ErrReservedOpcode},
		{"opcode 11", Header{Fin: true, Opcode: 11}, Server, 0, ErrReservedOpcode},
		{"opcode 15", Header{Fin: true, Opcode: 15}, Server, 0, ErrReservedOpcode},
		{"ping 125", Header{Fin: true, Opcode: OpPing, Length: 125}, Server, 0, nil},
		{"ping 126", Header{Fin: true, Opcode: OpPing, Length: 126}, Server, 0, ErrControlTooLong},
		{"close 126", Header{Fin: true, Opcode: OpClose, Length: 126}, Server, 0, ErrControlTooLong},
		{"pong not fin", Header{Opcode: OpPong}, Server, 0, ErrControlFragmented},
		{"ping not fin", Header{Opcode: OpPing}, Server, 0, ErrControlFragmented},
		{"text rsv1 no extension", Header{Fin: true, Rsv: RSV1, Opcode: OpText}, Server, 0, ErrReservedBits},
		{"text rsv1 deflate", Header{Fin: true, Rsv: RSV1, Opcode: OpText}, Server, RSV1, nil},
		{"binary rsv2 deflate", Header{Fin: true, Rsv: RSV2, Opcode: OpBinary}, Server, RSV1, ErrReservedBits},
		{"continuation rsv1 deflate", Header{Fin: true, Rsv: RSV1, Opcode: OpContinuation}, Server, RSV1, ErrReservedBits},
		{"ping rsv1 deflate", Header{Fin: true, Rsv: RSV1, Opcode: OpPing}, Server, RSV1, ErrReservedBits},
		{"close rsv7", Header{Fin: true, Rsv: 7, Opcode: OpClose}, Server, 0, ErrReservedBits},
		{"continuation not fin", Header{Opcode: OpContinuation, Length: 1 << 40}, Server, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.h, tt.from, tt.rsv); err != tt.want {
				t.Errorf("Check(%+v, %v, %d) = %v, want %v", tt.h, tt.from, tt.rsv, err, tt.want)
			}
		})
	}
}

func TestOpcode(t *testing.T) {
	for op := Opcode(0); op < 16; op++ {
		reserved := (op >= 3 && op <= 7) || op >= 11
		if op.IsReserved() != reserved {
			t.Errorf("Opcode(%d).IsReserved() = %v", op, op.IsReserved())
		}
		if op.IsControl() != (op >= 8) {
			t.Errorf("Opcode(%d).IsControl() = %v", op, op.IsControl())
		}
	}
	if OpText.String() != "text" || Opcode(4).String() != "op4" {
		t.Errorf("String: %q %q", OpText.String(), Opcode(4).String())
	}
}

func TestHeaderZeroAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: key, Length: 70000}
	buf := make([]byte, 0, MaxHeaderSize)
	var sink Header
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendHeader(buf[:0], h)
		sink, _, _ = ParseHeader(b)
	})
	if allocs != 0 || sink != h {
		t.Errorf("AppendHeader+ParseHeader: %v allocs per run, want 0", allocs)
	}
}

func ExampleAppendHeader() {
	h := Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}
	fmt.Printf("% x\n", AppendHeader(nil, h))
	// Output: 81 85 37 fa 21 3d
}

func ExampleParseHeader() {
	wire := []byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}
	h, n, err := ParseHeader(wire)
	fmt.Println(h.Fin, h.Opcode, h.Length, n, err, string(wire[n:]))
	// Output: true text 5 2 <nil> Hello
}
