package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
)

// ErrMalformed is the error every message or value that cannot be decoded
// wraps.
var ErrMalformed = errors.New("wire: malformed message")

// ErrLimit is the error a value over one of the [Limits] wraps.
var ErrLimit = errors.New("wire: over a limit")

// Defaults for the zero fields of [Limits].
const (
	DefaultMaxSize        = 16 << 20 // bytes
	DefaultMaxDepth       = 32
	DefaultMaxValues      = 1 << 20
	DefaultMaxAttachments = 1000
)

// Limits bound what a decoder accepts and produces. A zero field takes its
// default; a nil *Limits gives the defaults.
type Limits struct {
	// MaxSize bounds the encoded input and the output of one conversion,
	// in bytes.
	MaxSize int
	// MaxDepth bounds the nesting of arrays and maps.
	MaxDepth int
	// MaxValues bounds the number of values in one message: every scalar,
	// array, map and map key counts one.
	MaxValues int
	// MaxAttachments bounds the binary values of one message.
	MaxAttachments int
}

func (l *Limits) orDefaults() Limits {
	var r Limits
	if l != nil {
		r = *l
	}
	if r.MaxSize <= 0 {
		r.MaxSize = DefaultMaxSize
	}
	if r.MaxDepth <= 0 {
		r.MaxDepth = DefaultMaxDepth
	}
	if r.MaxValues <= 0 {
		r.MaxValues = DefaultMaxValues
	}
	if r.MaxAttachments <= 0 {
		r.MaxAttachments = DefaultMaxAttachments
	}
	return r
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func overLimit(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrLimit}, args...)...)
}

// reader reads msgpack from a byte slice through the library's decoder,
// which reads the slice directly (a bytes.Reader is an io.ByteScanner, so
// the decoder adds no buffer): the offset of the next value is always
// len(in) - r.Len(). Payloads of strings, binaries and extensions are sliced
// from in, never allocated from a length read off the wire.
type reader struct {
	in []byte
	r  bytes.Reader
	d  *msgpack.Decoder
}

func newReader(in []byte) *reader {
	rd := &reader{in: in}
	rd.r.Reset(in)
	rd.d = msgpack.NewDecoder(&rd.r)
	return rd
}

// off returns the offset of the next byte to read.
func (rd *reader) off() int { return len(rd.in) - rd.r.Len() }

// seek moves to offset off.
func (rd *reader) seek(off int) {
	rd.r.Reset(rd.in)
	rd.r.Seek(int64(off), io.SeekStart)
}

// left returns the number of bytes not read yet.
func (rd *reader) left() int { return rd.r.Len() }

// take returns the next n bytes, aliasing the input.
func (rd *reader) take(n int) ([]byte, error) {
	if n < 0 || n > rd.r.Len() {
		return nil, malformed("%d bytes announced, %d left", n, rd.r.Len())
	}
	off := rd.off()
	rd.r.Seek(int64(n), io.SeekCurrent)
	return rd.in[off : off+n : off+n], nil
}

// peek returns the code of the next value.
func (rd *reader) peek() (byte, error) {
	c, err := rd.d.PeekCode()
	if err != nil {
		return 0, malformed("truncated")
	}
	return c, nil
}

// strOrBin reads the header of a str or bin and returns its payload.
func (rd *reader) strOrBin() ([]byte, error) {
	n, err := rd.d.DecodeBytesLen()
	if err != nil {
		return nil, malformed("%v", err)
	}
	return rd.take(n)
}

// arrayLen reads an array header and checks the count against the bytes
// left: every element takes at least one.
func (rd *reader) arrayLen() (int, error) {
	n, err := rd.d.DecodeArrayLen()
	if err != nil || n < 0 {
		return 0, malformed("array header: %v", err)
	}
	if n > rd.left() {
		return 0, malformed("array of %d elements in %d bytes", n, rd.left())
	}
	return n, nil
}

// mapLen reads a map header and checks the count against the bytes left:
// every entry takes at least two.
func (rd *reader) mapLen() (int, error) {
	n, err := rd.d.DecodeMapLen()
	if err != nil || n < 0 {
		return 0, malformed("map header: %v", err)
	}
	if n > rd.left()/2 {
		return 0, malformed("map of %d entries in %d bytes", n, rd.left())
	}
	return n, nil
}

// str reads a msgpack str and returns its value as JavaScript would see it
// (invalid UTF-8 replaced as a WHATWG decoder does).
func (rd *reader) str() (string, error) {
	c, err := rd.peek()
	if err != nil {
		return "", err
	}
	if !isStr(c) {
		return "", malformed("code %#x where a string was expected", c)
	}
	b, err := rd.strOrBin()
	if err != nil {
		return "", err
	}
	return jsString(b), nil
}

