package deflate

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// The matcher works on a buffer holding up to a window of history followed
// by input. Hash table and chain entries are positions in a numbering that
// only grows (a buffer index plus base), so sliding the buffer or starting
// a new message never rewrites the tables. Every candidate is checked
// against the window and compared byte by byte, so a stale entry can cost
// time but never yields a wrong match.
const (
	hashBits = 15
	hashSize = 1 << hashBits

	// minLookahead is the input kept ahead of the position being matched
	// until the message ends: a longest match plus the bytes hashed.
	minLookahead = maxMatch + 4

	// bufSize holds a 32 KiB window, 32 KiB of new input and the lookahead.
	bufSize = 2*maxDistance + minLookahead

	// maxTokens bounds a block. Blocks also end where the buffer slides,
	// about every 32 KiB of input, so a block of stored bytes is rarely
	// shorter than that.
	maxTokens = 1 << 15

	// maxBase bounds the position numbering; past it the tables are cleared.
	maxBase = 1 << 30
)

// state is the per-message working memory of a [Compressor], pooled.
type state struct {
	cfg    *levelConfig
	window int

	buf        [bufSize]byte
	end        int   // bytes in buf
	pos        int   // next position to match
	histLen    int   // history bytes at the start of buf before the message
	hashed     bool  // history positions are in the hash tables
	blockStart int   // first byte of the pending block
	blockLen   int   // bytes covered by the pending tokens
	base       int32 // table position of buf[0]
	next       int32 // first table position unused by earlier messages

	// Lazy matching: a match of prevLen at pos-1 waits to be compared with
	// the match at pos; avail says buf[pos-1] is not yet coded.
	prevLen, prevDist int
	avail             bool
	// litRun counts literals since the last match, for the fast level.
	litRun int

	head [hashSize]int32
	prev [maxDistance]int32

	tokens   [maxTokens]uint32
	ntok     int
	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32

	out     []byte // the caller's dst, during a call
	reserve int    // bytes the next writeTokens grows out by, if not 0
	bits    uint64
	nbits   uint

	hs                       huffScratch
	litLens                  [numLitLen]uint8
	distLens                 [numDist]uint8
	clLens                   [numCodeLen]uint8
	litCodes                 [numLitLen]hcode
	distCodes                [numDist]hcode
	clCodes                  [numCodeLen]hcode
	clFreq                   [numCodeLen]uint32
	rle                      [numLitLen + numDist]uint16
	nrle, hlit, hdist, hclen int
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// init prepares s for a message whose history is hist.
func (s *state) init(cfg *levelConfig, window int, hist []byte) {
	s.cfg, s.window = cfg, window
	s.end = copy(s.buf[:], hist)
	s.pos, s.histLen, s.hashed = s.end, s.end, false
	s.blockStart, s.blockLen = s.end, 0
	if s.next > maxBase {
		clear(s.head[:])
		clear(s.prev[:])
		s.next = 0
	}
	s.base = s.next
	s.prevLen, s.prevDist, s.avail, s.litRun = 0, 0, false, 0
	s.ntok = 0
	clear(s.litFreq[:])
	clear(s.distFreq[:])
	s.bits, s.nbits = 0, 0
}

// release returns s to the pool. Positions of this message are kept out
// of the next one's reach by moving next a full window past them.
func (s *state) release() {
	s.next = s.base + int32(s.end) + maxDistance + 1
	s.out = nil
	statePool.Put(s)
}

// write adds p to the message. Matching happens only when the buffer is
// full, so the output does not depend on how the message is cut.
func (s *state) write(p []byte) {
	for len(p) > 0 {
		n := copy(s.buf[s.end:], p)
		s.end += n
		p = p[n:]
		if s.end == len(s.buf) {
			s.process(false)
			s.slide()
		}
	}
}

// slide drops the bytes no match can reach any more: it keeps one window
// before pos, buf[pos-1], which lazy matching may still code, and the
// pending block, which may yet be written as stored bytes. If the pending
// block would keep too much it is written first.
func (s *state) slide() {
	lo := max(0, min(s.pos-s.window-1, s.blockStart))
	if lo < len(s.buf)/4 {
		s.flushBlock()
		lo = max(0, s.pos-s.window-1)
	}
	if lo == 0 {
		return
	}
	copy(s.buf[:], s.buf[lo:s.end])
	s.end -= lo
	s.pos -= lo
	s.blockStart -= lo
	s.histLen = max(0, s.histLen-lo)
	s.base += int32(lo)
	if s.base > maxBase {
		clear(s.head[:])
		clear(s.prev[:])
		s.base = 0
	}
}

// process matches the buffered input, keeping minLookahead bytes back
// unless the message ends.
func (s *state) process(final bool) {
	limit := s.end
	if !final {
		limit -= minLookahead
	}
	if !s.hashed {
		s.hashed = true
		s.insertHistory()
	}
	if s.cfg.fast {
		s.matchFast(limit)
	} else {
		s.matchLazy(limit)
	}
	if final && s.avail {
		s.literal(s.buf[s.pos-1])
		s.avail = false
	}
}

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }

