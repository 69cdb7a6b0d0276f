package wire

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"
)

// AppendEventData appends the msgpack data of an event, [event, args...],
// to dst, each argument encoded as notepack.io encodes the JavaScript value
// that stands for it:
//   - nil: nil; bool: bool; strings: str;
//   - integers: the smallest int form; floats: an int when integral (as
//     notepack.io writes every integral number), otherwise float64;
//   - []byte: bin;
//   - time.Time: a timestamp, to the millisecond, as a Date is written
//     (fixext 4 for whole seconds from 1970 to 2106, fixext 8 up to 2514,
//     ext 8 of 12 bytes otherwise);
//   - json.RawMessage: its JSON value, through [AppendMsgpack];
//   - []any and map[string]any: an array, and a map whose keys are sorted
//     (array-index keys first, ascending, as in a JavaScript object),
//     holding the same kinds of values; [Object]: a map with its keys in
//     the order given;
//   - anything else: its encoding/json value, through [AppendMsgpack]
//     (struct fields keep their order; a time.Time inside becomes an
//     RFC 3339 string there).
func AppendEventData(dst []byte, event string, args ...any) ([]byte, error) {
	en := newEncoder(dst)
	en.array(1 + len(args))
	en.str(event)
	for _, a := range args {
		if err := en.goValue(a, DefaultMaxDepth); err != nil {
			return dst, err
		}
	}
	return en.w.b, nil
}

// AppendValue appends one Go value to dst as [AppendEventData] encodes an
// argument.
func AppendValue(dst []byte, v any) ([]byte, error) {
	en := newEncoder(dst)
	if err := en.goValue(v, DefaultMaxDepth); err != nil {
		return dst, err
	}
	return en.w.b, nil
}

// Object is a JavaScript object whose keys come in a given order, for
// arguments that a map[string]any (whose keys get sorted) cannot express.
// JavaScript still puts array-index keys first: see [AppendMsgpack].
type Object []Field

// Field is one key of an [Object] and its value.
type Field struct {
	Key   string
	Value any
}

// jsOrder returns the indices of the fields a JavaScript object built by
// assigning them in turn holds, in its order: array indices ascending
// first, then the other keys by first assignment; a repeated key takes
// the last value.
func (o Object) jsOrder() []int {
	pos := make(map[string]int, len(o))
	var out []int
	for i, f := range o {
		if p, ok := pos[f.Key]; ok {
			out[p] = i
			continue
		}
		pos[f.Key] = len(out)
		out = append(out, i)
	}
	slices.SortStableFunc(out, func(a, b int) int {
		ia, oka := arrayIndex(o[a].Key)
		ib, okb := arrayIndex(o[b].Key)
		switch {
		case oka && okb:
			return cmp.Compare(ia, ib)
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	return out
}

func (en *encoder) goValue(v any, depth int) error {
	if depth <= 0 {
		return fmt.Errorf("wire: value nested deeper than %d", DefaultMaxDepth)
	}
	switch x := v.(type) {
	case nil:
		en.nil()
	case bool:
		en.bool(x)
	case string:
		en.str(x)
	case int:
		en.int(int64(x))
	case int8:
		en.int(int64(x))
	case int16:
		en.int(int64(x))
	case int32:
		en.int(int64(x))
	case int64:
		en.int(x)
	case uint:
		en.uint(uint64(x))
	case uint8:
		en.uint(uint64(x))
	case uint16:
		en.uint(uint64(x))
	case uint32:
		en.uint(uint64(x))
	case uint64:
		en.uint(x)
	case float32:
		en.jsNumber(float64(x))
	case float64:
		en.jsNumber(x)
	case []byte:
		if x == nil {
			en.nil()
			return nil
		}
		en.bin(x)
	case time.Time:
		en.ext(-1, dateTimestamp(x))
	case *time.Time:
		if x == nil {
			en.nil()
			return nil
		}
		en.ext(-1, dateTimestamp(*x))
	case json.RawMessage:
		if x == nil {
			en.nil()
			return nil
		}
		b, err := AppendMsgpack(en.w.b, x, nil, nil)
		if err != nil {
			return err
		}
		en.w.b = b
	case []any:
		if x == nil {
			en.nil()
			return nil
		}
		en.array(len(x))
		for _, e := range x {
			if err := en.goValue(e, depth-1); err != nil {
				return err
			}
		}
	case Object:
		order := x.jsOrder()
		en.mapLen(len(order))
		for _, i := range order {
			en.str(x[i].Key)
			if err := en.goValue(x[i].Value, depth-1); err != nil {
				return err
			}
		}
	case map[string]any:
		if x == nil {
			en.nil()
			return nil
		}
		keys := jsSortedKeys(x)
		en.mapLen(len(keys))
		for _, k := range keys {
			en.str(k)
			if err := en.goValue(x[k], depth-1); err != nil {
				return err
			}
		}
	default:
		if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice) && rv.IsNil() {
			en.nil()
			return nil
		}
		j, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("wire: encode argument: %w", err)
		}
		b, err := AppendMsgpack(en.w.b, j, nil, nil)
		if err != nil {
			return err
		}
		en.w.b = b
	}
	return nil
}

// jsSortedKeys returns the keys of m sorted, with array-index keys first
// in numeric order, as a JavaScript object holding them enumerates them.
func jsSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ia, oka := arrayIndex(a)
		ib, okb := arrayIndex(b)
		switch {
		case oka && okb:
			return cmp.Compare(ia, ib)
		case oka:
			return -1
		case okb:
			return 1
		}
		return cmp.Compare(a, b)
	})
	return keys
}

