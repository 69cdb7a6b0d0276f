package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

// Section 15: the opening handshake with the testee as the client. The
// fuzzing server answers the testee's /runCase request with a response of
// its own making; a response the client must refuse is followed by a text
// message, which a client that wrongly accepted it echoes.

// refuseWait is how long a client has to fail the connection after a
// response it must refuse (before extraScale): the suite's opening
// handshake timeout. Some clients read a little of what follows a response
// they refuse before they close (coder reads up to 1 KiB for its error,
// for 3 s at most).
const refuseWait = 5.0

func clientHandshakeCases() []*Case {
	cases := []hsCase{
		{id: "15.1.1", title: "Status 200 instead of 101, with an empty body (Section 4.1: the client handles it per HTTP)", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.lines[0] = "HTTP/1.1 200 OK"; h.add("Content-Length", "0") }},
		{id: "15.1.2", title: "101 without an Upgrade field (Section 4.1, item 2)", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.del("Upgrade") }},
		{id: "15.1.3", title: "101 with Upgrade: h2c", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.set("Upgrade", "h2c") }},
		{id: "15.1.4", title: "101 without a Connection field (Section 4.1, item 3)", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.del("Connection") }},
		{id: "15.1.5", title: "101 with Connection: close", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.set("Connection", "close") }},
		{id: "15.1.6", title: "101 without Sec-WebSocket-Accept (Section 4.1, item 4)", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.del("Sec-WebSocket-Accept") }},
		{id: "15.1.7", title: "101 with the Sec-WebSocket-Accept of another key", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Accept", handshake.AcceptKey(keyOf(16))) }},
		{id: "15.1.8", title: "101 with an extension the client did not offer (Section 4.1, item 5)", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Extensions", "x-wstest-unknown") }},
		{id: "15.1.9", title: "101 with a subprotocol the client did not offer (Section 4.1, item 6)", expect: hsRefuse,
			edit: func(h *headerLines, _ string) { h.set("Sec-WebSocket-Protocol", "x-wstest-unknown") }},
		{id: "15.1.10", title: "101 with permessage-deflate and a parameter RFC 7692 does not define (Section 5: the client must fail)", expect: hsRefuse,
			edit: func(h *headerLines, _ string) {
				h.set("Sec-WebSocket-Extensions", "permessage-deflate; x-wstest-unknown")
			}},
		{id: "15.2.1", title: "The response the fuzzer sends in 1.* to 13.*", expect: hsAccept},
		{id: "15.2.2", title: "Header field names in lower case", expect: hsAccept,
			edit: func(h *headerLines, _ string) { h.lower() }},
		{id: "15.2.3", title: "Upgrade: WEBSOCKET and Connection: UPGRADE, in upper case (Section 4.1: case-insensitive)", expect: hsAccept,
			edit: func(h *headerLines, _ string) { h.set("Upgrade", "WEBSOCKET"); h.set("Connection", "UPGRADE") }},
		{id: "15.2.4", title: "Connection: keep-alive, Upgrade, and fields the client does not know", expect: hsAccept,
			edit: func(h *headerLines, _ string) {
				h.set("Connection", "keep-alive, Upgrade")
				h.add("X-Wstest", "1")
				h.add("Cache-Control", "no-cache")
			}},
		{id: "15.2.5", title: "The response one byte at a time, 5 ms apart", expect: hsAccept, write: writeBytewise},
		{id: "15.2.6", title: "The 101 and the first message in one write", expect: hsAccept, write: writePipelined},
		{id: "15.3.1", title: "A response with 2 MiB of header fields", expect: hsGiveUp, write: writeFlood},
		{id: "15.3.2", title: "A response that never ends: one more byte every 500 ms for 20 s", expect: hsGiveUp, write: writeTrickle},
	}
	var out []*Case
	for i := range cases {
		hc := &cases[i]
		secs := refuseWait + 5
		switch hc.expect {
		case hsRefuse:
			hc.rule = "The client must fail the WebSocket connection (Section 4.1): OK if it closes the TCP connection without sending a frame, within 5 s; NON-STRICT if it sends a close frame first (the connection was never established); FAILED if it echoes the text message the fuzzer sends after the response, or does neither within 5 s."
		case hsAccept:
			hc.rule = "The client must accept the response: OK if it echoes the text message the fuzzer sends and completes the closing handshake the fuzzer starts; FAILED otherwise."
		case hsGiveUp:
			if hc.write == writeTrickle {
				hc.rule = "The client should give up on a response that never ends: OK if it closes the connection within 20 s; NON-STRICT if it still waits then; FAILED if it sends a frame."
				secs = trickleSeconds + 5
			} else {
				hc.rule = "The client must not accept it: OK if it closes the connection within 10 s of the end of the response, without sending a frame; FAILED otherwise."
				secs = giveUpSeconds + 15
			}
		}
		out = append(out, newExtraCase(hc.id, hc.title, &extraCase{
			modes: []string{ModeFuzzingServer}, seconds: secs, rule: hc.rule,
			server: func(s *FuzzingServer, x *exchange, agent string) *CaseResult {
				return runClientHandshake(s, x, hc, agent)
			},
		}))
	}
	return out
}

