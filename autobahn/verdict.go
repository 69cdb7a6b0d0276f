package autobahn

import (
	"bytes"
	"fmt"
	"slices"
)

// Verdicts, as the reports spell them. See CASES.md, Section A.8.
const (
	VerdictOK             = "OK"
	VerdictNonStrict      = "NON-STRICT"
	VerdictInformational  = "INFORMATIONAL"
	VerdictUnimplemented  = "UNIMPLEMENTED"
	VerdictFailed         = "FAILED"
	VerdictUnclean        = "UNCLEAN"          // close verdict only
	VerdictWrongCode      = "WRONG CODE"       // close verdict only
	VerdictFailedByClient = "FAILED BY CLIENT" // close verdict only
)

// closeFacts are the connection-end facts of CASES.md, Section A.7.
type closeFacts struct {
	handshakeDone   bool
	fuzzerInitiated bool // the fuzzer sent the first close frame (not a raw one)
	clean           bool
	remoteCode      *int // status code of the testee's close frame, valid or not; nil if none
	fuzzerIsClient  bool
	droppedByFuzzer bool
}

// closeVerdict applies the close-verdict rules of CASES.md, Section A.8, in
// order; the first that matches decides.
func closeVerdict(c *Case, f closeFacts) (verdict, why string) {
	e := c.Close
	switch {
	case !f.handshakeDone:
		return VerdictFailed, "the opening handshake did not complete"
	case f.fuzzerInitiated != e.FuzzerClosesFirst:
		if e.FuzzerClosesFirst {
			return VerdictFailed, "closed by the wrong endpoint: the testee closed first, the fuzzer was expected to"
		}
		return VerdictFailed, "closed by the wrong endpoint: the fuzzer closed first, the testee was expected to"
	case e.RequireClean && !f.clean:
		return VerdictUnclean, "the connection was not closed cleanly"
	case f.remoteCode != nil && !slices.Contains(e.AcceptedCodes, *f.remoteCode):
		return VerdictWrongCode, fmt.Sprintf("the testee closed with %d, accepted: %v", *f.remoteCode, e.AcceptedCodes)
	case f.fuzzerIsClient && f.droppedByFuzzer:
		return VerdictFailedByClient, "the fuzzer (client) had to drop TCP; the server should have closed it"
	}
	return VerdictOK, "the connection was closed as expected"
}

// matchOutcome returns the label of the first outcome list (OK, then
// NON-STRICT) equal to events, or FAILED.
func matchOutcome(c *Case, events []Event) (verdict, why string) {
	for _, l := range c.outcomeLabels() {
		if eventsMatch(events, c.Outcomes[l]) {
			return l, "received events match the " + l + " list"
		}
	}
	return VerdictFailed, "received events match no expected list"
}

// eventsMatch reports whether got equals want exactly: length, order, type,
// payload bytes and binary flag.
func eventsMatch(got []Event, want []ExpectedEvent) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		g := got[i]
		if g.Type != w.Type {
			return false
		}
		switch w.Type {
		case expectedEventMessage:
			if g.Binary != w.Binary || !bytes.Equal(g.data, w.Payload.Bytes()) {
				return false
			}
		case expectedEventPong:
			if !bytes.Equal(g.data, w.Payload.Bytes()) {
				return false
			}
		case expectedEventTimeout:
			if g.Tag != w.Tag {
				return false
			}
		}
	}
	return true
}

// finalVerdicts turns the headline verdict found by the outcome lists or the
// evaluator, and the close verdict, into the reported pair: forced
// INFORMATIONAL (unless the opening handshake failed), then the "!" and
// "+wc" couplings of CASES.md, Section A.8.
func finalVerdicts(c *Case, headline, closeV string, f closeFacts) (string, string) {
	if !f.handshakeDone {
		return VerdictFailed, VerdictFailed
	}
	if c.ForcedVerdict == forcedInformational {
		return VerdictInformational, VerdictInformational
	}
	if coupled(c, closeV, f) {
		headline = VerdictFailed
	}
	return headline, closeV
}

// coupled reports whether the close verdict turns the headline verdict into
// FAILED: "!" (a wrong closing endpoint) or "+wc" (WRONG CODE).
func coupled(c *Case, closeV string, f closeFacts) bool {
	return c.Close.WrongEndpointFailsCase && f.fuzzerInitiated != c.Close.FuzzerClosesFirst ||
		c.Close.WrongCodeFailsCase && closeV == VerdictWrongCode
}

// headlineReason is the text of the headline verdict (the report's
// "result"): why, the reason of the headline verdict found by the outcome
// lists or the evaluator, unless a coupling made it FAILED; then the close
// verdict's reason says why, as the suite's 7.x cases do for "+wc".
func headlineReason(c *Case, headline, why, closeV, closeWhy string, f closeFacts) string {
	if !f.handshakeDone || c.ForcedVerdict == forcedInformational || !coupled(c, closeV, f) {
		return why
	}
	coupling := closeWhy + " (" + closeV + " fails this case)"
	if headline == VerdictFailed {
		return why + "; " + coupling
	}
	return coupling
}

// IsFailure reports whether a pair of verdicts counts as a failure. The
// harness's policy (DECISIONS.md, item 8): a FAILED headline verdict, or a
// close verdict of FAILED, UNCLEAN, WRONG CODE or FAILED BY CLIENT, fails the
// case; OK, NON-STRICT, INFORMATIONAL and UNIMPLEMENTED do not.
func IsFailure(behavior, behaviorClose string) bool {
	switch behavior {
	case VerdictOK, VerdictNonStrict, VerdictInformational, VerdictUnimplemented:
	default:
		return true
	}
	switch behaviorClose {
	case VerdictOK, VerdictInformational:
		return false
	}
	return true
}
