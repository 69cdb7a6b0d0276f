package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wirelevel/ws/deflate/deflatetest"
)

func mustCompressor(t testing.TB, o CompressorOptions) *Compressor {
	t.Helper()
	c, err := NewCompressor(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGolden checks the examples of RFC 7692, Section 7.2.3. The second
// message of the example in Section 7.2.3.2 (f2 00 11 00 00, a literal and a
// match of four) is one valid choice among several; TestSharedWindow covers it.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts CompressorOptions
		msgs []string
		want [][]byte
	}{
		{
			name: "7.2.3.1 hello",
			opts: CompressorOptions{NoContextTakeover: true},
			msgs: []string{"Hello"},
			want: [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}},
		},
		{
			name: "7.2.3.2 no context takeover",
			opts: CompressorOptions{NoContextTakeover: true},
			msgs: []string{"Hello", "Hello"},
			want: [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}},
		},
		{
			name: "7.2.3.6 empty message",
			msgs: []string{""},
			want: [][]byte{{0x00}},
		},
	}
	for _, tt := range tests {
		for _, lvl := range []Level{LevelFast, LevelDefault, LevelBest} {
			t.Run(fmt.Sprintf("%s/level%d", tt.name, lvl), func(t *testing.T) {
				o := tt.opts
				o.Level = lvl
				c := mustCompressor(t, o)
				for i, m := range tt.msgs {
					got := c.AppendMessage(nil, []byte(m))
					if !bytes.Equal(got, tt.want[i]) {
						t.Errorf("AppendMessage(%q) = %s, want %s", m, hexBytes(got), hexBytes(tt.want[i]))
					}
				}
			})
		}
	}
}

// TestSharedWindow is RFC 7692, Section 7.2.3.2: with context takeover a
// second "Hello" refers to the first.
func TestSharedWindow(t *testing.T) {
	for _, lvl := range []Level{LevelFast, LevelDefault, LevelBest} {
		t.Run(fmt.Sprintf("level%d", lvl), func(t *testing.T) {
			c := mustCompressor(t, CompressorOptions{Level: lvl})
			first := c.AppendMessage(nil, []byte("Hello"))
			second := c.AppendMessage(nil, []byte("Hello"))
			if len(second) >= len(first) {
				t.Errorf("second Hello = %s, not shorter than first %s", hexBytes(second), hexBytes(first))
			}
			flateDecodeChain(t, [][]byte{first, second}, [][]byte{[]byte("Hello"), []byte("Hello")})
		})
	}
}

func TestNewCompressorOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    CompressorOptions
		wantErr bool
	}{
		{"zero", CompressorOptions{}, false},
		{"bits 8", CompressorOptions{WindowBits: 8}, false},
		{"bits 15", CompressorOptions{WindowBits: 15}, false},
		{"bits 7", CompressorOptions{WindowBits: 7}, true},
		{"bits 16", CompressorOptions{WindowBits: 16}, true},
		{"level 9", CompressorOptions{Level: 9}, false},
		{"level 10", CompressorOptions{Level: 10}, true},
		{"level -1", CompressorOptions{Level: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCompressor(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewCompressor(%+v) error = %v, want error %v", tt.opts, err, tt.wantErr)
			}
			if tt.opts.WindowBits != 0 && err != nil && !errors.Is(err, ErrWindowBits) {
				t.Fatalf("NewCompressor(%+v) error = %v, want ErrWindowBits", tt.opts, err)
			}
		})
	}
}

var roundTripSizes = []int{0, 1, 2, 3, 4, 5, 255, 256, 257, 258, 259, 262, 1000, 32767, 32768, 32769, 65535, 65536, 65537, 100000, 1 << 20}

