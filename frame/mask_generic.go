package frame

// maskWords is the word-wide masking loop; an assembly version may replace it
// on some architectures.
func maskWords(k uint64, b []byte) { maskGeneric(k, b) }
