package autobahn

import (
	"fmt"
	"strings"
	"time"
)

// Modes, the values of [Results.Mode] and [CaseResult.Mode].
const (
	ModeFuzzingClient = "fuzzingclient"
	ModeFuzzingServer = "fuzzingserver"
)

// Event is one thing the fuzzer recorded during a case: a message or a pong
// from the testee, or a timeout of a pause step. Its JSON form is the
// suite's tuple: ["message", text, binary], ["pong", text] or ["timeout",
// tag], where text is the payload as the suite's wire log shows it (see
// [WireEntry]).
type Event struct {
	Type    string // "message", "pong" or "timeout"
	Binary  bool
	Length  int    // payload bytes
	Preview []byte // the first payload bytes (up to 64)
	Tag     string // timeout

	data []byte // the payload, for comparison; nil in evaluator cases
}

func newEvent(typ string, binary bool, data []byte, keep bool) Event {
	e := Event{Type: typ, Binary: binary, Length: len(data), Preview: clone(data[:min(len(data), wireDataPreview)])}
	if keep {
		e.data = data
	}
	return e
}

// MarshalJSON encodes e as the suite's tuple.
func (e Event) MarshalJSON() ([]byte, error) {
	return marshalJSON(eventTuple(e.Type, e.Binary, e.Preview, int64(e.Length), e.Tag))
}

func eventTuple(typ string, binary bool, preview []byte, n int64, tag string) []any {
	switch typ {
	case expectedEventMessage:
		return []any{typ, textLog(preview, n), binary}
	case expectedEventTimeout:
		return []any{typ, tag}
	}
	return []any{typ, textLog(preview, n)}
}

// MarshalJSON encodes e as the suite's tuple, as [Event.MarshalJSON] does.
func (e ExpectedEvent) MarshalJSON() ([]byte, error) {
	p := e.Payload.Bytes()
	return marshalJSON(eventTuple(e.Type, e.Binary, p[:min(len(p), wireDataPreview)], int64(len(p)), e.Tag))
}

// ExpectedClose is the close expectation of a case, in report form.
type ExpectedClose struct {
	ClosedByMe    bool  // the fuzzer must send the first close
	CloseCodes    []int // accepted testee codes; none is always accepted
	RequireClean  bool
	WrongEndpoint bool // a wrong closing endpoint fails the case ("!")
	WrongCode     bool // WRONG CODE fails the case ("+wc")
}

// CaseResult is the outcome of one case for one agent: what the per-case
// report file holds. Its JSON form is the suite's report file, with the
// suite's field names and types (see [CaseResult.MarshalJSON]).
type CaseResult struct {
	Agent string
	// Index is the case's number in the run: its position in the full
	// run (index_in_full_run) in fuzzingclient mode, the N of
	// /runCase?case=N in fuzzingserver mode, as in the suite.
	Index       int
	ID          string
	Description string
	Expectation string
	Mode        string
	FuzzerRole  string // "client" or "server"

	Behavior      string
	BehaviorClose string
	Result        string // why the headline verdict
	ResultClose   string // why the close verdict

	Started         time.Time
	Duration        int64 // ms from open to TCP gone
	RemoteCloseCode *int
	RemoteReason    *string
	LocalCloseCode  *int
	LocalReason     *string

	Expected      map[string][]ExpectedEvent
	ExpectedClose ExpectedClose
	Received      []Event
	ReceivedTotal int // events, including those not listed

	OpenHandshakeDone bool
	ClosedByMe        bool // the fuzzer initiated the close
	FailedByMe        bool // the fuzzer failed the connection (A.5)
	FailReason        string
	DroppedByMe       bool
	WasClean          bool
	WasNotCleanReason string
	OpenTimeout       bool
	CloseTimeout      bool
	DropTimeout       bool
	SafetyTimeout     bool

	HTTPRequest  string
	HTTPResponse string
	TLS          bool        // the case ran over TLS (wss://)
	HTTP2        bool        // the WebSocket was an HTTP/2 stream (RFC 8441)
	PMCE         *Negotiated // permessage-deflate, if negotiated
	RatioIn      *float64    // compressed / uncompressed, testee to fuzzer
	RatioOut     *float64    // fuzzer to testee
	SelfCheck    string
	ReportTime   bool          // the suite reports the case's duration (reportTime)
	ReportRatio  bool          // the suite reports its compression ratios (reportCompressionRatio)
	Traffic      *TrafficStats // for cases that report compression ratios, else nil

	Wire    WireStats
	WireLog []WireEntry
}

