package autobahn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// These tests run the harness against the raw echo testee of
// testee_test.go, correct and broken, in both modes, and check the exact set
// of failing cases, predicted from the catalogue.

var modes = []string{ModeFuzzingClient, ModeFuzzingServer}

// heavy9 are the 9.x cases that move megabytes; -short leaves them out.
var heavy9 = []string{
	"9.1.3", "9.1.4", "9.1.5", "9.1.6", "9.2.3", "9.2.4", "9.2.5", "9.2.6",
	"9.3.*", "9.4.*", "9.5.2", "9.5.3", "9.5.4", "9.5.5", "9.5.6",
	"9.6.2", "9.6.3", "9.6.4", "9.6.5", "9.6.6", "9.7.4", "9.7.5", "9.7.6",
	"9.8.4", "9.8.5", "9.8.6",
}

var sections1to10 = []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"}

// run is one run of the harness against the raw testee.
type run struct {
	name             string
	mode             string
	f                flaws
	include, exclude []string
	opts             *Options

	// For a testee other than the raw one: serverURL starts a testee
	// server (client mode); driver drives a fuzzing server at base
	// (server mode).
	serverURL func(t testing.TB) (string, error)
	driver    func(ctx context.Context, base string) error

	res *Results
	err error
	dur time.Duration
}

// do runs the selected cases against a testee with flaws r.f, the harness
// being the client (fuzzingclient) or the server. It may run on any
// goroutine; it reports problems in r.err.
func (r *run) do(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	defer func() { r.dur = time.Since(start) }()
	switch r.mode {
	case ModeFuzzingClient:
		start := func(t testing.TB) (string, error) { return startTesteeServer(t, r.f) }
		if r.serverURL != nil {
			start = r.serverURL
		}
		url, err := start(t)
		if err != nil {
			r.err = err
			return
		}
		spec := &ClientSpec{
			Servers: []ServerEntry{{Agent: "raw-testee", URL: url}},
			Cases:   r.include, ExcludeCases: r.exclude,
		}
		r.res, r.err = RunFuzzingClient(ctx, spec, r.opts)
	case ModeFuzzingServer:
		fs, err := NewFuzzingServer(&ServerSpec{Cases: r.include, ExcludeCases: r.exclude}, r.opts)
		if err != nil {
			r.err = err
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			r.err = err
			return
		}
		served := make(chan error, 1)
		go func() { served <- fs.Serve(ln) }()
		base := "ws://" + ln.Addr().String()
		if r.driver != nil {
			err = r.driver(ctx, base)
		} else {
			var n int
			n, err = RunTesteeClient(ctx, base, "raw-testee", testeeClient(r.f), nil)
			if err == nil && n != fs.CaseCount() {
				err = fmt.Errorf("RunTesteeClient ran %d cases, server has %d", n, fs.CaseCount())
			}
		}
		if _, e := FetchMessage(ctx, base+"/stopServer"); e != nil {
			err = errors.Join(err, e)
		}
		err = errors.Join(err, <-served)
		r.res, r.err = fs.Results(), err
	}
	if r.err == nil {
		if got, want := len(r.res.Cases), len(SelectCases(r.include, r.exclude)); got != want {
			r.err = fmt.Errorf("%d results, want %d", got, want)
		}
	}
}

// runAll runs rs concurrently. The broken testees spend their time waiting
// for the cases' timers, so they share the CPU well; t.Parallel would run
// only GOMAXPROCS of them at a time.
func runAll(t *testing.T, rs []*run) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() { r.do(t) })
	}
	wg.Wait()
	for _, r := range rs {
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
		} else {
			t.Logf("%s: %d cases in %v", r.name, len(r.res.Cases), r.dur.Round(time.Millisecond))
		}
	}
}

