//go:build js

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall/js"
	"time"
)

// The browser build (GOOS=js GOARCH=wasm). A program compiled for the
// browser gets the client side of this package over the browser's own
// WebSocket object: Dial and the message API, with the same types, errors
// and close codes, so that code written against them builds for both. The
// browser does the protocol itself (framing, masking, UTF-8 checks,
// compression, the closing handshake), so none of the native machinery is
// compiled in.
//
// What the browser does not allow is left out: Accept, Upgrade, Server,
// Client, Pipe, Poller, Group, PreparedMessage, the queued writes, Ping and
// the hooks (a page sees no ping or pong), request header fields and
// cookies of its own choosing (the browser sends its cookies), proxies,
// TLS settings, HTTP/2 and the compression settings.

// Options configure a browser Conn.
type Options struct {
	// ReadLimit is the largest message, in bytes, the Conn accepts: a
	// larger one fails the connection with close code 1009. The browser
	// has received the message whole by then. 0 means DefaultReadLimit
	// (16 MiB); negative means no limit. Messages that arrive while
	// nobody reads wait in the Conn; once they hold more than ReadLimit
	// bytes (and at least one message), the connection fails with 1008,
	// since a page cannot make the browser stop reading from the network.
	ReadLimit int64

	// CloseTimeout bounds how long Close waits for the closing handshake.
	// 0 means DefaultCloseTimeout (5 s).
	CloseTimeout time.Duration
}

// DefaultReadLimit and DefaultCloseTimeout are the defaults for the zero
// values of [Options].
const (
	DefaultReadLimit    = 16 << 20
	DefaultCloseTimeout = 5 * time.Second
)

// DialOptions configure Dial in a browser.
type DialOptions struct {
	Options // the Conn's settings

	// Subprotocols lists the subprotocols to offer, most preferred first.
	Subprotocols []string
}

// Conn is a WebSocket connection over the browser's WebSocket object.
// Reads may come from one goroutine at a time, writes from any number;
// Close, CloseNow and the accessors from any goroutine at any time.
type Conn struct {
	ws        js.Value
	readLimit int64
	closeWait time.Duration

	mu      sync.Mutex // guards the fields below
	queue   []browserMsg
	queued  int64
	err     error // the error that ended the connection, or nil
	readErr error // the error reads return once the queue is empty
	closing bool  // Close has been called
	funcs   []listener

	signal chan struct{} // capacity 1: a message or the end has arrived
	done   chan struct{} // closed once the close event has fired

	readMu   sync.Mutex // one reader at a time
	rd       deadline
	wd       deadline
	reader   browserReader
	writer   browserWriter
	writerMu sync.Mutex // held while a NextWriter message is open
}

// listener is an event listener registered on the WebSocket object.
type listener struct {
	event string
	fn    js.Func
}

type browserMsg struct {
	typ  MessageType
	data []byte
}

// Dial opens a WebSocket connection to a ws:// or wss:// URL with the
// browser's WebSocket object, and returns once it is open, or the error
// when it fails or ctx is done first. A browser reports no reason for a
// failed handshake: the error is a [*CloseError] with code 1006.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.IsUndefined() {
		return nil, errors.New("conn: dial: no WebSocket in this JavaScript environment")
	}
	protocols := make([]any, len(opts.Subprotocols))
	for i, p := range opts.Subprotocols {
		protocols[i] = p
	}
	var ws js.Value
	if err := catch(func() { ws = ctor.New(rawURL, protocols) }); err != nil {
		return nil, fmt.Errorf("conn: dial %s: %w", rawURL, err)
	}
	ws.Set("binaryType", "arraybuffer")
	c := &Conn{
		ws:        ws,
		readLimit: opts.ReadLimit,
		closeWait: opts.CloseTimeout,
		signal:    make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	switch {
	case c.readLimit == 0:
		c.readLimit = DefaultReadLimit
	case c.readLimit < 0:
		c.readLimit = 1<<63 - 1
	}
	if c.closeWait <= 0 {
		c.closeWait = DefaultCloseTimeout
	}
	c.reader.c, c.writer.c = c, c
	opened := make(chan struct{})
	c.on("open", func(js.Value) { close(opened) })
	c.on("message", c.gotMessage)
	c.on("close", c.gotClose)
	c.on("error", func(js.Value) {}) // a close event follows with the code
	select {
	case <-opened:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("conn: dial %s: %w", rawURL, c.Err())
	case <-ctx.Done():
		c.CloseNow()
		return nil, fmt.Errorf("conn: dial %s: %w", rawURL, ctx.Err())
	}
}

// catch runs f and turns a JavaScript exception into an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = errors.New(je.Get("message").String())
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

// on registers an event listener, released when the connection closes.
func (c *Conn) on(event string, f func(js.Value)) {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	c.funcs = append(c.funcs, listener{event, fn})
	c.ws.Call("addEventListener", event, fn)
}

