package wire

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/wirelevel/ws/internal/testpeer"
)

// notepackRef runs realtime/testdata/node/redis-notepack.js: notepack.io
// 3.0.1 and socket.io-parser, as a Node node runs them.
type notepackRef struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

func startNotepack(t *testing.T) *notepackRef {
	t.Helper()
	script := filepath.Join(testpeer.Root(), "realtime", "testdata", "node", "redis-notepack.js")
	cmd := testpeer.NodeCmd(t, []string{"notepack.io", "socket.io-parser"}, script)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
		timer.Stop()
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &notepackRef{t: t, in: in, out: sc}
}

type refAnswer struct {
	JSON  string   `json:"json"`
	Atts  []string `json:"atts"`
	Hex   string   `json:"hex"`
	Error string   `json:"error"`
}

func (r *notepackRef) ask(req any) refAnswer {
	r.t.Helper()
	b, _ := json.Marshal(req)
	if _, err := r.in.Write(append(b, '\n')); err != nil {
		r.t.Fatalf("notepack reference: %v", err)
	}
	if !r.out.Scan() {
		r.t.Fatalf("notepack reference ended: %v", r.out.Err())
	}
	var a refAnswer
	if err := json.Unmarshal(r.out.Bytes(), &a); err != nil {
		r.t.Fatalf("notepack reference: %v in %q", err, r.out.Bytes())
	}
	return a
}

// decode asks what a Node node makes of msgpack b.
func (r *notepackRef) decode(b []byte) refAnswer {
	return r.ask(map[string]string{"decode": hex.EncodeToString(b)})
}

// encode asks what a Node node publishes for JSON data with attachments.
func (r *notepackRef) encode(data []byte, atts [][]byte) refAnswer {
	h := []string{}
	for _, a := range atts {
		h = append(h, hex.EncodeToString(a))
	}
	return r.ask(map[string]any{"encode": string(data), "atts": h})
}

func hexAll(atts [][]byte) []string {
	out := []string{}
	for _, a := range atts {
		out = append(out, hex.EncodeToString(a))
	}
	return out
}

// TestNotepackDifferential runs every edge case and a few thousand random
// values both ways through the converter and through notepack.io and
// socket.io-parser in Node, and wants the same bytes: msgpack to JSON and
// attachments as a Node node sends its clients, JSON and attachments to
// msgpack as a Node node publishes.
func TestNotepackDifferential(t *testing.T) {
	ref := startNotepack(t)
	corpus := edgeValues()
	rng := rand.New(rand.NewPCG(13, 2026))
	for range 3000 {
		en := newEncoder(nil)
		genValue(rng, en, 4)
		corpus = append(corpus, en.w.b)
	}
	checked := 0
	for _, mp := range corpus {
		want := ref.decode(mp)
		gotJSON, gotAtts, err := AppendJSON(nil, nil, mp, nil)
		if want.Error != "" {
			if err == nil {
				t.Errorf("AppendJSON(%x) = %s, want an error (notepack.io: %s)", mp, gotJSON, want.Error)
			}
			continue
		}
		if err != nil {
			if refused[hex.EncodeToString(mp)] {
				continue // a deliberate difference: see refused
			}
			t.Errorf("AppendJSON(%x): %v, notepack.io gives %s", mp, err, want.JSON)
			continue
		}
		if string(gotJSON) != want.JSON || strings.Join(hexAll(gotAtts), ",") != strings.Join(want.Atts, ",") {
			t.Errorf("AppendJSON(%x) = %s %v, notepack.io gives %s %v", mp, gotJSON, hexAll(gotAtts), want.JSON, want.Atts)
			continue
		}
		// And back: the JSON and attachments as a client would send them.
		back := ref.encode(gotJSON, gotAtts)
		gotMP, err := AppendMsgpack(nil, gotJSON, gotAtts, nil)
		if back.Error != "" || err != nil {
			t.Errorf("AppendMsgpack(%s): %v; notepack.io: %s", gotJSON, err, back.Error)
			continue
		}
		if hex.EncodeToString(gotMP) != back.Hex {
			if wrapsInts(t, gotJSON) {
				checkKeepsValue(t, gotJSON, gotAtts, gotMP)
				continue
			}
			t.Errorf("AppendMsgpack(%s %v) = %x, notepack.io writes %s", gotJSON, hexAll(gotAtts), gotMP, back.Hex)
		}
		checked++
	}
	for _, c := range jsonEdgeCases() {
		want := ref.encode([]byte(c.data), c.atts)
		got, err := AppendMsgpack(nil, []byte(c.data), c.atts, nil)
		if want.Error != "" {
			if err == nil {
				t.Errorf("AppendMsgpack(%s) = %x, want an error (Node: %s)", c.data, got, want.Error)
			}
			continue
		}
		if err == nil && hex.EncodeToString(got) != want.Hex && wrapsInts(t, []byte(c.data)) {
			checkKeepsValue(t, []byte(c.data), c.atts, got)
			continue
		}
		if err != nil || hex.EncodeToString(got) != want.Hex {
			t.Errorf("AppendMsgpack(%s) = %x, %v; notepack.io writes %s", c.data, got, err, want.Hex)
		}
		checked++
	}
	t.Logf("%d values agree with notepack.io both ways", checked)
}

