package websocket

import (
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/internal/selftest"
)

var conformanceCases = flag.String("cases", "", "comma-separated case patterns for TestConformance, replacing the default selections")

// raceCases is the selection under the race detector, as in
// internal/selftest: every case but the big messages of 9.* and most of
// 12/13.
var raceCases = []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*", "12.1.1", "13.7.1"}

// streamCases are the cases where the streaming echo (NextReader,
// NextWriter, io.Copy) takes another path than the ReadMessage one:
// fragments, UTF-8 split across reads, message sizes, compression.
// streamRaceCases leaves out the big messages and most compression rows.
var (
	streamCases = []string{"1.*", "5.*", "6.*", "9.*",
		"12.1.1", "12.1.2", "12.1.3", "12.1.4", "12.1.5", "12.1.6", "12.1.7", "12.1.11", "12.1.12",
		"13.7.1", "13.7.2", "13.7.3", "13.7.4", "13.7.5", "13.7.6", "13.7.7", "13.7.11", "13.7.12"}
	streamRaceCases = []string{"1.*", "5.*", "6.*", "9.1.1", "9.1.2", "9.1.3", "9.2.1", "9.2.2", "9.2.3", "12.1.1", "13.7.1"}
)

// echoServer is a gorilla-style echo program written against this
// package, as gorilla's examples/autobahn is: ReadMessage and
// WriteMessage, or, with stream, NextReader, NextWriter and io.Copy.
func echoServer(stream bool) http.Handler {
	upgrader := Upgrader{
		EnableCompression: true,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if !stream {
				mt, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(mt, p); err != nil {
					return
				}
				continue
			}
			mt, r, err := c.NextReader()
			if err != nil {
				return
			}
			w, err := c.NextWriter(mt)
			if err != nil {
				return
			}
			if _, err := io.Copy(w, r); err != nil {
				w.Close()
				return
			}
			if err := w.Close(); err != nil {
				return
			}
		}
	})
}

// TestConformance runs the conformance suite (fuzzingclient mode) against
// gorilla-style echo servers written with this package and compares the
// verdicts with those committed for conn's own echo server
// (autobahn/expected/server.json): the drop-in must behave on the wire as
// conn does, and no case may fail. The ReadMessage echo runs
// selftest.DefaultCases (1.* to 10.* and the 12/13 rows of the CI gate),
// the streaming one streamCases; under the race detector both run a
// reduced selection.
//
//	go test ./compat/gorilla -run TestConformance -v
//	go test ./compat/gorilla -run TestConformance -timeout 60m -args -cases '*'
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance run is part of the full test run")
	}
	want, err := selftest.LoadExpected("server")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		stream      bool
		cases, race []string
	}{
		{"ReadMessage", false, selftest.DefaultCases, raceCases},
		{"NextReader", true, streamCases, streamRaceCases},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := tc.cases
			switch {
			case *conformanceCases != "":
				sel = strings.Split(*conformanceCases, ",")
			case selftest.RaceEnabled:
				sel = tc.race
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := &http.Server{Handler: echoServer(tc.stream), ReadHeaderTimeout: 10 * time.Second}
			go hs.Serve(ln)
			defer hs.Close()
			const agent = "compat-gorilla"
			spec := &autobahn.ClientSpec{
				Servers: []autobahn.ServerEntry{{Agent: agent, URL: "ws://" + ln.Addr().String() + "/"}},
				Cases:   sel,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
			defer cancel()
			start := time.Now()
			res, err := autobahn.RunFuzzingClient(ctx, spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := selftest.Outcomes(res, agent)
			counts := map[string]int{}
			for _, o := range got {
				counts[o.Behavior]++
			}
			t.Logf("%d cases in %v: %v", len(got), time.Since(start).Round(time.Second), counts)
			for _, d := range selftest.Diff(want, got, selftest.SelectedIDs(sel, nil)) {
				t.Errorf("differs from conn's echo server: %s", d)
			}
			if res.Failed() {
				var buf strings.Builder
				res.Summary().WriteText(&buf)
				t.Errorf("cases FAILED:\n%s", buf.String())
			}
		})
	}
}
