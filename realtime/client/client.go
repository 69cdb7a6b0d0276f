package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engineio"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Defaults for the zero values of [Options].
const (
	DefaultPath              = "/socket.io/"
	DefaultReconnectDelay    = 500 * time.Millisecond
	DefaultReconnectDelayMax = 5 * time.Second
	DefaultJitter            = 0.5
	DefaultBufferSize        = 64
	DefaultConnectTimeout    = 20 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultEventQueue        = 64
)

// Options configure a [Client]. The zero value gives the defaults; a nil
// *Options is the zero value.
type Options struct {
	// Path is the server's Engine.IO path. "" means "/socket.io/".
	Path string
	// Namespace is the namespace to join. "" means "/".
	Namespace string
	// Auth, if not nil, is sent as JSON in the CONNECT packet; the server's
	// middleware reads it.
	Auth any

	// ReconnectDelay, ReconnectDelayMax and Jitter shape the waits between
	// attempts (see the package documentation). 0 means 500 ms, 5 s and
	// 0.5; a negative Jitter means none.
	ReconnectDelay    time.Duration
	ReconnectDelayMax time.Duration
	Jitter            float64
	// MaxAttempts bounds the consecutive failed attempts before the client
	// gives up. 0 means no bound.
	MaxAttempts int
	// NoReconnect turns reconnection off: the client ends with its first
	// connection.
	NoReconnect bool

	// BufferSize is the number of packets kept while disconnected; see
	// the package documentation. 0 means 64; negative means none.
	BufferSize int

	// ConnectTimeout bounds one attempt, from dialing to the namespace's
	// CONNECT. 0 means 20 s.
	ConnectTimeout time.Duration

	// EventQueue is the number of received events waiting for the handler
	// goroutine before the client stops reading. 0 means 64.
	EventQueue int

	// MaxAttachments bounds the attachments of one packet. 0 means
	// socketio.DefaultMaxAttachments.
	MaxAttachments int

	// Dial configures the WebSocket connection: headers, TLS, proxy,
	// limits. A zero WriteTimeout becomes 10 s.
	Dial conn.DialOptions

	// OnConnect is called each time the client has joined its namespace.
	OnConnect func()
	// OnDisconnect is called each time an established connection ends,
	// with the cause.
	OnDisconnect func(err error)
	// OnConnectError is called for each failed attempt.
	OnConnectError func(err error)
	// OnReconnectAttempt is called before each reconnection attempt, after
	// waiting delay; attempt counts from 1.
	OnReconnectAttempt func(attempt int, delay time.Duration)
}

// Errors the client returns.
var (
	ErrClosed       = errors.New("client: closed")
	ErrNotConnected = errors.New("client: not connected")
	ErrDropped      = errors.New("client: packet dropped from the full disconnected buffer")
	ErrDisconnected = errors.New("client: disconnected before the acknowledgement arrived")
	ErrPingTimeout  = errors.New("client: no ping from the server within pingInterval+pingTimeout")
	// ErrServerDisconnect: the server disconnected the namespace; the
	// client does not reconnect.
	ErrServerDisconnect = errors.New("client: disconnected by the server")
	errServerClose      = errors.New("client: the server closed the session")
)

// ConnectError is the server's refusal of the namespace connection
// (CONNECT_ERROR), with the message and data its middleware gave.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

// Error implements error.
func (e *ConnectError) Error() string { return "client: connection refused: " + e.Message }

// wsMsg is one WebSocket message of an encoded packet.
type wsMsg struct {
	typ  conn.MessageType
	data []byte
}

// outPacket is an encoded packet waiting in the disconnected buffer.
type outPacket struct {
	msgs   []wsMsg
	ackID  uint64
	hasAck bool
}

type ackWait struct {
	ch   chan ackResult // capacity 1
	sent bool           // written on a connection
}

type ackResult struct {
	args socketio.Args
	err  error
}

