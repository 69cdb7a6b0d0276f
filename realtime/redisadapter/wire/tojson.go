package wire

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON decodes b, one msgpack value as notepack.io writes it, into
// the form a Socket.IO packet carries: it appends the JSON text that a Node
// node would send its clients for the value (what JSON.stringify gives for
// what notepack.io decodes) to dst, and each binary to atts, writing the
// placeholder {"_placeholder":true,"num":N} in its place, numbered in the
// order they appear in the text, as socket.io-parser does.
//
// What each msgpack type becomes:
//   - nil: null; the undefined of notepack.io 2 (fixext 1, type 0): null in
//     arrays, and the entry is left out of maps;
//   - integers: their exact decimal value (JavaScript would round those
//     beyond 2^53 to a double; the JSON parses to the same number there);
//   - float32 and float64: the shortest text that reads back as the same
//     double, as JavaScript writes numbers; NaN and the infinities: null;
//   - str: a JSON string, invalid UTF-8 replaced as Node's decoder does;
//   - bin, and ext type 0 in ext 8/16/32 (notepack.io 2's ArrayBuffer):
//     a placeholder;
//   - timestamp (ext type -1 in fixext 4, fixext 8 or ext 8 of length 12),
//     and fixext 8 type 0 (notepack.io 2's Date): the ISO string of the
//     Date it gives, to the millisecond, or null out of a Date's range;
//   - any other ext: [type, placeholder], as notepack.io decodes it;
//   - map: an object whose keys keep their order, except where a JavaScript
//     object would not keep it: array-index keys ("0" to "4294967294") come
//     first in ascending order, a repeated key keeps its first place and its
//     last value, and "__proto__" is dropped. Keys may be strings, numbers,
//     booleans or nil (they become their JavaScript names); others are
//     malformed.
//
// The input is bounded by lim (nil for the defaults); errors wrap
// [ErrMalformed] or [ErrLimit], and on error dst and atts are returned as
// they came. The attachments alias b.
func AppendJSON(dst []byte, atts [][]byte, b []byte, lim *Limits) ([]byte, [][]byte, error) {
	l := lim.orDefaults()
	if len(b) > l.MaxSize {
		return dst, atts, overLimit("value of %d bytes, the limit is %d", len(b), l.MaxSize)
	}
	rd := newReader(b)
	out, natts, err := appendJSONFrom(dst, atts, rd, l)
	if err != nil {
		return dst, atts, err
	}
	if rd.left() != 0 {
		return dst, atts, malformed("%d bytes after the value", rd.left())
	}
	return out, natts, nil
}

// appendJSONFrom converts the value at rd's position and leaves rd after it.
func appendJSONFrom(dst []byte, atts [][]byte, rd *reader, l Limits) ([]byte, [][]byte, error) {
	c := converter{rd: rd, lim: l, baseAtts: len(atts)}
	if err := c.scan(l.MaxDepth); err != nil {
		return dst, atts, err
	}
	end := rd.off()
	c.out, c.atts = dst, atts
	c.start = len(dst)
	c.emit(0)
	if c.err != nil {
		return dst, atts, c.err
	}
	rd.seek(end)
	return c.out, c.atts, nil
}

// The kinds of [node].
const (
	kNil uint8 = iota
	kFalse
	kTrue
	kInt   // off: the value's code
	kFloat // off: the value's code
	kStr   // off, n: the payload
	kBin   // off, n: the payload
	kUndefined
	kDate  // off, n: the ext payload; ext: its type
	kExt   // off, n: the payload; ext: its type
	kArray // n: the element count
	kMap   // n: the entry count
)

// node is one value of the tape the first pass builds: a value and, for
// arrays and maps, their elements (keys and values alternating) right after
// it. next is the index after the node's subtree, so the second pass can
// visit map entries in another order.
type node struct {
	off, n, next uint32
	kind         uint8
	ext          int8
}

