package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Client describes a client's opening handshake. The zero value is not
// usable: Host must be set. A Client must not be changed while in use; it
// is then safe to use from several goroutines.
type Client struct {
	// Host is the Host header: the server's host, with ":port" unless it
	// is the default for the scheme.
	Host string
	// Target is the request-target, such as "/chat?room=1". Empty means
	// "/".
	Target string
	// Origin, if set, is sent as the Origin header, such as
	// "https://example.com". Browsers always send one; other clients need
	// not.
	Origin string
	// Protocols lists the subprotocols to offer, most preferred first.
	Protocols []string
	// Extensions, if set, is sent as the Sec-WebSocket-Extensions value,
	// as given (see [AppendExtensions]). Check accepts only extensions it
	// names.
	Extensions string
	// Header holds extra header fields, such as Authorization or Cookie.
	// It may not set Host, Origin, Upgrade, Connection, Content-Length,
	// Transfer-Encoding or a Sec-WebSocket- field.
	Header http.Header
	// Limits bounds the response header block.
	Limits Limits
}

var (
	errClientHost   = errors.New("handshake: client Host is empty or holds a byte that is not visible ASCII")
	errClientTarget = errors.New("handshake: client Target holds a byte that is not visible ASCII")
)

// AppendRequest appends the opening handshake request to dst, with key as
// its Sec-WebSocket-Key (use [NewKey]; key is sent as given, so a test may
// send a bad one):
//
//	GET {Target} HTTP/1.1
//	Host: {Host}
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Key: {key}
//	Sec-WebSocket-Version: 13
//	Origin, Sec-WebSocket-Protocol, Sec-WebSocket-Extensions if set
//	the fields of Header, sorted by name
//
// It fails, returning dst unchanged, if a field would not make a valid
// header line, a protocol is not a token, or Header sets a field the
// handshake owns. See RFC 6455, Section 4.1.
func (c *Client) AppendRequest(dst []byte, key string) ([]byte, error) {
	target := c.Target
	if target == "" {
		target = "/"
	}
	for i := 0; i < len(target); i++ {
		if class[target[i]]&cTarget == 0 {
			return dst, errClientTarget
		}
	}
	if c.Host == "" {
		return dst, errClientHost
	}
	for i := 0; i < len(c.Host); i++ {
		if class[c.Host[i]]&cTarget == 0 {
			return dst, errClientHost
		}
	}
	if !validValue(key) || !validValue(c.Origin) || !validValue(c.Extensions) {
		return dst, errBadField
	}
	for _, p := range c.Protocols {
		if !isToken(p) {
			return dst, errBadProtocol
		}
	}
	if err := checkExtra(c.Header, reservedRequest); err != nil {
		return dst, err
	}
	dst = append(dst, "GET "...)
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = appendField(dst, "Host", c.Host)
	dst = append(dst, "Upgrade: websocket\r\nConnection: Upgrade\r\n"...)
	dst = appendField(dst, "Sec-WebSocket-Key", trimOWS(key))
	dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	if c.Origin != "" {
		dst = appendField(dst, "Origin", c.Origin)
	}
	if len(c.Protocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		for i, p := range c.Protocols {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, p...)
		}
		dst = append(dst, "\r\n"...)
	}
	if e := trimOWS(c.Extensions); e != "" {
		dst = appendField(dst, "Sec-WebSocket-Extensions", e)
	}
	dst = appendExtra(dst, c.Header)
	return append(dst, "\r\n"...), nil
}

func reservedRequest(name string) bool {
	return equalFold(name, "Host") || equalFold(name, "Origin") ||
		reservedResponse(name)
}

// Response is an opening handshake response parsed by [Response.Parse] or
// [ReadResponse]. Its byte slices alias the parsed buffer.
type Response struct {
	// Proto is the HTTP version, such as "HTTP/1.1".
	Proto []byte
	// Status is the status code, such as 101.
	Status int
	// Reason is the reason phrase, such as "Switching Protocols". It may
	// be empty.
	Reason []byte
	// Header holds the header fields in the order received.
	Header []Field
}

