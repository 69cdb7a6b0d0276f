package autobahn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// parseCaseID splits a case ID such as "6.4.3" into its numeric components.
func parseCaseID(id string) ([]int, error) {
	parts := strings.Split(id, ".")
	key := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return nil, fmt.Errorf("autobahn: bad case ID %q", id)
		}
		key[i] = n
	}
	return key, nil
}

// CompareCaseIDs orders case IDs numerically by their components, as the
// suite does: 2.9 < 2.10, 7.5.1 < 7.7.1 < 7.13.1, 6.4.4 < 6.5.1 < 6.23.7.
// An ID that does not parse sorts after every one that does, by string.
func CompareCaseIDs(a, b string) int {
	ka, ea := parseCaseID(a)
	kb, eb := parseCaseID(b)
	switch {
	case ea != nil && eb != nil:
		return strings.Compare(a, b)
	case ea != nil:
		return 1
	case eb != nil:
		return -1
	}
	return slices.Compare(ka, kb)
}

func sortCases(cs []*Case) {
	slices.SortFunc(cs, func(a, b *Case) int { return slices.Compare(a.key, b.key) })
}

// MatchPattern reports whether a case ID (or agent name) matches a pattern of
// a spec file: '*' stands for any run of characters, every other character,
// '.' included, stands for itself.
func MatchPattern(pattern, s string) bool {
	// Iterative wildcard matching with one backtrack point: linear in
	// len(pattern)*len(s) at worst, with no recursion.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if MatchPattern(p, s) {
			return true
		}
	}
	return false
}

// SelectCases returns the cases whose ID matches one of include and none of
// exclude, without duplicates, in numeric ID order. An empty include selects
// nothing; use []string{"*"} for all cases.
func SelectCases(include, exclude []string) []*Case {
	var out []*Case
	for _, c := range Cases() { // already sorted and unique
		if matchAny(include, c.ID) && !matchAny(exclude, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// ExcludedForAgent reports whether the exclude-agent-cases map of a spec
// (agent-name pattern to case-ID patterns) excludes case id for agent.
func ExcludedForAgent(m map[string][]string, agent, id string) bool {
	for ap, cps := range m {
		if MatchPattern(ap, agent) && matchAny(cps, id) {
			return true
		}
	}
	return false
}
