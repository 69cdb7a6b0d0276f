package wire

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file holds what JavaScript does to values on their way through a Node
// node: decoding UTF-8 into strings, JSON.stringify's text for strings and
// numbers, Date's toISOString, and property keys.

// jsString returns b decoded as UTF-8 the way Node's Buffer.toString does
// (the WHATWG decoder): each maximal invalid subpart becomes one U+FFFD.
func jsString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendWHATWG(make([]byte, 0, len(b)+8), b))
}

// appendWHATWG appends b to dst with every maximal invalid subpart replaced
// by U+FFFD, as in the WHATWG Encoding Standard, section 9.1.1 ("UTF-8
// decoder").
func appendWHATWG(dst, b []byte) []byte {
	const repl = "\uFFFD"
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n > 1 {
			dst = append(dst, b[i:i+n]...)
			i += n
			continue
		}
		// Invalid: skip the lead byte and the continuation bytes that
		// could still have completed a sequence.
		need, lo, hi := 0, byte(0x80), byte(0xbf)
		switch {
		case c >= 0xc2 && c <= 0xdf:
			need = 1
		case c >= 0xe0 && c <= 0xef:
			need = 2
			if c == 0xe0 {
				lo = 0xa0
			} else if c == 0xed {
				hi = 0x9f
			}
		case c >= 0xf0 && c <= 0xf4:
			need = 3
			if c == 0xf0 {
				lo = 0x90
			} else if c == 0xf4 {
				hi = 0x8f
			}
		}
		i++
		for k := 0; k < need && i < len(b) && b[i] >= lo && b[i] <= hi; k++ {
			i++
			lo, hi = 0x80, 0xbf
		}
		dst = append(dst, repl...)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s (valid UTF-8) as JSON.stringify writes a
// string: only '"', '\\' and the control characters are escaped, the latter
// as \b \t \n \f \r or \u00xx.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSNumber appends f as JavaScript's Number::toString writes it, which
// is also JSON.stringify's text for a finite number. NaN and the infinities,
// which JSON.stringify writes as null, are the caller's to handle.
func appendJSNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0') // -0 too
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Go writes e-07 and e+07 where JavaScript writes e-7 and e+7.
		b := dst[start:]
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// jsKeyOfNumber returns the property key JavaScript makes of a number.
func jsKeyOfNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return string(appendJSNumber(nil, f))
}

// arrayIndex reports whether key is an array index, a key that a
// JavaScript object orders before all others, in ascending numeric order:
// the canonical decimal form of an integer from 0 to 2^32-2.
func arrayIndex[S string | []byte](key S) (uint32, bool) {
	if len(key) == 0 || len(key) > 10 || len(key) > 1 && key[0] == '0' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > math.MaxUint32-1 {
		return 0, false
	}
	return uint32(n), true
}

// maxTime is the largest time value a JavaScript Date holds, in
// milliseconds either side of the epoch.
const maxTime = 8.64e15

// appendJSDate appends what JSON.stringify writes for new Date(ms): the
// toISOString form, or null for an invalid date. ms goes through TimeClip
// as in the Date constructor: out of range is invalid, and a fraction is
// cut toward zero.
func appendJSDate(dst []byte, ms float64) []byte {
	if math.IsNaN(ms) || math.Abs(ms) > maxTime {
		return append(dst, "null"...)
	}
	t := time.UnixMilli(int64(math.Trunc(ms))).UTC()
	dst = append(dst, '"')
	year := t.Year()
	switch {
	case year >= 0 && year <= 9999:
		dst = appendPad(dst, year, 4)
	case year < 0:
		dst = append(dst, '-')
		dst = appendPad(dst, -year, 6)
	default:
		dst = append(dst, '+')
		dst = appendPad(dst, year, 6)
	}
	dst = append(dst, '-')
	dst = appendPad(dst, int(t.Month()), 2)
	dst = append(dst, '-')
	dst = appendPad(dst, t.Day(), 2)
	dst = append(dst, 'T')
	dst = appendPad(dst, t.Hour(), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, t.Minute(), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, t.Second(), 2)
	dst = append(dst, '.')
	dst = appendPad(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z', '"')
}

func appendPad(dst []byte, v, width int) []byte {
	var buf [12]byte
	b := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}
