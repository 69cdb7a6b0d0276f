package engine

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engineio"
)

// Reason says why a session closed, in the reference server's words.
type Reason string

// The reasons a session closes for.
const (
	// ReasonTransportClose: the client closed the session (a close
	// packet) or its connection ended.
	ReasonTransportClose Reason = "transport close"
	// ReasonTransportError: the transport failed: a write error, a full
	// outgoing buffer, an oversized payload, overlapping polling requests.
	ReasonTransportError Reason = "transport error"
	// ReasonPingTimeout: no pong within PingTimeout.
	ReasonPingTimeout Reason = "ping timeout"
	// ReasonParseError: the client sent a malformed packet or payload.
	ReasonParseError Reason = "parse error"
	// ReasonForcedClose: the server closed the session ([Session.Close],
	// [Server.Close]).
	ReasonForcedClose Reason = "forced close"
)

// Message is a message packet received from a client. For text, Data holds
// the text (valid UTF-8); for binary, the bytes. Data belongs to the
// listener.
type Message struct {
	Data   []byte
	Binary bool
}

// Encoded is a message packet encoded once for any number of sessions: over
// WebSocket it is one message, over polling one packet of a payload. Make
// one with [EncodeText] or [EncodeBinary]; it is never modified, so it may be
// shared.
type Encoded struct {
	binary bool
	data   []byte // text: type digit and text; binary: the bytes
}

// EncodeText returns the message packet carrying text, which must be valid
// UTF-8 (it is not checked). It copies text.
func EncodeText(text []byte) Encoded {
	b := make([]byte, 1+len(text))
	b[0] = '0' + byte(engineio.Message)
	copy(b[1:], text)
	return Encoded{data: b}
}

// EncodeBinary returns the message packet carrying data. It copies data.
func EncodeBinary(data []byte) Encoded {
	return Encoded{binary: true, data: slices.Clone(data)}
}

// TextPacket returns the message packet whose text form is b: the message
// type digit '4' followed by the text, which must be valid UTF-8. It keeps
// b, which must not be modified afterwards, and panics if b does not start
// with '4'. It saves EncodeText's copy to a caller that writes the text
// form itself.
func TextPacket(b []byte) Encoded {
	if len(b) == 0 || b[0] != '0'+byte(engineio.Message) {
		panic("engine: TextPacket without the message type digit")
	}
	return Encoded{data: b}
}

// BinaryPacket returns the message packet carrying data. It keeps data,
// which must not be modified afterwards.
func BinaryPacket(data []byte) Encoded { return Encoded{binary: true, data: data} }

// Len returns the size of the packet on a WebSocket.
func (e Encoded) Len() int { return len(e.data) }

// Bytes returns the packet as it goes over a WebSocket: for text, the type
// digit and the text; for binary, the bytes. It aliases the packet and must
// not be modified.
func (e Encoded) Bytes() []byte { return e.data }

// IsBinary reports whether the packet is a binary message.
func (e Encoded) IsBinary() bool { return e.binary }

// WriteOptions qualify a write.
type WriteOptions struct {
	// Volatile drops the messages instead of queueing them when the
	// transport is not writable at once: over polling when no GET is
	// waiting, over WebSocket while an earlier write is still in progress
	// or queued. A volatile write that is dropped returns nil.
	Volatile bool
	// NoCompress sends the messages without permessage-deflate on a
	// WebSocket that negotiated it.
	NoCompress bool
	// Separate gives the messages a WebSocket write of their own, and the
	// writer pauses [SeparateGap] after it before the next write, so that a
	// client that handles one message per network read (as the official
	// Socket.IO protocol test suite does) sees them apart from what
	// follows. Package realtime writes the CONNECT reply so: Node's server
	// sends the next packet only after the write of the reply has
	// completed, an event-loop round later. Over polling it has no effect.
	Separate bool
}

// SeparateGap is the pause after a [WriteOptions.Separate] write.
const SeparateGap = 2 * time.Millisecond

// transportKind is the transport a session runs on.
type transportKind int

const (
	polling transportKind = iota
	websocket
)

func (t transportKind) String() string {
	if t == websocket {
		return "websocket"
	}
	return "polling"
}

// queued is an Encoded with how it is to be written.
type queued struct {
	Encoded
	noCompress  bool
	flushBefore bool // the first message of a Separate write
	flushAfter  bool // the last one
}

// msgOverhead is what a queued message costs besides its data, counted
// against MaxBufferedBytes so that many tiny messages are bounded too.
const msgOverhead = 64

