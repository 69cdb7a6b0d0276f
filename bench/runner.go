package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wirelevel/ws/bench/libs"
)

// Config selects what [Run] measures.
type Config struct {
	// Scale sets sizes, counts and repetitions; see [QuickScale] and
	// [FullScale].
	Scale *Scale
	// Workloads names the workloads to run (see [Workloads]); nil runs all.
	Workloads []string
	// Libs names the libraries; nil runs [libs.Defaults].
	Libs []string
	// Out receives the Markdown tables; Log, if set, progress lines.
	Out, Log io.Writer
}

// Scale holds the sizes, counts and durations of every workload.
type Scale struct {
	Name   string
	Reps   int  // runs of every case for every library, interleaved
	Verify bool // check every echo (smoke tests; slows the load generator)

	// Procs lists the GOMAXPROCS values the servers run with (the
	// in-memory read path: the parent process); every case runs at each,
	// and the tables add the scaling from the first to the last.
	Procs []int

	EchoConns    int
	EchoWarmup   time.Duration
	EchoDuration time.Duration
	EchoCases    []msgCase

	ReadSizes    []int
	ReadDuration time.Duration

	LatencySizes []int
	RoundTrips   int

	IdleConns int
	IdleSize  int

	BroadcastConns []int
	Broadcasts     int
	BroadcastSize  int

	StormClients  int
	StormWarmup   time.Duration
	StormDuration time.Duration

	DeflateSizes     []int
	DeflateIdleConns int
}

// msgCase is a message size and type.
type msgCase struct {
	size   int
	binary bool
}

// QuickScale finishes in under 3 minutes on 2 cores.
func QuickScale() *Scale {
	return &Scale{
		Name:         "quick",
		Reps:         3,
		Procs:        []int{1, 2},
		EchoConns:    4,
		EchoWarmup:   100 * time.Millisecond,
		EchoDuration: 300 * time.Millisecond,
		EchoCases:    []msgCase{{16, false}, {1 << 10, false}, {1 << 10, true}, {1 << 20, false}},
		ReadSizes:    []int{16, 1 << 10, 64 << 10},
		ReadDuration: 100 * time.Millisecond,
		LatencySizes: []int{16, 1 << 10},
		RoundTrips:   5000,
		IdleConns:    1000, IdleSize: 1 << 10,
		BroadcastConns: []int{1000}, Broadcasts: 10, BroadcastSize: 1 << 10,
		DeflateSizes: []int{1 << 10, 16 << 10}, DeflateIdleConns: 1000,
		StormClients: 32, StormWarmup: 100 * time.Millisecond, StormDuration: 500 * time.Millisecond,
	}
}

// FullScale is the default: every size, 5 repetitions, 10,000 idle
// connections.
func FullScale() *Scale {
	var echo []msgCase
	for _, n := range []int{16, 128, 1 << 10, 16 << 10, 1 << 20} {
		echo = append(echo, msgCase{n, false}, msgCase{n, true})
	}
	return &Scale{
		Name:         "full",
		Reps:         5,
		Procs:        []int{1, 2},
		EchoConns:    4,
		EchoWarmup:   250 * time.Millisecond,
		EchoDuration: time.Second,
		EchoCases:    echo,
		ReadSizes:    []int{16, 1 << 10, 64 << 10},
		ReadDuration: 500 * time.Millisecond,
		LatencySizes: []int{16, 1 << 10},
		RoundTrips:   20000,
		IdleConns:    10000, IdleSize: 1 << 10,
		BroadcastConns: []int{1000, 10000}, Broadcasts: 50, BroadcastSize: 1 << 10,
		DeflateSizes: []int{128, 1 << 10, 16 << 10}, DeflateIdleConns: 1000,
		StormClients: 32, StormWarmup: 250 * time.Millisecond, StormDuration: time.Second,
	}
}

