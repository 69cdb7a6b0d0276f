package handshake

import (
	"bytes"
	"fmt"
)

// Default limits; see [Limits].
const (
	// DefaultMaxHeaderBytes is the default for Limits.MaxHeaderBytes.
	DefaultMaxHeaderBytes = 8 << 10
	// DefaultMaxHeaders is the default for Limits.MaxHeaders.
	DefaultMaxHeaders = 100
	// DefaultMaxLineBytes is the default for Limits.MaxLineBytes.
	DefaultMaxLineBytes = 4 << 10
)

// Limits bounds a header block, on the server for requests and on the
// client for responses. A zero or negative field takes its default.
// Exceeding a limit fails with [ErrTooLarge] (status 431 on a server).
type Limits struct {
	// MaxHeaderBytes bounds the whole header block: the start line, every
	// field line and the empty line that ends it, with their CRLFs.
	// Default [DefaultMaxHeaderBytes] (8 KiB).
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header field lines.
	// Default [DefaultMaxHeaders] (100).
	MaxHeaders int
	// MaxLineBytes bounds the request line or status line, without its
	// CRLF. Default [DefaultMaxLineBytes] (4 KiB).
	MaxLineBytes int
}

func (l Limits) headerBytes() int { return orDefault(l.MaxHeaderBytes, DefaultMaxHeaderBytes) }
func (l Limits) headers() int     { return orDefault(l.MaxHeaders, DefaultMaxHeaders) }
func (l Limits) lineBytes() int   { return orDefault(l.MaxLineBytes, DefaultMaxLineBytes) }

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Field is one header field line. Name is as sent; Value has its leading
// and trailing whitespace removed. Both alias the parsed buffer.
type Field struct {
	Name  []byte
	Value []byte
}

// byteClass flags, indexed by byte.
const (
	cToken  = 1 << iota // tchar, RFC 7230, Section 3.2.6
	cValue              // field-vchar, SP or HTAB, RFC 7230, Section 3.2
	cTarget             // visible ASCII, allowed in a request-target
	cHost               // allowed in an Origin host[:port]
)

var class [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		var f uint8
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			f |= cToken | cHost
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), byte(c)) >= 0:
			f |= cToken
		}
		if c == '-' || c == '.' || c == '_' || c == ':' || c == '[' || c == ']' {
			f |= cHost
		}
		// RFC 7230, Section 3.2: field-content is VCHAR and obs-text
		// (%x80-FF) separated by SP or HTAB.
		if c == '\t' || (c >= 0x20 && c != 0x7f) {
			f |= cValue
		}
		if c > 0x20 && c < 0x7f {
			f |= cTarget
		}
		class[c] = f
	}
}

func isTchar(c byte) bool { return class[c]&cToken != 0 }

// isToken reports whether s is a non-empty RFC 7230 token.
func isToken[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if class[s[i]]&cToken == 0 {
			return false
		}
	}
	return true
}

// validValue reports whether s may be sent as a field value: no control
// characters other than HTAB, so no CR or LF.
func validValue[T ~string | ~[]byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if class[s[i]]&cValue == 0 {
			return false
		}
	}
	return true
}

// lowerTable maps ASCII upper-case letters to lower case and every other
// byte to itself.
var lowerTable [256]byte

func init() {
	for c := range lowerTable {
		lowerTable[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			lowerTable[c] = byte(c) + 'a' - 'A'
		}
	}
}

func lower(c byte) byte { return lowerTable[c] }