var (
	pingMsg  = queued{Encoded: Encoded{data: []byte{'0' + byte(engineio.Ping)}}}
	closeMsg = []byte{'0' + byte(engineio.Close)}
	noopMsg  = []byte{'0' + byte(engineio.Noop)}

	errSessionEnded = fmt.Errorf("engine: session ended by the client")
	errHeartbeat    = fmt.Errorf("engine: ping from the client (invalid heartbeat direction)")
)

// Session is one Engine.IO session: a client connection that survives
// polling requests and the upgrade to WebSocket.
type Session struct {
	srv    *Server
	id     string
	req    *http.Request   // the handshake request, without its body
	ctx    context.Context // canceled when the session closes
	cancel context.CancelFunc

	pollWake chan struct{} // capacity 1: state changed, for a waiting GET
	wsWake   chan struct{} // capacity 1: messages queued, for an idle writer
	dropping atomic.Bool   // closed without flushing: stop writing

	// inMu serializes incoming packets, which may come from a POST and the
	// WebSocket being upgraded to.
	inMu sync.Mutex

	mu sync.Mutex
	// guarded by mu
	transport    transportKind
	upgrading    bool       // a WebSocket is being probed
	probed       bool       // ... and answered the probe
	pollActive   bool       // a GET is being served
	postActive   bool       // a POST is being served
	ws           *conn.Conn // the WebSocket, once the session runs on one
	writer       bool       // a goroutine writes the queue to ws, or waits to
	writing      bool       // ... and is writing a batch
	queue        []queued
	queued       int // bytes in queue, with msgOverhead each
	closed       bool
	reason       Reason
	err          error
	byClient     bool               // the client sent the close packet
	probeCancel  context.CancelFunc // ends an upgrade probe
	pingTimer    *time.Timer
	pongTimer    *time.Timer // running while a pong is due
	lingerTimer  *time.Timer
	onMessage    []func(Message)
	onClose      []func(Reason, error)
	onUpgrade    []func()
	onHeartbeat  []func()
	userData     any
	closeHandled bool
}

func newSession(srv *Server, id string, r *http.Request, kind transportKind) *Session {
	ss := &Session{
		srv:       srv,
		id:        id,
		req:       r.Clone(context.Background()),
		pollWake:  make(chan struct{}, 1),
		wsWake:    make(chan struct{}, 1),
		transport: kind,
	}
	ss.req.Body = http.NoBody
	ss.ctx, ss.cancel = context.WithCancel(context.Background())
	return ss
}

// start starts the session's writer (for WebSocket) and heartbeat. For a
// WebSocket session the caller goes on to be the reader and counts as one
// of the session's goroutines.
func (ss *Session) start(ws *conn.Conn) {
	o := &ss.srv.opts
	ss.mu.Lock()
	if ws != nil {
		ss.queue = append(ss.queue, queued{Encoded: Encoded{data: engineio.AppendOpen(nil, ss.handshake())}})
		if o.InitialPacket != nil {
			ss.queue = append(ss.queue, queued{Encoded: EncodeText(o.InitialPacket)})
		}
		ss.ws = ws
		ss.startWriterLocked()
	}
	ss.pingTimer = time.AfterFunc(o.PingInterval, ss.ping)
	ss.mu.Unlock()
}

func (ss *Session) handshake() engineio.Handshake {
	o := &ss.srv.opts
	h := engineio.Handshake{
		SID:          ss.id,
		Upgrades:     []string{},
		PingInterval: engineio.Millis(o.PingInterval),
		PingTimeout:  engineio.Millis(o.PingTimeout),
		MaxPayload:   o.MaxPayload,
	}
	if ss.transport == polling && !o.DisableWebSocket && !o.DisableUpgrades {
		h.Upgrades = []string{"websocket"}
	}
	return h
}

// ID returns the session id.
func (ss *Session) ID() string { return ss.id }

// Request returns the handshake request, without its body. It must not be
// modified.
func (ss *Session) Request() *http.Request { return ss.req }

// RemoteAddr returns the client's address, as the handshake request's
// RemoteAddr.
func (ss *Session) RemoteAddr() string { return ss.req.RemoteAddr }

// Protocol returns the Engine.IO protocol version of the session: 4.
func (ss *Session) Protocol() int { return 4 }

// Transport returns the session's current transport: "polling" or
// "websocket".
func (ss *Session) Transport() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.transport.String()
}

