package fuzz_test

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wirelevel/ws/handshake"
)

// Seeds shared by the request and response targets.
var (
	seedRequests = []string{
		// RFC 6455, Section 1.2.
		"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n" +
			"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /ws?x=1 HTTP/1.1\r\nHost: a.example.com\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://b.example.com\r\nSec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
			"Sec-WebSocket-Extensions: x; a=\"1\"\r\n\r\n\x81\x80\x00\x00\x00\x00",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
			"Sec-WebSocket-Version: 8\r\n\r\n",
		"POST / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"GET / HTTP/1.1\r\n" + strings.Repeat("A: b\r\n", 120) + "\r\n",
		"GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\n\r\n",
	}
	seedResponses = []string{
		// RFC 6455, Section 1.3.
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x05\x48\x65\x6c\x6c\x6f",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n",
		"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope",
		"HTTP/1.1 101\r\n\r\n",
		"HTTP/1.0 101 X\r\nUpgrade: websocket\r\n\r\n",
		"HTTP/1.1 1010 X\r\n\r\n",
		"HTTP/1.1 101 A\rB\r\n\r\n",
		"SSH-2.0-OpenSSH_9.6\r\n",
	}
	seedExtensions = []string{
		"permessage-deflate; client_max_window_bits",
		`permessage-deflate; client_max_window_bits="10"; server_no_context_takeover, x-foo`,
		` , x ;a = 1 ; b ,, y `,
		`x; a="\1\0"`,
		`x; a=""`,
		`x; a="b`,
		"x;;",
		"a=b,a=b,a=b",
		strings.Repeat("x,", 70),
		"x" + strings.Repeat(";a", 70),
	}
	seedProtocols = []string{
		"chat, superchat",
		" ,a,, b ,",
		"a b",
		"caf\xc3\xa9",
		`"quoted"`,
		strings.Repeat("p,", 70),
	}
)

var fuzzServer = handshake.Server{
	Protocols:      []string{"chat", "superchat", "v1"},
	OriginPatterns: []string{"*.example.com", "https://*.example.org", "null"},
}

