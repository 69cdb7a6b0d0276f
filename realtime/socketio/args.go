package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Args are the arguments of a received event or acknowledgement: JSON
// values, some of which may be placeholders for binary attachments. The zero
// Args has no arguments. Args alias the packet they were parsed from.
type Args struct {
	raw []json.RawMessage
	att [][]byte
}

// ParseArgs splits the data of an acknowledgement (a JSON array) into its
// arguments.
func ParseArgs(p *Packet) (Args, error) {
	var a Args
	if len(p.Data) == 0 {
		return a, nil
	}
	raw, err := splitArray(p.Data, 0)
	if err != nil {
		return Args{}, err
	}
	a.raw = raw
	a.att = p.Attachments
	return a, nil
}

// ParseEvent returns the name and the arguments of an event packet. A numeric
// event name is returned in its JSON form, such as "42".
func ParseEvent(p *Packet) (string, Args, error) {
	a, err := ParseArgs(p)
	if err != nil {
		return "", Args{}, err
	}
	name, err := eventName(p.Data)
	if err != nil {
		return "", Args{}, err
	}
	a.raw = a.raw[1:]
	return name, a, nil
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.raw) }

// Raw returns argument i as JSON, with placeholders left in.
func (a Args) Raw(i int) json.RawMessage { return a.raw[i] }

// Attachments returns the binary attachments the arguments refer to.
func (a Args) Attachments() [][]byte { return a.att }

// ErrNoArg is returned when an argument index is out of range.
var ErrNoArg = errors.New("socketio: no such argument")

// Decode unmarshals argument i into v with encoding/json. Attachments decode
// into []byte fields and variables: a placeholder is handed to encoding/json
// as a base64 string. A *any receives the same value as [Args.Value].
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return fmt.Errorf("%w: %d of %d", ErrNoArg, i, len(a.raw))
	}
	switch t := v.(type) {
	case *any:
		x, err := a.Value(i)
		if err == nil {
			*t = x
		}
		return err
	case *[]byte:
		if x, err := a.Value(i); err == nil {
			if b, ok := x.([]byte); ok {
				*t = b
				return nil
			}
		}
	}
	raw := a.raw[i]
	if len(a.att) > 0 && bytes.Contains(raw, []byte(`"_placeholder"`)) {
		x, err := a.Value(i)
		if err != nil {
			return err
		}
		if raw, err = json.Marshal(x); err != nil {
			return err
		}
	}
	return json.Unmarshal(raw, v)
}

// Value decodes argument i into Go values as encoding/json does for an any,
// except that objects are [Object] (their members in order), numbers are
// json.Number and attachments are []byte.
func (a Args) Value(i int) (any, error) {
	if i < 0 || i >= len(a.raw) {
		return nil, fmt.Errorf("%w: %d of %d", ErrNoArg, i, len(a.raw))
	}
	v, err := decodeValue(a.raw[i])
	if err != nil {
		return nil, fmt.Errorf("%w: argument %d: %v", ErrBadPacket, i, err)
	}
	if len(a.att) == 0 {
		return v, nil
	}
	return walk(v, func(m Object) any {
		if n, ok := placeholderNum(m); ok && n < len(a.att) {
			return a.att[n]
		}
		return nil
	}), nil
}

// Values returns every argument as [Args.Value] does. Passing them to an
// emit sends the same JSON and attachments back, keys in the same order.
func (a Args) Values() ([]any, error) {
	out := make([]any, len(a.raw))
	for i := range a.raw {
		v, err := a.Value(i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// String returns argument i if it is a JSON string, and "" otherwise.
func (a Args) String(i int) string {
	if i < 0 || i >= len(a.raw) {
		return ""
	}
	if s, ok := plainString(a.raw[i]); ok {
		return s
	}
	var s string
	if json.Unmarshal(a.raw[i], &s) != nil {
		return ""
	}
	return s
}

// AppendArgs appends args as a JSON array to dst, and each []byte among them
// to atts, writing a placeholder in its place. It looks for []byte at the top
// level and inside []any, [Object] (whose members it writes in order) and
// map[string]any (whose keys it writes sorted); a time.Time there is written
// as JavaScript writes a Date (UTC, milliseconds: "2026-12-01T10:00:00.000Z");
// other values go through encoding/json, and json.RawMessage is written as
// is. It returns the extended dst and atts; the attachments alias args.
func AppendArgs(dst []byte, atts [][]byte, args ...any) ([]byte, [][]byte, error) {
	dst = append(dst, '[')
	for i, v := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, atts, err = appendValue(dst, atts, v); err != nil {
			return dst, atts, err
		}
	}
	return append(dst, ']'), atts, nil
}

// AppendEvent appends the data of an event: a JSON array of the name and
// args, as [AppendArgs] writes it.
func AppendEvent(dst []byte, atts [][]byte, name string, args ...any) ([]byte, [][]byte, error) {
	if reserved[name] {
		return dst, atts, fmt.Errorf("socketio: %q is a reserved event name", name)
	}
	dst = append(dst, '[')
	dst = appendString(dst, name)
	for _, v := range args {
		dst = append(dst, ',')
		var err error
		if dst, atts, err = appendValue(dst, atts, v); err != nil {
			return dst, atts, err
		}
	}
	return append(dst, ']'), atts, nil
}

func appendValue(dst []byte, atts [][]byte, v any) ([]byte, [][]byte, error) {
	switch x := v.(type) {
	case []byte:
		if x == nil {
			x = []byte{}
		}
		dst = append(dst, `{"_placeholder":true,"num":`...)
		dst = strconv.AppendInt(dst, int64(len(atts)), 10)
		return append(dst, '}'), append(atts, x), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		return AppendArgs(dst, atts, x...)
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, atts, err = appendValue(dst, atts, x[k]); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	case Object:
		if x == nil {
			return append(dst, "{}"...), atts, nil
		}
		dst = append(dst, '{')
		for i, m := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, m.Key)
			dst = append(dst, ':')
			var err error
			if dst, atts, err = appendValue(dst, atts, m.Value); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	case json.RawMessage:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		if !json.Valid(x) {
			return dst, atts, errors.New("socketio: json.RawMessage argument is not valid JSON")
		}
		return append(dst, x...), atts, nil
	case string:
		return appendString(dst, x), atts, nil
	case time.Time:
		// As JavaScript's JSON.stringify writes a Date: UTC, milliseconds.
		return x.UTC().AppendFormat(append(dst, '"'), jsDate), atts, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, atts, fmt.Errorf("socketio: encode argument: %w", err)
	}
	return append(dst, b...), atts, nil
}

// jsDate is the layout of Date.prototype.toISOString.
const jsDate = "2006-01-02T15:04:05.000Z\""

func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // cannot fail for a string
	return append(dst, b...)
}