// Upgraded reports whether the session moved from polling to WebSocket.
func (ss *Session) Upgraded() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.transport == websocket && ss.req.URL.Query().Get("transport") == "polling"
}

// Context returns a context canceled when the session closes.
func (ss *Session) Context() context.Context { return ss.ctx }

// SetUserData and UserData keep a value of the application's with the
// session; package realtime keeps its Socket.IO state there.
func (ss *Session) SetUserData(v any) {
	ss.mu.Lock()
	ss.userData = v
	ss.mu.Unlock()
}

// UserData returns the value set with SetUserData.
func (ss *Session) UserData() any {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.userData
}

// OnMessage adds a listener for the messages the client sends. Listeners
// run on the goroutine reading the transport, in order; see the package
// documentation.
func (ss *Session) OnMessage(fn func(Message)) {
	ss.mu.Lock()
	ss.onMessage = append(slices.Clip(ss.onMessage), fn)
	ss.mu.Unlock()
}

// OnClose adds a listener called once when the session closes, with the
// reason and the error that caused it, if any. A listener added after the
// session closed is called at once.
func (ss *Session) OnClose(fn func(reason Reason, err error)) {
	ss.mu.Lock()
	if ss.closeHandled {
		reason, err := ss.reason, ss.err
		ss.mu.Unlock()
		fn(reason, err)
		return
	}
	ss.onClose = append(slices.Clip(ss.onClose), fn)
	ss.mu.Unlock()
}

// OnUpgrade adds a listener called when the session has moved from polling
// to WebSocket.
func (ss *Session) OnUpgrade(fn func()) {
	ss.mu.Lock()
	ss.onUpgrade = append(slices.Clip(ss.onUpgrade), fn)
	ss.mu.Unlock()
}

// OnHeartbeat adds a listener called for every pong the client sends.
func (ss *Session) OnHeartbeat(fn func()) {
	ss.mu.Lock()
	ss.onHeartbeat = append(slices.Clip(ss.onHeartbeat), fn)
	ss.mu.Unlock()
}

// SendText sends a text message. text must be valid UTF-8.
func (ss *Session) SendText(text string) error {
	if !utf8.ValidString(text) {
		return fmt.Errorf("engine: text message is not valid UTF-8")
	}
	return ss.Write(WriteOptions{}, EncodeText([]byte(text)))
}

// SendBinary sends a binary message. It copies data.
func (ss *Session) SendBinary(data []byte) error {
	return ss.Write(WriteOptions{}, EncodeBinary(data))
}

// Write queues encoded messages for the transport, to be written in order
// and, over WebSocket, in as few writes as possible. A session whose queue
// would pass MaxBufferedBytes is closed with [ErrBufferFull], which Write
// returns; on a closed session it returns [ErrClosed].
func (ss *Session) Write(opts WriteOptions, msgs ...Encoded) error {
	n := 0
	for _, m := range msgs {
		n += len(m.data) + msgOverhead
	}
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return ErrClosed
	}
	if opts.Volatile && !ss.writableLocked() {
		ss.mu.Unlock()
		return nil
	}
	if ss.queued+n > ss.srv.opts.MaxBufferedBytes {
		ss.mu.Unlock()
		ss.close(ReasonTransportError, ErrBufferFull, false)
		return ErrBufferFull
	}
	for i, m := range msgs {
		ss.queue = append(ss.queue, queued{Encoded: m, noCompress: opts.NoCompress,
			flushBefore: opts.Separate && i == 0, flushAfter: opts.Separate && i == len(msgs)-1})
	}
	ss.queued += n
	ss.startWriterLocked()
	ss.mu.Unlock()
	ss.wake()
	return nil
}

// writableLocked reports whether a write would go out at once: a GET
// waits on an idle polling session, or the WebSocket writer is idle.
func (ss *Session) writableLocked() bool {
	if len(ss.queue) > 0 {
		return false
	}
	if ss.transport == polling {
		return ss.pollActive && !ss.upgrading
	}
	return !ss.writing
}

// Writable reports whether a message written now would go out at once,
// the condition under which volatile messages are sent.
func (ss *Session) Writable() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return !ss.closed && ss.writableLocked()
}

// BufferedAmount returns the bytes queued for the session and not yet
// handed to its transport (64 bytes counted per message besides its data),
// the amount that MaxBufferedBytes bounds.
func (ss *Session) BufferedAmount() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.queued
}

