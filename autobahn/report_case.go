package autobahn

import (
	"encoding/hex"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
)

// The report page of one case: what the suite's page shows (outcome,
// handshake, closing behaviour, wire statistics, wire log), laid out our
// way.

type statRow struct {
	Key           string
	Count, Octets int64
}

type statTable struct {
	Title  string
	Key    string // the first column: "Chop size" or "Opcode"
	Octets bool   // the table has an Octets column
	Rows   []statRow
	Total  statRow
}

type kvRow struct{ Key, Value, Text string }

// wireLine is one row of the wire log as the page shows it.
type wireLine struct {
	N     string
	Class string // tx, rx, txo, rxo, timer, end
	What  string
	Text  []string // further lines: hex dump rows, or the payload as text
}

type casePage struct {
	*CaseResult
	Class, CloseClass, Label string
	JSONFile                 string
	ExpectedText             []string
	ReceivedText             []string
	Closing                  []kvRow
	Stats                    []statTable
	Traffic                  []kvRow
	Wire                     []wireLine
	Omitted                  string
	Started                  string
}

// closingKeys are the facts of the closing behaviour, with what each means.
var closingKeys = []struct{ key, text string }{
	{"isServer", "True if the fuzzer is the server and the testee the client."},
	{"closedByMe", "True if the fuzzer started the closing handshake (sent the first close frame)."},
	{"failedByMe", "True if the fuzzer failed the WebSocket connection, because of a protocol violation or a timer: by starting the closing handshake or, with failByDrop, by dropping TCP."},
	{"droppedByMe", "True if the fuzzer closed the TCP connection (over HTTP/2: ended its stream)."},
	{"wasClean", "True if close frames went both ways and no timeout had to end the connection."},
	{"wasNotCleanReason", "When wasClean is false, why."},
	{"wasServerConnectionDropTimeout", "True if the fuzzer, as the client, waited in vain for the server to close TCP after the closing handshake."},
	{"wasOpenHandshakeTimeout", "True if the testee did not complete the opening handshake in time."},
	{"wasCloseHandshakeTimeout", "True if the testee did not answer the fuzzer's close frame in time."},
	{"localCloseCode", "The close code of the fuzzer's close frame, if it sent one with a code."},
	{"localCloseReason", "The close reason the fuzzer sent, if any."},
	{"remoteCloseCode", "The close code of the testee's close frame, if it sent one with a code."},
	{"remoteCloseReason", "The close reason the testee sent, if any."},
	{"wasSafetyTimeout", "True if the case did not end by itself within its time budget and the fuzzer cut it off (this harness's own safeguard)."},
	{"failReason", "What the fuzzer found wrong when it failed the connection (this harness's own)."},
}

var opcodeNames = map[int]string{0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}