func hash4(u uint32) uint32 { return (u * 0x1e35a7bd) >> (32 - hashBits) }

// insertHistory puts the history into the hash tables before the first
// match of a message. Hashing a whole 32 KiB window costs far more than
// compressing a short message, so a level may hash only the history
// nearest the message, in proportion to the input at hand. That input is
// the whole message, or a full buffer for a long one, so the choice does
// not depend on how the message is cut into chunks.
func (s *state) insertHistory() {
	depth := s.histLen
	if c := s.cfg; c.histPer > 0 {
		depth = min(depth, max(c.histMin, c.histPer*(s.end-s.histLen)))
	}
	to := min(s.histLen, s.end-3)
	from := min(s.histLen-depth, to)
	if s.cfg.fast {
		s.insertHeads(from, to)
	} else {
		s.insertRange(from, to)
	}
}

// insertRange adds the positions from..to-1 to the hash chains; each needs
// four bytes of input.
func (s *state) insertRange(from, to int) {
	if from >= to {
		return
	}
	buf := s.buf[:to+3]
	p := s.base + int32(from)
	for i := from; i < to; i++ {
		h := hash4(load32(buf, i))
		s.prev[p&(maxDistance-1)] = s.head[h]
		s.head[h] = p
		p++
	}
}

// insertHeads adds the positions from..to-1 to the hash table only, for
// the fast level, which keeps no chains.
func (s *state) insertHeads(from, to int) {
	if from >= to {
		return
	}
	buf := s.buf[:to+3]
	p := s.base + int32(from)
	for i := from; i < to; i++ {
		s.head[hash4(load32(buf, i))] = p
		p++
	}
}

func (s *state) literal(b byte) {
	s.tokens[s.ntok] = uint32(b)
	s.ntok++
	s.litFreq[b]++
	s.blockLen++
}

// match codes a match of length n at distance d; the caller has checked
// 3 <= n <= 258 and 1 <= d <= window.
func (s *state) match(n, d int) {
	s.matchAfter(0, n, d)
}

// matchAfter codes the k literals before the match (k <= maxRunIn), whose
// frequencies the caller has counted, in the match's token, then the match
// of length n at distance d.
func (s *state) matchAfter(k, n, d int) {
	l, t := uint8(n-minMatch), uint32(d-1)
	s.tokens[s.ntok] = matchFlag | uint32(k)<<23 | uint32(l)<<15 | t
	s.ntok++
	s.litFreq[firstLenSym+int(lenCode[l])]++
	s.distFreq[distCode(t)]++
	s.blockLen += k + n
}

