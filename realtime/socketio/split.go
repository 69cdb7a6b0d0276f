package socketio

import (
	"encoding/json"
	"fmt"
)

// splitArray returns the elements of a JSON array, as slices of data, and
// stops after max elements if max > 0. It tracks strings and nesting but
// does not validate the elements; on data that is not an array, or whose
// brackets do not balance, it returns an error and never panics.
func splitArray(data []byte, max int) ([]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, fmt.Errorf("%w: not a JSON array", ErrBadPacket)
	}
	i++
	var out []json.RawMessage
	i = skipSpace(data, i)
	if i < len(data) && data[i] == ']' {
		return out, nil
	}
	for {
		start := i
		depth := 0
	scan:
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				for i++; i < len(data) && data[i] != '"'; i++ {
					if data[i] == '\\' {
						i++
					}
				}
			case '[', '{':
				depth++
			case ']', '}':
				if depth == 0 {
					break scan
				}
				depth--
			case ',':
				if depth == 0 {
					break scan
				}
			}
		}
		if i >= len(data) {
			return nil, fmt.Errorf("%w: unterminated JSON array", ErrBadPacket)
		}
		out = append(out, trimSpace(data[start:i]))
		if data[i] == ']' || max > 0 && len(out) == max {
			return out, nil
		}
		i = skipSpace(data, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func trimSpace(b []byte) []byte {
	i := skipSpace(b, 0)
	j := len(b)
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}

// plainString returns the value of a JSON string literal that has no
// escapes, without allocating a decoder; ok is false for anything else.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	return string(raw[1 : len(raw)-1]), true
}
