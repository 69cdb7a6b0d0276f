package engine

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/realtime/engineio"
)

// Defaults for the zero values of [Options].
const (
	DefaultPingInterval     = 25 * time.Second
	DefaultPingTimeout      = 20 * time.Second
	DefaultMaxPayload       = 1_000_000 // bytes, as the reference server's maxHttpBufferSize
	DefaultUpgradeTimeout   = 10 * time.Second
	DefaultMaxBufferedBytes = 4 << 20
	DefaultMaxSessions      = 10_000
	DefaultWriteTimeout     = 10 * time.Second
	// DefaultHTTPCompressionThreshold is the smallest polling body
	// compressed, as in Node's engine.io.
	DefaultHTTPCompressionThreshold = 1024
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

	// MaxBufferedBytes bounds the outgoing data queued for one session and
	// not yet written to its transport, counting 64 bytes per message on
	// top of its data; a session that would exceed it is closed with
	// [ErrBufferFull]. 0 means 4 MiB.
	MaxBufferedBytes int

	// MaxSessions bounds the open sessions; a handshake beyond it is
	// refused with 503. 0 means 10,000; negative means no limit.
	MaxSessions int

	// UpgradeTimeout bounds the upgrade from polling to WebSocket, from
	// the WebSocket handshake to the client's upgrade packet. 0 means 10 s.
	UpgradeTimeout time.Duration

	// DisablePolling and DisableWebSocket turn a transport off; requests
	// for it get the "Transport unknown" error. DisableUpgrades keeps
	// polling sessions on polling: the handshake offers no upgrade.
	DisablePolling   bool
	DisableWebSocket bool
	DisableUpgrades  bool

	// AllowRequest, if set, is called with every handshake request (the
	// first request of a session, on either transport) before it is
	// served; an error refuses it with 403 and the error's text as the
	// message (WebSocket handshakes get 400, as from the reference server).
	AllowRequest func(r *http.Request) error

	// GenerateID, if set, makes the session ids; it must return ids unique
	// among the open sessions, made of URL-safe characters. An error
	// refuses the handshake with "Bad request". By default ids are 20
	// random URL-safe characters.
	GenerateID func(r *http.Request) (string, error)

	// HTTPCompressionThreshold is the smallest polling response body, in
	// bytes, that is compressed with gzip or deflate when the request
	// accepts one (Node's httpCompression option, on by default with the
	// same threshold); messages written with NoCompress alone are never
	// compressed. 0 means 1024; negative turns compression off.
	HTTPCompressionThreshold int

	// InitialPacket, if not nil, is a text message sent to every session
	// right after the handshake.
	InitialPacket []byte

	// CORS, if not nil, answers CORS preflight requests and adds the CORS
	// headers to every response; its origins also admit cross-origin
	// WebSocket handshakes. See [CORSOptions].
	CORS *CORSOptions

	// Cookie, if not nil, sets a cookie holding the session id on the
	// handshake response, for load balancers that route by it. See
	// [CookieOptions].
	Cookie *CookieOptions

	// Poller, if set, serves the sessions' WebSockets (over HTTP/1.1):
	// an idle session then holds no goroutine at all, only its state and
	// socket. nil gives each WebSocket a reading goroutine.
	Poller *conn.Poller

	// WebSocket configures the WebSocket transport: origin policy,
	// compression and connection options. Its ReadLimit is set to
	// MaxPayload, and a zero WriteTimeout becomes 10 s. The default origin
	// policy admits same-origin browsers and non-browser clients, plus the
	// origins CORS allows.
	WebSocket conn.AcceptOptions
}

// Errors that end a session, passed to its close listeners with the reason
// that goes with each.
var (
	// ErrPingTimeout: the client did not answer a ping within PingTimeout
	// (reason "ping timeout").
	ErrPingTimeout = errors.New("engine: no pong within the ping timeout")
	// ErrBufferFull: the client did not read fast enough and its queue
	// passed MaxBufferedBytes (reason "transport error").
	ErrBufferFull = errors.New("engine: outgoing buffer full")
	// ErrPayloadTooLarge: a message or polling body over MaxPayload
	// (reason "transport error").
	ErrPayloadTooLarge = errors.New("engine: payload over the maximum")
	// ErrServerClosed: [Server.Close] ended the session (reason "forced
	// close"); it is also returned by calls after Close.
	ErrServerClosed = errors.New("engine: server closed")
	// ErrClosed is returned when sending on a session that has ended.
	ErrClosed = errors.New("engine: session closed")
	// ErrOverlap: the client sent a second GET (or POST) while one was
	// being served, which the protocol forbids (reason "transport error").
	ErrOverlap = errors.New("engine: overlapping polling requests")
)

