//go:build !js

package conn

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/frame"
)

// Defaults for the zero values of [Options].
const (
	DefaultReadLimit       = 16 << 20 // bytes in one message, after decompression
	DefaultMaxFragments    = 1 << 17  // frames in one message
	DefaultReadBufferSize  = 32 << 10
	DefaultWriteBufferSize = 32 << 10
	DefaultCloseTimeout    = 5 * time.Second
	DefaultMaxBuffered     = 4 << 20 // bytes waiting in the outgoing buffer
)

// FullPolicy says what [Conn.QueuePrepared] and [Group.Broadcast] do with
// a message when a connection's outgoing buffer is full (see
// [Options.MaxBuffered]). They never wait for the socket: that is what
// keeps one member that stops reading from holding up a broadcast.
type FullPolicy uint8

const (
	// FailWhenFull, the default, fails the connection: the write returns
	// [ErrBufferFull], which becomes the connection's error; a close frame
	// with code 1013 (try again later) follows the frames already waiting,
	// and the TCP connection is closed once it is out, or after
	// CloseTimeout. Nothing else is sent.
	FailWhenFull FullPolicy = iota

	// DropWhenFull drops the message: the write returns [ErrBufferFull] and
	// the connection goes on, with the frames already waiting.
	DropWhenFull
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

	// MaxBuffered bounds the outgoing buffer: the bytes of queued messages
	// ([Conn.QueueMessage], [Conn.QueuePrepared], [Group.Broadcast]) that
	// the socket has not taken yet. Once MaxBuffered bytes or more wait,
	// QueueMessage first writes them out, waiting for the socket, and
	// QueuePrepared (Broadcast) refuses the message as WhenFull says; so a
	// peer that stops reading costs at most MaxBuffered plus one message,
	// besides the socket's own buffers. Direct writes (WriteMessage,
	// NextWriter, WritePrepared, Flush) wait for the socket and do not
	// count. 0 means DefaultMaxBuffered (4 MiB); negative means no bound.
	MaxBuffered int

	// WhenFull is what QueuePrepared and Broadcast do with a message that
	// MaxBuffered refuses: FailWhenFull (the zero value) or DropWhenFull.
	WhenFull FullPolicy

	// PingInterval, if positive, enables keepalive: a ping is sent every
	// PingInterval, and if no frame at all arrives within PongTimeout after
	// it (0 means PingInterval), the connection is closed with code 1011.
	// Keepalive needs a goroutine reading the Conn.
	PingInterval time.Duration
	PongTimeout  time.Duration

	// OnPingReceived, OnPongReceived and OnCloseReceived are called, if
	// set, by the goroutine reading the Conn when a control frame arrives
	// (see hooks.go and [Conn.WritePing]).
	//
	// OnPingReceived sees every ping from the peer, with its payload, and
	// returns whether the Conn sends the automatic pong; a hook that
	// returns false answers (or not) with [Conn.WritePong]. nil means the
	// automatic pong, as RFC 6455 Section 5.5.2 asks. Pings that arrive
	// after this side has sent a close frame are not answered and not
	// reported.
	OnPingReceived func(c *Conn, payload []byte) (pong bool)

	// OnPongReceived sees every pong, with its payload and, when it echoes
	// a ping this Conn sent ([Conn.Ping], [Conn.WritePing] or keepalive)
	// and has not seen answered yet, the time since that ping was written;
	// rtt is 0 for an unsolicited pong. It suits custom liveness checks
	// (extend a deadline on every pong) and round-trip time measurements.
	OnPongReceived func(c *Conn, payload []byte, rtt time.Duration)

	// OnCloseReceived sees the peer's close frame, with its code
	// ([CloseNoStatusReceived] for a frame without one) and reason, before
	// the Conn answers it. The Conn then echoes the code, unless the hook
	// has answered with a close frame of its own ([Conn.WriteClose]); the
	// read in progress returns the [*CloseError] as usual.
	//
	// The payload given to a hook is valid only during the call. A hook
	// runs in the middle of a read: it must not read from the Conn, and a
	// hook that blocks holds up reading (a Poller's too).
	OnCloseReceived func(c *Conn, code CloseCode, reason string)
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
	readMu   readLock
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
	readErr  error      // error that ended reading; returned forever after
	pollRead bool       // a Poller is reading: no read may wait
	polled   *polledMsg // a message a Poller has begun to read, or nil
	raw      *rawConn   // non-nil: read and try writes straight on the socket
	rawStore rawConn    // what raw points to, if set
	rcork    bool       // the reader has set out.cork and not cleared it

	// Write side. Every frame reaches the socket through sendLocked
	// (write.go). msgMu is held for a whole data message, so that the
	// frames of two messages never interleave; writeMu by whoever writes
	// to the socket; outMu, taken after them and never held during I/O,
	// guards out. wsmall, wsegs, wvec and wbufs are guarded by writeMu; writer and
	// comp by msgMu.
	msgMu   sync.Mutex
	writeMu sync.Mutex
	outMu   sync.Mutex
	out     outbox
	outN    atomic.Int64 // bytes in out, held messages included: BufferedAmount
	wsmall  [frame.MaxHeaderSize + frame.MaxControlPayload + 5]byte
	wsegs   []outSeg
	wvec    [][]byte
	wvecArr [4][]byte // wvec's first backing array
	wbufs   net.Buffers
	writer  messageWriter
	comp    *deflate.Compressor // nil without permessage-deflate
	corkT   *time.Timer         // sends corked frames after corkDelay; guarded by outMu

	// watch interrupts reads and writes when their context is done; it
	// has a lock of its own.
	watch ctxWatch

	// closeBuf holds the payload of our close frame; only the sendClose
	// call that moves the state from open to close-sent writes it.
	closeBuf [frame.MaxControlPayload]byte

	// Our compressor's settings, for prepared messages; read-only.
	compBits  int
	compNoCtx bool

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

	// Closing (close.go). state is the one record of where the closing
	// handshake stands; it moves forward only, through advance. closeMu
	// guards rcvdOnce, err and onClose.
	state     atomic.Uint32 // a closeState
	closeRcvd chan struct{} // closed when the peer's close frame arrives or reading ends
	done      chan struct{} // closed when the TCP connection is closed
	closeMu   sync.Mutex
	rcvdOnce  bool  // closeRcvd is closed
	err       error // terminal error; later calls return it
	errSet    atomic.Bool
	onClose   []func() // run once the TCP connection is closed
	doneOnce  sync.Once

	// API additions of hooks.go, compresscontrol.go and dial.go.
	pingSent   map[string]time.Time // guarded by pingMu: pings awaiting their pong, for OnPongReceived
	noCompress atomic.Bool          // EnableWriteCompression(false)
	level      atomic.Int32         // the compression level asked for (SetCompressionLevel)
	compNow    deflate.Level        // the compressor's level; guarded by msgMu
	resp       *http.Response       // the server's handshake answer, for a Conn from Dial
}

