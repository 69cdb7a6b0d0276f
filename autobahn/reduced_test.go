package autobahn

import "testing"

// reduced reports whether the long runs (every case of 1.* to 10.* in
// several modes and transports) use their smaller selections: under -short,
// and under the race detector.
func reduced() bool { return testing.Short() || raceEnabled }
