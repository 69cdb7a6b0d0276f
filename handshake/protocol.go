package handshake

import "fmt"

// MaxProtocols bounds the number of subprotocols a request may offer,
// across all of its Sec-WebSocket-Protocol lines.
const MaxProtocols = 64

var errProtocolToken = fmt.Errorf("%w: Sec-WebSocket-Protocol element is not a token", ErrMalformed)

// ParseProtocols parses a Sec-WebSocket-Protocol value: a comma-separated
// list of tokens, in the client's order of preference. Empty elements are
// skipped, as RFC 7230, Section 7 requires of list parsers. It fails on an
// element that is not a token or on more than [MaxProtocols] elements.
// The strings alias value. See RFC 6455, Section 4.1.
func ParseProtocols(value string) ([]string, error) {
	var out []string
	for i := 0; i < len(value); {
		var e string
		e, i = nextElement(value, i)
		if e == "" {
			continue
		}
		if !isToken(e) {
			return nil, errProtocolToken
		}
		if len(out) == MaxProtocols {
			return nil, errTooMany
		}
		out = append(out, e)
	}
	return out, nil
}

// selectProtocol checks every Sec-WebSocket-Protocol field and returns the
// first of s.Protocols that the client offered, or "" if none was.
//
// RFC 6455, Section 4.2.2: the answer names "a single value representing
// the subprotocol the server is ready to use. If the server does not wish
// to agree to one of the suggested subprotocols, it MUST NOT send back a
// |Sec-WebSocket-Protocol| header field in its response." Section 4.1:
// "The elements that comprise this value MUST be non-empty strings with
// characters in the range U+0021 to U+007E not including separator
// characters". The RFC folds case only where it says so (Upgrade,
// Connection), so the match here is exact. Repeated elements, which a
// client must not send, are tolerated.
func (s *Server) selectProtocol(fields []Field) (string, error) {
	n := 0
	for i := range fields {
		if headerID(fields[i].Name) != hProtocol {
			continue
		}
		v := fields[i].Value
		for j := 0; j < len(v); {
			var e []byte
			e, j = nextElement(v, j)
			if len(e) == 0 {
				continue
			}
			if !isToken(e) {
				return "", errProtocolToken
			}
			if n++; n > MaxProtocols {
				return "", errTooMany
			}
		}
	}
	for _, p := range s.Protocols {
		for i := range fields {
			if headerID(fields[i].Name) != hProtocol {
				continue
			}
			v := fields[i].Value
			for j := 0; j < len(v); {
				var e []byte
				e, j = nextElement(v, j)
				if string(e) == p {
					return p, nil
				}
			}
		}
	}
	return "", nil
}
