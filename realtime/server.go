package realtime

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engine"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Defaults for the zero values of [Options]; the Engine.IO ones are
// package engine's.
const (
	DefaultPingInterval     = engine.DefaultPingInterval
	DefaultPingTimeout      = engine.DefaultPingTimeout
	DefaultMaxPayload       = engine.DefaultMaxPayload
	DefaultUpgradeTimeout   = engine.DefaultUpgradeTimeout
	DefaultMaxBufferedBytes = engine.DefaultMaxBufferedBytes
	DefaultMaxSessions      = engine.DefaultMaxSessions
	DefaultWriteTimeout     = engine.DefaultWriteTimeout
	DefaultConnectTimeout   = 45 * time.Second
	DefaultEventQueue       = 64
)

// Options configure a [Server]. The zero value gives the defaults; a nil
// *Options is the zero value. The fields down to WebSocket configure the
// Engine.IO server underneath; see [engine.Options] for each.
type Options struct {
	// PingInterval and PingTimeout: the heartbeat. 0 means 25 s and 20 s.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// MaxPayload bounds a WebSocket message and a polling request body.
	// 0 means 1,000,000 bytes.
	MaxPayload int64
	// MaxBufferedBytes bounds the outgoing queue of a session, and the
	// incoming packets waiting for its handlers: past it, the server stops
	// reading from the client until the handlers catch up. 0 means 4 MiB.
	MaxBufferedBytes int
	// MaxSessions bounds the open sessions. 0 means 10,000; negative
	// means no limit.
	MaxSessions int
	// UpgradeTimeout bounds the upgrade from polling to WebSocket. 0
	// means 10 s.
	UpgradeTimeout time.Duration
	// DisablePolling, DisableWebSocket and DisableUpgrades restrict the
	// transports.
	DisablePolling   bool
	DisableWebSocket bool
	DisableUpgrades  bool
	// AllowRequest, if set, vets every handshake request; an error refuses
	// it with 403 and the error's text.
	AllowRequest func(r *http.Request) error
	// GenerateID, if set, makes the Engine.IO session ids (the sid of
	// polling requests, not the socket ids); see [engine.Options]. A
	// cluster can route requests by a node's tag in them.
	GenerateID func(r *http.Request) (string, error)
	// CORS answers preflight requests and adds CORS headers; its origins
	// may also open WebSockets. See [engine.CORSOptions].
	CORS *engine.CORSOptions
	// Cookie sets the sticky-session cookie ("io" by default). See
	// [engine.CookieOptions].
	Cookie *engine.CookieOptions
	// WebSocket configures the WebSocket transport (origin policy,
	// compression, connection options).
	WebSocket conn.AcceptOptions
	// Poller, if set, serves the sessions' WebSockets: an idle session
	// then holds no goroutine. See [engine.Options].
	Poller *conn.Poller
	// HTTPCompressionThreshold: polling bodies from this size on are
	// compressed when the request accepts gzip or deflate, as Node's
	// httpCompression. 0 means 1024; negative turns it off.
	HTTPCompressionThreshold int

	// MaxAttachments bounds the binary attachments of one packet; more
	// close the session. 0 means socketio.DefaultMaxAttachments (10).
	MaxAttachments int

	// EventQueue is the number of incoming packets a session holds for its
	// handler goroutine before it stops reading from the client. 0 means
	// 64.
	EventQueue int

	// ConnectTimeout closes a session that has not joined any namespace
	// this long after its handshake. 0 means 45 s.
	ConnectTimeout time.Duration

	// ConnectionStateRecovery, if not nil, turns connection state recovery
	// on. See [RecoveryOptions].
	ConnectionStateRecovery *RecoveryOptions

	// NewAdapter, if set, makes the adapter of each namespace; nil means
	// [NewMemoryAdapter].
	NewAdapter func(ns *Namespace) Adapter

	// CleanupEmptyChildNamespaces removes a namespace created by a parent
	// namespace ([Server.OfFunc], [Server.OfPattern]) when its last socket
	// leaves.
	CleanupEmptyChildNamespaces bool

	// OnSessionClose, if set, is called once for each session after it
	// closed and its sockets' disconnect handlers ran, with the reason its
	// sockets were given and the error that caused it, if any.
	OnSessionClose func(sid string, reason DisconnectReason, err error)
}

