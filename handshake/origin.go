package handshake

import (
	"bytes"
	"strings"
)

// originAllowed applies the origin policy documented on
// [Server.OriginPatterns] to the value of an Origin header.
//
// RFC 6455, Section 4.2.2: "The |Origin| header field is used to protect
// against unauthorized cross-origin use of a WebSocket server by scripts
// using the WebSocket API in a web browser."
func (s *Server) originAllowed(origin, host []byte) bool {
	if s.InsecureSkipOriginCheck {
		return true
	}
	// RFC 6454, Section 7.1: "origin-list-or-null = %x6E %x75 %x6C %x6C
	// / origin-list". An opaque origin is never the server's own.
	if string(origin) == "null" {
		for _, p := range s.OriginPatterns {
			if p == "null" {
				return true
			}
		}
		return false
	}
	_, hostport, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	if equalFold(hostport, host) {
		return true
	}
	for _, p := range s.OriginPatterns {
		if p == "null" {
			continue
		}
		if strings.Contains(p, "://") {
			if globMatch(p, origin) {
				return true
			}
		} else if globMatch(p, hostport) {
			return true
		}
	}
	return false
}

// splitOrigin splits a serialised origin, scheme "://" host [ ":" port ],
// checking that the scheme is a URI scheme, the host is a name or a
// bracketed IPv6 address, and the port is digits. See RFC 6454,
// Section 6.2.
func splitOrigin(origin []byte) (scheme, hostport []byte, ok bool) {
	i := bytes.Index(origin, []byte("://"))
	if i <= 0 {
		return nil, nil, false
	}
	scheme, hostport = origin[:i], origin[i+3:]
	// RFC 3986, Section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
	for j, c := range scheme {
		alpha := 'a' <= lower(c) && lower(c) <= 'z'
		if !alpha && (j == 0 || !(isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return nil, nil, false
		}
	}
	host, port := hostport, []byte(nil)
	if len(host) > 0 && host[0] == '[' {
		end := bytes.IndexByte(host, ']')
		if end < 0 {
			return nil, nil, false
		}
		for _, c := range host[1:end] {
			if !(isDigit(c) || ('a' <= lower(c) && lower(c) <= 'f') || c == ':' || c == '.') {
				return nil, nil, false
			}
		}
		host, port = host[:end+1], host[end+1:]
		if len(port) > 0 && port[0] != ':' {
			return nil, nil, false
		}
	} else if c := bytes.IndexByte(host, ':'); c >= 0 {
		host, port = host[:c], host[c:]
	}
	if len(host) == 0 {
		return nil, nil, false
	}
	if host[0] != '[' {
		for _, c := range host {
			if class[c]&cHost == 0 || c == ':' || c == '[' || c == ']' {
				return nil, nil, false
			}
		}
	}
	if len(port) > 0 {
		port = port[1:]
		if len(port) == 0 || len(port) > 5 {
			return nil, nil, false
		}
		for _, c := range port {
			if !isDigit(c) {
				return nil, nil, false
			}
		}
	}
	return scheme, hostport, true
}

// globMatch reports whether s matches pattern, ASCII case-insensitively,
// where "*" in pattern matches any run of bytes and every other byte
// matches itself. It backtracks only to the last "*", so it takes at most
// O(len(pattern) × len(s)) steps.
func globMatch(pattern string, s []byte) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && lower(pattern[p]) == lower(s[i]):
			p++
			i++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// OriginAllowed reports whether the policy admits a handshake with the
// Origin header value origin to a server whose Host is host: the rules of
// [Server.OriginPatterns] and [Server.InsecureSkipOriginCheck]. An empty host
// admits no origin as same-origin, so that only the patterns decide; other
// protocols on the same server (CORS for HTTP long-polling, say) use this to
// stay consistent with the WebSocket policy.
func (s *Server) OriginAllowed(origin, host string) bool {
	return s.originAllowed([]byte(origin), []byte(host))
}