// retry runs the cases ids of r again, once, and puts their new results in
// place of the old. The cases' timers are as short as 0.5 s, so on a loaded
// machine a correct testee can now and then miss one; a case whose
// verdict is wrong twice is a real failure. It logs what it retries.
func (r *run) retry(t *testing.T, ids []string) {
	if len(ids) == 0 {
		return
	}
	t.Logf("%s: running %v again", r.name, ids)
	again := &run{name: r.name + " (again)", mode: r.mode, f: r.f, include: ids, opts: r.opts,
		serverURL: r.serverURL, driver: r.driver}
	again.do(t)
	if again.err != nil {
		t.Errorf("%s: %v", again.name, again.err)
		return
	}
	for _, cr := range again.res.Cases {
		for i, old := range r.res.Cases {
			if old.ID == cr.ID {
				r.res.Cases[i] = cr
			}
		}
	}
}

func failedIDs(res *Results) []string {
	var ids []string
	for _, c := range res.Cases {
		if c.Failed() {
			ids = append(ids, c.ID)
		}
	}
	slices.SortFunc(ids, CompareCaseIDs)
	return ids
}

func describe(c *CaseResult) string {
	return c.ID + ": " + c.Behavior + " (" + c.Result + ") / " + c.BehaviorClose + " (" + c.ResultClose + ")"
}

// predict returns the IDs of the selected cases for which fails is true.
func predict(include, exclude []string, fails func(*Case) bool) []string {
	var ids []string
	for _, c := range SelectCases(include, exclude) {
		if fails(c) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// TestCorrectTestee runs sections 1 to 10 against the correct testee in
// both modes: every case must be OK (or INFORMATIONAL), headline and close.
// The modes run one after the other: 9.x is CPU-bound.
func TestCorrectTestee(t *testing.T) {
	var exclude []string
	if reduced() {
		exclude = heavy9 // reason: megabyte payloads; the small 9.x cases still run
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			r := &run{name: mode, mode: mode, include: sections1to10, exclude: exclude}
			r.do(t)
			if r.err != nil {
				t.Fatal(r.err)
			}
			t.Logf("%s: %d cases in %v", mode, len(r.res.Cases), r.dur.Round(time.Millisecond))
			good := func(c *CaseResult) bool {
				if LookupCase(c.ID).ForcedVerdict != "" {
					return c.Behavior == VerdictInformational && c.BehaviorClose == VerdictInformational
				}
				return c.Behavior == VerdictOK && c.BehaviorClose == VerdictOK
			}
			var bad []string
			for _, c := range r.res.Cases {
				if !good(c) {
					t.Logf("case %s", describe(c))
					bad = append(bad, c.ID)
				}
			}
			r.retry(t, bad)
			for _, c := range r.res.Cases {
				if !good(c) {
					t.Errorf("case %s", describe(c))
				}
			}
			if r.res.Failed() {
				t.Errorf("Results.Failed() = true")
			}
			if c := r.res.Lookup("raw-testee", "10.1.1"); c == nil || c.Wire.TxFrames["1"] != 1 || c.Wire.TxFrames["0"] != 50 {
				t.Errorf("10.1.1 did not send 1 text and 50 continuation frames")
			}
			if c := r.res.Lookup("raw-testee", "6.2.3"); c == nil || c.Wire.TxFrames["1"]+c.Wire.TxFrames["0"] != 30 {
				t.Errorf("6.2.3 did not send 30 data frames")
			}
			if dir := os.Getenv("AUTOBAHN_REPORT_DIR"); dir != "" {
				if err := WriteReports(dir+"/"+mode, r.res); err != nil {
					t.Error(err)
				}
				r.res.Summary().WriteText(os.Stdout)
			}
		})
	}
}

// invalidText reports whether a case sends invalid UTF-8 as text or as a
// close reason: the messages are rebuilt from the case's steps.
func invalidText(c *Case) bool {
	var text []byte
	inText := false
	for _, s := range c.Steps {
		switch s.Do {
		case StepMessage:
			if !s.Binary && !frame.ValidUTF8(s.Payload.Bytes()) {
				return true
			}
		case StepFrame, StepFrameHeaderOnly:
			switch s.Opcode {
			case int(frame.OpText):
				text, inText = nil, true
			case int(frame.OpBinary):
				inText = false
			}
			if s.Do == StepFrame && inText && (s.Opcode == int(frame.OpText) || s.Opcode == int(frame.OpContinuation)) {
				text = append(text, s.Payload.Bytes()...)
				if s.Fin && !frame.ValidUTF8(text) {
					return true
				}
			}
		case StepFramePayloadChunk:
			text = append(text, s.Payload.Bytes()...)
		case StepEndStreamed:
			if !frame.ValidUTF8(text) {
				return true
			}
		case StepClose:
			if s.Reason != nil && !frame.ValidUTF8(s.Reason.Bytes()) {
				return true
			}
		}
	}
	return false
}