func caseView(cr *CaseResult) casePage {
	p := casePage{CaseResult: cr, Class: verdictClass(cr.Behavior), CloseClass: verdictClass(cr.BehaviorClose),
		Label: verdictLabel(cr.Behavior), JSONFile: ReportBaseName(cr.Agent, cr.ID) + ".json",
		Started: cr.Started.UTC().Format(startedFormat)}
	if cr.Behavior == VerdictInformational {
		p.Label = "Informational"
	}
	for _, l := range []string{outcomeOK, outcomeNS} {
		for _, e := range cr.Expected[l] {
			p.ExpectedText = append(p.ExpectedText, l+": "+describeTuple(e.Type, e.Binary, e.Payload.Bytes(), int64(e.Payload.Len()), e.Tag))
		}
		if evs, ok := cr.Expected[l]; ok && len(evs) == 0 {
			p.ExpectedText = append(p.ExpectedText, l+": no event")
		}
	}
	for _, e := range cr.Received {
		p.ReceivedText = append(p.ReceivedText, describeTuple(e.Type, e.Binary, e.Preview, int64(e.Length), e.Tag))
	}
	if n := cr.ReceivedTotal - len(cr.Received); n > 0 {
		p.ReceivedText = append(p.ReceivedText, fmt.Sprintf("... and %d more events, not listed", n))
	}
	opt := func(i *int) string {
		if i == nil {
			return "None"
		}
		return strconv.Itoa(*i)
	}
	opts := func(s *string) string {
		if s == nil {
			return "None"
		}
		return strconv.Quote(*s)
	}
	boolean := func(b bool) string {
		if b {
			return "True"
		}
		return "False"
	}
	values := map[string]string{
		"isServer": boolean(cr.Mode == ModeFuzzingServer), "closedByMe": boolean(cr.ClosedByMe),
		"failedByMe": boolean(cr.FailedByMe), "droppedByMe": boolean(cr.DroppedByMe),
		"wasClean": boolean(cr.WasClean), "wasNotCleanReason": "None",
		"wasServerConnectionDropTimeout": boolean(cr.DropTimeout), "wasOpenHandshakeTimeout": boolean(cr.OpenTimeout),
		"wasCloseHandshakeTimeout": boolean(cr.CloseTimeout),
		"localCloseCode":           opt(cr.LocalCloseCode), "localCloseReason": opts(cr.LocalReason),
		"remoteCloseCode": opt(cr.RemoteCloseCode), "remoteCloseReason": opts(cr.RemoteReason),
		"wasSafetyTimeout": boolean(cr.SafetyTimeout), "failReason": "None",
	}
	if !cr.WasClean {
		values["wasNotCleanReason"] = cr.WasNotCleanReason
	}
	if cr.FailReason != "" {
		values["failReason"] = cr.FailReason
	}
	for _, k := range closingKeys {
		p.Closing = append(p.Closing, kvRow{k.key, values[k.key], k.text})
	}
	p.Stats = []statTable{
		chunkTable("Octets received by chop size", cr.Wire.RxOctetChunks),
		chunkTable("Octets transmitted by chop size", cr.Wire.TxOctetChunks),
		opcodeTable("Frames received by opcode", cr.Wire.RxFrames),
		opcodeTable("Frames transmitted by opcode", cr.Wire.TxFrames),
	}
	if t := cr.Traffic; t != nil {
		f := func(v *float64) string {
			if v == nil {
				return "None"
			}
			return fmt.Sprintf("%.4f", *v)
		}
		p.Traffic = []kvRow{
			{"incomingOctetsWireLevel", fmt.Sprint(t.IncomingOctetsWireLevel), "Octets received after the opening handshake."},
			{"incomingOctetsWebSocketLevel", fmt.Sprint(t.IncomingOctetsWebSocketLevel), "Payload octets of the data frames received (compressed)."},
			{"incomingOctetsAppLevel", fmt.Sprint(t.IncomingOctetsAppLevel), "Octets of the messages received (decompressed)."},
			{"incomingCompressionRatio", f(t.IncomingCompressionRatio), "WebSocket level / app level."},
			{"incomingWebSocketOverhead", f(t.IncomingWebSocketOverhead), "(wire level - WebSocket level) / WebSocket level."},
			{"incomingWebSocketFrames", fmt.Sprint(t.IncomingWebSocketFrames), "Data frames received."},
			{"incomingWebSocketMessages", fmt.Sprint(t.IncomingWebSocketMessages), "Messages received."},
			{"outgoingOctetsWireLevel", fmt.Sprint(t.OutgoingOctetsWireLevel), "Octets sent after the opening handshake."},
			{"outgoingOctetsWebSocketLevel", fmt.Sprint(t.OutgoingOctetsWebSocketLevel), "Payload octets of the data frames sent (compressed)."},
			{"outgoingOctetsAppLevel", fmt.Sprint(t.OutgoingOctetsAppLevel), "Octets of the messages sent (before compression)."},
			{"outgoingCompressionRatio", f(t.OutgoingCompressionRatio), "WebSocket level / app level."},
			{"outgoingWebSocketOverhead", f(t.OutgoingWebSocketOverhead), "(wire level - WebSocket level) / WebSocket level."},
			{"outgoingWebSocketFrames", fmt.Sprint(t.OutgoingWebSocketFrames), "Data frames sent."},
			{"outgoingWebSocketMessages", fmt.Sprint(t.OutgoingWebSocketMessages), "Messages sent."},
			{"preopenIncomingOctetsWireLevel", fmt.Sprint(t.PreopenIncomingOctetsWireLevel), "Octets of the opening handshake received."},
			{"preopenOutgoingOctetsWireLevel", fmt.Sprint(t.PreopenOutgoingOctetsWireLevel), "Octets of the opening handshake sent."},
		}
	}
	for i, e := range cr.WireLog {
		p.Wire = append(p.Wire, wireView(i, e))
	}
	end := wireLine{N: fmt.Sprintf("%03d", len(cr.WireLog)), Class: "end", What: "TCP DROPPED BY PEER"}
	if cr.DroppedByMe {
		end.What = "TCP DROPPED BY ME"
	}
	if cr.HTTP2 {
		end.What = strings.Replace(end.What, "TCP", "HTTP/2 STREAM", 1)
	}
	p.Wire = append(p.Wire, end)
	if o := cr.Wire.TxOmitted + cr.Wire.RxOmitted; o > 0 {
		p.Omitted = fmt.Sprintf("The wire log keeps the first entries of each direction: %d sent and %d received entries are not shown (the statistics above count everything).",
			cr.Wire.TxOmitted, cr.Wire.RxOmitted)
	}
	return p
}

