//go:build !race

package selftest

// RaceEnabled reports whether the race detector is on.
const RaceEnabled = false
