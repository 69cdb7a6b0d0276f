package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
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
	DefaultMaxPayload        = 16 << 20 // bytes, conn.DefaultReadLimit
)

// DefaultTransports are the transports of a zero [Options]: HTTP
// long-polling first, then the upgrade to WebSocket, as the official
// client.
var DefaultTransports = []Transport{Polling, WebSocket}

// Options configure a [Client]. The zero value gives the defaults; a nil
// *Options is the zero value.
type Options struct {
	// Path is the server's Engine.IO path. "" means "/socket.io/".
	Path string
	// Namespace is the namespace to join. "" means "/".
	Namespace string
	// Auth, if not nil, is sent as JSON in the CONNECT packet; the server's
	// middleware reads it. It must encode as a JSON object.
	Auth any

	// Transports lists the transports to use, as the official client's
	// transports option: the client opens the session with the first one
	// and upgrades to WebSocket if it is in the list and the server offers
	// it. nil means [DefaultTransports], polling then WebSocket;
	// []Transport{WebSocket} connects over WebSocket straight away, which
	// needs one round trip less and no sticky sessions behind a load
	// balancer.
	Transports []Transport
	// NoUpgrade keeps the session on the transport it opened with (the
	// official client's upgrade: false).
	NoUpgrade bool
	// TryAllTransports makes a failed attempt try the next transport of the
	// list before it counts as failed (the official client's
	// tryAllTransports).
	TryAllTransports bool

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

	// AckTimeout, if positive, bounds the wait of every EmitWithAck, which
	// then fails with [ErrTimeout] (the official client's ackTimeout).
	// [Client.Timeout] sets it for one call.
	AckTimeout time.Duration

	// ConnectTimeout bounds one attempt, from dialing to the namespace's
	// CONNECT. 0 means 20 s.
	ConnectTimeout time.Duration

	// EventQueue is the number of received events waiting for the handler
	// goroutine before the client stops reading. 0 means 64.
	EventQueue int

	// MaxAttachments bounds the attachments of one packet. 0 means
	// socketio.DefaultMaxAttachments.
	MaxAttachments int

	// MaxPayload bounds what the server sends: the body of a polling
	// response, and each WebSocket message unless Dial.ReadLimit is set.
	// A larger response ends the connection with [ErrTooLarge], a larger
	// message with package conn's close code 1009 error; both are
	// "transport error". 0 means 16 MiB.
	MaxPayload int64

	// Dial configures the WebSocket connections: headers, TLS, proxy,
	// limits. Its Header, Origin, TLSConfig, Proxy and NetDialContext apply
	// to the polling requests too. A zero WriteTimeout becomes 10 s; it
	// also bounds each polling POST.
	Dial conn.DialOptions

	// HTTPClient sends the polling requests. nil means a client with its
	// own connection pool, set up from Dial.
	HTTPClient *http.Client

	// Jar keeps the cookies the server sets, such as the "io" cookie load
	// balancers use for sticky sessions, and sends them with every polling
	// request and WebSocket handshake. nil means a new in-memory jar for
	// each Client (or HTTPClient.Jar if that is set).
	Jar http.CookieJar

	// OnConnect is called each time the client has joined its namespace.
	OnConnect func()
	// OnDisconnect is called each time an established connection ends,
	// with the reason, as the official client names it, and the error
	// behind it (such as [ErrPingTimeout], [ErrServerDisconnect] or
	// [ErrClosed]).
	OnDisconnect func(reason DisconnectReason, err error)
	// OnConnectError is called for each failed attempt.
	OnConnectError func(err error)
	// OnReconnectAttempt is called before each reconnection attempt, after
	// waiting delay; attempt counts from 1.
	OnReconnectAttempt func(attempt int, delay time.Duration)
}

// outPacket is an encoded event on its way to the server.
type outPacket struct {
	msgs   []wireMsg
	ackID  uint64
	hasAck bool
	name   string // for the outgoing listeners
	args   []any
	// notified: the outgoing listeners saw the packet, as it was handed
	// to a connection (not again when it is sent from the buffer)
	notified bool
}

type ackWait struct {
	ch   chan ackResult // capacity 1
	sent bool           // handed to a transport
}

type ackResult struct {
	args socketio.Args
	err  error
}