// runClientHandshake runs a case of section 15 on a testee client's
// request.
func runClientHandshake(s *FuzzingServer, x *exchange, hc *hsCase, agent string) *CaseResult {
	c := LookupCase(hc.id)
	o := s.o
	started := x.started
	res := newCaseResult(c, agent, ModeFuzzingServer, false)
	res.Started, res.TLS, res.Index = started, x.tls, s.positionOf(c)
	res.HTTPRequest = x.raw
	res.DroppedByMe = true
	log := newWireLog(started, o.WireLogLimit)
	log.addOctets(dirRx, [][]byte{[]byte(x.raw)}, false)
	done := func(b, why, bc, whyc string) *CaseResult {
		res.verdicts(b, why, bc, whyc)
		res.Duration = time.Since(started).Milliseconds()
		if res.WireLog == nil {
			res.WireLog, res.Wire = log.snapshot()
		}
		return res
	}
	if x.http2() {
		res.HTTP2 = true
		return done(VerdictUnimplemented, errNotHTTP1.Error(), VerdictOK, "not run over HTTP/2")
	}
	h := &headerLines{lines: []string{
		"HTTP/1.1 101 Switching Protocols",
		"Server: " + o.ServerName,
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Accept: " + handshake.AcceptKey(x.key),
	}}
	if hc.edit != nil {
		hc.edit(h, x.key)
	}
	resp := h.bytes()
	hello := []byte("Hello, wstest")
	helloFrame := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(hello))}, hello)
	var rest []byte
	switch hc.write {
	case writeFlood:
		resp, rest = floodRequest(h, false)
	case writePipelined:
		rest = helloFrame
		log.add(dirTx, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(hello))}, hello, 0, false, "sent with the response")
	}
	res.HTTPResponse = showMessage(resp, len(rest), hc.write)
	nc := x.nc
	nc.SetDeadline(time.Time{})
	writeDone := make(chan error, 1)
	go func() { writeDone <- writeRequest(nc, resp, rest, hc.write, log) }()
	if hc.expect == hsAccept {
		if err := <-writeDone; err != nil {
			return done(VerdictFailed, "the fuzzer could not write its response: "+err.Error(), VerdictFailed, "no WebSocket connection")
		}
		echoCase := handshakeEcho
		if hc.write == writePipelined {
			echoCase = handshakeEchoWaiting
		}
		sess := &session{
			nc: nc, br: x.br, client: false, agent: agent, mode: ModeFuzzingServer,
			request: x.raw, response: res.HTTPResponse, opened: time.Now(), tls: x.tls,
		}
		er := runCase(context.Background(), echoCase, sess, o)
		entries, _ := log.snapshot()
		res.WireLog, res.Wire = append(entries, er.WireLog...), er.Wire
		res.RemoteCloseCode, res.RemoteReason, res.LocalCloseCode, res.LocalReason = er.RemoteCloseCode, er.RemoteReason, er.LocalCloseCode, er.LocalReason
		res.ClosedByMe, res.FailedByMe, res.FailReason, res.WasClean, res.WasNotCleanReason = er.ClosedByMe, er.FailedByMe, er.FailReason, er.WasClean, er.WasNotCleanReason
		res.CloseTimeout, res.OpenHandshakeDone, res.Received, res.ReceivedTotal, res.DroppedByMe = er.CloseTimeout, true, er.Received, er.ReceivedTotal, er.DroppedByMe
		why := "the client accepted the response and echoed a message: " + er.Result
		if er.Behavior != VerdictOK {
			why = "the client did not go on after the response as it should: " + er.Result
		}
		return done(er.Behavior, why, er.BehaviorClose, er.ResultClose)
	}
	// A response to refuse (or a flood or trickle): send a message, then
	// see what the client does.
	wait := max(scaled(refuseWait), time.Second)
	switch hc.write {
	case writeTrickle:
		wait = scaled(trickleSeconds)
	case writeFlood:
		wait = scaled(giveUpSeconds)
		fallthrough
	default:
		// The whole response is out (a client that gave up on a flood
		// makes the write fail): send the message.
		if err := <-writeDone; err == nil {
			log.add(dirTx, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(hello))}, hello, 0, false, "")
			log.addOctets(dirTx, [][]byte{helloFrame}, false)
			nc.SetWriteDeadline(time.Now().Add(time.Second))
			nc.Write(helloFrame)
		}
	}
	seen := watchClient(nc, x.br, time.Now().Add(wait), log)
	if hc.write == writeTrickle {
		<-writeDone
	}
	switch {
	case seen.data:
		return done(VerdictFailed, "the client accepted the response: it sent a data frame (the echo)", VerdictFailed, "it should have failed the connection")
	case seen.closeFrame:
		if hc.expect == hsGiveUp {
			return done(VerdictOK, fmt.Sprintf("the client sent a close frame (%s) and closed the connection", seen.code), VerdictOK, "the client gave up")
		}
		return done(VerdictNonStrict, fmt.Sprintf("the client sent a close frame (%s): it failed the connection, but treated it as established", seen.code), VerdictOK, "the client failed the connection")
	case seen.closed:
		return done(VerdictOK, "the client closed the TCP connection without sending a frame", VerdictOK, "the client failed the connection")
	case hc.write == writeTrickle:
		return done(VerdictNonStrict, fmt.Sprintf("the client still waited for the rest of the response after %v", wait), VerdictOK, "the fuzzer gave up")
	}
	return done(VerdictFailed, fmt.Sprintf("the client neither failed the connection nor echoed within %v", wait), VerdictFailed, "the fuzzer had to drop TCP")
}

