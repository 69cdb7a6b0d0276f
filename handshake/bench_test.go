package handshake

import (
	"strings"
	"testing"
)

// BenchmarkServerRaw measures the raw server path on a browser-like
// request: Parse, Check and AppendResponse into reused storage.
func BenchmarkServerRaw(b *testing.B) {
	in := browserRequest()
	srv := &Server{Protocols: []string{"v1.chat"}}
	var (
		req Request
		up  Upgrade
		out = make([]byte, 0, 512)
	)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := req.Parse(in, Limits{}); err != nil {
			b.Fatal(err)
		}
		if err := srv.Check(&req, &up); err != nil {
			b.Fatal(err)
		}
		up.Extensions = "permessage-deflate"
		var err error
		if out, err = up.AppendResponse(out[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures Request.Parse alone.
func BenchmarkParse(b *testing.B) {
	in := browserRequest()
	var req Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := req.Parse(in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendAcceptKey(b *testing.B) {
	key := []byte(rfcKey)
	out := make([]byte, 0, acceptLen)
	b.ReportAllocs()
	for b.Loop() {
		out = AppendAcceptKey(out[:0], key)
	}
}

func BenchmarkParseExtensions(b *testing.B) {
	inputs := []struct {
		name string
		in   string
	}{
		{name: "browser", in: "permessage-deflate; client_max_window_bits"},
		{name: "autobahn-13.7", in: "permessage-deflate; client_no_context_takeover; client_max_window_bits=9, " +
			"permessage-deflate; client_max_window_bits, permessage-deflate"},
		{name: "quoted", in: `x-ext; a="1"; b="\2\3"; c=token, y-ext; d`},
		{name: "1MiB-commas", in: strings.Repeat(",", 1<<20)},
	}
	for _, tt := range inputs {
		b.Run(tt.name, func(b *testing.B) {
			v := []byte(tt.in)
			var dst []Extension
			b.SetBytes(int64(len(v)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = appendExtensions(dst[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkClientCheck(b *testing.B) {
	in := []byte(response101("Sec-WebSocket-Protocol: v1.chat"))
	cl := &Client{Host: "example.com", Protocols: []string{"v1.chat"}}
	var resp Response
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := resp.Parse(in, Limits{}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := cl.Check(&resp, rfcKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckHTTP measures Server.CheckHTTP on a browser-like request
// as net/http parses it, the path of every upgrade under net/http.
func BenchmarkCheckHTTP(b *testing.B) {
	r := browserHTTPRequest(b)
	srv := &Server{Protocols: []string{"v1.chat"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.CheckHTTP(r); err != nil {
			b.Fatal(err)
		}
	}
}