// Client is a Socket.IO client connection to one namespace that reconnects
// by itself. Create one with [New] or [Dial].
type Client struct {
	opts  Options
	wsURL string
	nsp   string
	auth  []byte

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	events chan *Event
	done   chan struct{} // closed when the connecting goroutine ends
	wg     sync.WaitGroup

	dropped  atomic.Uint64
	firstErr chan error // capacity 1: result of the first attempt, for Dial

	sendMu sync.Mutex // held while writing, so the buffer flush keeps order

	mu sync.Mutex
	// guarded by mu
	cn       *conn.Conn // nil while disconnected
	gen      uint64     // connection generation
	id       string
	buf      []outPacket
	acks     map[uint64]*ackWait
	nextAck  uint64
	handlers map[string]func(*Event)
	closed   bool
	endErr   error
}

// New returns a client that connects to the server at rawURL (http, https,
// ws or wss; the path is replaced by Options.Path) in the background and
// keeps reconnecting.
func New(rawURL string, opts *Options) (*Client, error) {
	c := &Client{acks: map[uint64]*ackWait{}, handlers: map[string]func(*Event){}, done: make(chan struct{}), firstErr: make(chan error, 1)}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	fillDefaults(o)
	c.nsp = o.Namespace
	if c.nsp == "" {
		c.nsp = socketio.MainNamespace
	}
	if !strings.HasPrefix(c.nsp, "/") {
		return nil, fmt.Errorf("client: namespace %q does not start with /", c.nsp)
	}
	if o.Auth != nil {
		b, err := json.Marshal(o.Auth)
		if err != nil || len(b) == 0 || b[0] != '{' {
			return nil, fmt.Errorf("client: auth must encode as a JSON object")
		}
		c.auth = b
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("client: unsupported URL scheme %q", u.Scheme)
	}
	u.Path = o.Path
	q := u.Query()
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u.RawQuery = q.Encode()
	c.wsURL = u.String()
	c.events = make(chan *Event, o.EventQueue)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(2)
	go c.dispatch()
	go c.run()
	return c, nil
}

// Dial is [New] followed by a wait for the first connection. If that fails,
// or ctx is done first, Dial closes the client and returns the error.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Client, error) {
	c, err := New(rawURL, opts)
	if err != nil {
		return nil, err
	}
	select {
	case err = <-c.firstErr:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ID returns the socket id the server gave the current connection, or ""
// while disconnected.
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cn == nil {
		return ""
	}
	return c.id
}

// Connected reports whether the client is connected to its namespace.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cn != nil
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Dropped returns the number of packets dropped from the full buffer.
func (c *Client) Dropped() uint64 { return c.dropped.Load() }

// Done returns a channel closed when the client has stopped for good:
// after Close, after a refusal or DISCONNECT from the server, or when
// reconnection gave up. [Client.Err] then tells why; emits return
// [ErrClosed] from then on.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped, or nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endErr
}

// On sets the handler for an event, replacing any earlier one.
func (c *Client) On(event string, fn func(e *Event)) {
	c.mu.Lock()
	c.handlers[event] = fn
	c.mu.Unlock()
}

// Emit sends an event, or buffers it while disconnected (see the package
// documentation). []byte arguments become binary attachments; they are
// copied.
func (c *Client) Emit(event string, args ...any) error {
	msgs, err := c.encodeEvent(event, args, 0, false)
	if err != nil {
		return err
	}
	return c.send(outPacket{msgs: msgs})
}