// serialize writes a parsed header block back out.
func serialize(start string, fields []handshake.Field) []byte {
	var b bytes.Buffer
	b.WriteString(start + "\r\n")
	for _, f := range fields {
		b.Write(f.Name)
		b.WriteString(": ")
		b.Write(f.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func sameFields(a, b []handshake.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Name, b[i].Name) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// bigLimits lets a re-serialised block, a byte longer per field, parse.
var bigLimits = handshake.Limits{MaxHeaderBytes: 1 << 20, MaxHeaders: 1 << 16, MaxLineBytes: 1 << 20}

func FuzzParseRequest(f *testing.F) {
	for _, s := range seedRequests {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r handshake.Request
		n, err := r.Parse(data, handshake.Limits{})
		if n < 0 || n > len(data) {
			t.Fatalf("Parse consumed %d of %d bytes", n, len(data))
		}
		if err != nil {
			var re *handshake.RejectError
			if !errors.As(err, &re) || (re.Status != 400 && re.Status != 431) || n != 0 {
				t.Fatalf("Parse = %d, %v; want 0 and a 400 or 431 RejectError", n, err)
			}
			if !strings.HasPrefix(err.Error(), "handshake: ") {
				t.Fatalf("error %q lacks the handshake: prefix", err)
			}
			return
		}
		if n == 0 {
			if len(data) >= handshake.DefaultMaxHeaderBytes {
				t.Fatalf("Parse of %d bytes is incomplete, past the limit", len(data))
			}
			return
		}
		if n > handshake.DefaultMaxHeaderBytes || len(r.Header) > handshake.DefaultMaxHeaders ||
			!bytes.HasSuffix(data[:n], []byte("\r\n\r\n")) {
			t.Fatalf("Parse accepted %d bytes, %d fields, ending % x", n, len(r.Header), data[max(0, n-4):n])
		}
		// The block alone parses the same; any shorter prefix is incomplete.
		var r2 handshake.Request
		if n2, err := r2.Parse(data[:n], handshake.Limits{}); n2 != n || err != nil || !sameFields(r.Header, r2.Header) {
			t.Fatalf("Parse(block) = %d, %v; want %d", n2, err, n)
		}
		if n2, err := r2.Parse(data[:n-1], handshake.Limits{}); n2 != 0 || err != nil {
			t.Fatalf("Parse(block minus one byte) = %d, %v; want 0, nil", n2, err)
		}
		// Re-serialise and re-parse.
		start := string(r.Method) + " " + string(r.Target) + " " + string(r.Proto)
		again := serialize(start, r.Header)
		if n2, err := r2.Parse(again, bigLimits); n2 != len(again) || err != nil || !sameFields(r.Header, r2.Header) ||
			!bytes.Equal(r.Method, r2.Method) || !bytes.Equal(r.Target, r2.Target) || !bytes.Equal(r.Proto, r2.Proto) {
			t.Fatalf("re-parse of %q = %d, %v", again, n2, err)
		}

		var up handshake.Upgrade
		if err := fuzzServer.Check(&r, &up); err != nil {
			var re *handshake.RejectError
			if !errors.As(err, &re) {
				t.Fatalf("Check = %v, want a RejectError", err)
			}
			switch re.Status {
			case 400, 403, 405, 426, 505:
			default:
				t.Fatalf("Check status %d", re.Status)
			}
			var resp handshake.Response
			out := re.AppendResponse(nil)
			if n, err := resp.Parse(out, handshake.Limits{}); err != nil || n == 0 || resp.Status != re.Status {
				t.Fatalf("rejection %q parses as %d, %d, %v", out, resp.Status, n, err)
			}
			return
		}
		if string(r.Method) != "GET" {
			t.Fatalf("Check accepted method %q", r.Method)
		}
		key := string(r.Get("Sec-WebSocket-Key"))
		if up.Accept() != handshake.AcceptKey(key) {
			t.Fatalf("Accept() = %q, want AcceptKey(%q)", up.Accept(), key)
		}
		if up.Protocol != "" && up.Protocol != "chat" && up.Protocol != "superchat" && up.Protocol != "v1" {
			t.Fatalf("Check chose protocol %q", up.Protocol)
		}
		if len(up.Offers) > handshake.MaxExtensions {
			t.Fatalf("Check returned %d offers", len(up.Offers))
		}
		// The 101 satisfies a client that offered what the request did.
		exts, err := handshake.AppendExtensions(nil, up.Offers)
		if err != nil {
			t.Fatalf("AppendExtensions(Offers) = %v", err)
		}
		up.Extensions = string(exts)
		out, err := up.AppendResponse(nil)
		if err != nil {
			t.Fatalf("AppendResponse = %v", err)
		}
		var resp handshake.Response
		if n, err := resp.Parse(out, handshake.Limits{}); err != nil || n != len(out) {
			t.Fatalf("Response.Parse(%q) = %d, %v", out, n, err)
		}
		var protos []string
		if up.Protocol != "" {
			protos = []string{up.Protocol}
		}
		cl := handshake.Client{Host: "x", Protocols: protos, Extensions: string(exts)}
		if _, _, err := cl.Check(&resp, key); err != nil {
			t.Fatalf("Client.Check(%q) = %v", out, err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range seedResponses {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r handshake.Response
		n, err := r.Parse(data, handshake.Limits{})
		if n < 0 || n > len(data) || (err != nil && n != 0) {
			t.Fatalf("Parse = %d, %v for %d bytes", n, err, len(data))
		}
		if err != nil && !errors.Is(err, handshake.ErrMalformed) && !errors.Is(err, handshake.ErrTooLarge) {
			t.Fatalf("Parse error %v wraps neither ErrMalformed nor ErrTooLarge", err)
		}
		// ReadResponse over a reader agrees and leaves the rest unread.
		rd := bytes.NewReader(data)
		br := bufio.NewReaderSize(rd, 16)
		rr, rerr := handshake.ReadResponse(br, handshake.Limits{})
		if (rerr == nil) != (err == nil && n > 0) {
			t.Fatalf("ReadResponse = %v, but Parse = %d, %v", rerr, n, err)
		}
		if err != nil || n == 0 {
			return
		}
		if rr.Status != r.Status || !sameFields(rr.Header, r.Header) {
			t.Fatalf("ReadResponse status %d, Parse status %d", rr.Status, r.Status)
		}
		if left := br.Buffered() + rd.Len(); left != len(data)-n {
			t.Fatalf("ReadResponse left %d bytes unread, want %d", left, len(data)-n)
		}
		if r.Status < 100 || r.Status > 999 || !bytes.HasSuffix(data[:n], []byte("\r\n\r\n")) {
			t.Fatalf("Parse accepted status %d, block ending % x", r.Status, data[max(0, n-4):n])
		}
		start := string(r.Proto) + " " + string(data[9:12])
		if len(r.Reason) > 0 || (n > 12 && data[12] == ' ') {
			start += " " + string(r.Reason)
		}
		again := serialize(start, r.Header)
		var r2 handshake.Response
		if n2, err := r2.Parse(again, bigLimits); n2 != len(again) || err != nil || r2.Status != r.Status ||
			!bytes.Equal(r2.Reason, r.Reason) || !sameFields(r.Header, r2.Header) {
			t.Fatalf("re-parse of %q = %d, %v", again, n2, err)
		}
		cl := handshake.Client{Host: "x", Protocols: []string{"chat"}, Extensions: "permessage-deflate"}
		proto, exts, err := cl.Check(&r, "dGhlIHNhbXBsZSBub25jZQ==")
		if err == nil {
			if r.Status != 101 || (proto != "" && proto != "chat") {
				t.Fatalf("Check accepted status %d, protocol %q", r.Status, proto)
			}
			for _, e := range exts {
				if e.Name != "permessage-deflate" {
					t.Fatalf("Check accepted extension %q", e.Name)
				}
			}
		}
		var se *handshake.StatusError
		if r.Status != 101 && !errors.As(err, &se) {
			t.Fatalf("Check of status %d = %v, want a StatusError", r.Status, err)
		}
	})
}

func sameExtensions(a, b []handshake.Extension) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].Params) != len(b[i].Params) {
			return false
		}
		for j := range a[i].Params {
			if a[i].Params[j] != b[i].Params[j] {
				return false
			}
		}
	}
	return true
}

func FuzzParseExtensions(f *testing.F) {
	for _, s := range seedExtensions {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exts, err := handshake.ParseExtensions(s)
		if err != nil {
			if exts != nil {
				t.Fatalf("ParseExtensions(%q) = %+v with error %v", s, exts, err)
			}
			return
		}
		if len(exts) > handshake.MaxExtensions {
			t.Fatalf("ParseExtensions(%q) gave %d extensions", s, len(exts))
		}
		for _, e := range exts {
			if len(e.Params) > handshake.MaxExtensionParams {
				t.Fatalf("ParseExtensions(%q) gave %d params", s, len(e.Params))
			}
			for _, p := range e.Params {
				if p.HasValue == (p.Value == "") {
					t.Fatalf("ParseExtensions(%q) gave param %+v", s, p)
				}
			}
		}
		// parse → format → parse gives the same result, and formatting
		// is stable.
		out, err := handshake.AppendExtensions(nil, exts)
		if err != nil {
			t.Fatalf("AppendExtensions(%+v) = %v", exts, err)
		}
		again, err := handshake.ParseExtensions(string(out))
		if err != nil || !sameExtensions(exts, again) {
			t.Fatalf("ParseExtensions(%q) = %+v, %v; want %+v", out, again, err, exts)
		}
		out2, _ := handshake.AppendExtensions(nil, again)
		if !bytes.Equal(out, out2) {
			t.Fatalf("AppendExtensions not stable: %q then %q", out, out2)
		}
	})
}

