package wire

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendMsgpack encodes JSON text with attachment placeholders (the Data and
// Attachments of a socketio.Packet) as msgpack, as notepack.io encodes the
// value a Node node builds from them, and appends it to dst.
//
// When atts is not empty, each object with "_placeholder": true becomes the
// bin of attachment "num", which must be an integer index into atts
// (socket.io-parser rejects others too); without attachments, such an
// object is an object, as socket.io-parser leaves it. A number whose value is an integer, written with a fraction
// or exponent or not, becomes the smallest int form (uint forms from 0 up,
// -0 included), as notepack.io writes integral numbers; an integer literal
// that fits 64 bits keeps its exact value (JavaScript would round one
// beyond 2^53; a Node node decodes both to the same number). Other numbers
// become float64, as do integral values at 2^64 and beyond, or under -2^63,
// which notepack.io cannot write correctly. Strings become str, with escapes
// resolved, and invalid UTF-8 or lone surrogates replaced by U+FFFD.
// Objects become maps as JSON.parse builds them: keys in the order written,
// except that array-index keys ("0" to "4294967294") come first in
// ascending order, and a repeated key keeps its first place and its last
// value.
//
// data must be one JSON value (surrounding white space allowed), nested no
// deeper than lim allows (nil for the defaults). Errors wrap
// [ErrMalformed] or [ErrLimit]; on error dst is returned as it came.
func AppendMsgpack(dst []byte, data []byte, atts [][]byte, lim *Limits) ([]byte, error) {
	l := lim.orDefaults()
	if len(data) > l.MaxSize {
		return dst, overLimit("JSON of %d bytes, the limit is %d", len(data), l.MaxSize)
	}
	s := jsonScanner{in: data, atts: len(atts), lim: l}
	i := s.space(0)
	end, err := s.value(i, l.MaxDepth)
	if err != nil {
		return dst, err
	}
	if s.space(end) != len(data) {
		return dst, malformed("JSON: data after the value at offset %d", end)
	}
	en := newEncoder(dst)
	w := jsonWriter{in: data, atts: atts, en: en, plan: s.plan, members: s.members}
	w.value(i)
	return en.w.b, nil
}

// planned says how to encode the JSON array or object at offset start:
// count is its number of elements or members, or for a placeholder -1-num,
// with end the offset after it. members, when not -1, is where the object's
// members start in jsonScanner.members, in the order to write them.
type planned struct{ start, count, end, members int32 }

// member is one member of an object written out of its text order: the
// offsets of its key and of its value.
type member struct{ key, value int32 }

// jsonScanner is the first pass over JSON text: it checks it and records a
// plan for each array and object, in the order of their offsets.
type jsonScanner struct {
	in      []byte
	atts    int
	lim     Limits
	plan    []planned
	members []member
	values  int

	// The keys and members of the objects being scanned, innermost last.
	keyStack []([]byte)
	memStack []member
}

func (s *jsonScanner) space(i int) int {
	for i < len(s.in) {
		switch s.in[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (s *jsonScanner) count() error {
	s.values++
	if s.values > s.lim.MaxValues {
		return overLimit("over %d values", s.lim.MaxValues)
	}
	return nil
}

// value checks the JSON value at i and returns the offset after it.
func (s *jsonScanner) value(i, depth int) (int, error) {
	if err := s.count(); err != nil {
		return 0, err
	}
	if i >= len(s.in) {
		return 0, malformed("JSON: truncated")
	}
	switch c := s.in[i]; {
	case c == '"':
		return s.str(i)
	case c == '-' || c >= '0' && c <= '9':
		return s.number(i)
	case c == '{' || c == '[':
		if depth <= 0 {
			return 0, overLimit("nesting deeper than %d", s.lim.MaxDepth)
		}
		if c == '[' {
			return s.array(i, depth)
		}
		return s.object(i, depth)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s.in)-i >= len(lit) && string(s.in[i:i+len(lit)]) == lit {
			return i + len(lit), nil
		}
	}
	return 0, malformed("JSON: unexpected %q at offset %d", s.in[i], i)
}

func (s *jsonScanner) str(i int) (int, error) {
	for j := i + 1; j < len(s.in); j++ {
		switch c := s.in[j]; {
		case c == '"':
			return j + 1, nil
		case c < 0x20:
			return 0, malformed("JSON: control character in a string at offset %d", j)
		case c == '\\':
			j++
			if j >= len(s.in) {
				return 0, malformed("JSON: truncated")
			}
			switch s.in[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.in) || !isHex4(s.in[j+1:j+5]) {
					return 0, malformed("JSON: bad \\u escape at offset %d", j)
				}
				j += 4
			default:
				return 0, malformed("JSON: bad escape at offset %d", j)
			}
		}
	}
	return 0, malformed("JSON: unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *jsonScanner) number(i int) (int, error) {
	j := i
	if s.in[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(s.in) && s.in[j] >= '0' && s.in[j] <= '9' {
			j++
		}
		return j - k
	}
	switch n := digits(); {
	case n == 0:
		return 0, malformed("JSON: bad number at offset %d", i)
	case n > 1 && s.in[j-n] == '0':
		return 0, malformed("JSON: leading zero at offset %d", i)
	}
	if j < len(s.in) && s.in[j] == '.' {
		j++
		if digits() == 0 {
			return 0, malformed("JSON: bad number at offset %d", i)
		}
	}
	if j < len(s.in) && (s.in[j] == 'e' || s.in[j] == 'E') {
		j++
		if j < len(s.in) && (s.in[j] == '+' || s.in[j] == '-') {
			j++
		}
		if digits() == 0 {
			return 0, malformed("JSON: bad number at offset %d", i)
		}
	}
	return j, nil
}

func (s *jsonScanner) array(i, depth int) (int, error) {
	p := len(s.plan)
	s.plan = append(s.plan, planned{start: int32(i), members: -1})
	n := 0
	j := s.space(i + 1)
	if j < len(s.in) && s.in[j] == ']' {
		return j + 1, nil
	}
	for {
		end, err := s.value(j, depth-1)
		if err != nil {
			return 0, err
		}
		n++
		j = s.space(end)
		if j >= len(s.in) {
			return 0, malformed("JSON: unterminated array")
		}
		if s.in[j] == ']' {
			s.plan[p].count = int32(n)
			return j + 1, nil
		}
		if s.in[j] != ',' {
			return 0, malformed("JSON: expected , or ] at offset %d", j)
		}
		j = s.space(j + 1)
	}
}

func (s *jsonScanner) object(i, depth int) (int, error) {
	p := len(s.plan)
	s.plan = append(s.plan, planned{start: int32(i), members: -1})
	isPlaceholder := false
	num := -1 // offset of the last "num" value, if a number
	kbase, mbase := len(s.keyStack), len(s.memStack)
	defer func() { s.keyStack, s.memStack = s.keyStack[:kbase], s.memStack[:mbase] }()
	jsOrder := true // the members are in an order a JavaScript object keeps
	seenName := false
	var lastIdx uint32
	j := s.space(i + 1)
	if j < len(s.in) && s.in[j] == '}' {
		return j + 1, nil
	}
	for {
		if j >= len(s.in) || s.in[j] != '"' {
			return 0, malformed("JSON: expected a key at offset %d", j)
		}
		if err := s.count(); err != nil {
			return 0, err
		}
		kstart := j
		kend, err := s.str(j)
		if err != nil {
			return 0, err
		}
		key := unquotedBytes(s.in[j:kend])
		j = s.space(kend)
		if j >= len(s.in) || s.in[j] != ':' {
			return 0, malformed("JSON: expected : at offset %d", j)
		}
		j = s.space(j + 1)
		end, err := s.value(j, depth-1)
		if err != nil {
			return 0, err
		}
		switch string(key) {
		case "_placeholder":
			// socket.io-parser reconstructs only packets that carry
			// attachments; without any, a placeholder is an object.
			isPlaceholder = s.atts > 0 && string(s.in[j:end]) == "true"
		case "num":
			num = -1
			if c := s.in[j]; c == '-' || c >= '0' && c <= '9' {
				num = j
			}
		}
		if idx, ok := arrayIndex(key); ok {
			if seenName || len(s.memStack) > mbase && idx <= lastIdx {
				jsOrder = false
			}
			lastIdx = idx
		} else {
			seenName = true
		}
		s.memStack = append(s.memStack, member{int32(kstart), int32(j)})
		s.keyStack = append(s.keyStack, key)
		j = s.space(end)
		if j >= len(s.in) {
			return 0, malformed("JSON: unterminated object")
		}
		if s.in[j] == '}' {
			j++
			break
		}
		if s.in[j] != ',' {
			return 0, malformed("JSON: expected , or } at offset %d", j)
		}
		j = s.space(j + 1)
	}
	if isPlaceholder {
		// socket.io-parser: a placeholder whose num is not a number in
		// range is an "illegal attachments" error.
		idx := -1
		if num >= 0 {
			end, _ := s.number(num)
			if f, err := strconv.ParseFloat(string(s.in[num:end]), 64); err == nil && f == math.Trunc(f) && f >= 0 && f < float64(s.atts) {
				idx = int(f)
			}
		}
		if idx < 0 {
			return 0, malformed("attachment placeholder without a valid num (%d attachments)", s.atts)
		}
		s.plan = append(s.plan[:p], planned{start: int32(i), count: int32(-1 - idx), end: int32(j), members: -1})
		return j, nil
	}
	keys, members := s.keyStack[kbase:], s.memStack[mbase:]
	if jsOrder && hasRepeats(keys) {
		jsOrder = false
	}
	if jsOrder {
		s.plan[p].count = int32(len(members))
		return j, nil
	}
	// JSON.parse builds an object: array indices first, ascending, then
	// the other keys in the order they first appear; a repeated key keeps
	// its first place and its last value.
	ordered := jsObjectOrder(keys, members)
	s.plan[p].count = int32(len(ordered))
	s.plan[p].members = int32(len(s.members))
	s.members = append(s.members, ordered...)
	return j, nil
}

func hasRepeats(keys [][]byte) bool {
	if len(keys) <= 16 {
		for a := 1; a < len(keys); a++ {
			for b := range a {
				if bytes.Equal(keys[a], keys[b]) {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[string(k)] {
			return true
		}
		seen[string(k)] = true
	}
	return false
}

// jsObjectOrder returns the members of the JavaScript object built by
// assigning keys[i] the value of members[i] in turn, in the order its
// properties are enumerated.
func jsObjectOrder(keys [][]byte, members []member) []member {
	type entry struct {
		m     member
		idx   uint32
		isIdx bool
	}
	var out []entry
	pos := make(map[string]int, len(keys))
	for i, k := range keys {
		if p, ok := pos[string(k)]; ok {
			out[p].m.value = members[i].value
			continue
		}
		idx, isIdx := arrayIndex(k)
		pos[string(k)] = len(out)
		out = append(out, entry{members[i], idx, isIdx})
	}
	slices.SortStableFunc(out, func(a, b entry) int {
		switch {
		case a.isIdx && b.isIdx:
			return cmp.Compare(a.idx, b.idx)
		case a.isIdx:
			return -1
		case b.isIdx:
			return 1
		}
		return 0
	})
	ms := make([]member, len(out))
	for i, e := range out {
		ms[i] = e.m
	}
	return ms
}

// unquotedBytes returns the value of a JSON string literal: its inside if
// it has no escapes (aliasing lit), and otherwise its decoded value.
func unquotedBytes(lit []byte) []byte {
	inner := lit[1 : len(lit)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner
	}
	return appendUnescaped(nil, inner)
}

// appendUnescaped appends the value of the inside of a checked JSON string
// literal: escapes resolved, and lone surrogates and invalid UTF-8 replaced
// by U+FFFD.
func appendUnescaped(dst, inner []byte) []byte {
	for i := 0; i < len(inner); {
		c := inner[i]
		if c != '\\' {
			start := i
			for i < len(inner) && inner[i] != '\\' {
				i++
			}
			if utf8.Valid(inner[start:i]) {
				dst = append(dst, inner[start:i]...)
			} else {
				dst = appendWHATWG(dst, inner[start:i])
			}
			continue
		}
		e := inner[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(inner[i:]))
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(inner) && inner[i] == '\\' && inner[i+1] == 'u' {
					r2 = rune(hex4(inner[i+2:]))
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}

func hex4(b []byte) uint16 {
	var v uint16
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		v = v<<4 | uint16(c)
	}
	return v
}

// jsonWriter is the second pass: it writes checked JSON as msgpack,
// following the scanner's plan.
type jsonWriter struct {
	in      []byte
	atts    [][]byte
	en      *encoder
	plan    []planned
	members []member
	scratch []byte
}

func (w *jsonWriter) space(i int) int {
	for i < len(w.in) && (w.in[i] == ' ' || w.in[i] == '\t' || w.in[i] == '\n' || w.in[i] == '\r') {
		i++
	}
	return i
}

// planFor returns the plan of the array or object at offset i.
func (w *jsonWriter) planFor(i int) planned {
	k, _ := slices.BinarySearchFunc(w.plan, int32(i), func(p planned, off int32) int { return cmp.Compare(p.start, off) })
	return w.plan[k]
}

// value writes the value at i and returns the offset after it, or for an
// object written out of order, -1: the caller knows where the next one is.
func (w *jsonWriter) value(i int) int {
	switch c := w.in[i]; c {
	case '"':
		end := w.strEnd(i)
		w.str(w.in[i+1 : end-1])
		return end
	case 't':
		w.en.bool(true)
		return i + 4
	case 'f':
		w.en.bool(false)
		return i + 5
	case 'n':
		w.en.nil()
		return i + 4
	case '[':
		p := w.planFor(i)
		w.en.array(int(p.count))
		j := w.space(i + 1)
		for k := int32(0); k < p.count; k++ {
			j = w.space(w.skipOrAt(j, w.value(j)))
			j = w.space(j + 1) // ',' or ']'
		}
		if p.count == 0 {
			j++ // ']'
		}
		return j
	case '{':
		p := w.planFor(i)
		if p.count < 0 {
			w.en.bin(w.atts[-1-p.count])
			return int(p.end)
		}
		w.en.mapLen(int(p.count))
		if p.members >= 0 {
			for _, m := range w.members[p.members : p.members+p.count] {
				end := w.strEnd(int(m.key))
				w.str(w.in[m.key+1 : end-1])
				w.value(int(m.value))
			}
			return -1
		}
		j := w.space(i + 1)
		for k := int32(0); k < p.count; k++ {
			end := w.strEnd(j)
			w.str(w.in[j+1 : end-1])
			j = w.space(end)
			j = w.space(j + 1) // ':'
			j = w.space(w.skipOrAt(j, w.value(j)))
			j = w.space(j + 1) // ',' or '}'
		}
		if p.count == 0 {
			j++ // '}'
		}
		return j
	}
	return w.number(i)
}

// skipOrAt returns end, or if it is -1 the offset after the value at i.
func (w *jsonWriter) skipOrAt(i, end int) int {
	if end >= 0 {
		return end
	}
	depth := 0
	for j := i; ; j++ {
		switch w.in[j] {
		case '"':
			j = w.strEnd(j) - 1
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
}

func (w *jsonWriter) strEnd(i int) int {
	for j := i + 1; ; j++ {
		switch w.in[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
}

func (w *jsonWriter) str(inner []byte) {
	plain := utf8.Valid(inner)
	for _, c := range inner {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		w.en.strBytes(inner)
		return
	}
	w.scratch = appendUnescaped(w.scratch[:0], inner)
	w.en.strBytes(w.scratch)
}

func (w *jsonWriter) number(i int) int {
	j := i
	integer := true
	for j < len(w.in) {
		c := w.in[j]
		if c == '.' || c == 'e' || c == 'E' {
			integer = false
		} else if !(c >= '0' && c <= '9' || c == '-' || c == '+') {
			break
		}
		j++
	}
	text := w.in[i:j]
	if integer {
		if text[0] == '-' {
			if v, err := strconv.ParseInt(string(text), 10, 64); err == nil {
				w.en.int(v)
				return j
			}
		} else if v, err := strconv.ParseUint(string(text), 10, 64); err == nil {
			w.en.uint(v)
			return j
		}
	}
	f, _ := strconv.ParseFloat(string(text), 64) // ±Inf past the range, as JSON.parse
	w.en.jsNumber(f)
	return j
}

// jsNumber writes a JavaScript number as notepack.io does: an integral
// finite value as an int, anything else as float64. Integral values
// notepack.io cannot write correctly (2^64 and up, under -2^63) stay
// float64.
func (en *encoder) jsNumber(f float64) {
	switch {
	case f != math.Trunc(f) || math.IsInf(f, 0):
		en.float(f)
	case f >= 0 && f < 1<<64:
		en.uint(uint64(f))
	case f < 0 && f >= -1<<63:
		en.int(int64(f))
	default:
		en.float(f)
	}
}
