package loadgen

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"unicode/utf8"

	"github.com/wirelevel/ws/frame"
)

// words make up text payloads: chat-like, mostly ASCII, with 2-, 3- and
// 4-byte UTF-8 sequences in some of them, so a validator sees both its ASCII
// fast path and multi-byte runes.
var words = []string{
	`{"id":`, `"user":`, `"text":`, `"ts":`, `"room":`, `},`, `[`, `]`,
	"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
	"message", "server", "client", "frame", "socket", "hello", "world", "ok",
	"42", "1700000000", "true", "false", "null", "lorem", "ipsum", "dolor",
	"café", "naïve", "Grüße", "smörgåsbord", "€9.99", "日本語", "Привет", "😀",
}

// Text returns n bytes of valid UTF-8 text, the same for the same seed. It
// compresses about as well as chat or JSON traffic does.
func Text(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, 0, n+32)
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, ' ')
	}
	// Cut at a rune boundary and pad with spaces to exactly n bytes.
	b = b[:n]
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	for len(b) < n {
		b = append(b, ' ')
	}
	return b
}

// Binary returns n random bytes, the same for the same seed.
func Binary(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0xb1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// mask is the masking key of every frame the load generator sends: fixed, so
// runs are reproducible, and not zero, so servers do unmask.
var mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// ClientFrame returns one whole masked client frame carrying payload, with
// RSV1 set if compressed (the payload is then already deflated).
func ClientFrame(op frame.Opcode, payload []byte, compressed bool) []byte {
	h := frame.Header{Fin: true, Opcode: op, Masked: true, Mask: mask}
	if compressed {
		h.Rsv = frame.RSV1
	}
	return frame.AppendFrame(nil, h, payload)
}

// Deflate compresses payload as one permessage-deflate message without
// context takeover: a DEFLATE stream, flushed, with the final 00 00 ff ff
// removed (RFC 7692, Section 7.2.1).
func Deflate(payload []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(payload)
	w.Flush()
	b := buf.Bytes()
	return b[:len(b)-4]
}

// Inflate decompresses one permessage-deflate message that was compressed
// without context takeover.
func Inflate(p []byte) ([]byte, error) {
	// Put back the 00 00 ff ff and end the stream with an empty final
	// stored block (RFC 7692, Section 7.2.2).
	tail := []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(tail)))
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("loadgen: inflate: %w", err)
	}
	return out, nil
}
