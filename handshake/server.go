package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"
)

// DefaultTimeout is the default for [Server.Timeout].
const DefaultTimeout = 10 * time.Second

// Server holds a server's handshake policy. The zero value is ready to
// use: no subprotocols, same-origin requests only, default limits. A
// Server must not be changed while in use; it is then safe to use from
// several goroutines.
type Server struct {
	// Protocols lists the supported subprotocols, most preferred first.
	// Check picks the first one the client offered. See RFC 6455,
	// Section 4.2.2.
	Protocols []string

	// OriginPatterns lists origins allowed besides same-origin ones. A
	// pattern without "://" is matched against the host[:port] of the
	// Origin; a pattern with "://" is matched against the whole Origin,
	// scheme included. Matching is ASCII case-insensitive and "*" matches
	// any run of bytes, dots and colons included; no other byte is
	// special. So "example.com" allows "https://example.com" and
	// "http://example.com" but not "https://example.com:8443";
	// "*.example.com" allows "https://a.b.example.com" but not
	// "https://example.com"; "https://*.example.com" allows only https;
	// "localhost:*" allows any port; "*" allows any origin but "null".
	// The pattern "null" allows "Origin: null" and nothing else.
	OriginPatterns []string

	// InsecureSkipOriginCheck turns the origin check off, so that any web
	// page may open a connection carrying the user's cookies. Use
	// OriginPatterns instead where you can.
	InsecureSkipOriginCheck bool

	// Limits bounds the request header block.
	Limits Limits

	// Timeout bounds the time ReadRequest may take to read the request.
	// Zero means [DefaultTimeout] (10 s); negative means no deadline.
	Timeout time.Duration
}

// Upgrade is a request that passed [Server.Check]: everything needed to
// answer it with 101 Switching Protocols. Check fills the first group of
// fields; the caller may set the second group, and change Protocol, before
// calling [Upgrade.AppendResponse] or [Upgrade.WriteResponse].
type Upgrade struct {
	// Request is the request that was checked.
	Request *Request
	// Protocol is the subprotocol the 101 names in Sec-WebSocket-Protocol,
	// or "" for none. Check sets it to the first of Server.Protocols that
	// the client offered.
	Protocol string
	// Offers holds the client's Sec-WebSocket-Extensions offers, in order,
	// across all of its Sec-WebSocket-Extensions lines. Reusing an Upgrade
	// reuses this storage.
	Offers []Extension

	// Extensions is the Sec-WebSocket-Extensions value of the 101, written
	// as given (see [AppendExtensions]), or "" for none. It should only
	// accept extensions from Offers; choosing them is up to the
	// extension's negotiator.
	Extensions string
	// Header holds extra header fields for the 101. It may not set
	// Upgrade, Connection, Content-Length, Transfer-Encoding or a
	// Sec-WebSocket- field.
	Header http.Header

	accept [acceptLen]byte
}

// Accept returns the Sec-WebSocket-Accept value of the 101.
func (u *Upgrade) Accept() string { return string(u.accept[:]) }

// Header names that Check and Client.Check look at.
const (
	hOther = iota
	hHost
	hOrigin
	hUpgrade
	hConnection
	hContentLength
	hTransferEncoding
	hKey
	hVersion
	hProtocol
	hExtensions
	hAccept
)

func headerID(name []byte) int {
	var want string
	id := hOther
	switch len(name) {
	case 4:
		want, id = "host", hHost
	case 6:
		want, id = "origin", hOrigin
	case 7:
		want, id = "upgrade", hUpgrade
	case 10:
		want, id = "connection", hConnection
	case 14:
		want, id = "content-length", hContentLength
	case 17:
		if len(name) > 0 && lower(name[0]) == 't' {
			want, id = "transfer-encoding", hTransferEncoding
		} else {
			want, id = "sec-websocket-key", hKey
		}
	case 20:
		want, id = "sec-websocket-accept", hAccept
	case 21:
		want, id = "sec-websocket-version", hVersion
	case 22:
		want, id = "sec-websocket-protocol", hProtocol
	case 24:
		want, id = "sec-websocket-extensions", hExtensions
	default:
		return hOther
	}
	if !equalFold(name, want) {
		return hOther
	}
	return id
}

