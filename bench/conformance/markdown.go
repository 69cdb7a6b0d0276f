package conformance

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wirelevel/ws/autobahn"
)

var (
	headlineCols = []string{autobahn.VerdictOK, autobahn.VerdictNonStrict, autobahn.VerdictInformational, autobahn.VerdictUnimplemented, autobahn.VerdictFailed}
	closeCols    = []string{autobahn.VerdictOK, autobahn.VerdictInformational, autobahn.VerdictUnclean, autobahn.VerdictWrongCode, autobahn.VerdictFailedByClient, autobahn.VerdictFailed}
)

// counts are the verdict counts of a set of cases.
type counts struct {
	cases    int
	headline map[string]int
	close    map[string]int
	failed   int // autobahn.IsFailure
}

func (c *counts) add(cr *autobahn.CaseResult) {
	if c.headline == nil {
		c.headline, c.close = map[string]int{}, map[string]int{}
	}
	c.cases++
	c.headline[cr.Behavior]++
	c.close[cr.BehaviorClose]++
	if cr.Failed() {
		c.failed++
	}
}

func (c *counts) row(label string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | %d |", label, c.cases)
	for _, v := range headlineCols {
		fmt.Fprintf(&b, " %s |", num(c.headline[v]))
	}
	for _, v := range closeCols {
		fmt.Fprintf(&b, " %s |", num(c.close[v]))
	}
	fmt.Fprintf(&b, " %s |", num(c.failed))
	return b.String()
}

// num prints 0 as "·" so that the non-zero counts stand out.
func num(n int) string {
	if n == 0 {
		return "·"
	}
	return fmt.Sprint(n)
}

// latest returns the results of the run's first agent, the last run of each
// case, in numeric case order.
func latest(res *autobahn.Results) []*autobahn.CaseResult {
	byID := map[string]*autobahn.CaseResult{}
	for _, cr := range res.Cases {
		byID[cr.ID] = cr
	}
	out := make([]*autobahn.CaseResult, 0, len(byID))
	for _, cr := range byID {
		out = append(out, cr)
	}
	slices.SortFunc(out, func(a, b *autobahn.CaseResult) int { return autobahn.CompareCaseIDs(a.ID, b.ID) })
	return out
}

// Totals returns the verdict counts of the whole run.
func (r *Run) totals() *counts {
	var t counts
	for _, cr := range latest(r.Results) {
		t.add(cr)
	}
	return &t
}

const tableHead = "| %s | cases | OK | NON-STRICT | INFO | UNIMPL | FAILED | close OK | close INFO | UNCLEAN | WRONG CODE | FAILED BY CLIENT | close FAILED | failed (policy) |\n" +
	"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"

