package conn

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/frame"
)

// MessageType is the type of a data message: [Text] or [Binary].
type MessageType int

// The two data message types. Their values are the frame opcodes.
const (
	Text   MessageType = MessageType(frame.OpText)
	Binary MessageType = MessageType(frame.OpBinary)
)

// String returns "text" or "binary".
func (t MessageType) String() string { return frame.Opcode(t).String() }

// Defaults for the zero values of [Options].
const (
	DefaultReadLimit       = 16 << 20 // bytes in one message, after decompression
	DefaultMaxFragments    = 1 << 17  // frames in one message
	DefaultReadBufferSize  = 32 << 10
	DefaultWriteBufferSize = 32 << 10
	DefaultCloseTimeout    = 5 * time.Second
)

// Options configure a [Conn]. The zero value gives the defaults; a nil
// *Options is the zero value.
type Options struct {
	// ReadLimit is the largest message, in bytes, the Conn accepts. A larger
	// message fails the connection with close code 1009 as soon as a frame
	// header announces it, before its payload is read. For compressed messages
	// it bounds the decompressed size, checked while inflating. 0 means
	// DefaultReadLimit (16 MiB); negative means no limit.
	ReadLimit int64

	// MaxFragments is the largest number of frames in one message; more fail
	// the connection with close code 1009. 0 means DefaultMaxFragments;
	// negative means no limit.
	MaxFragments int

	// ReadBufferSize and WriteBufferSize are the sizes of the buffers borrowed
	// from a pool while a message is in flight. 0 means the defaults (32 KiB).
	ReadBufferSize  int
	WriteBufferSize int

	// FragmentSize, if positive, makes WriteMessage send payloads larger than
	// it as several frames of at most FragmentSize bytes, so control frames
	// can go out between them. Writers from NextWriter send a frame each time
	// their buffer fills.
	FragmentSize int

	// CloseTimeout bounds the closing handshake: how long Close waits for the
	// peer's close frame, a client waits for the server to close TCP, and a
	// control frame write may block. 0 means DefaultCloseTimeout (5 s).
	CloseTimeout time.Duration

	// WriteTimeout, if positive, bounds every frame write, so a peer that
	// stops reading cannot block writers forever. A write that times out
	// fails the connection. Contexts passed to the write methods apply too.
	WriteTimeout time.Duration

	// PingInterval, if positive, enables keepalive: a ping is sent every
	// PingInterval, and if no frame at all arrives within PongTimeout after
	// it (0 means PingInterval), the connection is closed with code 1011.
	// Keepalive needs a goroutine reading the Conn.
	PingInterval time.Duration
	PongTimeout  time.Duration
}

