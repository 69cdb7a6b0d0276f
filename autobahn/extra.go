package autobahn

import (
	"context"
	"fmt"
	"time"
)

// The sections after 13 are this harness's own: the opening handshake of
// RFC 6455, Section 4, for servers (14) and clients (15), limits and
// resilience (16), and RFC 8441's WebSockets over HTTP/2 (17). They are
// defined here, in Go, not in cases.json, and SECTIONS.md gives the rule of
// each. A case of these sections is left out of the selection unless a
// pattern names its section (see [SelectCases]), so the suite's specs run
// the suite's cases only.

// extraCase is what a case of a section after 13 adds to Case: the modes
// it runs in, its rule, and how it runs. A case runs in one of three ways:
//
//   - client: the whole case in fuzzingclient mode (the testee is a
//     server), from the TCP connect on (sections 14 and 17);
//   - server: the whole case in fuzzingserver mode, from the testee
//     client's request on (section 15);
//   - steps, react and judge: an ordinary case, whose steps the runner
//     plays after a normal opening handshake in either mode, with react
//     seeing every event and judge giving the verdicts (section 16).
type extraCase struct {
	modes   []string // nil: both
	seconds float64  // the longest the case waits by design, for its safety timeout
	rule    string   // the verdict rule, the case's expectation in the reports

	client func(ctx context.Context, t *clientTarget) (*CaseResult, error)
	server func(s *FuzzingServer, x *exchange, agent string) *CaseResult
	react  func(r *runner, ev rdEvent)
	judge  func(r *runner, res *CaseResult)

	pmceFrom string // the case whose permessage-deflate offers and rules it uses
}

// clientTarget is what a fuzzingclient-mode case of a section after 13
// works with.
type clientTarget struct {
	u     *wsURL
	srv   *ServerEntry
	agent string // "" until the first handshake names it
	c     *Case
	o     *Options
	state *serverState
}

// serverState is what the cases of a section after 13 learn about a
// testee server during a run.
type serverState struct {
	noH2 string // why the server takes no WebSockets over HTTP/2, once a case found out
}

// extraScale multiplies the waits of the sections after 13 (their time
// limits, trickles and stalls); tests shorten them.
var extraScale = 1.0

// scaled returns d seconds, scaled by extraScale.
func scaled(d float64) time.Duration {
	return time.Duration(d * extraScale * float64(time.Second))
}

// Names of the sections after 13 in the reports.
var (
	extraChapterNames = map[string]string{
		"14": "Opening Handshake (testee server)",
		"15": "Opening Handshake (testee client)",
		"16": "Limits and Resilience",
		"17": "WebSocket over HTTP/2 (RFC 8441)",
	}
	extraSubcategoryNames = map[string]string{
		"14.1": "Requests a server must accept",
		"14.2": "Requests a server must refuse",
		"14.3": "Floods and slow clients",
		"15.1": "Responses a client must refuse",
		"15.2": "Responses a client must accept",
		"15.3": "Floods and slow servers",
		"16.1": "Fragment floods",
		"16.2": "Ping floods",
		"16.3": "Huge declared lengths",
		"16.4": "Decompression bombs",
		"16.5": "A peer that does not read",
		"17.1": "Extended CONNECT a server must accept",
		"17.2": "Extended CONNECT requests a server must refuse",
	}
)

// extraCases returns the cases of the sections after 13.
func extraCases() []*Case {
	var cs []*Case
	cs = append(cs, serverHandshakeCases()...)
	cs = append(cs, clientHandshakeCases()...)
	cs = append(cs, limitCases()...)
	cs = append(cs, http2Cases()...)
	return cs
}

// newExtraCase returns a case of a section after 13 with the parts every
// one has.
func newExtraCase(id, title string, e *extraCase) *Case {
	sec := subcategoryOf(id)
	return &Case{
		ID: id, Section: sec, Category: extraChapterNames[id[:2]], Title: title,
		Close: CloseExpectation{AcceptedCodes: []int{1000}},
		extra: e,
	}
}

// verdicts sets the verdict pair of a result and their reasons.
func (r *CaseResult) verdicts(behavior, why, behaviorClose, whyClose string) {
	r.Behavior, r.Result, r.BehaviorClose, r.ResultClose = behavior, why, behaviorClose, whyClose
}

// statusIn reports whether status is one of the list.
func statusIn(status int, list []int) bool {
	for _, s := range list {
		if s == status {
			return true
		}
	}
	return false
}

func statusList(list []int) string {
	s := ""
	for i, x := range list {
		if i > 0 {
			s += " or "
		}
		s += fmt.Sprint(x)
	}
	return s
}