// Check applies the RFC 6455 opening handshake rules and s's policy to req
// and, if they pass, fills up; up's Offers storage is reused. The order of
// checks, and so which error a request with several faults gets, is:
// method, HTTP version, Host, Upgrade, Connection, body,
// Sec-WebSocket-Version, Sec-WebSocket-Key, Origin,
// Sec-WebSocket-Protocol, Sec-WebSocket-Extensions. A failure is a
// [*RejectError]; the package documentation lists the status of each.
//
// Check makes no allocations when it passes, unless an extension offer
// holds a name or value other than those of permessage-deflate (RFC 7692)
// or up.Offers must grow.
func (s *Server) Check(req *Request, up *Upgrade) error {
	return s.check(req, up, false)
}

// check is Check for an HTTP/1.1 upgrade or, with h2, for an HTTP/2
// extended CONNECT (RFC 8441), which has no Upgrade, Connection or key
// fields and carries the stream as its body.
func (s *Server) check(req *Request, up *Upgrade, h2 bool) error {
	offers := up.Offers[:0]
	*up = Upgrade{Request: req, Offers: offers}

	if h2 {
		// RFC 8441, Section 4: "A new pseudo-header field :protocol MAY be
		// included on request HEADERS indicating the desired protocol to
		// be spoken on the tunnel created by CONNECT." Section 5: "The
		// :protocol pseudo-header field MUST be included in the CONNECT
		// request, and it MUST have a value of websocket".
		if string(req.Method) != "CONNECT" {
			return reject(http.StatusMethodNotAllowed, ErrMethod, "Allow", "CONNECT")
		}
		if major, _, ok := parseVersion(req.Proto); !ok || major < 2 {
			return reject(http.StatusHTTPVersionNotSupported, ErrHTTPVersion)
		}
		protocol := ""
		for _, f := range req.Header {
			if string(f.Name) == ":protocol" {
				protocol = string(f.Value)
			}
		}
		if protocol != "websocket" {
			return reject(http.StatusBadRequest, ErrNotWebSocket)
		}
	} else if string(req.Method) != "GET" {
		// RFC 6455, Section 4.2.1: "An HTTP/1.1 or higher GET request".
		return reject(http.StatusMethodNotAllowed, ErrMethod, "Allow", "GET")
	}
	major, minor, ok := parseVersion(req.Proto)
	if !ok {
		return reject(http.StatusBadRequest, malformed("HTTP version"))
	}
	if !h2 && (major != 1 || minor < 1) {
		return reject(http.StatusHTTPVersionNotSupported, ErrHTTPVersion)
	}

	var (
		host, key, version, origin     []byte
		nHost, nKey, nVersion, nOrigin int
		upgrade, connection, body      bool
		nProtocol, nExtensions         int
		// The Sec-WebSocket-Protocol and -Extensions fields lie within
		// req.Header[first:last+1], so later passes skip the rest.
		protoFirst, protoLast, extFirst, extLast int
	)
	for i := range req.Header {
		f := &req.Header[i]
		switch headerID(f.Name) {
		case hHost:
			host, nHost = f.Value, nHost+1
		case hUpgrade:
			upgrade = upgrade || hasToken(f.Value, "websocket")
		case hConnection:
			connection = connection || hasToken(f.Value, "upgrade")
		case hContentLength:
			body = body || string(f.Value) != "0"
		case hTransferEncoding:
			body = true
		case hVersion:
			version, nVersion = f.Value, nVersion+1
		case hKey:
			key, nKey = f.Value, nKey+1
		case hOrigin:
			origin, nOrigin = f.Value, nOrigin+1
		case hProtocol:
			if nProtocol == 0 {
				protoFirst = i
			}
			nProtocol, protoLast = nProtocol+1, i
		case hExtensions:
			if nExtensions == 0 {
				extFirst = i
			}
			nExtensions, extLast = nExtensions+1, i
		}
	}

	// RFC 6455, Section 4.2.1: "A |Host| header field containing the
	// server's authority." RFC 7230, Section 5.4: "A server MUST respond
	// with a 400 (Bad Request) status code to any HTTP/1.1 request message
	// that lacks a Host header field and to any request message that
	// contains more than one Host header field".
	if nHost != 1 {
		return reject(http.StatusBadRequest, errHost)
	}
	// RFC 6455, Section 4.2.1: "An |Upgrade| header field containing the
	// value "websocket", treated as an ASCII case-insensitive value."
	// RFC 7231, Section 6.5.15: "The server MUST send an Upgrade header
	// field in a 426 response to indicate the required protocol(s)".
	if !upgrade && !h2 {
		return reject(http.StatusUpgradeRequired, ErrNotWebSocket, "Upgrade", "websocket")
	}
	// RFC 6455, Section 4.2.1: "A |Connection| header field that includes
	// the token "Upgrade", treated as an ASCII case-insensitive value."
	if !connection && !h2 {
		return reject(http.StatusBadRequest, errConnection)
	}
	// A body would make the bytes after the header block ambiguous. (Over
	// HTTP/2 the body is the WebSocket stream.)
	if body && !h2 {
		return reject(http.StatusBadRequest, errBody)
	}
	// RFC 6455, Section 4.2.2: "If this version does not match a version
	// understood by the server, the server MUST abort the WebSocket
	// handshake described in this section and instead send an appropriate
	// HTTP error code (such as 426 Upgrade Required) and a
	// |Sec-WebSocket-Version| header field indicating the version(s) the
	// server is capable of understanding."
	if nVersion > 1 {
		return reject(http.StatusBadRequest, errVersionDup)
	}
	if string(version) != "13" {
		if h2 {
			return reject(http.StatusUpgradeRequired, ErrVersion, "Sec-WebSocket-Version", "13")
		}
		return reject(http.StatusUpgradeRequired, ErrVersion,
			"Upgrade", "websocket", "Sec-WebSocket-Version", "13")
	}
	// RFC 8441, Section 5: "The Sec-WebSocket-Key and Sec-WebSocket-Accept
	// header fields are not used" over HTTP/2.
	if !h2 && (nKey != 1 || !validKey(key)) {
		return reject(http.StatusBadRequest, errKey)
	}
	// RFC 6455, Section 10.2: "If the origin indicated is unacceptable to
	// the server, then it SHOULD respond to the WebSocket handshake with a
	// reply containing HTTP 403 Forbidden status code."
	if nOrigin > 1 {
		return reject(http.StatusBadRequest, errOriginDup)
	}
	if nOrigin == 1 && !s.originAllowed(origin, host) {
		return reject(http.StatusForbidden, ErrOrigin)
	}
	if nProtocol > 0 {
		p, err := s.selectProtocol(req.Header[protoFirst : protoLast+1])
		if err != nil {
			return reject(http.StatusBadRequest, err)
		}
		up.Protocol = p
	}
	if nExtensions > 0 {
		for i := extFirst; i <= extLast; i++ {
			f := &req.Header[i]
			if headerID(f.Name) != hExtensions {
				continue
			}
			var err error
			offers, err = appendExtensions(offers, f.Value)
			if err != nil {
				up.Offers = offers[:0]
				return reject(http.StatusBadRequest, err)
			}
		}
		up.Offers = offers
	}
	if !h2 {
		appendAccept(up.accept[:0], key)
	}
	return nil
}