type converter struct {
	rd       *reader
	lim      Limits
	tape     []node
	nbin     int
	baseAtts int

	out   []byte
	start int
	atts  [][]byte
	err   error
	keys  []mapEntry // the keys of the maps being written, innermost last
}

// scan checks one value and appends it, and its subtree, to the tape.
func (c *converter) scan(depth int) error {
	if len(c.tape) >= c.lim.MaxValues {
		return overLimit("over %d values", c.lim.MaxValues)
	}
	rd := c.rd
	code, err := rd.peek()
	if err != nil {
		return err
	}
	i := len(c.tape)
	c.tape = append(c.tape, node{off: uint32(rd.off())})
	nd := &c.tape[i]
	switch {
	case code == 0xc0:
		nd.kind = kNil
		rd.take(1)
	case code == 0xc2:
		nd.kind = kFalse
		rd.take(1)
	case code == 0xc3:
		nd.kind = kTrue
		rd.take(1)
	case isInt(code):
		nd.kind = kInt
		if err := rd.d.Skip(); err != nil {
			return malformed("integer: %v", err)
		}
	case isFloat(code):
		nd.kind = kFloat
		if err := rd.d.Skip(); err != nil {
			return malformed("float: %v", err)
		}
	case isStr(code), isBin(code):
		p, err := rd.strOrBin()
		if err != nil {
			return err
		}
		nd.kind, nd.off, nd.n = kStr, uint32(rd.off()-len(p)), uint32(len(p))
		if isBin(code) {
			nd.kind = kBin
			if err := c.countBinary(); err != nil {
				return err
			}
		}
	case isExt(code):
		id, n, err := rd.d.DecodeExtHeader()
		if err != nil {
			return malformed("ext: %v", err)
		}
		p, err := rd.take(n)
		if err != nil {
			return err
		}
		nd.off, nd.n, nd.ext = uint32(rd.off()-len(p)), uint32(len(p)), id
		nd.kind = kExt
		switch {
		case code == 0xd4 && id == 0:
			nd.kind = kUndefined
		case id == 0 && (code == 0xc7 || code == 0xc8 || code == 0xc9):
			nd.kind = kBin // notepack.io 2's ArrayBuffer
		case id == 0 && code == 0xd7, id == -1 && (code == 0xd6 || code == 0xd7):
			nd.kind = kDate
		case id == -1 && code == 0xc7:
			if n != 12 {
				return malformed("timestamp of %d bytes", n)
			}
			nd.kind = kDate
		}
		if nd.kind == kBin || nd.kind == kExt {
			if err := c.countBinary(); err != nil {
				return err
			}
		}
	case isArray(code), isMap(code):
		if depth <= 0 {
			return overLimit("nesting deeper than %d", c.lim.MaxDepth)
		}
		var n int
		if isArray(code) {
			nd.kind = kArray
			n, err = rd.arrayLen()
		} else {
			nd.kind = kMap
			n, err = rd.mapLen()
		}
		if err != nil {
			return err
		}
		nd.n = uint32(n)
		kind := nd.kind
		for range n {
			if kind == kMap {
				k, err := rd.peek()
				if err != nil {
					return err
				}
				if !isStr(k) && !isInt(k) && !isFloat(k) && k != 0xc0 && k != 0xc2 && k != 0xc3 {
					return malformed("map key of code %#x", k)
				}
				if err := c.scan(depth - 1); err != nil {
					return err
				}
			}
			if err := c.scan(depth - 1); err != nil {
				return err
			}
		}
	default:
		return malformed("code %#x", code)
	}
	c.tape[i].next = uint32(len(c.tape))
	return nil
}

func (c *converter) countBinary() error {
	c.nbin++
	if c.baseAtts+c.nbin > c.lim.MaxAttachments {
		return overLimit("over %d attachments", c.lim.MaxAttachments)
	}
	return nil
}

