package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wirelevel/ws/frame"
)

// Section 17: WebSockets over HTTP/2 (RFC 8441), with the testee as the
// server. The fuzzer speaks HTTP/2 itself, frame by frame (with the
// framer and HPACK of golang.org/x/net/http2), so that it can send the
// requests a client library would refuse to build. A server that does not
// speak HTTP/2 (with prior knowledge on ws://, by ALPN on wss://) or does
// not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL makes every case
// UNIMPLEMENTED.

// h2Case is a case of section 17.
type h2Case struct {
	id, title string
	run       func(h *h2Raw, t *clientTarget) (verdict, why string)
	rule      string
}

func http2Cases() []*Case {
	accept := "The server must accept the extended CONNECT (RFC 8441, Section 5: a 2xx status, no Sec-WebSocket-Accept), echo a text message sent as DATA on the stream, and answer the fuzzer's close frame. OK if so; FAILED otherwise."
	refuse := func(what string) string {
		return "The server must refuse the request: " + what + " OK: a 4xx status or a stream reset; NON-STRICT: another status, or a 2xx with no WebSocket behind it (a text message sent on the stream is not echoed), or a GOAWAY; FAILED: a 2xx and an echo (a WebSocket was opened), or no answer within 5 s."
	}
	cases := []h2Case{
		{id: "17.1.1", title: "An extended CONNECT with :protocol websocket and Sec-WebSocket-Version: 13", rule: accept,
			run: func(h *h2Raw, t *clientTarget) (string, string) { return h.acceptAndEcho(t, 1, nil) }},
		{id: "17.1.2", title: "Two WebSockets on one HTTP/2 connection at once, their messages interleaved",
			rule: "Both extended CONNECTs must be accepted and each stream must echo its own message (RFC 8441, Section 5: each WebSocket is a stream). OK if so; FAILED otherwise.",
			run:  func(h *h2Raw, t *clientTarget) (string, string) { return h.twoStreams(t) }},
		{id: "17.1.3", title: "A WebSocket reset by the fuzzer (RST_STREAM, CANCEL), then a new one on the same connection",
			rule: "A reset ends that WebSocket only (RFC 8441, Section 5: an abortive close): the second extended CONNECT must be accepted and must echo. OK if so; FAILED otherwise.",
			run:  func(h *h2Raw, t *clientTarget) (string, string) { return h.resetThenAgain(t) }},
		{id: "17.1.4", title: "A subprotocol the server does not know, offered",
			rule: "The server may select none; its answer must not name a subprotocol that was not offered (RFC 6455, Section 4.2.2). OK if it accepts and echoes without one (or with the offered one); FAILED otherwise.",
			run: func(h *h2Raw, t *clientTarget) (string, string) {
				return h.acceptAndEcho(t, 1, [][2]string{{"sec-websocket-protocol", "x-wstest-unknown"}})
			}},
		{id: "17.2.1", title: "No sec-websocket-version", rule: refuse("RFC 8441, Section 5, keeps RFC 6455's version check (Section 4.2.1)."),
			run: func(h *h2Raw, t *clientTarget) (string, string) {
				return h.expectRefusal(t, func(hs [][2]string) [][2]string { return without(hs, "sec-websocket-version") }, false)
			}},
		{id: "17.2.2", title: "sec-websocket-version: 14", rule: refuse("a version it cannot know (RFC 6455, Section 4.4); the answer should carry sec-websocket-version: 13, else NON-STRICT."),
			run: func(h *h2Raw, t *clientTarget) (string, string) {
				return h.expectRefusal(t, func(hs [][2]string) [][2]string { return with(hs, "sec-websocket-version", "14") }, true)
			}},
		{id: "17.2.3", title: ":protocol of another protocol (x-wstest-unknown)", rule: refuse("the server does not speak that protocol (RFC 8441, Section 4)."),
			run: func(h *h2Raw, t *clientTarget) (string, string) {
				return h.expectRefusal(t, func(hs [][2]string) [][2]string { return with(hs, ":protocol", "x-wstest-unknown") }, false)
			}},
		{id: "17.2.4", title: "A plain CONNECT, without :protocol: a request for a tunnel", rule: refuse("the server is not a proxy (RFC 9113, Section 8.5)."),
			run: func(h *h2Raw, t *clientTarget) (string, string) {
				return h.expectRefusal(t, func(hs [][2]string) [][2]string {
					return [][2]string{{":method", "CONNECT"}, {":authority", t.u.host}}
				}, false)
			}},
		{id: "17.2.5", title: "GET with :protocol websocket", rule: refuse("RFC 8441, Section 4: :protocol must not be in a request other than CONNECT, so the request is malformed."),
			run: func(h *h2Raw, t *clientTarget) (string, string) {
				return h.expectRefusal(t, func(hs [][2]string) [][2]string { return with(hs, ":method", "GET") }, false)
			}},
	}
	var out []*Case
	for i := range cases {
		hc := &cases[i]
		out = append(out, newExtraCase(hc.id, hc.title, &extraCase{
			modes: []string{ModeFuzzingClient}, seconds: 15, rule: hc.rule + " UNIMPLEMENTED if the server does not speak HTTP/2 with SETTINGS_ENABLE_CONNECT_PROTOCOL.",
			client: func(ctx context.Context, t *clientTarget) (*CaseResult, error) { return runH2Case(ctx, t, hc) },
		}))
	}
	return out
}