// EmitWithAck sends an event that asks the server for an acknowledgement
// and waits for it until ctx is done (use context.WithTimeout for an
// acknowledgement timeout). While disconnected the event is buffered like
// Emit's.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Args, error) {
	w := &ackWait{ch: make(chan ackResult, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return socketio.Args{}, ErrClosed
	}
	id := c.nextAck
	c.nextAck++
	c.acks[id] = w
	c.mu.Unlock()
	msgs, err := c.encodeEvent(event, args, id, true)
	if err == nil {
		err = c.send(outPacket{msgs: msgs, ackID: id, hasAck: true})
	}
	if err != nil {
		c.forgetAck(id)
		return socketio.Args{}, err
	}
	select {
	case r := <-w.ch:
		return r.args, r.err
	case <-ctx.Done():
		c.forgetAck(id)
		return socketio.Args{}, ctx.Err()
	}
}

func (c *Client) forgetAck(id uint64) {
	c.mu.Lock()
	delete(c.acks, id)
	c.mu.Unlock()
}

// failAckLocked ends the wait for acknowledgement id with err.
func (c *Client) failAckLocked(id uint64, err error) {
	if w := c.acks[id]; w != nil {
		delete(c.acks, id)
		w.ch <- ackResult{err: err}
	}
}

func (c *Client) encodeEvent(event string, args []any, id uint64, hasID bool) ([]wsMsg, error) {
	data, atts, err := socketio.AppendEvent(nil, nil, event, args...)
	if err != nil {
		return nil, err
	}
	p := &socketio.Packet{Type: socketio.Event, Namespace: c.nsp, HasID: hasID, ID: id, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = socketio.BinaryEvent
	}
	return encode(p), nil
}

// encode returns the WebSocket messages of a packet; attachments are
// copied.
func encode(p *socketio.Packet) []wsMsg {
	text := append([]byte{'0' + byte(engineio.Message)}, socketio.AppendPacket(nil, p)...)
	msgs := []wsMsg{{conn.Text, text}}
	for _, a := range p.Attachments {
		msgs = append(msgs, wsMsg{conn.Binary, append([]byte(nil), a...)})
	}
	return msgs
}

// send writes a packet on the current connection, or buffers it.
func (c *Client) send(p outPacket) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	cn := c.cn
	if cn == nil {
		defer c.mu.Unlock()
		return c.bufferLocked(p, false)
	}
	if p.hasAck {
		if w := c.acks[p.ackID]; w != nil {
			w.sent = true
		}
	}
	c.mu.Unlock()
	if err := writeAll(c.ctx, cn, p.msgs); err != nil {
		// The connection is broken; the reader will notice. Keep the
		// packet for the next one.
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.cn == cn {
			c.cn = nil
		}
		if w := c.acks[p.ackID]; p.hasAck && w != nil {
			w.sent = false
		}
		cn.CloseNow()
		return c.bufferLocked(p, true)
	}
	return nil
}

// bufferLocked keeps a packet for the next connection, dropping the oldest
// when the buffer is full; front puts it first.
func (c *Client) bufferLocked(p outPacket, front bool) error {
	size := c.opts.BufferSize
	if size < 0 {
		return ErrNotConnected
	}
	if len(c.buf) >= size {
		old := c.buf[0]
		c.buf = c.buf[1:]
		c.dropped.Add(1)
		if old.hasAck {
			c.failAckLocked(old.ackID, ErrDropped)
		}
	}
	if front {
		c.buf = append([]outPacket{p}, c.buf...)
	} else {
		c.buf = append(c.buf, p)
	}
	return nil
}

func writeAll(ctx context.Context, cn *conn.Conn, msgs []wsMsg) error {
	for _, m := range msgs {
		if err := cn.WriteMessage(ctx, m.typ, m.data); err != nil {
			return err
		}
	}
	return nil
}

// Close leaves the namespace (sending DISCONNECT), closes the connection,
// stops reconnecting and waits for the client's goroutines to end. Waiting
// EmitWithAck calls return [ErrClosed].
func (c *Client) Close() error {
	c.sendMu.Lock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.sendMu.Unlock()
		c.wg.Wait()
		return nil
	}
	c.closed = true
	cn := c.cn
	c.mu.Unlock()
	if cn != nil {
		writeAll(c.ctx, cn, encode(&socketio.Packet{Type: socketio.Disconnect, Namespace: c.nsp}))
	}
	c.sendMu.Unlock()
	if cn != nil {
		cn.Close(1000, "") // the reader takes the server's close frame
	}
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	for id := range c.acks {
		c.failAckLocked(id, ErrClosed)
	}
	c.buf = nil
	c.mu.Unlock()
	return nil
}

