package autobahn

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/frame"
)

// Section 16: limits and resilience. The cases run after a normal opening
// handshake, in either mode, with steps of their own; the rule of every
// one is limitRule, with what counts as handling the load.

// The step kinds of section 16, which cases.json does not use.
const (
	stepFloodFragments = "flood_fragments" // a text message in Count fragments of Length bytes
	stepFloodEmpty     = "flood_empty"     // an empty text message in Count empty fragments
	stepFloodPings     = "flood_pings"     // Count pings of 125 bytes, numbered, then a text message
	stepDeflateBomb    = "deflate_bomb"    // one compressed binary message that inflates to Length bytes
	stepStopReading    = "stop_reading"    // stop reading from the connection
	stepResumeReading  = "resume_reading"  // read again
	stepBulk           = "bulk_messages"   // Count binary messages of Length bytes, without waiting
	stepSideEcho       = "side_echo"       // fuzzingclient: an echo on a second connection to the testee
)

// The durations of section 16 (before extraScale).
const (
	limitTimeLimit = 30.0 // seconds the testee has to handle or refuse a load
	hugeTimeLimit  = 5.0  // seconds to refuse a huge declared length
	stallSeconds   = 15.0 // how long the fuzzer does not read (16.5)
)

// limitRule is the rule every case of section 16 follows.
const limitRule = " OK: the testee handles it (%s), or refuses it with close 1009 (message too big) or 1008 (policy violation). " +
	"NON-STRICT: it refuses by dropping TCP without a close frame, or closes with 1011. " +
	"FAILED: any other close code, a violation the fuzzer has to fail the connection for (such as an echo larger than 64 MiB), or no reaction within the time limit."

