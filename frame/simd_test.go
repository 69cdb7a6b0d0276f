package frame

// Tests and benchmarks for the vector fast paths (mask_amd64.s, utf8_amd64.s).
// Each test runs every implementation the build has, from the best the CPU
// offers down to pure Go, against a reference, so one run on an AVX2 machine
// covers AVX2, SSE2 and pure Go; under -tags purego, or on other
// architectures, they cover pure Go alone.

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// Names of the values maskImpl and utf8Impl take, for messages.
var (
	maskNames = []string{"go", "sse2", "avx2"}
	utf8Names = []string{"dfa", "avx2"}
)

// forEachMask runs f with maskImpl set to each masking loop in turn, best
// first, and restores it.
func forEachMask(f func(impl int)) {
	defer func(saved int) { maskImpl = saved }(maskImpl)
	for impl := maskBest; impl >= maskGo; impl-- {
		maskImpl = impl
		f(impl)
	}
}

func TestMaskSIMD(t *testing.T) {
	t.Logf("best masking loop: %s", maskNames[maskBest])
	rng := rand.New(rand.NewPCG(5, 6))
	src := make([]byte, 1<<20+3)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	k := [4]byte{0x9e, 0x37, 0x79, 0xb9}
	var lengths []int
	for n := 0; n <= 1100; n++ {
		lengths = append(lengths, n)
	}
	for n := 64<<10 + 1; n <= 64<<10+7; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 1<<20+3)

	const guard = 40 // bytes either side that must stay untouched
	fill := bytes.Repeat([]byte{0xa5}, guard+31+len(src)+guard)
	for _, n := range lengths {
		buf := make([]byte, guard+31+n+guard)
		for pos := 0; pos < 8; pos++ {
			want := append([]byte(nil), src[:n]...)
			wantPos := maskBytewise(k, pos, want)
			off := guard + (n+pos)%32 // vary the alignment of b[0] too
			forEachMask(func(impl int) {
				copy(buf, fill)
				got := buf[off : off+n]
				copy(got, src)
				if gotPos := Mask(k, pos, got); gotPos != wantPos || !bytes.Equal(got, want) {
					t.Fatalf("%s: Mask(key, %d, %d bytes) = %d, %s; byte-wise reference: %d, %s",
						maskNames[impl], pos, n, gotPos, spaced(got), wantPos, spaced(want))
				}
				if bytes.Count(buf[:off], []byte{0xa5}) != off || bytes.Count(buf[off+n:], []byte{0xa5}) != len(buf)-off-n {
					t.Fatalf("%s: Mask(key, %d, %d bytes) wrote outside b", maskNames[impl], pos, n)
				}
			})
		}
	}
}

func TestMaskSIMDSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	src := make([]byte, 5000)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	want := append([]byte(nil), src...)
	maskBytewise(key, 2, want)
	forEachMask(func(impl int) {
		for range 300 {
			got := append([]byte(nil), src...)
			pos, rest, cuts := 2, got, []int(nil)
			for len(rest) > 0 {
				n := min(len(rest), rng.IntN(700))
				pos = Mask(key, pos, rest[:n])
				rest = rest[n:]
				cuts = append(cuts, n)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: Mask in pieces %v differs from one byte-wise pass", maskNames[impl], cuts)
			}
		}
	})
}

// utf8Result is the validator's verdict on a text: the index of the first
// invalid byte (-1 if none) and whether the text is complete and valid.
type utf8Result struct {
	bad   int
	valid bool
}

// validate feeds b to a UTF8Validator in pieces cut at cuts.
func validate(b []byte, cuts ...int) utf8Result {
	bad, endErr := feed(b, cuts...)
	return utf8Result{bad, bad == -1 && endErr == nil}
}