// backoff returns the wait before reconnection attempt n (from 1).
func (c *Client) backoff(n int) time.Duration {
	o := &c.opts
	d := o.ReconnectDelay
	for i := 1; i < n && d < o.ReconnectDelayMax; i++ {
		d *= 2
	}
	d = min(d, o.ReconnectDelayMax)
	if o.Jitter > 0 {
		f := 1 + o.Jitter*(2*rand.Float64()-1)
		d = time.Duration(float64(d) * f)
	}
	return min(d, o.ReconnectDelayMax)
}

// run is the connecting goroutine: it connects, reads until the connection
// fails, and reconnects.
func (c *Client) run() {
	defer c.wg.Done()
	var endErr error
	defer func() {
		// The client is over: later emits fail, waiting ones end, the
		// handler goroutine stops.
		c.mu.Lock()
		if endErr == nil {
			endErr = ErrClosed
		}
		c.endErr = endErr
		c.closed = true
		for id := range c.acks {
			c.failAckLocked(id, endErr)
		}
		c.buf = nil
		c.mu.Unlock()
		c.cancel()
		select {
		case c.firstErr <- endErr:
		default:
		}
		close(c.done)
	}()
	attempt, failures := 0, 0
	reported := false // the first attempt's result went to firstErr
	for {
		if attempt > 0 {
			d := c.backoff(attempt)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.ctx.Done():
				t.Stop()
				return
			}
			if f := c.opts.OnReconnectAttempt; f != nil {
				f(attempt, d)
			}
		}
		cn, hs, dec, err := c.connect()
		if err != nil && !reported {
			reported = true
			c.firstErr <- err // capacity 1, sent once
		}
		if c.ctx.Err() != nil {
			if cn != nil {
				cn.CloseNow()
			}
			return
		}
		if err != nil {
			if f := c.opts.OnConnectError; f != nil {
				f(err)
			}
			failures++
			var ce *ConnectError
			if errors.As(err, &ce) || c.opts.NoReconnect || c.opts.MaxAttempts > 0 && failures >= c.opts.MaxAttempts {
				endErr = err
				return
			}
			attempt++
			continue
		}
		attempt, failures = 1, 0
		if !c.online(cn) {
			cn.CloseNow()
			return
		}
		if !reported {
			reported = true
			c.firstErr <- nil
		}
		if f := c.opts.OnConnect; f != nil {
			f()
		}
		err = c.readLoop(cn, hs, dec)
		c.offline(cn)
		cn.CloseNow()
		if c.ctx.Err() != nil || c.isClosed() {
			return
		}
		if f := c.opts.OnDisconnect; f != nil {
			f(err)
		}
		if errors.Is(err, ErrServerDisconnect) || c.opts.NoReconnect {
			endErr = err
			return
		}
	}
}

// online flushes the buffer to a new connection and makes it current. It
// reports false if the client was closed meanwhile.
func (c *Client) online(cn *conn.Conn) bool {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return false
		}
		if len(c.buf) == 0 {
			c.cn = cn
			c.gen++
			c.mu.Unlock()
			return true
		}
		p := c.buf[0]
		c.buf = c.buf[1:]
		if w := c.acks[p.ackID]; p.hasAck && w != nil {
			w.sent = true
		}
		c.mu.Unlock()
		if err := writeAll(c.ctx, cn, p.msgs); err != nil {
			c.mu.Lock()
			c.bufferLocked(p, true)
			c.mu.Unlock()
			return true // the reader fails at once and we reconnect
		}
	}
}