// Conn is a WebSocket connection. See the package documentation for which
// methods may be called concurrently.
type Conn struct {
	nc     net.Conn
	client bool     // our role is client: we mask, the peer must not
	vec    bool     // nc supports vectored writes (writev)
	opts   settings // resolved options; read-only after construction

	subprotocol string
	extensions  string
	http2       bool // over an HTTP/2 stream (RFC 8441)
	rsv         byte // RSV bits the negotiated extensions allow (RSV1 for permessage-deflate)
	threshold   int  // messages shorter than this go out uncompressed

	// Read side: guarded by readMu (one reader at a time; concurrent
	// reads wait for each other).
	readMu   sync.Mutex
	rbuf     []byte  // rstub[:] or a pooled buffer
	rpooled  *[]byte // the pooled buffer rbuf is, or nil
	rr, rw   int     // unread bytes are rbuf[rr:rw]
	rstate   readState
	fhdr     frame.Header // header of the frame being read
	fremain  int64        // payload bytes of that frame still unread
	fpos     int          // masking position within that frame
	msgLen   int64        // payload bytes of the current message so far
	msgFrags int          // frames in the current message so far
	utf8     frame.UTF8Validator
	inflate  bool                  // the current message is compressed
	decomp   *deflate.Decompressor // nil without permessage-deflate
	src      payloadSource
	reader   messageReader
	ctrl     [frame.MaxControlPayload]byte
	rstub    [readStubSize]byte
	readErr  error      // first error the reader returned; returned forever after
	pollRead bool       // a Poller is reading: idle reads must not wait
	raw      *rawReader // non-nil: read straight from the socket

	// Write side: msgMu is held for a whole data message, writeMu for one
	// frame. wsmall and wbufs are guarded by writeMu.
	msgMu   sync.Mutex
	writeMu sync.Mutex
	wsmall  [frame.MaxHeaderSize + frame.MaxControlPayload + 5]byte
	wbufs   net.Buffers
	warr    [2][]byte
	wq      *[]byte             // queued frames (QueueMessage), or nil
	wqn     int                 // bytes queued in wq
	queued  atomic.Bool         // wq != nil, readable without writeMu (for the reader's flush)
	writer  messageWriter       // guarded by msgMu
	comp    *deflate.Compressor // guarded by msgMu; nil without permessage-deflate

	// Our compressor's settings, for prepared messages; read-only.
	compBits  int
	compNoCtx bool
	compLevel deflate.Level

	// Ping waiters and keepalive: guarded by pingMu.
	pingMu    sync.Mutex
	pings     map[string][]chan struct{}
	pingSeq   uint64
	keepalive *time.Timer
	kaFrames  uint64 // framesRead when the last keepalive ping went out

	framesRead atomic.Uint64 // frames received, for keepalive

	// Deadlines set by the user (UnixNano, 0 for none), restored after the
	// Conn's own temporary deadlines.
	userRD, userWD atomic.Int64

	// Closing: closeMu guards the fields below it.
	closeSent atomic.Bool   // we sent (or are sending) a close frame
	closeRcvd chan struct{} // closed when the peer's close frame arrives or reading ends
	done      chan struct{} // closed when the TCP connection is closed
	closeMu   sync.Mutex
	rcvdOnce  bool
	peerClose *CloseError // the peer's close frame, if one arrived
	err       error       // terminal error; later calls return it
	onClose   []func()    // run once the TCP connection is closed
	doneOnce  sync.Once
	errSet    atomic.Bool
}

// readStubSize is the size of the small read buffer each Conn embeds. A read
// while idle goes into it, so an idle Conn holds no pooled buffer; a small
// message that fits is handled from it directly.
const readStubSize = 128

// rawReader holds the state of reads through syscall.RawConn.
type rawReader struct {
	rc   syscall.RawConn
	step func(fd uintptr) bool // c.rawReadStep, made once
	need int                   // bytes the current read needs room for
	n    int
	err  error

	nonblock   bool // return errWouldBlock instead of waiting (Poller, idle)
	wouldBlock bool
}

// readState is the state of the read side. Idle, text and binary track
// messages; a data frame is legal only as the state allows (a continuation
// only inside a message, a new message only when idle). Once we have sent a
// close frame (closeSent) the read side is closing: messages that still
// arrive are read and dropped until the peer's close frame moves it to
// closed, as does any failure.
type readState uint8

const (
	stateIdle   readState = iota // between messages
	stateText                    // inside a text message
	stateBinary                  // inside a binary message
	stateClosed                  // close frame received or reading failed
)

type settings struct {
	readLimit       int64
	maxFragments    int
	readBufferSize  int
	writeBufferSize int
	fragmentSize    int
	closeTimeout    time.Duration
	writeTimeout    time.Duration
	pingInterval    time.Duration
	pongTimeout     time.Duration
}