// Client is a Socket.IO client connection to one namespace that reconnects
// by itself. Create one with [New] or [Dial].
type Client struct {
	opts       Options
	base       url.URL    // http or https, with the path
	query      url.Values // of the URL given to New, with EIO=4
	transports []Transport
	nsp        string
	auth       []byte
	httpc      *http.Client
	ownHTTP    *http.Transport // closed at the end if ours
	jar        http.CookieJar
	stamp      atomic.Uint64 // cache-busting counter of polling requests

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	events chan *Event
	done   chan struct{} // closed when the client's goroutines have ended
	wg     sync.WaitGroup

	dropped  atomic.Uint64
	firstErr chan error // capacity 1: result of the first attempt, for Dial

	sendMu sync.Mutex // held while handing packets to the engine, so the buffer flush keeps order

	mu sync.Mutex
	// guarded by mu
	eng       *engine // nil while disconnected
	gen       uint64  // connection generation
	id        string
	pid       string // the private session id, for recovery
	offset    string // of the last event received with a pid
	hasOffset bool
	recovered bool
	buf       []outPacket
	acks      map[uint64]*ackWait
	nextAck   uint64
	listeners map[string][]*listener
	anyIn     []*listener
	anyOut    []*outListener
	closed    bool
	endErr    error
}

// New returns a client that connects to the server at rawURL (http, https,
// ws or wss; the path is replaced by Options.Path, the query is kept) in the
// background and keeps reconnecting.
func New(rawURL string, opts *Options) (*Client, error) {
	c := &Client{acks: map[uint64]*ackWait{}, listeners: map[string][]*listener{}, firstErr: make(chan error, 1)}
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
		if err != nil || len(b) < 2 || b[0] != '{' {
			return nil, fmt.Errorf("client: auth must encode as a JSON object")
		}
		c.auth = b
	}
	c.transports = slices.Clone(o.Transports)
	if len(c.transports) == 0 {
		c.transports = slices.Clone(DefaultTransports)
	}
	for _, t := range c.transports {
		if t != Polling && t != WebSocket {
			return nil, fmt.Errorf("client: unknown transport %q", t)
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("client: unsupported URL scheme %q", u.Scheme)
	}
	u.Path, u.RawPath, u.Fragment = o.Path, "", ""
	c.query = u.Query()
	c.query.Set("EIO", "4")
	u.RawQuery = ""
	c.base = *u
	c.httpc = o.HTTPClient
	c.jar = o.Jar
	if c.httpc == nil {
		c.httpc = newHTTPClient(o)
		c.ownHTTP, _ = c.httpc.Transport.(*http.Transport)
	} else if c.httpc.Jar != nil {
		// One jar, applied by the client to polling and WebSocket alike.
		if c.jar == nil {
			c.jar = c.httpc.Jar
		}
		hc := *c.httpc
		hc.Jar = nil
		c.httpc = &hc
	}
	if c.jar == nil {
		c.jar, _ = cookiejar.New(nil) // cannot fail without options
	}
	c.events = make(chan *Event, o.EventQueue)
	c.done = make(chan struct{})
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(2)
	go c.dispatch()
	go c.run()
	go func() {
		c.wg.Wait()
		if c.ownHTTP != nil {
			c.ownHTTP.CloseIdleConnections()
		}
		close(c.done)
	}()
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

func (c *Client) wantUpgrade() bool {
	return !c.opts.NoUpgrade && slices.Contains(c.transports, WebSocket)
}

// ID returns the socket id the server gave the current connection, or ""
// while disconnected.
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eng == nil {
		return ""
	}
	return c.id
}

// Connected reports whether the client is connected to its namespace.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eng != nil
}

// Recovered reports whether the last connection recovered the state of the
// one before, as Node's socket.recovered: the server has connection state
// recovery on and answered the CONNECT with the same private session id
// (pid) the client sent. The socket id and rooms are then the old ones, and
// the server sent the events the client missed, in order.
func (c *Client) Recovered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recovered
}

// Transport returns the transport of the current connection, or "" while
// disconnected. It changes from [Polling] to [WebSocket] on upgrade.
func (c *Client) Transport() Transport {
	c.mu.Lock()
	e := c.eng
	c.mu.Unlock()
	if e == nil {
		return ""
	}
	return e.transport()
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Dropped returns the number of packets dropped from the full buffer.
func (c *Client) Dropped() uint64 { return c.dropped.Load() }

// Done returns a channel closed when the client has stopped for good and
// its goroutines have ended: after Close, after a refusal or DISCONNECT
// from the server, or when reconnection gave up. [Client.Err] then tells
// why; emits return [ErrClosed] from then on.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped, or nil while it runs: [ErrClosed]
// after Close, a [*ConnectError] or the last attempt's error when
// connecting failed, or a [*DisconnectError] when the end of a connection
// ended the client.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endErr
}