// CheckHTTP is [Server.Check] for a request read by net/http. It copies the
// request line and header into a new [Request], applying s.Limits to
// them, and checks it. net/http has by then applied its own header syntax
// rules, which accept obsolete line folding. HTTP/2 requests fail with 505.
// A failure is a [*RejectError]; answer it with its ServeHTTP method.
func (s *Server) CheckHTTP(r *http.Request) (*Upgrade, error) {
	return s.checkHTTP(r, false)
}

// CheckExtendedConnect checks a WebSocket request made over HTTP/2 with
// extended CONNECT (RFC 8441): method CONNECT, :protocol websocket,
// Sec-WebSocket-Version 13, and the same origin, subprotocol and extension
// rules as [Server.CheckHTTP]; there is no key. The answer is a 200 with
// the Upgrade's Protocol and Extensions as Sec-WebSocket-Protocol and
// Sec-WebSocket-Extensions, written by the caller through net/http. A
// failure is a [*RejectError].
func (s *Server) CheckExtendedConnect(r *http.Request) (*Upgrade, error) {
	return s.checkHTTP(r, true)
}

// checkHTTP copies a request read by net/http and checks it, as an HTTP/1.1
// upgrade or, with h2, as an extended CONNECT.
func (s *Server) checkHTTP(r *http.Request, h2 bool) (*Upgrade, error) {
	// One allocation for the Upgrade, the Request and the Header of a
	// usual request; copyRequest makes the other.
	st := new(httpUpgrade)
	st.req.Header, st.up.Offers = st.fields[:0], st.offers[:0]
	if err := s.copyRequest(r, &st.req); err != nil {
		return nil, err
	}
	if err := s.check(&st.req, &st.up, h2); err != nil {
		return nil, err
	}
	return &st.up, nil
}