// without and with edit a header list.
func without(hs [][2]string, name string) [][2]string {
	var out [][2]string
	for _, h := range hs {
		if h[0] != name {
			out = append(out, h)
		}
	}
	return out
}

func with(hs [][2]string, name, value string) [][2]string {
	out := without(hs, name)
	if strings.HasPrefix(name, ":") {
		return append([][2]string{{name, value}}, out...)
	}
	return append(out, [2]string{name, value})
}

// errNoH2 means the testee does not take WebSockets over HTTP/2.
type errNoH2 struct{ why string }

func (e *errNoH2) Error() string { return e.why }

// runH2Case runs a case of section 17.
func runH2Case(ctx context.Context, t *clientTarget, hc *h2Case) (*CaseResult, error) {
	started := time.Now()
	res := newCaseResult(t.c, t.agent, ModeFuzzingClient, true)
	res.Started, res.TLS, res.HTTP2 = started, t.u.secure, true
	log := newWireLog(started, t.o.WireLogLimit)
	if t.state != nil && t.state.noH2 != "" {
		res.Agent = t.agent
		if res.Agent == "" {
			res.Agent = "UnknownServer"
		}
		res.verdicts(VerdictUnimplemented, t.state.noH2+" (found by an earlier case of the run)", VerdictOK, "not run")
		res.WireLog, res.Wire = log.snapshot()
		return res, nil
	}
	h, err := dialH2Raw(ctx, t, log)
	if h != nil {
		defer h.nc.Close()
	}
	done := func(v, why string) (*CaseResult, error) {
		close := VerdictOK
		if v == VerdictFailed {
			close = VerdictFailed
		}
		if res.Agent == "" {
			res.Agent = "UnknownServer"
		}
		res.verdicts(v, why, close, map[bool]string{true: "the exchange ended as the rule expects", false: "the exchange did not end as the rule expects"}[close == VerdictOK])
		res.Duration = time.Since(started).Milliseconds()
		res.WireLog, res.Wire = log.snapshot()
		if h != nil {
			res.HTTPRequest, res.HTTPResponse = h.request, h.shown
		}
		res.DroppedByMe = true
		return res, nil
	}
	var nh *errNoH2
	switch {
	case errors.As(err, &nh):
		if t.state != nil {
			t.state.noH2 = nh.why
		}
		return done(VerdictUnimplemented, nh.why)
	case errors.Is(err, errConnect):
		return nil, err
	case err != nil:
		return done(VerdictFailed, "HTTP/2: "+err.Error())
	}
	v, why := hc.run(h, t)
	if res.Agent == "" {
		res.Agent = h.server
	}
	return done(v, why)
}

