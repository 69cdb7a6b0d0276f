package handshake

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// browserRequest looks like what a browser sends: same-origin, with
// subprotocols and a permessage-deflate offer.
func browserRequest() []byte {
	return []byte("GET /chat?room=1 HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Connection: Upgrade\r\n" +
		"Pragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
		"Upgrade: websocket\r\n" +
		"Origin: https://example.com\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Cookie: session=0123456789abcdef\r\n" +
		"Sec-WebSocket-Key: " + rfcKey + "\r\n" +
		"Sec-WebSocket-Protocol: v2.chat, v1.chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"\r\n")
}

func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	in := browserRequest()
	cross := bytes.Replace(in, []byte("Origin: https://example.com"), []byte("Origin: https://app.example.org"), 1)
	srv := &Server{Protocols: []string{"v1.chat"}, OriginPatterns: []string{"*.example.org"}}
	var (
		req   Request
		up    Upgrade
		resp  Response
		out   = make([]byte, 0, 512)
		extra = http.Header{"X-Server": {"ws"}}
	)
	cl := &Client{Host: "example.com", Protocols: []string{"v1.chat"}}
	respIn := []byte(response101("Sec-WebSocket-Protocol: v1.chat") + "\x81\x00")
	tests := []struct {
		name string
		fn   func()
	}{
		{name: "parse, check and 101", fn: func() {
			n, err := req.Parse(in, Limits{})
			if err != nil || n != len(in) {
				t.Fatalf("Parse = %d, %v", n, err)
			}
			if err := srv.Check(&req, &up); err != nil {
				t.Fatalf("Check = %v", err)
			}
			up.Extensions = "permessage-deflate; client_max_window_bits=15"
			up.Header = extra
			if out, err = up.AppendResponse(out[:0]); err != nil {
				t.Fatalf("AppendResponse = %v", err)
			}
		}},
		{name: "parse and check, origin pattern", fn: func() {
			if _, err := req.Parse(cross, Limits{}); err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if err := srv.Check(&req, &up); err != nil {
				t.Fatalf("Check = %v", err)
			}
		}},
		{name: "AppendAcceptKey", fn: func() { out = AppendAcceptKey(out[:0], []byte(rfcKey)) }},
		{name: "client response parse and check", fn: func() {
			n, err := resp.Parse(respIn, Limits{})
			if err != nil || n != len(respIn)-2 {
				t.Fatalf("Response.Parse = %d, %v", n, err)
			}
			if p, _, err := cl.Check(&resp, rfcKey); err != nil || p != "v1.chat" {
				t.Fatalf("Client.Check = %q, %v", p, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn() // warm up reused storage
			if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
				t.Errorf("%s: %v allocs per run, want 0", tt.name, n)
			}
		})
	}
}

// browserHTTPRequest is browserRequest as net/http parses it.
func browserHTTPRequest(t testing.TB) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(browserRequest())))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// CheckHTTP copies the request into one buffer, and the Upgrade, Request,
// header fields and extension offers of a browser's request (14 header
// fields, one offer) share one allocation: three in all, not two per
// field.
func TestCheckHTTPAllocs(t *testing.T) {
	r := browserHTTPRequest(t)
	srv := &Server{Protocols: []string{"v1.chat"}}
	n := testing.AllocsPerRun(100, func() {
		if _, err := srv.CheckHTTP(r); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%v allocations per CheckHTTP", n)
	if n > 3 {
		t.Errorf("CheckHTTP: %v allocations, want at most 3", n)
	}
}
