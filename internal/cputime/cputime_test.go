package cputime

import (
	"testing"
	"time"
)

// Busy work shows as CPU time, and sleeping adds little.
func TestUsed(t *testing.T) {
	before := Used()
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	busy := Used() - before
	if busy <= 0 {
		t.Fatalf("50 ms of busy work used %v of CPU time", busy)
	}
	before = Used()
	time.Sleep(50 * time.Millisecond)
	if idle := Used() - before; idle > 40*time.Millisecond {
		t.Errorf("sleeping 50 ms used %v of CPU time", idle)
	}
	_ = x
}
