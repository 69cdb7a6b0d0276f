package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wirelevel/ws/frame"
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
type FuzzingServer struct {
	spec  *ServerSpec
	o     *Options
	cases []*Case

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
// or [FuzzingServer.ListenAndServe].
func NewFuzzingServer(spec *ServerSpec, opts *Options) (*FuzzingServer, error) {
	cases := SelectCases(spec.Cases, spec.ExcludeCases)
	if len(cases) == 0 {
		return nil, errors.New("autobahn: server spec selects no cases")
	}
	return &FuzzingServer{
		spec:    spec,
		o:       opts.withDefaults(),
		cases:   cases,
		res:     &Results{Mode: ModeFuzzingServer, Started: time.Now()},
		done:    make(map[string]bool),
		changed: make(chan struct{}),
		conns:   make(map[net.Conn]struct{}),
	}, nil
}

// CaseCount returns the number of selected cases.
func (s *FuzzingServer) CaseCount() int { return len(s.cases) }

// ListenAndServe listens on the host and port of the spec's url and serves
// until /stopServer, [FuzzingServer.Close] or the end of ctx.
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
// returns nil. It closes ln.
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

// stop ends Serve without cutting the connections in progress.
func (s *FuzzingServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.ln != nil {
		s.ln.Close()
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
	nc.SetDeadline(started.Add(s.o.OpenHandshakeTimeout))
	br := bufio.NewReaderSize(nc, 64<<10)
	raw, err := readHeaderBlock(br)
	if err != nil {
		return // no request within the opening-handshake timeout
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		nc.Write(handshakeRejection(http.StatusBadRequest, "malformed request"))
		return
	}
	key, status, err := checkClientRequest(req)
	if err != nil {
		nc.Write(handshakeRejection(status, err.Error()))
		return
	}
	q := req.URL.Query()
	reject := func(status int, msg string) { nc.Write(handshakeRejection(status, msg)) }
	switch req.URL.Path {
	case "/getCaseCount":
		s.reply(nc, br, key, []byte(strconv.Itoa(len(s.cases))))
	case "/getCaseInfo":
		c := s.caseFromQuery(q.Get("case"), q.Get("casetuple"))
		if c == nil {
			reject(http.StatusBadRequest, "unknown case")
			return
		}
		b, _ := json.Marshal(map[string]string{"id": c.ID, "description": c.Title})
		s.reply(nc, br, key, b)
	case "/getCaseStatus":
		c := s.caseFromQuery(q.Get("case"), q.Get("casetuple"))
		agent := q.Get("agent")
		if c == nil || agent == "" {
			reject(http.StatusBadRequest, "need a known case and an agent")
			return
		}
		b, _ := json.Marshal(map[string]string{"behavior": s.waitStatus(agent, c.ID)})
		s.reply(nc, br, key, b)
	case "/updateReports":
		msg := "reports written"
		if s.spec.OutDir != "" {
			// Wait for a runCase that is finishing.
			s.runMu.Lock()
			err := WriteReports(s.spec.OutDir, s.Results())
			s.runMu.Unlock()
			if err != nil {
				msg = err.Error()
			}
		}
		s.reply(nc, br, key, []byte(msg))
	case "/stopServer":
		s.reply(nc, br, key, []byte("stopping"))
		s.stop()
	case "/runCase":
		c := s.caseFromQuery(q.Get("case"), q.Get("casetuple"))
		agent := q.Get("agent")
		if c == nil || agent == "" {
			reject(http.StatusBadRequest, "need a known case and an agent")
			return
		}
		offers, err := parseOffers(req.Header.Get("Sec-WebSocket-Extensions"))
		if err != nil {
			reject(http.StatusBadRequest, err.Error())
			return
		}
		if ExcludedForAgent(s.spec.ExcludeAgentCases, agent, c.ID) {
			s.reply(nc, br, key, nil)
			return
		}
		s.runMu.Lock()
		defer s.runMu.Unlock()
		// The previous case may have held the lock: the handshake
		// timeout starts now.
		nc.SetDeadline(time.Now().Add(s.o.OpenHandshakeTimeout))
		var pm *Negotiated
		if c.PMCE != nil {
			pm = acceptOffer(c.PMCE.ServerAcceptOrder, offers)
		}
		ext := ""
		if pm != nil {
			ext = pm.Response
		}
		resp := serverResponse(key, s.o.ServerName, ext)
		if _, err := nc.Write(resp); err != nil {
			s.addResult(handshakeFailedResult(c, agent, ModeFuzzingServer, false, started, "write response: "+err.Error(), isTimeout(err), string(raw), string(resp)))
			return
		}
		sess := &session{
			nc: nc, br: br, client: false, pmce: pm,
			agent: agent, mode: ModeFuzzingServer,
			request: string(raw), response: string(resp),
			opened: time.Now(),
		}
		cr := runCase(context.Background(), c, sess, s.o)
		s.addResult(cr)
		fmt.Fprint(s.o.Progress, progressLine(s.positionOf(c), len(s.cases), cr))
	default:
		reject(http.StatusNotFound, "unknown endpoint")
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
// dropping TCP.
func (s *FuzzingServer) reply(nc net.Conn, br *bufio.Reader, key string, msg []byte) {
	b := serverResponse(key, s.o.ServerName, "")
	if msg != nil {
		b = frame.AppendFrame(b, frame.Header{Fin: true, Opcode: frame.OpText}, msg)
	}
	b = frame.AppendFrame(b, frame.Header{Fin: true, Opcode: frame.OpClose}, binary.BigEndian.AppendUint16(nil, 1000))
	nc.SetDeadline(time.Now().Add(s.o.CloseHandshakeTimeout))
	if _, err := nc.Write(b); err != nil {
		return
	}
	awaitClose(br)
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
