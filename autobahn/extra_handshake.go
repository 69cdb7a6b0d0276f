package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

// Section 14: the opening handshake of RFC 6455, Section 4, with the
// testee as the server. The fuzzer writes a request of its own making,
// byte for byte, and judges the answer; a request the server must accept
// is followed by an echo and a closing handshake.

// hsExpect is what a handshake case expects of the testee.
type hsExpect int

const (
	hsAccept hsExpect = iota // 101 with a valid response, then an echo
	hsRefuse                 // an HTTP error status (ok lists the preferred ones)
	hsInform                 // informational: either is fine
	hsGiveUp                 // flood or trickle: give up without a 101
)

// hsWrite is how the fuzzer writes the handshake.
type hsWrite int

const (
	writeAtOnce    hsWrite = iota // one write
	writeBytewise                 // a byte per write, 5 ms apart
	writePipelined                // the request and the first frame in one write
	writeFlood                    // the request, padded with megabytes of header fields
	writeTrickle                  // an unfinished request, one more byte every 500 ms
)

// Sizes and times of the floods and trickles (before extraScale).
const (
	floodBytes      = 2 << 20 // header fields the flood cases send
	trickleSeconds  = 20.0    // how long a trickle goes on
	trickleInterval = 0.5     // seconds between its bytes
	giveUpSeconds   = 10.0    // how long a flood's answer may take
)

// hsCase is a handshake case of section 14 (the request) or 15 (the
// response).
type hsCase struct {
	id, title string
	edit      func(h *headerLines, key string) // changes the reference message
	write     hsWrite
	expect    hsExpect
	ok        []int // hsRefuse: the statuses that give OK; another 4xx is NON-STRICT
	versionOK bool  // OK also needs Sec-WebSocket-Version: 13 in the answer
	anyStatus bool  // not a WebSocket request: any answer but 101 is OK
	protocol  string
	rule      string
}

// headerLines is an HTTP message head as lines: the start line, then the
// header fields, each "Name: value", in order.
type headerLines struct{ lines []string }