// dateTimestamp returns the timestamp payload notepack.io writes for the
// Date of t, which holds whole milliseconds: t cut down to the
// millisecond, toward the past.
func dateTimestamp(t time.Time) []byte {
	ms := t.UnixMilli() // the floor: nanoseconds count up from a whole second
	s := int64(math.Floor(float64(ms) / 1e3))
	ns := uint32((ms - s*1000) * 1e6)
	switch {
	case s >= 0 && s <= 1<<34-1 && ns == 0 && s <= 1<<32-1:
		return []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
	case s >= 0 && s <= 1<<34-1:
		v := uint64(ns)<<34 | uint64(s)
		return []byte{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	}
	return []byte{
		byte(ns >> 24), byte(ns >> 16), byte(ns >> 8), byte(ns),
		byte(s >> 56), byte(s >> 48), byte(s >> 40), byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s),
	}
}

// AppendJSONValue appends a Go value as JSON.stringify writes the
// JavaScript value that stands for it, as [AppendEventData] maps values:
// []byte becomes a Buffer's JSON, {"type":"Buffer","data":[...]}, and
// time.Time the ISO string of its Date. Node nodes carry SERVER_SIDE_EMIT
// arguments this way.
func AppendJSONValue(dst []byte, v any) ([]byte, error) {
	return appendJSONValue(dst, v, DefaultMaxDepth)
}

func appendJSONValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth <= 0 {
		return dst, fmt.Errorf("wire: value nested deeper than %d", DefaultMaxDepth)
	}
	switch x := v.(type) {
	case []byte:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, `{"type":"Buffer","data":[`...)
		for i, c := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendPad(dst, int(c), 1)
		}
		return append(dst, "]}"...), nil
	case time.Time:
		return appendJSDate(dst, float64(x.UnixMilli())), nil
	case string:
		return appendJSONString(dst, jsString([]byte(x))), nil
	case json.RawMessage:
		if x == nil {
			return append(dst, "null"...), nil
		}
		if !json.Valid(x) {
			return dst, fmt.Errorf("wire: json.RawMessage argument is not valid JSON")
		}
		return append(dst, x...), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONValue(dst, e, depth-1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case Object:
		dst = append(dst, '{')
		for n, i := range x.jsOrder() {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, jsString([]byte(x[i].Key)))
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONValue(dst, x[i].Value, depth-1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '{')
		for i, k := range jsSortedKeys(x) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, jsString([]byte(k)))
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONValue(dst, x[k], depth-1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...), nil
		}
		return appendJSNumber(dst, x), nil
	case float32:
		return appendJSONValue(dst, float64(x), depth)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("wire: encode argument: %w", err)
	}
	return append(dst, b...), nil
}
