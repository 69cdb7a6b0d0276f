package autobahn

// extraCase is what a case of a section after 13 adds to Case: how it runs.
type extraCase struct {
	modes   []string // nil: both
	seconds float64  // the longest the case waits by design, for its safety timeout
}

// extraCases returns the cases of the sections after 13.
func extraCases() []*Case { return nil }

// Names of the sections after 13 in the reports.
var (
	extraChapterNames     = map[string]string{}
	extraSubcategoryNames = map[string]string{}
)