// emit writes the JSON of tape node i and returns the index after its
// subtree. It stops at the first error, which it leaves in c.err.
func (c *converter) emit(i uint32) uint32 {
	if c.err != nil {
		return c.tape[i].next
	}
	if len(c.out)-c.start > c.lim.MaxSize {
		c.err = overLimit("JSON over %d bytes", c.lim.MaxSize)
		return c.tape[i].next
	}
	nd := c.tape[i]
	switch nd.kind {
	case kNil, kUndefined:
		c.out = append(c.out, "null"...)
	case kFalse:
		c.out = append(c.out, "false"...)
	case kTrue:
		c.out = append(c.out, "true"...)
	case kInt:
		c.out = c.appendInt(c.out, nd)
	case kFloat:
		f := c.float(nd)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			c.out = append(c.out, "null"...)
		} else {
			c.out = appendJSNumber(c.out, f)
		}
	case kStr:
		c.out = appendJSONString(c.out, jsString(c.payload(nd)))
	case kBin:
		c.placeholder(c.payload(nd))
	case kDate:
		c.out = appendJSDate(c.out, dateMillis(nd.ext, c.payload(nd)))
	case kExt:
		c.out = append(c.out, '[')
		c.out = strconv.AppendInt(c.out, int64(nd.ext), 10)
		c.out = append(c.out, ',')
		c.placeholder(c.payload(nd))
		c.out = append(c.out, ']')
	case kArray:
		c.out = append(c.out, '[')
		j := i + 1
		for k := uint32(0); k < nd.n; k++ {
			if k > 0 {
				c.out = append(c.out, ',')
			}
			j = c.emit(j)
		}
		c.out = append(c.out, ']')
	case kMap:
		c.emitMap(i, nd)
	}
	return nd.next
}

func (c *converter) payload(nd node) []byte {
	return c.rd.in[nd.off : nd.off+nd.n : nd.off+nd.n]
}

func (c *converter) placeholder(b []byte) {
	c.out = append(c.out, `{"_placeholder":true,"num":`...)
	c.out = strconv.AppendInt(c.out, int64(len(c.atts)), 10)
	c.out = append(c.out, '}')
	c.atts = append(c.atts, b)
}

func (c *converter) appendInt(dst []byte, nd node) []byte {
	c.rd.seek(int(nd.off))
	if c.rd.in[nd.off] == 0xcf {
		u, _ := c.rd.d.DecodeUint64()
		return strconv.AppendUint(dst, u, 10)
	}
	v, _ := c.rd.d.DecodeInt64()
	return strconv.AppendInt(dst, v, 10)
}

// jsNumber returns the JavaScript number notepack.io decodes an int or
// float node to.
func (c *converter) jsNumber(nd node) float64 {
	if nd.kind == kFloat {
		return c.float(nd)
	}
	c.rd.seek(int(nd.off))
	if c.rd.in[nd.off] == 0xcf {
		u, _ := c.rd.d.DecodeUint64()
		return float64(u)
	}
	v, _ := c.rd.d.DecodeInt64()
	return float64(v)
}

func (c *converter) float(nd node) float64 {
	c.rd.seek(int(nd.off))
	f, _ := c.rd.d.DecodeFloat64()
	return f
}

// dateMillis returns the time value notepack.io gives the Date it decodes
// from an ext payload, with its double arithmetic (the explicit float64
// conversions keep the compiler from fusing a multiply and an add).
func dateMillis(id int8, p []byte) float64 {
	switch {
	case id == 0: // notepack.io 2: int32 hi, uint32 lo, in milliseconds
		hi := float64(int32(binary.BigEndian.Uint32(p)))
		lo := float64(binary.BigEndian.Uint32(p[4:]))
		return float64(hi*4294967296) + lo
	case len(p) == 4:
		return float64(float64(binary.BigEndian.Uint32(p)) * 1e3)
	case len(p) == 8:
		hi := binary.BigEndian.Uint32(p)
		lo := binary.BigEndian.Uint32(p[4:])
		s := float64(float64(hi&3)*4294967296) + float64(lo)
		return float64(s*1e3) + float64(hi>>2)/1e6
	default: // 12
		ns := float64(binary.BigEndian.Uint32(p))
		hi := float64(int32(binary.BigEndian.Uint32(p[4:])))
		lo := float64(binary.BigEndian.Uint32(p[8:]))
		return float64((float64(hi*4294967296)+lo)*1e3) + ns/1e6
	}
}

