package websocket

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/conn"
)

// writeWait bounds the control frames the default handlers write, as in
// gorilla.
const writeWait = time.Second

// The Conn type represents a WebSocket connection.
type Conn struct {
	c *conn.Conn

	// The handlers run on the reading goroutine, through the hooks of
	// conn.Options; like gorilla's, they are set from that goroutine or
	// before reading starts.
	pingHandler  func(appData string) error
	pongHandler  func(appData string) error
	closeHandler func(code int, text string) error
	handlerErr   error // what a handler returned; ends reading

	readErr   error       // the first read error, returned ever after
	reader    reader      // NextReader's reader, reused
	sentClose atomic.Bool // WriteControl sent a close frame
	wmu       sync.Mutex
	w         *writer // the writer NextWriter returned, while open
}

// newConn returns a Conn whose conn.Conn is yet to be made with the
// options hook fills in.
func newConn(hook *conn.Options) *Conn {
	gc := &Conn{}
	gc.reader.gc = gc
	hook.OnPingReceived = gc.onPing
	hook.OnPongReceived = gc.onPong
	hook.OnCloseReceived = gc.onClose
	return gc
}

func (gc *Conn) onPing(_ *conn.Conn, p []byte) bool {
	h := gc.pingHandler
	if h == nil {
		return true // the Conn's automatic pong is gorilla's default handler
	}
	if err := h(string(p)); err != nil {
		gc.handlerFailed(err)
	}
	return false
}

func (gc *Conn) onPong(_ *conn.Conn, p []byte, _ time.Duration) {
	if h := gc.pongHandler; h != nil {
		if err := h(string(p)); err != nil {
			gc.handlerFailed(err)
		}
	}
}

func (gc *Conn) onClose(_ *conn.Conn, code conn.CloseCode, reason string) {
	if h := gc.closeHandler; h != nil {
		if err := h(int(code), reason); err != nil && gc.handlerErr == nil {
			gc.handlerErr = err
		}
	}
	// Without a handler, or with one that did not answer, the Conn
	// echoes the code, as gorilla's default handler does.
}

// handlerFailed ends reading with err, as gorilla does when a handler
// returns an error: the read in progress is stopped at once (between
// messages nothing is lost on the wire) and returns err.
func (gc *Conn) handlerFailed(err error) {
	if gc.handlerErr == nil {
		gc.handlerErr = err
		gc.c.SetReadDeadline(time.Unix(1, 0))
	}
}

// readError turns an error of the Conn's read into gorilla's, and keeps
// it: every later read returns it.
func (gc *Conn) readError(err error) error {
	var ce *conn.CloseError
	switch {
	case gc.handlerErr != nil:
		err = gc.handlerErr
	case errors.As(err, &ce):
		err = closeError(ce)
	case errors.Is(err, conn.ErrMessageTooBig):
		err = &readLimitError{err}
	}
	gc.readErr = err
	return err
}

// writeError turns an error of the Conn's write into gorilla's:
// ErrCloseSent once a close frame has gone out, ours or the answer to the
// peer's.
func (gc *Conn) writeError(err error) error {
	var ce *conn.CloseError
	switch {
	case err == nil:
	case errors.Is(err, conn.ErrClosed) && gc.sentClose.Load():
		err = ErrCloseSent
	case errors.As(err, &ce) && ce.Code != conn.CloseAbnormalClosure:
		err = ErrCloseSent
	}
	return err
}

// NextReader returns the next data message received from the peer. The
// returned messageType is either TextMessage or BinaryMessage.
//
// There can be at most one open reader on a connection. NextReader
// discards the previous message if the application has not already
// consumed it.
//
// Applications must break out of the application's read loop when this
// method returns a non-nil error value. Errors returned from this method
// are permanent. Once this method returns a non-nil error, all subsequent
// calls to this method return the same error.
func (gc *Conn) NextReader() (messageType int, r io.Reader, err error) {
	if gc.readErr != nil {
		return -1, nil, gc.readErr
	}
	typ, cr, err := gc.c.NextReader(context.Background())
	if err != nil {
		return -1, nil, gc.readError(err)
	}
	gc.reader.r = cr
	return int(typ), &gc.reader, nil
}

// reader is the message reader NextReader returns.
type reader struct {
	gc *Conn
	r  io.Reader
}

