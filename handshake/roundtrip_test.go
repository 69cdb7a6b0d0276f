package handshake

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRoundTripRaw(t *testing.T) {
	tests := []struct {
		name   string
		client Client
		server Server
		ext    string // server's answer for Sec-WebSocket-Extensions
		proto  string
		exts   []Extension
	}{
		{name: "minimal", client: Client{Host: "example.com"}},
		{name: "browser-like", client: Client{Host: "example.com:8080", Target: "/ws?room=1", Origin: "https://example.com:8080",
			Protocols: []string{"v2.chat", "v1.chat"}, Extensions: "permessage-deflate; client_max_window_bits",
			Header: http.Header{"User-Agent": {"test"}}},
			server: Server{Protocols: []string{"v1.chat", "v2.chat"}},
			ext:    "permessage-deflate; client_max_window_bits=12",
			proto:  "v1.chat",
			exts:   []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits", Value: "12", HasValue: true}}}}},
		{name: "allowed cross origin", client: Client{Host: "api.example.com", Origin: "https://app.example.com"},
			server: Server{OriginPatterns: []string{"https://*.example.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := NewKey()
			reqBytes, err := tt.client.AppendRequest(nil, key)
			if err != nil {
				t.Fatal(err)
			}
			var req Request
			if n, err := req.Parse(reqBytes, Limits{}); err != nil || n != len(reqBytes) {
				t.Fatalf("Parse(%q) = %d, %v", reqBytes, n, err)
			}
			var up Upgrade
			if err := tt.server.Check(&req, &up); err != nil {
				t.Fatalf("Check(%q) = %v", reqBytes, err)
			}
			if up.Accept() != AcceptKey(key) {
				t.Errorf("Accept() = %q, want %q", up.Accept(), AcceptKey(key))
			}
			offered, _ := ParseExtensions(tt.client.Extensions)
			if !equalExtensions(up.Offers, offered) {
				t.Errorf("Offers = %+v, want %+v", up.Offers, offered)
			}
			up.Extensions = tt.ext
			respBytes, err := up.AppendResponse(nil)
			if err != nil {
				t.Fatal(err)
			}
			var resp Response
			if n, err := resp.Parse(respBytes, tt.client.Limits); err != nil || n != len(respBytes) {
				t.Fatalf("Response.Parse(%q) = %d, %v", respBytes, n, err)
			}
			proto, exts, err := tt.client.Check(&resp, key)
			if err != nil || proto != tt.proto || !equalExtensions(exts, tt.exts) {
				t.Fatalf("Client.Check(%q) = %q, %+v, %v; want %q, %+v", respBytes, proto, exts, err, tt.proto, tt.exts)
			}
		})
	}
}

// TestRoundTripNetHTTP runs the client against an httptest server that
// checks with CheckHTTP, hijacks and writes the 101 and a first frame.
func TestRoundTripNetHTTP(t *testing.T) {
	frame := "\x81\x05\x48\x65\x6c\x6c\x6f" // RFC 6455, Section 5.7: unmasked "Hello"
	srv := &Server{Protocols: []string{"chat"}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up, err := srv.CheckHTTP(r)
		if err != nil {
			var re *RejectError
			if errors.As(err, &re) {
				re.ServeHTTP(w, r)
				return
			}
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if len(up.Offers) > 0 && up.Offers[0].Name == "permessage-deflate" {
			up.Extensions = "permessage-deflate"
		}
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack = %v", err)
			return
		}
		defer nc.Close()
		if err := up.WriteResponse(brw.Writer); err != nil {
			t.Errorf("WriteResponse = %v", err)
			return
		}
		nc.Write([]byte(frame))
	}))
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "http://")

	tests := []struct {
		name    string
		client  Client
		key     string
		proto   string
		exts    []Extension
		status  int
		header  string // a response header that must be set, "Name: value"
		wantErr error
	}{
		{name: "accepted", client: Client{Host: host, Target: "/x", Origin: "http://" + host,
			Protocols: []string{"chat"}, Extensions: "permessage-deflate; client_max_window_bits"},
			proto: "chat", exts: []Extension{{Name: "permessage-deflate"}}},
		{name: "cross origin", client: Client{Host: host, Origin: "https://evil.example"}, status: 403},
		{name: "bad key", client: Client{Host: host}, key: "short", status: 400},
		{name: "too many headers", client: Client{Host: host, Header: http.Header{"X": make([]string, 150)}}, status: 431},
		{name: "bad extension offer", client: Client{Host: host, Extensions: "permessage-deflate;"}, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			key := tt.key
			if key == "" {
				key = NewKey()
			}
			b, err := tt.client.AppendRequest(nil, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := ReadResponse(br, Limits{})
			if err != nil {
				t.Fatalf("ReadResponse = %v", err)
			}
			proto, exts, err := tt.client.Check(resp, key)
			if tt.status != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != tt.status {
					t.Fatalf("Check = %v, want status %d", err, tt.status)
				}
				body, _ := io.ReadAll(io.LimitReader(br, 512))
				if !strings.HasPrefix(string(body), "handshake: ") && tt.status != 431 {
					t.Errorf("body = %q, want the handshake error", body)
				}
				return
			}
			if err != nil || proto != tt.proto || !equalExtensions(exts, tt.exts) {
				t.Fatalf("Check = %q, %+v, %v; want %q, %+v", proto, exts, err, tt.proto, tt.exts)
			}
			got := make([]byte, len(frame))
			if _, err := io.ReadFull(br, got); err != nil || string(got) != frame {
				t.Errorf("first frame = %s, %v; want %s", hexs(got), err, hexs([]byte(frame)))
			}
		})
	}
}

