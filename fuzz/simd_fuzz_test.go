package fuzz

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirelevel/ws/frame"
)

// The targets below aim at the vector fast paths behind frame.Mask and the
// UTF-8 validator (frame/mask_amd64.s, frame/utf8_amd64.s), which only run on
// inputs of 32 or 64 bytes and up: each repeats its input up to 64 times
// (FuzzUTF8SIMD: up to about 4 KiB), so short mutations still reach the long
// loops and their tails.

// FuzzMaskSIMD checks Mask at any offset in a buffer, on any length, split
// into three calls anywhere, against the byte-wise definition, and that it
// writes nothing outside the slice it is given.
func FuzzMaskSIMD(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x37fa213d), uint8(0), uint8(0), uint8(0), uint16(0), uint16(5))
	f.Add(bytes.Repeat([]byte{0xfe, 0x01}, 150), uint32(0xdeadbeef), uint8(3), uint8(7), uint8(9), uint16(129), uint16(131))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint32(1), uint8(5), uint8(31), uint8(63), uint16(33), uint16(500))
	f.Fuzz(func(t *testing.T, b []byte, k uint32, pos, off, rep uint8, cut1, cut2 uint16) {
		payload := bytes.Repeat(b, 1+int(rep)%64)
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		want := append([]byte(nil), payload...)
		maskReference(key, int(pos), want)

		// Place the payload at an offset, between guard bytes.
		const guard = 16
		o := guard + int(off)%32
		buf := bytes.Repeat([]byte{0x5a}, o+len(payload)+guard)
		got := buf[o : o+len(payload)]
		copy(got, payload)

		c1 := int(cut1) % (len(got) + 1)
		c2 := c1 + int(cut2)%(len(got)-c1+1)
		p := frame.Mask(key, int(pos), got[:c1])
		p = frame.Mask(key, p, got[c1:c2])
		p = frame.Mask(key, p, got[c2:])
		if p != (int(pos)+len(got))%4 {
			t.Fatalf("Mask returned position %d, want %d", p, (int(pos)+len(got))%4)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Mask(% x, pos %d) of %d bytes at offset %d, cut at %d and %d, differs from the reference",
				key, pos, len(got), o, c1, c2)
		}
		if bytes.Count(buf[:o], []byte{0x5a}) != o || bytes.Count(buf[o+len(got):], []byte{0x5a}) != guard {
			t.Fatalf("Mask of %d bytes at offset %d wrote outside its slice", len(got), o)
		}
	})
}

// simdPrefix is valid text of every code point length, to put the fuzzer's
// bytes at any offset from the vector loops' block boundaries.
const simdPrefix = "Grüße — κόσμε, привет, 日本語, 🎉🚀 and plain ASCII words to fill out a vector block or two. "

// FuzzUTF8SIMD checks ValidUTF8 and the streaming validator against utf8.Valid
// on arbitrary input, after a valid prefix of any length and repeated up to
// 64 times: the first invalid byte must be the one an independent reference
// finds, and the same whether the text is written whole or split anywhere.
func FuzzUTF8SIMD(f *testing.F) {
	for _, s := range []string{"", "a", "é", "€", "🎉", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf",
		"\xc0\xaf", "\xf0\x90\x80", "\xe1\x80", "\xc2", "\x80", "\xff",
		strings.Repeat("κόσμε ", 20), strings.Repeat("a", 70) + "\xed\xbf\xbf", "日本語\xf0\x9f\x8e"} {
		f.Add([]byte(s), uint8(0), uint8(0), uint16(0))
		f.Add([]byte(s), uint8(61), uint8(3), uint16(100))
	}
	f.Fuzz(func(t *testing.T, b []byte, pad, rep uint8, cut uint16) {
		// A valid prefix of pad bytes: as much of simdPrefix as fits whole, then ASCII.
		pre := []byte(simdPrefix[:min(int(pad), len(simdPrefix))])
		for !utf8.Valid(pre) {
			pre = pre[:len(pre)-1]
		}
		pre = append(pre, strings.Repeat("_", int(pad)-len(pre))...)
		n := 1 + int(rep)%64
		if len(b) > 0 {
			n = max(1, min(n, 4096/len(b))) // keep executions fast
		}
		text := append(pre, bytes.Repeat(b, n)...)

		want := utf8.Valid(text)
		if got := frame.ValidUTF8(text); got != want {
			t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid = %v", text, got, want)
		}
		wantBad, wantDone := firstInvalid(text)
		var whole frame.UTF8Validator
		bad := -1
		if n, err := whole.Write(text); err != nil {
			bad = n
		}
		if bad != wantBad || (bad == -1 && (whole.End() == nil) != wantDone) {
			t.Fatalf("% x: first invalid byte %d, complete %v; reference: %d, %v",
				text, bad, whole.End() == nil, wantBad, wantDone)
		}

		// Every cut for short texts; for long ones, the cuts near the block
		// boundaries the fuzzer picks, near the end and near the fault.
		cuts := make(map[int]bool)
		if len(text) <= 200 {
			for c := 0; c <= len(text); c++ {
				cuts[c] = true
			}
		} else {
			for _, at := range []int{int(cut), int(cut) * 31, len(text), wantBad, len(pre), 64, 128} {
				for c := at - 4; c <= at+4; c++ {
					if c >= 0 && c <= len(text) {
						cuts[c] = true
					}
				}
			}
		}
		for c := range cuts {
			var v frame.UTF8Validator
			bad := -1
			if n, err := v.Write(text[:c]); err != nil {
				bad = n
			} else if n, err := v.Write(text[c:]); err != nil {
				bad = c + n
			}
			if bad != wantBad {
				t.Fatalf("% x split at %d: first invalid byte %d, want %d", text, c, bad, wantBad)
			}
			if got := bad == -1 && v.End() == nil; got != want {
				t.Fatalf("% x split at %d: valid = %v, want %v", text, c, got, want)
			}
		}
	})
}

// firstInvalid finds, without the validator's tables, the first byte of b after
// which it cannot be valid UTF-8 (-1 if none), and whether b is complete valid
// text. Each code point that utf8.DecodeRune rejects fails at the first of its
// bytes that no continuation can repair; a code point cut short by the end of
// b fails nowhere, but leaves b incomplete.
func firstInvalid(b []byte) (bad int, complete bool) {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			i += n
			continue
		}
		k := 0 // bytes at i that some continuation makes one code point
		for k < 3 && i+k < len(b) && prefixCanComplete(b[i:i+k+1]) {
			k++
		}
		if i+k == len(b) {
			return -1, false
		}
		return i + k, false
	}
	return -1, true
}
