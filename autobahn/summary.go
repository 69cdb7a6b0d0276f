package autobahn

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// headlineOrder and closeOrder are the verdict columns of summaries.
var (
	headlineOrder = []string{VerdictOK, VerdictNonStrict, VerdictInformational, VerdictUnimplemented, VerdictFailed}
	closeOrder    = []string{VerdictOK, VerdictInformational, VerdictUnclean, VerdictWrongCode, VerdictFailedByClient, VerdictFailed}
)

// Summary counts the verdicts of a run per agent and per section.
type Summary struct {
	Mode     string
	Duration time.Duration
	Agents   []AgentSummary
}

// AgentSummary counts one agent's verdicts.
type AgentSummary struct {
	Agent         string
	Total         int            // cases run
	Behavior      map[string]int // headline verdict -> count
	BehaviorClose map[string]int // close verdict -> count
	Failed        []string       // IDs of failed cases (see IsFailure), in order
	Abandoned     int            // cases not run
	Sections      []SectionSummary
}

// SectionSummary counts the verdicts of one section ("1.1", "2", ...).
type SectionSummary struct {
	Section  string
	Total    int
	Behavior map[string]int
	Failed   int
}

// Summary returns the verdict counts of r.
func (r *Results) Summary() *Summary {
	s := &Summary{Mode: r.Mode, Duration: r.Finished.Sub(r.Started)}
	for _, agent := range r.Agents() {
		a := AgentSummary{Agent: agent, Behavior: map[string]int{}, BehaviorClose: map[string]int{}}
		secs := map[string]*SectionSummary{}
		for _, cr := range latestResults(r, agent) {
			a.Total++
			a.Behavior[cr.Behavior]++
			a.BehaviorClose[cr.BehaviorClose]++
			sec := cr.ID
			if c := LookupCase(cr.ID); c != nil {
				sec = c.Section
			}
			ss := secs[sec]
			if ss == nil {
				ss = &SectionSummary{Section: sec, Behavior: map[string]int{}}
				secs[sec] = ss
			}
			ss.Total++
			ss.Behavior[cr.Behavior]++
			if cr.Failed() {
				a.Failed = append(a.Failed, cr.ID)
				ss.Failed++
			}
		}
		for _, ab := range r.Abandoned {
			if ab.Agent == agent {
				a.Abandoned += len(ab.Cases)
			}
		}
		for _, ss := range secs {
			a.Sections = append(a.Sections, *ss)
		}
		slices.SortFunc(a.Sections, func(x, y SectionSummary) int { return CompareCaseIDs(x.Section, y.Section) })
		s.Agents = append(s.Agents, a)
	}
	return s
}

// latestResults returns an agent's results, the last run of each case, in
// numeric case order.
func latestResults(r *Results, agent string) []*CaseResult {
	byID := map[string]*CaseResult{}
	for _, cr := range r.Cases {
		if cr.Agent == agent {
			byID[cr.ID] = cr
		}
	}
	out := make([]*CaseResult, 0, len(byID))
	for _, cr := range byID {
		out = append(out, cr)
	}
	slices.SortFunc(out, func(a, b *CaseResult) int { return CompareCaseIDs(a.ID, b.ID) })
	return out
}

// WriteText prints the summary as plain-text tables: headline and close
// verdict counts per agent, then per section for each agent, then the
// failed cases.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Summary (%s, %s)\n\n", s.Mode, s.Duration.Round(time.Millisecond))
	fmt.Fprintf(tw, "agent\tcases\t%s\tfailed\tabandoned\t\n", strings.Join(headlineOrder, "\t"))
	for _, a := range s.Agents {
		fmt.Fprintf(tw, "%s\t%d\t", a.Agent, a.Total)
		for _, v := range headlineOrder {
			fmt.Fprintf(tw, "%d\t", a.Behavior[v])
		}
		fmt.Fprintf(tw, "%d\t%d\t\n", len(a.Failed), a.Abandoned)
	}
	fmt.Fprintf(tw, "\nclose verdicts\t%s\t\n", strings.Join(closeOrder, "\t"))
	for _, a := range s.Agents {
		fmt.Fprintf(tw, "%s\t", a.Agent)
		for _, v := range closeOrder {
			fmt.Fprintf(tw, "%d\t", a.BehaviorClose[v])
		}
		fmt.Fprint(tw, "\n")
	}
	for _, a := range s.Agents {
		fmt.Fprintf(tw, "\nagent %s\n", a.Agent)
		fmt.Fprintf(tw, "section\tcases\t%s\tfailed\t\n", strings.Join(headlineOrder, "\t"))
		for _, ss := range a.Sections {
			fmt.Fprintf(tw, "%s\t%d\t", ss.Section, ss.Total)
			for _, v := range headlineOrder {
				fmt.Fprintf(tw, "%d\t", ss.Behavior[v])
			}
			fmt.Fprintf(tw, "%d\t\n", ss.Failed)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, a := range s.Agents {
		if len(a.Failed) > 0 {
			if _, err := fmt.Fprintf(w, "\nFailed cases, agent %s: %s\n", a.Agent, strings.Join(a.Failed, " ")); err != nil {
				return err
			}
		}
	}
	return nil
}