// mapEntry is one key of a map that a JavaScript object reorders: its
// name, and the tape index of the value that wins.
type mapEntry struct {
	key   []byte
	index uint32
	isIdx bool
	value uint32
}

// key returns the property name JavaScript makes of the map key at tape
// index i; it aliases the input when it can.
func (c *converter) key(i uint32) []byte {
	nd := c.tape[i]
	switch nd.kind {
	case kStr:
		p := c.payload(nd)
		if utf8.Valid(p) {
			return p
		}
		return appendWHATWG(nil, p)
	case kNil:
		return []byte("null")
	case kTrue:
		return []byte("true")
	case kFalse:
		return []byte("false")
	}
	return []byte(jsKeyOfNumber(c.jsNumber(nd)))
}

func (c *converter) emitMap(i uint32, nd node) {
	base := len(c.keys)
	defer func() { c.keys = c.keys[:base] }()
	// First the common case: every key in an order a JavaScript object
	// keeps, none repeated, none dropped.
	plain := true
	seenName := false
	var lastIdx uint32
	j := i + 1
	for k := uint32(0); k < nd.n; k++ {
		key := c.key(j)
		vi := c.tape[j].next
		idx, isIdx := arrayIndex(key)
		c.keys = append(c.keys, mapEntry{key: key, index: idx, isIdx: isIdx, value: vi})
		switch {
		case string(key) == "__proto__" || c.tape[vi].kind == kUndefined:
			plain = false
		case isIdx:
			if seenName || k > 0 && idx <= lastIdx {
				plain = false
			}
			lastIdx = idx
		default:
			seenName = true
		}
		j = c.tape[vi].next
	}
	entries := c.keys[base:]
	if plain && len(entries) <= 16 {
		for a := 1; a < len(entries) && plain; a++ {
			for b := range a {
				if bytes.Equal(entries[a].key, entries[b].key) {
					plain = false
					break
				}
			}
		}
	} else if plain {
		seen := make(map[string]bool, len(entries))
		for _, e := range entries {
			if seen[string(e.key)] {
				plain = false
				break
			}
			seen[string(e.key)] = true
		}
	}
	if !plain {
		entries = c.objectOrder(entries)
	}
	c.out = append(c.out, '{')
	first := true
	for k := range entries {
		e := entries[k]
		if c.tape[e.value].kind == kUndefined {
			continue
		}
		if !first {
			c.out = append(c.out, ',')
		}
		first = false
		c.out = appendJSONString(c.out, e.key)
		c.out = append(c.out, ':')
		c.emit(e.value)
	}
	c.out = append(c.out, '}')
}

// objectOrder returns the entries of the object notepack.io builds by
// assigning each map entry in turn, in the order JSON.stringify visits
// them: array indices ascending, then the other keys by first assignment;
// a repeated key holds its last value. "__proto__" sets the prototype
// instead, so it is left out. The result does not alias c.keys.
func (c *converter) objectOrder(entries []mapEntry) []mapEntry {
	out := make([]mapEntry, 0, len(entries))
	pos := make(map[string]int, len(entries))
	for _, e := range entries {
		if string(e.key) == "__proto__" {
			continue
		}
		if p, ok := pos[string(e.key)]; ok {
			out[p].value = e.value
			continue
		}
		pos[string(e.key)] = len(out)
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b mapEntry) int {
		switch {
		case a.isIdx && b.isIdx:
			return cmp.Compare(a.index, b.index)
		case a.isIdx:
			return -1
		case b.isIdx:
			return 1
		}
		return 0
	})
	return out
}