// checkUTF8 validates b, cut at cuts, with the DFA alone and then with each
// vector validator, and fails unless they agree with each other and with
// utf8.Valid. It also holds the bulk validator alone to utf8.Valid.
func checkUTF8(t *testing.T, b []byte, cuts ...int) {
	t.Helper()
	defer func(saved int) { utf8Impl = saved }(utf8Impl)
	utf8Impl = utf8DFA
	want := validate(b, cuts...)
	if std := utf8.Valid(b); want.valid != std {
		t.Fatalf("dfa: %s: valid = %v, utf8.Valid = %v", spaced(b), want.valid, std)
	}
	for impl := utf8Best; impl > utf8DFA; impl-- {
		utf8Impl = impl
		if got := validate(b, cuts...); got != want {
			t.Fatalf("%s: % x cut at %v: first invalid byte %d, valid %v; dfa: %d, %v",
				utf8Names[impl], b, cuts, got.bad, got.valid, want.bad, want.valid)
		}
		if got := ValidUTF8(b); got != want.valid {
			t.Fatalf("%s: ValidUTF8(% x) = %v, want %v", utf8Names[impl], b, got, want.valid)
		}
		if n, ok := utf8Bulk(b); ok != utf8.Valid(b[:n]) || n < len(b)-3 {
			t.Fatalf("%s: utf8Bulk(% x) = %d, %v; utf8.Valid of that prefix = %v",
				utf8Names[impl], b, n, ok, utf8.Valid(b[:n]))
		}
	}
}

// utf8Sequences are one code point each, valid or not, of every kind the
// validator tells apart.
var utf8Sequences = []string{
	// valid
	"\x00", "a", "\x7f",
	"\xc2\x80", "\xc3\xa9", "\xdf\xbf",
	"\xe0\xa0\x80", "\xe0\xbf\xbf", "\xe1\x80\x80", "\xec\xbf\xbf", "\xed\x80\x80", "\xed\x9f\xbf",
	"\xee\x80\x80", "\xef\xbf\xbd", "\xef\xbf\xbf",
	"\xf0\x90\x80\x80", "\xf0\xbf\xbf\xbf", "\xf1\x80\x80\x80", "\xf3\xbf\xbf\xbf", "\xf4\x80\x80\x80", "\xf4\x8f\xbf\xbf",
	// a continuation byte with no lead
	"\x80", "\xbf", "\x80\x80", "\xbf\xbf\xbf",
	// a lead that can never start a sequence
	"\xc0\x80", "\xc1\xbf", "\xc0", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf", "\xf8\x88\x80\x80\x80", "\xfe", "\xff",
	// overlong, surrogate, too large
	"\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
	"\xf4\x90\x80\x80", "\xf4\xbf\xbf\xbf",
	// cut short by ASCII or by another lead
	"\xc2a", "\xe1\x80a", "\xe1a", "\xf1\x80\x80a", "\xf1\x80a", "\xf1a", "\xc2\xc2\x80", "\xe1\x80\xe1\x80\x80",
	"\xf0\x90\x80\xf0\x90\x80\x80",
	// one continuation too many
	"\xc2\x80\x80", "\xe1\x80\x80\x80", "\xf1\x80\x80\x80\x80",
}

// utf8Backgrounds are valid texts to embed sequences in: ASCII (the vector
// validator's skip path) and 2-, 3- and 4-byte text (its full path).
var utf8Backgrounds = []string{"a", "é", "€", "🎉"}

// embed returns a text of n bytes with seq at byte offset at, surrounded by bg
// repeated; bytes that cannot hold a whole code point of bg are ASCII.
func embed(bg, seq string, at, n int) []byte {
	fill := func(n int) string {
		s := strings.Repeat(bg, n/len(bg))
		return s + strings.Repeat("x", n-len(s))
	}
	return []byte(fill(at) + seq + fill(n-at-len(seq)))
}

func TestUTF8SIMDSequenceClasses(t *testing.T) {
	t.Logf("best validator: %s", utf8Names[utf8Best])
	for _, seq := range utf8Sequences {
		for _, bg := range utf8Backgrounds {
			// 64 bytes is one step of the main loop, 97 leaves a block and a
			// byte, 129 a byte, and 200 the rest; ending the text right after
			// the sequence puts it at every offset from the end.
			for _, n := range []int{64, 97, 129, 200} {
				for at := 0; at+len(seq) <= n; at++ {
					b := embed(bg, seq, at, n)
					checkUTF8(t, b)
					if n == 200 {
						checkUTF8(t, b[:at+len(seq)])
					}
				}
			}
		}
	}
}