func (h *headerLines) bytes() []byte {
	var b bytes.Buffer
	for _, l := range h.lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func (h *headerLines) index(name string) int {
	for i, l := range h.lines[1:] {
		if n, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(n, name) {
			return i + 1
		}
	}
	return -1
}

// set replaces the field (or adds it).
func (h *headerLines) set(name, value string) {
	if i := h.index(name); i > 0 {
		h.lines[i] = name + ": " + value
		return
	}
	h.add(name, value)
}

func (h *headerLines) add(name, value string) { h.lines = append(h.lines, name+": "+value) }

func (h *headerLines) del(name string) {
	for i := h.index(name); i > 0; i = h.index(name) {
		h.lines = append(h.lines[:i], h.lines[i+1:]...)
	}
}

// lower writes every field name in lower case.
func (h *headerLines) lower() {
	for i, l := range h.lines[1:] {
		if n, v, ok := strings.Cut(l, ":"); ok {
			h.lines[i+1] = strings.ToLower(n) + ":" + v
		}
	}
}

// referenceRequest is the request the fuzzer sends in 1.* to 13.*.
func referenceRequest(u *wsURL, key, userAgent string) *headerLines {
	return &headerLines{lines: []string{
		"GET " + u.target + " HTTP/1.1",
		"User-Agent: " + userAgent,
		"Host: " + u.host,
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + key,
		"Sec-WebSocket-Version: 13",
	}}
}

// keyOf returns a base64 key of n random bytes.
func keyOf(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*37 + 11)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func serverHandshakeCases() []*Case {
	refuse := "the server must refuse it with an HTTP error status (RFC 6455, Section 4.2.1: \"such as 400 Bad Request\")"
	cases := []hsCase{
		{id: "14.1.1", title: "The request the fuzzer sends in 1.* to 13.*", expect: hsAccept},
		{id: "14.1.2", title: "Header field names in lower case (RFC 9110, Section 5.1: field names are case-insensitive)", expect: hsAccept,
			edit: func(h *headerLines, _ string) { h.lower() }},
		{id: "14.1.3", title: "Upgrade: WEBSOCKET, in upper case (Section 4.2.1, item 3: an ASCII case-insensitive match)", expect: hsAccept,
			edit: func(h *headerLines, _ string) { h.set("Upgrade", "WEBSOCKET") }},
		{id: "14.1.4", title: "Connection: keep-alive, Upgrade, a list holding the token (as Firefox sends it)", expect: hsAccept,
			edit: func(h *headerLines, _ string) { h.set("Connection", "keep-alive, Upgrade") }},
		{id: "14.1.5", title: "Connection: upgrade, in lower case (Section 4.2.1, item 4)", expect: hsAccept,
			edit: func(h *headerLines, _ string) { h.set("Connection", "upgrade") }},
		{id: "14.1.6", title: "Extra white space around the field values (RFC 9112, Section 5: OWS)", expect: hsAccept,
			edit: func(h *headerLines, key string) {
				h.set("Sec-WebSocket-Key", "  "+key+"  ")
				h.set("Sec-WebSocket-Version", " 13 ")
			}},
		{id: "14.1.7", title: "A subprotocol the server does not know, offered (Section 4.2.2: the server may select none)", expect: hsAccept,
			protocol: "x-wstest-unknown", edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Protocol", "x-wstest-unknown") }},
		{id: "14.1.8", title: "An extension the server does not know, offered (Section 9.1: it must not be in the answer)", expect: hsAccept,
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Extensions", "x-wstest-unknown; p=1") }},
		{id: "14.1.9", title: "Origin of another site (Section 4.2.2, item 4: a server may refuse it with 403)", expect: hsInform,
			edit: func(h *headerLines, _ string) { h.set("Origin", "http://wstest.example") }},
		{id: "14.2.1", title: "No Sec-WebSocket-Key", expect: hsRefuse, ok: []int{400},
			edit: func(h *headerLines, _ string) { h.del("Sec-WebSocket-Key") }},
		{id: "14.2.2", title: "A Sec-WebSocket-Key that is not base64", expect: hsRefuse, ok: []int{400},
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Key", "not base64, not at all!") }},
		{id: "14.2.3", title: "A Sec-WebSocket-Key of 15 bytes (Section 4.1: 16 bytes)", expect: hsRefuse, ok: []int{400},
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Key", keyOf(15)) }},
		{id: "14.2.4", title: "A Sec-WebSocket-Key of 17 bytes", expect: hsRefuse, ok: []int{400},
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Key", keyOf(17)) }},
		{id: "14.2.5", title: "Two Sec-WebSocket-Key fields (Section 11.3.1: it must not appear more than once)", expect: hsRefuse, ok: []int{400},
			edit: func(h *headerLines, _ string) { h.add("Sec-WebSocket-Key", keyOf(16)) }},
		{id: "14.2.6", title: "No Sec-WebSocket-Version", expect: hsRefuse, ok: []int{400, 426},
			edit: func(h *headerLines, _ string) { h.del("Sec-WebSocket-Version") }},
		{id: "14.2.7", title: "Sec-WebSocket-Version: 14, a version the server cannot know (Section 4.4)", expect: hsRefuse, ok: []int{400, 426}, versionOK: true,
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Version", "14") }},
		{id: "14.2.8", title: "Method POST (Section 4.2.1, item 1: a GET request)", expect: hsRefuse, ok: []int{400, 405},
			edit: func(h *headerLines, _ string) { h.lines[0] = "POST" + strings.TrimPrefix(h.lines[0], "GET") }},
		{id: "14.2.9", title: "HTTP/1.0 (Section 4.2.1, item 1: HTTP/1.1 or higher)", expect: hsRefuse, ok: []int{400, 426, 505},
			edit: func(h *headerLines, _ string) { h.lines[0] = strings.TrimSuffix(h.lines[0], "1.1") + "1.0" }},
		{id: "14.2.10", title: "No Host field (RFC 9112, Section 3.2: answered with 400)", expect: hsRefuse, ok: []int{400},
			edit: func(h *headerLines, _ string) { h.del("Host") }},
		{id: "14.2.11", title: "Two Host fields (RFC 9112, Section 3.2: answered with 400)", expect: hsRefuse, ok: []int{400},
			edit: func(h *headerLines, _ string) { h.add("Host", "wstest.example") }},
		{id: "14.2.12", title: "No Upgrade field: not a WebSocket request, so no 101", expect: hsRefuse, anyStatus: true,
			edit: func(h *headerLines, _ string) { h.del("Upgrade") }},
		{id: "14.2.13", title: "Upgrade: h2c, another protocol, so no switch to WebSocket", expect: hsRefuse, anyStatus: true,
			edit: func(h *headerLines, _ string) { h.set("Upgrade", "h2c") }},
		{id: "14.2.14", title: "No Connection field (Section 4.2.1, item 4)", expect: hsRefuse, ok: []int{400, 426},
			edit: func(h *headerLines, _ string) { h.del("Connection") }},
		{id: "14.2.15", title: "Connection: keep-alive, without the upgrade token", expect: hsRefuse, ok: []int{400, 426},
			edit: func(h *headerLines, _ string) { h.set("Connection", "keep-alive") }},
		{id: "14.3.1", title: "A flood of header fields: 2 MiB of them", expect: hsGiveUp, write: writeFlood},
		{id: "14.3.2", title: "One header field of 2 MiB", expect: hsGiveUp, write: writeFlood,
			edit: func(h *headerLines, _ string) { h.add("X-Wstest-Big", "") }},
		{id: "14.3.3", title: "Slowloris: an unfinished request, one more byte every 500 ms for 20 s", expect: hsGiveUp, write: writeTrickle},
		{id: "14.3.4", title: "The whole request one byte at a time, 5 ms apart: a slow but complete handshake", expect: hsAccept, write: writeBytewise},
		{id: "14.3.5", title: "The request and the first frame in one write (Section 4.1: a client must wait for the answer)", expect: hsInform, write: writePipelined},
	}
	var out []*Case
	for i := range cases {
		hc := &cases[i]
		switch hc.expect {
		case hsAccept:
			hc.rule = "The server must accept the request: 101 with Upgrade: websocket, Connection: Upgrade and the Sec-WebSocket-Accept of the key (Section 4.2.2), no subprotocol or extension the request did not offer; then a text message is echoed and the closing handshake completes. OK if so; FAILED otherwise."
		case hsRefuse:
			if hc.anyStatus {
				hc.rule = "Not a WebSocket request: the server must not switch to WebSocket. OK: any answer but 101 (an error status, or the resource as for any HTTP request); NON-STRICT: the connection closed without an answer; FAILED: 101 with Upgrade: websocket, or no answer within 5 s."
				break
			}
			hc.rule = fmt.Sprintf("%s. OK: status %s%s; NON-STRICT: another 4xx status, or the connection closed without an answer; FAILED: 101, or no answer within 5 s.",
				upperFirst(refuse), statusList(hc.ok), map[bool]string{true: " with a Sec-WebSocket-Version field that lists 13", false: ""}[hc.versionOK])
		case hsInform:
			hc.rule = "Informational: the server may accept the request (101 and an echo) or refuse it (403); the result says which. FAILED only if the answer is a malformed 101 or none comes within 5 s."
			if hc.write == writePipelined {
				hc.rule = "Informational: RFC 6455, Section 4.1, makes a client wait for the answer before it sends data, so a server may take the frame that came early (101, then its echo), lose it, or refuse the connection; the result says which. FAILED only if the answer is a malformed 101 or none comes within 5 s."
			}
		case hsGiveUp:
			if hc.write == writeTrickle {
				hc.rule = "The server should give up on a request that never ends: OK if it closes the connection (or answers with an error status) within 20 s; NON-STRICT if it still waits then; FAILED if it answers 101."
			} else {
				hc.rule = "The server must not accept it: OK if it answers with an error status (431, 400, 413, ...) or closes the connection, within 10 s of the end of the request; FAILED if it answers 101 or neither answers nor closes."
			}
		}
		secs := 5.0
		switch hc.write {
		case writeTrickle:
			secs = trickleSeconds + 5
		case writeFlood:
			secs = giveUpSeconds + 5
		case writeBytewise:
			secs = 10
		}
		out = append(out, newExtraCase(hc.id, hc.title, &extraCase{
			modes: []string{ModeFuzzingClient}, seconds: secs, rule: hc.rule,
			client: func(ctx context.Context, t *clientTarget) (*CaseResult, error) { return runServerHandshake(ctx, t, hc) },
		}))
	}
	return out
}

// handshakeEcho is the case an accepted handshake of sections 14 and 15
// goes on with: a text message, echoed, then the fuzzer's close.
var handshakeEcho = &Case{
	ID: "handshake-echo", Title: "echo after the handshake",
	Steps: []Step{
		{Do: StepFrame, Opcode: 1, Fin: true, Payload: &Payload{Hex: fmt.Sprintf("%x", "Hello, wstest")}},
		{Do: StepKillAfter, Seconds: 3},
	},
	Outcomes: map[string][]ExpectedEvent{outcomeOK: {{Type: expectedEventMessage, Payload: &Payload{Hex: fmt.Sprintf("%x", "Hello, wstest")}}}},
	Close:    CloseExpectation{FuzzerClosesFirst: true, AcceptedCodes: []int{1000}, RequireClean: true},
}

// handshakeEchoWaiting is handshakeEcho for a message sent with the
// handshake: it only waits for the echo.
var handshakeEchoWaiting = &Case{
	ID: "handshake-echo", Title: "echo of the message sent with the handshake",
	Steps:    []Step{{Do: StepKillAfter, Seconds: 3}},
	Outcomes: handshakeEcho.Outcomes,
	Close:    handshakeEcho.Close,
}

// runServerHandshake runs a case of section 14 against a testee server.
func runServerHandshake(ctx context.Context, t *clientTarget, hc *hsCase) (*CaseResult, error) {
	o := t.o
	started := time.Now()
	d := net.Dialer{Timeout: timeout(o.OpenHandshakeTimeout)}
	nc, err := d.DialContext(ctx, "tcp", t.u.addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errConnect, err)
	}
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	agent := t.agent
	res := newCaseResult(t.c, agent, ModeFuzzingClient, true)
	res.Started, res.TLS = started, t.u.secure
	log := newWireLog(started, o.WireLogLimit)
	finish := func(b, why, bc, whyc string) (*CaseResult, error) {
		if res.Agent == "" {
			res.Agent = "UnknownServer"
		}
		res.verdicts(b, why, bc, whyc)
		res.Duration = time.Since(started).Milliseconds()
		res.DroppedByMe = true
		if res.WireLog == nil {
			res.WireLog, res.Wire = log.snapshot()
		}
		return res, nil
	}
	if t.u.secure {
		nc.SetDeadline(time.Now().Add(max(timeout(o.OpenHandshakeTimeout), 5*time.Second)))
		tc := tls.Client(nc, clientTLSConfig(o, t.srv, t.u, "http/1.1"))
		if err := tc.HandshakeContext(ctx); err != nil {
			return finish(VerdictFailed, "TLS handshake: "+err.Error(), VerdictFailed, "no WebSocket connection")
		}
		nc = tc
	}
	key := handshake.NewKey()
	h := referenceRequest(t.u, key, o.UserAgent)
	if hc.edit != nil {
		hc.edit(h, key)
	}
	req := h.bytes()
	var extra []byte
	switch hc.write {
	case writeFlood:
		req, extra = floodRequest(h, hc.id == "14.3.2")
	case writePipelined:
		hdr := frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: maskKey(), Length: int64(len("Hello, wstest"))}
		extra = frame.AppendFrame(nil, hdr, []byte("Hello, wstest"))
		log.add(dirTx, hdr, []byte("Hello, wstest"), 0, false, "sent with the handshake")
	}
	res.HTTPRequest = showMessage(req, len(extra), hc.write)
	// Write the request as the case says, while reading the answer.
	writeDone := make(chan error, 1)
	go func() { writeDone <- writeRequest(nc, req, extra, hc.write, log) }()
	answerBy := time.Now().Add(5 * time.Second)
	switch hc.write {
	case writeTrickle:
		answerBy = time.Now().Add(scaled(trickleSeconds))
	case writeFlood:
		answerBy = time.Now().Add(scaled(giveUpSeconds) + 30*time.Second) // the flood's own writing time is not counted below
	case writeBytewise:
		answerBy = time.Now().Add(time.Duration(len(req))*scaled(0.005) + 5*time.Second)
	}
	nc.SetReadDeadline(answerBy)
	br := bufio.NewReaderSize(octetLogger{nc, log, nil}, 64<<10)
	raw, rerr := readHeaderBlock(br)
	<-writeDone // a failed write (the server closed on us) shows in the answer
	res.HTTPResponse = string(raw)
	closed := rerr != nil && !isTimeout(rerr)
	timedOut := rerr != nil && isTimeout(rerr)
	var resp *http.Response
	if rerr == nil {
		resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: http.MethodGet})
		if err != nil {
			return finish(VerdictFailed, "the answer is not an HTTP response: "+err.Error(), VerdictFailed, "no valid answer")
		}
		if res.Agent == "" {
			res.Agent = resp.Header.Get("Server")
		}
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	switch hc.expect {
	case hsGiveUp:
		switch {
		case status == http.StatusSwitchingProtocols:
			return finish(VerdictFailed, "the server accepted the request (101)", VerdictFailed, "it should not have switched protocols")
		case status >= 400:
			return finish(VerdictOK, fmt.Sprintf("the server refused the request with %d", status), VerdictOK, "the server gave up on the request")
		case status != 0:
			return finish(VerdictFailed, fmt.Sprintf("the server answered %d", status), VerdictOK, "the server answered")
		case closed:
			return finish(VerdictOK, "the server closed the connection without an answer", VerdictOK, "the server gave up on the request")
		case hc.write == writeTrickle:
			return finish(VerdictNonStrict, fmt.Sprintf("the server still waited for the rest of the request after %v", scaled(trickleSeconds)), VerdictOK, "the fuzzer gave up")
		}
		return finish(VerdictFailed, "the server neither answered nor closed the connection", VerdictFailed, "no answer")
	case hsRefuse, hsInform:
		if status == 0 {
			if timedOut {
				return finish(VerdictFailed, "no answer within 5 s", VerdictFailed, "no answer")
			}
			if hc.expect == hsInform {
				return finish(VerdictInformational, "the server closed the connection without an answer", VerdictInformational, "closed without an answer")
			}
			return finish(VerdictNonStrict, "the server closed the connection without an HTTP answer", VerdictOK, "the server refused the request")
		}
		if status != http.StatusSwitchingProtocols {
			if hc.expect == hsInform {
				return finish(VerdictInformational, fmt.Sprintf("the server refused the request with %d", status), VerdictInformational, "refused")
			}
			if hc.anyStatus {
				return finish(VerdictOK, fmt.Sprintf("the server did not switch protocols: it answered %d", status), VerdictOK, "the server answered")
			}
			versions := resp.Header.Values("Sec-WebSocket-Version")
			withVersion := headerHasToken(resp.Header, "Sec-WebSocket-Version", "13")
			switch {
			case statusIn(status, hc.ok) && (!hc.versionOK || withVersion):
				return finish(VerdictOK, fmt.Sprintf("the server refused the request with %d", status), VerdictOK, "the server refused the request")
			case status >= 400 && status < 500:
				why := fmt.Sprintf("the server refused the request with %d, not %s", status, statusList(hc.ok))
				if statusIn(status, hc.ok) {
					why = fmt.Sprintf("the server refused the request with %d but its Sec-WebSocket-Version field (%q) does not list 13", status, strings.Join(versions, ", "))
				}
				return finish(VerdictNonStrict, why, VerdictOK, "the server refused the request")
			}
			return finish(VerdictFailed, fmt.Sprintf("the server answered %d, not an error status", status), VerdictOK, "the server answered")
		}
		if hc.expect == hsRefuse {
			if hc.anyStatus && !headerHasToken(resp.Header, "Upgrade", "websocket") {
				return finish(VerdictOK, "the server switched to the protocol asked for, not to WebSocket", VerdictOK, "the server answered")
			}
			return finish(VerdictFailed, "the server accepted the request (101); it must refuse it", VerdictFailed, "it should not have switched protocols")
		}
	case hsAccept:
		if status == 0 {
			why := "the server closed the connection without an answer"
			if timedOut {
				why = "no answer within 5 s"
				res.OpenTimeout = true
			}
			return finish(VerdictFailed, why, VerdictFailed, "no WebSocket connection")
		}
		if status != http.StatusSwitchingProtocols {
			return finish(VerdictFailed, fmt.Sprintf("the server refused a valid request with %d", status), VerdictFailed, "no WebSocket connection")
		}
	}
	// A 101: check it, then echo a message and close.
	srv := *t.srv
	srv.Protocols = nil
	if hc.protocol != "" {
		srv.Protocols = []string{hc.protocol}
	}
	if _, err := checkServerResponse(resp, key, &srv, false); err != nil {
		return finish(VerdictFailed, "invalid 101: "+err.Error(), VerdictFailed, "no valid WebSocket connection")
	}
	nc.SetDeadline(time.Time{})
	echoCase := handshakeEcho
	if hc.write == writePipelined {
		echoCase = handshakeEchoWaiting
	}
	// The session reads through br, which has logged the handshake.
	s := &session{
		nc: nc, br: br, client: true, agent: res.Agent, mode: ModeFuzzingClient,
		request: res.HTTPRequest, response: res.HTTPResponse, opened: time.Now(), tls: t.u.secure,
	}
	if s.agent == "" {
		s.agent = "UnknownServer"
	}
	er := runCase(ctx, echoCase, s, o)
	entries, _ := log.snapshot()
	res.WireLog, res.Wire = append(entries, er.WireLog...), er.Wire
	res.RemoteCloseCode, res.RemoteReason, res.LocalCloseCode, res.LocalReason = er.RemoteCloseCode, er.RemoteReason, er.LocalCloseCode, er.LocalReason
	res.ClosedByMe, res.FailedByMe, res.FailReason, res.WasClean, res.WasNotCleanReason = er.ClosedByMe, er.FailedByMe, er.FailReason, er.WasClean, er.WasNotCleanReason
	res.CloseTimeout, res.DropTimeout, res.OpenHandshakeDone, res.Received, res.ReceivedTotal = er.CloseTimeout, er.DropTimeout, true, er.Received, er.ReceivedTotal
	if res.Agent == "" {
		res.Agent = s.agent
	}
	b, why := er.Behavior, "the server accepted the request and echoed a message: "+er.Result
	if er.Behavior != VerdictOK {
		why = "the server accepted the request, but the echo failed: " + er.Result
	}
	if hc.expect == hsInform {
		b, why = VerdictInformational, "the server accepted the request (101) and "+map[bool]string{true: "echoed a message", false: "did not echo: " + er.Result}[er.Behavior == VerdictOK]
	}
	res.verdicts(b, why, er.BehaviorClose, er.ResultClose)
	if hc.expect == hsInform && er.BehaviorClose != VerdictOK {
		res.BehaviorClose = VerdictInformational
	}
	res.Duration = time.Since(started).Milliseconds()
	res.DroppedByMe = er.DroppedByMe
	return res, nil
}

// floodRequest returns the head of a flood case: the request with
// floodBytes of header fields (many small ones, or one big one) before its
// end.
func floodRequest(h *headerLines, one bool) (head, rest []byte) {
	var b bytes.Buffer
	for _, l := range h.lines {
		if strings.HasPrefix(l, "X-Wstest-Big:") {
			continue
		}
		b.WriteString(l + "\r\n")
	}
	head = bytes.Clone(b.Bytes())
	b.Reset()
	if one {
		b.WriteString("X-Wstest-Big: ")
		b.Write(bytes.Repeat([]byte("a"), floodBytes))
		b.WriteString("\r\n")
	} else {
		for i := 0; b.Len() < floodBytes; i++ {
			fmt.Fprintf(&b, "X-Wstest-Flood-%06d: %s\r\n", i, "aaaaaaaaaaaaaaaa")
		}
	}
	b.WriteString("\r\n")
	return head, b.Bytes()
}

// showMessage is how the reports show a request or response that was
// padded or trickled.
func showMessage(head []byte, rest int, w hsWrite) string {
	s := string(head)
	switch w {
	case writeFlood:
		s += fmt.Sprintf("... and %d bytes of header fields, then the empty line\r\n", rest)
	case writeTrickle:
		s = strings.TrimSuffix(s, "\r\n") + "... one more byte every 500 ms, and never the empty line\r\n"
	}
	return s
}

// writeRequest writes a handshake (head, then rest) as w says.
func writeRequest(nc net.Conn, head, rest []byte, w hsWrite, log *wireLog) error {
	write := func(b []byte, sync bool) error {
		log.addOctets(dirTx, [][]byte{b}, sync)
		nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := nc.Write(b)
		return err
	}
	switch w {
	case writeBytewise:
		for i := range head {
			if err := write(head[i:i+1], true); err != nil {
				return err
			}
			time.Sleep(scaled(0.005))
		}
		return nil
	case writePipelined:
		return write(append(head, rest...), false)
	case writeFlood:
		if err := write(head, false); err != nil {
			return err
		}
		for len(rest) > 0 {
			n := min(len(rest), 64<<10)
			if err := write(rest[:n], false); err != nil {
				return err // the server stopped reading, or closed: its answer tells
			}
			rest = rest[n:]
		}
		return nil
	case writeTrickle:
		// All but the end of the head at once, then a byte at a time: a
		// field that never ends.
		head = bytes.TrimSuffix(head, []byte("\r\n"))
		if err := write(head, false); err != nil {
			return err
		}
		end := time.Now().Add(scaled(trickleSeconds))
		for i := 0; time.Now().Before(end); i++ {
			time.Sleep(scaled(trickleInterval))
			b := []byte{"X-Wstest-Slow: "[i%15]}
			if err := write(b, true); err != nil {
				return err
			}
		}
		return nil
	}
	return write(head, false)
}

var errNotHTTP1 = errors.New("the testee client connected over HTTP/2; the cases of section 15 answer HTTP/1.1 requests")
