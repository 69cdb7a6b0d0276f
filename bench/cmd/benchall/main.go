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
	flag.Parse()

	sc := bench.FullScale()
	if *quick {
		sc = bench.QuickScale()
	}
	if *reps > 0 {
		sc.Reps = *reps
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
	fmt.Printf("<!-- %s, GOMAXPROCS=%d, %s scale, %d repetitions -->\n", runtime.Version(), runtime.GOMAXPROCS(0), sc.Name, sc.Reps)
	if err := bench.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "benchall: done in %v\n", time.Since(start).Round(time.Second))
}

func allLibs() string {
	var names []string
	for _, l := range libs.All {
		names = append(names, l.Name)
	}
	return strings.Join(names, ",")
}
