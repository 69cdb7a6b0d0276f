package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/internal/h2stream"
	"github.com/wirelevel/ws/internal/tlscert"
)

// FuzzingServer is the fuzzingserver mode: a WebSocket server that testee
// clients drive through these endpoints (CASES.md, Section A.1):
//
//	/getCaseCount                     sends the number of selected cases
//	/runCase?case=N&agent=A           runs the N-th selected case (1-based);
//	/runCase?casetuple=1.2.3&agent=A  or the case with that ID
//	/getCaseInfo?case=N               sends {"id": ..., "description": ...}
//	/getCaseStatus?case=N&agent=A     sends {"behavior": ...}
//	/updateReports?agent=A            writes the reports to the spec's outdir
//	/stopServer                       stops the server
//
// Informational endpoints send one text message, then close with 1000.
// runCase connections are served one at a time.
//
// Testee clients connect over TCP with HTTP/1.1, or over TLS if the spec's
// url is wss://. With HTTP/2 ([ServerSpec.HTTP2] or [Options.HTTP2]) they
// may also open the endpoints as extended CONNECT streams (RFC 8441) on
// HTTP/2 connections: with prior knowledge on ws://, by ALPN on wss://.
type FuzzingServer struct {
	spec  *ServerSpec
	o     *Options
	cases []*Case

	tls    *tls.Config   // nil: ws://
	http2  bool          // also accept testee clients over HTTP/2
	h2     *http2.Server // with http2
	h2base *http.Server  // its configuration; Shutdown sends GOAWAY

	runMu sync.Mutex // serialises runCase

	mu      sync.Mutex
	res     *Results
	done    map[string]bool // agent + " " + id: a result exists
	changed chan struct{}   // closed and replaced when a result is added
	ln      net.Listener
	conns   map[net.Conn]struct{}
	stopped bool
	wg      sync.WaitGroup
}