// TrafficStats are the suite's traffic statistics of a case, with its
// field names: octets on the wire (after the opening handshake), in
// WebSocket payloads and in messages (after decompression), frames and
// messages, for data frames, in each direction. A ratio is null when what
// it divides by is zero.
type TrafficStats struct {
	IncomingCompressionRatio       *float64 `json:"incomingCompressionRatio"`
	IncomingOctetsAppLevel         int64    `json:"incomingOctetsAppLevel"`
	IncomingOctetsWebSocketLevel   int64    `json:"incomingOctetsWebSocketLevel"`
	IncomingOctetsWireLevel        int64    `json:"incomingOctetsWireLevel"`
	IncomingWebSocketFrames        int      `json:"incomingWebSocketFrames"`
	IncomingWebSocketMessages      int      `json:"incomingWebSocketMessages"`
	IncomingWebSocketOverhead      *float64 `json:"incomingWebSocketOverhead"`
	OutgoingCompressionRatio       *float64 `json:"outgoingCompressionRatio"`
	OutgoingOctetsAppLevel         int64    `json:"outgoingOctetsAppLevel"`
	OutgoingOctetsWebSocketLevel   int64    `json:"outgoingOctetsWebSocketLevel"`
	OutgoingOctetsWireLevel        int64    `json:"outgoingOctetsWireLevel"`
	OutgoingWebSocketFrames        int      `json:"outgoingWebSocketFrames"`
	OutgoingWebSocketMessages      int      `json:"outgoingWebSocketMessages"`
	OutgoingWebSocketOverhead      *float64 `json:"outgoingWebSocketOverhead"`
	PreopenIncomingOctetsWireLevel int64    `json:"preopenIncomingOctetsWireLevel"`
	PreopenOutgoingOctetsWireLevel int64    `json:"preopenOutgoingOctetsWireLevel"`
}

// caseJSON is the suite's report file of a case: its fields, in the order
// the suite writes them (sorted), then ours under "wirelevel".
type caseJSON struct {
	Agent                          string                     `json:"agent"`
	Behavior                       string                     `json:"behavior"`
	BehaviorClose                  string                     `json:"behaviorClose"`
	Case                           int                        `json:"case"`
	ClosedByMe                     bool                       `json:"closedByMe"`
	CreateStats                    bool                       `json:"createStats"`
	CreateWirelog                  bool                       `json:"createWirelog"`
	Description                    string                     `json:"description"`
	DroppedByMe                    bool                       `json:"droppedByMe"`
	Duration                       int64                      `json:"duration"`
	Expectation                    string                     `json:"expectation"`
	Expected                       map[string][]ExpectedEvent `json:"expected"`
	ExpectedClose                  expectedCloseJSON          `json:"expectedClose"`
	FailedByMe                     bool                       `json:"failedByMe"`
	HTTPRequest                    string                     `json:"httpRequest"`
	HTTPResponse                   string                     `json:"httpResponse"`
	ID                             string                     `json:"id"`
	IsServer                       bool                       `json:"isServer"`
	LocalCloseCode                 *int                       `json:"localCloseCode"`
	LocalCloseReason               *string                    `json:"localCloseReason"`
	Received                       []Event                    `json:"received"`
	RemoteCloseCode                *int                       `json:"remoteCloseCode"`
	RemoteCloseReason              *string                    `json:"remoteCloseReason"`
	ReportCompressionRatio         bool                       `json:"reportCompressionRatio"`
	ReportTime                     bool                       `json:"reportTime"`
	Result                         string                     `json:"result"`
	ResultClose                    string                     `json:"resultClose"`
	RxFrameStats                   map[string]int             `json:"rxFrameStats"`
	RxOctetStats                   map[string]int             `json:"rxOctetStats"`
	Started                        string                     `json:"started"`
	TrafficStats                   *TrafficStats              `json:"trafficStats"`
	TxFrameStats                   map[string]int             `json:"txFrameStats"`
	TxOctetStats                   map[string]int             `json:"txOctetStats"`
	WasClean                       bool                       `json:"wasClean"`
	WasCloseHandshakeTimeout       bool                       `json:"wasCloseHandshakeTimeout"`
	WasNotCleanReason              *string                    `json:"wasNotCleanReason"`
	WasOpenHandshakeTimeout        bool                       `json:"wasOpenHandshakeTimeout"`
	WasServerConnectionDropTimeout bool                       `json:"wasServerConnectionDropTimeout"`
	Wirelevel                      extrasJSON                 `json:"wirelevel"`
	Wirelog                        []WireEntry                `json:"wirelog"`
}

type expectedCloseJSON struct {
	CloseCode                    []int `json:"closeCode"`
	ClosedByMe                   bool  `json:"closedByMe"`
	ClosedByWrongEndpointIsFatal bool  `json:"closedByWrongEndpointIsFatal,omitempty"`
	RequireClean                 bool  `json:"requireClean"`
}

