package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestLimits checks that each bound of Limits holds both ways, and that a
// length announced on the wire is never allocated before its bytes are
// there.
func TestLimits(t *testing.T) {
	deep := func(n int) []byte { return append(bytes.Repeat([]byte{0x91}, n), 0x01) }
	lim := &Limits{MaxSize: 1000, MaxDepth: 8, MaxValues: 50, MaxAttachments: 2}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"depth", deep(9), ErrLimit},
		{"depth ok", deep(7), nil},
		{"values", append([]byte{0xdc, 0, 60}, bytes.Repeat([]byte{1}, 60)...), ErrLimit},
		{"attachments", []byte{0x93, 0xc4, 0, 0xc4, 0, 0xc4, 0}, ErrLimit},
		{"size", append([]byte{0xc5, 0x04, 0x00}, make([]byte, 1024)...), ErrLimit},
		{"bin32 of 2 GB in 6 bytes", []byte{0xc6, 0x7f, 0xff, 0xff, 0xff, 0}, ErrMalformed},
		{"str32 of 4 GB", []byte{0xdb, 0xff, 0xff, 0xff, 0xff}, ErrMalformed},
		{"array32 of 4 G", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 1}, ErrMalformed},
		{"map32 of 4 G", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 1, 1}, ErrMalformed},
		{"ext32 of 4 GB", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 5}, ErrMalformed},
		{"output over MaxSize", append([]byte{0xdc, 0, 200}, bytes.Repeat([]byte{0xa1, 0x01}, 200)...), ErrLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := AppendJSON(nil, nil, tc.in, lim)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("AppendJSON(% x) = %v, want %v", tc.in[:min(len(tc.in), 8)], err, tc.want)
			}
			if allocs := testing.AllocsPerRun(10, func() { AppendJSON(nil, nil, tc.in, lim) }); allocs > 20 {
				t.Errorf("AppendJSON(% x): %v allocations", tc.in[:min(len(tc.in), 8)], allocs)
			}
		})
	}
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"depth", strings.Repeat("[", 9) + strings.Repeat("]", 9), ErrLimit},
		{"depth ok", strings.Repeat("[", 8) + strings.Repeat("]", 8), nil},
		{"values", "[" + strings.Repeat("1,", 60) + "1]", ErrLimit},
		{"size", `"` + strings.Repeat("x", 1000) + `"`, ErrLimit},
		{"unbalanced", strings.Repeat("[", 5), ErrMalformed},
		{"bad escape", `["\x"]`, ErrMalformed},
		{"control character", "[\"\x01\"]", ErrMalformed},
		{"leading zero", `[01]`, ErrMalformed},
		{"two values", `1 2`, ErrMalformed},
		{"empty", ``, ErrMalformed},
	} {
		t.Run("JSON "+tc.name, func(t *testing.T) {
			_, err := AppendMsgpack(nil, []byte(tc.in), nil, lim)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("AppendMsgpack(%.20q) = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

// TestNumbers pins the number rules where the converter and a Node node
// part on purpose: integers beyond 2^53 keep their exact value (a Node node
// would round them; the JSON still parses to the same double), and
// integral values notepack.io would wrap stay float64.
func TestNumbers(t *testing.T) {
	for _, tc := range []struct{ json, mp, back string }{
		{`[9007199254740993]`, "91 cf 0020000000000001", `[9007199254740993]`},
		{`[18446744073709551615]`, "91 cf ffffffffffffffff", `[18446744073709551615]`},
		{`[-9223372036854775808]`, "91 d3 8000000000000000", `[-9223372036854775808]`},
		{`[18446744073709551616]`, "91 cb 43f0000000000000", `[18446744073709552000]`},
		{`[1e21]`, "91 cb 444b1ae4d6e2ef50", `[1e+21]`},
		{`[-0]`, "91 00", `[0]`},
		{`[2.0]`, "91 02", `[2]`},
		{`[-33]`, "91 d0 df", `[-33]`},
	} {
		got, err := AppendMsgpack(nil, []byte(tc.json), nil, nil)
		if want := unhex(t, tc.mp); err != nil || !bytes.Equal(got, want) {
			t.Errorf("AppendMsgpack(%s) = % x, %v; want % x", tc.json, got, err, want)
		}
		back, _, err := AppendJSON(nil, nil, got, nil)
		if err != nil || string(back) != tc.back {
			t.Errorf("AppendJSON(% x) = %s, %v; want %s", got, back, err, tc.back)
		}
	}
}
