package handshake

// Hostile handshakes at the parser level; conn/hostile_test.go runs the
// same attack classes through conn.Upgrade and conn.Accept.

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/cputime"
)

// hostileLimits lets inputs of several MiB reach the parsers.
var hostileLimits = Limits{MaxHeaderBytes: 8 << 20, MaxHeaders: 1000, MaxLineBytes: 8 << 20}

// checkTime parses and checks a request whose field name has value, and
// returns the least CPU time of three runs and the result.
func checkTime(t *testing.T, s *Server, fields hdr) (time.Duration, error) {
	t.Helper()
	in := []byte(rawRequest("GET /chat HTTP/1.1", fields))
	best := time.Duration(1 << 62)
	var err error
	for range 3 {
		start := cputime.Used()
		var r Request
		if _, perr := r.Parse(in, hostileLimits); perr != nil {
			t.Fatalf("Parse: %v", perr)
		}
		var up Upgrade
		err = s.Check(&r, &up)
		best = min(best, cputime.Used()-start)
	}
	return best, err
}

// Values shaped for a backtracking parser, in the fields an attacker
// controls that are parsed as lists or matched against patterns: the time
// for 8n bytes must stay near 8 times that for n; a quadratic parser takes
// 64 times. TestExtensionsLinear and TestPathologicalLists cover
// ParseExtensions alone.
func TestHostileFieldsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison runs in the full test run")
	}
	srv := &Server{Protocols: []string{"chat"}, Limits: hostileLimits,
		OriginPatterns: []string{"*a*a*a*a*a*b.example", "https://*.*.*.*.example.com:*"}}
	tests := []struct {
		name, field, head, unit, tail string
	}{
		{name: "protocol commas", field: "Sec-WebSocket-Protocol", unit: ","},
		{name: "protocol comma OWS", field: "Sec-WebSocket-Protocol", unit: " ,\t"},
		{name: "protocol long token", field: "Sec-WebSocket-Protocol", unit: "a", tail: "@"},
		{name: "protocol near misses", field: "Sec-WebSocket-Protocol", unit: "cha", tail: "t"},
		{name: "extension empty elements", field: "Sec-WebSocket-Extensions", unit: ", ", tail: "x"},
		{name: "extension OWS before param", field: "Sec-WebSocket-Extensions", head: "x", unit: " \t", tail: "; a"},
		{name: "extension quoted escapes", field: "Sec-WebSocket-Extensions", head: `x; a="`, unit: `\a`, tail: `"`},
		{name: "connection list", field: "Connection", unit: "keep-alive, ", tail: "upgrade"},
		{name: "upgrade list", field: "Upgrade", unit: "h2c, ", tail: "websocket"},
		{name: "origin stars", field: "Origin", head: "https://", unit: "a", tail: ".example"},
		{name: "origin dots", field: "Origin", head: "https://", unit: "a.", tail: "example.org:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			measure := func(n int) time.Duration {
				v := tt.head + strings.Repeat(tt.unit, n/len(tt.unit)) + tt.tail
				d, _ := checkTime(t, srv, baseFields().set(tt.field, v))
				return d
			}
			small, large := measure(256<<10), measure(2<<20)
			t.Logf("256 KiB: %v, 2 MiB: %v", small, large)
			if large > 32*small && large > 250*time.Millisecond {
				t.Errorf("2 MiB took %v, 256 KiB %v: not linear", large, small)
			}
		})
	}
}

