package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Object is a JSON object with its members in the order they came.
// [Args.Value] returns objects as Object, so that an argument echoed back
// keeps its keys in order, as in JavaScript; [AppendArgs] writes an Object
// in its order. Use [Args.Decode] to get a map or a struct instead.
type Object []Member

// Member is one key and value of an [Object].
type Member struct {
	Key   string
	Value any
}

// Get returns the value of the first member called key.
func (o Object) Get(key string) (any, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// Map returns the members as a map; a repeated key keeps its last value,
// as in JavaScript.
func (o Object) Map() map[string]any {
	out := make(map[string]any, len(o))
	for _, m := range o {
		out[m.Key] = m.Value
	}
	return out
}

// MarshalJSON writes the object with its members in order. A []byte value
// is written as encoding/json writes one, base64.
func (o Object) MarshalJSON() ([]byte, error) {
	if o == nil {
		return []byte("{}"), nil
	}
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.Key)
		b = append(b, ':')
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// decodeValue decodes JSON into Go values: objects as Object in their
// order, arrays as []any, numbers as json.Number (so they go back out
// unchanged), strings, booleans and nil.
func decodeValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeNext(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the value")
	}
	return v, nil
}

func decodeNext(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := Object{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := k.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v", k)
				}
				v, err := decodeNext(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, Member{key, v})
			}
			_, err := dec.Token() // '}'
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeNext(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token() // ']'
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil // string, json.Number, bool, nil
	}
}

// isPlaceholder reports whether o is a placeholder object.
func isPlaceholder(o Object) bool {
	v, _ := o.Get("_placeholder")
	b, ok := v.(bool)
	return ok && b
}

// placeholderNum returns the attachment number of a placeholder object; ok
// is false if num is missing or not a non-negative integer.
func placeholderNum(o Object) (int, bool) {
	v, _ := o.Get("num")
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i < 0 || i > 1<<30 {
		return 0, false
	}
	return int(i), true
}

// walk visits v depth first and calls fn for every placeholder object; a
// non-nil result replaces the placeholder. It returns v with the
// replacements made.
func walk(v any, fn func(Object) any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = walk(e, fn)
		}
	case Object:
		if isPlaceholder(x) {
			if r := fn(x); r != nil {
				return r
			}
			return x
		}
		for i := range x {
			x[i].Value = walk(x[i].Value, fn)
		}
	}
	return v
}
