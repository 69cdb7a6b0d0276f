package handshake

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/cputime"
)

func TestParseExtensions(t *testing.T) {
	pmd := "permessage-deflate"
	tests := []struct {
		name    string
		in      string
		want    []Extension
		wantErr error
	}{
		{name: "empty", in: "", want: nil},
		{name: "only commas and spaces", in: " , ,\t,", want: nil},
		{name: "name", in: pmd, want: []Extension{{Name: pmd}}},
		{name: "rfc 7692 browser offer", in: "permessage-deflate; client_max_window_bits",
			want: []Extension{{Name: pmd, Params: []Param{{Name: "client_max_window_bits"}}}}},
		{name: "value", in: "permessage-deflate; client_max_window_bits=10",
			want: []Extension{{Name: pmd, Params: []Param{{Name: "client_max_window_bits", Value: "10", HasValue: true}}}}},
		{name: "quoted value", in: `permessage-deflate; client_max_window_bits="10"`,
			want: []Extension{{Name: pmd, Params: []Param{{Name: "client_max_window_bits", Value: "10", HasValue: true}}}}},
		{name: "escaped value", in: `x; a="\1\0"`,
			want: []Extension{{Name: "x", Params: []Param{{Name: "a", Value: "10", HasValue: true}}}}},
		{name: "OWS everywhere", in: " x \t; a \t= \t1 ; b ,\ty ",
			want: []Extension{{Name: "x", Params: []Param{{Name: "a", Value: "1", HasValue: true}, {Name: "b"}}}, {Name: "y"}}},
		{name: "no OWS", in: "x;a=1;b,y",
			want: []Extension{{Name: "x", Params: []Param{{Name: "a", Value: "1", HasValue: true}, {Name: "b"}}}, {Name: "y"}}},
		{name: "empty elements", in: ",x,,y,",
			want: []Extension{{Name: "x"}, {Name: "y"}}},
		{name: "repeated offers", in: "permessage-deflate; server_no_context_takeover, permessage-deflate",
			want: []Extension{{Name: pmd, Params: []Param{{Name: "server_no_context_takeover"}}}, {Name: pmd}}},

		{name: "empty value", in: "x; a=", wantErr: ErrMalformed},
		{name: "empty value then more", in: "x; a=; b", wantErr: ErrMalformed},
		{name: "empty quoted value", in: `x; a=""`, wantErr: ErrMalformed},
		{name: "quoted space", in: `x; a="b c"`, wantErr: ErrMalformed},
		{name: "quoted comma", in: `x; a="b,c"`, wantErr: ErrMalformed},
		{name: "escaped quote", in: `x; a="\""`, wantErr: ErrMalformed},
		{name: "unterminated quote", in: `x; a="bc`, wantErr: ErrMalformed},
		{name: "unterminated escape", in: `x; a="bc\`, wantErr: ErrMalformed},
		{name: "trailing semicolon", in: "x;", wantErr: ErrMalformed},
		{name: "double semicolon", in: "x;;a", wantErr: ErrMalformed},
		{name: "leading semicolon", in: ";x", wantErr: ErrMalformed},
		{name: "space in name", in: "x y", wantErr: ErrMalformed},
		{name: "value on name", in: "x=1", wantErr: ErrMalformed},
		{name: "two values", in: "x; a=1=2", wantErr: ErrMalformed},
		{name: "non-ASCII name", in: "caf\xc3\xa9", wantErr: ErrMalformed},
		{name: "quote in token", in: `x; a=b"c"`, wantErr: ErrMalformed},
		{name: "control byte", in: "x; a=\x01", wantErr: ErrMalformed},
		{name: "65 extensions", in: strings.Repeat("x,", 65), wantErr: errTooMany},
		{name: "65 params", in: "x" + strings.Repeat(";a", 65), wantErr: errTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseExtensions(%s) = %+v, %v; want error wrapping %v", hexs([]byte(tt.in)), got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !equalExtensions(got, tt.want) {
				t.Fatalf("ParseExtensions(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			// parse(format(parse(x))) == parse(x)
			f, err := AppendExtensions(nil, got)
			if err != nil {
				t.Fatalf("AppendExtensions(%+v) = %v", got, err)
			}
			again, err := ParseExtensions(string(f))
			if err != nil || !equalExtensions(again, got) {
				t.Fatalf("ParseExtensions(%q) = %+v, %v; want %+v", f, again, err, got)
			}
		})
	}
}

func TestParseExtensionsAtLimits(t *testing.T) {
	exts, err := ParseExtensions(strings.Repeat("x,", MaxExtensions))
	if err != nil || len(exts) != MaxExtensions {
		t.Errorf("ParseExtensions(%d offers) = %d offers, %v", MaxExtensions, len(exts), err)
	}
	exts, err = ParseExtensions("x" + strings.Repeat(";a", MaxExtensionParams))
	if err != nil || len(exts) != 1 || len(exts[0].Params) != MaxExtensionParams {
		t.Errorf("ParseExtensions(%d params) = %+v, %v", MaxExtensionParams, exts, err)
	}
}

func TestAppendExtensions(t *testing.T) {
	tests := []struct {
		name    string
		in      []Extension
		want    string
		wantErr bool
	}{
		{name: "none", in: nil, want: ""},
		{name: "rfc 7692 answer", in: []Extension{{Name: "permessage-deflate", Params: []Param{
			{Name: "server_no_context_takeover"}, {Name: "client_max_window_bits", Value: "10", HasValue: true}}}},
			want: "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{name: "two", in: []Extension{{Name: "a"}, {Name: "b"}}, want: "a, b"},
		{name: "bad name", in: []Extension{{Name: "a b"}}, wantErr: true},
		{name: "empty name", in: []Extension{{Name: ""}}, wantErr: true},
		{name: "bad param", in: []Extension{{Name: "a", Params: []Param{{Name: "p\r\n"}}}}, wantErr: true},
		{name: "empty value", in: []Extension{{Name: "a", Params: []Param{{Name: "p", HasValue: true}}}}, wantErr: true},
		{name: "value not a token", in: []Extension{{Name: "a", Params: []Param{{Name: "p", Value: "1 2", HasValue: true}}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendExtensions([]byte("v="), tt.in)
			if tt.wantErr {
				if err == nil || string(got) != "v=" {
					t.Fatalf("AppendExtensions(%+v) = %q, %v; want v= and an error", tt.in, got, err)
				}
				return
			}
			if err != nil || string(got) != "v="+tt.want {
				t.Fatalf("AppendExtensions(%+v) = %q, %v; want %q", tt.in, got, err, "v="+tt.want)
			}
		})
	}
}

func TestParseProtocols(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "rfc 6455 section 1.2", in: "chat, superchat", want: []string{"chat", "superchat"}},
		{name: "empty", in: "", want: nil},
		{name: "empty elements", in: " ,a,, b ,", want: []string{"a", "b"}},
		{name: "case kept", in: "Chat", want: []string{"Chat"}},
		{name: "space inside", in: "a b", wantErr: true},
		{name: "separator", in: "a/b", wantErr: true},
		{name: "quoted", in: `"a"`, wantErr: true},
		{name: "non-ASCII", in: "caf\xc3\xa9", wantErr: true},
		{name: "control byte", in: "a\x00", wantErr: true},
		{name: "too many", in: strings.Repeat("p,", MaxProtocols+1), wantErr: true},
		{name: "at limit", in: strings.Repeat("p,", MaxProtocols), want: strings.Split(strings.Repeat("p,", MaxProtocols-1)+"p", ",")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProtocols(tt.in)
			if (err != nil) != tt.wantErr || strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("ParseProtocols(%s) = %q, %v; want %q, error %v", hexs([]byte(tt.in)), got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestPathologicalLists runs the list parsers over 1 MiB inputs built to
// make a backtracking parser slow, and checks they finish fast with
// little allocation.
func TestPathologicalLists(t *testing.T) {
	const size = 1 << 20
	rep := func(s string) string { return strings.Repeat(s, size/len(s)) }
	tests := []struct {
		name string
		in   string
	}{
		{name: "semicolons", in: "x" + rep(";")},
		{name: "semicolon OWS", in: "x" + rep("; ")},
		{name: "commas", in: rep(",")},
		{name: "spaces", in: rep(" ")},
		{name: "unterminated quote", in: `x; a="` + rep("b")},
		{name: "escapes unterminated", in: `x; a="` + rep(`\b`)},
		{name: "a=b,", in: rep("a=b,")},
		{name: "x;a=b,", in: rep("x;a=b,")},
		{name: "params", in: "x" + rep(";a=b")},
		{name: "long token", in: rep("a")},
		{name: "long quoted token", in: `x; a="` + rep("b") + `"`},
		{name: "quote runs", in: rep(`x;a="b",`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			allocs := testing.AllocsPerRun(1, func() { ParseExtensions(tt.in) })
			ParseProtocols(tt.in)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("parsing %d bytes took %v, want < 2s", len(tt.in), d)
			}
			// One copy of the input, plus bounded offers and params.
			if allocs > 2*MaxExtensions+4 {
				t.Errorf("ParseExtensions(%d bytes) made %v allocations", len(tt.in), allocs)
			}
		})
	}
}

// TestExtensionsLinear compares the time for n and 16n bytes of each
// pathological input: a linear parser scales by about 16, a quadratic one
// by 256. The bound is loose to keep the test steady.
func TestExtensionsLinear(t *testing.T) {
	inputs := map[string]string{
		"semicolon OWS":      "x; ",
		"unterminated quote": `x; a="b`,
		"escapes":            `x; a="\b`,
		"commas":             ",",
	}
	for name, unit := range inputs {
		t.Run(name, func(t *testing.T) {
			measure := func(n int) time.Duration {
				head, body := unit[:len(unit)-1], unit[len(unit)-1:]
				in := head + strings.Repeat(body, n)
				best := time.Duration(1 << 62)
				for range 5 {
					start := cputime.Used()
					ParseExtensions(in)
					best = min(best, cputime.Used()-start)
				}
				return best
			}
			small, large := measure(64<<10), measure(1<<20)
			if small > 0 && large > 100*small && large > 50*time.Millisecond {
				t.Errorf("1 MiB took %v, 64 KiB took %v: not linear", large, small)
			}
		})
	}
}