// ConnectionError describes a request the server refused, as Node's
// engine.io reports it in its connection_error event.
type ConnectionError struct {
	// Request is the refused request. Its body must not be read.
	Request *http.Request
	// Code and Message are those of the JSON error body, such as 1 and
	// "Session ID unknown".
	Code    engineio.ErrorCode
	Message string
	// Context holds details, with the reference server's keys: "transport",
	// "sid", "method", "name" (such as "TRANSPORT_MISMATCH"), "message".
	Context map[string]any
}

// Error implements error.
func (e *ConnectionError) Error() string {
	return "engine: request refused: " + e.Message
}

// Server is an Engine.IO server. It is an http.Handler. Its methods are safe
// for concurrent use.
type Server struct {
	opts   Options
	accept conn.AcceptOptions
	cors   *corsPolicy

	mu sync.Mutex
	// guarded by mu
	sessions       map[string]*Session
	closed         bool
	waiting        bool // Close waits for the sessions' goroutines
	onConnection   []func(*Session)
	onError        []func(*ConnectionError)
	onInitHeaders  []func(http.Header, *http.Request)
	onHeaders      []func(http.Header, *http.Request)
	listenersFixed bool // a snapshot was taken: copy on change

	wg sync.WaitGroup // every goroutine of every session
}

// NewServer returns a server with the options given.
func NewServer(opts *Options) *Server {
	s := &Server{sessions: map[string]*Session{}}
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
	if o.MaxPayload <= 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.HTTPCompressionThreshold == 0 {
		o.HTTPCompressionThreshold = DefaultHTTPCompressionThreshold
	}
	s.accept = o.WebSocket
	s.accept.ReadLimit = o.MaxPayload
	if s.accept.WriteTimeout <= 0 {
		s.accept.WriteTimeout = DefaultWriteTimeout
	}
	if o.CORS != nil {
		s.cors = newCORSPolicy(o.CORS)
	}
	return s
}

// PingInterval and the other accessors return the options in effect, with
// defaults applied.
func (s *Server) PingInterval() time.Duration { return s.opts.PingInterval }

// PingTimeout returns the ping timeout in effect.
func (s *Server) PingTimeout() time.Duration { return s.opts.PingTimeout }

// MaxPayload returns the largest message the server accepts.
func (s *Server) MaxPayload() int64 { return s.opts.MaxPayload }

// OnConnection adds a listener called with every new session, on the
// handshake request's goroutine, before the session reads anything from its
// client. Register the session's listeners there.
func (s *Server) OnConnection(fn func(*Session)) {
	s.mu.Lock()
	s.onConnection = append(slices.Clip(s.onConnection), fn)
	s.mu.Unlock()
}

// OnConnectionError adds a listener called with every request the server
// refuses with an Engine.IO error, before the error response is written.
func (s *Server) OnConnectionError(fn func(*ConnectionError)) {
	s.mu.Lock()
	s.onError = append(slices.Clip(s.onError), fn)
	s.mu.Unlock()
}

// OnInitialHeaders adds a listener called with the response headers of
// every handshake (the first polling response or the WebSocket 101), which
// it may change, and the request.
func (s *Server) OnInitialHeaders(fn func(h http.Header, r *http.Request)) {
	s.mu.Lock()
	s.onInitHeaders = append(slices.Clip(s.onInitHeaders), fn)
	s.mu.Unlock()
}

// OnHeaders adds a listener called with the response headers of every
// polling response and WebSocket 101, which it may change, and the request.
func (s *Server) OnHeaders(fn func(h http.Header, r *http.Request)) {
	s.mu.Lock()
	s.onHeaders = append(slices.Clip(s.onHeaders), fn)
	s.mu.Unlock()
}

// Session returns the open session with the id given, or nil.
func (s *Server) Session(id string) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// SessionCount returns the number of open sessions. A polling session
// the server closed is not counted while it waits for the client's last
// GET.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	all := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	n := 0
	for _, ss := range all {
		if !ss.Closed() {
			n++
		}
	}
	return n
}

// Close closes every session (reason "forced close", error
// [ErrServerClosed]; WebSocket sessions with close code 1001), refuses new
// requests, and waits for the goroutines of every session to end, which a
// client that stopped reading can hold up for the WebSocket write and close
// timeouts. Close does not close the listener; shut the http.Server down
// too.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	all := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.close(ReasonForcedClose, ErrServerClosed, true)
	}
	s.mu.Lock()
	s.waiting = true
	s.mu.Unlock()
	s.wg.Wait()
	// Polling sessions kept for a last GET are dropped now.
	for _, ss := range all {
		ss.stopLinger()
		s.remove(ss)
	}
	return nil
}

