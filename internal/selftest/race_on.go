//go:build race

package selftest

// RaceEnabled reports whether the race detector is on; the conformance gate
// then runs a smaller selection, as the race detector slows the big
// messages of 9.* and 12/13 several times over.
const RaceEnabled = true
