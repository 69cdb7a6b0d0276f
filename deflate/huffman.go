package deflate

import (
	"math/bits"
	"slices"
)

// hcode is one Huffman code, bit-reversed so it can be written LSB first.
type hcode struct {
	code uint16
	len  uint8
}

// huffScratch is the working space for building one code. It lives in the
// pooled message state so building codes does not allocate.
type huffScratch struct {
	items  [numLitLen + 2]uint64 // freq<<16 | symbol, sorted by frequency
	weight [2 * (numLitLen + 2)]uint32
	parent [2 * (numLitLen + 2)]uint16
	count  [2 * (numLitLen + 2)]uint16 // leaves per depth

	// Results of the last buildLengths: the number of codes of each
	// length, and the coded size in bits (sum of freq times length).
	blCount [maxCodeBits + 1]uint16
	bits    int
}

// buildLengths sets lens[i] to the code length for symbol i given freq,
// with no length over maxBits. Every code it builds is complete (the Kraft
// sum is exactly one), with at least two symbols: a symbol with zero
// frequency gets length zero unless it is needed as a filler. Complete codes
// keep strict inflaters, Go's compress/flate among them, happy.
//
// The lengths are those of a Huffman tree (two-queue construction on the
// sorted frequencies), then limited to maxBits by the rebalancing of
// JPEG (ITU T.81), Annex K.3, which keeps the code complete.
func buildLengths(s *huffScratch, freq []uint32, lens []uint8, maxBits int) {
	n := 0
	// Zero and non-zero frequencies come in no order a branch predictor
	// could learn, so every symbol is written and only the used ones
	// kept. Frequencies fit in 31 bits (a block has under 1<<31 symbols),
	// so (f | -f) >> 31 is 1 exactly when f is not zero.
	for i, f := range freq {
		lens[i] = 0
		s.items[n] = uint64(f)<<16 | uint64(i)
		n += int((f | -f) >> 31)
	}
	// A one-symbol code is incomplete; add zero-weight fillers.
	for sym := 0; n < 2; sym++ {
		if freq[sym] == 0 {
			s.items[n] = uint64(sym)
			n++
		}
	}
	items := s.items[:n]
	slices.Sort(items)

	// Two-queue Huffman construction: leaves are nodes 0..n-1 in order of
	// weight, internal nodes n..2n-2 are created in order of weight, so the
	// lightest node is always at the head of one of the queues.
	w := s.weight[:2*n-1]
	par := s.parent[:2*n-1]
	for i, it := range items {
		w[i] = uint32(it >> 16)
	}
	leaf, inner := 0, n
	pick := func(next int) int {
		if leaf < n && (inner >= next || w[leaf] <= w[inner]) {
			leaf++
			return leaf - 1
		}
		inner++
		return inner - 1
	}
	for next := n; next < 2*n-1; next++ {
		a := pick(next)
		b := pick(next)
		w[next] = w[a] + w[b]
		par[a], par[b] = uint16(next), uint16(next)
	}
	// Depths: parents always have higher indexes than their children, so
	// walk down from the root reusing w as the depth array.
	root := 2*n - 2
	w[root] = 0
	count := s.count[:n+1]
	clear(count)
	maxDepth := 0
	for i := root - 1; i >= 0; i-- {
		w[i] = w[par[i]] + 1
		if i < n {
			d := int(w[i])
			count[d]++
			maxDepth = max(maxDepth, d)
		}
	}

	// JPEG Annex K.3 (Adjust_BITS): while a level deeper than maxBits has
	// leaves, take two of them (siblings), move one up to their parent's
	// place and hang the other, with a leaf taken from the deepest level
	// above, as the two children of that leaf's old place. The Kraft sum is
	// unchanged at each step.
	for i := maxDepth; i > maxBits; i-- {
		for count[i] > 0 {
			j := i - 2
			for count[j] == 0 {
				j--
			}
			count[i] -= 2
			count[i-1]++
			count[j+1] += 2
			count[j]--
		}
	}

	// The least frequent symbols get the longest codes.
	k, size := 0, 0
	s.blCount = [maxCodeBits + 1]uint16{}
	for l := min(maxDepth, maxBits); l >= 1; l-- {
		s.blCount[l] = count[l]
		for range count[l] {
			lens[items[k]&0xffff] = uint8(l)
			size += int(items[k]>>16) * l
			k++
		}
	}
	s.bits = size
}

// canonicalCodes assigns the canonical codes of RFC 1951, Section 3.2.2, to
// the given lengths, bit-reversed for LSB-first output.
func canonicalCodes(lens []uint8, codes []hcode) {
	var count [maxCodeBits + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	assignCodes(lens, codes, &count)
}

// assignCodes is canonicalCodes given count[l], the number of codes of
// length l, as buildLengths leaves in blCount.
func assignCodes(lens []uint8, codes []hcode, count *[maxCodeBits + 1]uint16) {
	count[0] = 0
	var next [maxCodeBits + 1]uint16
	code := uint16(0)
	for b := 1; b <= maxCodeBits; b++ {
		code = (code + count[b-1]) << 1
		next[b] = code
	}
	for i, l := range lens {
		if l == 0 {
			codes[i] = hcode{}
			continue
		}
		c := next[l]
		next[l]++
		codes[i] = hcode{code: bits.Reverse16(c) >> (16 - l), len: l}
	}
}