// h2Raw is the fuzzer's end of an HTTP/2 connection, written frame by
// frame.
type h2Raw struct {
	nc     net.Conn
	fr     *http2.Framer
	encBuf bytes.Buffer
	enc    *hpack.Encoder
	log    *wireLog

	data    map[uint32]*bytes.Buffer // DATA received per stream
	answers map[uint32]*h2Response   // the answer to each stream
	goAway  *http2.GoAwayFrame
	ended   map[uint32]bool // the server ended or reset the stream
	reset   map[uint32]http2.ErrCode
	request string // the header blocks sent, as the reports show them
	shown   string // and received
	server  string // the Server field of the first response
}

// dialH2Raw opens the HTTP/2 connection: TCP (a failure is errConnect),
// TLS with ALPN h2 for wss://, the preface and the exchange of SETTINGS.
func dialH2Raw(ctx context.Context, t *clientTarget, log *wireLog) (*h2Raw, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", t.u.addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errConnect, err)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if t.u.secure {
		tc := tls.Client(nc, clientTLSConfig(t.o, t.srv, t.u, http2.NextProtoTLS))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != http2.NextProtoTLS {
			nc.Close()
			return nil, &errNoH2{fmt.Sprintf("the server does not speak HTTP/2: ALPN chose %q, not h2", p)}
		}
		nc = tc
	}
	h := &h2Raw{nc: nc, log: log, data: map[uint32]*bytes.Buffer{}, answers: map[uint32]*h2Response{}, ended: map[uint32]bool{}, reset: map[uint32]http2.ErrCode{}}
	h.fr = http2.NewFramer(&loggedWriter{nc, log}, bufio.NewReader(octetLogger{nc, log, nil}))
	h.fr.ReadMetaHeaders = hpack.NewDecoder(65536, nil)
	h.fr.MaxHeaderListSize = 1 << 20
	h.enc = hpack.NewEncoder(&h.encBuf)
	if _, err := io.WriteString(&loggedWriter{nc, log}, http2.ClientPreface); err != nil {
		return h, err
	}
	if err := h.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 24}); err != nil {
		return h, err
	}
	h.fr.WriteWindowUpdate(0, 1<<24)
	f, err := h.fr.ReadFrame()
	if err != nil {
		return h, &errNoH2{"the server does not speak HTTP/2 with prior knowledge: " + err.Error()}
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return h, &errNoH2{fmt.Sprintf("the server does not speak HTTP/2: its first frame is %v, not SETTINGS", f.Header().Type)}
	}
	if v, _ := sf.Value(http2.SettingEnableConnectProtocol); v != 1 {
		return h, &errNoH2{"the server speaks HTTP/2 but does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441, Section 3)"}
	}
	h.fr.WriteSettingsAck()
	nc.SetDeadline(time.Time{})
	return h, nil
}

// loggedWriter logs every write to the connection.
type loggedWriter struct {
	w   io.Writer
	log *wireLog
}

func (l *loggedWriter) Write(p []byte) (int, error) {
	l.log.addOctets(dirTx, [][]byte{p}, false)
	return l.w.Write(p)
}

// connectHeaders is the extended CONNECT of RFC 8441, Section 5.
func connectHeaders(t *clientTarget) [][2]string {
	scheme := "http"
	if t.u.secure {
		scheme = "https"
	}
	return [][2]string{
		{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", scheme}, {":path", t.u.target}, {":authority", t.u.host},
		{"sec-websocket-version", "13"}, {"user-agent", t.o.UserAgent},
	}
}

// open sends the header block of a new stream (not ending it).
func (h *h2Raw) open(id uint32, hs [][2]string) error {
	h.encBuf.Reset()
	var shown strings.Builder
	for _, f := range hs {
		h.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		fmt.Fprintf(&shown, "%s: %s\r\n", f[0], f[1])
	}
	h.request += fmt.Sprintf("[stream %d]\r\n%s\r\n", id, shown.String())
	return h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.encBuf.Bytes(), EndHeaders: true})
}

// h2Response is the answer to a stream: its status and fields, or a reset.
type h2Response struct {
	status int
	header http.Header
	reset  bool
	code   http2.ErrCode
}

