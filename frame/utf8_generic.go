//go:build !amd64 || purego

package frame

import "math"

// utf8DFA names the one validator this build has: the DFA in utf8.go, with no
// bulk vector pass. utf8_amd64.go adds one; utf8Best and utf8Impl exist here so
// tests can step through the validators the same way on every build.
const utf8DFA = 0

var utf8Best, utf8Impl = utf8DFA, utf8DFA

// utf8BulkMin and utf8BulkShort are the shortest runs [UTF8Validator.Write]
// offers utf8Bulk; with no vector validator, it offers none.
const (
	utf8BulkMin   = math.MaxInt
	utf8BulkShort = math.MaxInt
)

// utf8Bulk validates nothing here; it asks Write to leave all of b to the DFA.
func utf8Bulk(b []byte) (n int, ok bool) { return len(b), false }
