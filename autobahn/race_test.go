//go:build race

package autobahn

// raceEnabled: the race detector slows the megabyte messages of 9.* and
// 12/13 several times over, so the long runs use their -short selections
// under it (see reduced). .ci/run gates the full default selection against
// our server and client without it (internal/selftest).
const raceEnabled = true
