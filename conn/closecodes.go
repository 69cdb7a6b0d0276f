package conn

import "github.com/wirelevel/ws/frame"

// Close codes of RFC 6455, Section 7.4.1, and the IANA registry, for
// [Conn.Close], [CloseStatus] and [CloseError.Code]. They are package
// frame's constants under the names gorilla/websocket gives them, so that
// code moving from gorilla keeps its names; coder/websocket's names differ
// only in the prefix (StatusNormalClosure is CloseNormalClosure), except
// StatusNoStatusRcvd (CloseNoStatusReceived) and StatusInternalError
// (CloseInternalServerErr). CloseBadGateway, which gorilla lacks, is
// coder's StatusBadGateway.
//
// CloseNoStatusReceived, CloseAbnormalClosure and CloseTLSHandshake never
// appear in a close frame: the first is what a close frame without a code
// reports, and what [Conn.Close] takes to send one; the second is what
// a connection lost without a close frame reports. Applications may also
// use codes 3000 to 4999 (3000-3999 are registered with IANA, 4000-4999
// are private).
const (
	CloseNormalClosure           CloseCode = frame.CloseNormal             // 1000
	CloseGoingAway               CloseCode = frame.CloseGoingAway          // 1001
	CloseProtocolError           CloseCode = frame.CloseProtocolError      // 1002
	CloseUnsupportedData         CloseCode = frame.CloseUnsupportedData    // 1003
	CloseNoStatusReceived        CloseCode = frame.CloseNoStatus           // 1005
	CloseAbnormalClosure         CloseCode = frame.CloseAbnormal           // 1006
	CloseInvalidFramePayloadData CloseCode = frame.CloseInvalidPayload     // 1007
	ClosePolicyViolation         CloseCode = frame.ClosePolicyViolation    // 1008
	CloseMessageTooBig           CloseCode = frame.CloseTooBig             // 1009
	CloseMandatoryExtension      CloseCode = frame.CloseMandatoryExtension // 1010
	CloseInternalServerErr       CloseCode = frame.CloseInternalError      // 1011
	CloseServiceRestart          CloseCode = frame.CloseServiceRestart     // 1012
	CloseTryAgainLater           CloseCode = frame.CloseTryAgainLater      // 1013
	CloseBadGateway              CloseCode = frame.CloseBadGateway         // 1014
	CloseTLSHandshake            CloseCode = frame.CloseTLSHandshake       // 1015
)
