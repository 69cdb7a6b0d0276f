package deflate

import (
	"encoding/binary"
	"slices"
)

// This file writes DEFLATE blocks (RFC 1951, Section 3.2.3 to 3.2.7) from
// the tokens gathered by the matcher. Every block is written with BFINAL
// set to 0, since a permessage-deflate stream never ends.

// Tokens pack a literal byte as its value, a run of n literals (the block's
// next n bytes, which the writer reads from the buffer) as runFlag | n, and
// a match as matchFlag | k<<23 | (length-3)<<15 | (distance-1), where the
// match follows k literals (k < 256), so text needs about one token per
// match and the writer seldom has to guess what comes next.
const (
	runFlag   = 1 << 30
	matchFlag = 1 << 31
	maxRunIn  = 255 // most literals a match token carries
)

// putBits adds the low n bits of v to the bit buffer, RFC 1951, Section
// 3.1.1: "Data elements are packed into bytes in order of increasing bit
// number within the byte". n is at most 32 with the buffer under 32 bits.
func (s *state) putBits(v uint32, n uint) {
	s.bits |= uint64(v) << s.nbits
	s.nbits += n
	if s.nbits >= 32 {
		s.out = binary.LittleEndian.AppendUint32(s.out, uint32(s.bits))
		s.bits >>= 32
		s.nbits -= 32
	}
}

// alignByte flushes the bit buffer to whole bytes, padding with zero bits.
func (s *state) alignByte() {
	for range (s.nbits + 7) / 8 {
		s.out = append(s.out, byte(s.bits))
		s.bits >>= 8
	}
	s.bits, s.nbits = 0, 0
}

// flushBlock writes the pending tokens as one block, choosing the cheapest
// of a stored, fixed-Huffman or dynamic-Huffman block.
func (s *state) flushBlock() {
	if s.ntok == 0 {
		return
	}
	data := s.buf[s.blockStart : s.blockStart+s.blockLen]
	s.litFreq[endOfBlock] = 1

	// Bits every Huffman block spends on length and distance extra bits.
	extra := 0
	for i, e := range lenExtra {
		extra += int(s.litFreq[firstLenSym+i]) * int(e)
	}
	for i, e := range distExtra {
		extra += int(s.distFreq[i]) * int(e)
	}

	fixedBits := 3 + extra
	for i, f := range s.litFreq {
		fixedBits += int(f) * int(fixedLit[i].len)
	}
	for _, f := range s.distFreq {
		fixedBits += int(f) * 5
	}

	dynBits := 3 + extra + s.buildDynamic()

	// A stored block: 3 header bits, padding to a byte, then LEN and NLEN
	// and the bytes, in pieces of at most 65535 bytes.
	pieces := max(1, (len(data)+65534)/65535)
	pad := (8 - (s.nbits+3)%8) % 8
	storedBits := 3 + int(pad) + 32 + (pieces-1)*(3+5+32) + 8*len(data)

	switch {
	case storedBits <= fixedBits && storedBits <= dynBits:
		s.writeStored(data)
	case fixedBits <= dynBits:
		s.reserve = fixedBits/8 + 16
		s.putBits(1<<1, 3) // BFINAL 0, BTYPE 01
		s.writeTokens(&fixedLit, &fixedDist)
	default:
		s.reserve = dynBits/8 + 16
		s.writeDynamicHeader()
		s.writeTokens(&s.litCodes, &s.distCodes)
	}

	clear(s.litFreq[:])
	clear(s.distFreq[:])
	s.ntok = 0
	s.blockStart += s.blockLen
	s.blockLen = 0
}

// writeStored writes data as stored blocks, RFC 1951, Section 3.2.4.
func (s *state) writeStored(data []byte) {
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), 65535)
		s.putBits(0, 3) // BFINAL 0, BTYPE 00
		s.alignByte()
		s.out = append(s.out, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		s.out = append(s.out, data[:n]...)
		data = data[n:]
	}
}

// buildDynamic builds the dynamic codes for the pending block and the
// run-length coded code lengths that describe them, and returns the size in
// bits of the header (without the 3 block header bits) plus the coded
// symbols (without extra bits).
func (s *state) buildDynamic() int {
	buildLengths(&s.hs, s.litFreq[:], s.litLens[:], maxCodeBits)
	assignCodes(s.litLens[:], s.litCodes[:], &s.hs.blCount)
	size := s.hs.bits
	buildLengths(&s.hs, s.distFreq[:], s.distLens[:], maxCodeBits)
	assignCodes(s.distLens[:], s.distCodes[:], &s.hs.blCount)
	size += s.hs.bits

	s.hlit = numLitLen
	for s.hlit > firstLenSym && s.litLens[s.hlit-1] == 0 {
		s.hlit--
	}
	s.hdist = numDist
	for s.hdist > 1 && s.distLens[s.hdist-1] == 0 {
		s.hdist--
	}

	// RFC 1951, Section 3.2.7: the code lengths of HLIT and HDIST form one
	// sequence, run-length coded with 16 (repeat previous 3-6 times),
	// 17 (3-10 zeros) and 18 (11-138 zeros).
	var seq [numLitLen + numDist]uint8
	n := copy(seq[:], s.litLens[:s.hlit])
	n += copy(seq[n:], s.distLens[:s.hdist])
	clear(s.clFreq[:])
	s.nrle = 0
	emit := func(sym, extra uint16) {
		s.rle[s.nrle] = sym | extra<<5
		s.nrle++
		s.clFreq[sym]++
	}
	for i := 0; i < n; {
		l := seq[i]
		run := 1
		for i+run < n && seq[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				emit(18, uint16(r-11))
				run -= r
			}
			if run >= 3 {
				emit(17, uint16(run-3))
				run = 0
			}
		} else {
			emit(uint16(l), 0)
			run--
			for run >= 3 {
				r := min(run, 6)
				emit(16, uint16(r-3))
				run -= r
			}
		}
		for ; run > 0; run-- {
			emit(uint16(l), 0)
		}
	}
	buildLengths(&s.hs, s.clFreq[:], s.clLens[:], maxCodeLenBits)
	assignCodes(s.clLens[:], s.clCodes[:], &s.hs.blCount)
	size += s.hs.bits
	s.hclen = numCodeLen
	for s.hclen > 4 && s.clLens[codeLenOrder[s.hclen-1]] == 0 {
		s.hclen--
	}

	size += 5 + 5 + 4 + 3*s.hclen
	size += int(s.clFreq[16])*2 + int(s.clFreq[17])*3 + int(s.clFreq[18])*7
	return size
}