// TestRoundTrip compresses single messages and decodes them with
// compress/flate and with the window-checking inflater.
func TestRoundTrip(t *testing.T) {
	for _, kind := range dataKinds {
		for _, lvl := range []Level{1, 2, 4, 6, 9} {
			for _, size := range roundTripSizes {
				if (testing.Short() || raceEnabled) && size > 100000 {
					continue
				}
				t.Run(fmt.Sprintf("%s/level%d/%d", kind.name, lvl, size), func(t *testing.T) {
					msg := kind.gen(size, uint64(size))
					c := mustCompressor(t, CompressorOptions{Level: lvl, NoContextTakeover: true})
					out := c.AppendMessage(nil, msg)
					got, err := flateDecode(out)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("compress/flate decode of %s: %v, equal %v", hexBytes(out), err, bytes.Equal(got, msg))
					}
					f := deflatetest.Inflater{Window: 1 << 15}
					got, err = f.Message(out)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("deflatetest decode of %s: %v, equal %v", hexBytes(out), err, bytes.Equal(got, msg))
					}
					// Incompressible input grows by no more than stored
					// block overhead: 5 bytes a block (blocks of stored
					// bytes end about every 32 KiB) plus the flush.
					if limit := len(msg) + 5*(len(msg)/32000+2) + 1; len(out) > limit {
						t.Errorf("compressed %d bytes to %d, over %d", len(msg), len(out), limit)
					}
				})
			}
		}
	}
}

// messageChain returns n messages that refer to each other: repeats of
// earlier messages, text, random bytes and runs that span the boundary.
func messageChain(n int, seed uint64, maxLen int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 3))
	var msgs [][]byte
	var all []byte
	for i := range n {
		size := r.IntN(maxLen + 1)
		var m []byte
		switch r.IntN(6) {
		case 0:
			m = jsonData(size, r.Uint64())
		case 1:
			m = randomData(size, r.Uint64())
		case 2, 3:
			// Repeat a stretch of earlier output, near or far back.
			if len(all) > 0 {
				from := max(0, len(all)-1-r.IntN(min(len(all), 70000)))
				m = append(m, all[from:min(len(all), from+size)]...)
			}
			m = append(m, jsonData(size-len(m), uint64(i))...)
		case 4:
			m = alternatingData(size, r.Uint64())
		default:
			// A run that continues the previous message's last byte.
			var b byte = 'x'
			if len(all) > 0 {
				b = all[len(all)-1]
			}
			m = bytes.Repeat([]byte{b}, size)
		}
		msgs = append(msgs, m)
		all = append(all, m...)
	}
	return msgs
}

// TestWindowBound proves for every window size, with and without context
// takeover, that the compressor never refers further back than its window
// or before the start of the history the peer has, and that compress/flate
// decodes the same output to the input.
func TestWindowBound(t *testing.T) {
	for bits := 8; bits <= 15; bits++ {
		for _, takeover := range []bool{true, false} {
			for _, lvl := range []Level{1, 3, 6, 9} {
				name := fmt.Sprintf("bits%d/takeover=%v/level%d", bits, takeover, lvl)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					window := 1 << bits
					msgs := messageChain(40, uint64(bits*100+int(lvl)), 3*window)
					// A message that repeats with a period just under and
					// just over the window.
					period := append(randomData(window-1, 7), randomData(window+1, 8)...)
					msgs = append(msgs, bytes.Repeat(period[:window-1], 4), bytes.Repeat(period[window-1:], 4))
					c := mustCompressor(t, CompressorOptions{Level: lvl, WindowBits: bits, NoContextTakeover: !takeover})
					f := deflatetest.Inflater{Window: window, Takeover: takeover}
					var outs [][]byte
					for i, m := range msgs {
						out := c.AppendMessage(nil, m)
						got, err := f.Message(out)
						if err != nil {
							t.Fatalf("message %d (%d bytes): deflatetest: %v", i, len(m), err)
						}
						if !bytes.Equal(got, m) {
							t.Fatalf("message %d: deflatetest output differs from input", i)
						}
						if !takeover {
							if got, err := flateDecode(out); err != nil || !bytes.Equal(got, m) {
								t.Fatalf("message %d: compress/flate: %v, equal %v", i, err, bytes.Equal(got, m))
							}
						}
						outs = append(outs, out)
					}
					if takeover {
						flateDecodeChain(t, outs, msgs)
						if f.Stats.HistoryRefs == 0 {
							t.Errorf("no reference into earlier messages in %d messages", len(msgs))
						}
					}
					if f.Stats.MaxDistance > window {
						t.Errorf("max distance %d over window %d", f.Stats.MaxDistance, window)
					}
					if lvl > 1 && f.Stats.MaxDistance < window-1 {
						t.Errorf("max distance %d: the window of %d is not used", f.Stats.MaxDistance, window)
					}
				})
			}
		}
	}
}