// TestCheckHTTPMatchesCheck runs each request of TestServerCheckRejects
// through net/http as well, where net/http lets it through, and compares
// the status.
func TestCheckHTTPMatchesCheck(t *testing.T) {
	b := baseFields()
	tests := []struct {
		name   string
		line   string
		fields hdr
		status int // 0: accepted
	}{
		{name: "valid", line: "GET /chat HTTP/1.1", fields: b},
		{name: "POST", line: "POST /chat HTTP/1.1", fields: b, status: 405},
		{name: "HTTP/1.0", line: "GET /chat HTTP/1.0", fields: b, status: 505},
		{name: "no Upgrade", line: "GET /chat HTTP/1.1", fields: b.set("Upgrade"), status: 426},
		{name: "no Connection", line: "GET /chat HTTP/1.1", fields: b.set("Connection"), status: 400},
		{name: "version 8", line: "GET /chat HTTP/1.1", fields: b.set("Sec-WebSocket-Version", "8"), status: 426},
		{name: "version twice", line: "GET /chat HTTP/1.1", fields: b.set("Sec-WebSocket-Version", "13", "13"), status: 400},
		{name: "key twice", line: "GET /chat HTTP/1.1", fields: b.set("Sec-WebSocket-Key", rfcKey, rfcKey), status: 400},
		{name: "cross origin", line: "GET /chat HTTP/1.1", fields: b.set("Origin", "http://evil.com"), status: 403},
		{name: "same origin", line: "GET /chat HTTP/1.1", fields: b.set("Origin", "http://example.com")},
		{name: "bad protocol", line: "GET /chat HTTP/1.1", fields: b.set("Sec-WebSocket-Protocol", "a b"), status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rawRequest(tt.line, tt.fields)
			hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(in)))
			if err != nil {
				t.Fatalf("http.ReadRequest(%q) = %v", in, err)
			}
			var s Server
			_, httpErr := s.CheckHTTP(hr)
			var req Request
			req.Parse([]byte(in), Limits{})
			rawErr := s.Check(&req, new(Upgrade))
			if got, want := statusOf(httpErr), statusOf(rawErr); got != want || got != tt.status {
				t.Errorf("CheckHTTP status %d (%v), Check status %d (%v); want %d", got, httpErr, want, rawErr, tt.status)
			}
		})
	}
}

func statusOf(err error) int {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Status
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestCheckHTTPLimits(t *testing.T) {
	tests := []struct {
		name   string
		lim    Limits
		edit   func(*http.Request)
		status int
	}{
		{name: "fields", lim: Limits{MaxHeaders: 4}, status: 431},
		{name: "bytes", lim: Limits{MaxHeaderBytes: 100}, status: 431},
		{name: "target", edit: func(r *http.Request) { r.RequestURI = "/" + strings.Repeat("a", 5000) }, status: 431},
		{name: "HTTP/2", edit: func(r *http.Request) { r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0 }, status: 505},
		{name: "within limits", lim: Limits{MaxHeaders: 5}, status: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/chat", nil)
			r.Host = "example.com"
			for _, f := range baseFields()[1:] {
				r.Header.Add(f[0], f[1])
			}
			if tt.edit != nil {
				tt.edit(r)
			}
			_, err := (&Server{Limits: tt.lim}).CheckHTTP(r)
			if got := statusOf(err); got != tt.status {
				t.Errorf("CheckHTTP = %v, want status %d", err, tt.status)
			}
		})
	}
}