// wake signals the reader without blocking.
func (c *Conn) wake() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// gotMessage queues a message event's data.
func (c *Conn) gotMessage(ev js.Value) {
	data := ev.Get("data")
	var m browserMsg
	if data.Type() == js.TypeString {
		m = browserMsg{typ: Text, data: []byte(data.String())}
	} else {
		arr := js.Global().Get("Uint8Array").New(data)
		m = browserMsg{typ: Binary, data: make([]byte, arr.Get("length").Int())}
		js.CopyBytesToGo(m.data, arr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	switch {
	case int64(len(m.data)) > c.readLimit:
		c.failLocked(tooBig(c.readLimit), CloseMessageTooBig, "message over the read limit")
	case len(c.queue) > 0 && c.queued+int64(len(m.data)) > c.readLimit:
		c.failLocked(errQueueFull, ClosePolicyViolation, "messages not read in time")
	default:
		c.queue = append(c.queue, m)
		c.queued += int64(len(m.data))
	}
	c.wake()
}

// errQueueFull fails a browser Conn whose unread messages exceed the read
// limit.
var errQueueFull = errors.New("conn: unread messages over the read limit")

// failLocked ends the connection with err, sending a close frame with code
// and reason. Called with mu held.
func (c *Conn) failLocked(err error, code CloseCode, reason string) {
	c.err, c.readErr, c.queue, c.queued = err, err, nil, 0
	catch(func() { c.ws.Call("close", int(code), reason) })
}

// gotClose records the close event: the peer's close frame, or 1006.
func (c *Conn) gotClose(ev js.Value) {
	code := CloseCode(ev.Get("code").Int())
	var err error = &CloseError{Code: code, Reason: ev.Get("reason").String()}
	if !ev.Get("wasClean").Bool() {
		err = &CloseError{Code: CloseAbnormalClosure, Err: errors.New("the browser reports an unclean close")}
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	if c.readErr == nil {
		c.readErr = err
		if c.closing {
			c.readErr = ErrClosed
		}
	}
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	for _, l := range funcs {
		c.ws.Call("removeEventListener", l.event, l.fn)
		l.fn.Release()
	}
	close(c.done)
	c.wake()
}

// ReadMessage reads the next data message into dst[:0], growing it as
// needed, and returns its type and payload, as the native ReadMessage
// does; the payload aliases dst. A close frame from the peer ends reading
// with a [*CloseError] (1006 for a connection lost without one). ctx or a
// read deadline that stops the wait leaves the Conn usable: the browser
// delivers messages whole, so nothing is lost.
func (c *Conn) ReadMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	m, err := c.next(ctx)
	if err != nil {
		return 0, dst[:0], err
	}
	return m.typ, append(dst[:0], m.data...), nil
}

// next waits for the next message.
func (c *Conn) next(ctx context.Context) (browserMsg, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = browserMsg{}
			c.queue = c.queue[1:]
			c.queued -= int64(len(m.data))
			c.mu.Unlock()
			return m, nil
		}
		err := c.readErr
		c.mu.Unlock()
		if err != nil {
			return browserMsg{}, err
		}
		expired, stop := c.rd.wait()
		select {
		case <-c.signal:
		case <-ctx.Done():
			stop()
			return browserMsg{}, ctx.Err()
		case <-expired:
			stop()
			return browserMsg{}, os.ErrDeadlineExceeded
		}
		stop()
	}
}

// NextReader waits for the next data message and returns its type and a
// reader for its payload, valid until the next call to NextReader or
// ReadMessage. The browser has received the message whole, so the reader
// reads from memory.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	m, err := c.next(ctx)
	if err != nil {
		return 0, nil, err
	}
	c.reader.data = m.data
	return m.typ, &c.reader, nil
}

type browserReader struct {
	c    *Conn
	data []byte
}

func (r *browserReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// WriteMessage sends one data message with the browser's send. The payload
// of a Text message must be valid UTF-8: the browser sends the string it
// decodes to, with invalid bytes replaced. The browser compresses as it
// negotiated; the Uncompressed flag changes nothing. send never blocks: the
// browser buffers what the network does not take ([Conn.BufferedAmount]).
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if _, _, err := typ.split(); err != nil {
		return err
	}
	c.writerMu.Lock()
	defer c.writerMu.Unlock()
	return c.send(ctx, typ&^Uncompressed, p)
}

func (c *Conn) send(ctx context.Context, typ MessageType, p []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.wd.passed() {
		return os.ErrDeadlineExceeded
	}
	if err := c.writable(); err != nil {
		return err
	}
	var v any
	if typ == Text {
		v = string(p)
	} else {
		arr := js.Global().Get("Uint8Array").New(len(p))
		js.CopyBytesToJS(arr, p)
		v = arr
	}
	if err := catch(func() { c.ws.Call("send", v) }); err != nil {
		return fmt.Errorf("conn: send: %w", err)
	}
	return nil
}

// writable returns the error that forbids writes, if any.
func (c *Conn) writable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if c.closing {
		return ErrClosed
	}
	return nil
}

// NextWriter starts a data message and returns a writer for its payload;
// the message is sent when the writer is closed (the browser's API sends
// whole messages only). Other writes wait until then.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if _, _, err := typ.split(); err != nil {
		return nil, err
	}
	c.writerMu.Lock()
	if err := c.writable(); err != nil {
		c.writerMu.Unlock()
		return nil, err
	}
	w := &c.writer
	w.ctx, w.typ, w.buf, w.open = ctx, typ&^Uncompressed, w.buf[:0], true
	return w, nil
}