func limitCases() []*Case {
	star := func(n int) *Payload { return &Payload{RepeatHex: "2a", Length: n} }
	// The time limit is a kill timer: the fuzzer closes with 1001 if the
	// connection is still open, and drops TCP if the testee's close is
	// not followed by the end of TCP (as in 1.* to 13.*).
	limitAfter := func(s float64) Step { return Step{Do: StepKillAfter, Seconds: s} }
	cases := []*Case{
		newExtraCase("16.1.1", "A text message of 100 000 bytes in 100 000 fragments of 1 byte", &extraCase{
			seconds: limitTimeLimit,
			rule:    fmt.Sprintf("Time limit 30 s."+limitRule, "its echo, 100 000 bytes, comes back"),
			react:   closeOnMessage, judge: judgeLimit(echoIs(false, 100000, '*')),
		}),
		newExtraCase("16.1.2", "An empty text message in 1 000 000 empty fragments", &extraCase{
			seconds: limitTimeLimit,
			rule:    fmt.Sprintf("Time limit 30 s."+limitRule, "its echo, an empty text message, comes back"),
			react:   closeOnMessage, judge: judgeLimit(echoIs(false, 0, 0)),
		}),
		newExtraCase("16.2.1", "10 000 pings of 125 bytes back to back, then a text message", &extraCase{
			seconds: limitTimeLimit,
			rule: fmt.Sprintf("Time limit 30 s."+limitRule+" With the echo, the last pong must carry the last ping's payload (RFC 6455, Section 5.5.3: an endpoint may answer only the most recent ping), else NON-STRICT; a pong with a payload no ping had is FAILED.",
				"the text message's echo comes back"),
			react: closeOnMessage, judge: judgeLimit(pingFloodHandled),
		}),
		newExtraCase("16.3.1", "A text frame that declares 2^63-1 payload bytes, then 16 bytes of it", &extraCase{
			seconds: hugeTimeLimit,
			rule:    fmt.Sprintf("Time limit 5 s: the testee must not wait for the payload."+limitRule, "not possible here: it must refuse"),
			judge:   judgeLimit(nil),
		}),
		newExtraCase("16.3.2", "A binary frame that declares 2^40 payload bytes (1 TiB), then 16 bytes of it", &extraCase{
			seconds: hugeTimeLimit,
			rule:    fmt.Sprintf("Time limit 5 s: the testee must not wait for the payload."+limitRule, "not possible here: it must refuse"),
			judge:   judgeLimit(nil),
		}),
		newExtraCase("16.3.3", "A binary frame that declares 2^32+1 payload bytes, then 16 bytes of it", &extraCase{
			seconds: hugeTimeLimit,
			rule:    fmt.Sprintf("Time limit 5 s: the testee must not wait for the payload."+limitRule, "not possible here: it must refuse"),
			judge:   judgeLimit(nil),
		}),
		newExtraCase("16.4.1", "A permessage-deflate bomb: 265 KB on the wire that inflate to 256 MiB", &extraCase{
			seconds: limitTimeLimit,
			rule: fmt.Sprintf("permessage-deflate is offered (accepted, in fuzzingserver mode), as in 12.1.1; UNIMPLEMENTED if it is not negotiated. Time limit 30 s."+limitRule,
				"not possible here: it must refuse, as it cannot echo 256 MiB within the fuzzer's 64 MiB limit"),
			react: closeOnMessage, judge: judgeLimit(nil), pmceFrom: "12.2.1",
		}),
		newExtraCase("16.5.1", "The fuzzer stops reading and sends 64 messages of 1 MiB to echo, for 15 s", &extraCase{
			seconds: stallSeconds + 5,
			rule:    "The testee should not wait for ever for a peer that does not read: OK if it ends the connection (close frame or TCP) while the fuzzer does not read, within 15 s; NON-STRICT if it is still there then (it has no write timeout). The result says how many bytes the testee took before the fuzzer's writes stalled.",
			judge:   judgeStall,
		}),
		newExtraCase("16.5.2", "As 16.5.1, and meanwhile an echo on a second connection to the testee server", &extraCase{
			modes: []string{ModeFuzzingClient}, seconds: stallSeconds + 10,
			rule:  "One stuck peer must not stop a server: FAILED if the echo on the second connection, opened 2 s into the stall, does not come back within 5 s; otherwise as 16.5.1.",
			judge: judgeStall,
		}),
	}
	hugeHeader := func(op int, n int64) []Step {
		return []Step{
			{Do: StepFrameHeaderOnly, Opcode: op, Length: n},
			{Do: StepFramePayloadChunk, Payload: star(16)},
			limitAfter(hugeTimeLimit),
		}
	}
	steps := map[string][]Step{
		"16.1.1": {{Do: stepFloodFragments, Count: 100000, Length: 1}, limitAfter(limitTimeLimit)},
		"16.1.2": {{Do: stepFloodEmpty, Count: 1000000}, limitAfter(limitTimeLimit)},
		"16.2.1": {{Do: stepFloodPings, Count: 10000}, limitAfter(limitTimeLimit)},
		"16.3.1": hugeHeader(1, 1<<63-1),
		"16.3.2": hugeHeader(2, 1<<40),
		"16.3.3": hugeHeader(2, 1<<32+1),
		"16.4.1": {{Do: stepDeflateBomb, Length: 256 << 20}, limitAfter(limitTimeLimit)},
		"16.5.1": {{Do: stepStopReading}, {Do: stepBulk, Count: 64, Length: 1 << 20}, {Do: StepPause, Seconds: stallSeconds},
			{Do: stepResumeReading}, limitAfter(3)},
		"16.5.2": {{Do: stepStopReading}, {Do: stepBulk, Count: 64, Length: 1 << 20}, {Do: StepPause, Seconds: 2}, {Do: stepSideEcho},
			{Do: StepPause, Seconds: stallSeconds - 2}, {Do: stepResumeReading}, limitAfter(3)},
	}
	for _, c := range cases {
		c.Steps = steps[c.ID]
	}
	return cases
}