// offline marks the client disconnected and fails the acknowledgements of
// packets already written.
func (c *Client) offline(cn *conn.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cn == cn {
		c.cn = nil
	}
	for id, w := range c.acks {
		if w.sent {
			c.failAckLocked(id, ErrDisconnected)
		}
	}
}

// connect dials, reads the handshake and joins the namespace.
func (c *Client) connect() (*conn.Conn, engineio.Handshake, *socketio.Decoder, error) {
	var hs engineio.Handshake
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.ConnectTimeout)
	defer cancel()
	cn, err := conn.Dial(ctx, c.wsURL, &c.opts.Dial)
	if err != nil {
		return nil, hs, nil, err
	}
	fail := func(err error) (*conn.Conn, engineio.Handshake, *socketio.Decoder, error) {
		cn.CloseNow()
		return nil, hs, nil, err
	}
	typ, b, err := cn.ReadMessage(ctx, nil)
	if err != nil {
		return fail(err)
	}
	p, err := engineio.ParsePacket(b)
	if err == nil && (typ != conn.Text || p.Type != engineio.Open) {
		err = fmt.Errorf("client: first packet is %s, want open", p.Type)
	}
	if err == nil {
		hs, err = engineio.ParseHandshake(p.Data)
	}
	if err != nil {
		return fail(err)
	}
	req := encode(&socketio.Packet{Type: socketio.Connect, Namespace: c.nsp, Data: c.auth})
	if err := writeAll(ctx, cn, req); err != nil {
		return fail(err)
	}
	dec := &socketio.Decoder{MaxAttachments: c.opts.MaxAttachments}
	for {
		typ, b, err := cn.ReadMessage(ctx, nil)
		if err != nil {
			return fail(err)
		}
		if typ != conn.Text {
			continue
		}
		p, err := engineio.ParsePacket(b)
		if err != nil {
			return fail(err)
		}
		switch p.Type {
		case engineio.Ping:
			if err := cn.WriteMessage(ctx, conn.Text, []byte{'0' + byte(engineio.Pong)}); err != nil {
				return fail(err)
			}
			continue
		case engineio.Close:
			return fail(errServerClose)
		case engineio.Message:
		default:
			continue
		}
		sp, err := dec.Text(p.Data)
		if err != nil {
			return fail(err)
		}
		if sp == nil || sp.NamespaceOf() != c.nsp {
			continue
		}
		switch sp.Type {
		case socketio.Connect:
			var body struct {
				SID string `json:"sid"`
			}
			if json.Unmarshal(sp.Data, &body) != nil || body.SID == "" {
				return fail(fmt.Errorf("client: CONNECT without a sid"))
			}
			c.mu.Lock()
			c.id = body.SID
			c.mu.Unlock()
			return cn, hs, dec, nil
		case socketio.ConnectError:
			ce := &ConnectError{}
			var body struct {
				Message string          `json:"message"`
				Data    json.RawMessage `json:"data"`
			}
			if json.Unmarshal(sp.Data, &body) == nil {
				ce.Message, ce.Data = body.Message, body.Data
			} else {
				json.Unmarshal(sp.Data, &ce.Message)
			}
			return fail(ce)
		}
	}
}