func FuzzParseProtocols(f *testing.F) {
	for _, s := range seedProtocols {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := handshake.ParseProtocols(s)
		if err != nil {
			return
		}
		if len(ps) > handshake.MaxProtocols {
			t.Fatalf("ParseProtocols(%q) gave %d protocols", s, len(ps))
		}
		for _, p := range ps {
			if p == "" || strings.ContainsAny(p, " \t,\"") {
				t.Fatalf("ParseProtocols(%q) gave %q", s, p)
			}
		}
		joined := strings.Join(ps, ", ")
		again, err := handshake.ParseProtocols(joined)
		if err != nil || strings.Join(again, ", ") != joined {
			t.Fatalf("ParseProtocols(%q) = %q, %v; want %q", joined, again, err, ps)
		}
		// A client offering these and a server supporting them agree.
		if len(ps) == 0 {
			return
		}
		cl := handshake.Client{Host: "h", Protocols: ps}
		req, err := cl.AppendRequest(nil, handshake.NewKey())
		if err != nil {
			t.Fatalf("AppendRequest with protocols %q = %v", ps, err)
		}
		var r handshake.Request
		if _, err := r.Parse(req, bigLimits); err != nil {
			t.Fatalf("Parse(%q) = %v", req, err)
		}
		srv := handshake.Server{Protocols: []string{ps[len(ps)-1]}}
		var up handshake.Upgrade
		if err := srv.Check(&r, &up); err != nil || up.Protocol != ps[len(ps)-1] {
			t.Fatalf("Check = %q, %v; want %q", up.Protocol, err, ps[len(ps)-1])
		}
	})
}
