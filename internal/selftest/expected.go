package selftest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/internal/testpeer"
)

// Outcome is what the expected results record of a case: its verdicts and
// the testee's close code, not its duration.
type Outcome struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	RemoteCloseCode *int   `json:"remoteCloseCode"`
}

// Expected is a committed set of results: case ID to outcome.
type Expected map[string]Outcome

// ExpectedPath is where the expected results of a side ("server" or
// "client") are committed.
func ExpectedPath(side string) string {
	return filepath.Join(testpeer.Root(), "autobahn", "expected", side+".json")
}

// LoadExpected reads the committed results of a side.
func LoadExpected(side string) (Expected, error) {
	b, err := os.ReadFile(ExpectedPath(side))
	if err != nil {
		return nil, err
	}
	var e Expected
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("selftest: %s: %w", ExpectedPath(side), err)
	}
	return e, nil
}

// Outcomes extracts the outcomes of an agent's cases from results.
func Outcomes(res *autobahn.Results, agent string) Expected {
	e := Expected{}
	for _, cr := range res.Cases {
		if cr.Agent != agent {
			continue
		}
		e[cr.ID] = Outcome{Behavior: cr.Behavior, BehaviorClose: cr.BehaviorClose, RemoteCloseCode: cr.RemoteCloseCode}
	}
	return e
}

// Merge writes got into the committed file of a side, keeping the entries
// of cases that were not run.
func Merge(side string, got Expected) error {
	e, err := LoadExpected(side)
	if err != nil {
		e = Expected{}
	}
	for id, o := range got {
		e[id] = o
	}
	ids := make([]string, 0, len(e))
	for id := range e {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return autobahn.CompareCaseIDs(ids[i], ids[j]) < 0 })
	// Write in case order, one case per line, for readable diffs.
	buf := []byte("{\n")
	for i, id := range ids {
		line, _ := json.Marshal(e[id])
		buf = fmt.Appendf(buf, "  %q: %s", id, line)
		if i < len(ids)-1 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
	}
	buf = append(buf, "}\n"...)
	if err := os.MkdirAll(filepath.Dir(ExpectedPath(side)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(ExpectedPath(side), buf, 0o644)
}

// Diff lists the differences between the outcomes got of a run that
// selected the cases ids and the expected outcomes want. A selected case
// missing from got (it did not run, or its result was lost) and a selected
// case missing from want (it has no committed result) are differences, as
// is a result in got for a case that was not selected; want's entries for
// cases that were not selected are not compared.
func Diff(want, got Expected, ids []string) []string {
	var d []string
	selected := make(map[string]bool, len(ids))
	for _, id := range ids {
		selected[id] = true
		w, inWant := want[id]
		g, inGot := got[id]
		switch {
		case !inGot && !inWant:
			d = append(d, fmt.Sprintf("%s: no result, and none in the expected results", id))
		case !inGot:
			d = append(d, fmt.Sprintf("%s: no result (expected %s)", id, w))
		case !inWant:
			d = append(d, fmt.Sprintf("%s: not in the expected results (got %s)", id, g))
		case w.Behavior != g.Behavior || w.BehaviorClose != g.BehaviorClose || !sameCode(w.RemoteCloseCode, g.RemoteCloseCode):
			d = append(d, fmt.Sprintf("%s: got %s, expected %s", id, g, w))
		}
	}
	for id, g := range got {
		if !selected[id] {
			d = append(d, fmt.Sprintf("%s: a result (%s) for a case that was not selected", id, g))
		}
	}
	sort.Slice(d, func(i, j int) bool { return autobahn.CompareCaseIDs(caseOf(d[i]), caseOf(d[j])) < 0 })
	return d
}

// caseOf returns the case ID a line of Diff starts with.
func caseOf(line string) string {
	id, _, _ := strings.Cut(line, ":")
	return id
}

// SelectedIDs returns the IDs of the cases that the patterns select, as a
// run selects them.
func SelectedIDs(cases, exclude []string) []string {
	var ids []string
	for _, c := range autobahn.SelectCases(cases, exclude) {
		ids = append(ids, c.ID)
	}
	return ids
}

func sameCode(a, b *int) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func (o Outcome) String() string {
	code := "none"
	if o.RemoteCloseCode != nil {
		code = fmt.Sprint(*o.RemoteCloseCode)
	}
	return fmt.Sprintf("%s/%s/close %s", o.Behavior, o.BehaviorClose, code)
}