func usesReservedOpcode(c *Case) bool {
	for _, s := range c.Steps {
		if s.Do == StepFrame && frame.Opcode(s.Opcode).IsReserved() {
			return true
		}
	}
	return false
}

func expectsPong(c *Case) bool {
	for _, evs := range c.Outcomes {
		for _, e := range evs {
			if e.Type == expectedEventPong {
				return true
			}
		}
	}
	return false
}

// fuzzerClosePayload returns the payload of the case's first CLOSE step, and
// whether it has one.
func fuzzerClosePayload(c *Case) ([]byte, bool) {
	for _, s := range c.Steps {
		if s.Do != StepClose {
			continue
		}
		var p []byte
		if s.Code != nil {
			p = binary.BigEndian.AppendUint16(p, uint16(*s.Code))
		}
		if s.Reason != nil {
			p = append(p, s.Reason.Bytes()...)
		}
		return p, true
	}
	return nil, false
}

// echoedCloseFails predicts the failures of a testee that answers a close
// frame with the same payload. Where the fuzzer's own close carries a code
// that is not valid on the wire or a reason that is not UTF-8 (7.5.1,
// 7.9.x), the echo is an invalid close whose code still counts: WRONG CODE,
// and FAILED through "+wc", in both modes. A 1-byte payload (7.3.2) echoed
// has no code; the fuzzer drops TCP, which fails only a client-mode
// fuzzer's case (FAILED BY CLIENT). A 126-byte close (7.3.6) is rejected by
// its header, not echoed.
func echoedCloseFails(c *Case, mode string) bool {
	p, ok := fuzzerClosePayload(c)
	if !ok || c.ForcedVerdict != "" || len(p) > frame.MaxControlPayload {
		return false
	}
	if len(p) == 1 {
		return mode == ModeFuzzingClient
	}
	_, _, err := frame.ParseClose(p)
	return err != nil
}

// brokenTestees are the deliberately broken testees and, for each, which
// cases must fail, predicted from the catalogue.
var brokenTestees = []struct {
	name  string
	f     flaws
	opts  *Options
	fails func(c *Case, mode string) bool
}{
	{"no-utf8-validation", flaws{noUTF8: true}, nil, func(c *Case, _ string) bool {
		return invalidText(c)
	}},
	{"accepts-reserved-opcodes", flaws{acceptReserved: true}, nil, func(c *Case, _ string) bool {
		return usesReservedOpcode(c)
	}},
	{"wrong-pong-payload", flaws{badPong: true}, nil, func(c *Case, _ string) bool {
		return expectsPong(c)
	}},
	{"echoes-close-verbatim", flaws{echoClose: true}, nil, echoedCloseFails},
	// Short close timeouts: every case the fuzzer closes waits for one.
	{"never-answers-close", flaws{ignoreClose: true},
		&Options{CloseHandshakeTimeout: 60 * time.Millisecond, ServerDropTimeout: 60 * time.Millisecond},
		func(c *Case, mode string) bool {
			if c.ForcedVerdict != "" || !c.Close.FuzzerClosesFirst {
				return false
			}
			// The close handshake times out, so the connection is
			// unclean; where cleanliness is not required a
			// client-mode fuzzer still had to drop TCP itself.
			return c.Close.RequireClean || mode == ModeFuzzingClient
		}},
}

// brokenExclude leaves out section 9, whose big messages none of the flaws
// touch (reason for the skip: run time).
var brokenExclude = []string{"9.*"}

// compressedCases covers every dataset and every negotiation rule with the
// smaller messages; the text of html_data1 has non-ASCII characters, so
// 12.4.x checks the character counting.
var compressedCases = []string{
	"12.1.1", "12.2.2", "12.3.1", "12.4.3", "12.5.1",
	"13.1.1", "13.2.2", "13.3.1", "13.4.1", "13.5.2", "13.6.1", "13.7.1",
}

