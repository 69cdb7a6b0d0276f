package autobahn

import (
	"testing"
)

// TestCloseVerdict checks the rules of CASES.md, Section A.8, in order.
func TestCloseVerdict(t *testing.T) {
	fuzzerClean := CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1000}, RequireClean: true}
	testeeAny := CloseExpectation{FuzzerClosesFirst: false, AcceptedCodes: []int{1002}}
	fuzzerAny := CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1002}}
	good := closeFacts{handshakeDone: true, fuzzerInitiated: true, clean: true, remoteCode: new(1000)}
	tests := []struct {
		name string
		exp  CloseExpectation
		f    closeFacts
		want string
	}{
		{"ok", fuzzerClean, good, VerdictOK},
		{"no handshake", fuzzerClean, closeFacts{}, VerdictFailed},
		{"no handshake beats all", testeeAny, closeFacts{fuzzerInitiated: false}, VerdictFailed},
		{"wrong endpoint: testee closed", fuzzerClean, closeFacts{handshakeDone: true, clean: true, remoteCode: new(1000)}, VerdictFailed},
		{"wrong endpoint: fuzzer closed", testeeAny, closeFacts{handshakeDone: true, fuzzerInitiated: true, clean: true}, VerdictFailed},
		{"wrong endpoint beats unclean", fuzzerClean, closeFacts{handshakeDone: true}, VerdictFailed},
		{"unclean", fuzzerClean, closeFacts{handshakeDone: true, fuzzerInitiated: true, remoteCode: new(1000)}, VerdictUnclean},
		{"unclean beats wrong code", fuzzerClean, closeFacts{handshakeDone: true, fuzzerInitiated: true, remoteCode: new(1001)}, VerdictUnclean},
		{"unclean tolerated", testeeAny, closeFacts{handshakeDone: true}, VerdictOK},
		{"testee dropped TCP without close", testeeAny, closeFacts{handshakeDone: true, fuzzerIsClient: true}, VerdictOK},
		{"wrong code", fuzzerClean, closeFacts{handshakeDone: true, fuzzerInitiated: true, clean: true, remoteCode: new(1001)}, VerdictWrongCode},
		{"no code always accepted", fuzzerClean, closeFacts{handshakeDone: true, fuzzerInitiated: true, clean: true}, VerdictOK},
		{"code 0 is a code", fuzzerAny, closeFacts{handshakeDone: true, fuzzerInitiated: true, remoteCode: new(0)}, VerdictWrongCode},
		{"accepted second code", CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1000, 1001}}, closeFacts{handshakeDone: true, fuzzerInitiated: true, remoteCode: new(1001)}, VerdictOK},
		{"wrong code beats failed by client", fuzzerAny, closeFacts{handshakeDone: true, fuzzerInitiated: true, remoteCode: new(1000), fuzzerIsClient: true, droppedByFuzzer: true}, VerdictWrongCode},
		{"failed by client", fuzzerAny, closeFacts{handshakeDone: true, fuzzerInitiated: true, fuzzerIsClient: true, droppedByFuzzer: true}, VerdictFailedByClient},
		{"server fuzzer drops normally", fuzzerAny, closeFacts{handshakeDone: true, fuzzerInitiated: true, droppedByFuzzer: true}, VerdictOK},
		{"client fuzzer, server dropped", fuzzerClean, closeFacts{handshakeDone: true, fuzzerInitiated: true, clean: true, fuzzerIsClient: true}, VerdictOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Close: tt.exp}
			if got, why := closeVerdict(c, tt.f); got != tt.want {
				t.Errorf("closeVerdict(%+v, %+v) = %s (%s), want %s", tt.exp, tt.f, got, why, tt.want)
			}
		})
	}
}