// Non-ASCII bytes (UTF-8 and bare high bytes) in every token of a request
// and of a response: never accepted as a token, never matched by ASCII case
// folding (U+017F LATIN SMALL LETTER LONG S folds to 's' in Unicode), and
// answered with the status the field calls for.
func TestHostileNonASCIITokens(t *testing.T) {
	srv := &Server{Protocols: []string{"chat"}, OriginPatterns: []string{"*.example.org"}}
	b := baseFields()
	requests := []struct {
		name   string
		fields hdr
		status int
	}{
		{"upgrade long s", b.set("Upgrade", "web\xc5\xbfocket"), http.StatusUpgradeRequired},
		{"upgrade high byte", b.set("Upgrade", "websocket\xff"), http.StatusUpgradeRequired},
		{"connection long s", b.set("Connection", "up\xc5\xbfgrade"), http.StatusBadRequest},
		{"connection kelvin", b.set("Connection", "upgrade, \xe2\x84\xaaeep-alive"), 0},
		{"version", b.set("Sec-WebSocket-Version", "1\xd9\xa3"), http.StatusUpgradeRequired},
		{"key", b.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZ\xc3\xa9="), http.StatusBadRequest},
		{"protocol", b.set("Sec-WebSocket-Protocol", "cha\xc5\xa3"), http.StatusBadRequest},
		{"protocol second", b.set("Sec-WebSocket-Protocol", "chat, \xff"), http.StatusBadRequest},
		{"extension name", b.set("Sec-WebSocket-Extensions", "permessage-d\xc3\xa9flate"), http.StatusBadRequest},
		{"extension param", b.set("Sec-WebSocket-Extensions", "permessage-deflate; \xffx"), http.StatusBadRequest},
		{"extension value", b.set("Sec-WebSocket-Extensions", "permessage-deflate; a=\xc3\xa9"), http.StatusBadRequest},
		{"extension quoted value", b.set("Sec-WebSocket-Extensions", "permessage-deflate; a=\"\xc3\xa9\""), http.StatusBadRequest},
		{"origin host", b.set("Origin", "https://\xc3\xa9vil.example.org"), http.StatusForbidden},
		{"origin long s in pattern match", b.set("Origin", "https://a.example.\xc5\xbfrg"), http.StatusForbidden},
		{"origin same host non-ASCII", b.set("Host", "ex\xc3\xa4mple.com").set("Origin", "https://ex\xc3\xa4mple.com"), http.StatusForbidden},
	}
	for _, tt := range requests {
		t.Run("request/"+tt.name, func(t *testing.T) {
			in := []byte(rawRequest("GET /chat HTTP/1.1", tt.fields))
			var r Request
			if _, err := r.Parse(in, Limits{}); err != nil {
				var re *RejectError
				if !errors.As(err, &re) || re.Status != http.StatusBadRequest || tt.status != http.StatusBadRequest {
					t.Fatalf("Parse(%s) = %v, want status %d", hexs(in), err, tt.status)
				}
				return
			}
			var up Upgrade
			err := srv.Check(&r, &up)
			var re *RejectError
			switch {
			case tt.status == 0 && err != nil:
				t.Fatalf("Check = %v, want success", err)
			case tt.status != 0 && (!errors.As(err, &re) || re.Status != tt.status):
				t.Fatalf("Check = %v, want status %d", err, tt.status)
			}
		})
	}
	cl := Client{Host: "h", Protocols: []string{"chat"}, Extensions: "permessage-deflate"}
	responses := []struct {
		name   string
		fields []string
	}{
		{"upgrade long s", []string{"Upgrade: web\xc5\xbfocket"}},
		{"connection long s", []string{"Connection: up\xc5\xbfgrade"}},
		{"protocol", []string{"Sec-WebSocket-Protocol: cha\xc5\xa3"}},
		{"protocol high byte", []string{"Sec-WebSocket-Protocol: chat\xff"}},
		{"extension name", []string{"Sec-WebSocket-Extensions: permessage-d\xc3\xa9flate"}},
		{"extension param", []string{"Sec-WebSocket-Extensions: permessage-deflate; \xffx"}},
		{"accept", []string{"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xO\xc3\xb6"}},
	}
	for _, tt := range responses {
		t.Run("response/"+tt.name, func(t *testing.T) {
			fields := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": rfcAccept}
			var extra []string
			for _, f := range tt.fields {
				name, v, _ := strings.Cut(f, ": ")
				if _, ok := fields[name]; ok {
					fields[name] = v
				} else {
					extra = append(extra, f)
				}
			}
			in := "HTTP/1.1 101 Switching Protocols\r\n"
			for _, name := range []string{"Upgrade", "Connection", "Sec-WebSocket-Accept"} {
				in += name + ": " + fields[name] + "\r\n"
			}
			for _, f := range extra {
				in += f + "\r\n"
			}
			in += "\r\n"
			var resp Response
			if _, err := resp.Parse([]byte(in), Limits{}); err != nil {
				return // refused by the parser already
			}
			if _, _, err := cl.Check(&resp, rfcKey); err == nil {
				t.Fatalf("Client.Check(%s) accepted it", hexs([]byte(in)))
			}
		})
	}
}
