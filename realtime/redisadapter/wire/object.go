package wire

import (
	"math"
	"strconv"
	"time"
)

// This file reads and writes the maps that messages are made of, in either
// encoding: msgpack (broadcasts, and the BROADCAST request and BROADCAST_ACK
// response) or JSON (every other request and response). A decoded map
// keeps its keys' order and the values of keys this package does not know,
// so that encoding it again gives the same bytes.

// fields records a decoded map's layout.
type fields struct {
	keys  []string   // every key, in the order decoded; nil for a value built in Go
	extra []rawField // the keys not known here, with their encoded values
	json  bool       // extra holds JSON (otherwise msgpack)
}

type rawField struct {
	key string
	val []byte
}

// object is a decoded map: its keys and their encoded values, in order.
type object struct {
	keys []string
	vals [][]byte
	json bool
	lim  Limits
}

// parseObject splits an encoded map into its entries. Values alias b.
func parseObject(b []byte, isJSON bool, lim Limits, depth int) (object, error) {
	o := object{json: isJSON, lim: lim}
	if depth <= 0 {
		return o, overLimit("nesting deeper than %d", lim.MaxDepth)
	}
	if isJSON {
		s := jsonScanner{in: b, lim: lim}
		i := s.space(0)
		if i >= len(b) || b[i] != '{' {
			return o, malformed("JSON: not an object")
		}
		end, err := s.value(i, depth)
		if err != nil {
			return o, err
		}
		if s.space(end) != len(b) {
			return o, malformed("JSON: data after the object")
		}
		j := s.space(i + 1)
		if b[j] == '}' {
			return o, nil
		}
		for {
			kend, _ := s.str(j)
			o.keys = append(o.keys, string(unquotedBytes(b[j:kend])))
			j = s.space(s.space(kend) + 1)
			vend, _ := s.value(j, depth)
			o.vals = append(o.vals, b[j:vend])
			j = s.space(vend)
			if b[j] == '}' {
				return o, nil
			}
			j = s.space(j + 1)
		}
	}
	rd := newReader(b)
	c, err := rd.peek()
	if err != nil {
		return o, err
	}
	if !isMap(c) {
		return o, malformed("code %#x where a map was expected", c)
	}
	n, err := rd.mapLen()
	if err != nil {
		return o, err
	}
	for range n {
		k, err := rd.str()
		if err != nil {
			return o, err
		}
		v, err := rd.span(depth - 1)
		if err != nil {
			return o, err
		}
		o.keys = append(o.keys, k)
		o.vals = append(o.vals, v)
	}
	if rd.left() != 0 {
		return o, malformed("%d bytes after the map", rd.left())
	}
	return o, nil
}

// each calls f for every entry; f returns false for a key it does not know,
// which is then kept in fs.extra. Every key goes in fs.keys.
func (o object) each(fs *fields, f func(key string, val []byte) (bool, error)) error {
	fs.keys = make([]string, 0, len(o.keys))
	fs.json = o.json
	for i, k := range o.keys {
		known, err := f(k, o.vals[i])
		if err != nil {
			return malformed("%q: %v", k, err)
		}
		if !known {
			fs.extra = append(fs.extra, rawField{k, o.vals[i]})
		}
		fs.keys = append(fs.keys, k)
	}
	return nil
}

func (o object) isNull(v []byte) bool {
	if o.json {
		return string(v) == "null"
	}
	return len(v) == 1 && v[0] == 0xc0
}

func (o object) str(v []byte) (string, error) {
	if o.json {
		if len(v) == 0 || v[0] != '"' {
			return "", malformed("not a string")
		}
		return string(unquotedBytes(v)), nil
	}
	return newReader(v).str()
}