// skip skips one value, bounded in depth.
func (rd *reader) skip(depth int) error {
	if depth <= 0 {
		return overLimit("nesting deeper than allowed")
	}
	c, err := rd.peek()
	if err != nil {
		return err
	}
	switch {
	case isStr(c) || isBin(c):
		_, err = rd.strOrBin()
		return err
	case isExt(c):
		_, n, err := rd.d.DecodeExtHeader()
		if err != nil {
			return malformed("%v", err)
		}
		_, err = rd.take(n)
		return err
	case isArray(c):
		n, err := rd.arrayLen()
		if err != nil {
			return err
		}
		for range n {
			if err := rd.skip(depth - 1); err != nil {
				return err
			}
		}
		return nil
	case isMap(c):
		n, err := rd.mapLen()
		if err != nil {
			return err
		}
		for range 2 * n {
			if err := rd.skip(depth - 1); err != nil {
				return err
			}
		}
		return nil
	case c == 0xc1:
		return malformed("code 0xc1 is never used")
	}
	if err := rd.d.Skip(); err != nil { // nil, bool, numbers: fixed sizes
		return malformed("%v", err)
	}
	return nil
}

// span skips one value and returns its encoded bytes, aliasing the input.
func (rd *reader) span(depth int) ([]byte, error) {
	start := rd.off()
	if err := rd.skip(depth); err != nil {
		return nil, err
	}
	return rd.in[start:rd.off():rd.off()], nil
}

func isStr(c byte) bool   { return c >= 0xa0 && c <= 0xbf || c >= 0xd9 && c <= 0xdb }
func isBin(c byte) bool   { return c >= 0xc4 && c <= 0xc6 }
func isExt(c byte) bool   { return c >= 0xc7 && c <= 0xc9 || c >= 0xd4 && c <= 0xd8 }
func isArray(c byte) bool { return c >= 0x90 && c <= 0x9f || c == 0xdc || c == 0xdd }
func isMap(c byte) bool   { return c >= 0x80 && c <= 0x8f || c == 0xde || c == 0xdf }
func isInt(c byte) bool   { return c <= 0x7f || c >= 0xe0 || c >= 0xcc && c <= 0xd3 }
func isFloat(c byte) bool { return c == 0xca || c == 0xcb }

// writer is the library encoder's destination: an append-only byte slice.
type writer struct{ b []byte }

func (w *writer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *writer) WriteByte(c byte) error      { w.b = append(w.b, c); return nil }

// encoder appends msgpack to a slice with the library's encoder, whose
// choices of forms match notepack.io's: the smallest int form (uint forms
// for non-negative values), fixstr/str8/16/32, bin8/16/32, float64 for
// every float.
type encoder struct {
	w writer
	e *msgpack.Encoder
}

func newEncoder(dst []byte) *encoder {
	en := &encoder{w: writer{b: dst}}
	en.e = msgpack.NewEncoder(&en.w)
	return en
}

// The library's encoder cannot fail on a writer that cannot fail; these
// helpers drop its error.
func (en *encoder) nil()            { en.e.EncodeNil() }
func (en *encoder) bool(v bool)     { en.e.EncodeBool(v) }
func (en *encoder) int(v int64)     { en.e.EncodeInt(v) }
func (en *encoder) uint(v uint64)   { en.e.EncodeUint(v) }
func (en *encoder) float(v float64) { en.e.EncodeFloat64(v) }
func (en *encoder) str(s string)    { en.e.EncodeString(s) }
func (en *encoder) bin(b []byte)    { en.e.EncodeBytesLen(len(b)); en.w.b = append(en.w.b, b...) }
func (en *encoder) array(n int)     { en.e.EncodeArrayLen(n) }
func (en *encoder) mapLen(n int)    { en.e.EncodeMapLen(n) }
func (en *encoder) raw(b []byte)    { en.w.b = append(en.w.b, b...) }
func (en *encoder) ext(id int8, payload []byte) {
	en.e.EncodeExtHeader(id, len(payload))
	en.w.b = append(en.w.b, payload...)
}

// strBytes writes a str whose bytes are b (the encoder only reads them).
func (en *encoder) strBytes(b []byte) {
	if len(b) == 0 {
		en.e.EncodeString("")
		return
	}
	en.e.EncodeString(unsafe.String(&b[0], len(b)))
}