// codeLenExtra is the number of extra bits after code length codes 16..18.
var codeLenExtra = [3]uint{2, 3, 7}

// writeDynamicHeader writes the header of a dynamic block whose codes
// buildDynamic made, RFC 1951, Section 3.2.7.
func (s *state) writeDynamicHeader() {
	s.putBits(2<<1, 3) // BFINAL 0, BTYPE 10
	s.putBits(uint32(s.hlit-firstLenSym), 5)
	s.putBits(uint32(s.hdist-1), 5)
	s.putBits(uint32(s.hclen-4), 4)
	for _, sym := range codeLenOrder[:s.hclen] {
		s.putBits(uint32(s.clLens[sym]), 3)
	}
	for _, r := range s.rle[:s.nrle] {
		sym := r & 31
		c := s.clCodes[sym]
		s.putBits(uint32(c.code), uint(c.len))
		if sym >= 16 {
			s.putBits(uint32(r>>5), codeLenExtra[sym-16])
		}
	}
}

// writeTokens writes the pending tokens and the end of block code. Bits are
// gathered in a 64-bit word that is stored whole after each token, and the
// output advances by the whole bytes in it. s.out is grown once, by
// s.reserve bytes, the block's size plus 16, which flushBlock knows
// exactly; without it, by a bound on any block of these tokens (15 bits a
// literal, 48 a match).
func (s *state) writeTokens(lit *[numLitLen]hcode, dist *[numDist]hcode) {
	data := s.buf[s.blockStart : s.blockStart+s.blockLen]
	reserve := s.reserve
	if reserve == 0 {
		reserve = 2*len(data) + 6*s.ntok + 16
	}
	s.reserve = 0
	s.out = slices.Grow(s.out, reserve)
	bits, nbits := s.bits, s.nbits
	n := len(s.out)
	out := s.out[:cap(s.out)]
	// flush leaves fewer than 8 bits pending; a token adds at most 48
	// (a match: 15 + 5 length bits, 15 + 13 distance bits).
	flush := func() {
		binary.LittleEndian.PutUint64(out[n:], bits)
		n += int(nbits >> 3)
		bits >>= nbits &^ 7
		nbits &= 7
	}
	flush()
	i := 0 // data[i] is the next byte to code
	for _, t := range s.tokens[:s.ntok] {
		var k int // literals to code from data[i:]
		switch {
		case t < runFlag:
			c := lit[t]
			bits |= uint64(c.code) << nbits
			nbits += uint(c.len)
			i++
			flush()
			continue
		case t < matchFlag:
			k = int(t & (runFlag - 1))
		default:
			k = int(t >> 23 & maxRunIn)
		}
		if k > 0 {
			run := data[i : i+k]
			i += k
			// Three literals add at most 45 bits.
			for len(run) >= 3 {
				c := lit[run[0]]
				bits |= uint64(c.code) << nbits
				nbits += uint(c.len)
				c = lit[run[1]]
				bits |= uint64(c.code) << nbits
				nbits += uint(c.len)
				c = lit[run[2]]
				bits |= uint64(c.code) << nbits
				nbits += uint(c.len)
				run = run[3:]
				flush()
			}
			for _, b := range run {
				c := lit[b]
				bits |= uint64(c.code) << nbits
				nbits += uint(c.len)
			}
			flush()
		}
		if t < matchFlag {
			continue
		}
		// The length code, its extra bits, the distance code and its
		// extra bits are put together first, so only one shift and one
		// add wait for the bits before them.
		l := (t >> 15) & 0xff
		li := lenInfo[l]
		lc := lit[firstLenSym+li&0xff]
		d := t & 0x7fff
		dc := distCode(d)
		di := distInfo[dc]
		c := dist[dc]
		v := uint64(lc.code) | uint64(li>>16)<<lc.len
		vn := uint(lc.len) + uint(li>>8&0xff)
		v |= (uint64(c.code) | uint64(d-di&0xffff)<<c.len) << vn
		vn += uint(c.len) + uint(di>>16)
		bits |= v << nbits
		nbits += vn
		i += int(l) + minMatch
		flush()
	}
	s.bits, s.nbits, s.out = bits, nbits, out[:n]
	c := lit[endOfBlock]
	s.putBits(uint32(c.code), uint(c.len))
}