func TestUTF8SIMDSplits(t *testing.T) {
	const n = 129
	for _, seq := range utf8Sequences {
		for _, bg := range []string{"a", "🎉"} {
			for _, at := range []int{0, 31, 32, 63, 64, 65, n - len(seq) - 1, n - len(seq)} {
				b := embed(bg, seq, at, n)
				for cut := 0; cut <= n; cut++ {
					checkUTF8(t, b, cut)
				}
			}
		}
	}
}

// randomText returns valid text of n bytes, mixing code points of every
// length, including the edges of each range.
func randomText(rng *rand.Rand, n int) []byte {
	edges := []rune{0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff}
	var b []byte
	for len(b) < n {
		var r rune
		switch rng.IntN(6) {
		case 0:
			r = edges[rng.IntN(len(edges))]
		case 1:
			r = rune(rng.IntN(0x80))
		case 2:
			r = 0x80 + rune(rng.IntN(0x800-0x80))
		case 3:
			r = 0x800 + rune(rng.IntN(0x10000-0x800))
		case 4:
			r = 0x10000 + rune(rng.IntN(0x110000-0x10000))
		default:
			r = 'a' + rune(rng.IntN(26))
		}
		if utf8.ValidRune(r) && len(b)+utf8.RuneLen(r) <= n {
			b = utf8.AppendRune(b, r)
		} else if len(b) < n {
			b = append(b, ' ')
		}
	}
	return b
}

func TestUTF8SIMDCorruptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	bad := []byte{0x00, 0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff}
	for range 3 {
		text := randomText(rng, 200)
		checkUTF8(t, text)
		for i := range text {
			for _, c := range append(bad, byte(rng.Uint32())) {
				b := append([]byte(nil), text...)
				b[i] = c
				checkUTF8(t, b)
			}
		}
	}
}

func TestUTF8SIMDTruncations(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, text := range [][]byte{randomText(rng, 300), mixedText(300)} {
		for i := 0; i <= len(text); i++ {
			checkUTF8(t, text[:i])
			checkUTF8(t, text[i:])
		}
	}
}

func TestUTF8SIMDRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	alphabet := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff}
	for range 20000 {
		b := make([]byte, rng.IntN(300))
		mode := rng.IntN(3)
		for j := range b {
			switch {
			case mode == 0:
				b[j] = byte(rng.Uint32())
			case mode == 1 && rng.IntN(4) != 0:
				b[j] = 0x80 | byte(rng.IntN(0x40)) // mostly continuations: long near-valid runs
			default:
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		checkUTF8(t, b, rng.IntN(len(b)+1))
	}
}

// TestUTF8SIMDVectors runs the conformance vectors inside longer text, so that
// they reach the vector validator, at every cut.
func TestUTF8SIMDVectors(t *testing.T) {
	prefix := mixedText(70)
	suffix := bytes.Repeat([]byte("z"), 40)
	for _, vec := range loadUTF8Vectors(t) {
		v := unhex(t, vec.Hex)
		for _, b := range [][]byte{
			append(append(append([]byte(nil), prefix...), v...), suffix...),
			append(append([]byte(nil), prefix...), v...),
		} {
			for cut := 0; cut <= len(b); cut++ {
				checkUTF8(t, b, cut)
			}
		}
	}
}

// TestUTF8SIMDStream feeds a long text in random pieces, with and without a
// fault.
func TestUTF8SIMDStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	text := append(mixedText(200<<10), randomText(rng, 50<<10)...)
	for i := range 40 {
		b := text
		if i%4 != 0 {
			b = append([]byte(nil), text...)
			b[rng.IntN(len(b))] = []byte{0x80, 0xc0, 0xed, 0xf5, 0xff}[rng.IntN(5)]
		}
		var cuts []int
		for c := rng.IntN(70000); c < len(b); c += 1 + rng.IntN(70000) {
			cuts = append(cuts, c)
		}
		checkUTF8(t, b, cuts...)
	}
}