// Parse parses the response header block at the start of b, within lim,
// the way [Request.Parse] parses a request: n > 0 is the length of the
// block, and b[n:] holds what follows it (the body of an error response,
// or the server's first frame after a 101); n == 0 with a nil error means
// b holds only part of the block. A failure wraps [ErrMalformed] or
// [ErrTooLarge]. r's slices alias b.
func (r *Response) Parse(b []byte, lim Limits) (n int, err error) {
	start, fields, n, err := parseBlock(b, statusLine, lim, r.Header[:0])
	r.Proto, r.Status, r.Reason, r.Header = nil, 0, nil, fields
	if start != nil {
		proto, status, reason, serr := parseStatusLine(start)
		if serr != nil {
			return 0, serr
		}
		r.Proto, r.Status, r.Reason = proto, status, reason
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// parseStatusLine splits and checks a status line.
//
// RFC 7230, Section 3.1.2: "status-line = HTTP-version SP status-code SP
// reason-phrase CRLF". A missing SP and reason are tolerated.
func parseStatusLine(line []byte) (proto []byte, status int, reason []byte, err error) {
	if len(line) < 12 || line[8] != ' ' ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) {
		return nil, 0, nil, malformed("status line")
	}
	proto, reason = line[:8], line[12:]
	if _, _, ok := parseVersion(proto); !ok {
		return nil, 0, nil, malformed("HTTP version")
	}
	if len(reason) > 0 {
		if reason[0] != ' ' {
			return nil, 0, nil, malformed("status line")
		}
		reason = reason[1:]
	}
	if !validValue(reason) {
		return nil, 0, nil, malformed("control character in reason phrase")
	}
	// RFC 9110, Section 15: "Values outside the range 100..599 are
	// invalid." Codes up to 999 are let through as unknown.
	status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if status < 100 {
		return nil, 0, nil, malformed("status code below 100")
	}
	return proto, status, reason, nil
}

// Get returns the value of the first header field named name, compared
// ASCII case-insensitively, or nil if there is none.
func (r *Response) Get(name string) []byte { return get(r.Header, name) }

// HTTPHeader returns a copy of the header fields as an http.Header, under
// canonical keys, in the order received; it does not alias the parsed
// buffer.
func (r *Response) HTTPHeader() http.Header { return fieldsToHeader(r.Header) }

// ReadResponse reads a response header block from br, within lim, and
// parses it with [Response.Parse]. It reads no further than the empty
// line that ends the block: the body, or the server's first frame, stays
// in br. The Response aliases a buffer of its own. ReadResponse sets no
// deadline; set one on the connection under br.
func ReadResponse(br *bufio.Reader, lim Limits) (*Response, error) {
	resp := new(Response)
	maxBytes := lim.headerBytes()
	var buf []byte
	lines, lineStart := 0, 0
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxBytes {
			return nil, tooLarge("header block over limit")
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("handshake: read response: %w", err)
		}
		line := buf[lineStart:]
		lineStart = len(buf)
		lines++
		// Parse the status line at once, to turn away garbage, and then
		// only at the empty line or past the field limit, so the work
		// stays linear in the size of the block.
		blank := string(line) == "\r\n" || string(line) == "\n"
		if lines == 1 || blank || lines > lim.headers()+1 {
			n, err := resp.Parse(buf, lim)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				return resp, nil
			}
		}
	}
}

// Errors from Client.Check.
var (
	errRespVersion    = errors.New("handshake: 101 response is not HTTP/1.1")
	errRespUpgrade    = errors.New("handshake: response Upgrade header lacks websocket")
	errRespConnection = errors.New("handshake: response Connection header lacks upgrade")
	errRespAccept     = errors.New("handshake: response Sec-WebSocket-Accept does not match the key")
	errRespProtocol   = errors.New("handshake: response Sec-WebSocket-Protocol was not offered")
	errRespExtension  = errors.New("handshake: response Sec-WebSocket-Extensions names an extension that was not offered")
)

