package deflate

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// The inflater decodes RFC 1951 with a 64-bit bit buffer that a fast loop
// refills eight bytes at a time, and two-level Huffman tables: one lookup
// of the low bits gives a symbol and its code length, or a link to a
// sub-table for the longer codes.
//
// A table entry is a uint32:
//
//	bits 0-3   code bits to consume (for a link: unused, the primary bits are)
//	bits 4-7   extra bits that follow the code (for a link: the sub-table's bits)
//	bits 8-11  kind: entLit, entMatch, entEOB or entSub; none means invalid
//	bits 16-31 value: literal byte, length or distance base, sub-table offset
const (
	entLit   = 1 << 8 // a literal (or, for code lengths, any valid symbol)
	entMatch = 1 << 9 // a length, or a distance
	entEOB   = 1 << 10
	entSub   = 1 << 11

	litBits  = 10 // primary bits of the literal/length table
	distBits = 8  // primary bits of the distance table
	clenBits = maxCodeLenBits

	// Each code longer than the primary bits may start its own sub-table of
	// 1<<(15-primary) entries, so these bound the table sizes.
	litTableSize  = 1<<litBits + 288<<(maxCodeBits-litBits)
	distTableSize = 1<<distBits + 32<<(maxCodeBits-distBits)

	// winSize is the output buffer of a Read: the 32 KiB a match may reach
	// back to, plus room to decode ahead.
	winSize = maxDistance + 16<<10
)

// Symbol entries without their code length, by symbol.
var (
	litSyms  [288]uint32
	distSyms [32]uint32
	clenSyms [numCodeLen]uint32

	fixedLitTable  [litTableSize]uint32
	fixedDistTable [distTableSize]uint32
)

func init() {
	for i := range 256 {
		litSyms[i] = entLit | uint32(i)<<16
	}
	litSyms[endOfBlock] = entEOB
	// Lengths and distances, RFC 1951, Section 3.2.5. (This runs before
	// the init of tables.go, so it cannot use lenBase and distBase.)
	base := 3
	for i := range 28 {
		x := 0
		if i >= 8 {
			x = (i - 4) / 4
		}
		litSyms[firstLenSym+i] = entMatch | uint32(x)<<4 | uint32(base)<<16
		base += 1 << x
	}
	litSyms[firstLenSym+28] = entMatch | maxMatch<<16 // "285 0 258"
	// 286 and 287 take part in the fixed code but never occur: left invalid.
	base = 1
	for i := range numDist {
		x := 0
		if i >= 4 {
			x = (i - 2) / 2
		}
		distSyms[i] = entMatch | uint32(x)<<4 | uint32(base)<<16
		base += 1 << x
	}
	for i := range clenSyms {
		clenSyms[i] = entLit | uint32(i)<<16
	}

	// Fixed Huffman codes, RFC 1951, Section 3.2.6.
	lens := fixedLitLens
	if !buildTable(fixedLitTable[:], lens[:], litSyms[:], litBits) {
		panic("deflate: bad fixed literal/length code")
	}
	var dl [32]uint8
	for i := range dl {
		dl[i] = 5
	}
	if !buildTable(fixedDistTable[:], dl[:], distSyms[:], distBits) {
		panic("deflate: bad fixed distance code")
	}
}