// matchLen returns the length of the common prefix of a and b, where
// len(a) >= len(b).
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 {
		x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// literals codes buf[from:to] as one token, so the matcher stores nothing
// per literal but its frequency, which the caller has counted.
func (s *state) literals(from, to int) {
	if from >= to {
		return
	}
	s.tokens[s.ntok] = runFlag | uint32(to-from)
	s.ntok++
	s.blockLen += to - from
}

// matchFast is the fast level: greedy matching with one probe of a hash
// table per position and no chains. After 32 literals in a row it tries
// every second position, then every third and so on, so incompressible
// input costs little. Literals between matches become one token.
func (s *state) matchFast(limit int) {
	buf := s.buf[:s.end]
	w := int32(s.window)
	base := s.base
	pos := s.pos
	emit := pos                       // first byte not yet in a token
	runFrom, runPrev := pos, s.litRun // literals since the last match: runPrev+pos-runFrom
	// The last position with four bytes to hash and compare.
	stop := min(limit, len(buf)-3)
	for pos < stop {
		if s.ntok > maxTokens-4 {
			s.literals(emit, pos)
			emit = pos
			s.flushBlock()
		}
		cur := load32(buf, pos)
		h := hash4(cur)
		p := base + int32(pos)
		cand := s.head[h]
		s.head[h] = p
		if d := p - cand; uint32(d-1) < uint32(w) && cand >= base {
			ci := int(cand - base)
			if load32(buf, ci) == cur {
				n := 4 + matchLen(buf[ci+4:], buf[pos+4:min(pos+maxMatch, len(buf))])
				if pos-emit > maxRunIn {
					s.literals(emit, pos)
					emit = pos
				}
				// s.matchAfter(pos-emit, n, int(d)), written out since
				// it is too big to be inlined.
				l, t := uint8(n-minMatch), uint32(d-1)
				s.tokens[s.ntok] = matchFlag | uint32(pos-emit)<<23 | uint32(l)<<15 | t
				s.ntok++
				s.litFreq[firstLenSym+int(lenCode[l])]++
				s.distFreq[distCode(t)]++
				s.blockLen += pos - emit + n
				pos += n
				emit, runFrom, runPrev = pos, pos, 0
				if e := pos - 1; e+4 <= len(buf) {
					s.head[hash4(load32(buf, e))] = base + int32(e)
				}
				continue
			}
		}
		// Literals are counted as the matcher passes them.
		if step := min(1+(runPrev+pos-runFrom)>>5, 32, stop-pos); step == 1 {
			s.litFreq[buf[pos]]++
			pos++
		} else {
			for _, b := range buf[pos : pos+step] {
				s.litFreq[b]++
			}
			pos += step
		}
	}
	if pos < limit {
		// The last bytes of the message, too few to match.
		for _, b := range buf[pos:limit] {
			s.litFreq[b]++
		}
		pos = limit
	}
	s.literals(emit, pos)
	s.litRun = runPrev + max(0, pos-runFrom)
	s.pos = pos
}

// matchLazy is hash-chain matching with lazy evaluation: a match found at
// pos-1 is coded only if the match at pos is no longer.
func (s *state) matchLazy(limit int) {
	buf := s.buf[:s.end]
	cfg := s.cfg
	for s.pos < limit {
		if s.ntok > maxTokens-4 {
			s.flushBlock()
		}
		pos := s.pos
		curLen, curDist := 0, 0
		if pos+4 <= len(buf) {
			p := s.base + int32(pos)
			h := hash4(load32(buf, pos))
			cand := s.head[h]
			s.head[h] = p
			s.prev[p&(maxDistance-1)] = cand
			if s.prevLen < cfg.lazy {
				curLen, curDist = s.findMatch(pos, cand)
			}
		}
		if s.prevLen >= 4 && curLen <= s.prevLen {
			s.match(s.prevLen, s.prevDist)
			end := pos - 1 + s.prevLen
			s.insertRange(pos+1, min(end, len(buf)-3))
			s.pos = end
			s.prevLen, s.avail = 0, false
			continue
		}
		if s.avail {
			s.literal(buf[pos-1])
		}
		s.avail = true
		s.prevLen, s.prevDist = curLen, curDist
		s.pos = pos + 1
	}
}

// findMatch walks the hash chain from cand for the longest match at pos
// that beats prevLen, and returns its length and distance, or zeros.
func (s *state) findMatch(pos int, cand int32) (length, dist int) {
	buf := s.buf[:s.end]
	maxLen := min(maxMatch, len(buf)-pos)
	best := max(s.prevLen, minMatch)
	if maxLen <= best {
		return 0, 0
	}
	cfg := s.cfg
	chain := cfg.chain
	if s.prevLen >= cfg.good {
		chain >>= 2
	}
	nice := min(cfg.nice, maxLen)
	p := s.base + int32(pos)
	lowest := max(s.base, p-int32(s.window))
	win := buf[pos : pos+maxLen]
	first := load32(win, 0)
	for cand >= lowest && cand < p {
		ci := int(cand - s.base)
		if buf[ci+best] == win[best] && load32(buf, ci) == first {
			if n := 4 + matchLen(buf[ci+4:], win[4:]); n > best {
				best, dist = n, pos-ci
				if n >= nice {
					break
				}
			}
		}
		if chain--; chain == 0 {
			break
		}
		next := s.prev[cand&(maxDistance-1)]
		if next >= cand {
			break
		}
		cand = next
	}
	if dist == 0 {
		return 0, 0
	}
	return best, dist
}