// httpUpgrade is what checkHTTP returns, with room for the header fields
// and extension offers of a browser's request.
type httpUpgrade struct {
	up     Upgrade
	req    Request
	fields [16]Field
	offers [2]Extension
}

// copyRequest copies the request line and header of a request read by
// net/http into req, applying s.Limits; req.Header's storage is used if
// it has room.
func (s *Server) copyRequest(r *http.Request, req *Request) error {
	target := r.RequestURI
	if target == "" && r.URL != nil {
		target = r.URL.RequestURI()
	}
	lim := s.Limits
	size := len(r.Method) + len(target) + len(r.Proto) + len("  \r\n\r\n")
	if len(target) > lim.lineBytes() || size > lim.headerBytes() {
		return reject(http.StatusRequestHeaderFieldsTooLarge, tooLarge("request line over limit"))
	}
	n := 0
	if r.Host != "" {
		n, size = 1, size+len("Host: \r\n")+len(r.Host)
	}
	// One pass over the map, which also collects the names to sort. Each
	// name kept adds a field to n, so stopping past the limit loses none
	// of a request that passes it.
	var keyArray [32]string
	keys := keyArray[:0]
	for k, vs := range r.Header {
		if len(vs) > 0 && len(keys) <= lim.headers() {
			keys = append(keys, k)
		}
		for _, v := range vs {
			n, size = n+1, size+len(k)+len(v)+len(": \r\n")
		}
	}
	if n > lim.headers() {
		return reject(http.StatusRequestHeaderFieldsTooLarge, tooLarge("too many header fields"))
	}
	if size > lim.headerBytes() {
		return reject(http.StatusRequestHeaderFieldsTooLarge, tooLarge("header block over limit"))
	}
	// One allocation for every byte of the copy; each field gets its own
	// capacity, so that appending to one cannot overwrite the next.
	arena := make([]byte, 0, size)
	bytesOf := func(v string) []byte {
		i := len(arena)
		arena = append(arena, v...)
		return arena[i:len(arena):len(arena)]
	}
	req.Method, req.Target, req.Proto = bytesOf(r.Method), bytesOf(target), bytesOf(r.Proto)
	req.Header = slices.Grow(req.Header[:0], n)
	if r.Host != "" {
		req.Header = append(req.Header, Field{Name: bytesOf("Host"), Value: bytesOf(r.Host)})
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			req.Header = append(req.Header, Field{Name: bytesOf(k), Value: bytesOf(trimOWS(v))})
		}
	}
	return nil
}

// ReadRequest reads an opening handshake request from c and parses it with
// [Request.Parse]. It sets a read deadline s.Timeout from now and clears
// it before returning, so a client that trickles its request is dropped
// at the deadline. It reads into a new buffer of s.Limits.MaxHeaderBytes
// bytes and returns rest, the bytes read past the header block, which
// alias that buffer as req does. ReadRequest does not call [Server.Check].
//
// A parse failure is a [*RejectError], to be answered before closing c;
// a read failure, including the deadline, is wrapped as
// "handshake: read request: %w" and deserves no answer.
func (s *Server) ReadRequest(c net.Conn) (req *Request, rest []byte, err error) {
	req = new(Request)
	rest, err = s.ReadRequestInto(c, make([]byte, s.Limits.headerBytes()), req)
	if err != nil {
		return nil, nil, err
	}
	return req, rest, nil
}

