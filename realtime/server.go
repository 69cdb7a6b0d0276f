package realtime

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engineio"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Defaults for the zero values of [Options].
const (
	DefaultPingInterval     = 25 * time.Second
	DefaultPingTimeout      = 20 * time.Second
	DefaultMaxPayload       = 1_000_000 // bytes, as the reference server
	DefaultUpgradeTimeout   = 10 * time.Second
	DefaultConnectTimeout   = 45 * time.Second
	DefaultMaxBufferedBytes = 4 << 20
	DefaultMaxSessions      = 10_000
	DefaultEventQueue       = 64
	DefaultWriteTimeout     = 10 * time.Second
)

// Options configure a [Server]. The zero value gives the defaults; a nil
// *Options is the zero value.
type Options struct {
	// PingInterval is how often the server pings each session, and
	// PingTimeout how long it then waits for the pong before closing the
	// session with [ErrPingTimeout]. Both are sent to the client in the
	// handshake. 0 means 25 s and 20 s.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// MaxPayload is the largest WebSocket message and the largest polling
	// request body, in bytes, the server accepts; larger ones close the
	// session with [ErrPayloadTooLarge]. It is sent to the client, which
	// splits its polling requests to fit. 0 means 1,000,000.
	MaxPayload int64

	// MaxAttachments bounds the binary attachments of one packet; more
	// close the session. 0 means socketio.DefaultMaxAttachments (10).
	MaxAttachments int

	// MaxBufferedBytes bounds the outgoing data queued for one session and
	// not yet written to its transport; a session that would exceed it is
	// closed with [ErrBufferFull]. It also bounds the incoming packets
	// waiting for the session's handlers: past it, the server stops reading
	// from the client until the handlers catch up. 0 means 4 MiB.
	MaxBufferedBytes int

	// MaxSessions bounds the open sessions; a handshake beyond it is
	// refused with 503. 0 means 10,000; negative means no limit.
	MaxSessions int

	// EventQueue is the number of incoming packets a session holds for its
	// handler goroutine before it stops reading from the client. 0 means
	// 64.
	EventQueue int

	// UpgradeTimeout bounds the upgrade from polling to WebSocket, from the
	// WebSocket handshake to the client's upgrade packet. 0 means 10 s.
	UpgradeTimeout time.Duration

	// ConnectTimeout closes a session that has not joined any namespace
	// this long after its handshake. 0 means 45 s.
	ConnectTimeout time.Duration

	// DisablePolling and DisableWebSocket turn a transport off; requests
	// for it get the "Transport unknown" error.
	DisablePolling   bool
	DisableWebSocket bool

	// AllowRequest, if set, is called with every Engine.IO request before
	// it is served; an error refuses it with 403 and the "Forbidden" error.
	AllowRequest func(r *http.Request) error

	// WebSocket configures the WebSocket transport: origin policy,
	// compression and connection options. Its ReadLimit is set to
	// MaxPayload, and a zero WriteTimeout becomes 10 s. The default
	// origin policy admits same-origin browsers and non-browser clients.
	WebSocket conn.AcceptOptions

	// OnSessionClose, if set, is called once for each session after it
	// closed and its sockets' disconnect handlers ran, with the reason (see
	// [Socket.OnDisconnect]) and the error that caused it, if any.
	OnSessionClose func(sid, reason string, err error)
}

// Errors that end a session. The reason passed to disconnect handlers goes
// with each.
var (
	// ErrPingTimeout: the client did not answer a ping within PingTimeout
	// (reason "ping timeout").
	ErrPingTimeout = errors.New("realtime: no pong within the ping timeout")
	// ErrBufferFull: the client did not read fast enough and its queue
	// passed MaxBufferedBytes (reason "transport error").
	ErrBufferFull = errors.New("realtime: outgoing buffer full")
	// ErrPayloadTooLarge: a message or polling body over MaxPayload
	// (reason "transport error").
	ErrPayloadTooLarge = errors.New("realtime: payload over the maximum")
	// ErrConnectTimeout: no namespace joined within ConnectTimeout
	// (reason "transport close").
	ErrConnectTimeout = errors.New("realtime: no namespace joined in time")
	// ErrServerClosed is returned by calls after [Server.Close] (reason
	// "server shutting down").
	ErrServerClosed = errors.New("realtime: server closed")
	// ErrClosed is returned when emitting on a socket or session that has
	// ended.
	ErrClosed = errors.New("realtime: socket closed")
)

// Server is a Socket.IO server. It is an http.Handler. Its methods are safe
// for concurrent use.
type Server struct {
	opts   Options
	accept conn.AcceptOptions

	mu sync.Mutex
	// guarded by mu
	sessions   map[string]*session
	namespaces map[string]*Namespace
	closed     bool

	wg sync.WaitGroup // every goroutine of every session
}

