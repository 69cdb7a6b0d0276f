package testpeer

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RunScript runs a peer script to its end, killing it after timeout, and
// turns its output into test results: a "PASS name" line is logged, a
// "FAIL name: why" line fails t, anything else is logged as the peer's.
// onLine, if not nil, sees every line as it arrives. The script must exit
// with status 0 and pass at least one scenario.
func RunScript(t *testing.T, cmd *exec.Cmd, timeout time.Duration, onLine func(string)) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); cmd.Process.Kill() })
	passed := 0
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "PASS "):
			passed++
			t.Log(line)
		case strings.HasPrefix(line, "FAIL "):
			t.Error(line)
		default:
			t.Log("peer: " + line)
		}
		if onLine != nil {
			onLine(line)
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	timer.Stop()
	if timedOut.Load() {
		t.Fatalf("peer script killed after %v", timeout)
	}
	if err != nil {
		t.Errorf("peer script: %v", err)
	}
	if passed == 0 {
		t.Error("peer script passed no scenario")
	}
}
