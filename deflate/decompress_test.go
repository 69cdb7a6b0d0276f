package deflate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func mustDecompressor(t testing.TB, o DecompressorOptions) *Decompressor {
	t.Helper()
	d, err := NewDecompressor(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDecompressGolden decodes the examples of RFC 7692, Section 7.2.3.
func TestDecompressGolden(t *testing.T) {
	tests := []struct {
		name string
		msgs [][]byte
		want []string
	}{
		{"7.2.3.1 hello", [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}, []string{"Hello"}},
		{
			"7.2.3.2 sharing LZ77 sliding window",
			[][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x00}},
			[]string{"Hello", "Hello"},
		},
		{"7.2.3.3 no compression", [][]byte{{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}, []string{"Hello"}},
		{"7.2.3.4 BFINAL set", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}, []string{"Hello"}},
		{"BFINAL set without 00", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}, []string{"Hello"}},
		{
			"7.2.3.5 two DEFLATE blocks",
			[][]byte{{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}},
			[]string{"Hello"},
		},
		{"7.2.3.6 empty", [][]byte{{0x00}}, []string{""}},
		// A stored block of 4 whose data is the tail ends on a block
		// boundary, so by RFC 7692, Section 7.2.2, it is a message.
		{"stored block holding the tail", [][]byte{{0x00, 0x04, 0x00, 0xfb, 0xff}}, []string{"\x00\x00\xff\xff"}},
		{"empty payload", [][]byte{{}}, []string{""}},
		{"empty payload then takeover", [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {}, {0xf2, 0x00, 0x11, 0x00, 0x00}}, []string{"Hello", "", "Hello"}},
		{
			"BFINAL then takeover",
			[][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x00}},
			[]string{"Hello", "Hello"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDecompressor(t, DecompressorOptions{})
			for i, m := range tt.msgs {
				got, err := d.AppendMessage(nil, m)
				if err != nil || string(got) != tt.want[i] {
					t.Fatalf("AppendMessage(%s) = %q, %v; want %q", hexBytes(m), got, err, tt.want[i])
				}
			}
		})
	}
}

// TestDecompressCorrupt feeds bad payloads, each after a good "Hello".
func TestDecompressCorrupt(t *testing.T) {
	tests := []struct {
		name     string
		takeover bool
		msg      []byte
	}{
		{"reserved block type", true, []byte{0x06, 0x00}},
		{"stored LEN and NLEN disagree", true, []byte{0x00, 0x05, 0x00, 0x00, 0x00, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}},
		{"stored block cut short", true, []byte{0x00, 0x0a, 0x00, 0xf5, 0xff, 0x48}},
		{"fixed block cut short", true, []byte{0xf2, 0x48, 0xcd}},
		{"data after final block", true, []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x01}},
		{"two bytes after final block", true, []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00}},
		{"tail after final block", true, []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff}},
		{"distance before history", false, []byte{0xf2, 0x00, 0x11, 0x00, 0x00}},
		{"distance past history", true, fixedBlock(func(s *state) { s.match(3, 6) })},
		{"distance past window", true, fixedBlock(func(s *state) { s.match(3, 300) })},
		{"final block runs into the tail", true, []byte{0xfb, 0x78, 0x61}},
		{"tail not removed", true, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff}},
		{"over-subscribed code lengths", true, []byte{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDecompressor(t, DecompressorOptions{NoContextTakeover: !tt.takeover})
			if got, err := d.AppendMessage(nil, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}); err != nil || string(got) != "Hello" {
				t.Fatalf("first message: %q, %v", got, err)
			}
			got, err := d.AppendMessage(nil, tt.msg)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("AppendMessage(%s) = %q, %v; want ErrCorrupt", hexBytes(tt.msg), got, err)
			}
			// The error sticks, for this and later messages.
			if n, err2 := d.Read(make([]byte, 10)); n != 0 || err2 != err {
				t.Errorf("Read after error = %d, %v; want 0, %v", n, err2, err)
			}
			if _, err2 := d.AppendMessage(nil, []byte{0x00}); err2 != err {
				t.Errorf("next message after error: %v, want %v", err2, err)
			}
			d.Reset()
			if got, err := d.AppendMessage(nil, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}); err != nil || string(got) != "Hello" {
				t.Fatalf("after Reset: %q, %v", got, err)
			}
		})
	}
}

// fixedBlock returns a message of one fixed-Huffman block with the tokens
// add gives, and the flush.
func fixedBlock(add func(s *state)) []byte {
	s := new(state)
	s.putBits(1<<1, 3)
	add(s)
	s.writeTokens(&fixedLit, &fixedDist)
	s.putBits(0, 3)
	s.alignByte()
	return s.out
}

// TestDecompressRoundTrip decodes chains of messages from the Compressor
// for each window size, through readers that cut the payload up and with
// small output buffers.
func TestDecompressRoundTrip(t *testing.T) {
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for bits := 8; bits <= 15; bits++ {
		for _, takeover := range []bool{true, false} {
			for _, rd := range readers {
				t.Run(fmt.Sprintf("bits%d/takeover=%v/%s", bits, takeover, rd.name), func(t *testing.T) {
					c := mustCompressor(t, CompressorOptions{WindowBits: bits, NoContextTakeover: !takeover})
					d := mustDecompressor(t, DecompressorOptions{WindowBits: bits, NoContextTakeover: !takeover})
					msgs := messageChain(30, uint64(bits), 3<<bits)
					for i, m := range msgs {
						z := c.AppendMessage(nil, m)
						d.Start(rd.wrap(bytes.NewReader(z)))
						var got []byte
						buf := make([]byte, 1+i*37%1000)
						for {
							n, err := d.Read(buf)
							got = append(got, buf[:n]...)
							if err == io.EOF {
								break
							}
							if err != nil {
								t.Fatalf("message %d: Read: %v", i, err)
							}
						}
						if !bytes.Equal(got, m) {
							t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(m))
						}
						if n, err := d.Read(buf); n != 0 || err != io.EOF {
							t.Fatalf("message %d: Read after end = %d, %v; want 0, EOF", i, n, err)
						}
					}
				})
			}
		}
	}
}

