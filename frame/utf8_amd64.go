//go:build amd64 && !purego

package frame

// The validators [UTF8Validator.Write] can run, slowest first. utf8Impl picks
// one: it starts at utf8Best, the best this CPU has, and tests lower it to
// check the DFA alone in the same run.
const (
	utf8DFA  = iota // the DFA in utf8.go alone
	utf8AVX2        // a bulk AVX2 pass over runs of text, the DFA for the rest (utf8_amd64.s)
)

var (
	utf8Best = bestUTF8()
	utf8Impl = utf8Best
)

func bestUTF8() int {
	if x86HasAVX2 {
		return utf8AVX2
	}
	return utf8DFA
}

// utf8BulkMin is the shortest run [UTF8Validator.Write] hands utf8Bulk as soon
// as it reaches a code point boundary; utf8BulkShort is the shortest it hands
// over once its ASCII fast path has stopped at a multi-byte sequence. Pure
// ASCII is faster through that fast path below utf8BulkMin, and text with
// multi-byte sequences faster through utf8Bulk from utf8BulkShort up (see
// BenchmarkUTF8Impl).
const (
	utf8BulkMin   = 128
	utf8BulkShort = 16
)

// utf8Bulk checks a run of text that starts on a code point boundary. It picks
// n ≤ len(b) such that, if the text is valid, b[:n] ends on a code point
// boundary, and reports ok if b[:n] is valid, complete UTF-8. If not ok, b[:n]
// holds a fault (or ends inside a code point), and the caller must find it
// with the DFA.
//
// n backs off from the end to just before the last lead byte within the final
// 3 bytes: a code point started there may continue in the next Write, and is
// left to the DFA, whose state carries across calls.
func utf8Bulk(b []byte) (n int, ok bool) {
	if utf8Impl != utf8AVX2 {
		return len(b), false
	}
	n = len(b)
	for j := n - 1; j >= n-3 && j >= 0; j-- {
		if c := b[j]; c < 0x80 {
			break // an ASCII byte ends a code point
		} else if c >= 0xC0 {
			n = j // a lead byte starts one
			break
		}
	}
	if n < 64 {
		// utf8ValidAVX2 needs 35 bytes. ASCII after the end changes nothing,
		// except that a code point cut short is now cut short by ASCII.
		var buf [64]byte
		copy(buf[:], b[:n])
		return n, utf8ValidAVX2(buf[:])
	}
	return n, utf8ValidAVX2(b[:n])
}

// utf8ValidAVX2 reports whether b is valid, complete UTF-8 (RFC 3629), as if
// preceded by ASCII. len(b) must be at least 35.
//
//go:noescape
func utf8ValidAVX2(b []byte) bool
