package handshake

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// Errors that callers may want to branch on, with errors.Is. On the
// server, Check and Request.Parse wrap them in a [*RejectError] carrying
// the HTTP status given below; on the client, Response.Parse and
// ReadResponse return ErrMalformed and ErrTooLarge wrapped with detail.
var (
	// ErrMethod means the request method is not GET (405).
	ErrMethod = errors.New("handshake: method must be GET")
	// ErrHTTPVersion means the request is not HTTP/1.1 or a later 1.x (505).
	ErrHTTPVersion = errors.New("handshake: HTTP/1.1 required")
	// ErrNotWebSocket means the Upgrade header does not name websocket
	// (426): typically a plain HTTP request.
	ErrNotWebSocket = errors.New("handshake: Upgrade header lacks websocket")
	// ErrVersion means Sec-WebSocket-Version is missing or not 13 (426).
	ErrVersion = errors.New("handshake: Sec-WebSocket-Version must be 13")
	// ErrOrigin means the Origin header failed the origin policy (403).
	ErrOrigin = errors.New("handshake: origin not allowed")
	// ErrTooLarge means a header block exceeded a limit in [Limits] (431).
	ErrTooLarge = errors.New("handshake: header too large")
	// ErrMalformed means a header block broke the HTTP/1.1 message syntax,
	// or a handshake header broke its own grammar (400).
	ErrMalformed = errors.New("handshake: malformed header")
)

// Errors for conditions that need no branch of their own.
var (
	errHost        = errors.New("handshake: Host header missing or repeated")
	errConnection  = errors.New("handshake: Connection header lacks upgrade")
	errKey         = errors.New("handshake: Sec-WebSocket-Key must be base64 of 16 bytes, sent once")
	errVersionDup  = errors.New("handshake: Sec-WebSocket-Version repeated")
	errOriginDup   = errors.New("handshake: Origin repeated")
	errBody        = errors.New("handshake: request has a body")
	errTooMany     = errors.New("handshake: too many list elements")
	errNotChecked  = errors.New("handshake: Upgrade was not filled by Check")
	errBadField    = errors.New("handshake: invalid header field")
	errReserved    = errors.New("handshake: header field is set by the handshake")
	errBadProtocol = errors.New("handshake: subprotocol is not a token")
)

// RejectError is a failed server-side check, with the HTTP answer it calls
// for. Use errors.As to get it and errors.Is to test for a sentinel such as
// [ErrOrigin].
type RejectError struct {
	// Status is the HTTP status code to answer with, such as 400 or 426.
	Status int
	// Header holds response header fields the status calls for, such as
	// "Allow: GET" for 405 or "Sec-WebSocket-Version: 13" for 426. It may
	// be nil.
	Header http.Header
	// Err is the cause. Its message is also the response body.
	Err error
}

// Error returns the message of the cause.
func (e *RejectError) Error() string {
	if e.Err == nil {
		return "handshake: rejected with status " + strconv.Itoa(e.Status)
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *RejectError) Unwrap() error { return e.Err }

// AppendResponse appends the complete HTTP/1.1 answer to dst: the status
// line, e.Header, "Connection: close", a plain-text content type and
// length, and the message of e as the body. Header fields whose name or
// value is not valid are left out. The caller should close the connection
// after writing it.
func (e *RejectError) AppendResponse(dst []byte) []byte {
	status := e.status()
	body := e.Error()
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(status)...)
	dst = append(dst, "\r\n"...)
	for _, k := range slices.Sorted(maps.Keys(e.Header)) {
		if !isToken(k) || reservedReject(k) {
			continue
		}
		for _, v := range e.Header[k] {
			if !validValue(v) {
				continue
			}
			dst = appendField(dst, k, v)
		}
	}
	dst = append(dst, "Connection: close\r\n"...)
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\n"...)
	dst = append(dst, "X-Content-Type-Options: nosniff\r\n"...)
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)+1), 10)
	dst = append(dst, "\r\n\r\n"...)
	dst = append(dst, body...)
	return append(dst, '\n')
}

// ServeHTTP answers r through w the way [RejectError.AppendResponse] does,
// for servers that checked r with [Server.CheckHTTP] and have not hijacked
// the connection.
func (e *RejectError) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, vs := range e.Header {
		if !isToken(k) || reservedReject(k) {
			continue
		}
		for _, v := range vs {
			if validValue(v) {
				h.Add(k, v)
			}
		}
	}
	h.Set("Connection", "close")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status())
	fmt.Fprintln(w, e.Error())
}

func (e *RejectError) status() int {
	if e.Status < 100 || e.Status > 999 {
		return http.StatusBadRequest
	}
	return e.Status
}

// reservedReject reports whether AppendResponse writes the field itself.
func reservedReject(name string) bool {
	return equalFold(name, "Connection") || equalFold(name, "Content-Type") ||
		equalFold(name, "Content-Length") || equalFold(name, "Transfer-Encoding") ||
		equalFold(name, "X-Content-Type-Options")
}

// StatusError is a handshake response whose status is not 101 Switching
// Protocols. The response body is left unread: a caller that wants it for
// its error message can read a little of it from what follows the header
// block.
type StatusError struct {
	// Status is the status code, such as 403.
	Status int
	// Reason is the reason phrase, such as "Forbidden".
	Reason string
	// Header holds the response header fields.
	Header http.Header
	// Body holds the start of the response body when the caller read it
	// (conn.Dial reads up to 1 KiB, within the handshake timeout, for
	// error messages). Check leaves it nil.
	Body []byte
}

// Error reports the status code and reason phrase.
func (e *StatusError) Error() string {
	return fmt.Sprintf("handshake: server answered %d %q, want 101", e.Status, e.Reason)
}

// reject builds a RejectError. kv lists extra response header fields as
// name, value pairs; Header holds them under canonical keys, so that
// Header.Get works.
func reject(status int, err error, kv ...string) *RejectError {
	e := &RejectError{Status: status, Err: err}
	if len(kv) > 0 {
		e.Header = make(http.Header, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			e.Header.Add(kv[i], kv[i+1])
		}
	}
	return e
}

// parseStatus is the status Request.Parse answers a parse error with.
func parseStatus(err error) int {
	if errors.Is(err, ErrTooLarge) {
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return http.StatusBadRequest
}
