// Package websocket is gorilla/websocket's API (v1.5.3) on top of package
// conn: a program written for github.com/gorilla/websocket builds against
// it with only its import path changed,
//
//	import "github.com/wirelevel/ws/compat/gorilla" // package websocket
//
// and gets this library's conformance and safety: text messages and close
// reasons checked as UTF-8 as they arrive, strict close codes, every
// protocol violation answered with the close frame it calls for, the real
// closing handshake, a read limit by default, and writers that may run
// concurrently without ever corrupting a frame. Conn.Unwrap gives the
// conn.Conn underneath, for what gorilla lacks (queued writes, Group,
// Poller, a Ping that waits for its pong).
//
// The package does not share code with gorilla/websocket: it is conn's
// machinery behind gorilla's names and signatures.
//
// # Differences from gorilla/websocket
//
// Where gorilla's behaviour cannot be kept, or would give up conformance or
// safety, this package does what conn does. Each difference:
//
//   - Strictness. A text message or close reason that is not valid UTF-8,
//     a close frame with a code that may not be sent, a reserved bit or
//     opcode, or any other violation fails the connection with the close
//     frame the RFC calls for (1002, 1007, ...); gorilla passes invalid
//     UTF-8 through and sends only 1002 for some of the rest. The read
//     error is conn's *frame.ProtocolError, not gorilla's plain error.
//   - Read limit. A Conn starts with conn's read limit, 16 MiB, where
//     gorilla has none; SetReadLimit(0) (or any value of 0 or less)
//     removes it. A message over the limit is refused as soon as its
//     header announces it, with close code 1009 and ErrReadLimit.
//   - Closing. A close message from the peer is always answered, even by a
//     close handler that sends nothing (the Conn echoes the code after the
//     handler returns; a handler that writes its own close message answers
//     with that one). After this side sends a close message, data messages
//     that still arrive are dropped rather than returned, and the
//     connection closes once the peer answers, or 5 s later. WriteControl's
//     deadline does not apply to a close message, which is bounded by 5 s;
//     FormatCloseMessage with a code that may not be sent (1004-1006,
//     1015, 1016-2999, 5000 and up) makes WriteControl fail rather than
//     send it.
//   - Concurrency. Any number of goroutines may write at once (gorilla
//     allows one, and panics on a second); messages never interleave. A
//     writer that NextWriter returned and that is left open is closed by
//     the next NextWriter, WriteMessage or WritePreparedMessage, as in
//     gorilla, so two goroutines must not share NextWriter without
//     closing each writer first. One goroutine reads at a time; the
//     handlers run on it.
//   - Deadlines. A write that times out fails the connection (its frame
//     may be half written), as in gorilla; a read that times out ends
//     reading for good, as in gorilla, and sends nothing: call Close or
//     WriteControl. With a handler that returns an error, reading ends
//     with that error at once, and the connection stays open.
//   - Handshake answers. A refused upgrade gets the status the failure
//     calls for: 426 with Upgrade: websocket for a missing Upgrade header
//     or a version other than 13 (gorilla: 400), 405 with Allow: GET for
//     another method, 403 for an origin, 431 for a header block over
//     8 KiB. Upgrader.Error, and the default answer, see that status.
//     A subprotocol named in the response header of the deprecated
//     Upgrade function is selected only if the client offered it.
//   - Dialing. A zero HandshakeTimeout means 30 s (gorilla: no limit).
//     The response of a refused handshake holds up to 1 KiB of body.
//     The Host request header overrides the Host sent, not the TLS
//     server name. A bad accept key or an unoffered extension or
//     subprotocol in the answer is conn's error, not ErrBadHandshake.
//   - Compression. EnableCompression negotiates permessage-deflate without
//     context takeover, as gorilla does; the compressor is conn's, which
//     sends messages under 64 bytes uncompressed. SetCompressionLevel takes
//     compress/flate's levels; -1 means 6, and 0 and -2, which conn's
//     compressor lacks, mean 1.
//   - Buffers. ReadBufferSize and WriteBufferSize size buffers a Conn
//     borrows while a message is in flight (at least 32 KiB by default);
//     WriteBufferPool is not used. NextWriter sends a frame each time its
//     buffer fills, so the frame boundaries of a long message differ.
//   - Errors. IsCloseError and IsUnexpectedCloseError also find a
//     *CloseError wrapped in an error. A read on a connection closed by
//     Close returns conn.ErrClosed ("conn: connection closed") rather than
//     the net package's error. HandshakeError has an Unwrap method giving
//     conn's cause (a *handshake.RejectError).
package websocket