// extrasJSON holds what this harness reports beyond the suite's fields.
type extrasJSON struct {
	Mode                string      `json:"mode"`
	WrongCodeFailsCase  bool        `json:"wrongCodeFailsCase,omitempty"`
	OpenHandshakeDone   bool        `json:"openHandshakeDone"`
	FailReason          string      `json:"failReason,omitempty"`
	WasSafetyTimeout    bool        `json:"wasSafetyTimeout"`
	ReceivedTotal       int         `json:"receivedTotal"`
	TLS                 bool        `json:"tls,omitempty"`
	HTTP2               bool        `json:"http2,omitempty"`
	PMCE                *Negotiated `json:"pmce,omitempty"`
	CompressionRatioIn  *float64    `json:"compressionRatioIn,omitempty"`
	CompressionRatioOut *float64    `json:"compressionRatioOut,omitempty"`
	FuzzerSelfCheck     string      `json:"fuzzerSelfCheck,omitempty"`
	WirelogOmitted      [2]int      `json:"wirelogOmitted"` // entries left out: sent, received
	Failed              bool        `json:"failed"`         // under the harness's policy (IsFailure)
}

// startedFormat is how the suite writes a case's start: UTC, milliseconds.
const startedFormat = "2006-01-02T15:04:05.000Z"

// MarshalJSON encodes r as the suite's report file of a case: the suite's
// field names and JSON types (started is a UTC time string, the wire log
// and events are tuples, the statistics objects keyed by size or opcode,
// trafficStats null unless the case reports compression ratios), and this
// harness's own facts under "wirelevel".
func (r *CaseResult) MarshalJSON() ([]byte, error) {
	var notClean *string
	if !r.WasClean {
		s := r.WasNotCleanReason
		notClean = &s
	}
	expected := r.Expected
	if expected == nil {
		expected = map[string][]ExpectedEvent{}
	}
	received := r.Received
	if received == nil {
		received = []Event{}
	}
	wirelog := r.WireLog
	if wirelog == nil {
		wirelog = []WireEntry{}
	}
	orEmpty := func(m map[string]int) map[string]int {
		if m == nil {
			return map[string]int{}
		}
		return m
	}
	return marshalJSON(caseJSON{
		Agent: r.Agent, Behavior: r.Behavior, BehaviorClose: r.BehaviorClose, Case: r.Index,
		ClosedByMe: r.ClosedByMe, CreateStats: true, CreateWirelog: true,
		Description: r.Description, DroppedByMe: r.DroppedByMe, Duration: r.Duration,
		Expectation: r.Expectation, Expected: expected,
		ExpectedClose: expectedCloseJSON{
			CloseCode: r.ExpectedClose.CloseCodes, ClosedByMe: r.ExpectedClose.ClosedByMe,
			ClosedByWrongEndpointIsFatal: r.ExpectedClose.WrongEndpoint, RequireClean: r.ExpectedClose.RequireClean,
		},
		FailedByMe: r.FailedByMe, HTTPRequest: r.HTTPRequest, HTTPResponse: r.HTTPResponse,
		ID: r.ID, IsServer: r.Mode == ModeFuzzingServer,
		LocalCloseCode: r.LocalCloseCode, LocalCloseReason: r.LocalReason,
		Received: received, RemoteCloseCode: r.RemoteCloseCode, RemoteCloseReason: r.RemoteReason,
		ReportCompressionRatio: r.ReportRatio, ReportTime: r.ReportTime,
		Result: r.Result, ResultClose: r.ResultClose,
		RxFrameStats: orEmpty(r.Wire.RxFrames), RxOctetStats: orEmpty(r.Wire.RxOctetChunks),
		Started:      r.Started.UTC().Format(startedFormat),
		TrafficStats: r.Traffic,
		TxFrameStats: orEmpty(r.Wire.TxFrames), TxOctetStats: orEmpty(r.Wire.TxOctetChunks),
		WasClean: r.WasClean, WasCloseHandshakeTimeout: r.CloseTimeout, WasNotCleanReason: notClean,
		WasOpenHandshakeTimeout: r.OpenTimeout, WasServerConnectionDropTimeout: r.DropTimeout,
		Wirelevel: extrasJSON{
			Mode: r.Mode, WrongCodeFailsCase: r.ExpectedClose.WrongCode, OpenHandshakeDone: r.OpenHandshakeDone,
			FailReason: r.FailReason, WasSafetyTimeout: r.SafetyTimeout, ReceivedTotal: r.ReceivedTotal,
			TLS: r.TLS, HTTP2: r.HTTP2, PMCE: r.PMCE,
			CompressionRatioIn: r.RatioIn, CompressionRatioOut: r.RatioOut, FuzzerSelfCheck: r.SelfCheck,
			WirelogOmitted: [2]int{r.Wire.TxOmitted, r.Wire.RxOmitted}, Failed: r.Failed(),
		},
		Wirelog: wirelog,
	})
}