// limitStepHandlers are the step kinds of section 16, added to the
// runner's table.
func limitStepHandlers() map[string]func(r *runner, st *Step) bool {
	return map[string]func(r *runner, st *Step) bool{
		stepFloodFragments: func(r *runner, st *Step) bool {
			r.sendMessage(frame.OpText, bytes.Repeat([]byte{'*'}, st.Count*int(st.Length)), int(st.Length), 0)
			return false
		},
		stepFloodEmpty: func(r *runner, st *Step) bool {
			b := make([]byte, 0, st.Count*frame.MaxHeaderSize)
			for i := 0; i < st.Count; i++ {
				h := frame.Header{Fin: i == st.Count-1, Opcode: frame.OpContinuation, Masked: r.s.mask}
				if i == 0 {
					h.Opcode = frame.OpText
				}
				if h.Masked {
					h.Mask = maskKey()
				}
				r.log.add(dirTx, h, nil, 0, false, "")
				b = frame.AppendHeader(b, h)
			}
			r.w.enqueue(writeItem{b: b})
			return false
		},
		stepFloodPings: func(r *runner, st *Step) bool {
			var b []byte
			for i := 0; i < st.Count; i++ {
				p := pingPayload(i)
				h := frame.Header{Fin: true, Opcode: frame.OpPing, Masked: r.s.mask, Length: int64(len(p))}
				if h.Masked {
					h.Mask = maskKey()
				}
				r.log.add(dirTx, h, p, 0, false, "")
				b = r.appendFrame(b, h, p)
			}
			r.lastPing = pingPayload(st.Count - 1)
			r.w.enqueue(writeItem{b: b})
			r.sendFrame(frame.OpText, true, 0, []byte("after the pings"), 0, false, "")
			return false
		},
		stepDeflateBomb: func(r *runner, st *Step) bool {
			if r.s.pmce == nil {
				r.headline, r.headlineWhy = VerdictUnimplemented, "permessage-deflate was not negotiated"
				r.closeWith(1000, "")
				return false
			}
			bomb := deflateBomb(int(st.Length))
			r.rawOut, r.wireOut = st.Length, int64(len(bomb))
			r.sendFrame(frame.OpBinary, true, frame.RSV1, bomb, 0, false, fmt.Sprintf("inflates to %d bytes", st.Length))
			return false
		},
		stepStopReading: func(r *runner, st *Step) bool {
			r.gate.pause()
			r.stallStart = time.Now()
			return false
		},
		stepResumeReading: func(r *runner, st *Step) bool {
			r.stallWritten = r.w.written.Load()
			r.stallQueued = r.w.enqueued.Load() - r.stallWritten
			r.gate.resume()
			return false
		},
		stepBulk: func(r *runner, st *Step) bool {
			// Each message is a write of its own, so that what the
			// testee took can be counted while a write is stalled.
			msg := bytes.Repeat([]byte{0xa5}, int(st.Length))
			for range st.Count {
				r.sendFrame(frame.OpBinary, true, 0, msg, 0, true, "")
			}
			return false
		},
		stepSideEcho: func(r *runner, st *Step) bool {
			r.side = make(chan error, 1)
			go func(url string) { r.side <- sideEcho(url) }(r.s.url)
			return false
		},
	}
}

// pingPayload is the payload of the i-th ping of a flood: its number, then
// padding to 125 bytes.
func pingPayload(i int) []byte {
	p := fmt.Appendf(nil, "ping %08d ", i)
	return append(p, bytes.Repeat([]byte{'.'}, frame.MaxControlPayload-len(p))...)
}

var (
	bombOnce  sync.Once
	bombBlock [2][]byte // the first MiB of zeros, and every one after it, compressed
)

