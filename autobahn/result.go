package autobahn

import (
	"encoding/hex"
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
// from the testee, or a timeout of a pause step.
type Event struct {
	Type      string `json:"type"` // "message", "pong" or "timeout"
	Binary    bool   `json:"binary,omitempty"`
	Length    int    `json:"length"`            // payload bytes
	Payload   string `json:"payload,omitempty"` // hex of the first bytes
	Truncated bool   `json:"truncated,omitempty"`
	Tag       string `json:"tag,omitempty"` // timeout

	data []byte // the payload, for comparison; nil in evaluator cases
}

// eventPreview is how many payload bytes an Event shows.
const eventPreview = 64

func newEvent(typ string, binary bool, data []byte, keep bool) Event {
	e := Event{Type: typ, Binary: binary, Length: len(data)}
	p := data
	if len(p) > eventPreview {
		p, e.Truncated = p[:eventPreview], true
	}
	e.Payload = hex.EncodeToString(p)
	if keep {
		e.data = data
	}
	return e
}

// ExpectedClose is the close expectation of a case, in report form.
type ExpectedClose struct {
	ClosedByMe    bool  `json:"closedByMe"` // the fuzzer must send the first close
	CloseCodes    []int `json:"closeCode"`  // accepted testee codes; none is always accepted
	RequireClean  bool  `json:"requireClean"`
	WrongEndpoint bool  `json:"wrongEndpointFailsCase,omitempty"`
	WrongCode     bool  `json:"wrongCodeFailsCase,omitempty"`
}

// CaseResult is the outcome of one case for one agent: what the per-case
// report file holds.
type CaseResult struct {
	Agent       string `json:"agent"`
	Index       int    `json:"case"` // position in the full run (index_in_full_run)
	ID          string `json:"id"`
	Description string `json:"description"`
	Expectation string `json:"expectation"`
	Mode        string `json:"mode"`
	FuzzerRole  string `json:"fuzzerRole"` // "client" or "server"

	Behavior      string `json:"behavior"`
	BehaviorClose string `json:"behaviorClose"`
	Result        string `json:"result"`      // why the headline verdict
	ResultClose   string `json:"resultClose"` // why the close verdict

	Started         time.Time `json:"started"`
	Duration        int64     `json:"duration"` // ms from open to TCP gone
	RemoteCloseCode *int      `json:"remoteCloseCode"`
	RemoteReason    *string   `json:"remoteCloseReason"`
	LocalCloseCode  *int      `json:"localCloseCode"`
	LocalReason     *string   `json:"localCloseReason"`

	Expected      map[string][]ExpectedEvent `json:"expected,omitempty"`
	ExpectedClose ExpectedClose              `json:"expectedClose"`
	Received      []Event                    `json:"received"`
	ReceivedTotal int                        `json:"receivedTotal"` // events, including those not listed

	OpenHandshakeDone bool   `json:"openHandshakeDone"`
	ClosedByMe        bool   `json:"closedByMe"` // the fuzzer initiated the close
	FailedByMe        bool   `json:"failedByMe"` // the fuzzer failed the connection (A.5)
	FailReason        string `json:"failReason,omitempty"`
	DroppedByMe       bool   `json:"droppedByMe"`
	WasClean          bool   `json:"wasClean"`
	WasNotCleanReason string `json:"wasNotCleanReason,omitempty"`
	OpenTimeout       bool   `json:"wasOpenHandshakeTimeout"`
	CloseTimeout      bool   `json:"wasCloseHandshakeTimeout"`
	DropTimeout       bool   `json:"wasServerConnectionDropTimeout"`
	SafetyTimeout     bool   `json:"wasSafetyTimeout"`

	HTTPRequest  string      `json:"httpRequest"`
	HTTPResponse string      `json:"httpResponse"`
	TLS          bool        `json:"tls,omitempty"`   // the case ran over TLS (wss://)
	HTTP2        bool        `json:"http2,omitempty"` // the WebSocket was an HTTP/2 stream (RFC 8441)
	PMCE         *Negotiated `json:"pmce,omitempty"`
	RatioIn      *float64    `json:"compressionRatioIn,omitempty"`  // compressed / uncompressed, testee to fuzzer
	RatioOut     *float64    `json:"compressionRatioOut,omitempty"` // fuzzer to testee
	SelfCheck    string      `json:"fuzzerSelfCheck,omitempty"`

	Wire    WireStats   `json:"trafficStats"`
	WireLog []WireFrame `json:"wirelog"`
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
