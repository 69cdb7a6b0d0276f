//go:build !race

package autobahn

const raceEnabled = false
