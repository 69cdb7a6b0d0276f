package frame

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var benchSizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

func BenchmarkMask(b *testing.B) {
	for _, n := range benchSizes {
		buf := make([]byte, n)
		b.Run("impl=fast/size="+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				Mask(key, 1, buf)
			}
		})
		b.Run("impl=bytewise/size="+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				maskBytewise(key, 1, buf)
			}
		})
		src := make([]byte, n)
		b.Run("impl=memcpy/size="+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, src)
			}
		})
	}
}

// mixedText is natural-language text mixing ASCII with 2-, 3- and 4-byte
// sequences, the shape of chat or multilingual JSON.
func mixedText(n int) []byte {
	const unit = "Grüße aus Köln — κόσμε, привет мир, 日本語のテキスト, emoji 🎉🚀 and plain ASCII words. "
	s := strings.Repeat(unit, n/len(unit)+1)
	b := []byte(s[:n])
	for !utf8.Valid(b) { // do not cut inside a code point
		b = b[:len(b)-1]
	}
	for len(b) < n {
		b = append(b, '.')
	}
	return b
}

func BenchmarkUTF8(b *testing.B) {
	for _, kind := range []string{"ascii", "mixed"} {
		for _, n := range benchSizes {
			var text []byte
			if kind == "ascii" {
				text = []byte(strings.Repeat("{\"key\":\"value\",\"n\":12345}", n/25+1)[:n])
			} else {
				text = mixedText(n)
			}
			b.Run("text="+kind+"/impl=validator/size="+sizeName(n), func(b *testing.B) {
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
			b.Run("text="+kind+"/impl=stdlib/size="+sizeName(n), func(b *testing.B) {
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if !utf8.Valid(text) {
						b.Fatal("invalid")
					}
				}
			})
		}
	}
}
