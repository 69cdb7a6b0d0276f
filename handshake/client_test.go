package handshake

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

func TestClientAppendRequest(t *testing.T) {
	tests := []struct {
		name    string
		client  Client
		key     string
		want    string
		wantErr bool
	}{
		{
			name:   "rfc 6455 section 1.2",
			client: Client{Host: "server.example.com", Target: "/chat", Origin: "http://example.com", Protocols: []string{"chat", "superchat"}},
			key:    rfcKey,
			want: "GET /chat HTTP/1.1\r\n" +
				"Host: server.example.com\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
				"Sec-WebSocket-Version: 13\r\n" +
				"Origin: http://example.com\r\n" +
				"Sec-WebSocket-Protocol: chat, superchat\r\n" +
				"\r\n",
		},
		{
			name: "defaults, extensions and header",
			client: Client{Host: "h:8080", Extensions: "permessage-deflate; client_max_window_bits",
				Header: http.Header{"Cookie": {"a=b"}, "Authorization": {"Bearer x"}}},
			key: rfcKey,
			want: "GET / HTTP/1.1\r\n" +
				"Host: h:8080\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
				"Sec-WebSocket-Version: 13\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
				"Authorization: Bearer x\r\n" +
				"Cookie: a=b\r\n" +
				"\r\n",
		},
		{name: "odd key sent as given", client: Client{Host: "h"}, key: "short",
			want: "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"},
		{name: "no host", client: Client{}, key: rfcKey, wantErr: true},
		{name: "CRLF in host", client: Client{Host: "h\r\nX: y"}, key: rfcKey, wantErr: true},
		{name: "space in target", client: Client{Host: "h", Target: "/a b"}, key: rfcKey, wantErr: true},
		{name: "CRLF in target", client: Client{Host: "h", Target: "/\r\n"}, key: rfcKey, wantErr: true},
		{name: "CRLF in key", client: Client{Host: "h"}, key: "k\r\nX: y", wantErr: true},
		{name: "CRLF in origin", client: Client{Host: "h", Origin: "o\n"}, key: rfcKey, wantErr: true},
		{name: "CRLF in extensions", client: Client{Host: "h", Extensions: "x\r\n"}, key: rfcKey, wantErr: true},
		{name: "protocol not a token", client: Client{Host: "h", Protocols: []string{"a,b"}}, key: rfcKey, wantErr: true},
		{name: "header value CRLF", client: Client{Host: "h", Header: http.Header{"X": {"a\r\nb"}}}, key: rfcKey, wantErr: true},
		{name: "header name bad", client: Client{Host: "h", Header: http.Header{"X:": {"a"}}}, key: rfcKey, wantErr: true},
		{name: "header overrides key", client: Client{Host: "h", Header: http.Header{"Sec-Websocket-Key": {"a"}}}, key: rfcKey, wantErr: true},
		{name: "header overrides host", client: Client{Host: "h", Header: http.Header{"host": {"a"}}}, key: rfcKey, wantErr: true},
		{name: "header overrides upgrade", client: Client{Host: "h", Header: http.Header{"Upgrade": {"a"}}}, key: rfcKey, wantErr: true},
		{name: "header overrides origin", client: Client{Host: "h", Header: http.Header{"Origin": {"a"}}}, key: rfcKey, wantErr: true},
		{name: "header adds body", client: Client{Host: "h", Header: http.Header{"Content-Length": {"1"}}}, key: rfcKey, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.client.AppendRequest([]byte("x"), tt.key)
			if tt.wantErr {
				if err == nil || string(got) != "x" {
					t.Fatalf("AppendRequest = %q, %v; want x unchanged and an error", got, err)
				}
				return
			}
			if err != nil || string(got) != "x"+tt.want {
				t.Fatalf("AppendRequest = %q, %v; want %q", got, err, "x"+tt.want)
			}
		})
	}
}

// response101 is the RFC 6455, Section 1.3 answer with extra lines.
func response101(extra ...string) string {
	s := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + rfcAccept + "\r\n"
	for _, e := range extra {
		s += e + "\r\n"
	}
	return s + "\r\n"
}

