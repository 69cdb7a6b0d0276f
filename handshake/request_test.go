package handshake

import (
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestRequestParse(t *testing.T) {
	valid := validRequest()
	frame := "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58" // RFC 6455, Section 5.7: masked "Hello"
	tests := []struct {
		name   string
		in     string
		lim    Limits
		wantN  int
		status int   // 0: no error
		is     error // sentinel the error must wrap
	}{
		{name: "valid", in: valid, wantN: len(valid)},
		{name: "first frame follows", in: valid + frame, wantN: len(valid)},
		{name: "incomplete", in: valid[:len(valid)-1], wantN: 0},
		{name: "empty", in: "", wantN: 0},
		{name: "obs-text in value", in: rawRequest("GET / HTTP/1.1", baseFields().set("X-A", "caf\xc3\xa9")), wantN: -1},
		{name: "tab in value", in: rawRequest("GET / HTTP/1.1", baseFields().set("X-A", "a\tb")), wantN: -1},

		{name: "bare LF ends request line", in: "GET / HTTP/1.1\nHost: a\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "bare LF ends field", in: "GET / HTTP/1.1\r\nHost: a\n\r\n", status: 400, is: ErrMalformed},
		{name: "bare LF ends block", in: "GET / HTTP/1.1\r\nHost: a\r\n\n", status: 400, is: ErrMalformed},
		{name: "bare CR in value", in: "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "NUL in value", in: "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "DEL in value", in: "GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "non-ASCII in name", in: "GET / HTTP/1.1\r\nHo\xc5\xbft: a\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "no colon", in: "GET / HTTP/1.1\r\nHost a\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "empty name", in: "GET / HTTP/1.1\r\n: a\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "obs-fold", in: "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "whitespace before first field", in: "GET / HTTP/1.1\r\n\tX: a\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "empty line first", in: "\r\nGET / HTTP/1.1\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "double space", in: "GET  / HTTP/1.1\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "no version", in: "GET /\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "lower-case version", in: "GET / http/1.1\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "long version", in: "GET / HTTP/1.10\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "non-ASCII target", in: "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "method not a token", in: "G(T / HTTP/1.1\r\n\r\n", status: 400, is: ErrMalformed},
		{name: "tls client hello, partial", in: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", status: 400, is: ErrMalformed},

		{name: "too many fields", in: rawRequest("GET / HTTP/1.1", manyFields(101)), status: 431, is: ErrTooLarge},
		{name: "fields at limit", in: rawRequest("GET / HTTP/1.1", manyFields(100)), wantN: -1},
		{name: "custom field limit", in: rawRequest("GET / HTTP/1.1", manyFields(3)), lim: Limits{MaxHeaders: 2}, status: 431, is: ErrTooLarge},
		{name: "block over limit", in: rawRequest("GET / HTTP/1.1", hdr{{"X", strings.Repeat("a", 9000)}}), status: 431, is: ErrTooLarge},
		{name: "partial block over limit", in: "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 9000), status: 431, is: ErrTooLarge},
		{name: "custom block limit", in: valid, lim: Limits{MaxHeaderBytes: 64}, status: 431, is: ErrTooLarge},
		{name: "block exactly at limit", in: valid, lim: Limits{MaxHeaderBytes: len(valid)}, wantN: len(valid)},
		{name: "request line over limit", in: "GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\n\r\n", status: 431, is: ErrTooLarge},
		{name: "partial request line over limit", in: "GET /" + strings.Repeat("a", 5000), status: 431, is: ErrTooLarge},
		{name: "custom line limit", in: valid, lim: Limits{MaxLineBytes: 10}, status: 431, is: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			n, err := r.Parse([]byte(tt.in), tt.lim)
			if tt.status == 0 {
				want := tt.wantN
				if want < 0 {
					want = len(tt.in)
				}
				if err != nil || n != want {
					t.Fatalf("Parse(%s) = %d, %v; want %d, nil", hexs([]byte(tt.in)), n, err, want)
				}
				return
			}
			var re *RejectError
			if !errors.As(err, &re) || re.Status != tt.status || !errors.Is(err, tt.is) || n != 0 {
				t.Fatalf("Parse(%s) = %d, %v; want 0, status %d wrapping %v", hexs([]byte(tt.in)), n, err, tt.status, tt.is)
			}
		})
	}
}

func manyFields(n int) hdr {
	h := make(hdr, n)
	for i := range h {
		h[i] = [2]string{"X-A", "b"}
	}
	return h
}

func TestRequestParseFields(t *testing.T) {
	in := "GET /chat?x=1 HTTP/1.1\r\nHost:  example.com \t\r\nX-Empty:\r\nupgrade: websocket\r\n\r\n"
	var r Request
	n, err := r.Parse([]byte(in), Limits{})
	if err != nil || n != len(in) {
		t.Fatalf("Parse = %d, %v; want %d, nil", n, err, len(in))
	}
	if string(r.Method) != "GET" || string(r.Target) != "/chat?x=1" || string(r.Proto) != "HTTP/1.1" {
		t.Errorf("request line = %q %q %q, want GET /chat?x=1 HTTP/1.1", r.Method, r.Target, r.Proto)
	}
	want := []string{"Host", "example.com", "X-Empty", "", "upgrade", "websocket"}
	var got []string
	for _, f := range r.Header {
		got = append(got, string(f.Name), string(f.Value))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Header = %q, want %q", got, want)
	}
	if v := r.Get("UPGRADE"); string(v) != "websocket" {
		t.Errorf("Get(UPGRADE) = %q, want websocket", v)
	}
	if v := r.Get("Missing"); v != nil {
		t.Errorf("Get(Missing) = %q, want nil", v)
	}
}

// TestRequestParsePrefixes feeds every prefix of a valid request: each is
// incomplete, never an error.
func TestRequestParsePrefixes(t *testing.T) {
	in := []byte(validRequest() + "\x81\x00")
	end := len(in) - 2
	var r Request
	for i := 0; i <= len(in); i++ {
		n, err := r.Parse(in[:i], Limits{})
		want := 0
		if i >= end {
			want = end
		}
		if err != nil || n != want {
			t.Fatalf("Parse(first %d bytes) = %d, %v; want %d, nil", i, n, err, want)
		}
	}
}

// TestRequestParseHostile checks that huge inputs fail with the right
// status, fast, and without allocating in proportion to their size.
func TestRequestParseHostile(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		status int
	}{
		{name: "1 MiB field value", in: []byte("GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 1<<20) + "\r\n\r\n"), status: 431},
		{name: "5000 fields", in: []byte(rawRequest("GET / HTTP/1.1", manyFields(5000))), status: 431},
		{name: "1 MiB request line", in: []byte("GET /" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\n\r\n"), status: 431},
		{name: "1 MiB of CRLF", in: []byte(strings.Repeat("\r\n", 1<<19)), status: 400},
		{name: "1 MiB without LF", in: []byte(strings.Repeat("G", 1<<20)), status: 431},
		{name: "1 MiB of obs-fold", in: []byte("GET / HTTP/1.1\r\nX: a\r\n" + strings.Repeat(" b\r\n", 1<<18)), status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			r.Header = make([]Field, 0, 128)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := r.Parse(tt.in, Limits{})
			runtime.ReadMemStats(&after)
			var re *RejectError
			if !errors.As(err, &re) || re.Status != tt.status {
				t.Fatalf("Parse(%s) error = %v, want status %d", hexs(tt.in), err, tt.status)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
				t.Errorf("Parse(%s) allocated %d bytes, want < 64 KiB", hexs(tt.in), d)
			}
		})
	}
}

func TestRejectStatusText(t *testing.T) {
	// Each status used has a standard reason phrase.
	for _, s := range []int{400, 403, 405, 426, 431, 505} {
		if http.StatusText(s) == "" {
			t.Errorf("StatusText(%d) is empty", s)
		}
	}
}
