package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/wirelevel/ws/frame"
)

// session is an open WebSocket connection, after the opening handshake, on
// which one case runs.
type session struct {
	nc       net.Conn
	br       *bufio.Reader // holds any bytes read past the handshake
	client   bool          // the fuzzer is the client: it masks, the server drops TCP
	mask     bool          // the fuzzer masks its frames (set by runCase)
	pmce     *Negotiated   // nil without permessage-deflate
	agent    string
	mode     string
	request  string
	response string
	opened   time.Time // when the handshake completed
	tls      bool      // over TLS
	http2    bool      // nc is an HTTP/2 stream (RFC 8441), not a TCP connection
	url      string    // fuzzingclient: the testee server's URL
	// request and response are the handshake as the reports show it;
	// rawRequest and rawResponse, if set, as it crossed the wire (HTTP/1.1).
	rawRequest, rawResponse []byte
}

// wsState is the fuzzer's WebSocket state.
type wsState uint8

const (
	stOpen    wsState = iota
	stClosing         // the fuzzer sent the first close frame and waits for the reply
	stClosed          // close frames went both ways; waiting for TCP to go
)

// runner is the state machine of one case: it plays the steps, reacts to
// the reader's events and to timers, and gathers the facts the verdicts use.
// It runs on one goroutine; only the reader and writer run beside it.
type runner struct {
	c   *Case
	o   *Options
	s   *session
	log *wireLog
	w   *wireWriter
	evc chan rdEvent

	state   wsState
	pc      int // next step
	pausing *Step
	stream  frame.Header // header of the streamed frame (6.4.3, 6.4.4)
	spos    int          // masking position in the streamed payload

	mainT, pauseT, closeT, dropT *time.Timer
	mainKind                     string

	// Facts for the verdicts (CASES.md, Section A.7).
	fuzzerInitiated bool
	gotClose        bool   // a valid close frame came from the testee
	badClose        string // why the testee's close frame was invalid, if it was
	hasRemoteCode   bool   // the testee's close frame, valid or not, carried a status code
	remoteCode      int
	remoteReason    []byte
	localCode       *int
	localReason     []byte
	failed          bool
	failReason      string
	failDropped     bool // the fuzzer failed the connection by dropping TCP (failByDrop)
	dropped         bool
	closeTimeout    bool
	dropTimeout     bool
	timeLimit       bool // the close timer (the time limit of 9.x, 12.x, 13.x) fired while open
	killed          bool // the kill timer fired while open
	safety          bool
	canceled        bool
	gone            bool

	events  []Event
	nEvents int

	// Section 16.
	lastPing                  []byte     // the payload of the last ping of a flood
	gate                      *readGate  // pauses the reading of the connection
	stallStart                time.Time  // when the fuzzer stopped reading
	stallWritten, stallQueued int64      // what the testee took, and what was left, when it read again
	side                      chan error // the result of an echo on a second connection

	// Evaluators (9.x, 12.x, 13.x).
	headline, headlineWhy string
	evalDone              bool
	seq                   *Step // 9.7, 9.8
	seqPayload            []byte
	seqOK                 int
	ds                    *Dataset // 12.x, 13.x
	defl                  *deflater
	cmpK                  int
	cmpSHA                [sha1.Size]byte
	rawOut, wireOut       int64
	rawIn, wireIn         int64
}