// response reads frames until stream id is answered, within 5 s.
func (h *h2Raw) response(id uint32) (*h2Response, error) {
	h.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer h.nc.SetReadDeadline(time.Time{})
	for {
		if r := h.answers[id]; r != nil {
			return r, nil
		}
		if h.goAway != nil && id > h.goAway.LastStreamID {
			return nil, fmt.Errorf("the server sent GOAWAY (%v) before it answered", h.goAway.ErrCode)
		}
		if _, err := h.next(); err != nil {
			if h.goAway != nil {
				return nil, fmt.Errorf("the server sent GOAWAY (%v) and closed the connection before it answered", h.goAway.ErrCode)
			}
			return nil, err
		}
	}
}

// next reads a frame, answers SETTINGS and PING, keeps DATA per stream and
// gives back its flow-control credit.
func (h *h2Raw) next() (http2.Frame, error) {
	f, err := h.fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if !f.IsAck() {
			h.fr.WriteSettingsAck()
		}
	case *http2.PingFrame:
		if !f.IsAck() {
			h.fr.WritePing(true, f.Data)
		}
	case *http2.DataFrame:
		b := h.data[f.StreamID]
		if b == nil {
			b = new(bytes.Buffer)
			h.data[f.StreamID] = b
		}
		if b.Len() < 1<<20 {
			b.Write(f.Data())
		}
		if n := uint32(len(f.Data())); n > 0 {
			h.fr.WriteWindowUpdate(0, n)
			h.fr.WriteWindowUpdate(f.StreamID, n)
		}
		if f.StreamEnded() {
			h.ended[f.StreamID] = true
		}
	case *http2.MetaHeadersFrame:
		if h.answers[f.StreamID] == nil {
			r := &h2Response{header: http.Header{}}
			var shown strings.Builder
			for _, hf := range f.Fields {
				fmt.Fprintf(&shown, "%s: %s\r\n", hf.Name, hf.Value)
				if hf.Name == ":status" {
					r.status, _ = strconv.Atoi(hf.Value)
				} else if !hf.IsPseudo() {
					r.header.Add(hf.Name, hf.Value)
				}
			}
			h.shown += fmt.Sprintf("[stream %d]\r\n%s\r\n", f.StreamID, shown.String())
			if h.server == "" {
				h.server = r.header.Get("Server")
			}
			h.answers[f.StreamID] = r
		}
		if f.StreamEnded() {
			h.ended[f.StreamID] = true
		}
	case *http2.RSTStreamFrame:
		h.ended[f.StreamID] = true
		h.reset[f.StreamID] = f.ErrCode
		if h.answers[f.StreamID] == nil {
			h.shown += fmt.Sprintf("[stream %d] RST_STREAM %v\r\n\r\n", f.StreamID, f.ErrCode)
			h.answers[f.StreamID] = &h2Response{reset: true, code: f.ErrCode}
		}
	case *http2.GoAwayFrame:
		h.shown += fmt.Sprintf("GOAWAY %v, last stream %d\r\n\r\n", f.ErrCode, f.LastStreamID)
		h.goAway = f
	}
	return f, nil
}

// sendWS sends a WebSocket frame (masked, as a client) on a stream.
func (h *h2Raw) sendWS(id uint32, op frame.Opcode, payload []byte) error {
	hdr := frame.Header{Fin: true, Opcode: op, Masked: true, Mask: maskKey(), Length: int64(len(payload))}
	h.log.add(dirTx, hdr, payload, 0, false, fmt.Sprintf("on stream %d", id))
	return h.fr.WriteData(id, false, frame.AppendFrame(nil, hdr, payload))
}

// readWS reads the next WebSocket frame the server sent on a stream,
// within 5 s.
func (h *h2Raw) readWS(id uint32) (frame.Header, []byte, error) {
	h.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer h.nc.SetReadDeadline(time.Time{})
	for {
		if b := h.data[id]; b != nil && b.Len() >= 2 {
			hdr, n, err := frame.ParseHeader(b.Bytes()) // n is 0 for a header not all there
			if err == nil && n > 0 && int64(b.Len()) >= int64(n)+hdr.Length {
				p := bytes.Clone(b.Bytes()[n : int64(n)+hdr.Length])
				b.Next(n + int(hdr.Length))
				if hdr.Masked {
					frame.Mask(hdr.Mask, 0, p)
				}
				h.log.add(dirRx, hdr, p, 0, false, fmt.Sprintf("on stream %d", id))
				return hdr, p, nil
			}
			if err != nil {
				return hdr, nil, fmt.Errorf("stream %d: %w", id, err)
			}
		}
		if h.ended[id] {
			if code, ok := h.reset[id]; ok {
				return frame.Header{}, nil, fmt.Errorf("the server reset stream %d (%v)", id, code)
			}
			return frame.Header{}, nil, fmt.Errorf("the server ended stream %d", id)
		}
		if _, err := h.next(); err != nil {
			return frame.Header{}, nil, err
		}
	}
}