// deflateBomb returns a permessage-deflate payload that inflates to n
// zero bytes (n a multiple of 1 MiB): a compressed first mebibyte, then
// the compressed form of a mebibyte of zeros that follows zeros, repeated,
// without the final 00 00 ff ff (RFC 7692, Section 7.2.1).
func deflateBomb(n int) []byte {
	bombOnce.Do(func() {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestCompression)
		zeros := make([]byte, 1<<20)
		for i := range bombBlock {
			w.Write(zeros)
			w.Flush()
			bombBlock[i] = bytes.Clone(buf.Bytes())
			buf.Reset()
		}
	})
	b := bytes.Clone(bombBlock[0])
	for i := 1; i < n>>20; i++ {
		b = append(b, bombBlock[1]...)
	}
	return bytes.TrimSuffix(b, []byte{0, 0, 0xff, 0xff})
}

// sideEcho opens a second connection to a testee server with this
// library's client and echoes a message, within 5 s.
func sideEcho(url string) error {
	if url == "" {
		return fmt.Errorf("no URL to open a second connection to")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := conn.Dial(ctx, url, &conn.DialOptions{Options: conn.Options{ReadLimit: 1 << 20}, HandshakeTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, conn.Text, []byte("side echo")); err != nil {
		return err
	}
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil {
		return err
	} else if string(msg) != "side echo" {
		return fmt.Errorf("the echo was %q", msg)
	}
	c.Close(1000, "")
	return nil
}

// closeOnMessage closes with 1000 once a message has come (the echo that
// ends a case of section 16).
func closeOnMessage(r *runner, ev rdEvent) {
	if ev.kind == rdMessage {
		r.closeWith(1000, "")
	}
}

// echoIs returns the handled condition "the first message is an echo of n
// bytes of b" (text unless binary).
func echoIs(binary bool, n int, b byte) func(r *runner) (bool, string, string) {
	return func(r *runner) (bool, string, string) {
		for _, e := range r.events {
			if e.Type == expectedEventMessage {
				if e.Binary == binary && e.Length == n && (n == 0 || bytes.Count(e.data, []byte{b}) == n) {
					return true, VerdictOK, fmt.Sprintf("the echo came back: %d bytes", n)
				}
				return false, VerdictFailed, fmt.Sprintf("the testee sent back a message of %d bytes, not the echo", e.Length)
			}
		}
		return false, "", ""
	}
}

// pingFloodHandled: the echo of the text message came back; OK if the
// last pong has the last ping's payload; FAILED if a pong has a payload no
// ping had (RFC 6455, Section 5.5.3: "identical Application data").
func pingFloodHandled(r *runner) (bool, string, string) {
	var last, wrong []byte
	pongs, echoed := 0, false
	for _, e := range r.events {
		switch e.Type {
		case expectedEventPong:
			pongs++
			last = e.data
			if wrong == nil && !isPingPayload(e.data) {
				wrong = e.data
			}
		case expectedEventMessage:
			echoed = echoed || string(e.data) == "after the pings"
		}
	}
	switch {
	case wrong != nil:
		return false, VerdictFailed, fmt.Sprintf("a pong carries %.14q, the payload of no ping (RFC 6455, Section 5.5.3: a pong has the ping's Application data)", wrong)
	case !echoed:
		return false, "", ""
	case bytes.Equal(last, r.lastPing):
		return true, VerdictOK, fmt.Sprintf("the echo came back, after %d pongs, the last for the last ping", pongs)
	case pongs == 0:
		return true, VerdictNonStrict, "the echo came back, but no pong"
	}
	return true, VerdictNonStrict, fmt.Sprintf("the echo came back, after %d pongs, the last not for the last ping (%.14q)", pongs, last)
}

// isPingPayload reports whether p is the payload of a ping of a flood.
func isPingPayload(p []byte) bool {
	var n int
	_, err := fmt.Sscanf(string(p), "ping %08d ", &n)
	return err == nil && bytes.Equal(p, pingPayload(n))
}

// limitEnd says how a case of section 16 ended, for its close verdict.
func limitEnd(r *runner) string {
	code := "without a status code"
	if r.hasRemoteCode {
		code = fmt.Sprintf("with %d", r.remoteCode)
	}
	switch {
	case r.killed:
		return "the fuzzer closed with 1001 at the time limit"
	case (r.gotClose || r.badClose != "") && !r.fuzzerInitiated:
		return "the testee closed first, " + code
	case r.gotClose && r.fuzzerInitiated:
		return "the fuzzer closed and the testee answered, " + code
	case r.fuzzerInitiated:
		return "the fuzzer closed; the testee did not answer"
	case !r.dropped:
		return "the testee dropped TCP without a close frame"
	}
	return "the fuzzer dropped TCP"
}

// judgeLimit returns the judge of a case of section 16 whose testee
// handles the load when handled says so (nil: it cannot).
func judgeLimit(handled func(r *runner) (bool, string, string)) func(r *runner, res *CaseResult) {
	return func(r *runner, res *CaseResult) {
		pass := func(v, why string) {
			close := VerdictOK
			if v == VerdictFailed {
				close = VerdictFailed
			}
			res.verdicts(v, why, close, limitEnd(r))
		}
		if r.headline == VerdictUnimplemented {
			res.verdicts(VerdictUnimplemented, r.headlineWhy, VerdictOK, limitEnd(r))
			return
		}
		if handled != nil {
			if ok, v, why := handled(r); ok || v != "" {
				pass(v, why)
				return
			}
		}
		testeeClosed := r.gotClose && !r.fuzzerInitiated || r.badClose != "" && !r.fuzzerInitiated
		switch {
		case r.failed && !testeeClosed:
			pass(VerdictFailed, "the fuzzer failed the connection: "+r.failReason)
		case testeeClosed && r.hasRemoteCode && (r.remoteCode == 1009 || r.remoteCode == 1008):
			pass(VerdictOK, fmt.Sprintf("the testee refused the load with close %d", r.remoteCode))
		case testeeClosed && r.hasRemoteCode && r.remoteCode == 1011:
			pass(VerdictNonStrict, "the testee gave up with close 1011 (internal error)")
		case testeeClosed && r.hasRemoteCode:
			pass(VerdictFailed, fmt.Sprintf("the testee closed with %d, not 1009 or 1008", r.remoteCode))
		case testeeClosed:
			pass(VerdictFailed, "the testee closed without a status code, not with 1009 or 1008")
		case !r.gotClose && !r.fuzzerInitiated && !r.dropped:
			pass(VerdictNonStrict, "the testee refused the load by dropping TCP without a close frame")
		case r.killed:
			pass(VerdictFailed, "no reaction from the testee within the time limit")
		default:
			pass(VerdictFailed, "the testee neither handled nor refused the load")
		}
	}
}

// judgeStall judges 16.5.x: did the testee end the connection while the
// fuzzer did not read?
func judgeStall(r *runner, res *CaseResult) {
	took := fmt.Sprintf("the testee took %d of the %d bytes the fuzzer had to send when it read again", r.stallWritten, r.stallWritten+r.stallQueued)
	if r.side != nil {
		select {
		case err := <-r.side:
			if err != nil {
				res.verdicts(VerdictFailed, "while one peer did not read, an echo on a second connection failed: "+err.Error()+"; "+took, VerdictOK, limitEnd(r))
				return
			}
		case <-time.After(5 * time.Second):
			res.verdicts(VerdictFailed, "while one peer did not read, an echo on a second connection did not come back; "+took, VerdictOK, limitEnd(r))
			return
		}
	}
	// A testee that ended the connection during the stall is seen to
	// have done so when the fuzzer reads again, before its close timer
	// (3 s) fires; one that is still there goes on echoing and gets the
	// fuzzer's close.
	if !r.fuzzerInitiated {
		res.verdicts(VerdictOK, "the testee ended the connection while the fuzzer did not read; "+took, VerdictOK, limitEnd(r))
		return
	}
	res.verdicts(VerdictNonStrict, fmt.Sprintf("the testee kept the connection for the %v the fuzzer did not read; %s", scaled(stallSeconds), took), VerdictOK, limitEnd(r))
}