// TestTakeoverChain compresses 100 messages with context takeover and
// decodes them with one continuous compress/flate reader.
func TestTakeoverChain(t *testing.T) {
	for _, lvl := range []Level{LevelFast, LevelDefault} {
		t.Run(fmt.Sprintf("level%d", lvl), func(t *testing.T) {
			msgs := messageChain(100, 42, 5000)
			c := mustCompressor(t, CompressorOptions{Level: lvl})
			var outs [][]byte
			in, out := 0, 0
			for _, m := range msgs {
				o := c.AppendMessage(nil, m)
				outs = append(outs, o)
				in += len(m)
				out += len(o)
			}
			flateDecodeChain(t, outs, msgs)
			t.Logf("100 messages: %d bytes to %d", in, out)
		})
	}
}

// TestStreamingMatchesOneShot checks that cutting a message into chunks
// changes nothing in the output.
func TestStreamingMatchesOneShot(t *testing.T) {
	chunkings := []struct {
		name string
		next func(r *rand.Rand) int
	}{
		{"1", func(*rand.Rand) int { return 1 }},
		{"7", func(*rand.Rand) int { return 7 }},
		{"4096", func(*rand.Rand) int { return 4096 }},
		{"65536", func(*rand.Rand) int { return 65536 }},
		{"random", func(r *rand.Rand) int { return r.IntN(40000) }},
	}
	for _, kind := range dataKinds {
		for _, lvl := range []Level{1, 6} {
			for _, ch := range chunkings {
				t.Run(fmt.Sprintf("%s/level%d/chunk%s", kind.name, lvl, ch.name), func(t *testing.T) {
					r := rand.New(rand.NewPCG(1, 2))
					one := mustCompressor(t, CompressorOptions{Level: lvl, WindowBits: 13})
					str := mustCompressor(t, CompressorOptions{Level: lvl, WindowBits: 13})
					sizes := []int{0, 1, 300, 70000, 200000}
					if ch.name == "1" || ch.name == "7" {
						sizes = []int{0, 1, 300, 70000}
					}
					for i, size := range sizes {
						msg := kind.gen(size, uint64(i))
						want := one.AppendMessage(nil, msg)
						var got []byte
						for p := msg; len(p) > 0; {
							n := min(len(p), ch.next(r))
							got = str.AppendChunk(got, p[:n])
							p = p[n:]
						}
						got = str.AppendEnd(got)
						if !bytes.Equal(got, want) {
							t.Fatalf("message %d (%d bytes): chunked output %s, one-shot %s", i, size, hexBytes(got), hexBytes(want))
						}
					}
				})
			}
		}
	}
}

// TestReset checks that Reset drops the window and an unfinished message.
func TestReset(t *testing.T) {
	c := mustCompressor(t, CompressorOptions{})
	fresh := mustCompressor(t, CompressorOptions{})
	msg := jsonData(5000, 1)
	c.AppendMessage(nil, msg)
	c.AppendChunk(nil, msg[:100])
	c.Reset()
	got := c.AppendMessage(nil, msg)
	want := fresh.AppendMessage(nil, msg)
	if !bytes.Equal(got, want) {
		t.Fatalf("after Reset: %s, want %s", hexBytes(got), hexBytes(want))
	}
}

// TestHuffmanLengths checks the length-limited code construction on
// frequency shapes that push code lengths past the limit.
func TestHuffmanLengths(t *testing.T) {
	fib := make([]uint32, numLitLen)
	a, b := uint32(1), uint32(1)
	for i := range 40 {
		fib[i] = a
		a, b = b, a+b
	}
	pow := make([]uint32, numCodeLen)
	for i := range pow {
		pow[i] = 1 << i
	}
	tests := []struct {
		name    string
		freq    []uint32
		maxBits int
	}{
		{"fibonacci", fib, 15},
		{"powers of two", pow, 7},
		{"one symbol", append(make([]uint32, 5), 9, 0, 0), 7},
		{"no symbol", make([]uint32, numDist), 15},
		{"flat", bytes2freq(bytes.Repeat([]byte{1}, numLitLen)), 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hs huffScratch
			lens := make([]uint8, len(tt.freq))
			buildLengths(&hs, tt.freq, lens, tt.maxBits)
			kraft, used := 0, 0
			for i, l := range lens {
				if int(l) > tt.maxBits {
					t.Fatalf("length %d over %d", l, tt.maxBits)
				}
				if tt.freq[i] != 0 && l == 0 {
					t.Fatalf("symbol %d has frequency %d and no code", i, tt.freq[i])
				}
				if l != 0 {
					kraft += 1 << (tt.maxBits - int(l))
					used++
				}
			}
			if kraft != 1<<tt.maxBits || used < 2 {
				t.Fatalf("lengths %v: Kraft sum %d/%d with %d symbols, want complete", lens, kraft, 1<<tt.maxBits, used)
			}
		})
	}
}