// requestError is a refusal: the code and the details for the
// connection_error listeners.
type requestError struct {
	code    engineio.ErrorCode
	message string // "" means the code's message
	context map[string]any
}

// ServeHTTP serves the Engine.IO requests of both transports.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cors != nil && s.cors.handle(w, r) {
		return // a preflight request, answered
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	upgrade := transport == "websocket" && isUpgrade(r)
	sid := q.Get("sid")
	if rerr := s.verify(r, q.Get("EIO"), transport, sid, upgrade); rerr != nil {
		s.refuse(w, r, upgrade, rerr)
		return
	}
	if sid == "" {
		if upgrade {
			s.handshakeWebSocket(w, r)
		} else {
			s.handshakePolling(w, r)
		}
		return
	}
	ss := s.Session(sid)
	if ss == nil { // closed since verify
		s.refuse(w, r, upgrade, &requestError{code: engineio.UnknownSID, context: map[string]any{"sid": sid}})
		return
	}
	switch {
	case upgrade:
		ss.serveUpgrade(w, r)
	case r.Method == http.MethodGet:
		ss.servePoll(w, r)
	case r.Method == http.MethodPost:
		ss.servePost(w, r)
	default:
		// The reference server answers other methods on a session with a
		// bare 500.
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// verify applies the reference server's checks, in its order: transport,
// then session id and transport match, or for a handshake the method, the
// upgrade, AllowRequest and the protocol version.
func (s *Server) verify(r *http.Request, eio, transport, sid string, upgrade bool) *requestError {
	switch {
	case transport == "polling" && !s.opts.DisablePolling:
	case transport == "websocket" && !s.opts.DisableWebSocket:
	default:
		return &requestError{code: engineio.UnknownTransport, context: map[string]any{"transport": transport}}
	}
	if sid != "" {
		ss := s.Session(sid)
		if ss == nil {
			return &requestError{code: engineio.UnknownSID, context: map[string]any{"sid": sid}}
		}
		if prev := ss.Transport(); !upgrade && prev != transport {
			return &requestError{code: engineio.BadRequest, context: map[string]any{
				"name": "TRANSPORT_MISMATCH", "transport": transport, "previousTransport": prev}}
		}
		return nil
	}
	if r.Method != http.MethodGet {
		return &requestError{code: engineio.BadHandshakeMethod, context: map[string]any{"method": r.Method}}
	}
	if transport == "websocket" && !upgrade {
		return &requestError{code: engineio.BadRequest, context: map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"}}
	}
	if s.opts.AllowRequest != nil {
		if err := s.opts.AllowRequest(r); err != nil {
			return &requestError{code: engineio.Forbidden, message: err.Error(), context: map[string]any{"message": err.Error()}}
		}
	}
	if eio != "4" {
		protocol := 3 // the reference server's reading of a missing or other EIO
		return &requestError{code: engineio.UnsupportedVersion, context: map[string]any{"protocol": protocol}}
	}
	return nil
}

// refuse reports a refused request to the connection_error listeners and
// answers it: polling requests with the JSON body and 400 (403 for
// Forbidden), WebSocket handshakes with a plain 400 whose body is the
// message, as the reference server does.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, upgrade bool, e *requestError) {
	msg := e.message
	if msg == "" {
		msg = e.code.String()
	}
	s.mu.Lock()
	listeners := s.onError
	s.mu.Unlock()
	if len(listeners) > 0 {
		ce := &ConnectionError{Request: r, Code: e.code, Message: e.code.String(), Context: e.context}
		for _, fn := range listeners {
			fn(ce)
		}
	}
	if upgrade {
		h := w.Header()
		h.Set("Connection", "close")
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(msg)))
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(msg))
		return
	}
	writeJSONError(w, e.code, msg, e.code.Status())
}

