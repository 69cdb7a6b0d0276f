package autobahn

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// Case patterns, as the suite's wstest reads them (its CaseSet, in
// caseset.py), so that a spec means here what it means there:
//
//   - In "cases" and "exclude-cases", a pattern that holds a '*' is a
//     regular expression once every '.' is replaced by `\.` and every '*'
//     by `.*`, matched at the start of the case ID only (Python's
//     re.match): "9.*" selects 9.1.1, and "*.1" every ID with ".1" in it,
//     6.10.2 included (273 cases). Any other regular-expression syntax in
//     the pattern stays in effect: "1[1-4].*" selects 11.* to 14.*. A
//     pattern without '*' is a case ID, compared literally.
//   - In "exclude-agent-cases", both the agent patterns and their case
//     patterns get the same rewrite, with or without '*', and must match
//     the whole agent name or case ID.
//
// Go's regular expressions (RE2) take the syntax the suite's specs use;
// a pattern they reject is an error (see [CheckPatterns]).

// casePattern is a compiled pattern of "cases" or "exclude-cases".
type casePattern struct {
	src     string
	literal bool           // no '*': the case ID itself
	re      *regexp.Regexp // with '*': anchored at the start
	prefix  string         // the text before the first regular-expression character
}

// agentPatternRE rewrites a pattern of exclude-agent-cases: anchored at both
// ends, as the suite anchors it, then at the start once more, as re.match
// does, so that an alternation cannot match in the middle.
func agentPatternRE(p string) string {
	return "^(?:^" + rewritePattern(p) + "$)"
}

func rewritePattern(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(p, ".", `\.`), "*", ".*")
}

var (
	patternMu    sync.Mutex
	patternCache = map[string]*casePattern{}
	agentCache   = map[string]*regexp.Regexp{}
)

