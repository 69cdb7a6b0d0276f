// Package conn implements WebSocket connections (RFC 6455) for servers and
// clients on top of packages frame, handshake and deflate: the message API,
// control frames, the closing handshake, limits, deadlines and contexts,
// permessage-deflate (RFC 7692) and WebSocket over HTTP/2 (RFC 8441).
//
// Package conn does the opening handshake only through [Accept], [Upgrade] and
// [Dial]; [Server] and [Client] wrap a connection whose handshake is already
// done, the way tls.Server and tls.Client wrap a net.Conn.
//
// # Strict by default
//
// A Conn fails the connection on any protocol violation by the peer: it sends
// a close frame with the code the violation calls for (1002 for framing errors,
// 1007 for invalid UTF-8 in a text message or close reason, 1009 for a message
// over the read limit), waits briefly for the peer's close frame and closes
// the TCP connection. Text messages are checked for valid UTF-8 as their bytes
// arrive, so a message is rejected at the first invalid byte, even in the
// middle of a fragment. After a failure every later call returns the same
// error.
//
// # Errors
//
// Errors say who ended the connection. A [*CloseError] means the peer did:
// the code and reason of its close frame, or 1006 when the connection was
// lost without one. A violation by the peer is a *frame.ProtocolError with
// the close code sent for it ([ErrMessageTooBig] for the read limit, for
// errors.Is). What this side did is returned as it is: [ErrClosed] after
// Close or CloseNow, [ErrBufferFull] for a full outgoing buffer, and the
// context's error (errors.Is(err, context.Canceled)) or a deadline's
// (os.ErrDeadlineExceeded) when one stops a read or a write; [CloseStatus]
// is 0 for all of them.
//
// A context or deadline that stops a read between messages leaves the Conn
// usable: the next read goes on with the next message, as a net.Conn read
// goes on after a timeout. Inside a message, what was read of it is lost,
// so the connection fails, with a close frame (1008) to the peer rather than
// a silent drop. (gorilla/websocket makes every read fail after a deadline
// and leaves the connection open; coder/websocket closes it without a close
// frame.) A write that is cut short may have left half a frame on the wire,
// so it always fails the connection.
//
// # Sending
//
// Every frame reaches the socket through one path, which first writes what
// waits in the connection's outgoing buffer: nothing is ever sent ahead of a
// message queued before it. There are two ways to send:
//
//   - Directly, with [Conn.WriteMessage], [Conn.NextWriter],
//     [Conn.WritePrepared] and [Conn.Flush]: the call returns once its frames
//     are on the socket, waiting for the peer as long as it takes, within
//     the context and [Options.WriteTimeout].
//   - Queued, with [Conn.QueueMessage], [Conn.QueuePrepared] and
//     [Group.Broadcast]: the call returns at once. Queued messages are
//     batched and go out together when the batch reaches the write buffer
//     size, before the reader waits for input, on Flush, or before any
//     direct write. The socket takes what it can at once; a background
//     flusher, which runs only while needed, writes the rest as the peer
//     reads it.
//
// A peer that reads slowly, or not at all, can therefore never stall a
// broadcast: its messages wait in its own outgoing buffer, which
// [Options.MaxBuffered] bounds (4 MiB by default). Once that much waits,
// [Conn.QueuePrepared] and [Group.Broadcast] refuse the message with
// [ErrBufferFull] and, by [Options.WhenFull], either fail the connection
// with close code 1013 ([FailWhenFull], the default) or drop the message
// ([DropWhenFull]); a broadcast to a member that stopped reading so costs
// that member its own bound, and the others nothing. [Conn.QueueMessage],
// meant for a connection's own writer such as its read loop, waits instead:
// it writes the backlog out itself, so that a peer that does not keep up
// slows its writer down. [Conn.BufferedAmount] reports what waits, for
// applications that apply backpressure themselves.
//
// A message type may carry [Uncompressed] (Text|Uncompressed) to send that
// one message without compression on a connection that negotiated
// permessage-deflate.
//
// # Reading: buffers and contexts
//
// [Conn.ReadMessage] reads into the buffer it is given and returns the
// message in it, so the result aliases that buffer. A loop that passes the
// last message back as the next buffer allocates nothing, and must copy a
// message (bytes.Clone) before it hands it to another goroutine or keeps it
// past the next read; reading into nil gives each message memory of its
// own instead:
//
//	var buf []byte
//	for {
//		typ, msg, err := c.ReadMessage(ctx, buf)
//		if err != nil {
//			return err
//		}
//		out <- bytes.Clone(msg) // msg is overwritten by the next read
//		buf = msg
//	}
//
// The context of a read is watched only while the read waits.
// context.Background and its like cost nothing; what a context that can
// be cancelled costs per ReadMessage, if anything, is measured by
// BenchmarkReadContext (go test -run '^$' -bench ReadContext -benchmem).
// In an http.Handler, read with a context of the connection's own rather
// than r.Context(), which is cancelled when the handler returns, and so
// ends the reads of a goroutine that outlives it.
//
// # Control frames and hooks
//
// A Conn answers pings, keeps track of pongs and runs the closing handshake
// by itself. [Options.OnPingReceived], [Options.OnPongReceived] (with the
// round-trip time of the ping a pong answers) and
// [Options.OnCloseReceived] let an application watch those frames, or
// answer a ping itself; [Conn.WritePing], [Conn.WritePong] and
// [Conn.WriteClose] write a control frame without waiting for its answer,
// where [Conn.Ping] and [Conn.Close] wait.
//
// # Browsers
//
// Compiled for the browser (GOOS=js GOARCH=wasm), the package offers the
// client side over the browser's WebSocket object: Dial, ReadMessage,
// NextReader, WriteMessage, NextWriter, Close, CloseNow, the deadlines and
// the accessors, with the same types, errors and close codes, and
// [NetConn] and package wsjson on top. The browser runs the protocol
// itself; what it does not let a page do (serving, pings and their hooks,
// header fields, compression settings, queued writes, Group, Poller) is
// left out of that build.
//
// # Coming from gorilla/websocket or coder/websocket
//
// The close codes carry gorilla's names (CloseNormalClosure, ...). The
// README maps the calls of both libraries to this package's, and package
// github.com/wirelevel/ws/compat/gorilla offers gorilla's own API on top of
// this one, for programs that change only their import path.
//
// # Concurrency
//
// One goroutine may read at a time: [Conn.ReadMessage], [Conn.NextReader] and
// the io.Reader it returns; concurrent reads wait for each other. Reading is
// what processes control frames, so an application that expects pings,
// pongs ([Conn.Ping], keepalive) or the peer's close frame must keep a reader
// running.
//
// Any number of goroutines may write at once: [Conn.WriteMessage],
// [Conn.NextWriter] (and the writer it returns, until closed),
// [Conn.QueueMessage], [Conn.QueuePrepared], [Conn.Flush],
// [Conn.WritePrepared] and [Conn.Ping]. Frames never interleave: a message
// written with NextWriter keeps other data messages waiting until its
// writer is closed (direct writes block; queued ones are held and follow
// it), but control frames (pongs, pings, close) may go out between its
// fragments.
//
// [Conn.Close], [Conn.CloseNow], the Set*Deadline methods and the accessors
// ([Conn.BufferedAmount], [Conn.Err], [Conn.Done] and the rest) are safe to
// call from any goroutine at any time.
//
// # Memory
//
// An idle Conn holds no read or write buffer: buffers are borrowed from one
// pool while a message is in flight and returned when it is done, so an idle
// connection costs the Conn itself (about 1 KiB) plus the goroutine reading
// it. A [Poller] removes the goroutine too: it watches many connections'
// sockets and reads a connection only while its messages arrive, which suits
// servers holding many mostly idle connections. A peer that sends half a
// frame and stops holds no goroutine of a Poller either, only the bytes it
// sent.
//
// # Throughput
//
// Reads on plain TCP and Unix sockets take whatever the socket holds in one
// call. [Conn.QueueMessage] lets a read loop answer every message one read
// returned with a single write. [PreparedMessage] and [Group] encode a
// broadcast once for all connections, and queue it on each without copying
// it.
package conn
