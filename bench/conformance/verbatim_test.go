package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/autobahn"
)

// gorillaExample returns the folder of gorilla/websocket's own Autobahn
// example (server.go and config/fuzzingclient.json) in the module cache:
// the version this module requires.
func gorillaExample(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/gorilla/websocket").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "examples", "autobahn")
}

// TestVerbatimGorillaSpec takes gorilla/websocket's Autobahn spec as the
// project ships it (examples/autobahn/config/fuzzingclient.json: five
// servers at host.docker.internal:9000, outdir /reports, failByDrop
// false, every case) and checks that the harness reads it unchanged: no
// warning, the suite's 517 cases for each server. With WSTEST_VERBATIM=1
// it also runs it, with wstest, against gorilla's own example server
// (examples/autobahn/server.go, built from the module) and checks
// gorilla's published claim: the package "passes the server tests" of the
// suite with that application, that is no case's headline verdict is
// FAILED. That run takes about two hours on two cores (sections 12 and 13
// with compression, five times); CONFORMANCE.md records one.
func TestVerbatimGorillaSpec(t *testing.T) {
	dir := gorillaExample(t)
	specPath := filepath.Join(dir, "config", "fuzzingclient.json")
	spec, err := autobahn.LoadClientSpec(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Warnings) != 0 {
		t.Errorf("warnings for gorilla's spec: %q", spec.Warnings)
	}
	if n := len(autobahn.SelectCases(spec.Cases, spec.ExcludeCases)); n != autobahn.TotalCases || len(spec.Servers) != 5 || spec.OutDir != "/reports" {
		t.Errorf("gorilla's spec: %d cases, %d servers, outdir %q", n, len(spec.Servers), spec.OutDir)
	}
	if os.Getenv("WSTEST_VERBATIM") != "1" {
		t.Skip("running gorilla's spec takes about two hours; set WSTEST_VERBATIM=1")
	}
	bin := t.TempDir()
	for _, b := range []struct{ out, pkg string }{
		{"gorilla-autobahn", "github.com/gorilla/websocket/examples/autobahn"},
		{"wstest", "github.com/wirelevel/ws/cmd/wstest"},
	} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b.out), b.pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	if c, err := net.Dial("tcp", "127.0.0.1:9000"); err == nil {
		c.Close()
		t.Skip("something listens on 127.0.0.1:9000, the port of gorilla's spec")
	}
	srv := exec.Command(filepath.Join(bin, "gorilla-autobahn"), "-addr", "127.0.0.1:9000")
	srv.Dir = dir
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", "127.0.0.1:9000"); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gorilla's example server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The spec as shipped; -o only moves its outdir (/reports) to a
	// temporary folder.
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Hour)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "wstest"), "-m", "fuzzingclient", "-s", specPath, "-o", out, "-u", "0")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "[") || testing.Verbose() {
			t.Log(line)
		}
	}
	err = cmd.Wait()
	t.Logf("wstest exited with %v after %v", err, time.Since(start).Round(time.Second))
	b, rerr := os.ReadFile(filepath.Join(out, "index.json"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	var idx autobahn.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx) != 5 {
		t.Errorf("index.json has %d agents, want the spec's 5", len(idx))
	}
	for agent, cases := range idx {
		counts := map[string]int{}
		var failed []string
		for id, e := range cases {
			counts[e.Behavior+"/"+e.BehaviorClose]++
			if e.Behavior == autobahn.VerdictFailed {
				failed = append(failed, id)
			}
		}
		t.Logf("%s: %d cases: %v", agent, len(cases), counts)
		if len(cases) != autobahn.TotalCases {
			t.Errorf("%s: %d cases, want %d", agent, len(cases), autobahn.TotalCases)
		}
		if len(failed) > 0 {
			t.Errorf("%s: FAILED headline verdicts, where gorilla claims to pass: %s", agent, strings.Join(failed, " "))
		}
	}
}