// smokeScale runs every workload at a tiny scale and checks every echo.
func smokeScale() *Scale {
	return &Scale{
		Name:         "smoke",
		Reps:         1,
		Verify:       true,
		Procs:        []int{2},
		EchoConns:    2,
		EchoWarmup:   10 * time.Millisecond,
		EchoDuration: 50 * time.Millisecond,
		EchoCases:    []msgCase{{16, false}, {1 << 10, true}, {1 << 20, false}},
		ReadSizes:    []int{16, 64 << 10},
		ReadDuration: 10 * time.Millisecond,
		LatencySizes: []int{16},
		RoundTrips:   50,
		IdleConns:    20, IdleSize: 1 << 10,
		BroadcastConns: []int{20}, Broadcasts: 3, BroadcastSize: 1 << 10,
		DeflateSizes: []int{1 << 10, 16 << 10}, DeflateIdleConns: 10,
		StormClients: 4, StormWarmup: 10 * time.Millisecond, StormDuration: 50 * time.Millisecond,
	}
}

// column is one library, or one compression variant of it, in a table.
type column struct {
	lib     *libs.Lib
	variant string
}

func (c column) String() string {
	if c.variant == "" {
		return c.lib.Name
	}
	return c.lib.Name + "-" + c.variant
}

// caseSpec is one row group of a workload: a message size and type, or a
// number of connections, at one GOMAXPROCS.
type caseSpec struct {
	label   string
	size    int
	binary  bool
	conns   int  // broadcast: connections
	deflate bool // broadcast: with permessage-deflate
	tls     bool // storm: over TLS
	procs   int  // the server's GOMAXPROCS; 0 for the default
}

// key names the case with its GOMAXPROCS, as rows do.
func (cs caseSpec) key() string {
	if cs.procs == 0 {
		return cs.label
	}
	return fmt.Sprintf("%s · P=%d", cs.label, cs.procs)
}

// errUnsupported is a run's answer for a library that lacks the feature a
// case needs (compression for gobwas): its cell shows a dash.
var errUnsupported = errors.New("bench: not supported by this library")

// metrics are one run's results by key.
type metrics map[string]float64

// metricSpec says how to show one metric.
type metricSpec struct {
	key    string
	label  string
	higher bool // higher is better
	format func(v float64, cs caseSpec) string
	// floor is the smallest value that counts in a ratio: below it,
	// values are equal (0.03 allocations per message, from a pool refilled
	// now and then, is as good as none).
	floor float64
}

// table is one Markdown table: a row for each case and metric.
type table struct {
	title   string
	metrics []metricSpec
}

// workload is one of the measurements.
type workload struct {
	name  string
	title string
	// columns picks the workload's columns from the selected libraries;
	// named says they were named with -libs rather than defaulted.
	columns func(ls []*libs.Lib, named bool) []column
	cases   func(sc *Scale) []caseSpec
	run     func(ctx context.Context, sc *Scale, col column, cs caseSpec) (metrics, error)
	tables  []table
}

// Workloads lists the workload names in the order they run.
func Workloads() []string {
	var names []string
	for _, w := range workloads() {
		names = append(names, w.name)
	}
	return names
}

func workloads() []*workload {
	return []*workload{echoWorkload, readWorkload, latencyWorkload, idleWorkload, broadcastWorkload, deflateWorkload, deflateIdleWorkload, stormWorkload}
}

// echoColumns is one column per library, the raw TCP baseline included.
func echoColumns(ls []*libs.Lib, _ bool) []column {
	var cols []column
	for _, l := range ls {
		cols = append(cols, column{lib: l})
	}
	return cols
}

// plainColumns is one column per WebSocket library.
func plainColumns(ls []*libs.Lib, _ bool) []column {
	var cols []column
	for _, l := range ls {
		if !l.Baseline {
			cols = append(cols, column{lib: l})
		}
	}
	return cols
}

// readColumns is one column per library with an in-memory read path.
func readColumns(ls []*libs.Lib, _ bool) []column {
	var cols []column
	for _, l := range ls {
		if l.HasReadPath() {
			cols = append(cols, column{lib: l})
		}
	}
	return cols
}