// Failed reports whether the case failed under the harness's policy; see
// [IsFailure].
func (r *CaseResult) Failed() bool { return IsFailure(r.Behavior, r.BehaviorClose) }

// Results is the outcome of a run: every case result, in the order run.
type Results struct {
	Mode      string
	Started   time.Time
	Finished  time.Time
	Cases     []*CaseResult
	Abandoned []Abandoned // cases not run because a testee server was unreachable
}

// Abandoned records the cases of one testee server that were not run.
type Abandoned struct {
	Agent  string
	URL    string
	Reason string
	Cases  []string
}

// Failed reports whether any case failed (see [IsFailure]) or any case was
// abandoned.
func (r *Results) Failed() bool {
	if len(r.Abandoned) > 0 {
		return true
	}
	for _, c := range r.Cases {
		if c.Failed() {
			return true
		}
	}
	return false
}

// Agents returns the agent names in the order they first appear.
func (r *Results) Agents() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range r.Cases {
		if !seen[c.Agent] {
			seen[c.Agent] = true
			out = append(out, c.Agent)
		}
	}
	for _, a := range r.Abandoned {
		if !seen[a.Agent] {
			seen[a.Agent] = true
			out = append(out, a.Agent)
		}
	}
	return out
}

// Lookup returns the result of case id for agent, or nil.
func (r *Results) Lookup(agent, id string) *CaseResult {
	for i := len(r.Cases) - 1; i >= 0; i-- {
		if c := r.Cases[i]; c.Agent == agent && c.ID == id {
			return c
		}
	}
	return nil
}

// progress prints the line of a finished case, and with Debug the reasons
// of its verdicts.
func (o *Options) progress(i, n int, r *CaseResult) {
	fmt.Fprint(o.Progress, progressLine(i, n, r))
	if o.Debug {
		fmt.Fprintf(o.Progress, "    %s: %s\n    close %s: %s\n", r.Behavior, r.Result, r.BehaviorClose, r.ResultClose)
	}
}

// progressLine formats the line printed after each case, such as
// "[123/517] 6.4.3 agent=X OK (1012 ms)".
func progressLine(i, n int, r *CaseResult) string {
	v := r.Behavior
	if r.BehaviorClose != VerdictOK && r.BehaviorClose != r.Behavior {
		v += " close=" + r.BehaviorClose
	}
	return fmt.Sprintf("[%d/%d] %s agent=%s %s (%d ms)\n", i, n, r.ID, r.Agent, v, r.Duration)
}

// expectation describes in words what a case expects.
func expectation(c *Case) string {
	if c.extra != nil {
		return c.extra.rule
	}
	var b strings.Builder
	switch {
	case c.Evaluator != nil:
		e := c.Evaluator
		typ := "text"
		if e.Binary {
			typ = "binary"
		}
		switch e.Type {
		case EvalSingleEchoLength:
			fmt.Fprintf(&b, "The first message back is %s with %d bytes, within %g s.", typ, e.Length, e.TimeLimit)
		case EvalSequentialEcho:
			fmt.Fprintf(&b, "%d messages echoed one at a time, each %s with %d bytes, within %g s.", e.Count, typ, e.Length, e.TimeLimit)
		case EvalCompressedSeqEcho:
			fmt.Fprintf(&b, "permessage-deflate negotiated (else UNIMPLEMENTED); %d %s messages of %d %s from %s echoed one at a time with equal SHA-1, within %g s.",
				e.Count, typ, e.MessageLength, e.LengthUnit, e.Dataset, e.TimeLimit)
		}
	default:
		for i, l := range c.outcomeLabels() {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s = [", l)
			for j, e := range c.Outcomes[l] {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(describeExpected(e))
			}
			b.WriteString("].")
		}
	}
	if c.ForcedVerdict != "" {
		b.WriteString(" Always " + c.ForcedVerdict + ".")
	}
	who := "the testee"
	if c.Close.FuzzerClosesFirst {
		who = "the fuzzer"
	}
	fmt.Fprintf(&b, " Close: %s closes first; testee code in %v or none", who, c.Close.AcceptedCodes)
	if c.Close.RequireClean {
		b.WriteString("; clean close required")
	}
	if c.Close.WrongEndpointFailsCase {
		b.WriteString("; a wrong closing endpoint fails the case")
	}
	if c.Close.WrongCodeFailsCase {
		b.WriteString("; a wrong close code fails the case")
	}
	b.WriteString(".")
	return b.String()
}

func describeExpected(e ExpectedEvent) string {
	switch e.Type {
	case expectedEventTimeout:
		return "timeout(" + e.Tag + ")"
	case expectedEventPong:
		return fmt.Sprintf("pong(%d bytes)", e.Payload.Len())
	}
	typ := "text"
	if e.Binary {
		typ = "binary"
	}
	return fmt.Sprintf("message(%s, %d bytes)", typ, e.Payload.Len())
}
