package fuzz

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/wirelevel/ws/frame"
)

// FuzzFrameRoundTrip checks decode(encode(x)) == x for frames, starting
// from the fields (FuzzParseHeader starts from bytes): a header with any
// FIN, RSV bits, opcode, mask and 63-bit length encodes to Size() bytes,
// the same through AppendHeader and PutHeader, and HeaderLen, ParseHeader
// and ReadHeader give it back; a whole frame with a payload gives the
// payload back after unmasking, through ParseHeader and through ReadHeader
// on a reader that returns a byte at a time.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add(true, uint8(0), uint8(1), false, uint32(0), uint64(5), []byte("Hello"))
	f.Add(true, uint8(0), uint8(1), true, uint32(0x37fa213d), uint64(5), []byte("Hello"))
	for _, n := range []uint64{0, 125, 126, 127, 65535, 65536, 1 << 40, 1<<63 - 1} {
		f.Add(false, uint8(4), uint8(2), true, uint32(0xdeadbeef), n, []byte{})
	}
	f.Add(true, uint8(7), uint8(0xf), false, uint32(1), uint64(1<<63), bytes.Repeat([]byte{0xfe}, 300))
	f.Fuzz(func(t *testing.T, fin bool, rsv, op uint8, masked bool, key uint32, length uint64, payload []byte) {
		h := frame.Header{Fin: fin, Rsv: rsv & 7, Opcode: frame.Opcode(op & 0xf), Masked: masked, Length: int64(length &^ (1 << 63))}
		if masked {
			h.Mask = [4]byte{byte(key >> 24), byte(key >> 16), byte(key >> 8), byte(key)}
		}
		payload = payload[:min(len(payload), 4096)] // longer adds nothing but time
		// The header alone, at any length.
		b := frame.AppendHeader(nil, h)
		if len(b) != h.Size() || len(b) < 2 || len(b) > frame.MaxHeaderSize {
			t.Fatalf("AppendHeader(%+v) wrote %d bytes, Size() = %d", h, len(b), h.Size())
		}
		put := make([]byte, frame.MaxHeaderSize)
		if n := frame.PutHeader(put, h); !bytes.Equal(put[:n], b) {
			t.Fatalf("PutHeader(%+v) = % x, AppendHeader = % x", h, put[:n], b)
		}
		if n := frame.HeaderLen(b[:min(2, len(b))]); n != len(b) {
			t.Fatalf("HeaderLen(% x) = %d, want %d", b[:2], n, len(b))
		}
		got, n, err := frame.ParseHeader(b)
		if err != nil || n != len(b) || got != h {
			t.Fatalf("ParseHeader(AppendHeader(%+v)) = %+v, %d, %v", h, got, n, err)
		}
		for cut := 0; cut < len(b); cut++ {
			if _, n, err := frame.ParseHeader(b[:cut]); n != 0 || err != nil {
				t.Fatalf("ParseHeader of %d of %d header bytes = %d, %v; want 0, nil", cut, len(b), n, err)
			}
		}

		// A whole frame with this payload.
		h.Length = int64(len(payload))
		wire := frame.AppendFrame(nil, h, payload)
		if len(wire) != h.Size()+len(payload) {
			t.Fatalf("AppendFrame wrote %d bytes, want %d", len(wire), h.Size()+len(payload))
		}
		var hb [frame.MaxHeaderSize]byte
		for _, r := range []io.Reader{bytes.NewReader(wire), &oneByteReader{wire}} {
			rh, err := frame.ReadHeader(r, &hb)
			if err != nil || rh != h {
				t.Fatalf("ReadHeader = %+v, %v; want %+v", rh, err, h)
			}
			p, _ := io.ReadAll(r)
			if rh.Masked {
				frame.Mask(rh.Mask, 0, p)
			}
			if !bytes.Equal(p, payload) {
				t.Fatalf("payload after the round trip differs at byte %d", firstDiff(p, payload))
			}
		}
	})
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// FuzzCloseRoundTrip checks decode(encode(x)) == x for close payloads,
// starting from a code and a reason (FuzzParseClose starts from bytes):
// ParseClose(AppendClose(code, reason)) gives them back exactly when the
// code may be sent and the reason is valid UTF-8 of at most 123 bytes, and
// fails otherwise with the close code the failure calls for.
func FuzzCloseRoundTrip(f *testing.F) {
	for _, c := range []uint16{0, 999, 1000, 1001, 1004, 1005, 1006, 1012, 1015, 1016, 2999, 3000, 4999, 5000, 65535} {
		f.Add(c, "")
		f.Add(c, "bye")
	}
	f.Add(uint16(1000), "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")
	f.Add(uint16(1000), string(bytes.Repeat([]byte("*"), 123)))
	f.Add(uint16(1000), string(bytes.Repeat([]byte("*"), 124)))
	f.Fuzz(func(t *testing.T, c uint16, reason string) {
		code := frame.CloseCode(c)
		p := frame.AppendClose(nil, code, reason)
		if code == frame.CloseNoStatus {
			if len(p) != 0 {
				t.Fatalf("AppendClose(1005, %q) = % x, want nothing", reason, p)
			}
			if got, r, err := frame.ParseClose(p); got != frame.CloseNoStatus || len(r) != 0 || err != nil {
				t.Fatalf("ParseClose(empty) = %v, %q, %v", got, r, err)
			}
			return
		}
		if len(p) != 2+len(reason) {
			t.Fatalf("AppendClose(%d, %d bytes) wrote %d bytes", c, len(reason), len(p))
		}
		got, r, err := frame.ParseClose(p)
		valid := code.Valid() && utf8.ValidString(reason) && len(reason) <= frame.MaxCloseReason
		if valid != (err == nil) {
			t.Fatalf("ParseClose(AppendClose(%d, %q)) error %v; code valid %v, reason valid UTF-8 %v, %d bytes",
				c, reason, err, code.Valid(), utf8.ValidString(reason), len(reason))
		}
		if err != nil {
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) || (pe.Code != frame.CloseProtocolError && pe.Code != frame.CloseInvalidPayload) {
				t.Fatalf("ParseClose error %v carries no 1002 or 1007", err)
			}
			return
		}
		if got != code || string(r) != reason {
			t.Fatalf("ParseClose(AppendClose(%d, %q)) = %d, %q", c, reason, got, r)
		}
	})
}
