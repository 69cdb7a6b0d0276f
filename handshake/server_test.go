package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestServerCheckRejects(t *testing.T) {
	const line = "GET /chat HTTP/1.1"
	b := baseFields()
	tests := []struct {
		name   string
		line   string
		fields hdr
		status int
		header http.Header // must be a subset of the error's Header
		is     error
	}{
		{name: "POST", line: "POST /chat HTTP/1.1", fields: b, status: 405, header: http.Header{"Allow": {"GET"}}, is: ErrMethod},
		{name: "lower-case get", line: "get /chat HTTP/1.1", fields: b, status: 405, is: ErrMethod},
		{name: "HTTP/1.0", line: "GET /chat HTTP/1.0", fields: b, status: 505, is: ErrHTTPVersion},
		{name: "HTTP/2.0", line: "GET /chat HTTP/2.0", fields: b, status: 505, is: ErrHTTPVersion},
		{name: "HTTP/0.9", line: "GET /chat HTTP/0.9", fields: b, status: 505, is: ErrHTTPVersion},
		{name: "no Host", line: line, fields: b.set("Host"), status: 400, is: errHost},
		{name: "two Host", line: line, fields: b.set("Host", "a", "a"), status: 400, is: errHost},
		{name: "no Upgrade", line: line, fields: b.set("Upgrade"), status: 426, header: http.Header{"Upgrade": {"websocket"}}, is: ErrNotWebSocket},
		{name: "Upgrade h2c", line: line, fields: b.set("Upgrade", "h2c"), status: 426, is: ErrNotWebSocket},
		{name: "Upgrade websocketx", line: line, fields: b.set("Upgrade", "websocketx"), status: 426, is: ErrNotWebSocket},
		{name: "no Connection", line: line, fields: b.set("Connection"), status: 400, is: errConnection},
		{name: "Connection keep-alive", line: line, fields: b.set("Connection", "keep-alive"), status: 400, is: errConnection},
		{name: "Connection upgrades", line: line, fields: b.set("Connection", "upgrades"), status: 400, is: errConnection},
		{name: "Content-Length 5", line: line, fields: b.set("Content-Length", "5"), status: 400, is: errBody},
		{name: "Transfer-Encoding", line: line, fields: b.set("Transfer-Encoding", "chunked"), status: 400, is: errBody},
		{name: "no version", line: line, fields: b.set("Sec-WebSocket-Version"), status: 426,
			header: http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}}, is: ErrVersion},
		{name: "version 8", line: line, fields: b.set("Sec-WebSocket-Version", "8"), status: 426,
			header: http.Header{"Sec-Websocket-Version": {"13"}}, is: ErrVersion},
		{name: "version list", line: line, fields: b.set("Sec-WebSocket-Version", "13, 8"), status: 426, is: ErrVersion},
		{name: "version twice", line: line, fields: b.set("Sec-WebSocket-Version", "13", "13"), status: 400, is: errVersionDup},
		{name: "no key", line: line, fields: b.set("Sec-WebSocket-Key"), status: 400, is: errKey},
		{name: "key twice", line: line, fields: b.set("Sec-WebSocket-Key", rfcKey, rfcKey), status: 400, is: errKey},
		{name: "key of 15 bytes", line: line, fields: b.set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"), status: 400, is: errKey},
		{name: "key not base64", line: line, fields: b.set("Sec-WebSocket-Key", "????????????????????????"), status: 400, is: errKey},
		{name: "empty key", line: line, fields: b.set("Sec-WebSocket-Key", ""), status: 400, is: errKey},
		{name: "cross origin", line: line, fields: b.set("Origin", "https://evil.com"), status: 403, is: ErrOrigin},
		{name: "null origin", line: line, fields: b.set("Origin", "null"), status: 403, is: ErrOrigin},
		{name: "origin without scheme", line: line, fields: b.set("Origin", "example.com"), status: 403, is: ErrOrigin},
		{name: "origin twice", line: line, fields: b.set("Origin", "https://example.com", "https://example.com"), status: 400, is: errOriginDup},
		{name: "protocol not a token", line: line, fields: b.set("Sec-WebSocket-Protocol", "chat, ch@t"), status: 400, is: ErrMalformed},
		{name: "protocol with space", line: line, fields: b.set("Sec-WebSocket-Protocol", "a b"), status: 400, is: ErrMalformed},
		{name: "protocol non-ASCII", line: line, fields: b.set("Sec-WebSocket-Protocol", "caf\xc3\xa9"), status: 400, is: ErrMalformed},
		{name: "65 protocols", line: line, fields: b.set("Sec-WebSocket-Protocol", strings.Repeat("p,", 65)), status: 400, is: errTooMany},
		{name: "extension syntax", line: line, fields: b.set("Sec-WebSocket-Extensions", "permessage-deflate;"), status: 400, is: ErrMalformed},
		{name: "extension on second line", line: line, fields: b.set("Sec-WebSocket-Extensions", "a", "b c"), status: 400, is: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rawRequest(tt.line, tt.fields)
			var req Request
			if n, err := req.Parse([]byte(in), Limits{}); err != nil || n != len(in) {
				t.Fatalf("Parse(%q) = %d, %v", in, n, err)
			}
			var s Server
			var up Upgrade
			err := s.Check(&req, &up)
			var re *RejectError
			if !errors.As(err, &re) || re.Status != tt.status || !errors.Is(err, tt.is) {
				t.Fatalf("Check(%q) = %v; want status %d wrapping %v", in, err, tt.status, tt.is)
			}
			for k, v := range tt.header {
				if got := re.Header[k]; !reflect.DeepEqual(got, v) {
					t.Errorf("Check(%q) header %s = %q, want %q", in, k, got, v)
				}
			}
			if !strings.HasPrefix(re.Error(), "handshake: ") {
				t.Errorf("error %q lacks the handshake: prefix", re.Error())
			}
		})
	}
}