// NewServer returns a server with the options given and the main namespace
// "/" created.
func NewServer(opts *Options) *Server {
	s := &Server{sessions: map[string]*session{}, namespaces: map[string]*Namespace{}}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PingInterval, DefaultPingInterval)
	def(&o.PingTimeout, DefaultPingTimeout)
	def(&o.UpgradeTimeout, DefaultUpgradeTimeout)
	def(&o.ConnectTimeout, DefaultConnectTimeout)
	if o.MaxPayload <= 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = socketio.DefaultMaxAttachments
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.EventQueue <= 0 {
		o.EventQueue = DefaultEventQueue
	}
	s.accept = o.WebSocket
	s.accept.ReadLimit = o.MaxPayload
	if s.accept.WriteTimeout <= 0 {
		s.accept.WriteTimeout = DefaultWriteTimeout
	}
	s.Of(socketio.MainNamespace)
	return s
}

// Of returns the namespace with the name given, creating it if needed. A
// client that asks for a namespace that does not exist gets a CONNECT_ERROR
// "Invalid namespace".
func (s *Server) Of(name string) *Namespace {
	if name == "" {
		name = socketio.MainNamespace
	}
	if !strings.HasPrefix(name, "/") {
		panic("realtime: namespace " + name + " does not start with /")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.namespaces[name]
	if ns == nil {
		ns = newNamespace(s, name)
		s.namespaces[name] = ns
	}
	return ns
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.namespaces[name]
}

// SessionCount returns the number of open Engine.IO sessions.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close closes every session (reason "server shutting down"), refuses new
// requests, and waits for the goroutines of every session to end, which a
// client that stopped reading can hold up for the WebSocket write and close
// timeouts. Close does not close the listener; shut the http.Server down
// too.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.close(reasonServerShutdown, ErrServerClosed, true)
	}
	s.wg.Wait()
	// Polling sessions kept for a last GET are dropped now.
	for _, ss := range all {
		ss.stopLinger()
		s.remove(ss)
	}
	return nil
}

// ServeHTTP serves the Engine.IO requests of both transports. A bad request
// gets the status and JSON error body of the reference server, such as 400
// {"code":1,"message":"Session ID unknown"}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		writeError(w, engineio.UnsupportedVersion)
		return
	}
	transport := q.Get("transport")
	if (transport != "polling" || s.opts.DisablePolling) && (transport != "websocket" || s.opts.DisableWebSocket) {
		writeError(w, engineio.UnknownTransport)
		return
	}
	if s.opts.AllowRequest != nil {
		if err := s.opts.AllowRequest(r); err != nil {
			writeError(w, engineio.Forbidden)
			return
		}
	}
	ws := transport == "websocket"
	if ws && !isUpgrade(r) {
		writeError(w, engineio.BadRequest)
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		if ws {
			s.handshakeWebSocket(w, r)
			return
		}
		if r.Method != http.MethodGet {
			writeError(w, engineio.BadHandshakeMethod)
			return
		}
		s.handshakePolling(w, r)
		return
	}
	s.mu.Lock()
	ss := s.sessions[sid]
	s.mu.Unlock()
	if ss == nil {
		writeError(w, engineio.UnknownSID)
		return
	}
	switch {
	case ws:
		ss.serveUpgrade(w, r)
	case r.Method == http.MethodGet:
		ss.servePoll(w, r)
	case r.Method == http.MethodPost:
		ss.servePost(w, r)
	default:
		writeError(w, engineio.BadRequest)
	}
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func writeError(w http.ResponseWriter, code engineio.ErrorCode) {
	writeErrorStatus(w, code, code.Status())
}

func writeErrorStatus(w http.ResponseWriter, code engineio.ErrorCode, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(engineio.AppendError(nil, code))
}

var errTooManySessions = errors.New("realtime: too many sessions")

// newSession registers a session and starts its goroutines.
func (s *Server) newSession(r *http.Request, ws *conn.Conn) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrServerClosed
	}
	if s.opts.MaxSessions > 0 && len(s.sessions) >= s.opts.MaxSessions {
		return nil, errTooManySessions
	}
	ss := newSession(s, newID(), r, ws)
	s.sessions[ss.id] = ss
	ss.start(ws)
	return ss, nil
}

func (s *Server) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed || s.opts.MaxSessions > 0 && len(s.sessions) >= s.opts.MaxSessions
}

func (s *Server) remove(ss *session) {
	s.mu.Lock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	s.mu.Unlock()
}

func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request) {
	ss, err := s.newSession(r, nil)
	if err != nil {
		writeErrorStatus(w, engineio.BadRequest, http.StatusServiceUnavailable)
		return
	}
	writePayload(w, engineio.AppendOpen(nil, ss.handshake()))
}

func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.full() {
		writeErrorStatus(w, engineio.BadRequest, http.StatusServiceUnavailable)
		return
	}
	c, err := conn.Accept(w, r, &s.accept)
	if err != nil {
		return // Accept answered
	}
	ss, err := s.newSession(r, c)
	if err != nil {
		c.Close(1013, "try again later")
		return
	}
	ss.readLoop(c) // the session counted this goroutine and started the writer
}

// newID returns a random id of 20 URL-safe characters.
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
