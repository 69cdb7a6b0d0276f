package autobahn

import (
	"slices"
	"testing"
)

// The expectations of the pattern tests were computed with Python's re
// module over the case IDs, the way the suite's caseset.py resolves a spec.
func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, id string
		want        bool
	}{
		{"*", "1.1.1", true},
		{"*", "", true},
		{"1.1.1", "1.1.1", true},
		{"1.1.1", "1.1.10", false}, // no '*': literal, whole ID
		{"1.1.*", "1.1.10", true},
		{"1.1.*", "1.10.1", false},
		{"1.*", "1.2.8", true},
		{"1.*", "10.1.1", false}, // '.' is literal
		{"1*", "10.1.1", true},
		{"6.4.*", "6.4.3", true},
		{"*.1", "7.13.1", true},
		{"*.1", "6.10.2", true},     // anchored at the start only, as re.match
		{"12.*.1", "12.1.10", true}, // the same
		{"12.*.1$", "12.1.10", false},
		{"12.*.1$", "12.3.1", true},
		{"9.*.6", "9.1.6", true},
		{"9.*.6", "9.1.5", false},
		{"1[1-4].*", "12.1.1", true}, // other regular-expression syntax stays
		{"1[1-4].*", "10.1.1", false},
		{"1.1", "1x1", false},
		{"6.?.1", "6.4.1", false}, // no '*': literal
		{"6.1?", "6.1?", true},
		{"**", "x", true},
		{"(*", "1.1.1", false}, // does not compile: matches nothing
	}
	for _, tt := range tests {
		if got := MatchPattern(tt.pattern, tt.id); got != tt.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tt.pattern, tt.id, got, tt.want)
		}
	}
}

func TestMatchAgentPattern(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"Auto*", "AutobahnPython/0.6", true},
		{"Auto*", "MyAutobahn", false},
		{"raw", "raw", true},
		{"raw", "raw-testee", false}, // anchored at both ends
		{"9.*", "9.1.1", true},
		{"9.*", "19.1.1", false},
		{"12.1.1", "12.1.10", false},
		{"*.1", "6.10.2", false},
		{"a|b", "xb", false}, // an alternation does not escape the anchors
		{"a|b", "b", true},
		{"", "", true},
		{"", "1", false},
	}
	for _, tt := range tests {
		if got := MatchAgentPattern(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchAgentPattern(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCompareCaseIDs(t *testing.T) {
	sorted := []string{"1.1.1", "1.1.2", "1.1.10", "2.9", "2.10", "6.4.4", "6.5.1", "6.23.7", "7.5.1", "7.7.1", "7.13.1", "10.1.1", "12.1.1", "13.7.18"}
	shuffled := slices.Clone(sorted)
	slices.Reverse(shuffled)
	shuffled[0], shuffled[5] = shuffled[5], shuffled[0]
	slices.SortFunc(shuffled, CompareCaseIDs)
	if !slices.Equal(shuffled, sorted) {
		t.Errorf("sorted = %v, want %v", shuffled, sorted)
	}
	if CompareCaseIDs("2.9", "2.10") >= 0 || CompareCaseIDs("2.10", "2.9") <= 0 || CompareCaseIDs("3", "3") != 0 {
		t.Error("CompareCaseIDs is not numeric")
	}
	if CompareCaseIDs("x", "1") <= 0 {
		t.Error("an unparseable ID must sort last")
	}
}

func TestSelectCases(t *testing.T) {
	ids := func(cs []*Case) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
		n                int
	}{
		{name: "all", include: []string{"*"}, n: 517},
		{name: "none", include: nil, n: 0},
		{name: "section", include: []string{"2.*"}, n: 11},
		{name: "dedupe and sort", include: []string{"2.10", "2.9", "2.*", "2.10"}, n: 11},
		{name: "exact", include: []string{"2.10", "2.9", "1.1.1"}, want: []string{"1.1.1", "2.9", "2.10"}},
		{name: "exclude", include: []string{"*"}, exclude: []string{"12.*", "13.*"}, n: 301},
		{name: "exclude wins", include: []string{"6.4.*"}, exclude: []string{"6.4.2", "6.4.4"}, want: []string{"6.4.1", "6.4.3"}},
		{name: "literal dot", include: []string{"1.1"}, n: 0},
		{name: "suffix, as the suite matches it", include: []string{"*.1"}, n: 273},
		{name: "row 1 of 12, as the suite matches it", include: []string{"12.*.1"}, n: 50},
		{name: "character class", include: []string{"*"}, exclude: []string{"1[1-4].*"}, n: 301},
		{name: "prefix", include: []string{"6.1*"}, n: 53},
		{name: "alternation", include: []string{"2.1|3.1*"}, want: []string{"2.1", "2.10", "2.11", "3.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(SelectCases(tt.include, tt.exclude))
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("SelectCases = %v, want %v", got, tt.want)
			}
			if tt.want == nil && len(got) != tt.n {
				t.Errorf("SelectCases selected %d, want %d", len(got), tt.n)
			}
			if !slices.IsSortedFunc(got, CompareCaseIDs) {
				t.Errorf("SelectCases not sorted: %v", got)
			}
		})
	}
	// The order of a full run: index_in_full_run.
	for i, c := range SelectCases([]string{"*"}, nil) {
		if c.Index != i+1 {
			t.Fatalf("case %s at %d has index %d", c.ID, i+1, c.Index)
		}
	}
}

func TestExcludedForAgent(t *testing.T) {
	m := map[string][]string{"Auto*": {"9.*", "12.1.1", "*.1"}, "raw": {"1.1.1"}}
	tests := []struct {
		agent, id string
		want      bool
	}{
		{"AutobahnPython", "9.1.1", true},
		{"AutobahnPython", "12.1.1", true},
		{"AutobahnPython", "12.1.2", false},
		{"AutobahnPython", "12.1.10", false}, // whole IDs, unlike cases
		{"AutobahnPython", "6.10.2", false},
		{"AutobahnPython", "7.13.1", true},
		{"raw", "1.1.1", true},
		{"raw-testee", "1.1.1", false},
		{"other", "9.1.1", false},
	}
	for _, tt := range tests {
		if got := ExcludedForAgent(m, tt.agent, tt.id); got != tt.want {
			t.Errorf("ExcludedForAgent(%q, %q) = %v, want %v", tt.agent, tt.id, got, tt.want)
		}
	}
}