func TestServerCheckAccepts(t *testing.T) {
	const line = "GET /chat HTTP/1.1"
	b := baseFields()
	tests := []struct {
		name   string
		line   string
		fields hdr
		server Server
		proto  string
		offers []Extension
	}{
		{name: "minimal", line: line, fields: b},
		{name: "HTTP/1.2", line: "GET /chat HTTP/1.2", fields: b},
		{name: "upper-case tokens", line: line, fields: b.set("Upgrade", "WEBSOCKET").set("Connection", "UPGRADE")},
		{name: "token lists", line: line, fields: b.set("Upgrade", "foo/2, websocket").set("Connection", "keep-alive, Upgrade")},
		{name: "tokens across lines", line: line, fields: b.set("Upgrade", "foo", "websocket").set("Connection", "keep-alive", "Upgrade")},
		{name: "lower-case names", line: line, fields: hdr{{"host", "a"}, {"upgrade", "websocket"}, {"connection", "upgrade"},
			{"sec-websocket-key", rfcKey}, {"sec-websocket-version", "13"}}},
		{name: "Content-Length 0", line: line, fields: b.set("Content-Length", "0")},
		{name: "same origin", line: line, fields: b.set("Origin", "https://example.com")},
		{name: "same origin, other scheme and case", line: line, fields: b.set("Origin", "HTTP://EXAMPLE.COM")},
		{name: "protocol in server order", line: line, fields: b.set("Sec-WebSocket-Protocol", "a, b, c"),
			server: Server{Protocols: []string{"x", "c", "b"}}, proto: "c"},
		{name: "protocol across lines", line: line, fields: b.set("Sec-WebSocket-Protocol", "a", " , b"),
			server: Server{Protocols: []string{"b"}}, proto: "b"},
		{name: "protocol is case-sensitive", line: line, fields: b.set("Sec-WebSocket-Protocol", "Chat"),
			server: Server{Protocols: []string{"chat"}}, proto: ""},
		{name: "no protocol in common", line: line, fields: b.set("Sec-WebSocket-Protocol", "a"),
			server: Server{Protocols: []string{"b"}}, proto: ""},
		{name: "empty protocol header", line: line, fields: b.set("Sec-WebSocket-Protocol", ""),
			server: Server{Protocols: []string{"b"}}, proto: ""},
		{name: "extension offers across lines", line: line,
			fields: b.set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits, x", "y; a=\"1\""),
			offers: []Extension{
				{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}},
				{Name: "x"},
				{Name: "y", Params: []Param{{Name: "a", Value: "1", HasValue: true}}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rawRequest(tt.line, tt.fields)
			var req Request
			if n, err := req.Parse([]byte(in), Limits{}); err != nil || n != len(in) {
				t.Fatalf("Parse(%q) = %d, %v", in, n, err)
			}
			var up Upgrade
			if err := tt.server.Check(&req, &up); err != nil {
				t.Fatalf("Check(%q) = %v, want nil", in, err)
			}
			if up.Protocol != tt.proto {
				t.Errorf("Check(%q).Protocol = %q, want %q", in, up.Protocol, tt.proto)
			}
			if !equalExtensions(up.Offers, tt.offers) {
				t.Errorf("Check(%q).Offers = %+v, want %+v", in, up.Offers, tt.offers)
			}
			if up.Accept() != rfcAccept {
				t.Errorf("Check(%q).Accept() = %q, want %q", in, up.Accept(), rfcAccept)
			}
			if up.Request != &req {
				t.Errorf("Check(%q).Request is not the checked request", in)
			}
		})
	}
}