// refused are msgpack values notepack.io decodes and the converter
// refuses: map keys that are arrays or maps, which JavaScript turns into
// strings like "1,2" or "[object Object]".
var refused = map[string]bool{"81910102": true}

// wrapsInts reports whether JSON data holds an integral number of
// magnitude 2^64 or more, which notepack.io writes as a wrapped uint64 or
// int64 (a different number) where the converter writes float64.
func wrapsInts(t *testing.T, data []byte) bool {
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if n, ok := tok.(json.Number); ok {
			f, _ := n.Float64()
			if f == math.Trunc(f) && math.Abs(f) >= 1<<63 && !math.IsInf(f, 0) {
				return true
			}
		}
	}
}

// checkKeepsValue checks that msgpack mp, written for JSON data where
// notepack.io would wrap an integer, decodes back to the same JSON.
func checkKeepsValue(t *testing.T, data []byte, atts [][]byte, mp []byte) {
	t.Helper()
	got, _, err := AppendJSON(nil, nil, mp, nil)
	var a, b any
	json.Unmarshal(data, &a)
	json.Unmarshal(got, &b)
	if err != nil || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("AppendMsgpack(%s) = %x, which decodes to %s, %v", data, mp, got, err)
	}
}

type jsonCase struct {
	data string
	atts [][]byte
}

// jsonEdgeCases are JSON texts a client may send that the msgpack corpus
// does not produce: other spellings of numbers, escapes, white space,
// objects a JavaScript object reorders, placeholders.
func jsonEdgeCases() []jsonCase {
	att := [][]byte{{1, 2}, {3}}
	return []jsonCase{
		{`[1.0, 1e2, 1E+2, -0, -0.0, 0.5e1, 1.5, 100e-2, 12345678901234567e-5]`, nil},
		{`[9007199254740991, -9007199254740991, 4294967296, -2147483649, 1e300, -1e-300, 1e400, -1e400]`, nil},
		{`["\u00e9\n\t\"\\\/\b\f\r\u0000\u001f", "\ud83d\ude00", "plain"]`, nil},
		{` { "b" : 1 , "a" : [ 2 , { } , [ ] ] } `, nil},
		{`{"b":1,"2":2,"1":3,"a":4,"b":5,"01":6,"4294967295":7,"4294967294":8}`, nil},
		{`{"__proto__":{"x":1},"y":2}`, nil},
		{`[{"_placeholder":true,"num":1},{"x":{"_placeholder":true,"num":0}}]`, att},
		{`[{"num":0,"_placeholder":true,"extra":[1,{"a":2}]}]`, att},
		{`[{"_placeholder":false,"num":0},{"_placeholder":"true","num":0}]`, att},
		{`[{"_placeholder":true,"num":0}]`, nil},
		{`[{"_placeholder":true,"num":2}]`, att},
		{`[{"_placeholder":true,"num":-1}]`, att},
		{`[{"_placeholder":true}]`, att},
		{`[{"_placeholder":true,"num":"0"}]`, att},
		{`[{"_placeholder":true,"num":0,"_placeholder":false}]`, att},
		{`[{"\u005fplaceholder":true,"num":1}]`, att},
		{`[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]`, nil},
		{`[true,false,null,"` + strings.Repeat("x", 300) + `","` + strings.Repeat("é", 40000) + `"]`, nil},
	}
}

