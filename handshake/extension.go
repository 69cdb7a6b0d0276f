package handshake

import (
	"errors"
	"fmt"
)

// Bounds on a parsed Sec-WebSocket-Extensions list, across all of a
// message's Sec-WebSocket-Extensions lines.
const (
	// MaxExtensions bounds the number of extensions in a list.
	MaxExtensions = 64
	// MaxExtensionParams bounds the number of parameters of one extension.
	MaxExtensionParams = 64
)

// Extension is one element of a Sec-WebSocket-Extensions list: an offer in
// a request, or an accepted extension in a response. See RFC 6455,
// Section 9.1.
type Extension struct {
	// Name is the extension token, such as "permessage-deflate".
	Name string
	// Params holds the parameters in the order sent.
	Params []Param
}

// Param is one extension parameter.
type Param struct {
	// Name is the parameter token, such as "client_max_window_bits".
	Name string
	// Value is the value with quotes and escapes removed; it is always a
	// token when HasValue is set.
	Value string
	// HasValue records whether the parameter had a value: it tells
	// "client_max_window_bits" from "client_max_window_bits=15".
	HasValue bool
}

var (
	errExtSyntax = fmt.Errorf("%w: Sec-WebSocket-Extensions syntax", ErrMalformed)
	errExtValue  = fmt.Errorf("%w: Sec-WebSocket-Extensions parameter value is not a token", ErrMalformed)
	errExtQuote  = fmt.Errorf("%w: Sec-WebSocket-Extensions unterminated quoted-string", ErrMalformed)
)

// ParseExtensions parses a Sec-WebSocket-Extensions value. The grammar is
// that of RFC 6455, Section 9.1, with RFC 7230 list rules:
//
//	list      = #extension                  ; empty elements are skipped
//	extension = token *( OWS ";" OWS param )
//	param     = token [ OWS "=" OWS ( token / quoted-string ) ]
//
// A quoted-string may hold backslash escapes (RFC 7230, Section 3.2.6),
// and what it holds once unescaped must be a token, as Section 9.1
// demands of senders; so `a="b"` and `a=b` parse alike, while `a=`,
// `a=""` and `a="b c"` fail. ParseExtensions fails with an error wrapping
// [ErrMalformed] on bad syntax, and with another error past
// [MaxExtensions] extensions or [MaxExtensionParams] parameters in one
// extension. Its time is linear in len(value).
func ParseExtensions(value string) ([]Extension, error) {
	exts, err := appendExtensions(nil, []byte(value))
	if err != nil {
		return nil, err
	}
	return exts, nil
}

// AppendExtensions appends exts to dst as a Sec-WebSocket-Extensions
// value, such as "permessage-deflate; client_max_window_bits=10, x", and
// returns the extended slice. Values are written as tokens, never quoted.
// It fails, returning dst unchanged, if a name or value is not a token, so
// that ParseExtensions of what it writes gives exts back.
func AppendExtensions(dst []byte, exts []Extension) ([]byte, error) {
	n := len(dst)
	for i, e := range exts {
		if !isToken(e.Name) {
			return dst[:n], errors.New("handshake: extension name is not a token")
		}
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, e.Name...)
		for _, p := range e.Params {
			if !isToken(p.Name) || (p.HasValue && !isToken(p.Value)) {
				return dst[:n], errors.New("handshake: extension parameter is not a token")
			}
			dst = append(dst, "; "...)
			dst = append(dst, p.Name...)
			if p.HasValue {
				dst = append(dst, '=')
				dst = append(dst, p.Value...)
			}
		}
	}
	return dst, nil
}