// Close leaves the namespace (sending DISCONNECT), closes the session,
// stops reconnecting and waits for the client's goroutines to end; it must
// not be called from a listener or hook, which it would wait for (call go
// c.Close() there). OnDisconnect, if the client was connected, gets
// [ReasonClientDisconnect]. Waiting EmitWithAck calls return [ErrClosed].
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
	e := c.eng
	c.mu.Unlock()
	if e != nil {
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.Dial.WriteTimeout)
		e.write(ctx, encode(&socketio.Packet{Type: socketio.Disconnect, Namespace: c.nsp}), nil, false)
		cancel()
	}
	c.sendMu.Unlock()
	if e != nil {
		e.shutdown(c.opts.Dial.WriteTimeout)
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
		e, dec, err := c.connect()
		if err != nil && !reported {
			reported = true
			c.firstErr <- err // capacity 1, sent once
		}
		if c.ctx.Err() != nil {
			if e != nil {
				e.close()
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
		flushed, ok := c.online(e)
		if !ok {
			e.close()
			return
		}
		c.notifyOut(flushed...)
		if !reported {
			reported = true
			c.firstErr <- nil
		}
		if f := c.opts.OnConnect; f != nil {
			f()
		}
		err = c.readLoop(e, dec)
		if e.failed() == nil && !c.isClosed() {
			// A DISCONNECT or a malformed packet: the session itself
			// works, so end it properly, as the official client does.
			e.shutdown(c.opts.Dial.WriteTimeout)
		}
		c.offline(e)
		de := disconnectError(err)
		if c.isClosed() {
			de = &DisconnectError{Reason: ReasonClientDisconnect, Err: ErrClosed}
		}
		if f := c.opts.OnDisconnect; f != nil {
			f(de.Reason, de.Err)
		}
		if c.ctx.Err() != nil || c.isClosed() {
			return
		}
		if de.Reason == ReasonServerDisconnect || c.opts.NoReconnect {
			endErr = de
			return
		}
	}
}

// disconnectError returns the *DisconnectError in err, or one for
// "transport close" around err.
func disconnectError(err error) *DisconnectError {
	var de *DisconnectError
	if errors.As(err, &de) {
		return de
	}
	return &DisconnectError{Reason: ReasonTransportClose, Err: err}
}

// online flushes the buffer to a new connection and makes it current. It
// returns the flushed packets, and false if the client was closed
// meanwhile.
func (c *Client) online(e *engine) ([]*outPacket, bool) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	var flushed []*outPacket
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, false
		}
		if len(c.buf) == 0 {
			c.eng = e
			c.buf = nil
			c.mu.Unlock()
			return flushed, true
		}
		p := new(outPacket)
		*p = c.buf[0]
		c.buf[0] = outPacket{}
		c.buf = c.buf[1:]
		if w := c.acks[p.ackID]; p.hasAck && w != nil {
			w.sent = true
		}
		c.mu.Unlock()
		if err := e.write(c.ctx, p.msgs, p, false); err != nil {
			c.mu.Lock()
			if w := c.acks[p.ackID]; p.hasAck && w != nil {
				w.sent = false
			}
			c.buf = append([]outPacket{*p}, c.buf...)
			c.eng = e // the reader fails at once and we reconnect
			c.mu.Unlock()
			return flushed, true
		}
		flushed = append(flushed, p)
	}
}

// offline closes a connection that ended, marks the client disconnected,
// buffers again the packets that were queued but not posted, and fails the
// acknowledgements of packets already sent.
func (c *Client) offline(e *engine) {
	unsent := e.close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eng == e {
		c.eng = nil
	}
	if c.opts.BufferSize >= 0 && !c.closed {
		var again []outPacket
		for _, it := range unsent {
			if it.p == nil {
				continue
			}
			if w := c.acks[it.p.ackID]; it.p.hasAck && w != nil {
				w.sent = false
			}
			again = append(again, *it.p)
		}
		if len(again) > 0 {
			c.buf = append(again, c.buf...)
			for len(c.buf) > c.opts.BufferSize {
				c.dropOldestLocked()
			}
		}
	}
	for id, w := range c.acks {
		if w.sent {
			c.failAckLocked(id, ErrDisconnected)
		}
	}
}

// connect opens a session, with each transport in turn if TryAllTransports
// is set, and joins the namespace. Events the server sends before its
// CONNECT (the missed events of a recovered session) go to the handlers.
func (c *Client) connect() (*engine, *socketio.Decoder, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.ConnectTimeout)
	defer cancel()
	var e *engine
	var err error
	for i, t := range c.transports {
		e = newEngine(c, t)
		if err = e.open(ctx); err == nil {
			break
		}
		e.close()
		if !c.opts.TryAllTransports || ctx.Err() != nil || i == len(c.transports)-1 {
			return nil, nil, connectCause(err)
		}
	}
	fail := func(err error) (*engine, *socketio.Decoder, error) {
		e.close()
		return nil, nil, connectCause(err)
	}
	c.mu.Lock()
	c.gen++
	gen := c.gen
	data := c.connectDataLocked()
	c.mu.Unlock()
	req := encode(&socketio.Packet{Type: socketio.Connect, Namespace: c.nsp, Data: data})
	if err := e.write(ctx, req, nil, false); err != nil {
		return fail(err)
	}
	dec := &socketio.Decoder{MaxAttachments: c.opts.MaxAttachments}
	for {
		p, err := e.recv(ctx)
		if err != nil {
			return fail(err)
		}
		sp, err := decode(dec, p)
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
				PID string `json:"pid"`
			}
			if json.Unmarshal(sp.Data, &body) != nil || body.SID == "" {
				return fail(fmt.Errorf("client: CONNECT without a sid"))
			}
			c.mu.Lock()
			c.id = body.SID
			c.recovered = body.PID != "" && body.PID == c.pid
			c.pid = body.PID
			c.mu.Unlock()
			return e, dec, nil
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
		case socketio.Event, socketio.BinaryEvent:
			if err := c.deliver(sp, gen); err != nil {
				return fail(err)
			}
		}
	}
}

