//go:build amd64 && !purego

package frame

// The masking loops maskWords can run, slowest first. maskImpl picks one: it
// starts at maskBest, the best this CPU has, and tests lower it to check each
// fallback in the same run.
const (
	maskGo   = iota // maskGeneric, pure Go
	maskSSE2        // 64 bytes an iteration in XMM registers; every amd64 CPU has SSE2
	maskAVX2        // 128 bytes an iteration in YMM registers
)

var (
	maskBest = bestMask()
	maskImpl = maskBest
)

func bestMask() int {
	if x86HasAVX2 {
		return maskAVX2
	}
	return maskSSE2
}

// maskWords XORs b, whose length is a multiple of 8, with the 8-byte
// little-endian key k, using the loop maskImpl names (mask_amd64.s). Below 64
// bytes, where setting up vector registers does not pay, the vector loops
// XOR 8-byte words instead. maskGo runs maskGeneric at every length.
//
//go:noescape
func maskWords(k uint64, b []byte)
