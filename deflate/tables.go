package deflate

// Alphabet sizes and limits from RFC 1951, Section 3.2.5 and 3.2.7.
const (
	minMatch    = 3   // shortest match DEFLATE can code
	maxMatch    = 258 // longest match DEFLATE can code
	maxDistance = 1 << 15

	numLitLen   = 286 // literal/length codes 0..285 (286 and 287 never occur)
	numDist     = 30  // distance codes 0..29
	numCodeLen  = 19  // code length codes 0..18
	endOfBlock  = 256
	firstLenSym = 257

	maxCodeBits    = 15 // longest lit/len or distance code
	maxCodeLenBits = 7  // longest code length code
)

// Length and distance code tables, RFC 1951, Section 3.2.5:
//
//	     Extra               Extra               Extra
//	Code Bits Length(s) Code Bits Lengths   Code Bits Length(s)
//	---- ---- ------     ---- ---- -------   ---- ---- -------
//	 257   0     3       267   1   15,16     277   4   67-82
//	 ...
//	 265   1   11,12     275   3   51-58     285   0    258
var (
	lenBase   [29]uint16
	lenExtra  [29]uint8
	distBase  [numDist]uint16
	distExtra [numDist]uint8

	// lenInfo maps length-3 to its length code index, the number of extra
	// bits and their value: index | bits<<8 | value<<16.
	lenInfo [256]uint32
	// distInfo holds, for each distance code, its base distance minus one
	// and the number of extra bits: base-1 | bits<<16.
	distInfo [numDist]uint32

	// lenCode maps length-3 to a length code index (0..28; symbol 257+index).
	lenCode [256]uint8
	// distCodeTab maps distance-1 to a distance code: entries 0..255 directly,
	// entries 256..511 by (distance-1)>>7.
	distCodeTab [512]uint8

	// codeLenOrder is the order code length code lengths are sent in,
	// RFC 1951, Section 3.2.7.
	codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	// Fixed Huffman codes, RFC 1951, Section 3.2.6.
	fixedLit  [numLitLen]hcode
	fixedDist [numDist]hcode
)

// fixedLitLens are the code lengths of the fixed literal/length code, RFC
// 1951, Section 3.2.6. (A variable, so that the init functions of every
// file see it set.)
var fixedLitLens = func() (lens [288]uint8) {
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	return lens
}()

func init() {
	base := 3
	for i := range 28 {
		e := 0
		if i >= 8 {
			e = (i - 4) / 4
		}
		lenBase[i], lenExtra[i] = uint16(base), uint8(e)
		for k := range 1 << e {
			lenCode[base-3+k] = uint8(i)
		}
		base += 1 << e
	}
	// "285 0 258": a length of 258 uses its own code, not 284 plus extra bits.
	lenBase[28], lenExtra[28] = 258, 0
	lenCode[255] = 28
	for l := range lenInfo {
		c := lenCode[l]
		lenInfo[l] = uint32(c) | uint32(lenExtra[c])<<8 | uint32(l+3-int(lenBase[c]))<<16
	}

	base = 1
	for i := range numDist {
		e := 0
		if i >= 4 {
			e = (i - 2) / 2
		}
		distBase[i], distExtra[i] = uint16(base), uint8(e)
		distInfo[i] = uint32(base-1) | uint32(e)<<16
		for k := range 1 << e {
			d := base - 1 + k
			if d < 256 {
				distCodeTab[d] = uint8(i)
			} else {
				distCodeTab[256+d>>7] = uint8(i)
			}
		}
		base += 1 << e
	}

	lens := fixedLitLens
	var all [288]hcode
	canonicalCodes(lens[:], all[:])
	copy(fixedLit[:], all[:numLitLen])
	var dl [numDist]uint8
	for i := range dl {
		dl[i] = 5
	}
	canonicalCodes(dl[:], fixedDist[:])
}

// distCode returns the distance code for a distance of d+1. It computes
// the table index without a branch, since distances come in no order a
// branch predictor could learn: far is 1 for d >= 256 (d is under 1<<15).
func distCode(d uint32) uint32 {
	far := (255 - d) >> 31
	return uint32(distCodeTab[(d>>(7*far)+256*far)&511])
}
