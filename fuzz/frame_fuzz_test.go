package fuzz

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/wirelevel/ws/frame"
)

// FuzzParseHeader checks that ParseHeader never panics, never claims more bytes
// than it was given, and that whatever it accepts re-encodes to the same bytes.
func FuzzParseHeader(f *testing.F) {
	for _, seed := range [][]byte{
		{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'},
		{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		{0x82, 0x7e, 0x01, 0x00},
		{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0},
		{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0},             // MSB set
		{0x82, 0x7e, 0x00, 0x05},                            // non-minimal
		{0x82, 0xff, 0, 0, 0, 0x01, 0, 0, 0, 0, 1, 2, 3, 4}, // 2^40, masked
		{0x89, 0x7e, 0x00, 0x7e},                            // 126-byte ping
		{0xf3, 0x00},                                        // all RSV, opcode 3
		{0x81},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := frame.ParseHeader(b)
		if n < 0 || n > len(b) {
			t.Fatalf("ParseHeader consumed %d of %d bytes", n, len(b))
		}
		if err != nil || n == 0 {
			if n != 0 {
				t.Fatalf("ParseHeader returned n=%d with error %v", n, err)
			}
			return
		}
		if h.Length < 0 {
			t.Fatalf("negative length %d", h.Length)
		}
		if got := frame.AppendHeader(nil, h); !bytes.Equal(got, b[:n]) {
			t.Fatalf("AppendHeader(ParseHeader(% x)) = % x", b[:n], got)
		}
		h2, n2, err := frame.ParseHeader(frame.AppendHeader(nil, h))
		if err != nil || n2 != n || h2 != h {
			t.Fatalf("round trip: %+v, %d, %v; want %+v, %d", h2, n2, err, h, n)
		}
		_ = frame.Check(h, frame.Client, frame.RSV1)
		_ = frame.Check(h, frame.Server, 0)
	})
}

// FuzzUTF8 checks the streaming validator against utf8.Valid for a split at
// every position, and that it reports the first invalid byte consistently.
func FuzzUTF8(f *testing.F) {
	for _, s := range []string{"", "Hello-µ@ßöäüàá-UTF-8!!", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
		"\xf4\x90\x80\x80", "\xed\x9f\xbf", "\xef\xbf\xbf", "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x90\x80", "\xf4\x8f\xbf\xbf"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := utf8.Valid(b)
		if frame.ValidUTF8(b) != want {
			t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid = %v", b, !want, want)
		}
		var whole frame.UTF8Validator
		firstBad, err := whole.Write(b)
		if err == nil {
			firstBad = -1
		}
		for cut := 0; cut <= len(b); cut++ {
			var v frame.UTF8Validator
			bad := -1
			if n, err := v.Write(b[:cut]); err != nil {
				bad = n
			} else if n, err := v.Write(b[cut:]); err != nil {
				bad = cut + n
			}
			if bad != firstBad {
				t.Fatalf("% x split at %d: first invalid byte %d, whole: %d", b, cut, bad, firstBad)
			}
			if got := bad == -1 && v.End() == nil; got != want {
				t.Fatalf("% x split at %d: valid = %v, want %v", b, cut, got, want)
			}
		}
		if firstBad >= 0 {
			// The prefix before the reported byte can still become valid text.
			if !utf8.Valid(b[:firstBad]) && !prefixCanComplete(b[:firstBad]) {
				t.Fatalf("% x: reported byte %d, but the text was already invalid before it", b, firstBad)
			}
		}
	})
}

// prefixCanComplete reports whether some continuation makes p valid UTF-8.
func prefixCanComplete(p []byte) bool {
	for _, tail := range [][]byte{{0x80}, {0x80, 0x80}, {0x80, 0x80, 0x80}, {0xa0, 0x80}, {0x90, 0x80, 0x80}, {0x8f, 0x80, 0x80}} {
		if utf8.Valid(append(append([]byte(nil), p...), tail...)) {
			return true
		}
	}
	return false
}

// maskReference is the definition of masking from RFC 6455 Section 5.3.
func maskReference(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
}

// FuzzMask checks the fast masking loop against the byte-wise definition at
// any offset and for any split into two calls.
func FuzzMask(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x37fa213d), uint8(0), uint16(2))
	f.Add(bytes.Repeat([]byte{0xfe}, 300), uint32(0xdeadbeef), uint8(3), uint16(77))
	f.Fuzz(func(t *testing.T, b []byte, k uint32, pos uint8, cut uint16) {
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		want := append([]byte(nil), b...)
		maskReference(key, int(pos), want)
		got := append([]byte(nil), b...)
		c := int(cut) % (len(b) + 1)
		p := frame.Mask(key, int(pos), got[:c])
		if p != (int(pos)+c)%4 {
			t.Fatalf("Mask returned position %d, want %d", p, (int(pos)+c)%4)
		}
		frame.Mask(key, p, got[c:])
		if !bytes.Equal(got, want) {
			t.Fatalf("Mask(% x, pos %d, cut %d) differs from the reference", key, pos, c)
		}
		frame.Mask(key, int(pos), got)
		if !bytes.Equal(got, b) {
			t.Fatal("masking twice did not give the input back")
		}
	})
}

// FuzzParseClose checks ParseClose never panics, accepts only valid codes and
// UTF-8 reasons, and round-trips through AppendClose.
func FuzzParseClose(f *testing.F) {
	for _, s := range []string{"", "\x03", "\x03\xe8", "\x03\xe8bye", "\x03\xed", "\x13\x88", "\x03\xe8\xce\xba\xed\xa0\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := frame.ParseClose(p)
		if err != nil {
			return
		}
		if len(p) == 0 {
			if code != frame.CloseNoStatus {
				t.Fatalf("empty payload gave code %v", code)
			}
			return
		}
		if !code.Valid() || !utf8.Valid(reason) || len(reason) > frame.MaxCloseReason {
			t.Fatalf("ParseClose(% x) accepted code %d reason %q", p, code, reason)
		}
		if got := frame.AppendClose(nil, code, string(reason)); !bytes.Equal(got, p) {
			t.Fatalf("AppendClose(ParseClose(% x)) = % x", p, got)
		}
	})
}