// Close closes the session after the messages already queued: over
// WebSocket they are written before the close frame, over polling they go
// to the next GET with a close packet. The reason is "forced close".
func (ss *Session) Close() error {
	ss.close(ReasonForcedClose, nil, true)
	return nil
}

// wake tells a waiting GET and an idle writer that the state changed.
func (ss *Session) wake() {
	select {
	case ss.pollWake <- struct{}{}:
	default:
	}
	select {
	case ss.wsWake <- struct{}{}:
	default:
	}
}

// close ends the session once. With flush, messages already queued still go
// out (over polling, to the next GET within PingTimeout); without, they are
// dropped.
func (ss *Session) close(reason Reason, err error, flush bool) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.closed, ss.reason, ss.err = true, reason, err
	if ss.upgrading && !ss.probed && ss.probeCancel != nil {
		ss.probeCancel()
	}
	if !flush {
		clear(ss.queue)
		ss.queue, ss.queued = ss.queue[:0], 0
		ss.dropping.Store(true)
	}
	for _, t := range []*time.Timer{ss.pingTimer, ss.pongTimer} {
		if t != nil {
			t.Stop()
		}
	}
	// A polling client learns of a close by the server from its next GET,
	// which finds the session kept until then (at most PingTimeout).
	linger := ss.transport == polling && flush && !ss.pollActive
	ss.startWriterLocked() // to flush and send the close frame
	if linger {
		ss.lingerTimer = time.AfterFunc(ss.srv.opts.PingTimeout, func() { ss.srv.remove(ss) })
	}
	listeners := ss.onClose
	ss.onClose, ss.closeHandled = nil, true
	ss.mu.Unlock()
	// The listeners run before the context is canceled, so that whoever
	// waits on it finds their work done.
	for _, fn := range listeners {
		fn(reason, err)
	}
	ss.cancel()
	ss.wake()
	if !linger {
		ss.srv.remove(ss)
	}
}

// Closed reports whether the session has closed.
func (ss *Session) Closed() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.closed
}

func (ss *Session) stopLinger() {
	ss.mu.Lock()
	if ss.lingerTimer != nil {
		ss.lingerTimer.Stop()
	}
	ss.mu.Unlock()
}

// ping sends a ping and arms the pong timeout.
func (ss *Session) ping() {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.pongTimer = time.AfterFunc(ss.srv.opts.PingTimeout, func() {
		ss.close(ReasonPingTimeout, ErrPingTimeout, false)
	})
	ss.mu.Unlock()
	ss.enqueue(pingMsg)
}

// enqueue queues one control packet, bypassing the volatile rule.
func (ss *Session) enqueue(m queued) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	n := len(m.data) + msgOverhead
	if ss.queued+n > ss.srv.opts.MaxBufferedBytes {
		ss.mu.Unlock()
		ss.close(ReasonTransportError, ErrBufferFull, false)
		return
	}
	ss.queue = append(ss.queue, m)
	ss.queued += n
	ss.startWriterLocked()
	ss.mu.Unlock()
	ss.wake()
}

// pong takes a pong: the next ping goes out PingInterval from now.
func (ss *Session) pong() {
	ss.mu.Lock()
	if ss.closed || ss.pongTimer == nil {
		ss.mu.Unlock()
		return
	}
	ss.pongTimer.Stop()
	ss.pongTimer = nil
	ss.pingTimer.Reset(ss.srv.opts.PingInterval)
	listeners := ss.onHeartbeat
	ss.mu.Unlock()
	for _, fn := range listeners {
		fn()
	}
}

// onPacket handles one incoming packet from either transport; inMu is held.
// errSessionEnded means the client closed the session.
func (ss *Session) onPacket(p engineio.Packet) error {
	switch p.Type {
	case engineio.Message:
		ss.mu.Lock()
		closed, listeners := ss.closed, ss.onMessage
		ss.mu.Unlock()
		if closed {
			return nil
		}
		m := Message{Data: p.Data, Binary: p.Binary}
		for _, fn := range listeners {
			fn(m)
		}
	case engineio.Pong:
		ss.pong()
	case engineio.Close:
		ss.mu.Lock()
		ss.byClient = true
		ss.mu.Unlock()
		ss.close(ReasonTransportClose, nil, false)
		return errSessionEnded
	case engineio.Ping:
		// In version 4 the server pings; the reference server closes a
		// session whose client pings.
		ss.close(ReasonTransportError, errHeartbeat, false)
		return errSessionEnded
	default:
		// Noop, open, and upgrade outside an upgrade: ignored, as the
		// reference server does.
	}
	return nil
}