// number returns a JSON or msgpack number as the double JavaScript holds.
func (o object) number(v []byte) (float64, error) {
	if o.json {
		if len(v) == 0 || !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
			return 0, malformed("not a number")
		}
		return strconv.ParseFloat(string(v), 64)
	}
	rd := newReader(v)
	c, err := rd.peek()
	if err != nil {
		return 0, err
	}
	switch {
	case c == 0xcf:
		u, err := rd.d.DecodeUint64()
		return float64(u), err
	case isInt(c):
		i, err := rd.d.DecodeInt64()
		return float64(i), err
	case isFloat(c):
		return rd.d.DecodeFloat64()
	}
	return 0, malformed("not a number")
}

// int returns an integral number.
func (o object) int(v []byte) (int64, error) {
	f, err := o.number(v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, malformed("not an integer")
	}
	return int64(f), nil
}

func (o object) bool(v []byte) (bool, error) {
	if o.json {
		switch string(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, malformed("not a boolean")
	}
	switch {
	case len(v) == 1 && v[0] == 0xc3:
		return true, nil
	case len(v) == 1 && v[0] == 0xc2:
		return false, nil
	}
	return false, malformed("not a boolean")
}

// rooms returns an array of room names. Numbers, which a Node room can
// be, become their JavaScript names; null is no rooms, as new Set(null)
// gives.
func (o object) rooms(v []byte) ([]string, error) {
	if o.isNull(v) {
		return nil, nil
	}
	elems, err := o.array(v)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		if s, err := o.str(e); err == nil {
			out = append(out, s)
			continue
		}
		f, err := o.number(e)
		if err != nil {
			return nil, malformed("a room that is not a string or number")
		}
		out = append(out, jsKeyOfNumber(f))
	}
	return out, nil
}

