package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/realtime/engine"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Handshake describes the request that opened a socket's session, and the
// auth payload of the socket's CONNECT. Its JSON form is that of Node's
// socket.handshake, which is how it travels between servers: headers,
// time, address, xdomain, secure, issued, url, query, auth.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	Host       string
	RemoteAddr string
	Time       time.Time
	URL        string
	Secure     bool
	XDomain    bool // the request carried an Origin header
	Auth       json.RawMessage
}

// handshakeJSON is Node's layout of a handshake.
type handshakeJSON struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  int64           `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

// MarshalJSON writes h in Node's layout: header names in lower case with a
// string value (an array when repeated), query values as strings (arrays
// when repeated), the address without its port, time as JavaScript's Date
// string, issued in milliseconds, auth {} when empty.
func (h *Handshake) MarshalJSON() ([]byte, error) {
	j := handshakeJSON{
		Headers: map[string]any{}, Query: map[string]any{},
		Time:    h.Time.UTC().Format("Mon Jan 02 2006 15:04:05 GMT+0000 (Coordinated Universal Time)"),
		Address: hostOnly(h.RemoteAddr), XDomain: h.XDomain, Secure: h.Secure,
		Issued: h.Time.UnixMilli(), URL: h.URL, Auth: h.Auth,
	}
	for k, v := range h.Header {
		if len(v) == 1 {
			j.Headers[strings.ToLower(k)] = v[0]
		} else {
			j.Headers[strings.ToLower(k)] = v
		}
	}
	if h.Host != "" {
		j.Headers["host"] = h.Host
	}
	for k, v := range h.Query {
		if len(v) == 1 {
			j.Query[k] = v[0]
		} else {
			j.Query[k] = v
		}
	}
	if len(j.Auth) == 0 {
		j.Auth = json.RawMessage("{}")
	}
	return json.Marshal(j)
}

// hostOnly strips the port from an address, as Node's remoteAddress has
// none.
func hostOnly(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// UnmarshalJSON reads Node's layout, as [Handshake.MarshalJSON] writes it.
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var j handshakeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = Handshake{Header: http.Header{}, Query: url.Values{}, RemoteAddr: j.Address, XDomain: j.XDomain,
		Secure: j.Secure, URL: j.URL, Auth: j.Auth, Time: time.UnixMilli(j.Issued)}
	strs := func(v any) []string {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	for k, v := range j.Headers {
		if k == "host" {
			if s := strs(v); len(s) > 0 {
				h.Host = s[0]
			}
			continue
		}
		h.Header[http.CanonicalHeaderKey(k)] = strs(v)
	}
	for k, v := range j.Query {
		h.Query[k] = strs(v)
	}
	return nil
}

// socketState is where a socket is in its life.
type socketState int

const (
	socketConnecting socketState = iota // middleware running
	socketConnected
	socketDisconnected
)

// Socket is one client's connection to one namespace.
type Socket struct {
	id        string
	pid       string // private session id, for recovery; "" without it
	ns        *Namespace
	client    *client
	handshake *Handshake
	recovered bool
	ctx       context.Context
	cancel    context.CancelFunc

	outCount atomic.Int32 // outgoing listeners, read without the lock

	mu sync.Mutex
	// guarded by mu
	state           socketState
	listeners       map[string][]*eventListener
	anyIn           []*eventListener
	anyOut          []*outgoingListener
	use             []func(*Event) error
	onDisconnect    []func(DisconnectReason)
	onDisconnecting []func(DisconnectReason)
	onError         []func(error)
	acks            map[uint64]ackHandler
	data            any
}

type eventListener struct{ fn func(*Event) }

type outgoingListener struct {
	fn func(event string, args socketio.Args)
}

// ackHandler receives an acknowledgement; cancel, if set, runs instead
// when the socket disconnects first.
type ackHandler struct {
	resolve func(socketio.Args)
	cancel  func()
}

func newSocket(ns *Namespace, c *client, auth json.RawMessage, prev *PersistedSession) *Socket {
	s := &Socket{
		ns: ns, client: c,
		listeners: map[string][]*eventListener{},
		acks:      map[uint64]ackHandler{},
	}
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	if prev != nil {
		s.id, s.pid, s.data, s.recovered = prev.SID, prev.PID, prev.Data, true
	} else {
		s.id = newID()
		if ns.srv.opts.ConnectionStateRecovery != nil {
			s.pid = newID()
		}
	}
	r := c.sess.Request()
	s.handshake = &Handshake{
		Header: r.Header, Query: r.URL.Query(), Host: r.Host, RemoteAddr: r.RemoteAddr,
		Time: c.created, URL: r.URL.RequestURI(), Secure: r.TLS != nil,
		XDomain: r.Header.Get("Origin") != "", Auth: auth,
	}
	return s
}

// ID returns the socket's id, which is also the name of a room holding only
// this socket. It differs from the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// SessionID returns the id of the Engine.IO session the socket runs on.
func (s *Socket) SessionID() string { return s.client.sess.ID() }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Auth returns the auth payload of the client's CONNECT packet, a JSON
// object: {} when the client sent none.
func (s *Socket) Auth() json.RawMessage { return s.handshake.Auth }

// Handshake returns the request that opened the socket's session and the
// socket's auth payload. It must not be modified.
func (s *Socket) Handshake() *Handshake { return s.handshake }

// Transport returns the session's current transport: "polling" or
// "websocket".
func (s *Socket) Transport() string { return s.client.sess.Transport() }

// Context returns a context canceled when the socket disconnects.
func (s *Socket) Context() context.Context { return s.ctx }

// Recovered reports whether the socket is a reconnected client's restored
// state (connection state recovery): same id, rooms and data, with the
// packets it missed delivered first.
func (s *Socket) Recovered() bool { return s.recovered }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == socketConnected
}

// Data returns the application's data kept with the socket (Node's
// socket.data), which [Namespace.FetchSockets] reports and connection
// state recovery restores.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData sets the value Data returns. For it to travel to other servers of
// a cluster, it must encode as JSON.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// On adds a listener for an event and returns a function that removes it.
// Events with no listener are dropped (their acknowledgement is never sent).
// Listeners run on the session's handler goroutine, in the order added.
func (s *Socket) On(event string, fn func(e *Event)) (off func()) {
	l := &eventListener{fn}
	s.mu.Lock()
	s.listeners[event] = append(slices.Clip(s.listeners[event]), l)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.listeners[event] = slices.DeleteFunc(slices.Clip(s.listeners[event]), func(x *eventListener) bool { return x == l })
		if len(s.listeners[event]) == 0 {
			delete(s.listeners, event)
		}
		s.mu.Unlock()
	}
}

// Off removes every listener of an event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	delete(s.listeners, event)
	s.mu.Unlock()
}

// OnAny adds a catch-all listener, run for every event before the event's
// own listeners (and before [Socket.Use] middleware, as in Node), and
// returns a function that removes it.
func (s *Socket) OnAny(fn func(e *Event)) (off func()) { return s.addAny(fn, false) }

// PrependAny adds a catch-all listener run before the others.
func (s *Socket) PrependAny(fn func(e *Event)) (off func()) { return s.addAny(fn, true) }

func (s *Socket) addAny(fn func(*Event), first bool) func() {
	l := &eventListener{fn}
	s.mu.Lock()
	if first {
		s.anyIn = append([]*eventListener{l}, s.anyIn...)
	} else {
		s.anyIn = append(slices.Clip(s.anyIn), l)
	}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.anyIn = slices.DeleteFunc(slices.Clip(s.anyIn), func(x *eventListener) bool { return x == l })
		s.mu.Unlock()
	}
}

// OffAny removes every catch-all listener.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.anyIn = nil
	s.mu.Unlock()
}

// OnAnyOutgoing adds a listener called with every event sent to this
// socket's client, broadcasts included, as it is queued, and returns a
// function that removes it. It runs on the emitting goroutine.
func (s *Socket) OnAnyOutgoing(fn func(event string, args socketio.Args)) (off func()) {
	return s.addOutgoing(fn, false)
}

// PrependAnyOutgoing adds an outgoing listener run before the others.
func (s *Socket) PrependAnyOutgoing(fn func(event string, args socketio.Args)) (off func()) {
	return s.addOutgoing(fn, true)
}

func (s *Socket) addOutgoing(fn func(string, socketio.Args), first bool) func() {
	l := &outgoingListener{fn}
	s.mu.Lock()
	if first {
		s.anyOut = append([]*outgoingListener{l}, s.anyOut...)
	} else {
		s.anyOut = append(slices.Clip(s.anyOut), l)
	}
	s.outCount.Store(int32(len(s.anyOut)))
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.anyOut = slices.DeleteFunc(slices.Clip(s.anyOut), func(x *outgoingListener) bool { return x == l })
		s.outCount.Store(int32(len(s.anyOut)))
		s.mu.Unlock()
	}
}

// OffAnyOutgoing removes every outgoing listener.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.anyOut = nil
	s.outCount.Store(0)
	s.mu.Unlock()
}

func (s *Socket) hasOutgoingListeners() bool { return s.outCount.Load() > 0 }

// outgoing is a packet's event as the outgoing listeners see it.
type outgoing struct {
	name string
	args socketio.Args
	ok   bool
}

func newOutgoing(p *socketio.Packet) *outgoing {
	name, args, err := socketio.ParseEvent(p)
	return &outgoing{name, args, err == nil}
}

func (s *Socket) notifyOutgoing(o *outgoing) {
	if !o.ok {
		return
	}
	s.mu.Lock()
	listeners := s.anyOut
	s.mu.Unlock()
	for _, l := range listeners {
		l.fn(o.name, o.args)
	}
}

// Use adds a middleware run for every event the socket receives, before
// its listeners; an error stops the event and goes to the error listeners
// ([Socket.OnError]).
func (s *Socket) Use(fn func(e *Event) error) {
	s.mu.Lock()
	s.use = append(slices.Clip(s.use), fn)
	s.mu.Unlock()
}

// OnError adds a listener for the socket's errors: those of its
// middleware, and malformed packets from its client.
func (s *Socket) OnError(fn func(err error)) {
	s.mu.Lock()
	s.onError = append(slices.Clip(s.onError), fn)
	s.mu.Unlock()
}

// OnDisconnect adds a handler run once when the socket disconnects, after
// it left its rooms, on the session's handler goroutine (or the caller's,
// for [Socket.Disconnect]), with the reason.
func (s *Socket) OnDisconnect(fn func(reason DisconnectReason)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// OnDisconnecting adds a handler run once when the socket is about to
// disconnect, while it is still in its rooms.
func (s *Socket) OnDisconnecting(fn func(reason DisconnectReason)) {
	s.mu.Lock()
	s.onDisconnecting = append(s.onDisconnecting, fn)
	s.mu.Unlock()
}

// emitError runs the error listeners.
func (s *Socket) emitError(err error) {
	s.mu.Lock()
	listeners := s.onError
	s.mu.Unlock()
	for _, fn := range listeners {
		fn(err)
	}
}

// onEvent handles an event packet, on the handler goroutine.
func (s *Socket) onEvent(p *socketio.Packet) error {
	name, args, err := socketio.ParseEvent(p)
	if err != nil {
		return err
	}
	e := &Event{Name: name, Args: args, s: s, id: p.ID, wantsAck: p.HasID}
	s.mu.Lock()
	anyIn, use := s.anyIn, s.use
	s.mu.Unlock()
	for _, l := range anyIn {
		l.fn(e)
	}
	for _, mw := range use {
		if err := mw(e); err != nil {
			s.emitError(err)
			return nil
		}
	}
	s.mu.Lock()
	connected, listeners := s.state == socketConnected, s.listeners[name]
	s.mu.Unlock()
	if !connected {
		return nil
	}
	for _, l := range listeners {
		l.fn(e)
	}
	return nil
}

// Emit sends an event to this socket's client. []byte arguments become
// binary attachments (see package socketio); they are copied. With
// connection state recovery the event goes through the adapter, so that it
// is kept for a client that reconnects.
func (s *Socket) Emit(event string, args ...any) error {
	return Emitter{s: s}.Emit(event, args...)
}

// EmitWithAck sends an event that asks the client for an acknowledgement
// and waits for it until ctx is done, returning ctx.Err() then. If the
// socket disconnects first it returns [ErrClosed]. See also
// [Socket.Timeout].
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Args, error) {
	return Emitter{s: s}.EmitWithAck(ctx, event, args...)
}

// Volatile returns an emitter whose events are dropped rather than queued
// when the transport is not writable at once.
func (s *Socket) Volatile() Emitter { return Emitter{s: s, flags: BroadcastFlags{Volatile: true}} }

// Compress returns an emitter whose events are sent with permessage-deflate
// on or off (on by default, where negotiated).
func (s *Socket) Compress(on bool) Emitter {
	return Emitter{s: s, flags: BroadcastFlags{NoCompress: !on}}
}

// Timeout returns an emitter whose EmitWithAck waits at most d, then
// returns [ErrAckTimeout].
func (s *Socket) Timeout(d time.Duration) Emitter {
	return Emitter{s: s, flags: BroadcastFlags{Timeout: d}}
}

// Emitter sends events to one socket with flags set (Node's
// socket.volatile, socket.compress(false), socket.timeout(ms)). Its methods
// return new values, so an Emitter may be kept and reused.
type Emitter struct {
	s     *Socket
	flags BroadcastFlags
}

// Volatile returns e with the volatile flag.
func (e Emitter) Volatile() Emitter { e.flags.Volatile = true; return e }

// Compress returns e with compression on or off.
func (e Emitter) Compress(on bool) Emitter { e.flags.NoCompress = !on; return e }

// Timeout returns e with an acknowledgement timeout.
func (e Emitter) Timeout(d time.Duration) Emitter { e.flags.Timeout = d; return e }

// Emit sends an event; see [Socket.Emit].
func (e Emitter) Emit(event string, args ...any) error {
	s := e.s
	if s.isDisconnected() {
		return ErrClosed
	}
	p, err := encodeEvent(s.ns.name, event, args, 0, false)
	if err != nil {
		return err
	}
	if s.ns.srv.opts.ConnectionStateRecovery != nil {
		s.ns.adapter.Broadcast(p, BroadcastOptions{Rooms: []string{s.id}, Flags: e.flags})
		return nil
	}
	if s.hasOutgoingListeners() {
		s.notifyOutgoing(newOutgoing(p))
	}
	return s.client.write(writeOptions(e.flags), encodePacket(p))
}

// EmitWithAck sends an event asking for an acknowledgement and waits for
// it; see [Socket.EmitWithAck]. With a timeout set it returns
// [ErrAckTimeout] once the timeout passes.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Args, error) {
	s := e.s
	if e.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, e.flags.Timeout, ErrAckTimeout)
		defer cancel()
	}
	ch := make(chan socketio.Args, 1)
	closed := make(chan struct{})
	id := s.ns.nextAckID()
	if !s.addAck(id, ackHandler{resolve: func(a socketio.Args) { ch <- a }, cancel: func() { close(closed) }}) {
		return socketio.Args{}, ErrClosed
	}
	p, err := encodeEvent(s.ns.name, event, args, id, true)
	if err == nil {
		if s.hasOutgoingListeners() {
			s.notifyOutgoing(newOutgoing(p))
		}
		err = s.client.write(writeOptions(e.flags), encodePacket(p))
	}
	if err != nil {
		s.forgetAck(id)
		return socketio.Args{}, err
	}
	select {
	case a := <-ch:
		return a, nil
	case <-closed:
		return socketio.Args{}, ErrClosed
	case <-ctx.Done():
		s.forgetAck(id)
		if cause := context.Cause(ctx); errors.Is(cause, ErrAckTimeout) {
			return socketio.Args{}, ErrAckTimeout
		}
		return socketio.Args{}, ctx.Err()
	}
}

// ErrAckTimeout is returned when acknowledgements did not come within the
// timeout set with Timeout ("operation has timed out", as Node's error).
var ErrAckTimeout = errors.New("realtime: operation has timed out")

// addAck registers an acknowledgement handler; false if the socket has
// disconnected.
func (s *Socket) addAck(id uint64, h ackHandler) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == socketDisconnected {
		return false
	}
	s.acks[id] = h
	return true
}

// registerAck registers the handler of a broadcast's acknowledgement.
func (s *Socket) registerAck(id uint64, fn func(socketio.Args)) {
	s.addAck(id, ackHandler{resolve: fn})
}

func (s *Socket) forgetAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// resolveAck hands an acknowledgement to whoever waits for it. Unknown ids
// (late or forged) are dropped.
func (s *Socket) resolveAck(p *socketio.Packet) {
	args, err := socketio.ParseArgs(p)
	if err != nil {
		return
	}
	s.mu.Lock()
	h, ok := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if ok {
		h.resolve(args)
	}
}

// Join puts the socket in rooms. It does nothing once the socket has
// disconnected.
func (s *Socket) Join(rooms ...string) {
	if s.isDisconnected() {
		return
	}
	s.ns.adapter.AddAll(s.id, rooms)
}

// Leave takes the socket out of rooms.
func (s *Socket) Leave(rooms ...string) {
	for _, r := range rooms {
		s.ns.adapter.Del(s.id, r)
	}
}

// Rooms returns the rooms the socket is in, its own included, sorted.
func (s *Socket) Rooms() []string {
	rooms := s.ns.adapter.SocketRooms(s.id)
	if !slices.IsSorted(rooms) { // another adapter's order
		rooms = slices.Sorted(slices.Values(rooms))
	}
	return rooms
}

// To returns a broadcast to the sockets in any of the rooms, except this
// socket.
func (s *Socket) To(rooms ...string) Broadcast {
	return Broadcast{ns: s.ns, except: []string{s.id}}.To(rooms...)
}

// In is To.
func (s *Socket) In(rooms ...string) Broadcast { return s.To(rooms...) }

// Except returns a broadcast to every socket of the namespace except this
// one and those in any of the rooms.
func (s *Socket) Except(rooms ...string) Broadcast {
	return Broadcast{ns: s.ns, except: append([]string{s.id}, rooms...)}
}

// Broadcast returns a broadcast to every socket in the namespace except
// this one.
func (s *Socket) Broadcast() Broadcast {
	return Broadcast{ns: s.ns, except: []string{s.id}}
}

// Local returns a broadcast to this server's sockets of the namespace,
// except this one.
func (s *Socket) Local() Broadcast { return s.Broadcast().Local() }

// Disconnect ends the socket: the client gets a DISCONNECT packet (so it
// does not reconnect) and the disconnect handlers run with "server
// namespace disconnect". With closeConnection, every socket of the client's
// connection is disconnected that way and the connection is closed.
func (s *Socket) Disconnect(closeConnection bool) {
	if s.isDisconnected() {
		return
	}
	if closeConnection {
		s.client.disconnectAll()
		return
	}
	s.client.write(engineWrite, encodePacket(&socketio.Packet{Type: socketio.Disconnect, Namespace: s.ns.name}))
	s.onClose(ReasonServerNamespace)
}

func (s *Socket) isDisconnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == socketDisconnected
}

// details describes the socket for FetchSockets.
func (s *Socket) details() SocketDetails {
	return SocketDetails{ID: s.id, Handshake: s.handshake, Rooms: s.Rooms(), Data: s.Data()}
}

// onConnect completes the connection: the socket joins its own room and
// the client gets the CONNECT packet.
func (s *Socket) onConnect() {
	s.mu.Lock()
	s.state = socketConnected
	s.mu.Unlock()
	s.Join(s.id)
	data := fmt.Appendf(nil, `{"sid":%q}`, s.id)
	if s.pid != "" {
		data = fmt.Appendf(nil, `{"sid":%q,"pid":%q}`, s.id, s.pid)
	}
	s.client.write(engine.WriteOptions{Separate: true}, encodePacket(&socketio.Packet{Type: socketio.Connect, Namespace: s.ns.name, Data: data}))
}

// onClose disconnects the socket once: disconnecting handlers, its state
// kept for recovery when the reason allows, out of its rooms, namespace
// and connection, pending acknowledgements failed, disconnect handlers.
func (s *Socket) onClose(reason DisconnectReason) {
	s.mu.Lock()
	if s.state == socketDisconnected {
		s.mu.Unlock()
		return
	}
	wasConnected := s.state == socketConnected
	s.state = socketDisconnected
	disconnecting := s.onDisconnecting
	s.onDisconnecting = nil
	s.mu.Unlock()
	if wasConnected {
		for _, fn := range disconnecting {
			fn(reason)
		}
		if s.pid != "" && reason.Recoverable() {
			s.ns.adapter.PersistSession(&PersistedSession{SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: s.Data()})
		}
	}
	s.ns.adapter.DelAll(s.id)
	s.ns.remove(s)
	s.client.remove(s)
	s.mu.Lock()
	acks := s.acks
	s.acks = map[uint64]ackHandler{}
	handlers := s.onDisconnect
	s.onDisconnect = nil
	s.mu.Unlock()
	for _, h := range acks {
		if h.cancel != nil {
			h.cancel()
		}
	}
	s.cancel()
	if wasConnected {
		for _, fn := range handlers {
			fn(reason)
		}
	}
}

// Event is an event received from a client.
type Event struct {
	Name string
	Args socketio.Args

	s        *Socket
	id       uint64
	wantsAck bool
	acked    atomic.Bool
}

// Socket returns the socket the event arrived on.
func (e *Event) Socket() *Socket { return e.s }

// WantsAck reports whether the client asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.wantsAck }

var (
	errNoAck      = errors.New("realtime: the event wants no acknowledgement")
	errAckedTwice = errors.New("realtime: the event is already acknowledged")
)

// Ack sends the acknowledgement the client asked for, with args ([]byte
// arguments become attachments). It may be called from any goroutine, at
// most once.
func (e *Event) Ack(args ...any) error {
	if !e.wantsAck {
		return errNoAck
	}
	if e.acked.Swap(true) {
		return errAckedTwice
	}
	data, atts, err := socketio.AppendArgs(nil, nil, args...)
	if err != nil {
		return err
	}
	p := &socketio.Packet{Type: socketio.Ack, Namespace: e.s.ns.name, HasID: true, ID: e.id, Data: data, Attachments: copyAll(atts)}
	if len(atts) > 0 {
		p.Type = socketio.BinaryAck
	}
	return e.s.client.write(engineWrite, encodePacket(p))
}

// ConnectError is a middleware error that refuses a client with a message
// and optional data, which the client's connect_error event receives.
type ConnectError struct {
	Message string
	Data    any
}

// Error implements error.
func (e *ConnectError) Error() string { return "realtime: connection refused: " + e.Message }
