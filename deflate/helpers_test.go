package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// jsonData returns n bytes of text like a stream of JSON events, the same
// for the same seed.
func jsonData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	events := []string{"click", "view", "scroll", "purchase", "login", "logout"}
	words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua")
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"id":%d,"user":%q,"event":%q,"ts":%d,"score":%.3f,"tags":[`,
			r.IntN(1000000), users[r.IntN(len(users))], events[r.IntN(len(events))],
			1700000000000+r.Int64N(100000000), r.Float64()*100)
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q", words[r.IntN(len(words))])
		}
		b.WriteString(`],"msg":"`)
		for i := range 3 + r.IntN(8) {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		b.WriteString("\"}\n")
	}
	return b.Bytes()[:n]
}

// randomData returns n incompressible bytes, the same for the same seed.
func randomData(n int, seed uint64) []byte {
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// alternatingData interleaves runs of text and random bytes.
func alternatingData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	var b []byte
	for len(b) < n {
		k := 1 + r.IntN(3000)
		if r.IntN(2) == 0 {
			b = append(b, jsonData(k, r.Uint64())...)
		} else {
			b = append(b, randomData(k, r.Uint64())...)
		}
	}
	return b[:n]
}

// repetitiveData repeats a short pattern.
func repetitiveData(n int, _ uint64) []byte {
	return bytes.Repeat([]byte("abcabcabd"), n/9+1)[:n]
}

func zeroData(n int, _ uint64) []byte { return make([]byte, n) }

var dataKinds = []struct {
	name string
	gen  func(int, uint64) []byte
}{
	{"json", jsonData},
	{"random", randomData},
	{"alternating", alternatingData},
	{"repetitive", repetitiveData},
	{"zeros", zeroData},
}

// flateDecodeChain decodes msgs, compressed with context takeover, with a
// single continuous compress/flate reader and checks each against want.
func flateDecodeChain(t *testing.T, msgs [][]byte, want [][]byte) {
	t.Helper()
	var all []byte
	for _, m := range msgs {
		all = append(append(all, m...), 0x00, 0x00, 0xff, 0xff)
	}
	fr := flate.NewReader(bytes.NewReader(all))
	for i, w := range want {
		got := make([]byte, len(w))
		if _, err := io.ReadFull(fr, got); err != nil {
			t.Fatalf("compress/flate: message %d: %v", i, err)
		}
		if !bytes.Equal(got, w) {
			t.Fatalf("compress/flate: message %d differs from input", i)
		}
	}
	if n, err := fr.Read(make([]byte, 1)); n != 0 || err != io.ErrUnexpectedEOF {
		t.Fatalf("compress/flate: after last message: Read = %d, %v; want 0, unexpected EOF", n, err)
	}
}

// flateDecode decodes one message compressed without context takeover.
func flateDecode(msg []byte) ([]byte, error) {
	fr := flate.NewReader(bytes.NewReader(append(msg[:len(msg):len(msg)], 0x00, 0x00, 0xff, 0xff)))
	got, err := io.ReadAll(fr)
	if err == io.ErrUnexpectedEOF {
		err = nil
	}
	return got, err
}

func hexBytes(b []byte) string {
	if len(b) > 32 {
		return fmt.Sprintf("% x … (%d bytes)", b[:32], len(b))
	}
	return fmt.Sprintf("% x", b)
}