// TestTimedRuns runs the broken testees, the permessage-deflate cases and
// a testee without permessage-deflate, all at once, in both modes.
func TestTimedRuns(t *testing.T) {
	t.Parallel()
	var rs []*run
	for _, b := range brokenTestees {
		for _, mode := range modes {
			rs = append(rs, &run{name: b.name + "/" + mode, mode: mode, f: b.f, opts: b.opts,
				include: sections1to10, exclude: brokenExclude})
		}
	}
	compressed := compressedCases
	if reduced() {
		compressed = []string{"12.1.1", "12.4.2", "13.3.1", "13.7.1"}
	}
	if os.Getenv("AUTOBAHN_FULL_PMCE") != "" {
		compressed = []string{"12.*", "13.*"} // all 216 cases: minutes
	}
	declined := []string{"12.1.1", "12.5.18", "13.7.18"}
	for _, mode := range modes {
		rs = append(rs,
			&run{name: "deflate/" + mode, mode: mode, f: flaws{deflate: true}, include: compressed},
			&run{name: "no-deflate/" + mode, mode: mode, include: declined})
	}
	runAll(t, rs)

	i := 0
	for _, b := range brokenTestees {
		for _, mode := range modes {
			r := rs[i]
			i++
			t.Run(r.name, func(t *testing.T) {
				if r.res == nil {
					t.Skip("run failed")
				}
				want := predict(r.include, r.exclude, func(c *Case) bool { return b.fails(c, mode) })
				var wrong []string
				for _, c := range r.res.Cases {
					if c.Failed() != slices.Contains(want, c.ID) {
						t.Logf("case %s", describe(c))
						wrong = append(wrong, c.ID)
					}
				}
				r.retry(t, wrong)
				got := failedIDs(r.res)
				if slices.Equal(want, got) {
					return
				}
				var missing, extra []string
				for _, id := range want {
					if !slices.Contains(got, id) {
						missing = append(missing, id)
					}
				}
				for _, id := range got {
					if !slices.Contains(want, id) {
						extra = append(extra, "\n  "+describe(r.res.Lookup("raw-testee", id)))
					}
				}
				t.Errorf("failing cases: %d, predicted %d\npredicted but passed: %v\nunexpected failures:%s",
					len(got), len(want), missing, strings.Join(extra, ""))
			})
		}
	}
	for ; i < len(rs); i++ {
		r := rs[i]
		t.Run(r.name, func(t *testing.T) {
			if r.res == nil {
				t.Skip("run failed")
			}
			for _, c := range r.res.Cases {
				switch {
				case r.f.deflate && (c.Behavior != VerdictOK || c.BehaviorClose != VerdictOK) && retried(t, r, c):
					t.Errorf("case %s", describe(c))
				case r.f.deflate && (c.PMCE == nil || c.RatioOut == nil || c.RatioIn == nil):
					t.Errorf("case %s: pmce %v, ratios %v %v", c.ID, c.PMCE, c.RatioOut, c.RatioIn)
				case !r.f.deflate && (c.Behavior != VerdictUnimplemented || c.BehaviorClose != VerdictOK || c.Failed()):
					t.Errorf("case %s, want UNIMPLEMENTED / OK", describe(c))
				}
			}
		})
	}
}

// retried runs case c of r again and reports whether it is still not OK.
func retried(t *testing.T, r *run, c *CaseResult) bool {
	t.Logf("case %s", describe(c))
	r.retry(t, []string{c.ID})
	c = r.res.Lookup("raw-testee", c.ID)
	return c.Behavior != VerdictOK || c.BehaviorClose != VerdictOK
}