// edgeValues are msgpack values in every form notepack.io decodes, and
// some it writes only from odd JavaScript values.
func edgeValues() [][]byte {
	var out [][]byte
	add := func(f func(en *encoder)) {
		en := newEncoder(nil)
		f(en)
		out = append(out, en.w.b)
	}
	lit := func(h string) {
		b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1 << 53, -1, -32, -33, -128, -129, -32768, -32769, -1 << 31, -1<<31 - 1, -1 << 53} {
		add(func(en *encoder) { en.int(v) })
		add(func(en *encoder) { en.e.EncodeInt64(v) })
	}
	add(func(en *encoder) { en.e.EncodeUint64(7) })
	for _, f := range []float64{0, math.Copysign(0, -1), 0.1, -1.5, 1e21, 1e-7, 1e-6, 123456789.125, 5e-324, math.MaxFloat64, 1e20, 2.5e-8, math.NaN(), math.Inf(1), math.Inf(-1), 3} {
		add(func(en *encoder) { en.float(f) })
	}
	add(func(en *encoder) { en.e.EncodeFloat32(0.1) })
	add(func(en *encoder) { en.e.EncodeFloat32(float32(math.Inf(-1))) })
	for _, s := range []string{"", "a", strings.Repeat("b", 31), strings.Repeat("c", 32), strings.Repeat("d", 300), strings.Repeat("é", 40000), "\"\\/\b\f\n\r\t\x00\x1f\x7f", "\u2028\u2029<>&", "\U0001F600", "\uFFFD"} {
		add(func(en *encoder) { en.str(s) })
	}
	// Invalid UTF-8: lone bytes, truncated sequences, surrogates,
	// overlongs, past U+10FFFF.
	for _, b := range []string{"\x80", "\xff", "a\xc3", "\xe2\x82", "\xe2\x82a", "\xf0\x9f\x98", "\xed\xa0\x80", "\xc0\x80", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xf0\x80\x80\x80", "x\xe0\xa0", "\xc2\xc2\xa9"} {
		add(func(en *encoder) { en.strBytes([]byte(b)) })
	}
	lit("c4 00")
	lit("c4 03 010203")
	lit("c5 0100" + strings.Repeat("ab", 256))
	lit("c6 00000002 0102")
	lit("c7 02 00 0102")   // ArrayBuffer (notepack.io 2)
	lit("c8 0001 00 09")   // ArrayBuffer, ext 16
	lit("c7 03 05 010203") // ext 5
	lit("c8 0002 ff 0102") // ext 16 of type -1: not a timestamp
	lit("d4 07 01")        // fixext 1
	lit("d5 80 0102")      // fixext 2, type -128
	lit("d6 05 01020304")  // fixext 4
	lit("d7 05 0102030405060708")
	lit("d8 05 0102030405060708090a0b0c0d0e0f10")
	lit("93 d4 00 00 01 d4 00 00")    // [undefined, 1, undefined]
	lit("82 a1 61 d4 00 00 a1 62 01") // {a: undefined, b: 1}
	lit("82 a1 61 01 a1 61 d4 00 00") // a repeated, then undefined
	lit("82 a1 61 d4 00 00 a1 61 02") // undefined, then a value
	// Timestamps: 32, 64 (with nanoseconds), 96 (negative), notepack.io 2.
	lit("d6 ff 00000000")
	lit("d6 ff ffffffff")
	lit("d6 ff 65a1b2c3")
	lit("d7 ff 1dcd6500 65a1b2c3")             // 0.125 s
	lit("d7 ff 0003d090 00000001")             // 1 ms
	lit("d7 ff ee6b27fc 65a1b2c3")             // 999999999 ns
	lit("d7 ff 003d08fc 65a1b2c3")             // 999999 ns at a large second
	lit("d7 ff 00000003 ffffffff")             // 34-bit seconds
	lit("c7 0c ff 00000000 ffffffff ffffffff") // -1 s
	lit("c7 0c ff 3b9ac9ff ffffffff ffffffff") // -1 s + 999999999 ns
	lit("c7 0c ff 00000000 fffffe0e 5ec1ffff") // far past the Date range
	lit("c7 0c ff 00000000 00000000 00000000")
	lit("c7 0c ff 00000000 ffff1234 00000000") // a negative year
	lit("c7 0c ff 00000000 00000032 00000000") // year > 9999
	lit("d7 00 00000000 00000064")             // notepack.io 2 Date: 100 ms
	lit("d7 00 ffffffff ffffff9c")             // -100 ms
	lit("c7 05 ff 0102030405")                 // a timestamp of the wrong length
	// Maps JavaScript reorders, repeated keys, __proto__, non-string keys.
	lit("84 a1 62 01 a1 32 02 a1 31 03 a1 61 04")
	lit("83 a1 61 01 a1 62 02 a1 61 03")
	lit("83 a9 5f5f70726f746f5f5f 81 a1 78 01 a1 79 02 a3 303132 03")
	lit("86 01 a1 61 cb 3ff8000000000000 a1 62 c0 a1 63 c3 a1 64 c2 a1 65 d0 ff a1 66")
	lit("82 aa 34323934393637323935 01 aa 34323934393637323934 02")
	lit("82 a1 61 c4 01 00 a1 30 c4 01 01")                // binaries numbered in the reordered order
	lit("83 a1 61 c4 01 00 a1 61 c4 01 01 a1 62 c4 01 02") // a repeated binary
	lit("81 cb 7ff8000000000000 01")                       // NaN as a key
	lit("81 cb 3ff0000000000000 01")                       // 1.0 as a key: "1"
	lit("dc 0000")
	lit("de 0000")
	lit("df 00000000")
	lit("dd 00000001 01")
	// Malformed: Node throws on each.
	lit("c1")
	lit("92 01")
	lit("a5 6162")
	lit("c4 05 01")
	lit("01 02")
	lit("dd ffffffff")
	lit("81 91 01 02") // an array as a key: Node makes "1" of it, we refuse
	return out
}

