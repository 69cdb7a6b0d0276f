package testpeer

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ExtendedConnect reports whether this process enables extended CONNECT
// (RFC 8441) in Go's HTTP/2 server: GODEBUG=http2xconnect=1, which Go reads
// once at start-up.
func ExtendedConnect() bool {
	return strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")
}

// WithExtendedConnect runs the calling test in a child process of the test
// binary whose environment has GODEBUG=http2xconnect=1. It returns true in
// the child, where the test goes on, and false in the parent once the child
// has passed (or after failing t if it did not). The child inherits -short
// and the remaining test deadline.
func WithExtendedConnect(t *testing.T) bool {
	t.Helper()
	if ExtendedConnect() {
		return true
	}
	args := []string{"-test.run=^" + t.Name() + "$", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	timeout := 20 * time.Minute
	if dl, ok := t.Deadline(); ok {
		timeout = time.Until(dl) - 5*time.Second
	}
	args = append(args, "-test.timeout="+timeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	godebug := "http2xconnect=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		t.Log("child: " + line)
	}
	if err != nil {
		t.Fatalf("child test with GODEBUG=http2xconnect=1 failed: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) && !strings.Contains(string(out), "--- SKIP: "+t.Name()) {
		t.Fatalf("child did not run %s", t.Name())
	}
	return false
}