// TestEchoedInvalidClose runs section 7 against a testee that echoes every
// close frame byte for byte. The echo of the fuzzer's invalid close (7.5.1:
// a reason that is not UTF-8; 7.9.x: a code not valid on the wire) is an
// invalid close frame, but its code is the testee's close code, as in the
// suite: WRONG CODE, and through "+wc" FAILED with the close verdict's
// reason, in both modes. 7.3.6 (a 126-byte close) is not echoed and passes.
func TestEchoedInvalidClose(t *testing.T) {
	t.Parallel()
	var rs []*run
	for _, mode := range modes {
		rs = append(rs, &run{name: "echoes-close/" + mode, mode: mode, f: flaws{echoClose: true}, include: []string{"7.*"}})
	}
	runAll(t, rs)
	for _, r := range rs {
		t.Run(r.mode, func(t *testing.T) {
			if r.res == nil {
				t.Skip("run failed")
			}
			var invalid int
			for _, cr := range r.res.Cases {
				c := LookupCase(cr.ID)
				p, _ := fuzzerClosePayload(c)
				if _, _, err := frame.ParseClose(p); len(p) < 2 || len(p) > frame.MaxControlPayload || err == nil {
					if want := echoedCloseFails(c, r.mode); cr.Failed() != want {
						t.Errorf("case %s, predicted failed=%v", describe(cr), want)
					}
					continue
				}
				if c.ForcedVerdict != "" {
					continue // 7.13.x
				}
				invalid++
				code := int(binary.BigEndian.Uint16(p))
				switch {
				case cr.Behavior != VerdictFailed || cr.BehaviorClose != VerdictWrongCode:
					t.Errorf("case %s, want FAILED / WRONG CODE", describe(cr))
				case cr.RemoteCloseCode == nil || *cr.RemoteCloseCode != code:
					t.Errorf("case %s: remoteCloseCode %v, want %d", cr.ID, cr.RemoteCloseCode, code)
				case cr.RemoteReason != nil:
					t.Errorf("case %s: remoteCloseReason %q, want null (the close frame was invalid)", cr.ID, *cr.RemoteReason)
				case cr.Result != cr.ResultClose+" (WRONG CODE fails this case)":
					t.Errorf("case %s: result %q does not give the close verdict's reason %q", cr.ID, cr.Result, cr.ResultClose)
				case cr.WasClean || !cr.FailedByMe || !strings.Contains(cr.FailReason, "invalid close frame"):
					t.Errorf("case %s: wasClean %v, failedByMe %v (%s), want an unclean, failed connection", cr.ID, cr.WasClean, cr.FailedByMe, cr.FailReason)
				}
			}
			if invalid != 10 {
				t.Errorf("%d cases with an invalid fuzzer close, want 10 (7.5.1, 7.9.1-7.9.9)", invalid)
			}
			if cr := r.res.Lookup("raw-testee", "7.3.6"); cr == nil || cr.Failed() || cr.RemoteCloseCode == nil || *cr.RemoteCloseCode != 1002 {
				t.Errorf("7.3.6: %+v, want OK with the testee's 1002", cr)
			}
		})
	}
}

// TestEvaluatorReasons checks the headline reason of an evaluator case
// (9.x, 12.x) whose testee closes (1008) before the echo arrives: it says
// so, rather than that the evaluator ran out of time.
func TestEvaluatorReasons(t *testing.T) {
	t.Parallel()
	var rs []*run
	for _, mode := range modes {
		rs = append(rs,
			&run{name: "close-first/" + mode, mode: mode, f: flaws{closeFirst: true}, include: []string{"9.1.1", "9.7.1"}},
			&run{name: "close-first-deflate/" + mode, mode: mode, f: flaws{closeFirst: true, deflate: true}, include: []string{"12.1.1"}})
	}
	runAll(t, rs)
	want := map[string]string{
		"9.1.1":  "the testee closed (code 1008) before the echo arrived",
		"9.7.1":  "the testee closed (code 1008) before echo 1 of 1000 arrived",
		"12.1.1": "the testee closed (code 1008) before echo 1 of 1000 arrived",
	}
	for _, r := range rs {
		if r.res == nil {
			continue
		}
		for _, cr := range r.res.Cases {
			if cr.Behavior != VerdictFailed || cr.Result != want[cr.ID] {
				t.Errorf("%s: case %s, want FAILED (%s)", r.name, describe(cr), want[cr.ID])
			}
			if cr.RemoteCloseCode == nil || *cr.RemoteCloseCode != 1008 {
				t.Errorf("%s: case %s: remoteCloseCode %v, want 1008", r.name, cr.ID, cr.RemoteCloseCode)
			}
		}
	}
}
