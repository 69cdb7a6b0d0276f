// Package deflatetest checks DEFLATE streams for tests: Inflater is a small,
// strict RFC 1951 decoder that rejects any reference further back than a
// given window or before the start of the history it was given.
//
// deflatetest is slow and simple on purpose; it is a reference for tests and
// fuzzing, not a decoder for production. It does no I/O.
package deflatetest

import (
	"errors"
	"fmt"
)

// Stats counts what an [Inflater] has decoded.
type Stats struct {
	// Blocks counts blocks by type: stored, fixed and dynamic Huffman.
	Blocks [3]int
	// Matches counts back references.
	Matches int
	// MaxDistance is the longest distance seen.
	MaxDistance int
	// HistoryRefs counts references reaching into earlier messages.
	HistoryRefs int
}

// Inflater decodes permessage-deflate messages (RFC 7692, Section 7.2.2)
// with a window of Window bytes, keeping the last Window bytes of output
// as history for the next message when Takeover is set.
type Inflater struct {
	Window   int
	Takeover bool
	Stats    Stats
	hist     []byte
}

// ErrWindow reports a reference further back than the window or before
// the start of the history.
var ErrWindow = errors.New("deflatetest: distance beyond window")

// tail is appended to each message, RFC 7692, Section 7.2.2.
var tail = []byte{0x00, 0x00, 0xff, 0xff}

// Message decodes one message, msg without its 00 00 ff ff tail, and
// returns the output. The decoded blocks, plus the tail, must end exactly
// at the end of the input, or with a final block followed by nothing but
// an optional 00 byte (RFC 7692, Section 7.2.3.4).
func (f *Inflater) Message(msg []byte) ([]byte, error) {
	in := make([]byte, 0, len(msg)+len(tail))
	in = append(append(in, msg...), tail...)
	if !f.Takeover {
		f.hist = f.hist[:0]
	}
	d := decoder{in: in, out: append([]byte(nil), f.hist...), start: len(f.hist), window: f.Window, stats: &f.Stats}
	if err := d.run(); err != nil {
		return nil, err
	}
	out := d.out[d.start:]
	if f.Takeover {
		f.hist = append(f.hist[:0], d.out[max(0, len(d.out)-f.Window):]...)
	}
	return out, nil
}

type decoder struct {
	in     []byte
	pos    int // next byte of in
	bitBuf uint32
	bitCnt uint
	out    []byte
	start  int // history bytes at the start of out
	window int
	stats  *Stats
}

var errEOF = errors.New("deflatetest: unexpected end of input")

func (d *decoder) bits(n uint) (int, error) {
	for d.bitCnt < n {
		if d.pos >= len(d.in) {
			return 0, errEOF
		}
		d.bitBuf |= uint32(d.in[d.pos]) << d.bitCnt
		d.pos++
		d.bitCnt += 8
	}
	v := d.bitBuf & (1<<n - 1)
	d.bitBuf >>= n
	d.bitCnt -= n
	return int(v), nil
}

func (d *decoder) run() error {
	for d.pos < len(d.in) {
		final, err := d.bits(1)
		if err != nil {
			return err
		}
		typ, err := d.bits(2)
		if err != nil {
			return err
		}
		switch typ {
		case 0:
			err = d.stored()
		case 1:
			err = d.codes(&fixedLit, &fixedDist)
		case 2:
			var lit, dist huffman
			if err = d.dynamic(&lit, &dist); err == nil {
				err = d.codes(&lit, &dist)
			}
		default:
			err = errors.New("deflatetest: reserved block type 11")
		}
		if err != nil {
			return err
		}
		d.stats.Blocks[typ]++
		if final == 1 {
			// RFC 7692, Section 7.2.3.4: a final block may be followed by
			// one 00 byte so the appended tail still makes an empty
			// stored block.
			rest := d.in[d.pos : len(d.in)-len(tail)]
			if d.pos > len(d.in)-len(tail) || !(len(rest) == 0 || len(rest) == 1 && rest[0] == 0) {
				return errors.New("deflatetest: data after final block")
			}
			return nil
		}
	}
	if d.bitCnt != 0 {
		return errors.New("deflatetest: message does not end on a block boundary")
	}
	return nil
}

func (d *decoder) stored() error {
	d.bitBuf, d.bitCnt = 0, 0 // skip to a byte boundary
	if len(d.in)-d.pos < 4 {
		return errEOF
	}
	n := int(d.in[d.pos]) | int(d.in[d.pos+1])<<8
	nn := int(d.in[d.pos+2]) | int(d.in[d.pos+3])<<8
	d.pos += 4
	if n != ^nn&0xffff {
		return errors.New("deflatetest: stored block LEN and NLEN disagree")
	}
	if len(d.in)-d.pos < n {
		return errEOF
	}
	d.out = append(d.out, d.in[d.pos:d.pos+n]...)
	d.pos += n
	return nil
}

