// Command peerconformance runs the conformance harness (package
// github.com/wirelevel/ws/autobahn) against third-party WebSocket
// implementations and prints the result tables as Markdown; see
// CONFORMANCE.md in the bench folder.
//
//	cd bench
//	go run ./cmd/peerconformance > /tmp/tables.md   # all default peers, all cases
//	go run ./cmd/peerconformance -peers=gws -cases='6.4.*'
//	go run ./cmd/peerconformance -peers=gorilla+deflate-noctx,node-ws+deflate
//
// It writes each peer's index.json under -out (conformance/results by
// default) and, with -reports, the full per-case reports with wire logs.
// Everything runs on 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wirelevel/ws/bench/conformance"
)

func main() {
	conformance.MaybeRunChild()
	peers := flag.String("peers", "", "comma-separated peers (default: "+names(conformance.DefaultPeers())+"; 'all' for every one: "+names(conformance.Peers)+")")
	cases := flag.String("cases", "", "comma-separated case patterns (default: each peer's own, all cases or 12.*,13.* for the compression variants)")
	exclude := flag.String("exclude", "", "comma-separated case patterns to leave out")
	out := flag.String("out", "conformance/results", "write each peer's index.json into OUT/<peer>/ (empty: do not write)")
	reports := flag.String("reports", "", "also write the full reports (per-case JSON and HTML) into REPORTS/<peer>/")
	rerun := flag.Bool("rerun", true, "run every case that is not OK/OK (UNIMPLEMENTED and INFORMATIONAL aside) a second time")
	timeout := flag.Duration("timeout", 2*time.Hour, "time limit per run against a peer")
	verbose := flag.Bool("v", false, "print a progress line per case to stderr")
	flag.Parse()

	var ps []*conformance.Peer
	switch *peers {
	case "":
		ps = conformance.DefaultPeers()
	case "all":
		ps = conformance.Peers
	default:
		for _, n := range strings.Split(*peers, ",") {
			p := conformance.LookupPeer(strings.TrimSpace(n))
			if p == nil {
				fmt.Fprintf(os.Stderr, "peerconformance: no peer %q; choose from %s\n", n, names(conformance.Peers))
				os.Exit(2)
			}
			ps = append(ps, p)
		}
	}
	cfg := conformance.Config{Cases: split(*cases), Exclude: split(*exclude), Timeout: *timeout,
		ReportsDir: *reports, Rerun: *rerun}
	if *verbose {
		cfg.Progress = os.Stderr
	}
	ci := os.Getenv("CI") == "true"
	var runs []*conformance.Run
	failed := false
	for _, p := range ps {
		start := time.Now()
		fmt.Fprintf(os.Stderr, "peerconformance: %s (%s) ...\n", p.Name, p.Mode)
		r, err := conformance.RunPeer(context.Background(), p, cfg)
		if errors.Is(err, conformance.ErrNoNode) {
			fmt.Fprintf(os.Stderr, "peerconformance: %s skipped: %v\n", p.Name, err)
			failed = failed || ci
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "peerconformance: %s: %v\n", p.Name, err)
			failed = true
			if r == nil {
				continue
			}
		}
		fmt.Fprintf(os.Stderr, "peerconformance: %s done in %v (%d reruns)\n", p.Name, time.Since(start).Round(time.Second), len(r.Reruns))
		if *out != "" && err == nil {
			if err := r.WriteIndex(*out); err != nil {
				fmt.Fprintln(os.Stderr, "peerconformance:", err)
				failed = true
			}
		}
		runs = append(runs, r)
	}
	if len(runs) > 0 {
		fmt.Println("## Overview")
		fmt.Println()
		conformance.WriteOverview(os.Stdout, runs)
		fmt.Println()
		for _, r := range runs {
			r.WriteMarkdown(os.Stdout, conformance.Versions(r.Peer))
		}
	}
	if failed {
		os.Exit(1)
	}
}

func names(ps []*conformance.Peer) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name)
	}
	return strings.Join(s, ",")
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