func TestResponseParse(t *testing.T) {
	frame := "\x81\x05\x48\x65\x6c\x6c\x6f" // RFC 6455, Section 5.7: unmasked "Hello"
	valid := response101()
	tests := []struct {
		name       string
		in         string
		lim        Limits
		wantN      int
		wantStatus int
		wantReason string
		is         error
	}{
		{name: "101", in: valid, wantN: len(valid), wantStatus: 101, wantReason: "Switching Protocols"},
		{name: "frame follows", in: valid + frame, wantN: len(valid), wantStatus: 101, wantReason: "Switching Protocols"},
		{name: "no reason", in: "HTTP/1.1 101\r\n\r\n", wantN: 16, wantStatus: 101},
		{name: "empty reason", in: "HTTP/1.1 403 \r\n\r\n", wantN: 17, wantStatus: 403},
		{name: "incomplete", in: valid[:len(valid)-2], wantN: 0},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH\r\n", is: ErrMalformed},
		{name: "not HTTP, partial", in: "SSH", is: ErrMalformed},
		{name: "two-digit status", in: "HTTP/1.1 10 X\r\n\r\n", is: ErrMalformed},
		{name: "four-digit status", in: "HTTP/1.1 1010 X\r\n\r\n", is: ErrMalformed},
		{name: "bad version", in: "HTTP/1.x 101 X\r\n\r\n", is: ErrMalformed},
		{name: "bare CR in reason", in: "HTTP/1.1 101 A\rB\r\n\r\n", is: ErrMalformed},
		{name: "bare LF", in: "HTTP/1.1 101 X\n\n", is: ErrMalformed},
		{name: "obs-fold", in: "HTTP/1.1 101 X\r\nA: b\r\n c\r\n\r\n", is: ErrMalformed},
		{name: "NUL in value", in: "HTTP/1.1 101 X\r\nA: \x00\r\n\r\n", is: ErrMalformed},
		{name: "too many fields", in: "HTTP/1.1 101 X\r\n" + strings.Repeat("A: b\r\n", 101) + "\r\n", is: ErrTooLarge},
		{name: "1 MiB value", in: "HTTP/1.1 101 X\r\nA: " + strings.Repeat("b", 1<<20) + "\r\n\r\n", is: ErrTooLarge},
		{name: "long status line", in: "HTTP/1.1 101 " + strings.Repeat("x", 5000) + "\r\n\r\n", is: ErrTooLarge},
		{name: "custom limit", in: valid, lim: Limits{MaxHeaderBytes: 32}, is: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Response
			n, err := r.Parse([]byte(tt.in), tt.lim)
			if tt.is != nil {
				if !errors.Is(err, tt.is) || n != 0 {
					t.Fatalf("Parse(%s) = %d, %v; want error wrapping %v", hexs([]byte(tt.in)), n, err, tt.is)
				}
				return
			}
			if err != nil || n != tt.wantN {
				t.Fatalf("Parse(%q) = %d, %v; want %d, nil", tt.in, n, err, tt.wantN)
			}
			if n > 0 && (r.Status != tt.wantStatus || string(r.Reason) != tt.wantReason) {
				t.Errorf("Parse(%q) status = %d %q, want %d %q", tt.in, r.Status, r.Reason, tt.wantStatus, tt.wantReason)
			}
		})
	}
}

func TestReadResponse(t *testing.T) {
	frame := "\x81\x05\x48\x65\x6c\x6c\x6f"
	tests := []struct {
		name     string
		in       string
		bufSize  int
		wantRest string
		is       error
	}{
		{name: "frame stays in reader", in: response101() + frame, bufSize: 4096, wantRest: frame},
		{name: "small reader buffer", in: response101("X-Long: "+strings.Repeat("v", 100)) + frame, bufSize: 16, wantRest: frame},
		{name: "body stays in reader", in: "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope", bufSize: 4096, wantRest: "nope"},
		{name: "eof inside block", in: "HTTP/1.1 101 Switching", bufSize: 4096, is: io.ErrUnexpectedEOF},
		{name: "eof at start", in: "", bufSize: 4096, is: io.ErrUnexpectedEOF},
		{name: "endless line", in: "HTTP/1.1 101 " + strings.Repeat("x", 1<<20), bufSize: 4096, is: ErrTooLarge},
		{name: "endless fields", in: "HTTP/1.1 101 X\r\n" + strings.Repeat("A: b\r\n", 1<<16), bufSize: 4096, is: ErrTooLarge},
		{name: "garbage", in: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\n", bufSize: 4096, is: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(tt.in)), tt.bufSize)
			resp, err := ReadResponse(br, Limits{})
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("ReadResponse(%s) = %v, want error wrapping %v", hexs([]byte(tt.in)), err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadResponse(%q) = %v", tt.in, err)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != tt.wantRest {
				t.Errorf("after ReadResponse(%q) the reader holds %s, want %s", tt.in, hexs(rest), hexs([]byte(tt.wantRest)))
			}
			if resp.Status == 0 {
				t.Errorf("ReadResponse(%q).Status = 0", tt.in)
			}
		})
	}
}