func bytes2freq(b []byte) []uint32 {
	f := make([]uint32, len(b))
	for i, c := range b {
		f[i] = uint32(c)
	}
	return f
}

// TestCheckerRejects makes sure the window-checking inflater that the
// window tests rely on does reject what it should.
func TestCheckerRejects(t *testing.T) {
	prefix := jsonData(300, 1)
	raw := mustCompressor(t, CompressorOptions{NoContextTakeover: true}).AppendMessage(nil, prefix)
	tests := []struct {
		name     string
		window   int
		takeover bool
		msg      []byte
		wantErr  bool
	}{
		{"distance at window", 256, true, fixedBlock(func(s *state) { s.match(3, 256) }), false},
		{"distance past window", 256, true, fixedBlock(func(s *state) { s.match(3, 257) }), true},
		{"before history", 1 << 15, false, fixedBlock(func(s *state) { s.match(3, 1) }), true},
		{"before takeover history", 1 << 15, true, fixedBlock(func(s *state) { s.match(3, 301) }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := deflatetest.Inflater{Window: tt.window, Takeover: tt.takeover}
			if _, err := f.Message(raw); err != nil {
				t.Fatal(err)
			}
			_, err := f.Message(tt.msg)
			if tt.wantErr != errors.Is(err, deflatetest.ErrWindow) {
				t.Fatalf("Message(%s) error = %v, want ErrWindow: %v", hexBytes(tt.msg), err, tt.wantErr)
			}
		})
	}
}

// TestFastRatio checks that the fast level compresses text and incompressible
// input about as well as compress/flate at BestSpeed does, so a faster
// matcher cannot quietly trade away its ratio.
func TestFastRatio(t *testing.T) {
	tests := []struct {
		name  string
		gen   func(int, uint64) []byte
		slack float64 // allowed size over flate's, as a fraction
	}{
		{"json", jsonData, 0.03},
		{"alternating", alternatingData, 0.03},
		{"random", randomData, 0.01},
	}
	for _, tt := range tests {
		for _, size := range []int{1 << 10, 16 << 10, 128 << 10} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				msg := tt.gen(size, 7)
				var buf bytes.Buffer
				w, err := flate.NewWriter(&buf, flate.BestSpeed)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(msg)
				w.Flush()
				want := buf.Len() - 4
				c := mustCompressor(t, CompressorOptions{Level: LevelFast, NoContextTakeover: true})
				got := len(c.AppendMessage(nil, msg))
				if float64(got) > float64(want)*(1+tt.slack) {
					t.Errorf("level 1 compressed %d bytes to %d, compress/flate BestSpeed to %d", size, got, want)
				}
			})
		}
	}
}

// TestTokenKinds writes one block of each kind of token: single literals,
// a run of literals, and matches carrying no, some and the most literals
// before them, and checks that it decodes to the bytes the tokens cover.
func TestTokenKinds(t *testing.T) {
	s := new(state)
	text := []byte("abcdefgh")
	for len(text) < 900 {
		text = append(text, text[len(text)%7:len(text)%7+5]...)
	}
	copy(s.buf[:], text)
	s.literal(text[0])
	s.literal(text[1])
	for _, b := range text[2:300] {
		s.litFreq[b]++
	}
	s.literals(2, 300)
	// text[300:] is random enough; pick matches the text really has.
	pos := 300
	add := func(k, n int) {
		for _, b := range text[pos : pos+k] {
			s.litFreq[b]++
		}
		for d := 1; d <= pos+k; d++ {
			if l := matchLen(text[pos+k-d:], text[pos+k:pos+k+n]); l == n {
				s.matchAfter(k, n, d)
				pos += k + n
				return
			}
		}
		t.Fatalf("no match of %d at %d", n, pos+k)
	}
	add(0, 4)
	add(3, 5)
	add(maxRunIn, 3)
	add(1, 4)
	want := text[:pos]
	s.flushBlock()
	s.putBits(0, 3)
	s.alignByte()
	got, err := flateDecode(s.out)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("decode = %q, %v; want %q", got, err, want)
	}
}
