// Package conn implements WebSocket connections (RFC 6455) for servers and
// clients on top of packages frame and handshake: the message API, control
// frames, the closing handshake, limits, deadlines and contexts.
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
// # Concurrency
//
// One goroutine may read at a time: [Conn.ReadMessage], [Conn.NextReader] and
// the io.Reader it returns. Reading is what processes control frames, so an
// application that expects pings, pongs ([Conn.Ping], keepalive) or the
// peer's close frame must keep a reader running.
//
// Any number of goroutines may write at once: [Conn.WriteMessage],
// [Conn.NextWriter] (and the writer it returns, until closed),
// [Conn.QueueMessage], [Conn.Flush], [Conn.WritePrepared] and [Conn.Ping]. Frames never interleave: a message
// written with NextWriter keeps other data messages waiting until its writer
// is closed, but control frames (pongs, pings, close) may go out between its
// fragments.
//
// [Conn.Close], [Conn.CloseNow], the Set*Deadline methods and the accessors are
// safe to call from any goroutine at any time.
//
// # Memory
//
// An idle Conn holds no read or write buffer: buffers are borrowed from pools
// while a message is in flight and returned when it is done, so an idle
// connection costs the Conn itself (about 1 KiB) plus the goroutine reading
// it. A [Poller] removes the goroutine too: it watches many connections'
// sockets and reads a connection only while its messages arrive, which suits
// servers holding many mostly idle connections.
//
// # Throughput
//
// Reads on plain TCP and Unix sockets take whatever the socket holds in one
// call. [Conn.QueueMessage] lets a read loop answer every message one read
// returned with a single write. [PreparedMessage] and [Group] encode a
// broadcast once for all connections.
package conn