// equalFold reports whether a and b are equal under ASCII case folding
// only. (bytes.EqualFold folds Unicode too, so "ſ" would match "s".)
func equalFold[A, B ~string | ~[]byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerTable[a[i]] != lowerTable[b[i]] {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func trimOWS[T ~string | ~[]byte](s T) T {
	i, j := 0, len(s)
	for i < j && isOWS(s[i]) {
		i++
	}
	for j > i && isOWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

func skipOWS(s []byte, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

// nextElement returns the list element of v that starts at i, with OWS
// trimmed, and the index just past its comma. Elements may be empty.
// See RFC 7230, Section 7.
func nextElement[T ~string | ~[]byte](v T, i int) (elem T, next int) {
	j := i
	for j < len(v) && v[j] != ',' {
		j++
	}
	return trimOWS(v[i:j]), j + 1
}

// hasToken reports whether the comma-separated list v holds token,
// compared ASCII case-insensitively.
func hasToken(v []byte, token string) bool {
	for i := 0; i < len(v); {
		var e []byte
		e, i = nextElement(v, i)
		if equalFold(e, token) {
			return true
		}
	}
	return false
}

func appendField[T ~string | ~[]byte](dst []byte, name string, value T) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// Start-line kinds for parseBlock.
const (
	requestLine = iota
	statusLine
)

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }
func tooLarge(what string) error  { return fmt.Errorf("%w: %s", ErrTooLarge, what) }

// parseBlock splits the header block at the start of b into its start line
// and header fields, appending the fields to fields. n is the length of
// the block including its final empty line, or 0 if b holds only part of
// it and no error was found yet. start is set once the start line is
// complete, even when n is 0 or err is set. Every complete line is checked, so bad
// input fails as soon as its line is in b. The work is linear in
// min(len(b), lim.MaxHeaderBytes).
//
// RFC 7230, Section 3: "HTTP-message = start-line *( header-field CRLF )
// CRLF [ message-body ]".
func parseBlock(b []byte, kind int, lim Limits, fields []Field) (start []byte, out []Field, n int, err error) {
	maxBytes, maxLine, maxFields := lim.headerBytes(), lim.lineBytes(), lim.headers()
	window := b
	if len(window) > maxBytes {
		window = window[:maxBytes]
	}
	incomplete := func() ([]byte, []Field, int, error) {
		if len(b) >= maxBytes {
			return start, fields, 0, tooLarge("header block over limit")
		}
		return start, fields, 0, nil
	}

	// Start line.
	i := bytes.IndexByte(window, '\n')
	if i < 0 {
		if err := checkPartialStart(kind, window); err != nil {
			return nil, fields, 0, err
		}
		if len(window) > maxLine+1 {
			return nil, fields, 0, tooLarge("start line over limit")
		}
		return incomplete()
	}
	if i == 0 || window[i-1] != '\r' {
		// RFC 7230, Section 3.5 lets a recipient accept a bare LF; we do
		// not, so that every peer frames lines the same way.
		return nil, fields, 0, malformed("line not ended by CRLF")
	}
	start = window[:i-1]
	if len(start) > maxLine {
		return nil, fields, 0, tooLarge("start line over limit")
	}
	if len(start) == 0 {
		return nil, fields, 0, malformed("empty start line")
	}
	pos := i + 1

	// From here on start is returned with every result, so that the caller
	// can check the start line before the block is complete.
	for {
		j := bytes.IndexByte(window[pos:], '\n')
		if j < 0 {
			return incomplete()
		}
		line := window[pos : pos+j]
		pos += j + 1
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return start, fields, 0, malformed("line not ended by CRLF")
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			return start, fields, pos, nil
		}
		if isOWS(line[0]) {
			// RFC 7230, Section 3.2.4: "A server that receives an obs-fold
			// in a request message ... MUST either reject the message by
			// sending a 400 (Bad Request) ... or replace each received
			// obs-fold with one or more SP octets". We reject. The same
			// goes for whitespace before the first field (Section 3).
			return start, fields, 0, malformed("obsolete line folding")
		}
		if len(fields) >= maxFields {
			return start, fields, 0, tooLarge("too many header fields")
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return start, fields, 0, malformed("field line without colon")
		}
		name := line[:colon]
		if !isToken(name) {
			// RFC 7230, Section 3.2.4: "A server MUST reject any received
			// request message that contains whitespace between a header
			// field-name and colon with a response code of 400".
			return start, fields, 0, malformed("field name is not a token")
		}
		value := trimOWS(line[colon+1:])
		if !validValue(value) {
			return start, fields, 0, malformed("control character in field value")
		}
		fields = append(fields, Field{Name: name, Value: value})
	}
}

// checkPartialStart rejects a start line early, before its end arrives, if
// its first bytes already rule it out. Garbage such as a TLS ClientHello
// sent to a plain-text port then fails at once rather than at the deadline.
func checkPartialStart(kind int, b []byte) error {
	if kind == statusLine {
		const p = "HTTP/"
		n := min(len(b), len(p))
		if string(b[:n]) != p[:n] {
			return malformed("status line does not start with HTTP/")
		}
		return nil
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == ' ' {
			return nil // the method is complete; the rest waits for CRLF
		}
		if !isTchar(c) {
			return malformed("method is not a token")
		}
	}
	return nil
}

// parseVersion parses "HTTP/" DIGIT "." DIGIT. See RFC 7230, Section 2.6.
func parseVersion[T ~string | ~[]byte](v T) (major, minor int, ok bool) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		!isDigit(v[5]) || !isDigit(v[7]) {
		return 0, 0, false
	}
	return int(v[5] - '0'), int(v[7] - '0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// get returns the value of the first field named name, or nil.
func get(fields []Field, name string) []byte {
	for i := range fields {
		if equalFold(fields[i].Name, name) {
			return fields[i].Value
		}
	}
	return nil
}