// readLoop reads the connection until it fails. The read deadline is
// pingInterval+pingTimeout after the last ping, as the protocol asks.
func (c *Client) readLoop(cn *conn.Conn, hs engineio.Handshake, dec *socketio.Decoder) error {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	window := time.Duration(hs.PingInterval+hs.PingTimeout) * time.Millisecond
	cn.SetReadDeadline(time.Now().Add(window))
	for {
		typ, b, err := cn.ReadMessage(c.ctx, nil)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
				return ErrPingTimeout
			}
			return err
		}
		var sp *socketio.Packet
		if typ == conn.Binary {
			sp, err = dec.Binary(b)
		} else {
			var p engineio.Packet
			if p, err = engineio.ParsePacket(b); err != nil {
				return err
			}
			switch p.Type {
			case engineio.Ping:
				cn.SetReadDeadline(time.Now().Add(window))
				c.sendMu.Lock()
				err := cn.WriteMessage(c.ctx, conn.Text, []byte{'0' + byte(engineio.Pong)})
				c.sendMu.Unlock()
				if err != nil {
					return err
				}
				continue
			case engineio.Close:
				return errServerClose
			case engineio.Message:
				sp, err = dec.Text(p.Data)
			default:
				continue
			}
		}
		if err != nil {
			return err
		}
		if sp == nil || sp.NamespaceOf() != c.nsp {
			continue
		}
		switch sp.Type {
		case socketio.Event, socketio.BinaryEvent:
			name, args, err := socketio.ParseEvent(sp)
			if err != nil {
				return err
			}
			e := &Event{Name: name, Args: args, c: c, gen: gen, id: sp.ID, wantsAck: sp.HasID}
			select {
			case c.events <- e:
			case <-c.ctx.Done():
				return ErrClosed
			}
		case socketio.Ack, socketio.BinaryAck:
			args, err := socketio.ParseArgs(sp)
			if err != nil {
				return err
			}
			c.mu.Lock()
			if w := c.acks[sp.ID]; w != nil && sp.HasID {
				delete(c.acks, sp.ID)
				w.ch <- ackResult{args: args}
			}
			c.mu.Unlock()
		case socketio.Disconnect:
			return ErrServerDisconnect
		}
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// dispatch is the handler goroutine.
func (c *Client) dispatch() {
	defer c.wg.Done()
	for {
		select {
		case e := <-c.events:
			c.mu.Lock()
			fn := c.handlers[e.Name]
			c.mu.Unlock()
			if fn != nil {
				fn(e)
			}
		case <-c.ctx.Done():
			return
		}
	}
}

// Event is an event received from the server.
type Event struct {
	Name string
	Args socketio.Args

	c        *Client
	gen      uint64
	id       uint64
	wantsAck bool
	acked    atomic.Bool
}

// WantsAck reports whether the server asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.wantsAck }

// Ack sends the acknowledgement the server asked for, at most once. It
// fails with [ErrNotConnected] if the connection the event came on has
// ended.
func (e *Event) Ack(args ...any) error {
	if !e.wantsAck {
		return errors.New("client: the event wants no acknowledgement")
	}
	if e.acked.Swap(true) {
		return errors.New("client: the event is already acknowledged")
	}
	data, atts, err := socketio.AppendArgs(nil, nil, args...)
	if err != nil {
		return err
	}
	p := &socketio.Packet{Type: socketio.Ack, Namespace: e.c.nsp, HasID: true, ID: e.id, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = socketio.BinaryAck
	}
	c := e.c
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	cn := c.cn
	same := c.gen == e.gen && cn != nil
	c.mu.Unlock()
	if !same {
		return ErrNotConnected
	}
	return writeAll(c.ctx, cn, encode(p))
}

// fillDefaults replaces the zero values of o by the defaults.
func fillDefaults(o *Options) {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.ReconnectDelay <= 0 {
		o.ReconnectDelay = DefaultReconnectDelay
	}
	if o.ReconnectDelayMax <= 0 {
		o.ReconnectDelayMax = DefaultReconnectDelayMax
	}
	if o.ReconnectDelayMax < o.ReconnectDelay {
		o.ReconnectDelayMax = o.ReconnectDelay
	}
	if o.Jitter == 0 {
		o.Jitter = DefaultJitter
	} else if o.Jitter < 0 {
		o.Jitter = 0
	}
	o.Jitter = min(o.Jitter, 1)
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.EventQueue <= 0 {
		o.EventQueue = DefaultEventQueue
	}
	if o.Dial.WriteTimeout <= 0 {
		o.Dial.WriteTimeout = DefaultWriteTimeout
	}
}