// TestDecompressReadError passes on an error from the payload reader.
func TestDecompressReadError(t *testing.T) {
	errNet := errors.New("network down")
	d := mustDecompressor(t, DecompressorOptions{})
	d.Start(io.MultiReader(bytes.NewReader([]byte{0xf2, 0x48}), iotest.ErrReader(errNet)))
	_, err := io.ReadAll(d)
	if !errors.Is(err, errNet) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadAll = %v, want %v", err, errNet)
	}
}

// TestDecompressUnfinished checks that a message left unread drops the
// window, so a later reference to it fails instead of decoding wrongly.
func TestDecompressUnfinished(t *testing.T) {
	d := mustDecompressor(t, DecompressorOptions{})
	if _, err := d.AppendMessage(nil, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}); err != nil {
		t.Fatal(err)
	}
	d.Start(bytes.NewReader([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}))
	if _, err := d.Read(make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	if got, err := d.AppendMessage(nil, []byte{0xf2, 0x00, 0x11, 0x00, 0x00}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("after unfinished message: %q, %v; want ErrCorrupt", got, err)
	}
}

// bomb returns a payload that decompresses to n zero bytes.
func bomb(t testing.TB, n int) []byte {
	c := mustCompressor(t, CompressorOptions{Level: LevelFast})
	zeros := make([]byte, 1<<16)
	var out []byte
	for ; n > 0; n -= len(zeros) {
		out = c.AppendChunk(out, zeros[:min(n, len(zeros))])
	}
	return c.AppendEnd(out)
}

// endlessBomb yields a dynamic block whose body is all zero bytes, each
// pair of bits of which codes a match of 258 bytes: an endless message.
type endlessBomb struct{ head []byte }

func (r *endlessBomb) Read(p []byte) (int, error) {
	n := copy(p, r.head)
	r.head = r.head[n:]
	clear(p[n:])
	return len(p), nil
}

func TestDecompressLimit(t *testing.T) {
	const size = 8 << 20
	z := bomb(t, size)
	t.Logf("bomb: %d bytes inflate to %d", len(z), size)
	tests := []struct {
		name    string
		limit   int64
		wantErr error
	}{
		{"no limit", 0, nil},
		{"limit equal", size, nil},
		{"limit one under", size - 1, ErrTooLarge},
		{"limit 1 MiB", 1 << 20, ErrTooLarge},
		{"limit 1", 1, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDecompressor(t, DecompressorOptions{Limit: tt.limit})
			d.Start(bytes.NewReader(z))
			n, err := io.Copy(io.Discard, d)
			if err != tt.wantErr {
				t.Fatalf("io.Copy = %d, %v; want %v", n, err, tt.wantErr)
			}
			if tt.wantErr != nil && n != tt.limit {
				t.Fatalf("io.Copy = %d bytes before ErrTooLarge, want the limit %d", n, tt.limit)
			}
		})
	}

	t.Run("endless", func(t *testing.T) {
		// The compressed zeros are a header, a literal and then zero bytes;
		// keep the header and make the zeros endless.
		i := bytes.Index(z, make([]byte, 16))
		if i < 0 {
			t.Fatal("no run of zero bytes in the bomb")
		}
		const limit = 64 << 20
		d := mustDecompressor(t, DecompressorOptions{Limit: limit})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d.Start(&endlessBomb{head: z[:i]})
		n, err := io.CopyBuffer(io.Discard, d, make([]byte, 32<<10))
		runtime.ReadMemStats(&after)
		if err != ErrTooLarge || n != limit {
			t.Fatalf("io.Copy = %d, %v; want %d, ErrTooLarge", n, err, limit)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("allocated %d bytes decompressing %d", alloc, n)
		}
	})
}

// TestDecompressWindow checks that only the negotiated window is kept
// between messages: a reference just inside it decodes, one past it fails.
func TestDecompressWindow(t *testing.T) {
	first := jsonData(300, 1)
	c := mustCompressor(t, CompressorOptions{NoContextTakeover: true})
	z := c.AppendMessage(nil, first)
	tests := []struct {
		name    string
		dist    int
		wantErr bool
	}{
		{"inside", 256, false},
		{"past", 257, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDecompressor(t, DecompressorOptions{WindowBits: 8})
			if _, err := d.AppendMessage(nil, z); err != nil {
				t.Fatal(err)
			}
			got, err := d.AppendMessage(nil, fixedBlock(func(s *state) { s.match(3, tt.dist) }))
			if tt.wantErr {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("match at distance %d = %q, %v; want ErrCorrupt", tt.dist, got, err)
				}
				return
			}
			if want := first[300-tt.dist : 300-tt.dist+3]; err != nil || !bytes.Equal(got, want) {
				t.Fatalf("match at distance %d = %q, %v; want %q", tt.dist, got, err, want)
			}
		})
	}
}