type browserWriter struct {
	c    *Conn
	ctx  context.Context
	typ  MessageType
	buf  []byte
	open bool
}

func (w *browserWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, errors.New("conn: write to a closed message writer")
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *browserWriter) Close() error {
	if !w.open {
		return errors.New("conn: write to a closed message writer")
	}
	w.open = false
	err := w.c.send(w.ctx, w.typ, w.buf)
	if cap(w.buf) > 64<<10 {
		w.buf = nil
	}
	w.ctx = nil
	w.c.writerMu.Unlock()
	return err
}

// Close runs the closing handshake with the browser's close and waits up
// to [Options.CloseTimeout] for it to end. Browsers send only 1000 and
// 3000 to 4999: another code is an error, and [CloseNoStatusReceived]
// sends a close frame without a code. A reader receives [ErrClosed].
// Close returns nil once the connection is closed, and later calls wait
// for that too.
func (c *Conn) Close(code CloseCode, reason string) error {
	if code != CloseNormalClosure && code != CloseNoStatusReceived && (code < 3000 || code > 4999) {
		return errors.New("conn: browsers send only close codes 1000 and 3000-4999, not " + code.String())
	}
	if err := checkClose(code, reason); err != nil {
		return err
	}
	c.mu.Lock()
	first := !c.closing && c.err == nil
	c.closing = true
	c.mu.Unlock()
	if first {
		var err error
		if code == CloseNoStatusReceived {
			err = catch(func() { c.ws.Call("close") })
		} else {
			err = catch(func() { c.ws.Call("close", int(code), reason) })
		}
		if err != nil {
			return fmt.Errorf("conn: close: %w", err)
		}
	}
	t := time.NewTimer(c.closeWait)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	}
	return nil
}

// CloseNow starts the browser's closing handshake and returns at once; a
// page cannot drop a connection without one. Later calls return
// [ErrClosed].
func (c *Conn) CloseNow() error {
	c.mu.Lock()
	first := !c.closing
	c.closing = true
	if c.err == nil {
		c.err = ErrClosed
	}
	c.readErr = ErrClosed
	c.mu.Unlock()
	c.wake()
	if !first {
		return ErrClosed
	}
	catch(func() { c.ws.Call("close") })
	return nil
}

// checkClose checks the code and reason of a close frame we are asked to
// send.
func checkClose(code CloseCode, reason string) error {
	if code == CloseNoStatusReceived && reason != "" {
		return errors.New("conn: a close reason needs a close code")
	}
	if len(reason) > 123 {
		return errors.New("conn: close reason over 123 bytes")
	}
	return nil
}

// Err returns the error that ended the connection, or nil while it is
// open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done returns a channel that is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Subprotocol returns the subprotocol the server selected, or "".
func (c *Conn) Subprotocol() string { return c.ws.Get("protocol").String() }

// Extensions returns the extensions the browser negotiated, such as
// "permessage-deflate; client_max_window_bits", or "".
func (c *Conn) Extensions() string { return c.ws.Get("extensions").String() }

// BufferedAmount returns the bytes the browser has queued for sending and
// not yet sent (the WebSocket's bufferedAmount).
func (c *Conn) BufferedAmount() int { return c.ws.Get("bufferedAmount").Int() }

// SetReadLimit changes the read limit (see [Options.ReadLimit]).
func (c *Conn) SetReadLimit(n int64) {
	if n <= 0 {
		n = 1<<63 - 1
	}
	c.mu.Lock()
	c.readLimit = n
	c.mu.Unlock()
}

// SetReadDeadline sets the deadline for reads; a read that it stops
// leaves the Conn usable.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rd.set(t); c.wake(); return nil }

// SetWriteDeadline sets the deadline for writes. The browser's send never
// blocks, so only a write that starts after the deadline fails.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// LocalAddr returns an address whose network and string are
// "websocket/local": a page has no access to the socket's.
func (c *Conn) LocalAddr() net.Addr { return browserAddr("websocket/local") }

// RemoteAddr returns an address whose network is "websocket" and whose
// string is the URL: a page has no access to the socket's.
func (c *Conn) RemoteAddr() net.Addr { return browserAddr(c.ws.Get("url").String()) }

type browserAddr string

func (a browserAddr) Network() string { return "websocket" }
func (a browserAddr) String() string  { return string(a) }

// deadline is a settable deadline that a wait can select on.
type deadline struct {
	mu sync.Mutex
	t  time.Time
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	d.t = t
	d.mu.Unlock()
}

func (d *deadline) passed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.t.IsZero() && !time.Now().Before(d.t)
}

// wait returns a channel that fires at the deadline (nil for none) and a
// function that releases its timer.
func (d *deadline) wait() (<-chan time.Time, func()) {
	d.mu.Lock()
	t := d.t
	d.mu.Unlock()
	if t.IsZero() {
		return nil, func() {}
	}
	tm := time.NewTimer(time.Until(t))
	return tm.C, func() { tm.Stop() }
}