// deflateColumns is one column per compression variant.
func deflateColumns(ls []*libs.Lib, _ bool) []column {
	var cols []column
	for _, l := range ls {
		for _, v := range l.Deflate {
			cols = append(cols, column{lib: l, variant: v})
		}
	}
	return cols
}

// Run runs the selected workloads and writes their tables to cfg.Out.
func Run(ctx context.Context, cfg Config) error {
	sc := cfg.Scale
	if sc == nil {
		sc = FullScale()
	}
	ls, err := selectLibs(cfg.Libs)
	if err != nil {
		return err
	}
	var ws []*workload
	for _, w := range workloads() {
		if cfg.Workloads == nil || slices.Contains(cfg.Workloads, w.name) {
			ws = append(ws, w)
		}
	}
	for _, name := range cfg.Workloads {
		if !slices.Contains(Workloads(), name) {
			return fmt.Errorf("bench: no workload %q (have %s)", name, strings.Join(Workloads(), ", "))
		}
	}
	if len(sc.Procs) == 0 {
		sc.Procs = []int{0}
	}
	raiseFileLimit()
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	writeLibs(cfg.Out, ls)
	for _, w := range ws {
		if err := ctx.Err(); err != nil {
			return err
		}
		cols := w.columns(ls, cfg.Libs != nil)
		if len(cols) == 0 {
			logf("%s: no selected library takes part", w.name)
			continue
		}
		start := time.Now()
		res := runWorkload(ctx, w, sc, cols, logf)
		logf("%s: done in %v", w.name, time.Since(start).Round(time.Millisecond))
		res.write(cfg.Out)
	}
	return nil
}

func selectLibs(names []string) ([]*libs.Lib, error) {
	if names == nil {
		return libs.Defaults(), nil
	}
	if len(names) == 1 && names[0] == "all" {
		return libs.All, nil
	}
	var ls []*libs.Lib
	for _, l := range libs.All {
		if slices.Contains(names, l.Name) {
			ls = append(ls, l)
		}
	}
	for _, n := range names {
		if libs.Lookup(n) == nil {
			var all []string
			for _, l := range libs.All {
				all = append(all, l.Name)
			}
			return nil, fmt.Errorf("bench: no library %q (have %s)", n, strings.Join(all, ", "))
		}
	}
	return ls, nil
}