// genValue writes a random value, in random forms, nested at most depth.
func genValue(r *rand.Rand, en *encoder, depth int) {
	n := 12
	if depth > 0 {
		n = 14
	}
	switch r.IntN(n) {
	case 0:
		en.nil()
	case 1:
		en.bool(r.IntN(2) == 0)
	case 2:
		en.int(r.Int64N(1<<53) - 1<<52>>(r.IntN(50)))
	case 3:
		v := r.Int64N(1 << uint(r.IntN(54)))
		switch r.IntN(3) {
		case 0:
			en.e.EncodeInt64(v)
		case 1:
			en.e.EncodeUint64(uint64(v))
		default:
			en.uint(uint64(v))
		}
	case 4:
		f := r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		if f == math.Trunc(f) && math.Abs(f) >= 1<<53 {
			f = 0.5 // integral values past 2^53 are notepack.io's own domain
		}
		en.float(f)
	case 5:
		en.e.EncodeFloat32(float32(r.NormFloat64()))
	case 6, 7:
		en.strBytes(randomText(r))
	case 8:
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		en.bin(b)
	case 9:
		b := make([]byte, 1<<r.IntN(5))
		en.ext(int8(r.IntN(20)+1), b)
	case 10:
		ms := r.Int64N(1<<44) - 1<<43
		en.ext(-1, timestampPayload(ms))
	case 11:
		en.e.EncodeExtHeader(0, 1)
		en.raw([]byte{0}) // undefined
	case 12:
		k := r.IntN(6)
		en.array(k)
		for range k {
			genValue(r, en, depth-1)
		}
	case 13:
		k := r.IntN(6)
		en.mapLen(k)
		for range k {
			switch r.IntN(6) {
			case 0:
				en.str(fmt.Sprint(r.IntN(12)))
			case 1:
				en.int(int64(r.IntN(5)))
			default:
				en.str(string(rune('a' + r.IntN(6))))
			}
			genValue(r, en, depth-1)
		}
	}
}

func randomText(r *rand.Rand) []byte {
	pieces := []string{"a", "Z", "0", " ", "é", "€", "\U0001F600", "\"", "\\", "\n", "\x01", "\x7f", "\u2028", "\x80", "\xe2\x82", "\xed\xa0\x80", "\xf0\x9f"}
	var b []byte
	for range r.IntN(8) {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return b
}

// timestampPayload encodes a time in milliseconds as notepack.io encodes
// a Date, through the library's own time encoding.
func timestampPayload(ms int64) []byte {
	b, err := msgpack.Marshal(time.UnixMilli(ms).UTC())
	if err != nil {
		panic(err)
	}
	rd := newReader(b)
	_, n, _ := rd.d.DecodeExtHeader()
	p, _ := rd.take(n)
	return p
}
