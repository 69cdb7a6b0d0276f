package selftest

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/autobahn"
)

var (
	update = flag.Bool("update", false, "write the results into autobahn/expected instead of comparing")
	cases  = flag.String("cases", "", "comma-separated case patterns (default: DefaultCases)")
)

// raceCases is the selection under the race detector: every case but the
// big messages of 9.* and most of 12/13.
var raceCases = []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*", "12.1.1", "13.7.1"}

// TestConformance runs the conformance suite against this library's echo
// server and testee client and fails on any difference from the committed
// results in autobahn/expected, improvements included, so that every change
// of behaviour on the wire shows up in review. Durations are not compared.
//
//	go test ./internal/selftest -run 'TestConformance$'                  # gate (DefaultCases)
//	go test ./internal/selftest -run 'TestConformance$' -update -cases '*' -timeout 60m
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance run is part of the full test run")
	}
	sel := DefaultCases
	switch {
	case *cases != "":
		sel = strings.Split(*cases, ",")
	case RaceEnabled:
		// Under the race detector: every case but the big messages of
		// 9.* and the compression rows; CI runs the whole default
		// selection without it.
		sel = raceCases
	}
	ids := SelectedIDs(sel, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	start := time.Now()
	var progress *os.File
	if testing.Verbose() {
		progress = os.Stdout
	}
	cfg := Config{Cases: sel}
	if progress != nil {
		cfg.Progress = progress
	}
	srv, cli, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ran %d server and %d client cases in %v", len(srv.Cases), len(cli.Cases), time.Since(start).Round(time.Second))
	for _, side := range []struct {
		name, agent string
		res         *autobahn.Results
	}{{"server", ServerAgent, srv}, {"client", ClientAgent, cli}} {
		got := Outcomes(side.res, side.agent)
		if *update {
			if err := Merge(side.name, got); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := LoadExpected(side.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range Diff(want, got, ids) {
			t.Errorf("%s: %s", side.name, d)
		}
		if side.res.Failed() {
			var buf strings.Builder
			side.res.Summary().WriteText(&buf)
			t.Errorf("%s: cases FAILED:\n%s", side.name, buf.String())
		}
	}
}
