package autobahn

import (
	"errors"

	"github.com/wirelevel/ws/deflate"
)

// This file is the one place the harness compresses and decompresses
// permessage-deflate data (RFC 7692, Section 7.2), with package deflate: its
// compressor honours any negotiated window (8 to 15 bits) natively, and its
// decompressor bounds the output while inflating.

// deflater compresses the fuzzer's messages for one connection, at the
// level of Options.CompressionLevel (zlib's default, 6, as the original
// suite, unless set), keeping the history between messages unless no
// context takeover applies to the fuzzer's direction.
type deflater struct {
	c   *deflate.Compressor
	out []byte
}

func newDeflater(bits int, noContext bool, level int) *deflater {
	if bits < 8 || bits > 15 {
		bits = 15
	}
	c, err := deflate.NewCompressor(deflate.CompressorOptions{
		Level:             deflate.Level(level),
		WindowBits:        bits,
		NoContextTakeover: noContext,
	})
	if err != nil {
		panic("autobahn: " + err.Error()) // bits were checked above
	}
	return &deflater{c: c}
}

// compress returns the compressed form of msg without the trailing
// 00 00 ff ff (RFC 7692, Section 7.2.1). The result is valid until the next
// call.
func (d *deflater) compress(msg []byte) []byte {
	d.out = d.c.AppendMessage(d.out[:0], msg)
	return d.out
}

// inflater decompresses the testee's messages. It keeps a full 32 KiB window
// between messages, which serves context takeover and is harmless without
// it.
type inflater struct {
	d *deflate.Decompressor
}

var errInflateTooBig = errors.New("autobahn: decompressed message over the limit")

// inflate decompresses one message of at most limit bytes.
func (f *inflater) inflate(p []byte, limit int64) ([]byte, error) {
	if f.d == nil {
		d, err := deflate.NewDecompressor(deflate.DecompressorOptions{WindowBits: 15})
		if err != nil {
			return nil, err
		}
		f.d = d
	}
	f.d.SetLimit(limit)
	out, err := f.d.AppendMessage(nil, p)
	if errors.Is(err, deflate.ErrTooLarge) {
		f.d.Reset()
		return nil, errInflateTooBig
	}
	return out, err
}