// maxEvaluatorEvents is how many events an evaluator case lists in its
// report (it counts all of them).
const maxEvaluatorEvents = 20

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stopTimer(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// runCase runs case c on an open session and returns its result. It owns
// s.nc and closes it.
func runCase(ctx context.Context, c *Case, s *session, o *Options) *CaseResult {
	r := &runner{
		c:   c,
		o:   o,
		s:   s,
		log: newWireLog(s.opened, o.WireLogLimit),
		evc: make(chan rdEvent, 64),
	}
	if tc, ok := s.nc.(*net.TCPConn); ok {
		tc.SetNoDelay(!o.NoTCPNoDelay)
	}
	s.mask = s.client && !o.UnmaskedClientFrames || !s.client && o.MaskedServerFrames
	s.nc.SetDeadline(time.Time{})
	testee := frame.Server
	if !s.client {
		testee = frame.Client
	}
	// The wire log starts with the handshake, as the suite's does, and
	// then logs every read.
	if s.client {
		r.log.addOctets(dirTx, [][]byte{s.rawRequest}, false)
		r.log.addOctets(dirRx, [][]byte{s.rawResponse}, false)
	} else {
		r.log.addOctets(dirRx, [][]byte{s.rawRequest}, false)
		r.log.addOctets(dirTx, [][]byte{s.rawResponse}, false)
	}
	r.log.resetStats() // the statistics count what follows the handshake
	pre, _ := s.br.Peek(s.br.Buffered())
	if len(pre) > 0 {
		r.log.addOctets(dirRx, [][]byte{pre}, false)
	}
	r.gate = &readGate{}
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(clone(pre)), octetLogger{s.nc, r.log, r.gate}), 64<<10)
	fr := &frameReader{br: br, from: testee, maxMsg: o.MaxMessageSize, maxFrame: o.MaxFramePayloadSize, log: r.log, out: r.evc,
		noUTF8: o.NoUTF8Validation, noUnmask: o.NoApplyMask,
		wrongMasking: (s.client && o.AcceptMaskedServerFrames) || (!s.client && o.AcceptUnmaskedClientFrames)}
	if s.pmce != nil {
		fr.allowRSV = frame.RSV1
		fr.inflate = new(inflater)
	}
	go fr.run()
	r.w = newWireWriter(s.nc, r.log, o.ChopPause)

	safety := time.NewTimer(o.safetyTimeout(c))
	defer safety.Stop()
	done := ctx.Done()

	r.continueSteps()
	for !r.gone {
		select {
		case ev := <-r.evc:
			r.handle(ev)
		case <-timerC(r.mainT):
			r.mainT = nil
			r.onMainTimer()
		case <-timerC(r.pauseT):
			r.pauseT = nil
			r.onPause()
		case <-timerC(r.closeT):
			r.closeT = nil
			if !r.gotClose {
				r.closeTimeout = true
				r.drop(true)
			}
		case <-timerC(r.dropT):
			r.dropT = nil
			r.dropTimeout = true
			r.drop(true)
		case <-safety.C:
			r.safety = true
			r.drop(true)
		case <-done:
			done = nil
			r.canceled = true
			r.drop(true)
		}
	}
	for _, t := range []**time.Timer{&r.mainT, &r.pauseT, &r.closeT, &r.dropT} {
		stopTimer(t)
	}
	r.gate.resume()
	s.nc.Close()
	r.w.stop()
	return r.result(time.Since(s.opened))
}

// continueSteps issues steps back to back until a pause or the end.
func (r *runner) continueSteps() {
	for r.pc < len(r.c.Steps) {
		st := &r.c.Steps[r.pc]
		r.pc++
		if suspend := stepHandlers[st.Do](r, st); suspend {
			return
		}
	}
}

// stepHandlers implements every step kind. A handler returns true to
// suspend the steps (a pause). The catalogue is checked against this table
// when it loads, so no case can hold a step the engine would skip.
var stepHandlers map[string]func(r *runner, st *Step) (suspend bool)

func init() {
	// Set in init: the handlers refer, through the datasets, back to the
	// catalogue check that consults this table.
	stepHandlers = stepHandlerTable()
	for k, h := range limitStepHandlers() {
		stepHandlers[k] = h
	}
}