// buildTable fills t with the decoding table of the canonical Huffman code
// of lens (RFC 1951, Section 3.2.2), syms giving each symbol's entry, with
// pb primary bits. It reports false for a code that is over-subscribed or
// incomplete, accepting, as compress/flate and zlib do, an empty code (it
// fails when used) and a single code of one bit.
func buildTable(t []uint32, lens []uint8, syms []uint32, pb uint) bool {
	var count [maxCodeBits + 1]int
	maxLen := 0
	for _, l := range lens {
		count[l]++
		maxLen = max(maxLen, int(l))
	}
	count[0] = 0
	left := 1
	for l := 1; l <= maxCodeBits; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left != 0 {
		// Incomplete: only the empty code and one code of one bit.
		if maxLen > 1 {
			return false
		}
		clear(t[:1<<pb])
		if maxLen == 0 {
			return true
		}
	}
	// Symbols in canonical order: by length, then by symbol.
	var offs [maxCodeBits + 2]int
	for l := 1; l <= maxCodeBits; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [288]uint16
	for sym, l := range lens {
		if l != 0 {
			sorted[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	// The primary table is filled for each length in turn, in a table of
	// 1<<length entries that is then doubled: each shorter code's entry
	// repeats at every setting of the bits after it.
	code, k := 0, 0 // the next canonical code, and its place in sorted
	short := min(uint(maxLen), pb)
	for n := uint(1); n <= short; n++ {
		if n > 1 {
			copy(t[1<<(n-1):1<<n], t[:1<<(n-1)])
		}
		for end := k + count[n]; k < end; k++ {
			rev := bits.Reverse16(uint16(code)) >> (16 - n)
			t[rev] = syms[sorted[k]] | uint32(n)
			code++
		}
		code <<= 1
	}
	for size := 1 << short; size < 1<<pb; size <<= 1 {
		copy(t[size:2*size], t[:size])
	}
	// Longer codes go in sub-tables of 1<<(maxLen-pb) entries, one per
	// primary prefix. Codes with the same prefix are next to each other
	// in canonical order.
	subBits := uint(maxLen) - pb
	off, prefix := 1<<pb, -1
	for n := pb + 1; n <= uint(maxLen); n++ {
		for end := k + count[n]; k < end; k++ {
			rev := int(bits.Reverse16(uint16(code)) >> (16 - n))
			code++
			if p := rev & (1<<pb - 1); p != prefix {
				prefix = p
				t[p] = entSub | uint32(subBits)<<4 | uint32(off)<<16
				off += 1 << subBits
			}
			base := off - 1<<subBits
			e := syms[sorted[k]] | uint32(n-pb)
			for j := rev >> pb; j < 1<<subBits; j += 1 << (n - pb) {
				t[base+j] = e
			}
		}
		code <<= 1
	}
	return true
}

// inflateState is where the inflater is in the DEFLATE stream.
type inflateState uint8

const (
	inHeader  inflateState = iota // before a block header
	inStored                      // in a stored block
	inHuffman                     // in a Huffman block
	inEnd                         // the message ended well
)

// inflater is the pooled state of a Decompressor while it reads a message.
type inflater struct {
	// Input: in[pos:] are the unread bytes of the current chunk, which is
	// the whole payload, a read from src or the tail.
	in     []byte
	pos    int
	bitbuf uint64 // nbits unread bits; above them zeros, except in the fast loop
	nbits  uint
	src    io.Reader
	srcErr error // an error from src other than io.EOF
	inTail bool  // in is the tail
	some   bool  // the payload has a byte
	empty  bool  // the payload had none

	// Output: out[lo:wpos] is this message's output still held; hist is the
	// window kept from earlier messages, before out[lo].
	out  []byte
	lo   int
	wpos int
	end  int // decode no further than out[end]
	rpos int // Read has returned out[:rpos]
	n    int64
	hist []byte

	st         inflateState
	final      bool // the block being read, or the last one, is final
	lastStored bool // the last block was a stored block
	stored     int  // bytes left in a stored block
	copyLen    int  // bytes left of a match
	copyDist   int  // its distance
	lit        *[litTableSize]uint32
	dist       *[distTableSize]uint32
	err        error // a decoding error, returned once the output before it is read

	litDyn  [litTableSize]uint32
	distDyn [distTableSize]uint32
	clen    [1 << clenBits]uint32
	lens    [numLitLen + numDist]uint8
	buf     [4096]byte
	win     [winSize]byte
}

// reset arms f for a message: the whole payload msg, or src.
func (f *inflater) reset(msg []byte, src io.Reader, hist []byte) {
	f.in, f.pos, f.bitbuf, f.nbits = msg, 0, 0, 0
	f.src, f.srcErr, f.inTail, f.some, f.empty = src, nil, false, len(msg) > 0, false
	f.out, f.lo, f.wpos, f.end, f.rpos, f.n = nil, 0, 0, 0, 0, 0
	f.hist = hist
	f.st, f.final, f.lastStored, f.stored, f.copyLen, f.copyDist = inHeader, false, false, 0, 0, 0
	f.lit, f.dist, f.err = nil, nil, nil
}

// more makes the next chunk of input current and reports whether there
// is one. After the payload comes the tail; an empty payload has none.
func (f *inflater) more() bool {
	if f.morePayload() {
		return true
	}
	if f.inTail || f.srcErr != nil {
		return false
	}
	if !f.some {
		f.empty = true
		return false
	}
	f.in, f.pos, f.inTail = tail[:], 0, true
	return true
}

// morePayload reads the next chunk of payload from src.
func (f *inflater) morePayload() bool {
	for empty := 0; f.src != nil && f.srcErr == nil; {
		n, err := f.src.Read(f.buf[:])
		if n > 0 {
			f.in, f.pos, f.some = f.buf[:n], 0, true
		}
		switch {
		case err == io.EOF:
			f.src = nil
		case err != nil:
			f.srcErr = err
		case n == 0:
			if empty++; empty == 100 {
				f.srcErr = io.ErrNoProgress
			}
		}
		if n > 0 {
			return true
		}
	}
	return false
}

// fill loads input bytes until the bit buffer holds need bits (at most
// 56) or the input ends.
func (f *inflater) fill(need uint) {
	for f.nbits < need {
		if f.pos == len(f.in) && !f.more() {
			return
		}
		f.bitbuf |= uint64(f.in[f.pos]) << f.nbits
		f.pos++
		f.nbits += 8
	}
}

func (f *inflater) consume(n uint) {
	f.bitbuf >>= n
	f.nbits -= n
}

// shortErr is the error for input that ended, or could not be read, in the
// middle of a block.
func (f *inflater) shortErr() error {
	if f.srcErr != nil {
		return fmt.Errorf("deflate: read payload: %w", f.srcErr)
	}
	return fmt.Errorf("%w: message ends inside a block", ErrCorrupt)
}

// badErr is the error for an invalid code: a short input, if the code was
// looked up with bits past its end, or corrupt data.
func (f *inflater) badErr(need uint, what string) error {
	if need > f.nbits || f.nbits < 48 && f.srcErr != nil {
		return f.shortErr()
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, what)
}

// decode inflates into out[wpos:end] until it is full, the message ends
// (st becomes inEnd) or the data is bad.
func (f *inflater) decode() error {
	for {
		switch f.st {
		case inHeader:
			if f.final {
				if err := f.checkEnd(); err != nil {
					return err
				}
				f.st = inEnd
				return nil
			}
			// A message ends on a block boundary after the tail, as a
			// sync flush leaves it: an empty stored block whose LEN and
			// NLEN are the tail (or a stored block that ends with it).
			if f.lastStored && f.nbits == 0 && f.pos == len(f.in) && !f.more() {
				if f.srcErr != nil {
					return f.shortErr()
				}
				f.st = inEnd
				return nil
			}
			if err := f.header(); err != nil {
				return err
			}
		case inStored:
			if f.wpos == f.end {
				return nil
			}
			if err := f.storedData(); err != nil {
				return err
			}
		case inHuffman:
			if f.wpos == f.end {
				return nil
			}
			if err := f.huffman(); err != nil {
				return err
			}
		case inEnd:
			return nil
		}
	}
}

// header reads a block header, RFC 1951, Section 3.2.3.
func (f *inflater) header() error {
	f.fill(3)
	if f.nbits < 3 {
		if f.empty && f.nbits == 0 {
			// An empty payload is strictly not DEFLATE data, but
			// zlib-based peers read it as an empty message, and so
			// does this package.
			f.st = inEnd
			return nil
		}
		return f.shortErr()
	}
	h := uint(f.bitbuf & 7)
	f.consume(3)
	f.final = h&1 == 1
	f.lastStored = false
	switch h >> 1 {
	case 0:
		// RFC 1951, Section 3.2.4: "skip any remaining bits in current
		// partially processed byte; read LEN and NLEN".
		f.consume(f.nbits % 8)
		f.fill(32)
		if f.nbits < 32 {
			return f.shortErr()
		}
		n, nn := uint16(f.bitbuf), uint16(f.bitbuf>>16)
		f.consume(32)
		if n != ^nn {
			return fmt.Errorf("%w: stored block LEN and NLEN disagree", ErrCorrupt)
		}
		f.stored, f.st, f.lastStored = int(n), inStored, true
	case 1:
		f.lit, f.dist, f.st = &fixedLitTable, &fixedDistTable, inHuffman
	case 2:
		if err := f.dynamicHeader(); err != nil {
			return err
		}
		f.lit, f.dist, f.st = &f.litDyn, &f.distDyn, inHuffman
	default:
		return fmt.Errorf("%w: reserved block type", ErrCorrupt)
	}
	return nil
}

// storedData copies a stored block's bytes.
func (f *inflater) storedData() error {
	for f.stored > 0 && f.wpos < f.end {
		if f.nbits >= 8 {
			f.out[f.wpos] = byte(f.bitbuf)
			f.consume(8)
			f.wpos++
			f.stored--
			continue
		}
		if f.pos == len(f.in) && !f.more() {
			return f.shortErr()
		}
		k := copy(f.out[f.wpos:min(f.end, f.wpos+f.stored)], f.in[f.pos:])
		f.pos += k
		f.wpos += k
		f.stored -= k
	}
	if f.stored == 0 {
		f.st = inHeader
	}
	return nil
}

// dynamicHeader reads the code lengths of a dynamic Huffman block, RFC
// 1951, Section 3.2.7, and builds its tables.
func (f *inflater) dynamicHeader() error {
	f.fill(14)
	if f.nbits < 14 {
		return f.shortErr()
	}
	nlit := int(f.bitbuf&31) + 257
	ndist := int(f.bitbuf>>5&31) + 1
	nclen := int(f.bitbuf>>10&15) + 4
	f.consume(14)
	if nlit > numLitLen || ndist > numDist {
		return fmt.Errorf("%w: %d literal/length or %d distance codes", ErrCorrupt, nlit, ndist)
	}
	var cl [numCodeLen]uint8
	for i := range nclen {
		f.fill(3)
		if f.nbits < 3 {
			return f.shortErr()
		}
		cl[codeLenOrder[i]] = uint8(f.bitbuf & 7)
		f.consume(3)
	}
	if !buildTable(f.clen[:], cl[:], clenSyms[:], clenBits) {
		return fmt.Errorf("%w: bad code length code", ErrCorrupt)
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		f.fill(14)
		e := f.clen[f.bitbuf&(1<<clenBits-1)]
		n := uint(e & 15)
		if e&entLit == 0 || n > f.nbits {
			return f.badErr(n, "bad code length symbol")
		}
		f.consume(n)
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var nb uint
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return fmt.Errorf("%w: code length repeat at start", ErrCorrupt)
			}
			rep, nb, v = 3, 2, lens[i-1]
		case 17:
			rep, nb = 3, 3
		default:
			rep, nb = 11, 7
		}
		if f.nbits < nb {
			return f.shortErr()
		}
		rep += int(f.bitbuf & (1<<nb - 1))
		f.consume(nb)
		if i+rep > len(lens) {
			return fmt.Errorf("%w: code length repeat past the end", ErrCorrupt)
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	if !buildTable(f.litDyn[:], lens[:nlit], litSyms[:], litBits) {
		return fmt.Errorf("%w: bad literal/length code", ErrCorrupt)
	}
	if !buildTable(f.distDyn[:], lens[nlit:], distSyms[:], distBits) {
		return fmt.Errorf("%w: bad distance code", ErrCorrupt)
	}
	return nil
}

// huffman decodes a Huffman block's symbols until the block ends (st
// becomes inHeader) or out[wpos:end] is full.
func (f *inflater) huffman() error {
	if f.copyLen > 0 {
		if err := f.copyMatch(); err != nil || f.copyLen > 0 {
			return err
		}
	}
	for f.wpos < f.end {
		if f.pos+8 <= len(f.in) && f.wpos+maxMatch <= f.end {
			if err := f.fast(); err != nil || f.st != inHuffman {
				return err
			}
			continue
		}
		// The slow path: one symbol, reading input a byte at a time and
		// checking for its end.
		f.fill(48)
		e, n := lookup(f.lit[:], litBits, f.bitbuf)
		if e&(entLit|entMatch|entEOB) == 0 || n > f.nbits {
			return f.badErr(n, "bad literal/length code")
		}
		f.consume(n)
		if e&entLit != 0 {
			f.out[f.wpos] = byte(e >> 16)
			f.wpos++
			continue
		}
		if e&entEOB != 0 {
			f.st = inHeader
			return nil
		}
		if err := f.slowMatch(e); err != nil {
			return err
		}
		if err := f.copyMatch(); err != nil {
			return err
		}
	}
	return nil
}

// lookup returns the entry of the code at the bottom of b in table t with
// pb primary bits, and the bits the code takes.
func lookup(t []uint32, pb uint, b uint64) (uint32, uint) {
	e := t[b&(1<<pb-1)]
	if e&entSub == 0 {
		return e, uint(e & 15)
	}
	e = t[int(e>>16)+int(b>>pb)&(1<<(e>>4&15)-1)]
	return e, pb + uint(e&15)
}

// slowMatch reads the rest of a match whose length entry is e, checking for
// the end of the input, and sets copyLen and copyDist.
func (f *inflater) slowMatch(e uint32) error {
	x := uint(e >> 4 & 15)
	if x > f.nbits {
		return f.shortErr()
	}
	length := int(e>>16) + int(f.bitbuf&(1<<x-1))
	f.consume(x)
	e, n := lookup(f.dist[:], distBits, f.bitbuf)
	if e&entMatch == 0 || n > f.nbits {
		return f.badErr(n, "bad distance code")
	}
	f.consume(n)
	x = uint(e >> 4 & 15)
	if x > f.nbits {
		return f.shortErr()
	}
	dist := int(e>>16) + int(f.bitbuf&(1<<x-1))
	f.consume(x)
	if dist > f.wpos-f.lo+len(f.hist) {
		return errDistance(dist)
	}
	f.copyLen, f.copyDist = length, dist
	return nil
}

func errDistance(dist int) error {
	return fmt.Errorf("%w: distance %d beyond the history", ErrCorrupt, dist)
}

// copyMatch copies the match under way as far as out[:end] allows, from
// hist where it reaches back before this message's output.
func (f *inflater) copyMatch() error {
	for f.copyLen > 0 && f.wpos < f.end {
		stop := min(f.end, f.wpos+f.copyLen)
		var k int
		if back := f.copyDist - (f.wpos - f.lo); back > 0 {
			k = copy(f.out[f.wpos:stop], f.hist[len(f.hist)-back:])
		} else {
			k = copy(f.out[f.wpos:stop], f.out[f.wpos-f.copyDist:f.wpos])
		}
		f.wpos += k
		f.copyLen -= k
	}
	return nil
}

// fast decodes symbols while at least 8 bytes of input and a longest match
// of output room remain: each round loads the bit buffer with at least 56
// bits, enough for any literal or match with its extra bits, so nothing is
// checked per bit.
func (f *inflater) fast() error {
	in, pos := f.in, f.pos
	out, wpos, end := f.out, f.wpos, f.end
	bitbuf, nbits := f.bitbuf, f.nbits
	lit, dist := f.lit, f.dist
	lo := f.lo
	var err error
	for pos+8 <= len(in) && wpos+maxMatch <= end {
		bitbuf |= binary.LittleEndian.Uint64(in[pos:]) << nbits
		pos += int(63-nbits) >> 3
		nbits |= 56

		e := lit[bitbuf&(1<<litBits-1)]
		if e&entSub != 0 {
			bitbuf >>= litBits
			nbits -= litBits
			e = lit[int(e>>16)+int(bitbuf)&(1<<(e>>4&15)-1)]
		}
		n := uint(e & 15)
		bitbuf >>= n
		nbits -= n
		if e&entLit != 0 {
			out[wpos] = byte(e >> 16)
			wpos++
			// A second literal fits in the bits left (at least 41).
			e = lit[bitbuf&(1<<litBits-1)]
			if e&entLit != 0 {
				n := uint(e & 15)
				bitbuf >>= n
				nbits -= n
				out[wpos] = byte(e >> 16)
				wpos++
			}
			continue
		}
		if e&entMatch == 0 {
			if e&entEOB != 0 {
				f.st = inHeader
			} else {
				err = fmt.Errorf("%w: bad literal/length code", ErrCorrupt)
			}
			break
		}
		x := e >> 4 & 15
		length := int(e>>16) + int(bitbuf&(1<<x-1))
		bitbuf >>= x
		nbits -= uint(x)

		e = dist[bitbuf&(1<<distBits-1)]
		if e&entSub != 0 {
			bitbuf >>= distBits
			nbits -= distBits
			e = dist[int(e>>16)+int(bitbuf)&(1<<(e>>4&15)-1)]
		}
		n = uint(e & 15)
		bitbuf >>= n
		nbits -= n
		if e&entMatch == 0 {
			err = fmt.Errorf("%w: bad distance code", ErrCorrupt)
			break
		}
		x = e >> 4 & 15
		d := int(e>>16) + int(bitbuf&(1<<x-1))
		bitbuf >>= x
		nbits -= uint(x)

		if d > wpos-lo {
			// Into the window of earlier messages: the slow copy.
			if d > wpos-lo+len(f.hist) {
				err = errDistance(d)
				break
			}
			f.wpos = wpos
			f.copyLen, f.copyDist = length, d
			f.copyMatch()
			wpos = f.wpos
			continue
		}
		s := wpos - d
		if d >= length {
			copy(out[wpos:wpos+length], out[s:s+length])
		} else {
			for k := 0; k < length; {
				k += copy(out[wpos+k:wpos+length], out[s:wpos+k])
			}
		}
		wpos += length
	}
	f.in, f.pos = in, pos
	f.wpos = wpos
	f.bitbuf, f.nbits = bitbuf&(1<<nbits-1), nbits
	return err
}

// checkEnd is called after a final block. RFC 7692, Section 7.2.3.4,
// allows one 00 byte after it (with the tail, an empty stored block);
// anything else after the final block is an error.
func (f *inflater) checkEnd() error {
	f.consume(f.nbits % 8)
	held := int(f.nbits / 8) // whole bytes in the bit buffer
	if f.inTail {
		if f.pos > held {
			return fmt.Errorf("%w: data after final block", ErrCorrupt)
		}
		held -= f.pos
	}
	var rest [2]byte
	k := 0
	for ; k < len(rest) && held > 0; k++ {
		rest[k] = byte(f.bitbuf)
		f.consume(8)
		held--
	}
	if !f.inTail {
		for k < len(rest) && (f.pos < len(f.in) || f.morePayload()) {
			rest[k] = f.in[f.pos]
			f.pos++
			k++
		}
	}
	if f.srcErr != nil {
		return fmt.Errorf("deflate: read payload: %w", f.srcErr)
	}
	if k == 0 || k == 1 && rest[0] == 0 {
		return nil
	}
	return fmt.Errorf("%w: data after final block", ErrCorrupt)
}