func resolve(o *Options) settings {
	var s settings
	if o == nil {
		o = &Options{}
	}
	s.readLimit = o.ReadLimit
	switch {
	case s.readLimit == 0:
		s.readLimit = DefaultReadLimit
	case s.readLimit < 0:
		s.readLimit = 1<<63 - 1
	}
	s.maxFragments = o.MaxFragments
	switch {
	case s.maxFragments == 0:
		s.maxFragments = DefaultMaxFragments
	case s.maxFragments < 0:
		s.maxFragments = int(^uint(0) >> 1)
	}
	s.readBufferSize = o.ReadBufferSize
	if s.readBufferSize <= 0 {
		s.readBufferSize = DefaultReadBufferSize
	}
	s.readBufferSize = max(s.readBufferSize, 2*frame.MaxHeaderSize+frame.MaxControlPayload)
	s.writeBufferSize = o.WriteBufferSize
	if s.writeBufferSize <= 0 {
		s.writeBufferSize = DefaultWriteBufferSize
	}
	s.writeBufferSize = max(s.writeBufferSize, 2*frame.MaxHeaderSize)
	s.fragmentSize = max(o.FragmentSize, 0)
	s.closeTimeout = o.CloseTimeout
	if s.closeTimeout <= 0 {
		s.closeTimeout = DefaultCloseTimeout
	}
	s.writeTimeout = max(o.WriteTimeout, 0)
	s.pingInterval = max(o.PingInterval, 0)
	s.pongTimeout = o.PongTimeout
	if s.pongTimeout <= 0 {
		s.pongTimeout = s.pingInterval
	}
	return s
}

// Server returns a Conn for the server end of nc, whose opening handshake is
// already complete. buffered holds any bytes read from nc past the handshake
// (the client's first frames may be among them); the Conn copies them.
func Server(nc net.Conn, buffered []byte, opts *Options) *Conn {
	return newConn(nc, false, buffered, opts)
}

// Client returns a Conn for the client end of nc, whose opening handshake is
// already complete. buffered holds any bytes read from nc past the handshake.
func Client(nc net.Conn, buffered []byte, opts *Options) *Conn {
	return newConn(nc, true, buffered, opts)
}

func newConn(nc net.Conn, client bool, buffered []byte, opts *Options) *Conn {
	c := &Conn{
		nc:        nc,
		client:    client,
		opts:      resolve(opts),
		closeRcvd: make(chan struct{}),
		done:      make(chan struct{}),
	}
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		c.vec = true
	}
	c.rbuf = c.rstub[:]
	c.initRawRead()
	if len(buffered) > 0 {
		if len(buffered) > len(c.rstub) {
			c.borrowReadBuf(len(buffered))
		}
		c.rw = copy(c.rbuf, buffered)
	}
	c.reader.c = c
	c.writer.c = c
	if c.opts.pingInterval > 0 {
		// Assign the timer before it can fire: the tick reads the field.
		c.keepalive = time.AfterFunc(time.Duration(1<<63-1), c.keepaliveTick)
		c.keepalive.Reset(c.opts.pingInterval)
	}
	return c
}

// Subprotocol returns the subprotocol the opening handshake selected, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the Sec-WebSocket-Extensions value the handshake agreed
// on, or "".
func (c *Conn) Extensions() string { return c.extensions }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// NetConn returns the underlying connection. Reading from or writing to it
// directly corrupts the WebSocket stream.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetReadDeadline sets the deadline for reads. A read that times out fails
// the connection, as RFC 6455 has no way to resume a partly read frame.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.userRD.Store(unixNano(t))
	return c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline for writes. A write that times out fails
// the connection.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.userWD.Store(unixNano(t))
	return c.nc.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (c *Conn) restoreReadDeadline()  { c.nc.SetReadDeadline(fromUnixNano(c.userRD.Load())) }
func (c *Conn) restoreWriteDeadline() { c.nc.SetWriteDeadline(fromUnixNano(c.userWD.Load())) }

// SetReadLimit changes the read limit (see [Options.ReadLimit]) for messages
// that start after the call. Call it only from the reading goroutine or
// before reading starts.
func (c *Conn) SetReadLimit(n int64) {
	if n <= 0 {
		n = 1<<63 - 1
	}
	c.opts.readLimit = n
}

// Done returns a channel that is closed when the underlying connection has
// been closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns the error that ended the connection, or nil while it is open.
func (c *Conn) Err() error {
	if !c.errSet.Load() {
		return nil
	}
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.err
}

// setErr records err as the terminal error unless one is already set, and
// returns the terminal error.
func (c *Conn) setErr(err error) error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.err == nil {
		c.err = err
		c.errSet.Store(true)
	}
	return c.err
}

