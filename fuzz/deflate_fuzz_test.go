package fuzz

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/deflate/deflatetest"
)

// deflateParams unpacks the fuzzer's params word: window bits 8..15, level
// 1..9, context takeover, and a seed for cutting the input.
func deflateParams(p uint32) (bits int, level deflate.Level, takeover bool, seed uint64) {
	return 8 + int(p%8), deflate.Level(1 + (p>>3)%9), p>>7&1 == 0, uint64(p >> 8)
}

// FuzzCompressRoundTrip cuts the input into messages, compresses them with
// random window bits, level and context takeover, once whole and once in
// random chunks, and checks that both give the same bytes, that the strict
// inflater of deflatetest (which rejects any distance past the window)
// and compress/flate decode them to the input, and that the Decompressor
// does too.
func FuzzCompressRoundTrip(f *testing.F) {
	f.Add([]byte("Hello"), uint32(7))
	f.Add([]byte("HelloHelloHelloHello"), uint32(0x1234_0005))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 200), uint32(0xffff_ff00))
	f.Add(bytes.Repeat([]byte{0}, 1000), uint32(0x10))
	f.Add([]byte(`{"id":1,"user":"alice"}{"id":2,"user":"bob"}{"id":3,"user":"alice"}`), uint32(0xabc_0048))
	f.Fuzz(func(t *testing.T, data []byte, params uint32) {
		bits, level, takeover, seed := deflateParams(params)
		r := rand.New(rand.NewPCG(seed, 0))
		copts := deflate.CompressorOptions{Level: level, WindowBits: bits, NoContextTakeover: !takeover}
		whole, err := deflate.NewCompressor(copts)
		if err != nil {
			t.Fatal(err)
		}
		chunked, _ := deflate.NewCompressor(copts)
		dec, _ := deflate.NewDecompressor(deflate.DecompressorOptions{WindowBits: bits, NoContextTakeover: !takeover})
		check := deflatetest.Inflater{Window: 1 << bits, Takeover: takeover}

		var stream []byte // messages and tails, for one compress/flate reader
		var msgs [][]byte
		for rest := data; ; {
			n := r.IntN(len(rest) + 1)
			msg := rest[:n]
			rest = rest[n:]
			if r.IntN(4) == 0 {
				msg = append(msg[:n:n], msg...) // repeat, to refer back
			}
			z := whole.AppendMessage(nil, msg)
			var zc []byte
			for p := msg; len(p) > 0; {
				k := min(len(p), 1+r.IntN(3*len(p)/2+1))
				zc = chunked.AppendChunk(zc, p[:k])
				p = p[k:]
			}
			zc = chunked.AppendEnd(zc)
			if !bytes.Equal(z, zc) {
				t.Fatalf("message of %d bytes: chunked output % x, whole % x", len(msg), zc, z)
			}
			got, err := check.Message(z)
			if err != nil {
				t.Fatalf("message of %d bytes, window %d: deflatetest: %v", len(msg), 1<<bits, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("deflatetest decoded %q, want %q", got, msg)
			}
			if got, err := dec.AppendMessage(nil, z); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("Decompressor = %q, %v; want %q", got, err, msg)
			}
			if !takeover {
				fr := flate.NewReader(bytes.NewReader(append(z, 0x00, 0x00, 0xff, 0xff)))
				got, err := io.ReadAll(fr)
				if err != io.ErrUnexpectedEOF || !bytes.Equal(got, msg) {
					t.Fatalf("compress/flate = %q, %v; want %q, unexpected EOF", got, err, msg)
				}
			}
			stream = append(append(stream, z...), 0x00, 0x00, 0xff, 0xff)
			msgs = append(msgs, msg)
			if len(rest) == 0 {
				break
			}
		}
		if takeover {
			fr := flate.NewReader(bytes.NewReader(stream))
			for i, msg := range msgs {
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(fr, got); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("compress/flate, message %d: %q, %v; want %q", i, got, err, msg)
				}
			}
			if n, err := fr.Read(make([]byte, 1)); n != 0 || err != io.ErrUnexpectedEOF {
				t.Fatalf("compress/flate after the last message: %d, %v", n, err)
			}
		}
	})
}

// FuzzInflate feeds arbitrary bytes to a Decompressor with a small limit, as
// two messages (with context takeover) cut at a byte of the input: it must
// not panic or hang, must return at most the limit, and must fail only with
// ErrTooLarge or ErrCorrupt. What it accepts, compress/flate must decode to
// the same bytes.
func FuzzInflate(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, uint16(0))
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x00, 0x11, 0x00, 0x00}, uint16(7))
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, uint16(0))
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, uint16(0))
	f.Add([]byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}, uint16(0))
	f.Add([]byte{0x00}, uint16(0))
	f.Add([]byte{0x06, 0x00}, uint16(0))
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		d, err := deflate.NewDecompressor(deflate.DecompressorOptions{Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		k := int(cut) % (len(data) + 1)
		var history []byte // output so far, for compress/flate's dictionary
		for i, msg := range [][]byte{data[:k], data[k:]} {
			d.Start(iotest.HalfReader(bytes.NewReader(msg)))
			got, err := io.ReadAll(d)
			if len(got) > limit {
				t.Fatalf("message %d: %d bytes out, over the limit %d", i, len(got), limit)
			}
			if err != nil {
				if !errors.Is(err, deflate.ErrTooLarge) && !errors.Is(err, deflate.ErrCorrupt) {
					t.Fatalf("message %d: error %v is neither ErrTooLarge nor ErrCorrupt", i, err)
				}
				return
			}
			// What the Decompressor accepts, compress/flate decodes
			// the same way from the payload and tail.
			fr := flate.NewReaderDict(bytes.NewReader(append(msg[:len(msg):len(msg)], 0x00, 0x00, 0xff, 0xff)), history)
			want, ferr := io.ReadAll(fr)
			if ferr != nil && ferr != io.ErrUnexpectedEOF {
				t.Fatalf("message %d: Decompressor accepted % x as %q; compress/flate: %v", i, msg, got, ferr)
			}
			if !bytes.Equal(got, want) && len(msg) > 0 {
				t.Fatalf("message %d: Decompressor decoded % x to %q, compress/flate to %q", i, msg, got, want)
			}
			history = append(history, got...)
		}
	})
}