// writeLibs writes the table of libraries and how each is used.
func writeLibs(w io.Writer, ls []*libs.Lib) {
	fmt.Fprint(w, "\n### Libraries\n\n| name | module | API used | checks UTF-8 of text by default |\n|---|---|---|---|\n")
	for _, l := range ls {
		utf8 := "no"
		if l.UTF8 {
			utf8 = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", l.Name, l.Module, l.API, utf8)
	}
}

// result holds every run of one workload.
type result struct {
	w           *workload
	sc          *Scale
	cols        []column
	cases       []caseSpec           // every case at every GOMAXPROCS
	runs        map[string][]metrics // by case key + "\x00" + column
	unsupported map[string]bool      // the same keys
	notes       []string
}

// expand returns every case of cases at every GOMAXPROCS of procs.
func expand(cases []caseSpec, procs []int) []caseSpec {
	var out []caseSpec
	for _, cs := range cases {
		for _, p := range procs {
			cs.procs = p
			out = append(out, cs)
		}
	}
	return out
}

func runWorkload(ctx context.Context, w *workload, sc *Scale, cols []column, logf func(string, ...any)) *result {
	procs := sc.Procs
	if len(procs) == 0 {
		procs = []int{0}
	}
	res := &result{w: w, sc: sc, cols: cols, cases: expand(w.cases(sc), procs), runs: map[string][]metrics{}, unsupported: map[string]bool{}}
	total := sc.Reps * len(res.cases) * len(cols)
	i := 0
	for rep := range sc.Reps {
		for _, cs := range res.cases {
			// Round-robin, starting one further each repetition, so
			// that drift and position effects hit every library alike.
			for k := range cols {
				col := cols[(k+rep)%len(cols)]
				if ctx.Err() != nil {
					return res
				}
				i++
				runtime.GC()
				start := time.Now()
				m, err := w.run(ctx, sc, col, cs)
				took := time.Since(start).Round(time.Millisecond)
				key := cs.key() + "\x00" + col.String()
				if errors.Is(err, errUnsupported) {
					res.unsupported[key] = true
					continue
				}
				if err != nil {
					logf("[%s %d/%d] %s %s: error: %v", w.name, i, total, cs.key(), col, err)
					res.notes = append(res.notes, fmt.Sprintf("%s, %s, repetition %d: %v", col, cs.key(), rep+1, err))
					continue
				}
				res.runs[key] = append(res.runs[key], m)
				logf("[%s %d/%d] %s %s: %s (%v)", w.name, i, total, cs.key(), col, res.brief(m, cs), took)
			}
		}
	}
	return res
}

// brief formats a run's first metric for the progress log.
func (r *result) brief(m metrics, cs caseSpec) string {
	ms := r.w.tables[0].metrics[0]
	return ms.format(m[ms.key], cs)
}

// med returns the median of a metric over the runs of one cell.
func (r *result) med(cs caseSpec, col column, key string) float64 {
	var v []float64
	for _, m := range r.runs[cs.key()+"\x00"+col.String()] {
		if x, ok := m[key]; ok && !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	return median(v)
}

// ours returns the column the first ratio is taken for: the first one of
// this library (for echo, the README's loop).
func (r *result) ours() (column, bool) {
	for _, c := range r.cols {
		if !c.lib.Peer && !c.lib.Baseline {
			return c, true
		}
	}
	return column{}, false
}

// ratioCols are the columns a table ends with, each a ratio per row.
type ratioCols struct {
	first    column // ours ÷ best peer
	best     bool   // best of ours ÷ best peer (more than one column of ours)
	baseline *column
	peers    bool
}

func (r *result) ratios() ratioCols {
	var rc ratioCols
	first, ok := r.ours()
	nOurs := 0
	for _, c := range r.cols {
		switch {
		case c.lib.Baseline:
			c := c
			rc.baseline = &c
		case c.lib.Peer:
			rc.peers = true
		default:
			nOurs++
		}
	}
	if ok {
		rc.first = first
	}
	rc.best = nOurs > 1
	if !ok {
		rc.peers, rc.baseline = false, nil
	}
	return rc
}

// cell returns the median of a metric for a cell, and whether it has one.
func (r *result) cell(cs caseSpec, col column, key string) (float64, string) {
	if r.unsupported[cs.key()+"\x00"+col.String()] {
		return math.NaN(), "–"
	}
	v := r.med(cs, col, key)
	if math.IsNaN(v) {
		return v, "error"
	}
	return v, ""
}

func (r *result) write(w io.Writer) {
	rc := r.ratios()
	for ti, t := range r.w.tables {
		title := r.w.title
		if t.title != "" {
			title += ": " + t.title
		}
		fmt.Fprintf(w, "\n### %s\n\n", title)
		if ti == 0 {
			fmt.Fprintf(w, "Medians of %d runs per cell, %s scale.\n\n", r.sc.Reps, r.sc.Name)
		}
		fmt.Fprint(w, "| case |")
		for _, c := range r.cols {
			fmt.Fprintf(w, " %s |", c)
		}
		nr := 0
		if rc.peers {
			fmt.Fprintf(w, " %s ÷ best peer |", rc.first)
			nr++
			if rc.best {
				fmt.Fprint(w, " best of ours ÷ best peer |")
				nr++
			}
		}
		if rc.baseline != nil {
			fmt.Fprintf(w, " %s ÷ %s |", rc.first, rc.baseline)
			nr++
		}
		fmt.Fprint(w, "\n|---|")
		for range len(r.cols) + nr {
			fmt.Fprint(w, "---:|")
		}
		fmt.Fprintln(w)
		for _, cs := range r.cases {
			for _, ms := range t.metrics {
				r.writeRow(w, cs, ms, rc)
			}
		}
	}
	r.writeScaling(w, rc)
	if len(r.notes) > 0 {
		fmt.Fprintf(w, "\nFailed runs (%s):\n\n", r.w.name)
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func arrow(higher bool) string {
	if higher {
		return "↑"
	}
	return "↓"
}

func (r *result) writeRow(w io.Writer, cs caseSpec, ms metricSpec, rc ratioCols) {
	label := cs.key()
	if ms.label != "" {
		label = cs.label + ", " + ms.label
		if cs.procs != 0 {
			label += fmt.Sprintf(" · P=%d", cs.procs)
		}
	}
	fmt.Fprintf(w, "| %s %s |", label, arrow(ms.higher))
	better := func(v, than float64) bool {
		return math.IsNaN(than) || (ms.higher && v > than) || (!ms.higher && v < than)
	}
	best, bestCol := math.NaN(), ""
	mine, mineCol := math.NaN(), ""
	first, base := math.NaN(), math.NaN()
	for _, c := range r.cols {
		v, bad := r.cell(cs, c, ms.key)
		if bad != "" {
			fmt.Fprintf(w, " %s |", bad)
			continue
		}
		fmt.Fprintf(w, " %s |", ms.format(v, cs))
		switch {
		case c.lib.Baseline:
			base = v
		case c.lib.Peer:
			if better(v, best) {
				best, bestCol = v, c.String()
			}
		default:
			if c == rc.first {
				first = v
			}
			if better(v, mine) {
				mine, mineCol = v, c.String()
			}
		}
	}
	ratio := func(a, b float64, names string) {
		if math.IsNaN(a) || math.IsNaN(b) || max(b, ms.floor) == 0 {
			fmt.Fprint(w, " – |")
			return
		}
		fmt.Fprintf(w, " %.2f%s |", max(a, ms.floor)/max(b, ms.floor), names)
	}
	if rc.peers {
		ratio(first, best, " ("+bestCol+")")
		if rc.best {
			ratio(mine, best, " ("+mineCol+" ÷ "+bestCol+")")
		}
	}
	if rc.baseline != nil {
		ratio(first, base, "")
	}
	fmt.Fprintln(w)
}

// writeScaling writes, when cases ran at several GOMAXPROCS, the first
// table's metrics at the last GOMAXPROCS divided by those at the first:
// how each server's results change with cores.
func (r *result) writeScaling(w io.Writer, rc ratioCols) {
	procs := r.sc.Procs
	if len(procs) < 2 {
		return
	}
	lo, hi := procs[0], procs[len(procs)-1]
	fmt.Fprintf(w, "\n### %s: scaling, GOMAXPROCS=%d ÷ GOMAXPROCS=%d\n\n", r.w.title, hi, lo)
	fmt.Fprint(w, "| case |")
	for _, c := range r.cols {
		fmt.Fprintf(w, " %s |", c)
	}
	fmt.Fprint(w, "\n|---|")
	for range r.cols {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, cs := range r.cases {
		if cs.procs != lo {
			continue
		}
		for _, ms := range r.w.tables[0].metrics {
			label := cs.label
			if ms.label != "" {
				label += ", " + ms.label
			}
			fmt.Fprintf(w, "| %s %s |", label, arrow(ms.higher))
			at := cs
			at.procs = hi
			for _, c := range r.cols {
				a, bad1 := r.cell(cs, c, ms.key)
				b, bad2 := r.cell(at, c, ms.key)
				if bad1 != "" || bad2 != "" || a == 0 {
					fmt.Fprint(w, " – |")
					continue
				}
				fmt.Fprintf(w, " %.2f |", b/a)
			}
			fmt.Fprintln(w)
		}
	}
}

// Formatting helpers.

func sizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// si formats v with k, M or G.
func si(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func fmtMicros(v float64, _ caseSpec) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2f ms", v/1000)
	}
	return fmt.Sprintf("%.1f µs", v)
}

func fmtKiB(v float64, _ caseSpec) string { return fmt.Sprintf("%.1f KiB", v/1024) }