// WriteOverview writes one table row per run.
func WriteOverview(w io.Writer, runs []*Run) {
	fmt.Fprintf(w, tableHead, "peer (mode)")
	for _, r := range runs {
		t := r.totals()
		fmt.Fprintln(w, t.row(fmt.Sprintf("%s (%s)", r.Peer.Name, r.Peer.Mode)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "INFO = INFORMATIONAL, UNIMPL = UNIMPLEMENTED; the close columns count the close verdict (behaviorClose); \"failed (policy)\" counts the cases that fail under DECISIONS.md item 8 (`autobahn.IsFailure`).")
}

// WriteMarkdown writes the tables of one run: what ran, the verdict counts
// per section, and every case whose verdicts are not OK/OK, grouped by
// verdicts and reasons.
func (r *Run) WriteMarkdown(w io.Writer, versions string) {
	p := r.Peer
	fmt.Fprintf(w, "### %s (%s)\n\n", p.Name, p.Mode)
	fmt.Fprintf(w, "- Implementation: %s\n", p.Module)
	if versions != "" {
		fmt.Fprintf(w, "- Versions: %s\n", versions)
	}
	fmt.Fprintf(w, "- Setup: %s\n", p.Setup)
	fmt.Fprintf(w, "- Run: %s, %d cases in %s, harness %s\n", r.Results.Started.UTC().Format("2006-01-02 15:04 MST"),
		len(latest(r.Results)), r.Duration.Round(time.Second), autobahn.Version)
	if r.Index != "" {
		fmt.Fprintf(w, "- Raw results: `%s`\n\n", filepath.ToSlash(r.Index))
	} else {
		fmt.Fprintf(w, "- Raw results: not written\n\n")
	}

	fmt.Fprintf(w, tableHead, "section")
	sections := map[string]*counts{}
	var order []string
	var all counts
	for _, cr := range latest(r.Results) {
		sec := cr.ID
		if c := autobahn.LookupCase(cr.ID); c != nil {
			sec = c.Section
		}
		if sections[sec] == nil {
			sections[sec] = &counts{}
			order = append(order, sec)
		}
		sections[sec].add(cr)
		all.add(cr)
	}
	for _, sec := range order {
		fmt.Fprintln(w, sections[sec].row(sec))
	}
	fmt.Fprintln(w, all.row("**all**"))
	fmt.Fprintln(w)
	r.writeNotOK(w)
}

// group is a set of non-OK cases with the same verdicts and reasons.
type group struct {
	ids                      []string
	behavior, behaviorClose  string
	result, resultClose      string
	code                     string
	reruns                   []string // "ID: verdict / close" for reruns that differ
	rerunSame, rerunDiffered int
}

func (r *Run) writeNotOK(w io.Writer) {
	all := latest(r.Results)
	pos := map[string]int{}
	for i, cr := range all {
		pos[cr.ID] = i
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, cr := range all {
		if cr.Behavior == autobahn.VerdictOK && cr.BehaviorClose == autobahn.VerdictOK {
			continue
		}
		code := "none"
		if cr.RemoteCloseCode != nil {
			code = fmt.Sprint(*cr.RemoteCloseCode)
		}
		key := strings.Join([]string{cr.Behavior, cr.BehaviorClose, cr.Result, cr.ResultClose, code}, "\x00")
		g := byKey[key]
		if g == nil {
			g = &group{behavior: cr.Behavior, behaviorClose: cr.BehaviorClose, result: cr.Result, resultClose: cr.ResultClose, code: code}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, cr.ID)
		if again, ok := r.Reruns[cr.ID]; ok {
			if again.Behavior == cr.Behavior && again.BehaviorClose == cr.BehaviorClose {
				g.rerunSame++
			} else {
				g.rerunDiffered++
				g.reruns = append(g.reruns, fmt.Sprintf("%s: %s / %s", cr.ID, again.Behavior, again.BehaviorClose))
			}
		}
	}
	if len(groups) == 0 {
		fmt.Fprintln(w, "Every case is OK / OK.")
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintln(w, "Cases not OK / OK, grouped by verdicts, testee close code and the harness's reasons:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| cases | n | verdict / close verdict | testee close code | reason (verdict; close verdict) | rerun |")
	fmt.Fprintln(w, "|---|--:|---|---|---|---|")
	for _, g := range groups {
		rerun := "not rerun"
		switch {
		case g.rerunDiffered > 0:
			rerun = fmt.Sprintf("%d same, %d differ: %s", g.rerunSame, g.rerunDiffered, strings.Join(g.reruns, "; "))
		case g.rerunSame > 0:
			rerun = "same"
		}
		fmt.Fprintf(w, "| %s | %d | %s / %s | %s | %s; %s | %s |\n", compress(g.ids, pos), len(g.ids),
			g.behavior, g.behaviorClose, g.code, esc(g.result), esc(g.resultClose), rerun)
	}
	fmt.Fprintln(w)
}

// compress prints IDs, collapsing runs of three or more cases that are
// consecutive in the run into "first–last".
func compress(ids []string, pos map[string]int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && pos[ids[j+1]] == pos[ids[j]]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, ids[i]+"–"+ids[j])
		case j == i+1:
			parts = append(parts, ids[i], ids[j])
		default:
			parts = append(parts, ids[i])
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func esc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