// TestFinalVerdicts checks the forced INFORMATIONAL verdict and the "!" and
// "+wc" couplings of CASES.md, Section A.8.
func TestFinalVerdicts(t *testing.T) {
	bang := CloseExpectation{FuzzerClosesFirst: false, AcceptedCodes: []int{1007}, WrongEndpointFailsCase: true}
	wc := CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1002}, WrongCodeFailsCase: true}
	plain := CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1000}, RequireClean: true}
	open := closeFacts{handshakeDone: true}
	tests := []struct {
		name                string
		c                   Case
		headline, closeV    string
		f                   closeFacts
		wantHead, wantClose string
	}{
		{"! right endpoint", Case{Close: bang}, VerdictOK, VerdictOK, open, VerdictOK, VerdictOK},
		{"! wrong endpoint", Case{Close: bang}, VerdictOK, VerdictFailed, closeFacts{handshakeDone: true, fuzzerInitiated: true}, VerdictFailed, VerdictFailed},
		{"! keeps non-strict", Case{Close: bang}, VerdictNonStrict, VerdictOK, open, VerdictNonStrict, VerdictOK},
		{"+wc wrong code", Case{Close: wc}, VerdictOK, VerdictWrongCode, closeFacts{handshakeDone: true, fuzzerInitiated: true}, VerdictFailed, VerdictWrongCode},
		{"+wc unclean stays", Case{Close: wc}, VerdictOK, VerdictUnclean, closeFacts{handshakeDone: true, fuzzerInitiated: true}, VerdictOK, VerdictUnclean},
		{"no coupling: wrong code", Case{Close: plain}, VerdictOK, VerdictWrongCode, closeFacts{handshakeDone: true, fuzzerInitiated: true}, VerdictOK, VerdictWrongCode},
		{"no coupling: wrong endpoint", Case{Close: plain}, VerdictOK, VerdictFailed, open, VerdictOK, VerdictFailed},
		{"informational", Case{Close: plain, ForcedVerdict: forcedInformational}, VerdictFailed, VerdictUnclean, open, VerdictInformational, VerdictInformational},
		{"informational, no handshake", Case{Close: plain, ForcedVerdict: forcedInformational}, VerdictFailed, VerdictFailed, closeFacts{}, VerdictFailed, VerdictFailed},
		{"no handshake", Case{Close: plain}, VerdictOK, VerdictFailed, closeFacts{}, VerdictFailed, VerdictFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, c := finalVerdicts(&tt.c, tt.headline, tt.closeV, tt.f)
			if h != tt.wantHead || c != tt.wantClose {
				t.Errorf("finalVerdicts(%s, %s) = %s, %s, want %s, %s", tt.headline, tt.closeV, h, c, tt.wantHead, tt.wantClose)
			}
		})
	}
}

func TestMatchOutcome(t *testing.T) {
	c := LookupCase("3.2") // OK: [text 'Hello, world!'], NON-STRICT: []
	msg := newEvent(expectedEventMessage, false, []byte("Hello, world!"), true)
	tests := []struct {
		name   string
		events []Event
		want   string
	}{
		{"ok", []Event{msg}, VerdictOK},
		{"non-strict", nil, VerdictNonStrict},
		{"extra echo", []Event{msg, msg}, VerdictFailed},
		{"binary flag", []Event{newEvent(expectedEventMessage, true, []byte("Hello, world!"), true)}, VerdictFailed},
		{"payload", []Event{newEvent(expectedEventMessage, false, []byte("Hello, world?"), true)}, VerdictFailed},
		{"pong is not a message", []Event{newEvent(expectedEventPong, false, []byte("Hello, world!"), true)}, VerdictFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := matchOutcome(c, tt.events); got != tt.want {
				t.Errorf("matchOutcome(3.2, %v) = %s, want %s", tt.events, got, tt.want)
			}
		})
	}
	c = LookupCase("6.4.1") // OK: [timeout(A)], NON-STRICT: [timeout(A), timeout(B)]
	a, b := Event{Type: expectedEventTimeout, Tag: "A"}, Event{Type: expectedEventTimeout, Tag: "B"}
	for _, tt := range []struct {
		events []Event
		want   string
	}{{[]Event{a}, VerdictOK}, {[]Event{a, b}, VerdictNonStrict}, {nil, VerdictFailed}, {[]Event{b}, VerdictFailed}} {
		if got, _ := matchOutcome(c, tt.events); got != tt.want {
			t.Errorf("matchOutcome(6.4.1, %v) = %s, want %s", tt.events, got, tt.want)
		}
	}
}

