package autobahn_test

import (
	"fmt"
	"strings"

	"github.com/wirelevel/ws/autobahn"
)

func ExampleSelectCases() {
	// "." is literal and "*" any run of characters: 2.1* leaves out 2.1,
	// 2.10 and 2.11. The order is numeric.
	var ids []string
	for _, c := range autobahn.SelectCases([]string{"2.*", "1.1.1"}, []string{"2.1*"}) {
		ids = append(ids, c.ID)
	}
	fmt.Println(strings.Join(ids, " "))
	fmt.Println(len(autobahn.SelectCases([]string{"*"}, []string{"12.*", "13.*"})))
	// Output:
	// 1.1.1 2.2 2.3 2.4 2.5 2.6 2.7 2.8 2.9
	// 301
}

func ExampleReportBaseName() {
	fmt.Println(autobahn.ReportBaseName("AutobahnPython/0.6.0", "6.4.3"))
	// Output: autobahnpython_0_6_0_case_6_4_3
}

func ExampleIsFailure() {
	fmt.Println(autobahn.IsFailure(autobahn.VerdictNonStrict, autobahn.VerdictOK))
	fmt.Println(autobahn.IsFailure(autobahn.VerdictOK, autobahn.VerdictUnclean))
	// Output:
	// false
	// true
}
