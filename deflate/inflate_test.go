package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// errClass names the kind of a Decompressor error, for comparing two
// decompressors whose messages differ.
func errClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrTooLarge):
		return "too large"
	case errors.Is(err, ErrCorrupt):
		return "corrupt"
	default:
		return "other: " + err.Error()
	}
}

// readAllSmall reads a message from d through a buffer of size n.
func readAllSmall(d interface{ Read([]byte) (int, error) }, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, n)
	for range 1 << 26 {
		k, err := d.Read(buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
	return out, errors.New("no end")
}

// diffCase runs msgs through the Decompressor and the compress/flate one
// of flateref_test.go with options o, by AppendMessage and by Read through
// rd with a buffer of size bufSize, and fails on any difference: outputs
// equal where both succeed, errors of the same class.
func diffCase(t *testing.T, o DecompressorOptions, msgs [][]byte, rd func(io.Reader) io.Reader, bufSize int) {
	t.Helper()
	ours, err := NewDecompressor(o)
	if err != nil {
		t.Fatal(err)
	}
	oursR, _ := NewDecompressor(o)
	ref, _ := newRefDecompressor(o)
	for i, m := range msgs {
		want, werr := ref.AppendMessage(nil, m)
		got, gerr := ours.AppendMessage(nil, m)
		oursR.Start(rd(bytes.NewReader(m)))
		gotR, rerr := readAllSmall(oursR, bufSize)
		wc, gc, rc := errClass(werr), errClass(gerr), errClass(rerr)
		if gc != wc || rc != wc {
			t.Fatalf("message %d (%s), %+v: AppendMessage: %v; Read: %v; compress/flate: %v", i, hexBytes(m), o, gerr, rerr, werr)
		}
		if werr == nil && (!bytes.Equal(got, want) || !bytes.Equal(gotR, want)) {
			t.Fatalf("message %d (%s): AppendMessage %d bytes, Read %d bytes, compress/flate %d bytes (%q, %q, %q)",
				i, hexBytes(m), len(got), len(gotR), len(want), trim(got), trim(gotR), trim(want))
		}
		if o.Limit > 0 && (int64(len(got)) > o.Limit || int64(len(gotR)) > o.Limit) {
			t.Fatalf("message %d: %d and %d bytes out, over the limit %d", i, len(got), len(gotR), o.Limit)
		}
		if werr != nil {
			return
		}
	}
}

func trim(b []byte) []byte { return b[:min(len(b), 40)] }

// flateMessage compresses msg with compress/flate at level and a sync
// flush, without the tail: a peer's message, with stored, fixed and
// dynamic blocks in the ways zlib-like encoders write them.
func flateMessage(t testing.TB, w *flate.Writer, buf *bytes.Buffer, msg []byte) []byte {
	buf.Reset()
	w.Write(msg)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	return append([]byte(nil), b[:len(b)-4]...)
}

// TestInflateDifferential compares the Decompressor with compress/flate on
// chains of messages from this package's Compressor and from compress/flate,
// every window size, with and without context takeover, whole and through
// readers that cut the payload up, with tiny Read buffers, and on the same
// messages mutated (bits flipped, cut, bytes inserted).
func TestInflateDifferential(t *testing.T) {
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
	}
	r := rand.New(rand.NewPCG(17, 17))
	windows, mutations := []int{8, 9, 10, 11, 12, 13, 14, 15}, 20
	if raceEnabled || testing.Short() {
		windows, mutations = []int{8, 15}, 4
	}
	for _, bits := range windows {
		for _, takeover := range []bool{true, false} {
			for ri, rd := range readers {
				t.Run(fmt.Sprintf("bits%d/takeover=%v/%s", bits, takeover, rd.name), func(t *testing.T) {
					o := DecompressorOptions{WindowBits: bits, NoContextTakeover: !takeover}
					var chains [][][]byte
					for _, lvl := range []Level{LevelFast, LevelDefault, 9} {
						c := mustCompressor(t, CompressorOptions{Level: lvl, WindowBits: bits, NoContextTakeover: !takeover})
						var chain [][]byte
						for i, m := range messageChain(12, uint64(bits*10+ri), 3<<bits) {
							chain = append(chain, c.AppendMessage(nil, m))
							if i%5 == 4 {
								chain = append(chain, nil) // an empty message
							}
						}
						chains = append(chains, chain)
					}
					if bits == 15 {
						// compress/flate's writer uses the whole 32 KiB window.
						for _, lvl := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
							var buf bytes.Buffer
							w, _ := flate.NewWriter(&buf, lvl)
							var chain [][]byte
							for _, m := range messageChain(8, uint64(lvl+3), 70000) {
								chain = append(chain, flateMessage(t, w, &buf, m))
								if !takeover {
									w.Reset(&buf)
								}
							}
							chains = append(chains, chain)
						}
					}
					for _, chain := range chains {
						bufSize := 1 + r.IntN(300)
						diffCase(t, o, chain, rd.wrap, bufSize)
						o.Limit = int64(1 + r.IntN(5000))
						diffCase(t, o, chain, rd.wrap, bufSize)
						o.Limit = 0
						for range mutations {
							diffCase(t, o, mutate(r, chain), rd.wrap, bufSize)
						}
					}
				})
			}
		}
	}
}