func (r *reader) Read(p []byte) (int, error) {
	if r.gc.readErr != nil {
		return 0, r.gc.readErr
	}
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = r.gc.readError(err)
	}
	return n, err
}

// ReadMessage is a helper method for getting a reader using NextReader and
// reading from that reader to a buffer. p is new memory for every message,
// so it may be kept and handed to other goroutines.
func (gc *Conn) ReadMessage() (messageType int, p []byte, err error) {
	if gc.readErr != nil {
		return -1, nil, gc.readErr
	}
	typ, p, err := gc.c.ReadMessage(context.Background(), nil)
	if err != nil {
		return -1, nil, gc.readError(err)
	}
	if p == nil {
		p = []byte{}
	}
	return int(typ), p, nil
}

// ReadJSON reads the next JSON-encoded message from the connection and
// stores it in the value pointed to by v.
func (gc *Conn) ReadJSON(v any) error {
	_, r, err := gc.NextReader()
	if err != nil {
		return err
	}
	err = json.NewDecoder(r).Decode(v)
	if err == io.EOF {
		// One value per message: an empty message is an unexpected end.
		err = io.ErrUnexpectedEOF
	}
	return err
}

// ReadJSON reads the next JSON-encoded message from the connection and
// stores it in the value pointed to by v.
//
// Deprecated: Use c.ReadJSON instead.
func ReadJSON(c *Conn, v any) error { return c.ReadJSON(v) }

// dataType returns the conn message type of a gorilla data message type.
func dataType(messageType int) (conn.MessageType, bool) {
	switch messageType {
	case TextMessage:
		return conn.Text, true
	case BinaryMessage:
		return conn.Binary, true
	}
	return 0, false
}

func isControl(messageType int) bool {
	return messageType == CloseMessage || messageType == PingMessage || messageType == PongMessage
}

// closeWriter closes a writer that NextWriter returned and the
// application left open, as gorilla's next write does.
func (gc *Conn) closeWriter() {
	gc.wmu.Lock()
	w := gc.w
	gc.wmu.Unlock()
	if w != nil {
		w.Close()
	}
}

// WriteMessage is a helper method for getting a writer using NextWriter,
// writing the message and closing the writer. Control message types are
// written as WriteControl writes them.
func (gc *Conn) WriteMessage(messageType int, data []byte) error {
	if isControl(messageType) {
		return gc.WriteControl(messageType, data, time.Time{})
	}
	typ, ok := dataType(messageType)
	if !ok {
		return errBadWriteOpCode
	}
	gc.closeWriter()
	return gc.writeError(gc.c.WriteMessage(context.Background(), typ, data))
}

