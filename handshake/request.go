package handshake

import "bytes"

// Request is an opening handshake request parsed by [Request.Parse] or
// built by [Server.CheckHTTP]. Its byte slices alias the parsed buffer.
// Reusing a Request reuses its Header storage.
type Request struct {
	// Method is the request method, such as "GET".
	Method []byte
	// Target is the request-target, such as "/chat?room=1".
	Target []byte
	// Proto is the HTTP version, such as "HTTP/1.1".
	Proto []byte
	// Header holds the header fields in the order received.
	Header []Field
}

// Parse parses the request header block at the start of b, within lim.
// It returns n > 0, the length of the block, once b holds all of it;
// bytes from b[n:] on are not part of the handshake (the client's first
// frame may already be there). It returns 0 and a nil error while b holds
// only part of the block: read more, append, and call Parse again on the
// whole buffer. Parse keeps no state between calls.
//
// Parse checks HTTP/1.1 syntax and limits, not WebSocket rules; that is
// [Server.Check]. A failure is a [*RejectError] with status 400
// ([ErrMalformed]) or 431 ([ErrTooLarge]).
//
// r's slices alias b. Parse makes no allocations once r.Header has grown
// to the number of fields.
func (r *Request) Parse(b []byte, lim Limits) (n int, err error) {
	start, fields, n, err := parseBlock(b, requestLine, lim, r.Header[:0])
	r.Method, r.Target, r.Proto, r.Header = nil, nil, nil, fields
	if start != nil {
		// Check the request line as soon as it is complete.
		method, target, proto, serr := parseRequestLine(start)
		if serr != nil {
			return 0, reject(400, serr)
		}
		r.Method, r.Target, r.Proto = method, target, proto
	}
	if err != nil {
		return 0, reject(parseStatus(err), err)
	}
	return n, nil
}

// parseRequestLine splits and checks a request line.
//
// RFC 7230, Section 3.1.1: "request-line = method SP request-target SP
// HTTP-version CRLF".
func parseRequestLine(line []byte) (method, target, proto []byte, err error) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return nil, nil, nil, malformed("request line")
	}
	method, rest := line[:sp], line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return nil, nil, nil, malformed("request line")
	}
	target, proto = rest[:sp], rest[sp+1:]
	if !isToken(method) {
		return nil, nil, nil, malformed("method is not a token")
	}
	if len(target) == 0 {
		return nil, nil, nil, malformed("empty request-target")
	}
	for _, c := range target {
		if class[c]&cTarget == 0 {
			return nil, nil, nil, malformed("request-target holds a byte that is not visible ASCII")
		}
	}
	if _, _, ok := parseVersion(proto); !ok {
		return nil, nil, nil, malformed("HTTP version")
	}
	return method, target, proto, nil
}

// Get returns the value of the first header field named name, compared
// ASCII case-insensitively, or nil if there is none. The result aliases
// the parsed buffer.
func (r *Request) Get(name string) []byte { return get(r.Header, name) }
