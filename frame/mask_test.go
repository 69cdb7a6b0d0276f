package frame

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestMaskMatchesBytewise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 1100)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	k := [4]byte{0x01, 0x80, 0xfe, 0x7f}
	for pos := 0; pos < 8; pos++ {
		for n := 0; n <= len(src); n++ {
			if n > 300 && n%37 != 0 && n != len(src) {
				continue
			}
			want := append([]byte(nil), src[:n]...)
			wantPos := maskBytewise(k, pos, want)
			got := append([]byte(nil), src[:n]...)
			gotPos := Mask(k, pos, got)
			if gotPos != wantPos || !bytes.Equal(got, want) {
				t.Fatalf("Mask(key, %d, %d bytes) differs from the byte-wise reference", pos, n)
			}
		}
	}
}

func TestMaskSplitAnywhere(t *testing.T) {
	src := bytes.Repeat([]byte("masking across reads "), 13)
	want := append([]byte(nil), src...)
	maskBytewise(key, 0, want)
	for i := 0; i <= len(src); i++ {
		for _, j := range []int{i, i + 1, i + 7, i + 33, len(src)} {
			if j > len(src) {
				continue
			}
			got := append([]byte(nil), src...)
			p := Mask(key, 0, got[:i])
			p = Mask(key, p, got[i:j])
			Mask(key, p, got[j:])
			if !bytes.Equal(got, want) {
				t.Fatalf("Mask split at %d and %d differs from one call", i, j)
			}
		}
	}
}

func TestMaskInvolution(t *testing.T) {
	src := bytes.Repeat([]byte{0, 1, 2, 3, 0xff}, 100)
	b := append([]byte(nil), src...)
	Mask(key, 3, b)
	if bytes.Equal(b, src) {
		t.Fatal("Mask changed nothing")
	}
	Mask(key, 3, b)
	if !bytes.Equal(b, src) {
		t.Fatal("masking twice did not give the input back")
	}
}

func TestMaskZeroAllocs(t *testing.T) {
	b := make([]byte, 4096)
	if allocs := testing.AllocsPerRun(100, func() { Mask(key, 1, b) }); allocs != 0 {
		t.Errorf("Mask: %v allocs per run, want 0", allocs)
	}
}