func TestOriginPolicy(t *testing.T) {
	tests := []struct {
		name     string
		host     string
		origin   string
		patterns []string
		skip     bool
		want     bool
	}{
		{name: "same host", host: "example.com", origin: "https://example.com", want: true},
		{name: "same host and port", host: "example.com:8080", origin: "http://example.com:8080", want: true},
		{name: "scheme ignored", host: "example.com", origin: "ws://Example.COM", want: true},
		{name: "port differs", host: "example.com", origin: "https://example.com:8443", want: false},
		{name: "default port not filled in", host: "example.com:443", origin: "https://example.com", want: false},
		{name: "other host", host: "example.com", origin: "https://evil.com", want: false},
		{name: "suffix is not same origin", host: "example.com", origin: "https://evilexample.com", want: false},
		{name: "ipv6", host: "[::1]:8080", origin: "http://[::1]:8080", want: true},
		{name: "null", host: "example.com", origin: "null", want: false},
		{name: "null with star", host: "example.com", origin: "null", patterns: []string{"*"}, want: false},
		{name: "null with pattern", host: "example.com", origin: "null", patterns: []string{"null"}, want: true},
		{name: "null with skip", host: "example.com", origin: "null", skip: true, want: true},
		{name: "skip", host: "example.com", origin: "https://evil.com", skip: true, want: true},
		{name: "host pattern", host: "a", origin: "https://app.example.com", patterns: []string{"app.example.com"}, want: true},
		{name: "host pattern any scheme", host: "a", origin: "http://app.example.com", patterns: []string{"APP.example.com"}, want: true},
		{name: "host pattern needs port", host: "a", origin: "https://example.com:8443", patterns: []string{"example.com"}, want: false},
		{name: "wildcard subdomain", host: "a", origin: "https://x.y.example.com", patterns: []string{"*.example.com"}, want: true},
		{name: "wildcard not apex", host: "a", origin: "https://example.com", patterns: []string{"*.example.com"}, want: false},
		{name: "wildcard not suffix trick", host: "a", origin: "https://evil.com", patterns: []string{"*.example.com"}, want: false},
		{name: "wildcard port", host: "a", origin: "http://localhost:3000", patterns: []string{"localhost:*"}, want: true},
		{name: "star", host: "a", origin: "https://anything.test", patterns: []string{"*"}, want: true},
		{name: "scheme pattern", host: "a", origin: "https://x.example.com", patterns: []string{"https://*.example.com"}, want: true},
		{name: "scheme pattern wrong scheme", host: "a", origin: "http://x.example.com", patterns: []string{"https://*.example.com"}, want: false},
		{name: "no scheme", host: "example.com", origin: "example.com", want: false},
		{name: "path in origin", host: "example.com", origin: "https://example.com/", want: false},
		{name: "userinfo in origin", host: "example.com", origin: "https://u@example.com", patterns: []string{"*"}, want: false},
		{name: "bad port", host: "example.com", origin: "https://example.com:x", patterns: []string{"*"}, want: false},
		{name: "port smuggles host", host: "a", origin: "https://evil.com:1.example.com", patterns: []string{"*.example.com"}, want: false},
		{name: "empty host", host: "example.com", origin: "https://", patterns: []string{"*"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Server{OriginPatterns: tt.patterns, InsecureSkipOriginCheck: tt.skip}
			if got := s.originAllowed([]byte(tt.origin), []byte(tt.host)); got != tt.want {
				t.Errorf("originAllowed(%q, host %q, patterns %q) = %v, want %v", tt.origin, tt.host, tt.patterns, got, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{name: "literal", pattern: "abc", s: "ABC", want: true},
		{name: "literal mismatch", pattern: "abc", s: "abd", want: false},
		{name: "star empty", pattern: "a*c", s: "ac", want: true},
		{name: "star run", pattern: "a*c", s: "abbbc", want: true},
		{name: "stars", pattern: "*a*b*", s: "xxaxxbxx", want: true},
		{name: "backtrack", pattern: "*ab", s: "aab", want: true},
		{name: "trailing", pattern: "a*", s: "b", want: false},
		{name: "only star", pattern: "*", s: "", want: true},
		{name: "empty", pattern: "", s: "a", want: false},
		{name: "question mark is literal", pattern: "a?c", s: "abc", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := globMatch(tt.pattern, []byte(tt.s)); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

func checked(t *testing.T, s *Server, in string) *Upgrade {
	t.Helper()
	var req Request
	if n, err := req.Parse([]byte(in), Limits{}); err != nil || n != len(in) {
		t.Fatalf("Parse(%q) = %d, %v", in, n, err)
	}
	up := new(Upgrade)
	if err := s.Check(&req, up); err != nil {
		t.Fatalf("Check(%q) = %v", in, err)
	}
	return up
}

func TestUpgradeAppendResponse(t *testing.T) {
	in := rawRequest("GET /chat HTTP/1.1", baseFields().set("Sec-WebSocket-Protocol", "chat, superchat"))
	tests := []struct {
		name    string
		edit    func(*Upgrade)
		want    string
		wantErr bool
	}{
		{
			name: "rfc 6455 section 1.3",
			want: "HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"Sec-WebSocket-Protocol: chat\r\n" +
				"\r\n",
		},
		{
			name: "extensions and header",
			edit: func(u *Upgrade) {
				u.Protocol = ""
				u.Extensions = "permessage-deflate; server_no_context_takeover"
				u.Header = http.Header{"X-B": {"2"}, "X-A": {"1", "1b"}}
			},
			want: "HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n" +
				"X-A: 1\r\n" +
				"X-A: 1b\r\n" +
				"X-B: 2\r\n" +
				"\r\n",
		},
		{name: "protocol not a token", edit: func(u *Upgrade) { u.Protocol = "a b" }, wantErr: true},
		{name: "CRLF in extensions", edit: func(u *Upgrade) { u.Extensions = "x\r\nSet-Cookie: a=b" }, wantErr: true},
		{name: "CRLF in header value", edit: func(u *Upgrade) { u.Header = http.Header{"X": {"a\r\nb"}} }, wantErr: true},
		{name: "bad header name", edit: func(u *Upgrade) { u.Header = http.Header{"X Y": {"a"}} }, wantErr: true},
		{name: "header sets Connection", edit: func(u *Upgrade) { u.Header = http.Header{"Connection": {"close"}} }, wantErr: true},
		{name: "header sets accept", edit: func(u *Upgrade) { u.Header = http.Header{"Sec-Websocket-Accept": {"x"}} }, wantErr: true},
		{name: "not checked", edit: func(u *Upgrade) { *u = Upgrade{} }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := checked(t, &Server{Protocols: []string{"chat"}}, in)
			if tt.edit != nil {
				tt.edit(up)
			}
			got, err := up.AppendResponse([]byte("prefix"))
			if tt.wantErr {
				if err == nil || string(got) != "prefix" {
					t.Fatalf("AppendResponse = %q, %v; want prefix unchanged and an error", got, err)
				}
				return
			}
			if err != nil || string(got) != "prefix"+tt.want {
				t.Fatalf("AppendResponse = %q, %v; want %q", got, err, "prefix"+tt.want)
			}
			var buf bytes.Buffer
			w := bufio.NewWriter(&buf)
			if err := up.WriteResponse(w); err != nil || buf.String() != tt.want {
				t.Fatalf("WriteResponse wrote %q, %v; want %q", buf.String(), err, tt.want)
			}
		})
	}
}

func TestRejectErrorResponse(t *testing.T) {
	in := rawRequest("GET /chat HTTP/1.1", baseFields().set("Sec-WebSocket-Version", "8"))
	var req Request
	req.Parse([]byte(in), Limits{})
	err := new(Server).Check(&req, new(Upgrade))
	var re *RejectError
	if !errors.As(err, &re) {
		t.Fatalf("Check = %v, want a *RejectError", err)
	}
	body := "handshake: Sec-WebSocket-Version must be 13\n"
	want := "HTTP/1.1 426 Upgrade Required\r\n" +
		"Sec-Websocket-Version: 13\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: close\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Content-Length: 44\r\n" +
		"\r\n" + body
	if got := string(re.AppendResponse(nil)); got != want {
		t.Errorf("AppendResponse =\n%q\nwant\n%q", got, want)
	}

	rec := httptest.NewRecorder()
	re.ServeHTTP(rec, httptest.NewRequest("GET", "/chat", nil))
	if rec.Code != 426 || rec.Body.String() != body ||
		rec.Header().Get("Sec-WebSocket-Version") != "13" || rec.Header().Get("Connection") != "close" {
		t.Errorf("ServeHTTP wrote %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}

	// Invalid fields of a hand-made RejectError are left out.
	odd := &RejectError{Status: 7, Header: http.Header{"X": {"a\nb"}, "Y Z": {"c"}, "Connection": {"keep-alive"}}}
	got := string(odd.AppendResponse(nil))
	if !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n") || strings.Contains(got, "keep-alive") {
		t.Errorf("AppendResponse of odd error = %q", got)
	}
}