// closeTCP closes the network connection once and wakes everyone waiting.
func (c *Conn) closeTCP() { c.endTCP(false) }

// endTCP is closeTCP; with linger set it ends the connection with a
// lingering close (see lingerClose) if the connection can half-close.
func (c *Conn) endTCP(linger bool) {
	c.doneOnce.Do(func() {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); linger && ok && cw.CloseWrite() == nil {
			go lingerClose(c.nc, time.Now().Add(c.opts.closeTimeout))
		} else {
			c.nc.Close()
		}
		if c.keepalive != nil {
			c.keepalive.Stop()
		}
		c.markCloseRcvd(nil)
		close(c.done)
		c.pingMu.Lock()
		for k, chs := range c.pings {
			for _, ch := range chs {
				close(ch)
			}
			delete(c.pings, k)
		}
		c.pingMu.Unlock()
		c.closeMu.Lock()
		fns := c.onClose
		c.onClose = nil
		c.closeMu.Unlock()
		for _, f := range fns {
			f()
		}
	})
}

// lingerClose finishes a connection whose sending side has been shut down:
// it discards what the peer still sends until the peer closes its side or
// the deadline passes, then closes. Closing a socket that has unread data
// makes the kernel answer with a reset and drop what it has not sent yet
// (RFC 1122, Section 4.2.2.13), which would lose the last frames, the close
// frame among them, when the peer sent anything after its close frame (a
// ping, say) or before it read all of ours. The half-close has already
// sent the FIN, so for the peer the connection closed at once.
func lingerClose(nc net.Conn, deadline time.Time) {
	var b [512]byte
	discardUntil(nc, b[:], deadline)
	nc.Close()
}

// afterClose arranges for f to run once the TCP connection is closed, or at
// once if it already is.
func (c *Conn) afterClose(f func()) {
	c.closeMu.Lock()
	select {
	case <-c.done:
		c.closeMu.Unlock()
		f()
		return
	default:
	}
	c.onClose = append(c.onClose, f)
	c.closeMu.Unlock()
}

// markCloseRcvd records the peer's close frame (nil if reading ended without
// one) and releases anyone waiting for it.
func (c *Conn) markCloseRcvd(ce *CloseError) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.rcvdOnce {
		return
	}
	c.rcvdOnce = true
	c.peerClose = ce
	close(c.closeRcvd)
}

// lock acquires mu, giving up when ctx is done. Uncontended, it is one
// TryLock; a contended wait with a cancellable ctx costs a goroutine.
func (c *Conn) lock(ctx context.Context, mu *sync.Mutex) error {
	if mu.TryLock() {
		return nil
	}
	if ctx.Done() == nil {
		mu.Lock()
		return nil
	}
	return lockWait(mu, ctx.Done(), ctx.Err)
}

// lockTimeout acquires mu within d.
func (c *Conn) lockTimeout(mu *sync.Mutex, d time.Duration) error {
	if mu.TryLock() {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	return lockWait(mu, t.C, func() error { return errLockTimeout })
}

// lockWait acquires mu unless cancel fires first. A helper goroutine waits
// for the lock and hands it over on an unbuffered channel; if the caller has
// given up by then, the helper releases it.
func lockWait[T any](mu *sync.Mutex, cancel <-chan T, cause func() error) error {
	acquired := make(chan struct{})
	giveUp := make(chan struct{})
	go func() {
		mu.Lock()
		select {
		case acquired <- struct{}{}:
		case <-giveUp:
			mu.Unlock()
		}
	}()
	select {
	case <-acquired:
		return nil
	case <-cancel:
		close(giveUp)
		return cause()
	}
}

// terminal returns the terminal error, or ErrClosed if none was recorded.
func (c *Conn) terminal() error {
	if err := c.Err(); err != nil {
		return err
	}
	return ErrClosed
}

var errLockTimeout = errors.New("conn: timed out waiting for another writer")

// aLongTimeAgo is a deadline in the past, used to unblock I/O at once.
var aLongTimeAgo = time.Unix(1, 0)
