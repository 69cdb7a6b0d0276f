package frame

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"
	"unicode/utf8"
)

type utf8Vector struct {
	Hex          string          `json:"hex"`
	Valid        bool            `json:"valid"`
	FirstInvalid json.RawMessage `json:"first_invalid_offset"` // index, "end" or null
}

func loadUTF8Vectors(t *testing.T) []utf8Vector {
	t.Helper()
	// A copy of ../shared/conformance/utf8-vectors.json (the conformance catalogue).
	data, err := os.ReadFile("testdata/utf8-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []utf8Vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vectors) < 100 {
		t.Fatalf("only %d vectors", len(doc.Vectors))
	}
	return doc.Vectors
}

// feed validates b in pieces cut at the given points and returns the index of
// the first invalid byte within b (-1 if none) and End's verdict.
func feed(b []byte, cuts ...int) (bad int, endErr error) {
	var v UTF8Validator
	start := 0
	for _, c := range append(cuts, len(b)) {
		n, err := v.Write(b[start:c])
		if err != nil {
			return start + n, err
		}
		start = c
	}
	return -1, v.End()
}

func TestUTF8Vectors(t *testing.T) {
	for _, vec := range loadUTF8Vectors(t) {
		b, err := hex.DecodeString(vec.Hex)
		if err != nil {
			t.Fatal(err)
		}
		wantBad := -1
		var atEnd bool
		switch s := string(vec.FirstInvalid); s {
		case "null":
		case `"end"`:
			atEnd = true
		default:
			if err := json.Unmarshal(vec.FirstInvalid, &wantBad); err != nil {
				t.Fatalf("vector %s: offset %s: %v", vec.Hex, s, err)
			}
		}
		if ValidUTF8(b) != vec.Valid || utf8.Valid(b) != vec.Valid {
			t.Errorf("ValidUTF8(%s) = %v, utf8.Valid = %v, want %v", vec.Hex, ValidUTF8(b), utf8.Valid(b), vec.Valid)
		}
		// One cut anywhere, and every byte on its own.
		cutSets := [][]int{nil}
		for i := 0; i <= len(b); i++ {
			cutSets = append(cutSets, []int{i})
		}
		every := make([]int, 0, len(b))
		for i := 1; i < len(b); i++ {
			every = append(every, i)
		}
		cutSets = append(cutSets, every)
		for _, cuts := range cutSets {
			bad, endErr := feed(b, cuts...)
			switch {
			case vec.Valid:
				if bad != -1 || endErr != nil {
					t.Errorf("%s cut at %v: rejected at %d (%v), want valid", vec.Hex, cuts, bad, endErr)
				}
			case atEnd:
				if bad != -1 || endErr != ErrInvalidUTF8 {
					t.Errorf("%s cut at %v: bad at %d, End %v; want failure only at the end", vec.Hex, cuts, bad, endErr)
				}
			default:
				if bad != wantBad {
					t.Errorf("%s cut at %v: first invalid byte reported at %d, want %d", vec.Hex, cuts, bad, wantBad)
				}
			}
		}
	}
}

func TestUTF8MatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff}
	for i := 0; i < 200000; i++ {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			if rng.IntN(3) == 0 {
				b[j] = byte(rng.Uint32())
			} else {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		if got, want := ValidUTF8(b), utf8.Valid(b); got != want {
			t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid = %v", b, got, want)
		}
		if len(b) > 1 {
			cut := rng.IntN(len(b))
			bad, endErr := feed(b, cut)
			if got := bad == -1 && endErr == nil; got != utf8.Valid(b) {
				t.Fatalf("split validation of % x at %d = %v", b, cut, got)
			}
		}
	}
	// Every code point, encoded by the standard library, is valid; every surrogate is not.
	var v UTF8Validator
	var buf [4]byte
	for r := rune(0); r <= utf8.MaxRune; r++ {
		n := utf8.EncodeRune(buf[:], r)
		if r >= 0xD800 && r <= 0xDFFF {
			continue // EncodeRune writes U+FFFD
		}
		v.Reset()
		if _, err := v.Write(buf[:n]); err != nil || v.End() != nil {
			t.Fatalf("U+%04X rejected", r)
		}
	}
}

func TestUTF8Sticky(t *testing.T) {
	var v UTF8Validator
	if n, err := v.Write([]byte("ok\xff")); n != 2 || err != ErrInvalidUTF8 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := v.Write([]byte("fine")); n != 0 || err != ErrInvalidUTF8 {
		t.Fatalf("Write after failure = %d, %v, want 0, ErrInvalidUTF8", n, err)
	}
	v.Reset()
	if _, err := v.Write([]byte("fine")); err != nil || !v.Complete() {
		t.Fatalf("after Reset: %v", err)
	}
}

func TestUTF8ZeroAllocs(t *testing.T) {
	text := []byte("Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞 plain ascii plain ascii")
	var v UTF8Validator
	if allocs := testing.AllocsPerRun(100, func() { v.Reset(); v.Write(text) }); allocs != 0 {
		t.Errorf("UTF8Validator.Write: %v allocs per run, want 0", allocs)
	}
}