func TestClientCheck(t *testing.T) {
	base := Client{Host: "h", Protocols: []string{"chat", "superchat"}, Extensions: "permessage-deflate; client_max_window_bits, x-foo"}
	tests := []struct {
		name    string
		client  Client
		resp    string
		proto   string
		exts    []Extension
		wantErr error
		status  int
	}{
		{name: "plain", client: base, resp: response101()},
		{name: "protocol", client: base, resp: response101("Sec-WebSocket-Protocol: superchat"), proto: "superchat"},
		{name: "tokens in lists", client: base, resp: "HTTP/1.1 101 OK\r\nUpgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\n" +
			"Sec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n"},
		{name: "extensions", client: base,
			resp: response101("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10", "Sec-WebSocket-Extensions: x-foo"),
			exts: []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits", Value: "10", HasValue: true}}}, {Name: "x-foo"}}},
		{name: "extension params are not checked here", client: base,
			resp: response101("Sec-WebSocket-Extensions: permessage-deflate; bogus"),
			exts: []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "bogus"}}}}},

		{name: "403", client: base, resp: "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\n", status: 403},
		{name: "200", client: base, resp: "HTTP/1.1 200 OK\r\n\r\n", status: 200},
		{name: "HTTP/1.0 101", client: base, resp: strings.Replace(response101(), "HTTP/1.1", "HTTP/1.0", 1), wantErr: errRespVersion},
		{name: "no Upgrade", client: base, resp: strings.Replace(response101(), "Upgrade: websocket\r\n", "", 1), wantErr: errRespUpgrade},
		{name: "Upgrade h2c", client: base, resp: strings.Replace(response101(), "Upgrade: websocket", "Upgrade: h2c", 1), wantErr: errRespUpgrade},
		{name: "no Connection", client: base, resp: strings.Replace(response101(), "Connection: Upgrade\r\n", "", 1), wantErr: errRespConnection},
		{name: "no accept", client: base, resp: strings.Replace(response101(), "Sec-WebSocket-Accept: "+rfcAccept+"\r\n", "", 1), wantErr: errRespAccept},
		{name: "wrong accept", client: base, resp: strings.Replace(response101(), rfcAccept, AcceptKey("x"), 1), wantErr: errRespAccept},
		{name: "two accepts", client: base, resp: response101("Sec-WebSocket-Accept: " + rfcAccept), wantErr: errRespAccept},
		{name: "protocol not offered", client: base, resp: response101("Sec-WebSocket-Protocol: other"), wantErr: errRespProtocol},
		{name: "protocol case differs", client: base, resp: response101("Sec-WebSocket-Protocol: Chat"), wantErr: errRespProtocol},
		{name: "protocol list", client: base, resp: response101("Sec-WebSocket-Protocol: chat, superchat"), wantErr: errRespProtocol},
		{name: "protocol twice", client: base, resp: response101("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"), wantErr: errRespProtocol},
		{name: "protocol with none offered", client: Client{Host: "h"}, resp: response101("Sec-WebSocket-Protocol: chat"), wantErr: errRespProtocol},
		{name: "extension not offered", client: base, resp: response101("Sec-WebSocket-Extensions: x-bar"), wantErr: errRespExtension},
		{name: "extension with none offered", client: Client{Host: "h"}, resp: response101("Sec-WebSocket-Extensions: permessage-deflate"), wantErr: errRespExtension},
		{name: "extension syntax", client: base, resp: response101("Sec-WebSocket-Extensions: permessage-deflate; a="), wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Response
			if n, err := r.Parse([]byte(tt.resp), Limits{}); err != nil || n == 0 {
				t.Fatalf("Parse(%q) = %d, %v", tt.resp, n, err)
			}
			proto, exts, err := tt.client.Check(&r, rfcKey)
			if tt.status != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != tt.status {
					t.Fatalf("Check(%q) = %v, want a *StatusError with status %d", tt.resp, err, tt.status)
				}
				return
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Check(%q) = %v, want error wrapping %v", tt.resp, err, tt.wantErr)
				}
				return
			}
			if err != nil || proto != tt.proto || !equalExtensions(exts, tt.exts) {
				t.Fatalf("Check(%q) = %q, %+v, %v; want %q, %+v, nil", tt.resp, proto, exts, err, tt.proto, tt.exts)
			}
		})
	}
}

func TestStatusError(t *testing.T) {
	in := "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 9\r\n\r\nbad thing"
	br := bufio.NewReader(strings.NewReader(in))
	resp, err := ReadResponse(br, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = (&Client{Host: "h"}).Check(resp, rfcKey)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Check = %v, want *StatusError", err)
	}
	if se.Status != 426 || se.Reason != "Upgrade Required" || se.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Errorf("StatusError = %+v", se)
	}
	if want := `handshake: server answered 426 "Upgrade Required", want 101`; se.Error() != want {
		t.Errorf("Error() = %q, want %q", se.Error(), want)
	}
	// The caller can read a little of the body for its message.
	body, _ := io.ReadAll(io.LimitReader(br, 512))
	if string(body) != "bad thing" {
		t.Errorf("body = %q, want %q", body, "bad thing")
	}
}