// huffman is a canonical code as counts per length and symbols in code
// order, decoded one bit at a time.
type huffman struct {
	count  [16]int
	symbol [288]int
}

// build makes h from lengths, rejecting over-subscribed and incomplete
// codes (the compressor under test always makes complete ones), except a
// code of one symbol, or none, for distances.
func (h *huffman) build(lens []int, distances bool) error {
	*h = huffman{}
	for _, l := range lens {
		h.count[l]++
	}
	used := len(lens) - h.count[0]
	left := 1
	for l := 1; l <= 15; l++ {
		left <<= 1
		left -= h.count[l]
		if left < 0 {
			return errors.New("deflatetest: over-subscribed code")
		}
	}
	if left > 0 && !(distances && used <= 1) {
		return fmt.Errorf("deflatetest: incomplete code (%d of %d symbols used)", used, len(lens))
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lens {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return nil
}

func (d *decoder) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= 15; l++ {
		b, err := d.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+code-first], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("deflatetest: invalid Huffman code")
}

var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	fixedLit, fixedDist huffman
)

func init() {
	var l [288]int
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	if err := fixedLit.build(l[:], false); err != nil {
		panic(err)
	}
	var dl [30]int
	for i := range dl {
		dl[i] = 5
	}
	// 30 codes of 5 bits leave two unused; RFC 1951 counts 30 and 31 in
	// the fixed code, so build with 32 lengths.
	dl32 := append(dl[:], 5, 5)
	if err := fixedDist.build(dl32, false); err != nil {
		panic(err)
	}
}

var codeLenOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (d *decoder) dynamic(lit, dist *huffman) error {
	hlit, err := d.bits(5)
	if err != nil {
		return err
	}
	hdist, err := d.bits(5)
	if err != nil {
		return err
	}
	hclen, err := d.bits(4)
	if err != nil {
		return err
	}
	hlit += 257
	hdist++
	hclen += 4
	if hlit > 286 || hdist > 30 {
		return errors.New("deflatetest: too many length or distance codes")
	}
	var cl [19]int
	for _, i := range codeLenOrder[:hclen] {
		if cl[i], err = d.bits(3); err != nil {
			return err
		}
	}
	var clh huffman
	if err := clh.build(cl[:], false); err != nil {
		return fmt.Errorf("code length code: %w", err)
	}
	lens := make([]int, hlit+hdist)
	for i := 0; i < len(lens); {
		sym, err := d.decode(&clh)
		if err != nil {
			return err
		}
		if sym < 16 {
			lens[i] = sym
			i++
			continue
		}
		var v, n int
		switch sym {
		case 16:
			if i == 0 {
				return errors.New("deflatetest: repeat with no previous length")
			}
			v = lens[i-1]
			n, err = d.bits(2)
			n += 3
		case 17:
			n, err = d.bits(3)
			n += 3
		default:
			n, err = d.bits(7)
			n += 11
		}
		if err != nil {
			return err
		}
		if i+n > len(lens) {
			return errors.New("deflatetest: code lengths overrun")
		}
		for ; n > 0; n-- {
			lens[i] = v
			i++
		}
	}
	if lens[256] == 0 {
		return errors.New("deflatetest: no end-of-block code")
	}
	if err := lit.build(lens[:hlit], false); err != nil {
		return fmt.Errorf("literal/length code: %w", err)
	}
	if err := dist.build(lens[hlit:], true); err != nil {
		return fmt.Errorf("distance code: %w", err)
	}
	return nil
}

func (d *decoder) codes(lit, dist *huffman) error {
	for {
		sym, err := d.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			d.out = append(d.out, byte(sym))
			continue
		case sym == 256:
			return nil
		case sym > 285:
			return fmt.Errorf("deflatetest: invalid length symbol %d", sym)
		}
		sym -= 257
		e, err := d.bits(lenExtra[sym])
		if err != nil {
			return err
		}
		n := lenBase[sym] + e
		ds, err := d.decode(dist)
		if err != nil {
			return err
		}
		if ds > 29 {
			return fmt.Errorf("deflatetest: invalid distance symbol %d", ds)
		}
		e, err = d.bits(distExtra[ds])
		if err != nil {
			return err
		}
		dd := distBase[ds] + e
		if dd > d.window {
			return fmt.Errorf("%w: distance %d, window %d", ErrWindow, dd, d.window)
		}
		if dd > len(d.out) {
			return fmt.Errorf("%w: distance %d, only %d bytes of history", ErrWindow, dd, len(d.out))
		}
		if dd > len(d.out)-d.start {
			d.stats.HistoryRefs++
		}
		d.stats.Matches++
		d.stats.MaxDistance = max(d.stats.MaxDistance, dd)
		for i := len(d.out) - dd; n > 0; n-- {
			d.out = append(d.out, d.out[i])
			i++
		}
	}
}