func TestIsFailure(t *testing.T) {
	tests := []struct {
		b, c string
		want bool
	}{
		{VerdictOK, VerdictOK, false},
		{VerdictNonStrict, VerdictOK, false},
		{VerdictInformational, VerdictInformational, false},
		{VerdictUnimplemented, VerdictOK, false},
		{VerdictFailed, VerdictOK, true},
		{VerdictOK, VerdictUnclean, true},
		{VerdictOK, VerdictWrongCode, true},
		{VerdictOK, VerdictFailedByClient, true},
		{VerdictOK, VerdictFailed, true},
	}
	for _, tt := range tests {
		if got := IsFailure(tt.b, tt.c); got != tt.want {
			t.Errorf("IsFailure(%s, %s) = %v, want %v", tt.b, tt.c, got, tt.want)
		}
	}
}

// TestHeadlineReason: when "!" or "+wc" turns the headline verdict into
// FAILED, the result text gives the close verdict's reason.
func TestHeadlineReason(t *testing.T) {
	bang := CloseExpectation{FuzzerClosesFirst: false, AcceptedCodes: []int{1007}, WrongEndpointFailsCase: true}
	wc := CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1002}, WrongCodeFailsCase: true}
	plain := CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1000}}
	byFuzzer := closeFacts{handshakeDone: true, fuzzerInitiated: true}
	const matched = "received events match the OK list"
	tests := []struct {
		name             string
		c                Case
		headline, why    string
		closeV, closeWhy string
		f                closeFacts
		want             string
	}{
		{"+wc", Case{Close: wc}, VerdictOK, matched, VerdictWrongCode, "the testee closed with 1000, accepted: [1002]", byFuzzer,
			"the testee closed with 1000, accepted: [1002] (WRONG CODE fails this case)"},
		{"!", Case{Close: bang}, VerdictNonStrict, "received events match the NON-STRICT list", VerdictFailed, "closed by the wrong endpoint: x", byFuzzer,
			"closed by the wrong endpoint: x (FAILED fails this case)"},
		{"already failed", Case{Close: wc}, VerdictFailed, "received events match no expected list", VerdictWrongCode, "wrong", byFuzzer,
			"received events match no expected list; wrong (WRONG CODE fails this case)"},
		{"no coupling", Case{Close: plain}, VerdictOK, matched, VerdictWrongCode, "wrong", byFuzzer, matched},
		{"+wc, other close verdict", Case{Close: wc}, VerdictOK, matched, VerdictUnclean, "unclean", byFuzzer, matched},
		{"informational", Case{Close: wc, ForcedVerdict: forcedInformational}, VerdictOK, matched, VerdictWrongCode, "wrong", byFuzzer, matched},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := headlineReason(&tt.c, tt.headline, tt.why, tt.closeV, tt.closeWhy, tt.f); got != tt.want {
				t.Errorf("headlineReason = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseTesteeClose: the code of a close payload of two bytes or more is
// taken before the code and the reason are checked.
func TestParseTesteeClose(t *testing.T) {
	tests := []struct {
		name    string
		p       []byte
		code    int
		hasCode bool
		reason  string
		err     bool
	}{
		{"empty", nil, 0, false, "", false},
		{"one byte", []byte{3}, 0, false, "", true},
		{"1000", []byte{3, 0xe8}, 1000, true, "", false},
		{"1000 reason", []byte{3, 0xe8, 'h', 'i'}, 1000, true, "hi", false},
		{"0", []byte{0, 0}, 0, true, "", true},
		{"1005", []byte{3, 0xed}, 1005, true, "", true},
		{"1013", []byte{3, 0xf5}, 1013, true, "", true},
		{"2999", []byte{0x0b, 0xb7}, 2999, true, "", true},
		{"bad reason", []byte{3, 0xe8, 0xed, 0xa0, 0x80}, 1000, true, "", true},
	}
	for _, tt := range tests {
		code, hasCode, reason, err := parseTesteeClose(tt.p)
		if code != tt.code || hasCode != tt.hasCode || string(reason) != tt.reason || (err != nil) != tt.err {
			t.Errorf("%s: parseTesteeClose(% x) = %d, %v, %q, %v", tt.name, tt.p, code, hasCode, reason, err)
		}
	}
}
