//go:build !amd64 || purego

package frame

// maskGo names the one masking loop this build has, the pure-Go maskGeneric.
// mask_amd64.go adds vector loops; maskBest and maskImpl exist here so tests
// can step through the loops the same way on every build.
const maskGo = 0

var maskBest, maskImpl = maskGo, maskGo

// maskWords is the word-wide masking loop; an assembly version may replace it
// on some architectures.
func maskWords(k uint64, b []byte) { maskGeneric(k, b) }