// ReadRequestInto is [Server.ReadRequest] with the caller's buffer and
// Request, for servers that reuse them from one connection to the next.
// It reads into buf[:s.Limits.MaxHeaderBytes] and parses into req, reusing
// req's Header storage; req's slices and rest alias buf, so buf must not
// be reused while they are in use. A buf shorter than MaxHeaderBytes is
// replaced by a new buffer of that size, which they then alias, so that a
// request within the limits is never refused for want of room. Errors are as ReadRequest's;
// after one, req's contents are unspecified.
func (s *Server) ReadRequestInto(c net.Conn, buf []byte, req *Request) (rest []byte, err error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout > 0 {
		if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return nil, fmt.Errorf("handshake: read request: %w", err)
		}
		defer c.SetReadDeadline(time.Time{})
	}
	if size := s.Limits.headerBytes(); len(buf) < size {
		buf = make([]byte, size)
	} else {
		buf = buf[:size]
	}
	n, lines, stalls := 0, 0, 0
	for {
		m, rerr := c.Read(buf[n:])
		n += m
		lines += bytes.Count(buf[n-m:n], lf)
		// Parse on the first bytes, to turn away garbage at once; then
		// only when the block may be complete, the buffer is full or
		// there are too many lines. Parsing after every line instead
		// would let a client that sends one line per segment cost
		// O(lines × size).
		if m > 0 && (n == m || n == len(buf) || lines > s.Limits.headers()+1 ||
			endsBlock(buf[max(0, n-m-2):n])) {
			k, perr := req.Parse(buf[:n], s.Limits)
			if perr != nil {
				return nil, perr
			}
			if k > 0 {
				return buf[k:n], nil
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				rerr = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("handshake: read request: %w", rerr)
		}
		if m == 0 {
			if stalls++; stalls > 100 {
				return nil, fmt.Errorf("handshake: read request: %w", io.ErrNoProgress)
			}
		} else {
			stalls = 0
		}
	}
}

var lf = []byte("\n")

// endsBlock reports whether b holds what may end a header block: an empty
// line, "\n\r\n", or "\n\n", which Parse rejects.
func endsBlock(b []byte) bool {
	return bytes.Contains(b, []byte("\n\r\n")) || bytes.Contains(b, []byte("\n\n"))
}

// AppendResponse appends the 101 Switching Protocols response to dst:
// Upgrade, Connection, Sec-WebSocket-Accept, Sec-WebSocket-Protocol if
// u.Protocol is set, Sec-WebSocket-Extensions if u.Extensions is set, then
// u.Header in sorted order. It fails, returning dst unchanged, if u was
// not filled by Check, if Protocol is not a token, or if Extensions or
// Header would not make valid header lines. It makes no allocations when
// dst has room and u.Header has at most one field name.
//
// RFC 6455, Section 4.2.2 lists the fields of the server's answer.
func (u *Upgrade) AppendResponse(dst []byte) ([]byte, error) {
	if u.accept[0] == 0 {
		return dst, errNotChecked
	}
	if u.Protocol != "" && !isToken(u.Protocol) {
		return dst, errBadProtocol
	}
	if !validValue(u.Extensions) {
		return dst, fmt.Errorf("%w: Sec-WebSocket-Extensions", errBadField)
	}
	if err := checkExtra(u.Header, reservedResponse); err != nil {
		return dst, err
	}
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	dst = append(dst, u.accept[:]...)
	dst = append(dst, "\r\n"...)
	if u.Protocol != "" {
		dst = appendField(dst, "Sec-WebSocket-Protocol", u.Protocol)
	}
	if e := trimOWS(u.Extensions); e != "" {
		dst = appendField(dst, "Sec-WebSocket-Extensions", e)
	}
	dst = appendExtra(dst, u.Header)
	return append(dst, "\r\n"...), nil
}

// WriteResponse writes the response of [Upgrade.AppendResponse] to w,
// straight into its buffer when it has room, and flushes w.
func (u *Upgrade) WriteResponse(w *bufio.Writer) error {
	b, err := u.AppendResponse(w.AvailableBuffer())
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Flush()
}

func reservedResponse(name string) bool {
	return equalFold(name, "Upgrade") || equalFold(name, "Connection") ||
		equalFold(name, "Content-Length") || equalFold(name, "Transfer-Encoding") ||
		hasPrefixFold(name, "Sec-WebSocket-")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}

// checkExtra checks that h holds only valid fields that reserved does not
// claim.
func checkExtra(h http.Header, reserved func(string) bool) error {
	for k, vs := range h {
		if !isToken(k) {
			return fmt.Errorf("%w: name %q", errBadField, k)
		}
		if reserved(k) {
			return fmt.Errorf("%w: %s", errReserved, k)
		}
		for _, v := range vs {
			if !validValue(v) {
				return fmt.Errorf("%w: value of %s", errBadField, k)
			}
		}
	}
	return nil
}

// appendExtra appends the fields of h, sorted by name when there are
// several names.
func appendExtra(dst []byte, h http.Header) []byte {
	if len(h) == 0 {
		return dst
	}
	if len(h) == 1 {
		for k, vs := range h {
			for _, v := range vs {
				dst = appendField(dst, k, trimOWS(v))
			}
		}
		return dst
	}
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			dst = appendField(dst, k, trimOWS(v))
		}
	}
	return dst
}