// Check verifies resp against the request c sent with key and returns the
// subprotocol the server chose ("" for none) and the extensions it
// accepted, in order. Checking each extension's parameters is left to
// that extension's negotiator. A status other than 101 is a
// [*StatusError].
//
// RFC 6455, Section 4.1: "If the server's response does not conform to
// the requirements for the server's handshake as defined in this section
// and in Section 4.2.2, the client MUST _Fail the WebSocket Connection_."
func (c *Client) Check(resp *Response, key string) (protocol string, exts []Extension, err error) {
	if resp.Status != http.StatusSwitchingProtocols {
		return "", nil, &StatusError{
			Status: resp.Status,
			Reason: string(resp.Reason),
			Header: fieldsToHeader(resp.Header),
		}
	}
	if major, minor, _ := parseVersion(resp.Proto); major != 1 || minor < 1 {
		return "", nil, errRespVersion
	}
	var (
		upgrade, connection bool
		accept              []byte
		nAccept, nProtocol  int
		proto               []byte
	)
	for i := range resp.Header {
		f := &resp.Header[i]
		switch headerID(f.Name) {
		case hUpgrade:
			upgrade = upgrade || hasToken(f.Value, "websocket")
		case hConnection:
			connection = connection || hasToken(f.Value, "upgrade")
		case hAccept:
			accept, nAccept = f.Value, nAccept+1
		case hProtocol:
			proto, nProtocol = f.Value, nProtocol+1
		case hExtensions:
			if exts, err = appendExtensions(exts, f.Value); err != nil {
				return "", nil, err
			}
		}
	}
	// RFC 6455, Section 4.1: "If the response lacks an |Upgrade| header
	// field or the |Upgrade| header field contains a value that is not an
	// ASCII case-insensitive match for the value "websocket", the client
	// MUST _Fail the WebSocket Connection_."
	if !upgrade {
		return "", nil, errRespUpgrade
	}
	// "If the response lacks a |Connection| header field or the
	// |Connection| header field doesn't contain a token that is an ASCII
	// case-insensitive match for the value "Upgrade", the client MUST
	// _Fail the WebSocket Connection_."
	if !connection {
		return "", nil, errRespConnection
	}
	// "If the response lacks a |Sec-WebSocket-Accept| header field or the
	// |Sec-WebSocket-Accept| contains a value other than the base64-encoded
	// SHA-1 of the concatenation of the |Sec-WebSocket-Key| (as a string,
	// not base64-decoded) with the string
	// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" but ignoring any leading and
	// trailing whitespace, the client MUST _Fail the WebSocket
	// Connection_."
	var want [acceptLen]byte
	if nAccept != 1 || !bytes.Equal(accept, appendAccept(want[:0], trimOWS(key))) {
		return "", nil, errRespAccept
	}
	return c.checkAgreed(proto, nProtocol, exts)
}

// CheckExtendedConnect checks the response to a WebSocket request made
// over HTTP/2 with extended CONNECT (RFC 8441): a 2xx status (else a
// [*StatusError]), and a subprotocol and extensions from among those
// offered, as [Client.Check] does. There is no accept key over HTTP/2.
func (c *Client) CheckExtendedConnect(status int, h http.Header) (protocol string, exts []Extension, err error) {
	if status < 200 || status > 299 {
		return "", nil, &StatusError{Status: status, Reason: http.StatusText(status), Header: h}
	}
	var proto []byte
	vs := h.Values("Sec-WebSocket-Protocol")
	if len(vs) == 1 {
		proto = []byte(trimOWS(vs[0]))
	}
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		if exts, err = appendExtensions(exts, []byte(v)); err != nil {
			return "", nil, err
		}
	}
	return c.checkAgreed(proto, len(vs), exts)
}

// checkAgreed checks that the subprotocol and extensions a server agreed to
// are among those offered.
func (c *Client) checkAgreed(proto []byte, nProtocol int, exts []Extension) (protocol string, _ []Extension, err error) {
	// "If the response includes a |Sec-WebSocket-Protocol| header field
	// and this header field indicates the use of a subprotocol that was
	// not present in the client's handshake (the server has indicated a
	// subprotocol not requested by the client), the client MUST _Fail the
	// WebSocket Connection_."
	if nProtocol > 0 {
		if nProtocol > 1 {
			return "", nil, errRespProtocol
		}
		for _, p := range c.Protocols {
			if string(proto) == p {
				protocol = p
			}
		}
		if protocol == "" {
			return "", nil, errRespProtocol
		}
	}
	// "If the response includes a |Sec-WebSocket-Extensions| header field
	// and this header field indicates the use of an extension that was
	// not present in the client's handshake (the server has indicated an
	// extension not requested by the client), the client MUST _Fail the
	// WebSocket Connection_."
	if len(exts) > 0 {
		offered, _ := ParseExtensions(c.Extensions)
		for _, e := range exts {
			found := false
			for _, o := range offered {
				found = found || o.Name == e.Name
			}
			if !found {
				return "", nil, fmt.Errorf("%w: %s", errRespExtension, strconv.Quote(e.Name))
			}
		}
	}
	return protocol, exts, nil
}

func fieldsToHeader(fields []Field) http.Header {
	h := make(http.Header, len(fields))
	for _, f := range fields {
		k := http.CanonicalHeaderKey(string(f.Name))
		h[k] = append(h[k], string(f.Value))
	}
	return h
}