// clientReaction is what a testee client did after a response.
type clientReaction struct {
	data, closeFrame, closed bool
	code                     string // of the close frame
}

// watchClient reads what the testee client sends until it closes the
// connection, sends a data frame, or the deadline.
func watchClient(nc net.Conn, br *bufio.Reader, deadline time.Time, log *wireLog) clientReaction {
	var r clientReaction
	nc.SetReadDeadline(deadline)
	rd := bufio.NewReader(io.MultiReader(bytes.NewReader(peekAll(br)), octetLogger{nc, log, nil}))
	var hb [frame.MaxHeaderSize]byte
	for {
		h, err := frame.ReadHeader(rd, &hb)
		if err != nil {
			var ne net.Error
			r.closed = !(errors.As(err, &ne) && ne.Timeout())
			return r
		}
		if h.Length > 1<<20 {
			r.data = h.Opcode != frame.OpClose
			return r
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(rd, p); err != nil {
			r.closed = true
			return r
		}
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		log.add(dirRx, h, p, 0, false, "")
		switch {
		case h.Opcode == frame.OpClose:
			r.closeFrame = true
			r.code = "no status code"
			if len(p) >= 2 {
				r.code = fmt.Sprintf("code %d", int(p[0])<<8|int(p[1]))
			}
			// Wait a little for the TCP close that follows.
			nc.SetReadDeadline(time.Now().Add(time.Second))
			io.Copy(io.Discard, rd)
			return r
		case h.Opcode.IsControl():
		default:
			r.data = true
			return r
		}
	}
}

func peekAll(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return bytes.Clone(b)
}