// readStubSize is the size of the small read buffer each Conn embeds. A read
// while idle goes into it, so an idle Conn holds no pooled buffer; a small
// message that fits is handled from it directly.
const readStubSize = 128

// readState is the state of the read side. Idle, text and binary track
// messages; a data frame is legal only as the state allows (a continuation
// only inside a message, a new message only when idle). Once we have sent a
// close frame (see closeState) messages that still arrive are read and
// dropped until the peer's close frame moves the read side to closed, as
// does any failure.
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
	maxBuffered     int64 // negative: no bound
	whenFull        FullPolicy
	onPing          func(*Conn, []byte) bool
	onPong          func(*Conn, []byte, time.Duration)
	onCloseFrame    func(*Conn, CloseCode, string)
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
	switch s.maxBuffered = int64(o.MaxBuffered); {
	case s.maxBuffered == 0:
		s.maxBuffered = DefaultMaxBuffered
	case s.maxBuffered < 0:
		s.maxBuffered = -1
	}
	s.whenFull = o.WhenFull
	s.onPing, s.onPong, s.onCloseFrame = o.OnPingReceived, o.OnPongReceived, o.OnCloseReceived
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
	c.wvec = c.wvecArr[:0]
	c.initRawIO()
	if len(buffered) > 0 {
		if len(buffered) > len(c.rstub) {
			c.borrowReadBuf(len(buffered))
		}
		c.rw = copy(c.rbuf, buffered)
	}
	c.reader.c = c
	c.writer.c = c
	c.watch.c = c
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

// BufferedAmount returns the bytes of queued messages that the socket has
// not taken yet (see [Options.MaxBuffered]), as the bufferedAmount of a
// browser's WebSocket does: what a backpressure-aware application watches
// before it queues more. It does not count the socket's own buffers.
func (c *Conn) BufferedAmount() int { return int(c.outN.Load()) }

// aLongTimeAgo is a deadline in the past, used to unblock I/O at once.
var aLongTimeAgo = time.Unix(1, 0)