// appendExtensions parses v onto dst in one pass, without backtracking.
// It reuses the Params storage of dst's elements up to cap(dst), and
// interns the names and values of permessage-deflate, so that a reused
// dst makes parsing a browser's offer free of allocations.
func appendExtensions(dst []Extension, v []byte) ([]Extension, error) {
	i := 0
	for {
		// Skip OWS and empty list elements.
		for i < len(v) && (isOWS(v[i]) || v[i] == ',') {
			i++
		}
		if i == len(v) {
			return dst, nil
		}
		name, j := scanToken(v, i)
		if j == i {
			return dst, errExtSyntax
		}
		if len(dst) == MaxExtensions {
			return dst, fmt.Errorf("%w: more than %d extensions", errTooMany, MaxExtensions)
		}
		if len(dst) < cap(dst) {
			dst = dst[:len(dst)+1]
		} else {
			dst = append(dst, Extension{})
		}
		e := &dst[len(dst)-1]
		e.Name, e.Params = intern(name), e.Params[:0]
		i = skipOWS(v, j)
		for i < len(v) && v[i] == ';' {
			i = skipOWS(v, i+1)
			pname, j := scanToken(v, i)
			if j == i {
				return dst, errExtSyntax
			}
			p := Param{Name: intern(pname)}
			i = skipOWS(v, j)
			if i < len(v) && v[i] == '=' {
				i = skipOWS(v, i+1)
				var err error
				if p.Value, i, err = scanValue(v, i); err != nil {
					return dst, err
				}
				p.HasValue = true
				i = skipOWS(v, i)
			}
			if len(e.Params) == MaxExtensionParams {
				return dst, fmt.Errorf("%w: more than %d extension parameters", errTooMany, MaxExtensionParams)
			}
			e.Params = append(e.Params, p)
		}
		if i < len(v) && v[i] != ',' {
			return dst, errExtSyntax
		}
	}
}

func scanToken(v []byte, i int) (tok []byte, end int) {
	j := i
	for j < len(v) && isTchar(v[j]) {
		j++
	}
	return v[i:j], j
}

// scanValue scans a parameter value, token or quoted-string, starting at
// v[i], and returns it unquoted and the index past it.
//
// RFC 6455, Section 9.1: "When using the quoted-string syntax variant, the
// value after quoted-string unescaping MUST conform to the 'token' ABNF."
// RFC 7230, Section 3.2.6: "quoted-string = DQUOTE *( qdtext / quoted-pair
// ) DQUOTE" and "quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )".
func scanValue(v []byte, i int) (string, int, error) {
	if i >= len(v) || v[i] != '"' {
		tok, j := scanToken(v, i)
		if j == i {
			return "", i, errExtSyntax
		}
		return intern(tok), j, nil
	}
	start := i + 1
	escaped := false
	for j := start; j < len(v); j++ {
		switch c := v[j]; {
		case c == '"':
			raw := v[start:j]
			if len(raw) == 0 {
				return "", j, errExtValue
			}
			if !escaped {
				return intern(raw), j + 1, nil
			}
			out := make([]byte, 0, len(raw))
			for k := 0; k < len(raw); k++ {
				if raw[k] == '\\' {
					k++
				}
				out = append(out, raw[k])
			}
			return intern(out), j + 1, nil
		case c == '\\':
			j++
			if j == len(v) {
				return "", j, errExtQuote
			}
			if !isTchar(v[j]) {
				return "", j, errExtValue
			}
			escaped = true
		case !isTchar(c):
			return "", j, errExtValue
		}
	}
	return "", len(v), errExtQuote
}

// intern returns b as a string, without allocating for the tokens of
// permessage-deflate (RFC 7692).
func intern(b []byte) string {
	switch string(b) {
	case "permessage-deflate":
		return "permessage-deflate"
	case "client_max_window_bits":
		return "client_max_window_bits"
	case "server_max_window_bits":
		return "server_max_window_bits"
	case "client_no_context_takeover":
		return "client_no_context_takeover"
	case "server_no_context_takeover":
		return "server_no_context_takeover"
	case "8":
		return "8"
	case "9":
		return "9"
	case "10":
		return "10"
	case "11":
		return "11"
	case "12":
		return "12"
	case "13":
		return "13"
	case "14":
		return "14"
	case "15":
		return "15"
	}
	return string(b)
}