// connectCause returns the error behind a failed attempt: a connection
// that never joined its namespace was not disconnected.
func connectCause(err error) error {
	var de *DisconnectError
	if errors.As(err, &de) && de.Err != nil {
		return de.Err
	}
	return err
}

// connectDataLocked returns the data of the CONNECT packet: the auth
// object, preceded by the pid and offset of the last session, if there was
// one, as {pid, offset, ...auth} (keys of auth win, as in the official
// client).
func (c *Client) connectDataLocked() []byte {
	if c.pid == "" {
		return c.auth
	}
	b := append([]byte(`{"pid":`), jsonString(c.pid)...)
	if c.hasOffset {
		b = append(b, `,"offset":`...)
		b = append(b, jsonString(c.offset)...)
	}
	if len(c.auth) > 2 {
		b = append(b, ',')
		b = append(b, c.auth[1:len(c.auth)-1]...)
	}
	return append(b, '}')
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // cannot fail for a string
	return b
}

// decode passes one Engine.IO message to the Socket.IO decoder; a
// malformed packet is a "parse error".
func decode(dec *socketio.Decoder, p engineio.Packet) (*socketio.Packet, error) {
	var sp *socketio.Packet
	var err error
	if p.Binary {
		sp, err = dec.Binary(p.Data)
	} else {
		sp, err = dec.Text(p.Data)
	}
	if err != nil {
		return nil, &DisconnectError{Reason: ReasonParseError, Err: err}
	}
	return sp, nil
}

// readLoop reads the connection until it fails.
func (c *Client) readLoop(e *engine, dec *socketio.Decoder) error {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	for {
		p, err := e.recv(c.ctx)
		if err != nil {
			return err
		}
		sp, err := decode(dec, p)
		if err != nil {
			return err
		}
		if sp == nil || sp.NamespaceOf() != c.nsp {
			continue
		}
		switch sp.Type {
		case socketio.Event, socketio.BinaryEvent:
			if err := c.deliver(sp, gen); err != nil {
				return err
			}
		case socketio.Ack, socketio.BinaryAck:
			args, err := socketio.ParseArgs(sp)
			if err != nil {
				return &DisconnectError{Reason: ReasonParseError, Err: err}
			}
			c.mu.Lock()
			if w := c.acks[sp.ID]; w != nil && sp.HasID {
				delete(c.acks, sp.ID)
				w.ch <- ackResult{args: args}
			}
			c.mu.Unlock()
		case socketio.Disconnect:
			return &DisconnectError{Reason: ReasonServerDisconnect, Err: ErrServerDisconnect}
		}
	}
}

// deliver queues an event for the handler goroutine, waiting while the
// queue is full. With a pid, a last argument that is a string is the
// event's offset, remembered for recovery.
func (c *Client) deliver(sp *socketio.Packet, gen uint64) error {
	name, args, err := socketio.ParseEvent(sp)
	if err != nil {
		return &DisconnectError{Reason: ReasonParseError, Err: err}
	}
	c.mu.Lock()
	if c.pid != "" && args.Len() > 0 {
		if raw := args.Raw(args.Len() - 1); len(raw) > 0 && raw[0] == '"' {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				c.offset, c.hasOffset = s, true
			}
		}
	}
	c.mu.Unlock()
	ev := &Event{Name: name, Args: args, c: c, gen: gen, id: sp.ID, wantsAck: sp.HasID}
	select {
	case c.events <- ev:
		return nil
	case <-c.ctx.Done():
		return ErrClosed
	}
}

// dispatch is the handler goroutine.
func (c *Client) dispatch() {
	defer c.wg.Done()
	for {
		select {
		case e := <-c.events:
			c.dispatchEvent(e)
		case <-c.ctx.Done():
			return
		}
	}
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
	if o.MaxPayload <= 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.Dial.ReadLimit == 0 {
		o.Dial.ReadLimit = o.MaxPayload
	}
	if o.Dial.WriteTimeout <= 0 {
		o.Dial.WriteTimeout = DefaultWriteTimeout
	}
}
