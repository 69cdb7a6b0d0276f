package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
)

var benchSizes = []int{128, 1 << 10, 16 << 10, 128 << 10}

var benchData = []struct {
	name string
	gen  func(int, uint64) []byte
}{
	{"json", jsonData},
	{"random", randomData},
}

// BenchmarkCompress compresses one message per iteration, next to
// compress/flate with a Reset per message, and reports the compressed
// size over the input size as "ratio". The ws-* cases run without context
// takeover, like the flate ones; ws-6-takeover compresses a chain.
func BenchmarkCompress(b *testing.B) {
	for _, data := range benchData {
		for _, size := range benchSizes {
			msg := data.gen(size, 1)
			for _, lvl := range []Level{LevelFast, LevelDefault} {
				b.Run(fmt.Sprintf("%s/%d/ws-%d", data.name, size, lvl), func(b *testing.B) {
					benchCompressor(b, msg, CompressorOptions{Level: lvl, NoContextTakeover: true})
				})
			}
			b.Run(fmt.Sprintf("%s/%d/ws-6-takeover", data.name, size), func(b *testing.B) {
				benchCompressor(b, msg, CompressorOptions{Level: LevelDefault})
			})
			for _, lvl := range []int{flate.BestSpeed, flate.DefaultCompression} {
				name := "flate-1"
				if lvl == flate.DefaultCompression {
					name = "flate-6"
				}
				b.Run(fmt.Sprintf("%s/%d/%s", data.name, size, name), func(b *testing.B) {
					var buf bytes.Buffer
					w, err := flate.NewWriter(&buf, lvl)
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					for b.Loop() {
						buf.Reset()
						w.Reset(&buf)
						w.Write(msg)
						w.Flush()
					}
					b.ReportMetric(float64(buf.Len()-4)/float64(len(msg)), "ratio")
				})
			}
		}
	}
}

func benchCompressor(b *testing.B, msg []byte, o CompressorOptions) {
	c := mustCompressor(b, o)
	dst := c.AppendMessage(nil, msg)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		dst = c.AppendMessage(dst[:0], msg)
	}
	b.ReportMetric(float64(len(dst))/float64(len(msg)), "ratio")
}

// BenchmarkDecompress decompresses one message per iteration, next to a
// compress/flate reader reset per message.
func BenchmarkDecompress(b *testing.B) {
	for _, data := range benchData {
		for _, size := range benchSizes {
			msg := data.gen(size, 1)
			c := mustCompressor(b, CompressorOptions{NoContextTakeover: true})
			z := c.AppendMessage(nil, msg)
			b.Run(fmt.Sprintf("%s/%d/ws", data.name, size), func(b *testing.B) {
				d := mustDecompressor(b, DecompressorOptions{NoContextTakeover: true})
				dst := make([]byte, 0, size+512)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if dst, err = d.AppendMessage(dst[:0], z); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%d/ws-takeover", data.name, size), func(b *testing.B) {
				d := mustDecompressor(b, DecompressorOptions{})
				dst := make([]byte, 0, size+512)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if dst, err = d.AppendMessage(dst[:0], z); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%d/flate", data.name, size), func(b *testing.B) {
				in := append(z[:len(z):len(z)], 0x00, 0x00, 0xff, 0xff)
				br := bytes.NewReader(in)
				fr := flate.NewReader(br)
				dst := make([]byte, size+512)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					br.Reset(in)
					fr.(flate.Resetter).Reset(br, nil)
					n := 0
					for {
						k, err := fr.Read(dst[n:])
						n += k
						if err == io.ErrUnexpectedEOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