// compilePattern compiles a pattern of "cases" or "exclude-cases".
func compilePattern(p string) (*casePattern, error) {
	patternMu.Lock()
	defer patternMu.Unlock()
	if cp := patternCache[p]; cp != nil {
		return cp, nil
	}
	cp := &casePattern{src: p, literal: !strings.Contains(p, "*")}
	if !cp.literal {
		re, err := regexp.Compile("^(?:" + rewritePattern(p) + ")")
		if err != nil {
			return nil, fmt.Errorf("autobahn: case pattern %q: %w", p, err)
		}
		cp.re = re
	}
	cp.prefix = p
	if i := strings.IndexAny(p, `*?+[](){}|^$\`); i >= 0 {
		cp.prefix = p[:i]
	}
	if len(patternCache) < 1<<12 {
		patternCache[p] = cp
	}
	return cp, nil
}

func compileAgentPattern(p string) (*regexp.Regexp, error) {
	patternMu.Lock()
	defer patternMu.Unlock()
	if re := agentCache[p]; re != nil {
		return re, nil
	}
	re, err := regexp.Compile(agentPatternRE(p))
	if err != nil {
		return nil, fmt.Errorf("autobahn: exclude-agent-cases pattern %q: %w", p, err)
	}
	if len(agentCache) < 1<<12 {
		agentCache[p] = re
	}
	return re, nil
}

func (cp *casePattern) match(id string) bool {
	if cp.literal {
		return cp.src == id
	}
	return cp.re.MatchString(id)
}

// selects reports whether the pattern selects case c: it matches c's ID,
// and for a case of a section after 13, which no pattern selects by
// accident, the pattern names that section: its text before the first '*'
// (or other regular-expression character) is the section's chapter number,
// or starts with it and a dot ("14.*", "14*", "14.2.1"; not "*" or "1*").
func (cp *casePattern) selects(c *Case) bool {
	if !cp.match(c.ID) {
		return false
	}
	if !c.Extra() {
		return true
	}
	ch := c.Chapter()
	return cp.prefix == ch || strings.HasPrefix(cp.prefix, ch+".")
}

// MatchPattern reports whether a pattern of a spec's "cases" or
// "exclude-cases" matches a case ID, as the suite matches it: a pattern
// with '*' is a regular expression ('.' literal, '*' any run of
// characters) matched at the start of the ID, any other pattern is the ID
// itself. A pattern that does not compile matches nothing.
func MatchPattern(pattern, id string) bool {
	cp, err := compilePattern(pattern)
	return err == nil && cp.match(id)
}

// MatchAgentPattern reports whether a pattern of a spec's
// "exclude-agent-cases" (an agent pattern or one of its case patterns)
// matches s, as the suite matches it: '.' literal, '*' any run of
// characters, the whole of s. A pattern that does not compile matches
// nothing.
func MatchAgentPattern(pattern, s string) bool {
	re, err := compileAgentPattern(pattern)
	return err == nil && re.MatchString(s)
}

// ErrNoCases is returned when a spec's patterns select no case (for the
// mode that runs it).
var ErrNoCases = errors.New("autobahn: the spec's cases and exclude-cases select no case")

// CheckPatterns checks a spec's patterns: every pattern compiles, and every
// pattern of include without '*' names a case of [AllCases]. It returns
// the first problem.
func CheckPatterns(include, exclude []string, excludeAgent map[string][]string) error {
	for _, p := range include {
		cp, err := compilePattern(p)
		if err != nil {
			return err
		}
		if cp.literal && LookupCase(p) == nil {
			return fmt.Errorf("autobahn: cases: %q is not a case ID (a pattern without '*' names one case)", p)
		}
	}
	for _, p := range exclude {
		if _, err := compilePattern(p); err != nil {
			return err
		}
	}
	for ap, cps := range excludeAgent {
		if _, err := compileAgentPattern(ap); err != nil {
			return err
		}
		for _, p := range cps {
			if _, err := compileAgentPattern(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func anySelects(patterns []string, c *Case) bool {
	for _, p := range patterns {
		if cp, err := compilePattern(p); err == nil && cp.selects(c) {
			return true
		}
	}
	return false
}

func anyMatches(patterns []string, id string) bool {
	for _, p := range patterns {
		if MatchPattern(p, id) {
			return true
		}
	}
	return false
}

// SelectCases returns the cases that a pattern of include selects and no
// pattern of exclude matches, without duplicates, in numeric ID order, as
// the suite resolves a spec's "cases" and "exclude-cases" (see
// [MatchPattern]). The sections after 13 ([Case.Extra]) are selected only
// by patterns that name them. An empty include selects nothing; use
// []string{"*"} for the whole Autobahn catalogue. Patterns that do not
// compile and IDs that name no case select nothing; [CheckPatterns]
// reports them.
func SelectCases(include, exclude []string) []*Case {
	var out []*Case
	for _, c := range AllCases() { // already sorted and unique
		if anySelects(include, c) && !anyMatches(exclude, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// ExcludedForAgent reports whether the exclude-agent-cases map of a spec
// (agent-name pattern to case-ID patterns) excludes case id for agent. The
// patterns match whole names and IDs; see [MatchAgentPattern].
func ExcludedForAgent(m map[string][]string, agent, id string) bool {
	for ap, cps := range m {
		if !MatchAgentPattern(ap, agent) {
			continue
		}
		for _, p := range cps {
			if MatchAgentPattern(p, id) {
				return true
			}
		}
	}
	return false
}

// casesForMode returns the cases of cs that run in mode (see
// [Case.Modes]), and says on w how many it left out.
func casesForMode(cs []*Case, mode string, w io.Writer) []*Case {
	var out []*Case
	var left []string
	for _, c := range cs {
		if slices.Contains(c.Modes(), mode) {
			out = append(out, c)
		} else {
			left = append(left, c.ID)
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(w, "autobahn: %d selected cases do not run in %s mode and are left out: %s\n", len(left), mode, abbreviateIDs(left))
	}
	return out
}

// abbreviateIDs lists case IDs, the first and last few of a long list.
func abbreviateIDs(ids []string) string {
	if len(ids) <= 8 {
		return strings.Join(ids, " ")
	}
	return strings.Join(ids[:4], " ") + fmt.Sprintf(" ... (%d more) ... ", len(ids)-8) + strings.Join(ids[len(ids)-4:], " ")
}