// NewFuzzingServer returns a server for spec. Start it with [FuzzingServer.Serve]
// or [FuzzingServer.ListenAndServe]. For a wss:// url it sets up TLS (see
// [Options.TLSServerConfig]); with HTTP/2 it returns [ErrNoExtendedConnect]
// if the process cannot take extended CONNECT requests.
func NewFuzzingServer(spec *ServerSpec, opts *Options) (*FuzzingServer, error) {
	o := opts.withDefaults()
	if _, err := o.ApplyProtocolOptions(spec.Options, ModeFuzzingServer); err != nil {
		return nil, fmt.Errorf("autobahn: options: %w", err)
	}
	if err := CheckPatterns(spec.Cases, spec.ExcludeCases, spec.ExcludeAgentCases); err != nil {
		return nil, err
	}
	cases := casesForMode(SelectCases(spec.Cases, spec.ExcludeCases), ModeFuzzingServer, o.Progress)
	if len(cases) == 0 {
		return nil, ErrNoCases
	}
	s := &FuzzingServer{
		spec:    spec,
		o:       o,
		cases:   cases,
		res:     &Results{Mode: ModeFuzzingServer, Started: time.Now()},
		done:    make(map[string]bool),
		changed: make(chan struct{}),
		conns:   make(map[net.Conn]struct{}),
	}
	s.http2 = spec.HTTP2 || s.o.HTTP2
	if s.http2 {
		if !extendedConnectEnabled() {
			return nil, ErrNoExtendedConnect
		}
		var err error
		if s.h2, s.h2base, err = newH2Server(); err != nil {
			return nil, err
		}
	}
	if spec.URL != "" {
		u, err := parseWSURL(spec.URL)
		if err != nil {
			return nil, err
		}
		if u.secure {
			if s.tls, err = serverTLSConfig(u, spec, s.o, s.http2); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// serverTLSConfig is the TLS configuration of a wss:// fuzzing server:
// the spec's cert and key, opts.TLSServerConfig, or a self-signed
// certificate made now.
func serverTLSConfig(u *wsURL, spec *ServerSpec, o *Options, h2 bool) (*tls.Config, error) {
	cfg := o.TLSServerConfig.Clone()
	if spec.Cert != "" {
		cert, err := tls.LoadX509KeyPair(spec.Cert, spec.Key)
		if err != nil {
			return nil, fmt.Errorf("autobahn: the spec's cert and key: %w", err)
		}
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if cfg == nil {
		hosts := []string{u.hostname}
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			if !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		cert, _, err := tlscert.SelfSigned(hosts...)
		if err != nil {
			return nil, fmt.Errorf("autobahn: self-signed certificate: %w", err)
		}
		fmt.Fprintf(o.Progress, "autobahn: serving %s with a self-signed certificate made now for %s (SHA-256 %X); testees must skip verification\n",
			u.base(), strings.Join(hosts, ", "), sha256.Sum256(cert.Certificate[0]))
		cfg = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return nil, errors.New("autobahn: Options.TLSServerConfig has no certificate")
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"}
		if h2 {
			cfg.NextProtos = []string{http2.NextProtoTLS, "http/1.1"}
		}
	}
	return cfg, nil
}

// CaseCount returns the number of selected cases.
func (s *FuzzingServer) CaseCount() int { return len(s.cases) }

// ListenAndServe listens on the host and port of the spec's url and serves
// until /stopServer, [FuzzingServer.Close] or the end of ctx. A wss:// url
// without a port listens on 443.
func (s *FuzzingServer) ListenAndServe(ctx context.Context) error {
	u, err := parseWSURL(s.spec.URL)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", u.addr)
	if err != nil {
		return fmt.Errorf("autobahn: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	return s.Serve(ln)
}

// Serve accepts testee clients on ln until /stopServer or
// [FuzzingServer.Close], then waits for the connections in progress and
// returns nil. It closes ln. It speaks TLS on the connections if the
// spec's url is wss://.
func (s *FuzzingServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	defer s.wg.Wait()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			stopped := s.stopped
			s.mu.Unlock()
			if stopped {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("autobahn: accept: %w", err)
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}

// Close stops the server: it closes the listener and every open connection.
func (s *FuzzingServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for c := range s.conns {
		c.Close()
	}
	if s.ln != nil {
		return s.ln.Close()
	}
	return nil
}

// stop ends Serve without cutting the connections in progress. HTTP/2
// connections get a GOAWAY: idle ones close, busy ones when their streams
// are done.
func (s *FuzzingServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.ln != nil {
		s.ln.Close()
	}
	if s.h2base != nil {
		s.h2base.Shutdown(context.Background()) // it tracks no connection: returns at once
	}
}

// Results returns a copy of the results so far.
func (s *FuzzingServer) Results() *Results {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := *s.res
	r.Cases = append([]*CaseResult(nil), s.res.Cases...)
	r.Finished = time.Now()
	return &r
}

func (s *FuzzingServer) addResult(cr *CaseResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res.Cases = append(s.res.Cases, cr)
	s.done[cr.Agent+" "+cr.ID] = true
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *FuzzingServer) serveConn(nc net.Conn) {
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	started := time.Now()
	nc.SetDeadline(deadline(started, s.o.OpenHandshakeTimeout))
	secure := s.tls != nil
	if secure {
		tc := tls.Server(nc, s.tls)
		if err := tc.Handshake(); err != nil {
			return
		}
		if tc.ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
			if s.http2 {
				s.serveH2(tc, true)
			}
			return
		}
		nc = tc
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	if s.http2 && !secure && hasH2Preface(br) {
		s.serveH2(&prefacedConn{Conn: nc, r: br}, false)
		return
	}
	raw, err := readHeaderBlock(br)
	if err != nil {
		return // no request within the opening-handshake timeout
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		nc.Write(handshakeRejection(http.StatusBadRequest, "malformed request"))
		return
	}
	key, status, err := checkClientRequest(req, s.o.AcceptVersions)
	if err != nil {
		nc.Write(handshakeRejection(status, err.Error()))
		return
	}
	s.dispatch(&exchange{
		started: started, raw: string(raw), url: req.URL, header: req.Header, tls: secure,
		nc: nc, br: br, key: key,
	})
}

// exchange is a testee client's opening handshake that passed the
// WebSocket checks: an HTTP/1.1 upgrade read and answered by the fuzzer
// itself, or an HTTP/2 extended CONNECT read by the HTTP/2 server.
type exchange struct {
	started time.Time
	raw     string // the request, as the reports show it
	url     *url.URL
	header  http.Header
	tls     bool

	// After accept (HTTP/1.1: from the start), the WebSocket.
	nc net.Conn
	br *bufio.Reader

	key string // HTTP/1.1: Sec-WebSocket-Key

	w http.ResponseWriter // HTTP/2
	r *http.Request
}

func (x *exchange) http2() bool { return x.w != nil }

// reject answers with an HTTP error status and msg.
func (x *exchange) reject(status int, msg string) {
	if !x.http2() {
		x.nc.Write(handshakeRejection(status, msg))
		return
	}
	if status == http.StatusUpgradeRequired {
		x.w.Header().Set("Sec-WebSocket-Version", "13")
	}
	http.Error(x.w, msg, status)
}

// accept completes the opening handshake with the permessage-deflate
// response ext (or none) and writes frames after it, the deadline applying
// to the writes. It returns the response as the reports show it. From then
// on x.nc and x.br carry the WebSocket.
func (x *exchange) accept(serverName, ext string, deadline time.Time, frames []byte) (string, error) {
	if !x.http2() {
		resp := serverResponse(x.key, serverName, ext)
		x.nc.SetDeadline(deadline)
		_, err := x.nc.Write(append(resp, frames...))
		return string(resp), err
	}
	// RFC 8441, Section 5: a 2xx answer, with no Sec-WebSocket-Accept.
	h := x.w.Header()
	h.Set("Server", serverName)
	if ext != "" {
		h.Set("Sec-WebSocket-Extensions", ext)
	}
	x.w.WriteHeader(http.StatusOK)
	resp := renderH2Response(http.StatusOK, h)
	sc, err := h2stream.Server(x.w, x.r)
	if err != nil {
		return resp, err
	}
	x.nc = &h2ServerConn{Conn: sc}
	x.br = bufio.NewReaderSize(x.nc, 64<<10)
	x.nc.SetReadDeadline(deadline)
	if len(frames) > 0 {
		// A write deadline that passes resets the stream, write or not:
		// keep it to the write.
		x.nc.SetWriteDeadline(deadline)
		_, err = x.nc.Write(frames)
		x.nc.SetWriteDeadline(time.Time{})
	}
	return resp, err
}

// close releases an HTTP/2 stream's conn before the handler returns.
func (x *exchange) close() {
	if x.http2() && x.nc != nil {
		x.nc.Close()
	}
}

// dispatch serves the endpoint a testee client asked for.
func (s *FuzzingServer) dispatch(x *exchange) {
	q := x.url.Query()
	switch x.url.Path {
	case "/getCaseCount":
		s.reply(x, []byte(strconv.Itoa(len(s.cases))))
	case "/getCaseInfo":
		c := s.caseFromQuery(q.Get("case"), q.Get("casetuple"))
		if c == nil {
			x.reject(http.StatusBadRequest, "unknown case")
			return
		}
		b, _ := json.Marshal(map[string]string{"id": c.ID, "description": c.Title})
		s.reply(x, b)
	case "/getCaseStatus":
		c := s.caseFromQuery(q.Get("case"), q.Get("casetuple"))
		agent := q.Get("agent")
		if c == nil || agent == "" {
			x.reject(http.StatusBadRequest, "need a known case and an agent")
			return
		}
		b, _ := json.Marshal(map[string]string{"behavior": s.waitStatus(agent, c.ID)})
		s.reply(x, b)
	case "/updateReports":
		// Wait for a runCase that is finishing, with or without an
		// outdir: a caller that reads Results after updateReports (as
		// wstest does with no outdir) must find every case that ran.
		s.runMu.Lock()
		msg := "reports written"
		if s.spec.OutDir != "" {
			if err := WriteReports(s.spec.OutDir, s.Results()); err != nil {
				msg = err.Error()
			}
		}
		s.runMu.Unlock()
		s.reply(x, []byte(msg))
	case "/stopServer":
		s.reply(x, []byte("stopping"))
		s.stop()
	case "/runCase":
		c := s.caseFromQuery(q.Get("case"), q.Get("casetuple"))
		agent := q.Get("agent")
		if c == nil || agent == "" {
			x.reject(http.StatusBadRequest, "need a known case and an agent")
			return
		}
		offers, err := parseOffers(x.header.Get("Sec-WebSocket-Extensions"))
		if err != nil {
			x.reject(http.StatusBadRequest, err.Error())
			return
		}
		if ExcludedForAgent(s.spec.ExcludeAgentCases, agent, c.ID) {
			s.reply(x, nil)
			return
		}
		s.runMu.Lock()
		defer s.runMu.Unlock()
		if c.extra != nil && c.extra.server != nil {
			cr := c.extra.server(s, x, agent)
			s.addResult(cr)
			s.o.progress(s.positionOf(c), len(s.cases), cr)
			return
		}
		var pm *Negotiated
		if c.PMCE != nil {
			pm = acceptOffer(c.PMCE.ServerAcceptOrder, offers)
		}
		ext := ""
		if pm != nil {
			ext = pm.Response
		}
		// The previous case may have held the lock: the handshake
		// timeout starts now.
		resp, err := x.accept(s.o.ServerName, ext, deadline(time.Now(), s.o.OpenHandshakeTimeout), nil)
		if err != nil {
			cr := handshakeFailedResult(c, agent, ModeFuzzingServer, false, x.started, "write response: "+err.Error(), isTimeout(err), x.raw, resp)
			cr.TLS, cr.HTTP2, cr.Index = x.tls, x.http2(), s.positionOf(c)
			s.addResult(cr)
			return
		}
		sess := &session{
			nc: x.nc, br: x.br, client: false, pmce: pm,
			agent: agent, mode: ModeFuzzingServer,
			request: x.raw, response: resp,
			rawRequest: []byte(x.raw), rawResponse: []byte(resp),
			opened: time.Now(), tls: x.tls, http2: x.http2(),
		}
		cr := runCase(context.Background(), c, sess, s.o)
		cr.Index = s.positionOf(c) // the N of case=N, as in the suite
		s.addResult(cr)
		s.o.progress(s.positionOf(c), len(s.cases), cr)
	default:
		x.reject(http.StatusNotFound, "unknown endpoint")
	}
}

func (s *FuzzingServer) positionOf(c *Case) int {
	for i, x := range s.cases {
		if x == c {
			return i + 1
		}
	}
	return 0
}

// caseFromQuery resolves case=N (1-based among the selected cases) or
// casetuple=ID (a selected case).
func (s *FuzzingServer) caseFromQuery(n, tuple string) *Case {
	if tuple != "" {
		for _, c := range s.cases {
			if c.ID == tuple {
				return c
			}
		}
		return nil
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 1 || i > len(s.cases) {
		return nil
	}
	return s.cases[i-1]
}

// waitStatus returns the headline verdict of a case for an agent, waiting up
// to 10 s for a run that is finishing; "MISSING" if there is none.
func (s *FuzzingServer) waitStatus(agent, id string) string {
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		ch := s.changed
		if s.done[agent+" "+id] {
			r := s.res.Lookup(agent, id)
			s.mu.Unlock()
			return r.Behavior
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return "MISSING"
		}
	}
}

// reply completes the handshake, sends msg as one text message (none if
// nil), closes with 1000 and waits up to 1 s for the client's close before
// dropping TCP (or ending the HTTP/2 stream).
func (s *FuzzingServer) reply(x *exchange, msg []byte) {
	var b []byte
	if msg != nil {
		b = frame.AppendFrame(b, frame.Header{Fin: true, Opcode: frame.OpText}, msg)
	}
	b = frame.AppendFrame(b, frame.Header{Fin: true, Opcode: frame.OpClose}, binary.BigEndian.AppendUint16(nil, 1000))
	if _, err := x.accept(s.o.ServerName, "", time.Now().Add(max(s.o.CloseHandshakeTimeout, time.Second)), b); err != nil {
		return
	}
	awaitClose(x.br)
}

// awaitClose reads frames until a close frame, an error or the deadline.
func awaitClose(br *bufio.Reader) {
	var hb [frame.MaxHeaderSize]byte
	for {
		h, err := frame.ReadHeader(br, &hb)
		if err != nil || h.Length > 1<<20 {
			return
		}
		if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
			return
		}
		if h.Opcode == frame.OpClose {
			return
		}
	}
}
