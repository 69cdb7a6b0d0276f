// Package handshake parses, checks and writes the opening handshake of a
// WebSocket connection: the HTTP/1.1 Upgrade of RFC 6455, Section 4, and
// the checks of the HTTP/2 extended CONNECT of RFC 8441, whose messages
// net/http carries. It does no framing, starts no goroutines, and leaves
// the choice of extension parameters to the extension's own negotiator
// (package deflate for permessage-deflate): it parses
// Sec-WebSocket-Extensions into [Extension] values and writes back the
// answer it is given.
//
// # Server
//
// A server meets a handshake on one of three paths, and all end in the same
// checks and the same [Upgrade]:
//
//   - Over net/http, [Server.CheckHTTP] checks an *http.Request. A caller
//     then hijacks the connection (http.ResponseController) and writes the
//     101 with [Upgrade.WriteResponse]. A [*RejectError] is an
//     http.Handler that answers a failed check.
//   - Over HTTP/2, [Server.CheckExtendedConnect] checks an extended CONNECT
//     request (":protocol: websocket", RFC 8441, Section 4); the caller
//     answers 200 through net/http and the stream carries the frames.
//   - On a raw net.Conn, [Server.ReadRequest] reads the header block under
//     a deadline and returns the parsed [Request] together with any bytes
//     read past it (the client's first frame may already be there).
//     [Request.Parse] is the incremental parser underneath it; with a
//     reused Request and Upgrade, Parse, Check and [Upgrade.AppendResponse]
//     make no allocations.
//
// Check answers a bad request with a [*RejectError] that carries the HTTP
// status to send:
//
//   - 400 Bad Request: malformed header block (bare CR or LF, obsolete line
//     folding, bytes not allowed in names or values), missing or repeated
//     Host, Connection without the "upgrade" token, a missing, repeated or
//     malformed Sec-WebSocket-Key, a repeated Sec-WebSocket-Version or
//     Origin, a malformed Sec-WebSocket-Protocol or Sec-WebSocket-Extensions,
//     or a request body (Transfer-Encoding, or Content-Length other than 0).
//   - 403 Forbidden: the Origin is not allowed ([ErrOrigin]).
//   - 405 Method Not Allowed, with "Allow: GET": the method is not GET
//     ([ErrMethod]).
//   - 426 Upgrade Required, with "Upgrade: websocket": the Upgrade header
//     does not name websocket ([ErrNotWebSocket]; a plain HTTP request to a
//     WebSocket endpoint ends here), or Sec-WebSocket-Version is missing or
//     not 13 ([ErrVersion]; the answer adds "Sec-WebSocket-Version: 13").
//   - 431 Request Header Fields Too Large: a limit in [Limits] was
//     exceeded ([ErrTooLarge]).
//   - 505 HTTP Version Not Supported: an Upgrade request that is not
//     HTTP/1.x with x ≥ 1, such as HTTP/1.0, or an HTTP/2 request given to
//     CheckHTTP ([ErrHTTPVersion]); HTTP/2 requests go to
//     CheckExtendedConnect.
//
// # Origin
//
// A server refuses cross-origin requests by default. A request is allowed
// when it has no Origin header (browsers always send one; other clients
// need not), when its Origin is same-origin, or when it matches one of
// [Server.OriginPatterns]. Same-origin means that the host[:port] part of
// the Origin equals the request's Host header, compared ASCII
// case-insensitively; the scheme is ignored and default ports are not
// filled in, so "https://example.com" matches "Host: example.com" but not
// "Host: example.com:443". "Origin: null" is never same-origin.
// [Server.InsecureSkipOriginCheck] turns the check off.
//
// # Client
//
// [Client.AppendRequest] writes the request, [ReadResponse] (or
// [Response.Parse] over bytes) reads the answer, and [Client.Check]
// verifies it against the request. A non-101 answer is a [*StatusError];
// the body is left unread for the caller. Over HTTP/2 the caller sends the
// extended CONNECT itself and [Client.CheckExtendedConnect] checks the
// status and header fields of the answer.
//
// # Aliasing
//
// The byte slices in a [Request] or [Response] alias the buffer they were
// parsed from and are valid only while that buffer is left unchanged.
// [Upgrade.Offers] are strings and do not alias it.
package handshake
