package selftest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/internal/testpeer"
)

// TestHTTP2Conformance runs the conformance suite over HTTP/2 (h2c, RFC
// 8441) against this library's echo server and testee client, and fails on
// any difference from the committed HTTP/1.1 results in autobahn/expected:
// the transport must not change a verdict or a close code. It re-executes
// the test binary with GODEBUG=http2xconnect=1, which Go's HTTP/2 server
// needs for extended CONNECT. AUTOBAHN_H2_CASES, a comma-separated list of
// case patterns, replaces DefaultCases.
//
//	go test ./internal/selftest -run TestHTTP2Conformance -timeout 60m
func TestHTTP2Conformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance run is part of the full test run")
	}
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	sel := DefaultCases
	switch s := os.Getenv("AUTOBAHN_H2_CASES"); {
	case s != "":
		sel = strings.Split(s, ",")
	case RaceEnabled:
		sel = raceCases
	}
	want := map[string]Expected{}
	for _, side := range []string{"server", "client"} {
		e, err := LoadExpected(side)
		if errors.Is(err, fs.ErrNotExist) {
			t.Skip("no committed results to compare with:", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		want[side] = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	start := time.Now()
	cfg := Config{Cases: sel, HTTP2: true}
	if testing.Verbose() {
		cfg.Progress = os.Stdout
	}
	srv, cli, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ran %d server and %d client cases over HTTP/2 in %v", len(srv.Cases), len(cli.Cases), time.Since(start).Round(time.Second))
	for _, side := range []struct {
		name, agent string
		res         *autobahn.Results
	}{{"server", ServerAgent, srv}, {"client", ClientAgent, cli}} {
		for _, d := range Diff(want[side.name], Outcomes(side.res, side.agent), SelectedIDs(sel, nil)) {
			t.Errorf("%s over HTTP/2: %s", side.name, d)
		}
	}
}
