//go:build !js

package conn

import (
	"math/bits"
	"sync"
)

// The one buffer pool of this package: read buffers, frames waiting in the
// outgoing buffer, compressed payloads and the message buffers a Poller
// lends all come from it. Buffers are pooled by power-of-two size class,
// from 1 KiB (class 0) to 16 MiB: getBuf rounds a request up to a class,
// putBuf files a buffer under the largest class it can serve, so a buffer of
// any capacity (a message buffer grown by append) can come back.
const (
	minPoolShift = 10
	maxPoolShift = 24
)

var bufPools [maxPoolShift - minPoolShift + 1]sync.Pool

// poolClass returns the smallest class whose buffers hold n bytes.
func poolClass(n int) int {
	if n <= 1<<minPoolShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minPoolShift
}

// getBuf returns a buffer of at least n bytes, with len == cap: from the
// pool if n is at most 16 MiB, otherwise a new one.
func getBuf(n int) *[]byte {
	if n > 1<<maxPoolShift {
		b := make([]byte, n)
		return &b
	}
	c := poolClass(n)
	if b, ok := bufPools[c].Get().(*[]byte); ok {
		*b = (*b)[:cap(*b)]
		return b
	}
	b := make([]byte, 1<<(c+minPoolShift))
	return &b
}

// putBuf gives b back to the pool, under the largest class whose size it
// reaches; a buffer under 1 KiB is dropped.
func putBuf(b *[]byte) {
	if c := bufClass(cap(*b)); c >= 0 {
		bufPools[c].Put(b)
	}
}

// bufClass returns the class putBuf files a buffer of capacity n under, or
// -1 for one it drops.
func bufClass(n int) int {
	if n < 1<<minPoolShift {
		return -1
	}
	return min(bits.Len(uint(n))-1, maxPoolShift) - minPoolShift
}