// Errors that end a session; see also package engine's.
var (
	// ErrPingTimeout: the client did not answer a ping within PingTimeout.
	ErrPingTimeout = engine.ErrPingTimeout
	// ErrBufferFull: the client did not read fast enough.
	ErrBufferFull = engine.ErrBufferFull
	// ErrPayloadTooLarge: a message or polling body over MaxPayload.
	ErrPayloadTooLarge = engine.ErrPayloadTooLarge
	// ErrConnectTimeout: no namespace joined within ConnectTimeout
	// (reason "forced server close").
	ErrConnectTimeout = errors.New("realtime: no namespace joined in time")
	// ErrServerClosed is returned by calls after [Server.Close] (reason
	// "server shutting down").
	ErrServerClosed = errors.New("realtime: server closed")
	// ErrClosed is returned when emitting on a socket that has
	// disconnected.
	ErrClosed = errors.New("realtime: socket closed")
	// ErrInvalidState: the client sent a packet its state does not allow:
	// an event for a namespace it has not joined, a second CONNECT, a
	// CONNECT_ERROR (reason "forced server close").
	ErrInvalidState = errors.New("realtime: packet not allowed in the connection's state")
)

// Server is a Socket.IO server. It is an http.Handler; mount it at the path
// clients use, by default /socket.io/. Its methods are safe for concurrent
// use. The methods it shares with [Namespace] (Emit, To, Use, ...) act on
// the main namespace "/".
type Server struct {
	opts Options
	eng  *engine.Server

	mu sync.Mutex
	// guarded by mu
	namespaces map[string]*Namespace
	parents    []*ParentNamespace
	onNew      []func(*Namespace)
	closed     bool

	wg sync.WaitGroup // the handler goroutines of every session
}

