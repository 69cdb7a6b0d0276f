package conn

import (
	"math/bits"
	"sync"
)

// Buffers are pooled by power-of-two size class, from 1 KiB (class 0) to
// 16 MiB.
const (
	minPoolShift = 10
	maxPoolShift = 24
)

var bufPools [maxPoolShift - minPoolShift + 1]sync.Pool

// poolClass returns the class whose buffers hold at least n bytes.
func poolClass(n int) int {
	if n <= 1<<minPoolShift {
		return 0
	}
	return min(bits.Len(uint(n-1)), maxPoolShift) - minPoolShift
}

// getBuf returns a pooled buffer of at least n bytes (at most 16 MiB).
func getBuf(n int) *[]byte {
	c := poolClass(n)
	if b, ok := bufPools[c].Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 1<<(c+minPoolShift))
	return &b
}

// putBuf returns a buffer from getBuf to its pool.
func putBuf(b *[]byte) {
	bufPools[poolClass(cap(*b))].Put(b)
}
