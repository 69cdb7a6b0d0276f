// Command benchall measures this library against its peers on every
// workload and prints Markdown tables. Run it from the bench module:
//
//	cd bench && go run ./cmd/benchall [-quick] [-only=echo,read,...] [-libs=ours,gorilla,...]
//
// Progress goes to stderr, tables to stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wirelevel/ws/bench"
	"github.com/wirelevel/ws/bench/libs"
)

func main() {
	bench.MaybeRunChild()
	quick := flag.Bool("quick", false, "fewer sizes and repetitions, 1,000 idle connections (under 3 minutes on 2 cores)")
	only := flag.String("only", "", "comma-separated workloads: "+strings.Join(bench.Workloads(), ","))
	libNames := flag.String("libs", "", "comma-separated libraries (default: all but ours-raw): "+allLibs())
	reps := flag.Int("reps", 0, "repetitions per cell (default 3 with -quick, else 5)")
	procs := flag.String("procs", "1,2", "comma-separated GOMAXPROCS values of the servers")
	profile := flag.String("profile", "", "directory for a CPU profile of the server's measured part of every echo, latency, broadcast and storm run")
	flag.Parse()

	sc := bench.FullScale()
	if *quick {
		sc = bench.QuickScale()
	}
	if *reps > 0 {
		sc.Reps = *reps
	}
	sc.Procs = nil
	for _, f := range strings.Split(*procs, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "benchall: -procs %q\n", *procs)
			os.Exit(2)
		}
		sc.Procs = append(sc.Procs, n)
	}
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		bench.SetProfileDir(*profile)
	}
	cfg := bench.Config{Scale: sc, Out: os.Stdout, Log: os.Stderr}
	if *only != "" {
		cfg.Workloads = strings.Split(*only, ",")
	}
	if *libNames != "" {
		cfg.Libs = strings.Split(*libNames, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	start := time.Now()
	fmt.Printf("<!-- %s, %s scale, %d repetitions, servers at GOMAXPROCS %s, started %s, load average %s -->\n",
		runtime.Version(), sc.Name, sc.Reps, *procs, start.UTC().Format(time.RFC3339), loadavg())
	if err := bench.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("\n<!-- ended %s after %v, load average %s -->\n", time.Now().UTC().Format(time.RFC3339), time.Since(start).Round(time.Second), loadavg())
	fmt.Fprintf(os.Stderr, "benchall: done in %v\n", time.Since(start).Round(time.Second))
}

func allLibs() string {
	var names []string
	for _, l := range libs.All {
		names = append(names, l.Name)
	}
	return strings.Join(names, ",")
}

// loadavg returns the first three fields of /proc/loadavg, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