// NewServer returns a server with the options given and the main namespace
// "/" created.
func NewServer(opts *Options) *Server {
	s := &Server{namespaces: map[string]*Namespace{}}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = socketio.DefaultMaxAttachments
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if o.EventQueue <= 0 {
		o.EventQueue = DefaultEventQueue
	}
	if r := o.ConnectionStateRecovery; r != nil {
		c := *r
		if c.MaxDisconnectionDuration <= 0 {
			c.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		o.ConnectionStateRecovery = &c
	}
	s.eng = engine.NewServer(&engine.Options{
		PingInterval:     o.PingInterval,
		PingTimeout:      o.PingTimeout,
		MaxPayload:       o.MaxPayload,
		MaxBufferedBytes: o.MaxBufferedBytes,
		MaxSessions:      o.MaxSessions,
		UpgradeTimeout:   o.UpgradeTimeout,
		DisablePolling:   o.DisablePolling,
		DisableWebSocket: o.DisableWebSocket,
		DisableUpgrades:  o.DisableUpgrades,
		AllowRequest:     o.AllowRequest,
		GenerateID:       o.GenerateID,
		CORS:             o.CORS,
		Cookie:           o.Cookie,
		WebSocket:        o.WebSocket,
		Poller:           o.Poller,

		HTTPCompressionThreshold: o.HTTPCompressionThreshold,
	})
	s.eng.OnConnection(s.onSession)
	s.Of(socketio.MainNamespace)
	return s
}

// Engine returns the Engine.IO server underneath, for its events
// (OnConnectionError, OnInitialHeaders, OnHeaders) and sessions.
func (s *Server) Engine() *engine.Server { return s.eng }

// ServeHTTP serves the Engine.IO requests of both transports.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.eng.ServeHTTP(w, r) }

// Of returns the namespace with the name given, creating it if needed (a
// name without a leading "/" gets one). A name that a parent namespace made
// with [Server.OfPattern] matches becomes that parent's child. A client that
// asks for a namespace that does not exist, and that no parent namespace
// accepts, gets a CONNECT_ERROR "Invalid namespace".
func (s *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.Lock()
	ns := s.namespaces[name]
	if ns != nil {
		s.mu.Unlock()
		return ns
	}
	for _, p := range s.parents {
		if p.re != nil && p.re.MatchString(name) {
			s.mu.Unlock()
			return p.child(name)
		}
	}
	ns = newNamespace(s, name, nil)
	s.namespaces[name] = ns
	listeners := s.onNew
	s.mu.Unlock()
	ns.adapter.Init()
	if name != socketio.MainNamespace {
		for _, fn := range listeners {
			fn(ns)
		}
	}
	return ns
}

// OfFunc returns a parent namespace: a client that asks for a namespace
// that does not exist yet and for which accept returns true gets it
// created, as a child of the parent (Node's io.of(function)). auth is the
// client's CONNECT payload.
func (s *Server) OfFunc(accept func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := newParent(s, accept, nil)
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OfPattern returns a parent namespace whose children are the namespaces
// whose names match re (Node's io.of(/regexp/)).
func (s *Server) OfPattern(re *regexp.Regexp) *ParentNamespace {
	p := newParent(s, nil, re)
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OnNewNamespace adds a listener called with every namespace created after
// "/", by [Server.Of] or by a parent namespace.
func (s *Server) OnNewNamespace(fn func(*Namespace)) {
	s.mu.Lock()
	s.onNew = append(slices.Clip(s.onNew), fn)
	s.mu.Unlock()
}

// namespace returns the namespace a client asks for: an existing one, or
// one a parent namespace creates, or nil.
func (s *Server) namespace(name string, auth json.RawMessage) *Namespace {
	s.mu.Lock()
	ns := s.namespaces[name]
	parents := s.parents
	s.mu.Unlock()
	if ns != nil {
		return ns
	}
	for _, p := range parents {
		if p.accepts(name, auth) {
			return p.child(name)
		}
	}
	return nil
}

// removeNamespace forgets an empty child namespace.
func (s *Server) removeNamespace(ns *Namespace) {
	s.mu.Lock()
	if s.namespaces[ns.name] == ns {
		delete(s.namespaces, ns.name)
	}
	s.mu.Unlock()
}

// Namespaces returns the names of the namespaces, sorted.
func (s *Server) Namespaces() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.namespaces))
	for n := range s.namespaces {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// SessionCount returns the number of open Engine.IO sessions.
func (s *Server) SessionCount() int { return s.eng.SessionCount() }

// Close disconnects every socket (reason "server shutting down"), closes
// every session and every adapter, refuses new requests, and waits for the
// goroutines of every session to end. Close does not close the listener;
// shut the http.Server down too.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	all := make([]*Namespace, 0, len(s.namespaces))
	for _, ns := range s.namespaces {
		all = append(all, ns)
	}
	s.mu.Unlock()
	for _, ns := range all {
		for _, sock := range ns.localSockets() {
			sock.client.closeWith(ReasonServerShutdown, ErrServerClosed)
		}
	}
	err := s.eng.Close()
	s.wg.Wait()
	for _, ns := range all {
		ns.adapter.Close()
	}
	return err
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Use adds a middleware to the main namespace; see [Namespace.Use].
func (s *Server) Use(fn func(*Socket) error) { s.Of("/").Use(fn) }

// OnConnection adds a connection handler to the main namespace.
func (s *Server) OnConnection(fn func(*Socket)) { s.Of("/").OnConnection(fn) }

// Emit sends an event to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.Of("/").Emit(event, args...) }

// To returns a broadcast to rooms of the main namespace.
func (s *Server) To(rooms ...string) Broadcast { return s.Of("/").To(rooms...) }

// In is To.
func (s *Server) In(rooms ...string) Broadcast { return s.To(rooms...) }

// Except returns a broadcast to the main namespace but rooms.
func (s *Server) Except(rooms ...string) Broadcast { return s.Of("/").Except(rooms...) }

// Volatile returns a volatile broadcast to the main namespace.
func (s *Server) Volatile() Broadcast { return s.Of("/").Volatile() }

// Local returns a broadcast to this server's sockets of the main namespace.
func (s *Server) Local() Broadcast { return s.Of("/").Local() }

// Compress returns a broadcast to the main namespace with compression on
// or off.
func (s *Server) Compress(on bool) Broadcast { return s.Of("/").Compress(on) }

// Timeout returns a broadcast to the main namespace whose
// acknowledgements are awaited for at most d.
func (s *Server) Timeout(d time.Duration) Broadcast { return s.Of("/").Timeout(d) }

// FetchSockets describes the sockets of the main namespace, cluster-wide.
func (s *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return s.Of("/").FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (s *Server) SocketsJoin(rooms ...string) { s.Of("/").SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (s *Server) SocketsLeave(rooms ...string) { s.Of("/").SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace.
func (s *Server) DisconnectSockets(close bool) { s.Of("/").DisconnectSockets(close) }

// ServerSideEmit sends an event to the other servers; see
// [Namespace.ServerSideEmit].
func (s *Server) ServerSideEmit(event string, args ...any) error {
	return s.Of("/").ServerSideEmit(event, args...)
}

// onSession sets the Socket.IO connection up on a new Engine.IO session.
func (s *Server) onSession(sess *engine.Session) {
	newClient(s, sess)
}

// newID returns a random id of 20 URL-safe characters.
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