func stepHandlerTable() map[string]func(r *runner, st *Step) bool {
	return map[string]func(r *runner, st *Step) bool{
		StepFrame: func(r *runner, st *Step) bool {
			r.sendFrame(frame.Opcode(st.Opcode), st.Fin, byte(st.Rsv), st.Payload.Bytes(), st.Chop, st.Sync, "")
			return false
		},
		StepMessage: func(r *runner, st *Step) bool {
			op := frame.OpText
			if st.Binary {
				op = frame.OpBinary
			}
			size := st.FragmentSize
			switch {
			case st.AutoFragmentSize > 0:
				size = st.AutoFragmentSize
			case size == 0:
				size = r.o.AutoFragmentSize
			}
			r.sendMessage(op, st.Payload.Bytes(), size, 0)
			return false
		},
		StepClose: func(r *runner, st *Step) bool {
			var p []byte
			if st.Code != nil {
				p = binary.BigEndian.AppendUint16(p, uint16(*st.Code))
			}
			if st.Reason != nil {
				p = append(p, st.Reason.Bytes()...)
			}
			r.initiateClose(st.Code, p)
			return false
		},
		StepPause: func(r *runner, st *Step) bool {
			r.pausing = st
			r.log.timer(WirePause, st.Seconds, st.Tag)
			r.pauseT = time.NewTimer(r.seconds(st.Seconds))
			return true
		},
		StepFrameHeaderOnly: func(r *runner, st *Step) bool {
			h := frame.Header{Fin: st.Fin, Opcode: frame.Opcode(st.Opcode), Masked: r.s.mask, Length: st.Length}
			if h.Masked {
				h.Mask = maskKey()
			}
			r.stream, r.spos = h, 0
			r.log.add(dirTx, h, nil, 0, false, "header only; payload follows in chunks")
			r.w.enqueue(writeItem{b: frame.AppendHeader(nil, h)})
			return false
		},
		StepFramePayloadChunk: func(r *runner, st *Step) bool {
			p := st.Payload.Bytes()
			r.log.addChunk(dirTx, frame.Header{Opcode: r.stream.Opcode, Masked: r.stream.Masked, Mask: r.stream.Mask, Length: int64(len(p))}, p,
				"payload chunk of the streamed frame")
			if r.stream.Masked && !r.o.NoApplyMask {
				r.spos = frame.Mask(r.stream.Mask, r.spos, p)
			}
			r.w.enqueue(writeItem{b: p})
			return false
		},
		StepEndStreamed: func(r *runner, st *Step) bool {
			r.sendFrame(frame.OpContinuation, true, 0, nil, 0, false, "")
			return false
		},
		StepKillAfter: func(r *runner, st *Step) bool {
			r.log.timer(WireKill, st.Seconds, "")
			r.mainKind, r.mainT = timerKill, time.NewTimer(r.seconds(st.Seconds))
			return false
		},
		StepCloseAfter: func(r *runner, st *Step) bool {
			r.log.timer(WireTimer, st.Seconds, "")
			r.mainKind, r.mainT = timerClose, time.NewTimer(r.seconds(st.Seconds))
			return false
		},
		StepSequentialEcho: func(r *runner, st *Step) bool {
			r.seq = st
			r.seqPayload = st.Message.Payload.Bytes()
			r.sendSeq()
			return false
		},
		StepCompressedEchoLoop: func(r *runner, st *Step) bool {
			r.startCompressed()
			return false
		},
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// seconds returns the duration of a step's seconds: as given for the
// suite's cases, scaled by extraScale for those after 13.
func (r *runner) seconds(s float64) time.Duration {
	if r.c.extra != nil {
		return scaled(s)
	}
	return seconds(s)
}

// sendFrame queues one frame, masked with a fresh key in client mode.
func (r *runner) sendFrame(op frame.Opcode, fin bool, rsv byte, payload []byte, chop int, sync bool, note string) {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: r.s.mask, Length: int64(len(payload))}
	if h.Masked {
		h.Mask = maskKey()
	}
	r.log.add(dirTx, h, payload, chop, sync, note)
	r.w.enqueue(writeItem{b: r.appendFrame(nil, h, payload), chop: chop, sync: sync})
}

// appendFrame appends a frame, its payload masked unless the spec's
// applyMask is false.
func (r *runner) appendFrame(b []byte, h frame.Header, payload []byte) []byte {
	if h.Masked && r.o.NoApplyMask {
		return append(frame.AppendHeader(b, h), payload...)
	}
	return frame.AppendFrame(b, h, payload)
}

// sendMessage queues a data message cut into frames by fragment; rsv goes on
// the first frame only.
func (r *runner) sendMessage(op frame.Opcode, payload []byte, size int, rsv byte) {
	bounds := fragment(len(payload), size)
	b := make([]byte, 0, len(payload)+(len(bounds)-1)*frame.MaxHeaderSize)
	for i := 0; i+1 < len(bounds); i++ {
		h := frame.Header{Fin: i+2 == len(bounds), Opcode: op, Rsv: rsv, Masked: r.s.mask}
		if i > 0 {
			h.Opcode, h.Rsv = frame.OpContinuation, 0
		}
		if h.Masked {
			h.Mask = maskKey()
		}
		p := payload[bounds[i]:bounds[i+1]]
		h.Length = int64(len(p))
		r.log.add(dirTx, h, p, 0, false, "")
		b = r.appendFrame(b, h, p)
	}
	r.w.enqueue(writeItem{b: b})
}

// initiateClose sends the fuzzer's first close frame with payload p (code
// holds its status code, or nil) and arms the close-handshake timer. It
// does nothing unless the connection is open.
func (r *runner) initiateClose(code *int, p []byte) {
	if r.state != stOpen || r.dropped {
		return
	}
	r.sendFrame(frame.OpClose, true, 0, p, 0, false, "")
	r.state = stClosing
	r.fuzzerInitiated = true
	r.localCode = code
	if code != nil && len(p) > 2 {
		r.localReason = p[2:]
	} else if code == nil && len(p) > 0 {
		r.localReason = p
	}
	if r.c.Evaluator != nil {
		r.evalDone = true
	}
	r.closeT = newTimer(r.o.CloseHandshakeTimeout)
}

func (r *runner) closeWith(code int, reason string) {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	r.initiateClose(&code, append(p, reason...))
}

// drop closes TCP. A graceful drop lets queued writes (a close reply) go
// first, bounded by a write deadline; an abort closes at once.
func (r *runner) drop(abort bool) {
	if r.dropped {
		if abort {
			r.s.nc.Close()
		}
		return
	}
	r.dropped = true
	if abort {
		r.s.nc.Close()
		return
	}
	r.s.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	r.w.enqueue(writeItem{closeConn: true})
}

func (r *runner) handle(ev rdEvent) {
	switch ev.kind {
	case rdMessage:
		r.rawIn += int64(len(ev.payload))
		r.wireIn += int64(ev.wireLen)
		if r.c.Evaluator != nil {
			r.record(newEvent(expectedEventMessage, ev.binary, ev.payload, false))
			r.evaluate(ev)
			return
		}
		r.record(newEvent(expectedEventMessage, ev.binary, ev.payload, true))
		r.autoClose()
		r.react(ev)
	case rdPong:
		keep := r.c.Evaluator == nil
		r.record(newEvent(expectedEventPong, false, ev.payload, keep))
		if keep {
			r.autoClose()
		}
		r.react(ev)
	case rdPing:
		// Pings are answered while open and not recorded (A.3).
		if r.state == stOpen && !r.dropped {
			r.sendFrame(frame.OpPong, true, 0, ev.payload, 0, false, "")
		}
	case rdClose:
		r.onClose(ev)
	case rdBadClose:
		// The testee's close code counts although its close frame is
		// invalid, as in the suite; the frame is a violation all the same,
		// so it does not complete a closing handshake (DECISIONS.md, item
		// 21).
		r.badClose = ev.failMsg
		r.hasRemoteCode, r.remoteCode, r.remoteReason = true, ev.code, nil
		r.fail(ev.failCode, ev.failMsg)
	case rdFail:
		r.fail(ev.code, ev.failMsg)
	case rdGone:
		r.gone = true
	}
}

// react lets a case of a section after 13 act on an event.
func (r *runner) react(ev rdEvent) {
	if r.c.extra != nil && r.c.extra.react != nil && r.state == stOpen && !r.dropped {
		r.c.extra.react(r, ev)
	}
}

// fail fails the connection (A.5): while open the fuzzer sends a close frame
// with code and msg as its reason, otherwise it drops TCP; with the spec's
// failByDrop it drops TCP at once. The first violation gives the reason
// reported.
func (r *runner) fail(code int, msg string) {
	if !r.failed {
		r.failed, r.failReason = true, msg
	}
	if r.o.FailByDrop {
		r.failDropped = true
		r.drop(true)
		return
	}
	if r.state == stOpen {
		if len(msg) > frame.MaxCloseReason {
			msg = msg[:frame.MaxCloseReason]
		}
		r.closeWith(code, msg)
	} else {
		r.drop(true)
	}
}

func (r *runner) record(e Event) {
	r.nEvents++
	if e.data == nil && r.c.Evaluator != nil && len(r.events) >= maxEvaluatorEvents {
		return
	}
	r.events = append(r.events, e)
}

// autoClose sends the case's first accepted code once the events equal
// every outcome list (A.3, item 4). A case without outcome lists never
// auto-closes (DECISIONS.md, item 10).
func (r *runner) autoClose() {
	c := r.c
	if r.state != stOpen || c.SuppressAutoClose || !c.Close.FuzzerClosesFirst || len(c.Outcomes) == 0 {
		return
	}
	for _, l := range c.outcomeLabels() {
		if !eventsMatch(r.events, c.Outcomes[l]) {
			return
		}
	}
	r.closeWith(c.Close.AcceptedCodes[0], "")
}

func (r *runner) onClose(ev rdEvent) {
	r.gotClose = true
	r.hasRemoteCode, r.remoteCode, r.remoteReason = ev.code != 0, ev.code, ev.reason
	switch r.state {
	case stOpen:
		// The testee closes first: reply 1000, whatever its code (A.5),
		// unless the spec's echoCloseCodeReason asks for its own.
		r.state = stClosed
		code := 1000
		reply := binary.BigEndian.AppendUint16(nil, 1000)
		if r.o.EchoCloseCodeReason {
			reply = nil
			if ev.code != 0 {
				code = ev.code
				reply = append(binary.BigEndian.AppendUint16(nil, uint16(code)), ev.reason...)
				r.localReason = clone(ev.reason)
			}
		}
		r.sendFrame(frame.OpClose, true, 0, reply, 0, false, "")
		if reply != nil {
			r.localCode = &code
		}
		if r.c.Evaluator != nil {
			r.evalDone = true
		}
		if !r.s.client {
			r.drop(false)
		}
	case stClosing:
		stopTimer(&r.closeT)
		r.state = stClosed
		if r.s.client {
			r.dropT = newTimer(r.o.ServerDropTimeout)
		} else {
			r.drop(false)
		}
	}
}

func (r *runner) onMainTimer() {
	if r.dropped {
		return
	}
	switch r.mainKind {
	case timerKill:
		r.log.timer(WireKillFire, 0, "")
		switch {
		case r.o.FailByDrop:
			r.failDropped = true
			r.drop(true)
		case r.state == stOpen:
			r.killed = true
			r.closeWith(1001, "Going Away")
		default:
			r.drop(true)
		}
	case timerClose:
		r.log.timer(WireTimeFire, 0, "")
		if r.state == stOpen {
			r.timeLimit = true
			r.initiateClose(nil, nil)
		}
	}
}

func (r *runner) onPause() {
	st := r.pausing
	r.pausing = nil
	if r.state != stOpen || r.dropped {
		r.pc = len(r.c.Steps)
		return
	}
	r.log.timer(WirePauseEnd, 0, st.Tag)
	if st.RecordTimeoutIfOpen {
		r.record(Event{Type: expectedEventTimeout, Tag: st.Tag})
	}
	r.continueSteps()
}

// sendSeq sends the next message of a 9.7/9.8 sequential echo loop.
func (r *runner) sendSeq() {
	m := r.seq.Message
	r.sendFrame(frame.Opcode(m.Opcode), m.Fin, byte(m.Rsv), r.seqPayload, m.Chop, m.Sync, "")
}

func (r *runner) startCompressed() {
	e := r.c.Evaluator
	if r.s.pmce == nil {
		r.headline, r.headlineWhy = VerdictUnimplemented, "permessage-deflate was not negotiated"
		r.closeWith(1000, "")
		return
	}
	ds, err := LoadDataset(e.Dataset)
	if err != nil {
		r.headline, r.headlineWhy = VerdictFailed, err.Error()
		r.closeWith(1000, "")
		return
	}
	r.ds = ds
	bits, noContext := r.s.pmce.fuzzerWindow(r.s.client)
	r.defl = newDeflater(bits, noContext, r.o.CompressionLevel)
	r.sendCompressed()
}

func (r *runner) sendCompressed() {
	e := r.c.Evaluator
	msg := r.ds.Message(r.cmpK, e.MessageLength)
	r.cmpSHA = sha1.Sum(msg)
	comp := r.defl.compress(msg)
	r.rawOut += int64(len(msg))
	r.wireOut += int64(len(comp))
	op := frame.OpText
	if e.Binary {
		op = frame.OpBinary
	}
	r.sendMessage(op, comp, e.AutoFragmentSize, frame.RSV1)
}

// evaluate applies the custom evaluator of 9.x, 12.x and 13.x to a message.
func (r *runner) evaluate(ev rdEvent) {
	e := r.c.Evaluator
	if r.evalDone {
		return
	}
	typ := func(binary bool) string {
		if binary {
			return "binary"
		}
		return "text"
	}
	finish := func(v, why string) {
		r.headline, r.headlineWhy = v, why
		r.closeWith(1000, "")
	}
	switch e.Type {
	case EvalSingleEchoLength:
		if ev.binary != e.Binary || len(ev.payload) != e.Length {
			finish(VerdictFailed, fmt.Sprintf("got a %s message of %d bytes, want %s of %d", typ(ev.binary), len(ev.payload), typ(e.Binary), e.Length))
			return
		}
		finish(VerdictOK, fmt.Sprintf("echo of %d bytes received", e.Length))
	case EvalSequentialEcho:
		if ev.binary != e.Binary || len(ev.payload) != e.Length {
			finish(VerdictFailed, fmt.Sprintf("echo %d: got a %s message of %d bytes, want %s of %d",
				r.seqOK+1, typ(ev.binary), len(ev.payload), typ(e.Binary), e.Length))
			return
		}
		r.seqOK++
		if r.seqOK == e.Count {
			finish(VerdictOK, fmt.Sprintf("all %d echoes received", e.Count))
			return
		}
		r.sendSeq()
	case EvalCompressedSeqEcho:
		n := len(ev.payload)
		if !e.Binary {
			n = utf8.RuneCount(ev.payload)
		}
		switch {
		case ev.binary != e.Binary:
			finish(VerdictFailed, fmt.Sprintf("echo %d: got a %s message, want %s", r.cmpK+1, typ(ev.binary), typ(e.Binary)))
		case n != e.MessageLength:
			finish(VerdictFailed, fmt.Sprintf("echo %d: length %d, want %d %s", r.cmpK+1, n, e.MessageLength, e.LengthUnit))
		case sha1.Sum(ev.payload) != r.cmpSHA:
			finish(VerdictFailed, fmt.Sprintf("echo %d: SHA-1 differs from the message sent", r.cmpK+1))
		default:
			r.cmpK++
			if r.cmpK == e.Count {
				finish(VerdictOK, fmt.Sprintf("all %d echoes received and equal", e.Count))
				return
			}
			r.sendCompressed()
		}
	}
}

// result computes the verdicts and builds the report of the finished case.
func (r *runner) result(d time.Duration) *CaseResult {
	c := r.c
	res := newCaseResult(c, r.s.agent, r.s.mode, r.s.client)
	res.Started = r.s.opened
	res.Duration = d.Milliseconds()
	res.HTTPRequest, res.HTTPResponse = r.s.request, r.s.response
	res.TLS, res.HTTP2 = r.s.tls, r.s.http2
	res.PMCE = r.s.pmce
	res.OpenHandshakeDone = true
	res.Received, res.ReceivedTotal = r.events, r.nEvents
	if res.Received == nil {
		res.Received = []Event{}
	}
	res.ClosedByMe = r.fuzzerInitiated
	res.FailedByMe, res.FailReason = r.failed, r.failReason
	res.DroppedByMe = r.dropped
	res.CloseTimeout, res.DropTimeout, res.SafetyTimeout = r.closeTimeout, r.dropTimeout, r.safety
	res.WasClean = r.gotClose && !r.closeTimeout && !r.dropTimeout
	switch {
	case r.failDropped && !r.gotClose:
		res.WasNotCleanReason = "the fuzzer failed the connection by dropping TCP (failByDrop)"
	case r.badClose != "":
		res.WasNotCleanReason = "the testee's close frame was not valid: " + r.badClose
	case !r.gotClose && r.s.http2:
		res.WasNotCleanReason = "no close frame received from the testee before the HTTP/2 stream ended"
	case !r.gotClose:
		res.WasNotCleanReason = "no close frame received from the testee before TCP went away"
	case r.closeTimeout:
		res.WasNotCleanReason = "close handshake timeout"
	case r.dropTimeout && r.s.http2:
		res.WasNotCleanReason = "the server did not end the HTTP/2 stream in time"
	case r.dropTimeout:
		res.WasNotCleanReason = "the server did not drop TCP in time"
	}
	var remoteCode *int
	if r.hasRemoteCode {
		code := r.remoteCode
		remoteCode, res.RemoteCloseCode = &code, &code
		if r.badClose == "" && len(r.remoteReason) > 0 { // as the suite: no reason is null
			reason := string(r.remoteReason)
			res.RemoteReason = &reason
		}
	}
	res.LocalCloseCode = r.localCode
	if r.localReason != nil {
		s := string(r.localReason)
		res.LocalReason = &s
	}
	res.WireLog, res.Wire = r.log.snapshot()
	if c.ReportRatio {
		res.Traffic = r.trafficStats(res.Wire)
		res.RatioIn, res.RatioOut = res.Traffic.IncomingCompressionRatio, res.Traffic.OutgoingCompressionRatio
	}

	facts := closeFacts{
		handshakeDone:   true,
		fuzzerInitiated: r.fuzzerInitiated,
		clean:           res.WasClean,
		remoteCode:      remoteCode,
		fuzzerIsClient:  r.s.client,
		droppedByFuzzer: r.dropped,
	}
	closeV, closeWhy := closeVerdict(c, facts)
	var head, why string
	if c.Evaluator != nil {
		head, why = r.headline, r.headlineWhy
		if head == "" {
			head, why = VerdictFailed, r.unfinished()
		}
	} else {
		head, why = matchOutcome(c, r.events)
	}
	if c.FuzzerSelfCheck != nil {
		res.SelfCheck = r.selfCheck(res.Wire)
		if res.SelfCheck != "ok" {
			head, why = VerdictFailed, "fuzzer self-check: "+res.SelfCheck
		}
	}
	res.Behavior, res.BehaviorClose = finalVerdicts(c, head, closeV, facts)
	res.Result, res.ResultClose = headlineReason(c, head, why, closeV, closeWhy, facts), closeWhy
	if c.ForcedVerdict == forcedInformational {
		res.Result = "informational: " + informationalNote(c, r.events)
		res.ResultClose = "informational: " + closeWhy
	}
	if c.extra != nil && c.extra.judge != nil {
		c.extra.judge(r, res)
	}
	if r.safety || r.canceled {
		// The case did not end by itself (DECISIONS.md, item 9b).
		res.Behavior, res.BehaviorClose = VerdictFailed, VerdictFailed
		res.Result = "safety timeout: the case did not end within its time budget"
		if r.canceled {
			res.Result = "the run was canceled"
		}
		res.ResultClose = res.Result
	}
	return res
}

// trafficStats returns the suite's traffic statistics of the case.
func (r *runner) trafficStats(w WireStats) *TrafficStats {
	ratio := func(a, b int64) *float64 {
		if b == 0 {
			return nil
		}
		v := float64(a) / float64(b)
		return &v
	}
	dataFrames := func(m map[string]int) int { return m["0"] + m["1"] + m["2"] }
	messages := func(m map[string]int) int { return m["1"] + m["2"] }
	pre := r.log.preopenOctets()
	return &TrafficStats{
		IncomingCompressionRatio:       ratio(r.wireIn, r.rawIn),
		IncomingOctetsAppLevel:         r.rawIn,
		IncomingOctetsWebSocketLevel:   r.wireIn,
		IncomingOctetsWireLevel:        w.RxOctets,
		IncomingWebSocketFrames:        dataFrames(w.RxFrames),
		IncomingWebSocketMessages:      messages(w.RxFrames),
		IncomingWebSocketOverhead:      ratio(w.RxOctets-r.wireIn, r.wireIn),
		OutgoingCompressionRatio:       ratio(r.wireOut, r.rawOut),
		OutgoingOctetsAppLevel:         r.rawOut,
		OutgoingOctetsWebSocketLevel:   r.wireOut,
		OutgoingOctetsWireLevel:        w.TxOctets,
		OutgoingWebSocketFrames:        dataFrames(w.TxFrames),
		OutgoingWebSocketMessages:      messages(w.TxFrames),
		OutgoingWebSocketOverhead:      ratio(w.TxOctets-r.wireOut, r.wireOut),
		PreopenIncomingOctetsWireLevel: pre[dirRx],
		PreopenOutgoingOctetsWireLevel: pre[dirTx],
	}
}

// unfinished says why an evaluator case (9.x, 12.x, 13.x) ended before its
// evaluator reached a verdict: the time limit, or the testee closing,
// failing or dropping the connection first.
func (r *runner) unfinished() string {
	e := r.c.Evaluator
	what := "the echo"
	switch e.Type {
	case EvalSequentialEcho:
		what = fmt.Sprintf("echo %d of %d", r.seqOK+1, e.Count)
	case EvalCompressedSeqEcho:
		what = fmt.Sprintf("echo %d of %d", r.cmpK+1, e.Count)
	}
	switch {
	case r.timeLimit:
		return fmt.Sprintf("the evaluator did not finish in time: no %s within %g s", what, e.TimeLimit)
	case r.badClose != "":
		return fmt.Sprintf("the testee closed before %s arrived, with an %s", what, r.badClose)
	case r.failed:
		return fmt.Sprintf("the testee broke the protocol before %s arrived: %s", what, r.failReason)
	case r.gotClose && !r.fuzzerInitiated && r.hasRemoteCode:
		return fmt.Sprintf("the testee closed (code %d) before %s arrived", r.remoteCode, what)
	case r.gotClose && !r.fuzzerInitiated:
		return fmt.Sprintf("the testee closed (no status code) before %s arrived", what)
	case !r.gotClose && !r.fuzzerInitiated && r.s.http2:
		return fmt.Sprintf("the testee ended the HTTP/2 stream without a close frame before %s arrived", what)
	case !r.gotClose && !r.fuzzerInitiated:
		return fmt.Sprintf("the testee dropped TCP without a close frame before %s arrived", what)
	}
	return fmt.Sprintf("the evaluator did not finish: no %s", what)
}

// informationalNote says what an INFORMATIONAL case observed.
func informationalNote(c *Case, events []Event) string {
	for _, l := range c.outcomeLabels() {
		if eventsMatch(events, c.Outcomes[l]) {
			if c.ID == "7.1.6" {
				if l == outcomeOK {
					return "message processed before close"
				}
				return "close processed first"
			}
			return "events match the " + l + " list"
		}
	}
	return fmt.Sprintf("%d events, matching no list", len(events))
}

// selfCheck compares the frames the fuzzer sent with the case's
// fuzzer_self_check (10.1.1).
func (r *runner) selfCheck(w WireStats) string {
	for k, want := range r.c.FuzzerSelfCheck {
		var op int
		if _, err := fmt.Sscanf(k, "tx_frames_opcode_%d", &op); err != nil {
			return "unknown check " + k
		}
		if got := w.TxFrames[fmt.Sprint(op)]; got != want {
			return fmt.Sprintf("sent %d frames with opcode %d, want %d", got, op, want)
		}
	}
	return "ok"
}

// newCaseResult fills the parts of a result that come from the case.
func newCaseResult(c *Case, agent, mode string, client bool) *CaseResult {
	role := "server"
	if client {
		role = "client"
	}
	return &CaseResult{
		Agent:       agent,
		Index:       c.Index,
		ID:          c.ID,
		Description: c.Title,
		Expectation: expectation(c),
		Mode:        mode,
		FuzzerRole:  role,
		Expected:    c.Outcomes,
		ReportTime:  c.ReportDuration,
		ReportRatio: c.ReportRatio,
		ExpectedClose: ExpectedClose{
			ClosedByMe:    c.Close.FuzzerClosesFirst,
			CloseCodes:    c.Close.AcceptedCodes,
			RequireClean:  c.Close.RequireClean,
			WrongEndpoint: c.Close.WrongEndpointFailsCase,
			WrongCode:     c.Close.WrongCodeFailsCase,
		},
		Received: []Event{},
	}
}

// handshakeFailedResult is the result of a case whose opening handshake did
// not complete: FAILED and FAILED (A.3, item 1).
func handshakeFailedResult(c *Case, agent, mode string, client bool, started time.Time, why string, timeout bool, req, resp string) *CaseResult {
	res := newCaseResult(c, agent, mode, client)
	res.Started = started
	res.Duration = time.Since(started).Milliseconds()
	res.Behavior, res.BehaviorClose = VerdictFailed, VerdictFailed
	res.Result, res.ResultClose = "opening handshake failed: "+why, "the opening handshake did not complete"
	res.OpenTimeout = timeout
	res.DroppedByMe = true
	res.WasNotCleanReason = "no WebSocket connection"
	res.HTTPRequest, res.HTTPResponse = req, resp
	res.WireLog = []WireEntry{}
	return res
}