// echo sends a text message on a stream and checks its echo.
func (h *h2Raw) echo(id uint32, msg string) error {
	if err := h.sendWS(id, frame.OpText, []byte(msg)); err != nil {
		return err
	}
	for {
		hdr, p, err := h.readWS(id)
		if err != nil {
			return err
		}
		switch {
		case hdr.Opcode == frame.OpPing || hdr.Opcode == frame.OpPong:
			continue
		case hdr.Opcode == frame.OpText && string(p) == msg:
			return nil
		case hdr.Opcode == frame.OpClose:
			return fmt.Errorf("the server closed stream %d's WebSocket instead of echoing", id)
		}
		return fmt.Errorf("stream %d: got opcode %d with %d bytes, not the echo", id, hdr.Opcode, len(p))
	}
}

// closeWS starts the closing handshake on a stream and waits for the
// server's close frame.
func (h *h2Raw) closeWS(id uint32) error {
	if err := h.sendWS(id, frame.OpClose, binary.BigEndian.AppendUint16(nil, 1000)); err != nil {
		return err
	}
	for {
		hdr, _, err := h.readWS(id)
		if err != nil {
			return fmt.Errorf("no close frame back: %w", err)
		}
		if hdr.Opcode == frame.OpClose {
			h.fr.WriteData(id, true, nil)
			return nil
		}
	}
}

// accepted checks the answer to an extended CONNECT.
func accepted(r *h2Response, offered string) error {
	switch {
	case r.reset:
		return fmt.Errorf("the server reset the stream (%v)", r.code)
	case r.status < 200 || r.status > 299:
		return fmt.Errorf("status %d, want 2xx", r.status)
	}
	if p := r.header.Get("Sec-WebSocket-Protocol"); p != "" && p != offered {
		return fmt.Errorf("the server chose subprotocol %q, which was not offered", p)
	}
	if e := r.header.Get("Sec-WebSocket-Extensions"); e != "" {
		return fmt.Errorf("the server agreed to extensions %q, which were not offered", e)
	}
	return nil
}

func (h *h2Raw) acceptAndEcho(t *clientTarget, id uint32, extra [][2]string) (string, string) {
	hs := connectHeaders(t)
	offered := ""
	for _, e := range extra {
		hs = with(hs, e[0], e[1])
		if e[0] == "sec-websocket-protocol" {
			offered = e[1]
		}
	}
	if err := h.open(id, hs); err != nil {
		return VerdictFailed, err.Error()
	}
	r, err := h.response(id)
	if err != nil {
		return VerdictFailed, "no answer: " + err.Error()
	}
	if err := accepted(r, offered); err != nil {
		return VerdictFailed, err.Error()
	}
	if err := h.echo(id, "Hello, wstest"); err != nil {
		return VerdictFailed, fmt.Sprintf("accepted with %d, but %v", r.status, err)
	}
	if err := h.closeWS(id); err != nil {
		return VerdictFailed, fmt.Sprintf("accepted with %d and echoed, but %v", r.status, err)
	}
	return VerdictOK, fmt.Sprintf("accepted with %d, echoed a message and answered the close", r.status)
}