// WriteControl writes a control message with the given deadline. The
// allowed message types are CloseMessage, PingMessage and PongMessage.
//
// A close message starts the closing handshake: later writes return
// ErrCloseSent, the peer's answer reaches the reader as a *CloseError, and
// the connection closes then, or after 5 s. Its deadline is not used (the
// close frame is bounded by 5 s), and its code must be one that may be
// sent (1000-1003, 1007-1014, 3000-4999) or CloseNoStatusReceived for an
// empty message.
func (gc *Conn) WriteControl(messageType int, data []byte, deadline time.Time) error {
	if !isControl(messageType) {
		return errBadWriteOpCode
	}
	if len(data) > 125 {
		return errInvalidControlFrame
	}
	if messageType == CloseMessage {
		code, reason := conn.CloseNoStatusReceived, ""
		switch {
		case len(data) == 1:
			return errInvalidControlFrame
		case len(data) >= 2:
			code, reason = conn.CloseCode(binary.BigEndian.Uint16(data)), string(data[2:])
		}
		err := gc.c.WriteClose(code, reason)
		if err == nil {
			gc.sentClose.Store(true)
		} else if errors.Is(err, conn.ErrClosed) {
			err = ErrCloseSent
		}
		return gc.writeError(err)
	}
	ctx := context.Background()
	if !deadline.IsZero() {
		if !time.Now().Before(deadline) {
			return errWriteTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	var err error
	if messageType == PingMessage {
		err = gc.c.WritePing(ctx, data)
	} else {
		err = gc.c.WritePong(ctx, data)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = errWriteTimeout
	}
	return gc.writeError(err)
}

// NextWriter returns a writer for the next message to send. The writer's
// Close method flushes the complete message to the network.
//
// There can be at most one open writer on a connection. NextWriter closes
// the previous writer if the application has not already done so.
//
// All message types (TextMessage, BinaryMessage, CloseMessage, PingMessage
// and PongMessage) are supported.
func (gc *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	gc.closeWriter()
	w := &writer{gc: gc, typ: messageType}
	if isControl(messageType) {
		return w, nil
	}
	typ, ok := dataType(messageType)
	if !ok {
		return nil, errBadWriteOpCode
	}
	cw, err := gc.c.NextWriter(context.Background(), typ)
	if err != nil {
		return nil, gc.writeError(err)
	}
	w.w = cw
	gc.wmu.Lock()
	gc.w = w
	gc.wmu.Unlock()
	return w, nil
}

// writer is the writer NextWriter returns: a message writer of the Conn,
// or, for a control message, a buffer sent on Close.
type writer struct {
	gc     *Conn
	typ    int
	w      io.WriteCloser // nil for a control message
	buf    []byte         // a control message's payload
	mu     sync.Mutex
	closed bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, errWriterClosed
	}
	if w.w == nil {
		if len(w.buf)+len(p) > 125 {
			return 0, errInvalidControlFrame
		}
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	n, err := w.w.Write(p)
	return n, w.gc.writeError(err)
}

func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	if w.w == nil {
		return w.gc.WriteControl(w.typ, w.buf, time.Time{})
	}
	w.gc.wmu.Lock()
	if w.gc.w == w {
		w.gc.w = nil
	}
	w.gc.wmu.Unlock()
	return w.gc.writeError(w.w.Close())
}

// WriteJSON writes the JSON encoding of v as a message, followed by a
// newline, as json.Encoder writes it.
func (gc *Conn) WriteJSON(v any) error {
	w, err := gc.NextWriter(TextMessage)
	if err != nil {
		return err
	}
	err1 := json.NewEncoder(w).Encode(v)
	err2 := w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// WriteJSON writes the JSON encoding of v as a message.
//
// Deprecated: Use c.WriteJSON instead.
func WriteJSON(c *Conn, v any) error { return c.WriteJSON(v) }

// WritePreparedMessage writes prepared message into connection.
func (gc *Conn) WritePreparedMessage(pm *PreparedMessage) error {
	if pm.pm == nil {
		return gc.WriteControl(pm.typ, pm.data, time.Time{})
	}
	gc.closeWriter()
	return gc.writeError(gc.c.WritePrepared(context.Background(), pm.pm))
}

// Close closes the underlying network connection without sending or
// waiting for a close message.
func (gc *Conn) Close() error { return gc.c.CloseNow() }

// CloseHandler returns the current close handler.
func (gc *Conn) CloseHandler() func(code int, text string) error {
	if gc.closeHandler != nil {
		return gc.closeHandler
	}
	return func(code int, text string) error {
		// The default answer: echo the code. An answer already sent is
		// no error.
		err := gc.WriteControl(CloseMessage, FormatCloseMessage(code, ""), time.Now().Add(writeWait))
		if err == ErrCloseSent {
			return nil
		}
		return err
	}
}

// SetCloseHandler sets the handler for close messages received from the
// peer. The code argument to h is the received close code or
// CloseNoStatusReceived if the close message is empty. The default close
// handler sends a close message back to the peer.
//
// The handler function is called from the NextReader, ReadMessage and
// message reader Read methods. The connection read methods return a
// CloseError when a close message is received (or the handler's error, if
// it returns one). A close message is always answered: if h does not send
// one, the Conn echoes the code after h returns.
func (gc *Conn) SetCloseHandler(h func(code int, text string) error) { gc.closeHandler = h }

// PingHandler returns the current ping handler.
func (gc *Conn) PingHandler() func(appData string) error {
	if gc.pingHandler != nil {
		return gc.pingHandler
	}
	return func(appData string) error {
		err := gc.WriteControl(PongMessage, []byte(appData), time.Now().Add(writeWait))
		var ne net.Error
		if err == ErrCloseSent || errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	}
}

// SetPingHandler sets the handler for ping messages received from the
// peer. The appData argument to h is the PING message application data.
// The default ping handler sends a pong to the peer.
//
// The handler function is called from the NextReader, ReadMessage and
// message reader Read methods. The application must read the connection to
// process ping messages.
func (gc *Conn) SetPingHandler(h func(appData string) error) { gc.pingHandler = h }

// PongHandler returns the current pong handler.
func (gc *Conn) PongHandler() func(appData string) error {
	if gc.pongHandler != nil {
		return gc.pongHandler
	}
	return func(string) error { return nil }
}

// SetPongHandler sets the handler for pong messages received from the
// peer. The appData argument to h is the PONG message application data.
// The default pong handler does nothing.
//
// The handler function is called from the NextReader, ReadMessage and
// message reader Read methods. The application must read the connection to
// process pong messages.
func (gc *Conn) SetPongHandler(h func(appData string) error) { gc.pongHandler = h }

// SetReadDeadline sets the read deadline on the underlying network
// connection. After a read has timed out, all future reads return the
// same error. A zero value for t means reads will not time out.
func (gc *Conn) SetReadDeadline(t time.Time) error { return gc.c.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline on the underlying network
// connection. A write that times out fails the connection. A zero value
// for t means writes will not time out.
func (gc *Conn) SetWriteDeadline(t time.Time) error { return gc.c.SetWriteDeadline(t) }

// SetReadLimit sets the maximum size in bytes for a message read from the
// peer. If a message exceeds the limit, the connection sends a close
// message (1009) to the peer and returns ErrReadLimit to the application.
// A limit of 0 or less means no limit. The default is conn's, 16 MiB.
func (gc *Conn) SetReadLimit(limit int64) { gc.c.SetReadLimit(limit) }

// EnableWriteCompression enables and disables write compression of
// subsequent text and binary messages. This function is a noop if
// compression was not negotiated with the peer.
func (gc *Conn) EnableWriteCompression(enable bool) { gc.c.EnableWriteCompression(enable) }

// SetCompressionLevel sets the flate compression level for subsequent text
// and binary messages. This function is a noop if compression was not
// negotiated with the peer. Levels 1 to 9 are compress/flate's; -1
// (flate.DefaultCompression) means 6, and 0 (flate.NoCompression) and -2
// (flate.HuffmanOnly), which this package's compressor lacks, mean 1.
func (gc *Conn) SetCompressionLevel(level int) error {
	switch {
	case level < -2 || level > 9:
		return errors.New("websocket: invalid compression level")
	case level == -1:
		level = 6
	case level <= 0:
		level = 1
	}
	return gc.c.SetCompressionLevel(level)
}

// Subprotocol returns the negotiated protocol for the connection.
func (gc *Conn) Subprotocol() string { return gc.c.Subprotocol() }

// LocalAddr returns the local network address.
func (gc *Conn) LocalAddr() net.Addr { return gc.c.LocalAddr() }

// RemoteAddr returns the remote network address.
func (gc *Conn) RemoteAddr() net.Addr { return gc.c.RemoteAddr() }

// NetConn returns the underlying connection that is wrapped by c. Note
// that writing to or reading from this connection directly will corrupt
// the WebSocket connection.
func (gc *Conn) NetConn() net.Conn { return gc.c.NetConn() }

// UnderlyingConn returns the internal net.Conn. This can be used to
// further modifications to connection specific flags.
//
// Deprecated: Use the NetConn method.
func (gc *Conn) UnderlyingConn() net.Conn { return gc.c.NetConn() }

// Unwrap returns the conn.Conn this Conn runs on, for the parts of its API
// that gorilla lacks (QueueMessage, Group, Ping that waits, ...).
func (gc *Conn) Unwrap() *conn.Conn { return gc.c }

// JoinMessages concatenates received messages to create a single
// io.Reader. The string term is appended to each message. The returned
// reader does not support concurrent calls to the Read method.
func JoinMessages(c *Conn, term string) io.Reader { return &joinReader{c: c, term: term} }

type joinReader struct {
	c    *Conn
	term string
	r    io.Reader // the rest of the current message and its term
}

func (j *joinReader) Read(p []byte) (int, error) {
	if j.r == nil {
		_, r, err := j.c.NextReader()
		if err != nil {
			return 0, err
		}
		j.r = r
		if j.term != "" {
			j.r = io.MultiReader(r, strings.NewReader(j.term))
		}
	}
	n, err := j.r.Read(p)
	if err == io.EOF {
		j.r, err = nil, nil
	}
	return n, err
}