// TestUTF8SIMDUsed guards against the tests above passing vacuously: on a CPU
// with a vector validator, it must take long valid text whole.
func TestUTF8SIMDUsed(t *testing.T) {
	if utf8Best == utf8DFA {
		t.Skip("no vector validator in this build or on this CPU")
	}
	// Valid text cut anywhere, even inside a code point, is taken whole but
	// for the cut code point.
	rng := rand.New(rand.NewPCG(17, 18))
	for _, text := range [][]byte{mixedText(4096), randomText(rng, 400), sparseText(300)} {
		for i := 0; i <= len(text); i++ {
			if n, ok := utf8Bulk(text[:i]); !ok || n < i-3 {
				t.Fatalf("utf8Bulk(%d bytes of valid text, ending % x) = %d, %v", i, text[i-4:i], n, ok)
			}
		}
	}
}

func TestUTF8SIMDZeroAllocs(t *testing.T) {
	text := mixedText(4096)
	var v UTF8Validator
	if allocs := testing.AllocsPerRun(100, func() { v.Reset(); v.Write(text) }); allocs != 0 {
		t.Errorf("UTF8Validator.Write: %v allocs per run, want 0", allocs)
	}
}

// BenchmarkMaskImpl compares the masking loops in one run, on aligned and
// unaligned buffers.
func BenchmarkMaskImpl(b *testing.B) {
	for _, n := range []int{8, 16, 24, 32, 64, 128, 1 << 10, 64 << 10} {
		for _, align := range []int{0, 1} {
			buf := make([]byte, n+align)[align:]
			forEachMask(func(impl int) {
				b.Run("impl="+maskNames[impl]+"/size="+sizeName(n)+"/align="+string(rune('0'+align)), func(b *testing.B) {
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for b.Loop() {
						Mask(key, 1, buf)
					}
				})
			})
		}
	}
}

// BenchmarkMaskSizes covers the small sizes, to compare builds with benchstat.
func BenchmarkMaskSizes(b *testing.B) {
	for _, n := range []int{1, 3, 7, 8, 15, 16, 24, 31, 32, 33, 48, 64, 100, 128, 256} {
		buf := make([]byte, n)
		b.Run("size="+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				Mask(key, 1, buf)
			}
		})
	}
}

// sparseText is mostly ASCII with an accented letter every 100 bytes or so,
// the shape of JSON with the odd non-English name.
func sparseText(n int) []byte {
	const unit = `{"id":12345,"name":"Zoë","city":"Zürich","tags":["a","b","c"],"note":"plain words here"},`
	s := strings.Repeat(unit, n/len(unit)+1)
	b := []byte(s[:n])
	for !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	for len(b) < n {
		b = append(b, ' ')
	}
	return b
}

// BenchmarkUTF8Impl compares the validators in one run, on whole texts of
// several shapes and sizes; the small sizes set utf8BulkMin and utf8BulkShort.
func BenchmarkUTF8Impl(b *testing.B) {
	texts := []struct {
		name string
		gen  func(int) []byte
	}{
		{"ascii", func(n int) []byte { return []byte(strings.Repeat("{\"key\":\"value\",\"n\":12345}", n/25+1)[:n]) }},
		{"sparse", sparseText},
		{"mixed", mixedText},
	}
	defer func(saved int) { utf8Impl = saved }(utf8Impl)
	for _, tx := range texts {
		for _, n := range []int{16, 48, 64, 96, 128, 256, 1 << 10, 64 << 10, 1 << 20} {
			text := tx.gen(n)
			for impl := utf8Best; impl >= utf8DFA; impl-- {
				utf8Impl = impl
				b.Run("text="+tx.name+"/impl="+utf8Names[impl]+"/size="+sizeName(n), func(b *testing.B) {
					b.SetBytes(int64(n))
					b.ReportAllocs()
					var v UTF8Validator
					for b.Loop() {
						v.Reset()
						if _, err := v.Write(text); err != nil || v.End() != nil {
							b.Fatal("invalid")
						}
					}
				})
			}
		}
	}
}