func (h *h2Raw) twoStreams(t *clientTarget) (string, string) {
	for _, id := range []uint32{1, 3} {
		if err := h.open(id, connectHeaders(t)); err != nil {
			return VerdictFailed, err.Error()
		}
	}
	for _, id := range []uint32{1, 3} {
		r, err := h.response(id)
		if err != nil {
			return VerdictFailed, fmt.Sprintf("stream %d: no answer: %v", id, err)
		}
		if err := accepted(r, ""); err != nil {
			return VerdictFailed, fmt.Sprintf("stream %d: %v", id, err)
		}
	}
	// Both messages go out before either echo is read.
	if err := h.sendWS(1, frame.OpText, []byte("one")); err != nil {
		return VerdictFailed, err.Error()
	}
	if err := h.sendWS(3, frame.OpText, []byte("three")); err != nil {
		return VerdictFailed, err.Error()
	}
	for _, m := range []struct {
		id  uint32
		msg string
	}{{3, "three"}, {1, "one"}} {
		hdr, p, err := h.readWS(m.id)
		if err != nil {
			return VerdictFailed, err.Error()
		}
		if hdr.Opcode != frame.OpText || string(p) != m.msg {
			return VerdictFailed, fmt.Sprintf("stream %d echoed %q, want %q", m.id, p, m.msg)
		}
	}
	for _, id := range []uint32{1, 3} {
		if err := h.closeWS(id); err != nil {
			return VerdictFailed, fmt.Sprintf("stream %d: %v", id, err)
		}
	}
	return VerdictOK, "both WebSockets echoed their own message and answered the close"
}

func (h *h2Raw) resetThenAgain(t *clientTarget) (string, string) {
	if v, why := h.acceptOnly(t, 1); v != "" {
		return v, why
	}
	if err := h.echo(1, "first"); err != nil {
		return VerdictFailed, "stream 1: " + err.Error()
	}
	h.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	if v, why := h.acceptOnly(t, 3); v != "" {
		return v, "after the reset of stream 1, " + why
	}
	if err := h.echo(3, "second"); err != nil {
		return VerdictFailed, "after the reset of stream 1, stream 3: " + err.Error()
	}
	if err := h.closeWS(3); err != nil {
		return VerdictFailed, "stream 3: " + err.Error()
	}
	return VerdictOK, "after the reset of the first WebSocket a second one on the same connection echoed"
}

// acceptOnly opens a WebSocket on a stream; "" if it was accepted.
func (h *h2Raw) acceptOnly(t *clientTarget, id uint32) (string, string) {
	if err := h.open(id, connectHeaders(t)); err != nil {
		return VerdictFailed, err.Error()
	}
	r, err := h.response(id)
	if err != nil {
		return VerdictFailed, fmt.Sprintf("stream %d: no answer: %v", id, err)
	}
	if err := accepted(r, ""); err != nil {
		return VerdictFailed, fmt.Sprintf("stream %d: %v", id, err)
	}
	return "", ""
}

func (h *h2Raw) expectRefusal(t *clientTarget, edit func([][2]string) [][2]string, version bool) (string, string) {
	if err := h.open(1, edit(connectHeaders(t))); err != nil {
		return VerdictFailed, err.Error()
	}
	r, err := h.response(1)
	switch {
	case err != nil && isTimeout(err):
		return VerdictFailed, "no answer within 5 s"
	case err != nil:
		// A GOAWAY or a closed connection refuses the request too, if
		// bluntly.
		return VerdictNonStrict, "the server ended the connection: " + err.Error()
	case r.reset:
		return VerdictOK, fmt.Sprintf("the server reset the stream (%v)", r.code)
	case r.status >= 400 && r.status < 500:
		if version && !headerHasToken(r.header, "Sec-WebSocket-Version", "13") {
			return VerdictNonStrict, fmt.Sprintf("the server refused the request with %d, without sec-websocket-version: 13", r.status)
		}
		return VerdictOK, fmt.Sprintf("the server refused the request with %d", r.status)
	case r.status >= 200 && r.status < 300:
		// Did it open a WebSocket, or only answer?
		err := h.echo(1, "Hello, wstest")
		h.fr.WriteRSTStream(1, http2.ErrCodeCancel)
		if err == nil {
			return VerdictFailed, fmt.Sprintf("the server accepted the request with %d and echoed a WebSocket message", r.status)
		}
		return VerdictNonStrict, fmt.Sprintf("the server answered %d (it should refuse the request), but opened no WebSocket: %v", r.status, err)
	}
	return VerdictNonStrict, fmt.Sprintf("the server answered %d, not a 4xx status", r.status)
}