// array splits an array into its elements.
func (o object) array(v []byte) ([][]byte, error) {
	var out [][]byte
	if o.json {
		if len(v) == 0 || v[0] != '[' {
			return nil, malformed("not an array")
		}
		s := jsonScanner{in: v, lim: o.lim}
		j := s.space(1)
		if v[j] == ']' {
			return out, nil
		}
		for {
			end, err := s.value(j, o.lim.MaxDepth)
			if err != nil {
				return nil, err
			}
			out = append(out, v[j:end])
			j = s.space(end)
			if v[j] == ']' {
				return out, nil
			}
			j = s.space(j + 1)
		}
	}
	rd := newReader(v)
	c, err := rd.peek()
	if err != nil {
		return nil, err
	}
	if !isArray(c) {
		return nil, malformed("not an array")
	}
	n, err := rd.arrayLen()
	if err != nil {
		return nil, err
	}
	for range n {
		e, err := rd.span(o.lim.MaxDepth)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// asJSON returns a value as JSON, converting msgpack; binaries have no
// place in these JSON values.
func (o object) asJSON(v []byte) ([]byte, error) {
	if o.json {
		return v, nil
	}
	j, atts, err := AppendJSON(nil, nil, v, &o.lim)
	if err == nil && len(atts) > 0 {
		err = malformed("binary in a value carried as JSON")
	}
	return j, err
}

// asMsgpack returns a value as msgpack, converting JSON.
func (o object) asMsgpack(v []byte) ([]byte, error) {
	if !o.json {
		return v, nil
	}
	return AppendMsgpack(nil, v, nil, &o.lim)
}

// out writes a map in either encoding.
type out struct {
	json bool
	b    []byte
	n    int // entries written in the current JSON object
}

// layout returns the keys to write: the decoded ones in their order, then
// those in defaults that have been set since (has), or for a value built
// in Go, those in defaults that are set.
func (fs *fields) layout(defaults []string, has func(string) bool) []string {
	if fs.keys == nil {
		var ks []string
		for _, k := range defaults {
			if has(k) {
				ks = append(ks, k)
			}
		}
		return ks
	}
	ks := fs.keys
	for _, k := range defaults {
		if has(k) && !contains(fs.keys, k) {
			ks = append(ks[:len(ks):len(ks)], k)
		}
	}
	return ks
}

func contains(ks []string, k string) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// writeMap writes a map with the keys given: extra keys from fs, the
// others through f.
func (w *out) writeMap(fs *fields, keys []string, f func(key string)) {
	if w.json {
		w.b = append(w.b, '{')
	} else {
		en := newEncoder(w.b)
		en.mapLen(len(keys))
		w.b = en.w.b
	}
	outer := w.n
	w.n = 0
	for _, k := range keys {
		w.key(k)
		if raw, ok := fs.extraValue(k); ok {
			w.convertedRaw(raw, fs.json)
			continue
		}
		f(k)
	}
	w.n = outer
	if w.json {
		w.b = append(w.b, '}')
	}
}

func (fs *fields) extraValue(k string) ([]byte, bool) {
	for _, e := range fs.extra {
		if e.key == k {
			return e.val, true
		}
	}
	return nil, false
}

func (w *out) key(k string) {
	if w.json {
		if w.n > 0 {
			w.b = append(w.b, ',')
		}
		w.n++
		w.b = appendJSONString(w.b, k)
		w.b = append(w.b, ':')
		return
	}
	w.str(k)
}

func (w *out) str(s string) {
	if w.json {
		w.b = appendJSONString(w.b, s)
		return
	}
	en := newEncoder(w.b)
	en.str(s)
	w.b = en.w.b
}

func (w *out) int(v int64) {
	if w.json {
		w.b = strconv.AppendInt(w.b, v, 10)
		return
	}
	en := newEncoder(w.b)
	en.int(v)
	w.b = en.w.b
}

// number writes a JavaScript number.
func (w *out) number(f float64) {
	if w.json {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			w.b = append(w.b, "null"...)
		} else {
			w.b = appendJSNumber(w.b, f)
		}
		return
	}
	en := newEncoder(w.b)
	en.jsNumber(f)
	w.b = en.w.b
}

func (w *out) bool(v bool) {
	if w.json {
		if v {
			w.b = append(w.b, "true"...)
		} else {
			w.b = append(w.b, "false"...)
		}
		return
	}
	en := newEncoder(w.b)
	en.bool(v)
	w.b = en.w.b
}

func (w *out) strings(ss []string) {
	if w.json {
		w.b = append(w.b, '[')
		for i, s := range ss {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendJSONString(w.b, s)
		}
		w.b = append(w.b, ']')
		return
	}
	en := newEncoder(w.b)
	en.array(len(ss))
	for _, s := range ss {
		en.str(s)
	}
	w.b = en.w.b
}

// array writes an array of n elements, each through f.
func (w *out) array(n int, f func(i int)) {
	if w.json {
		w.b = append(w.b, '[')
	} else {
		en := newEncoder(w.b)
		en.array(n)
		w.b = en.w.b
	}
	for i := range n {
		if w.json && i > 0 {
			w.b = append(w.b, ',')
		}
		outer := w.n
		f(i)
		w.n = outer
	}
	if w.json {
		w.b = append(w.b, ']')
	}
}

// convertedRaw writes an encoded value, converting it if it is in the other
// encoding. Conversion errors cannot happen for values this package
// decoded; a bad value built by hand is written as null.
func (w *out) convertedRaw(v []byte, isJSON bool) {
	switch {
	case isJSON == w.json:
		w.b = append(w.b, v...)
	case w.json:
		j, atts, err := AppendJSON(w.b, nil, v, nil)
		if err != nil || len(atts) > 0 {
			w.b = append(w.b, "null"...)
			return
		}
		w.b = j
	default:
		m, err := AppendMsgpack(w.b, v, nil, nil)
		if err != nil {
			m = append(w.b, 0xc0)
		}
		w.b = m
	}
}

// millis writes a duration as JavaScript milliseconds.
func (w *out) millis(d time.Duration) {
	if d%time.Millisecond == 0 {
		w.int(int64(d / time.Millisecond))
		return
	}
	w.number(float64(d) / 1e6)
}