// mutate returns chain with one message damaged: a bit flipped, the
// message cut short, or a byte inserted.
func mutate(r *rand.Rand, chain [][]byte) [][]byte {
	out := append([][]byte(nil), chain...)
	i := r.IntN(len(out))
	m := append([]byte(nil), out[i]...)
	if len(m) == 0 {
		m = []byte{byte(r.Uint32())}
	}
	switch k := r.IntN(len(m)); r.IntN(4) {
	case 0, 1:
		m[k] ^= 1 << r.IntN(8)
	case 2:
		m = m[:k]
	default:
		m = append(m[:k:k], append([]byte{byte(r.Uint32())}, m[k:]...)...)
	}
	out[i] = m
	return out[:i+1]
}

// TestInflateAdversarial compares the Decompressor with compress/flate on
// hand-made streams at the edges of RFC 1951: code sets that are
// incomplete, over-subscribed or degenerate, HLIT and HDIST past their
// limits, repeats at the start or past the end, the fixed code's unused
// symbols, and stored blocks.
func TestInflateAdversarial(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
	}{
		{"HLIT 287", dynBlock(lens287(), []uint8{1, 1}, nil)},
		{"HLIT 286", dynBlock(lens286(), []uint8{1, 1}, []int{'a', 257, 0})},
		{"HDIST 31", dynBlock(fixedLens(), append(make([]uint8, 29), 1, 1), nil)},
		{"HDIST 30", dynBlock(fixedLens(), append(make([]uint8, 28), 1, 1), nil)},
		{"no distance code", dynBlock(fixedLens(), []uint8{0}, nil)},
		{"no distance code, a match", dynBlock(fixedLens(), []uint8{0}, []int{'a', 257})},
		{"one distance code", dynBlock(fixedLens(), []uint8{1}, []int{'a', 257, 0})},
		{"one distance code, the missing one", dynBlock(fixedLens(), []uint8{1}, []int{'a', 257, -1})},
		{"incomplete literal code", dynBlock(append(fixedLens()[:285], 0), []uint8{1, 1}, nil)},
		{"over-subscribed distance code", dynBlock(fixedLens(), []uint8{1, 1, 1}, nil)},
		{"incomplete distance code", dynBlock(fixedLens(), []uint8{1, 2}, nil)},
		{"15-bit codes", dynBlock(longLens(), []uint8{1, 1}, []int{'a', 0, 255, 'z', 258, 1})},
		{"all code length codes zero", dynHeader(0, 0, 15, make([]uint8, 19))},
		{"one code length code of 1 bit", dynHeader(0, 0, 15, []uint8{0, 1})},
		{"fixed literal 286", fixedSyms(286)},
		{"fixed literal 287", fixedSyms(287)},
		{"fixed distance 30", fixedMatch(30)},
		{"fixed distance 31", fixedMatch(31)},
		{"stored empty then EOB-less end", []byte{0x00, 0x00, 0x00, 0xff, 0xff, 0x02}},
		{"final stored block", []byte{0x01, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c'}},
		{"final stored block then 00", []byte{0x01, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c', 0x00}},
		{"final stored block then 01", []byte{0x01, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c', 0x01}},
		{"final stored block into the tail", []byte{0x01, 0x03, 0x00, 0xfc, 0xff, 'a'}},
		{"stored block ending in the tail", []byte{0x00, 0x06, 0x00, 0xf9, 0xff, 'a', 'b'}},
		{"stored block, LEN in the tail", []byte{0x00, 0x00}},
		{"fixed block without flush", []byte{0x02, 0x00}},
		{"fixed block ending the payload", []byte{0x4a, 0x04, 0x00}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if raceEnabled || testing.Short() {
		n = 300
	}
	for i := range n {
		// Random dynamic headers: mostly invalid code sets.
		lens := make([]uint8, 19)
		for j := range lens {
			lens[j] = uint8(r.IntN(8))
		}
		body := make([]byte, 1+r.IntN(40))
		for j := range body {
			body[j] = byte(r.Uint32())
		}
		tests = append(tests, struct {
			name string
			msg  []byte
		}{fmt.Sprintf("random dynamic %d", i), append(dynHeader(r.IntN(32), r.IntN(32), r.IntN(16), lens), body...)})
	}
	for _, tt := range tests {
		for _, takeover := range []bool{true, false} {
			o := DecompressorOptions{NoContextTakeover: !takeover}
			chain := [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, tt.msg}
			diffCase(t, o, chain, iotest.OneByteReader, 3)
			diffCase(t, o, chain, func(r io.Reader) io.Reader { return r }, 1000)
		}
	}
}

// dynHeader starts a dynamic block with HLIT, HDIST and HCLEN as given and
// the code length code lengths cl (in codeLenOrder, padded with zeros).
func dynHeader(hlit, hdist, hclen int, cl []uint8) []byte {
	s := new(state)
	s.putBits(2<<1, 3)
	s.putBits(uint32(hlit), 5)
	s.putBits(uint32(hdist), 5)
	s.putBits(uint32(hclen), 4)
	for i := range hclen + 4 {
		v := uint8(0)
		if i < len(cl) {
			v = cl[i]
		}
		s.putBits(uint32(v), 3)
	}
	s.alignByte()
	return s.out
}

// fixedSyms is a fixed block coding one literal/length symbol sym (from
// 280 to 287, the 8-bit codes 11000000 and up), then an EOB and a flush.
func fixedSyms(sym int) []byte {
	s := new(state)
	s.putBits(1<<1, 3)
	s.putBits(uint32(reverseBits(0xc0+sym-280, 8)), 8)
	s.putBits(0, 7) // EOB
	s.putBits(0, 3)
	s.alignByte()
	return s.out
}

// fixedMatch is a fixed block with the literal 'a' and a match of length
// 3 (symbol 257) at distance code dc.
func fixedMatch(dc int) []byte {
	s := new(state)
	s.putBits(1<<1, 3)
	s.putBits(uint32(reverseBits(0x30+'a', 8)), 8)
	s.putBits(uint32(reverseBits(1, 7)), 7)
	s.putBits(uint32(reverseBits(dc, 5)), 5)
	s.putBits(0, 7)
	s.putBits(0, 3)
	s.alignByte()
	return s.out
}

func reverseBits(v, n int) int {
	r := 0
	for range n {
		r = r<<1 | v&1
		v >>= 1
	}
	return r
}

// FuzzDecompressDifferential compares the Decompressor with compress/flate
// (the Decompressor this package had before its own inflater) on arbitrary
// input cut into two messages, with window bits, context takeover, a limit
// and the size of Read's buffer from params: outputs equal and errors of
// the same class, by AppendMessage and by Read one byte of input at a time.
func FuzzDecompressDifferential(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x00, 0x11, 0x00, 0x00}, uint16(7), uint32(0))
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, uint16(0), uint32(1<<8))
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, uint16(0), uint32(3))
	f.Add([]byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}, uint16(3), uint32(0))
	f.Add([]byte{0x06, 0x00}, uint16(0), uint32(0))
	c := mustCompressor(f, CompressorOptions{})
	for i, m := range messageChain(3, 5, 3000) {
		f.Add(c.AppendMessage(nil, m), uint16(i*100), uint32(i))
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	f.Add(flateMessage(f, w, &buf, jsonData(5000, 3)), uint16(50), uint32(5<<16))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, params uint32) {
		o := DecompressorOptions{WindowBits: 8 + int(params%8), NoContextTakeover: params>>3&1 == 1}
		if params>>4&1 == 1 {
			o.Limit = int64(1 + params>>16%4096)
		}
		bufSize := 1 + int(params>>5&255)
		k := int(cut) % (len(data) + 1)
		diffCase(t, o, [][]byte{data[:k], data[k:]}, iotest.OneByteReader, bufSize)
	})
}

// dynBlock is a dynamic block with the literal/length and distance code
// lengths lits and dists (HLIT and HDIST from their sizes, which may be past
// the limits), the symbols syms (after a length symbol, the next is its
// distance code; -1 writes the one-bit code 1 of a single-code distance
// code), an EOB and a flush. The code lengths are sent with a code length
// code of 4 bits for each of 0 to 15, without repeats.
func dynBlock(lits, dists []uint8, syms []int) []byte {
	s := new(state)
	s.putBits(2<<1, 3)
	s.putBits(uint32(len(lits)-257), 5)
	s.putBits(uint32(len(dists)-1), 5)
	s.putBits(19-4, 4)
	for _, sym := range codeLenOrder {
		if sym < 16 {
			s.putBits(4, 3)
		} else {
			s.putBits(0, 3)
		}
	}
	for _, l := range append(append([]uint8(nil), lits...), dists...) {
		s.putBits(uint32(reverseBits(int(l), 4)), 4)
	}
	lc := make([]hcode, len(lits))
	canonicalCodes(lits, lc)
	dc := make([]hcode, len(dists))
	canonicalCodes(dists, dc)
	for i := 0; i < len(syms); i++ {
		c := lc[syms[i]]
		s.putBits(uint32(c.code), uint(c.len))
		if syms[i] > endOfBlock && i+1 < len(syms) {
			i++
			if syms[i] < 0 {
				s.putBits(1, 1)
				continue
			}
			c := dc[syms[i]]
			s.putBits(uint32(c.code), uint(c.len))
		}
	}
	if endOfBlock < len(lc) {
		s.putBits(uint32(lc[endOfBlock].code), uint(lc[endOfBlock].len))
	}
	s.putBits(0, 3)
	s.alignByte()
	return s.out
}

// fixedLens are the fixed code's lengths for symbols 0 to 285, but for
// 284 and 285 of 7 bits to make up for the unused 286 and 287.
func fixedLens() []uint8 {
	l := make([]uint8, 286)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280, i >= 284:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	return l
}

// lens286 is a complete code of 286 symbols: 226 of 8 bits, 60 of 9.
func lens286() []uint8 {
	l := lens287()[:286]
	l[225] = 8
	return l
}

// lens287 is a complete code of 287 symbols: 225 of 8 bits, 62 of 9.
func lens287() []uint8 {
	l := make([]uint8, 287)
	for i := range l {
		l[i] = 8
		if i >= 225 {
			l[i] = 9
		}
	}
	return l
}

// longLens is a complete code with lengths 1 to 15, the longest codes on
// literals: 'a' 1 bit, then one symbol per length down to two of 15 bits,
// the rest unused.
func longLens() []uint8 {
	l := make([]uint8, 286)
	order := []int{'a', endOfBlock, 258, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'z', 255}
	for i, sym := range order {
		l[sym] = uint8(i + 1)
	}
	l[257] = 15
	return l
}
