package conn

import (
	"context"
	"io"
	"net"
	"sync"
	"time"
)

// NetConn returns a net.Conn whose byte stream is carried by the messages
// of c, for tunnelling a protocol that wants a net.Conn (HTTP/2, SSH,
// yamux) over a WebSocket, as coder/websocket's NetConn does. It is not
// the same as the method [Conn.NetConn], which returns the connection
// under the WebSocket.
//
// Every Write sends its bytes as one message of type typ (Text or Binary),
// so a Write of n bytes costs a frame header and, for a client, masking;
// batch small writes (a bufio.Writer) for throughput. Read returns the
// bytes of the messages received, in order, with no regard for message
// boundaries; a message of the other type fails the connection with close
// code 1003 (unsupported data) and the read returns an error. A close
// frame with 1000 or 1001 from the peer reads as io.EOF, any other ending
// as its error. Close runs the closing handshake with 1000 ([Conn.Close]).
//
// Limits: ctx bounds reads and writes (a read that it stops inside a
// message fails the connection, and a cancellable ctx costs per read what
// it costs [Conn.ReadMessage]). Deadlines are the Conn's: a read deadline
// that passes between messages leaves the stream usable, one that passes
// inside a message fails the connection (close code 1008), and a write
// deadline that passes always fails it; so unlike a TCP connection, a
// timeout inside a message is not recoverable. The read limit
// ([Options.ReadLimit]) still applies to each message; messages are read
// as they arrive, never buffered whole. Reads, like the Conn's, take one
// goroutine at a time; writes may come from several at once. LocalAddr and
// RemoteAddr are the Conn's.
func NetConn(ctx context.Context, c *Conn, typ MessageType) net.Conn {
	return &netConn{c: c, ctx: ctx, typ: typ &^ Uncompressed, wtyp: typ}
}

type netConn struct {
	c    *Conn
	ctx  context.Context
	typ  MessageType // the type messages must have
	wtyp MessageType // the type writes send, Uncompressed included

	mu   sync.Mutex // guards r and err; held by the reader
	r    io.Reader  // the message being read, or nil between messages
	rerr error      // the error that ended reading, returned ever after
}

func (nc *netConn) Read(p []byte) (int, error) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if nc.rerr != nil {
		return 0, nc.rerr
	}
	for {
		if nc.r == nil {
			typ, r, err := nc.c.NextReader(nc.ctx)
			if err != nil {
				switch CloseStatus(err) {
				case CloseNormalClosure, CloseGoingAway:
					err = io.EOF
				}
				if nc.c.Err() != nil || err == io.EOF {
					nc.rerr = err // the connection has ended
				}
				return 0, err
			}
			if typ != nc.typ {
				nc.rerr = &unexpectedTypeError{got: typ, want: nc.typ}
				nc.c.Close(CloseUnsupportedData, "conn.NetConn: unexpected "+typ.String()+" message")
				return 0, nc.rerr
			}
			nc.r = r
		}
		n, err := nc.r.Read(p)
		if err == io.EOF {
			nc.r = nil
			if n == 0 && len(p) > 0 {
				continue // an empty message, or its end: read the next
			}
			err = nil
		}
		if err != nil && nc.c.Err() != nil {
			nc.rerr = err
		}
		return n, err
	}
}

// unexpectedTypeError ends a NetConn stream that received a message of the
// other type.
type unexpectedTypeError struct{ got, want MessageType }

func (e *unexpectedTypeError) Error() string {
	return "conn: NetConn received a " + e.got.String() + " message, want " + e.want.String()
}

func (nc *netConn) Write(p []byte) (int, error) {
	if err := nc.c.WriteMessage(nc.ctx, nc.wtyp, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (nc *netConn) Close() error                       { return nc.c.Close(CloseNormalClosure, "") }
func (nc *netConn) LocalAddr() net.Addr                { return nc.c.LocalAddr() }
func (nc *netConn) RemoteAddr() net.Addr               { return nc.c.RemoteAddr() }
func (nc *netConn) SetDeadline(t time.Time) error      { return nc.c.SetDeadline(t) }
func (nc *netConn) SetReadDeadline(t time.Time) error  { return nc.c.SetReadDeadline(t) }
func (nc *netConn) SetWriteDeadline(t time.Time) error { return nc.c.SetWriteDeadline(t) }