func writeJSONError(w http.ResponseWriter, code engineio.ErrorCode, msg string, status int) {
	body := engineio.AppendErrorMessage(nil, code, msg)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func isUpgrade(r *http.Request) bool {
	// An HTTP/2 extended CONNECT (RFC 8441) is a WebSocket handshake too.
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		r.Method == http.MethodConnect && r.Proto == "websocket"
}

// enter counts the calling goroutine among the sessions' (Close waits for
// them) and reports whether it may go on: false once Close has started
// waiting, when nothing new may begin. leave undoes a successful enter.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) leave() { s.wg.Done() }

// spawn runs fn on a goroutine of its own, counted among the sessions'
// while Close has not yet started waiting (then it runs uncounted: it can
// only be the last writer of a session that closed meanwhile).
func (s *Server) spawn(fn func()) {
	if !s.enter() {
		go fn()
		return
	}
	go func() {
		defer s.leave()
		fn()
	}()
}

var errTooManySessions = errors.New("engine: too many sessions")

// newSession registers a session. The server's mu is held while it is
// added, so Close cannot miss it.
func (s *Server) newSession(r *http.Request, kind transportKind) (*Session, error) {
	id := ""
	if s.opts.GenerateID != nil {
		var err error
		if id, err = s.opts.GenerateID(r); err != nil || id == "" {
			return nil, errBadID
		}
	} else {
		id = newID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrServerClosed
	}
	if s.opts.MaxSessions > 0 && len(s.sessions) >= s.opts.MaxSessions {
		return nil, errTooManySessions
	}
	if s.sessions[id] != nil {
		return nil, errBadID
	}
	ss := newSession(s, id, r, kind)
	s.sessions[ss.id] = ss
	return ss, nil
}

var errBadID = errors.New("engine: GenerateID failed")

func (s *Server) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed || s.opts.MaxSessions > 0 && len(s.sessions) >= s.opts.MaxSessions
}

func (s *Server) remove(ss *Session) {
	s.mu.Lock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	s.mu.Unlock()
}

// headers runs the header listeners on the response headers of r.
func (s *Server) headers(h http.Header, r *http.Request, initial bool) {
	s.mu.Lock()
	init, every := s.onInitHeaders, s.onHeaders
	s.mu.Unlock()
	if initial {
		for _, fn := range init {
			fn(h, r)
		}
	}
	for _, fn := range every {
		fn(h, r)
	}
}

// connected runs the connection listeners.
func (s *Server) connected(ss *Session) {
	s.mu.Lock()
	listeners := s.onConnection
	s.mu.Unlock()
	for _, fn := range listeners {
		fn(ss)
	}
}

func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request) {
	ss, err := s.newSession(r, polling)
	if err != nil {
		s.refuseHandshake(w, r, false, err)
		return
	}
	h := w.Header()
	if s.opts.Cookie != nil {
		h.Add("Set-Cookie", s.opts.Cookie.cookie(ss.id).String())
	}
	body := engineio.AppendOpen(nil, ss.handshake())
	if s.opts.InitialPacket != nil {
		body = append(body, engineio.Separator, '0'+byte(engineio.Message))
		body = append(body, s.opts.InitialPacket...)
	}
	ss.start(nil)
	s.connected(ss)
	ss.writePayload(w, r, body, true)
}

// refuseHandshake answers a handshake the server cannot take: 503 when it is
// full or closed, "Bad request" when no id could be made.
func (s *Server) refuseHandshake(w http.ResponseWriter, r *http.Request, upgrade bool, err error) {
	if err == errBadID {
		s.refuse(w, r, upgrade, &requestError{code: engineio.BadRequest, context: map[string]any{"name": "ID_GENERATION_ERROR"}})
		return
	}
	writeJSONError(w, engineio.BadRequest, engineio.BadRequest.String(), http.StatusServiceUnavailable)
}

func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.full() {
		s.refuseHandshake(w, r, true, errTooManySessions)
		return
	}
	ss, err := s.newSession(r, websocket)
	if err != nil {
		s.refuseHandshake(w, r, true, err)
		return
	}
	opts := s.acceptOptions(r, ss.id)
	c, err := conn.Accept(w, r, opts)
	if err != nil {
		// Accept answered; the session never started.
		ss.close(ReasonTransportError, err, false)
		return
	}
	ss.start(c)
	s.connected(ss)
	ss.readOn(r, c)
}

// acceptOptions returns the WebSocket options for one handshake: the
// response headers with the cookie (on a handshake), CORS and the header
// listeners' changes, and the origin check widened to CORS's origins.
func (s *Server) acceptOptions(r *http.Request, newSID string) *conn.AcceptOptions {
	opts := s.accept
	h := http.Header{}
	for k, v := range s.accept.Header {
		h[k] = slices.Clone(v)
	}
	if newSID != "" && s.opts.Cookie != nil {
		h.Add("Set-Cookie", s.opts.Cookie.cookie(newSID).String())
	}
	if s.cors != nil {
		s.cors.actualHeaders(h, r)
		if !opts.InsecureSkipOriginCheck && s.cors.allowsWebSocket(r) {
			opts.InsecureSkipOriginCheck = true
		}
	}
	s.headers(h, r, newSID != "")
	opts.Header = h
	return &opts
}

// newID returns a random id of 20 URL-safe characters.
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