// describeTuple shows an event or an expected event in words.
func describeTuple(typ string, binary bool, preview []byte, n int64, tag string) string {
	switch typ {
	case expectedEventTimeout:
		return "timeout, tag " + strconv.Quote(tag)
	case expectedEventMessage:
		kind := "text"
		if binary {
			kind = "binary"
		}
		return fmt.Sprintf("%s message, %d bytes: %s", kind, n, textLog(preview, n))
	}
	return fmt.Sprintf("%s, %d bytes: %s", typ, n, textLog(preview, n))
}

func chunkTable(title string, m map[string]int) statTable {
	t := statTable{Title: title, Key: "Chop size", Octets: true}
	sizes := make([]int64, 0, len(m))
	for k := range m {
		if n, err := strconv.ParseInt(k, 10, 64); err == nil {
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	for _, s := range sizes {
		c := int64(m[strconv.FormatInt(s, 10)])
		t.Rows = append(t.Rows, statRow{Key: strconv.FormatInt(s, 10), Count: c, Octets: s * c})
		t.Total.Count += c
		t.Total.Octets += s * c
	}
	return t
}

func opcodeTable(title string, m map[string]int) statTable {
	t := statTable{Title: title, Key: "Opcode"}
	var ops []int
	for k := range m {
		if n, err := strconv.Atoi(k); err == nil {
			ops = append(ops, n)
		}
	}
	slices.Sort(ops)
	for _, op := range ops {
		key := strconv.Itoa(op)
		if name := opcodeNames[op]; name != "" {
			key += " (" + name + ")"
		}
		c := int64(m[strconv.Itoa(op)])
		t.Rows = append(t.Rows, statRow{Key: key, Count: c})
		t.Total.Count += c
	}
	return t
}

// hexDump shows bytes as rows of 16: offset, hex and the printable
// characters.
func hexDump(b []byte) []string {
	var rows []string
	for off := 0; off < len(b); off += 16 {
		row := b[off:min(off+16, len(b))]
		var text strings.Builder
		for _, c := range row {
			if c >= 0x20 && c < 0x7f {
				text.WriteByte(c)
			} else {
				text.WriteByte('.')
			}
		}
		h := hex.EncodeToString(row)
		var spaced strings.Builder
		for i := 0; i < len(h); i += 2 {
			if i > 0 {
				spaced.WriteByte(' ')
			}
			spaced.WriteString(h[i : i+2])
		}
		rows = append(rows, fmt.Sprintf("%04x  %-47s  %s", off, spaced.String(), text.String()))
	}
	return rows
}

func wireView(i int, e WireEntry) wireLine {
	l := wireLine{N: fmt.Sprintf("%03d", i)}
	at := fmt.Sprintf(" [%.3f ms]", e.MS)
	pyBool := func(b bool) string {
		if b {
			return "True"
		}
		return "False"
	}
	mask := "None"
	if e.Masked {
		mask = hex.EncodeToString(e.Mask[:])
	}
	more := func() {
		if rest := e.Length - int64(len(e.Data)); rest > 0 {
			l.Text = append(l.Text, fmt.Sprintf("... %d more octets", rest))
		}
	}
	switch e.Kind {
	case WireTxOctets, WireRxOctets:
		l.Class, l.What = "txo", fmt.Sprintf("TX OCTETS: %d", e.Length)
		if e.Kind == WireRxOctets {
			l.Class, l.What = "rxo", fmt.Sprintf("RX OCTETS: %d", e.Length)
		}
		if e.Sync {
			l.What += ", SYNC"
		}
		l.What += at
		l.Text = hexDump(e.Data)
		more()
	case WireTxFrame:
		chop := "None"
		if e.Chop > 0 {
			chop = strconv.Itoa(e.Chop)
		}
		l.Class = "tx"
		l.What = fmt.Sprintf("TX FRAME : OPCODE=%d, FIN=%s, RSV=%d, PAYLOAD-LEN=%d, MASK=%s, CHOPSIZE=%s, SYNC=%s%s",
			e.Opcode, pyBool(e.Fin), e.Rsv, e.Length, mask, chop, pyBool(e.Sync), at)
		l.Text = []string{textLog(e.Data, e.Length)}
	case WireRxFrame:
		l.Class = "rx"
		l.What = fmt.Sprintf("RX FRAME : OPCODE=%d, FIN=%s, RSV=%d, PAYLOAD-LEN=%d, MASKED=%s, MASK=%s%s",
			e.Opcode, pyBool(e.Fin), e.Rsv, e.Length, pyBool(e.Masked), mask, at)
		l.Text = []string{textLog(e.Data, e.Length)}
	case WireKill:
		l.Class, l.What = "timer", fmt.Sprintf("FAIL CONNECTION AFTER %g sec%s", e.Seconds, at)
	case WireKillFire:
		l.Class, l.What = "timer", "FAILING CONNECTION"+at
	case WireTimer:
		l.Class, l.What = "timer", fmt.Sprintf("CLOSE CONNECTION AFTER %g sec%s", e.Seconds, at)
	case WireTimeFire:
		l.Class, l.What = "timer", "CLOSING CONNECTION"+at
	case WirePause:
		l.Class, l.What = "timer", fmt.Sprintf("DELAY %g sec for TAG %s%s", e.Seconds, e.Tag, at)
	case WirePauseEnd:
		l.Class, l.What = "timer", fmt.Sprintf("DELAY TIMEOUT on TAG %s%s", e.Tag, at)
	default:
		l.Class, l.What = "timer", e.Kind+at
	}
	if e.Note != "" {
		l.Text = append(l.Text, "("+e.Note+")")
	}
	return l
}

var caseTemplate = template.Must(template.New("case").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Agent}} - Case {{.ID}}</title>
<style>` + styles + `</style></head><body>
<p><a href="index.html">Back to the index</a> · <a href="{{.JSONFile}}">JSON</a></p>
<p class="casehead {{.Class}}">{{.Agent}} - <b>Case {{.ID}}</b> : {{.Label}} - <b>{{.Duration}}</b> ms @ {{.Started}}</p>
<div class="block"><b>Case Description</b><p>{{.Description}}</p></div>
<div class="block"><b>Case Expectation</b><p>{{.Expectation}}</p></div>
<div class="block" id="case_outcome"><b>Case Outcome</b><p>{{.Result}}</p>
<p><i>Expected:</i></p><pre>{{range .ExpectedText}}{{.}}
{{else}}no event list: judged by the case's own rule (see the expectation)
{{end}}</pre>
<p><i>Observed ({{.ReceivedTotal}} events):</i></p><pre>{{range .ReceivedText}}{{.}}
{{else}}no event
{{end}}</pre></div>
<div class="block"><b>Case Closing Behavior</b><p class="{{.CloseClass}}" style="padding: 4px 8px">{{.ResultClose}} ({{.BehaviorClose}})</p></div>
<h2>Opening Handshake</h2>
<p>{{if .HTTP2}}HTTP/2 extended CONNECT (RFC 8441){{else}}HTTP/1.1 upgrade{{end}}{{if .TLS}} over TLS{{end}}{{if .PMCE}}; permessage-deflate: <span class="mono">{{.PMCE.Response}}</span>{{end}}</p>
<pre>{{.HTTPRequest}}</pre>
<pre>{{.HTTPResponse}}</pre>
<h2>Closing Behavior</h2>
<table class="kv"><tr><th>Key</th><th>Value</th><th>Description</th></tr>
{{range .Closing}}<tr><td>{{.Key}}</td><td class="mono">{{.Value}}</td><td>{{.Text}}</td></tr>
{{end}}</table>
<h2>Wire Statistics</h2>
{{range .Stats}}<h3>{{.Title}}</h3>
<table class="stats"><tr><th>{{.Key}}</th><th>Count</th>{{if .Octets}}<th>Octets</th>{{end}}</tr>
{{$octets := .Octets}}{{range .Rows}}<tr><td class="num">{{.Key}}</td><td class="num">{{.Count}}</td>{{if $octets}}<td class="num">{{.Octets}}</td>{{end}}</tr>
{{end}}<tr class="total"><td>Total</td><td class="num">{{.Total.Count}}</td>{{if .Octets}}<td class="num">{{.Total.Octets}}</td>{{end}}</tr></table>
{{end}}{{if .Traffic}}<h3>Traffic statistics</h3>
<table class="kv"><tr><th>Key</th><th>Value</th><th>Description</th></tr>
{{range .Traffic}}<tr><td>{{.Key}}</td><td class="mono">{{.Value}}</td><td>{{.Text}}</td></tr>
{{end}}</table>{{end}}
<h2>Wire Log</h2>
<p class="note">Octets as written to and read from the connection (hex, with the printable characters; the first 64 bytes of each), frames as the fuzzer built or parsed them (the payload as text if it is UTF-8, else in hex), and the case's timers.{{if .Omitted}} {{.Omitted}}{{end}}</p>
<table class="wl" id="wirelog">
{{range .Wire}}<tr class="{{.Class}}"><td>{{.N}}</td><td>{{.What}}{{range .Text}}
{{.}}{{end}}</td></tr>
{{end}}</table>
</body></html>
`))
