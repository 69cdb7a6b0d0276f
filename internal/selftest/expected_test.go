package selftest

import (
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	code := func(c int) *int { return &c }
	ok := Outcome{Behavior: "OK", BehaviorClose: "OK", RemoteCloseCode: code(1000)}
	failed := Outcome{Behavior: "FAILED", BehaviorClose: "OK", RemoteCloseCode: code(1000)}
	want := Expected{"1.1.1": ok, "1.1.2": ok, "13.7.12": ok, "13.7.18": ok}
	tests := []struct {
		name string
		got  Expected
		ids  []string
		want []string // the case IDs that differ, in order
	}{
		{"same", Expected{"1.1.1": ok, "1.1.2": ok}, []string{"1.1.1", "1.1.2"}, nil},
		{"unselected expectations are not compared", Expected{"1.1.1": ok}, []string{"1.1.1"}, nil},
		{"a verdict differs", Expected{"1.1.1": failed}, []string{"1.1.1"}, []string{"1.1.1"}},
		{"a close code differs", Expected{"1.1.1": {Behavior: "OK", BehaviorClose: "OK"}}, []string{"1.1.1"}, []string{"1.1.1"}},
		{"a selected case has no result", Expected{"1.1.1": ok}, []string{"1.1.1", "13.7.12"}, []string{"13.7.12"}},
		{"a selected case has no expectation", Expected{"1.1.1": ok, "2.1": ok}, []string{"1.1.1", "2.1"}, []string{"2.1"}},
		{"neither", Expected{}, []string{"3.1"}, []string{"3.1"}},
		{"a result that was not selected", Expected{"1.1.1": ok, "1.1.2": ok}, []string{"1.1.1"}, []string{"1.1.2"}},
		{"sorted by case", Expected{"1.1.2": failed, "13.7.18": failed}, []string{"13.7.18", "1.1.2", "1.1.1"}, []string{"1.1.1", "1.1.2", "13.7.18"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(want, tt.got, tt.ids)
			var ids []string
			for _, line := range d {
				ids = append(ids, caseOf(line))
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Diff = %q, want differences in %v", d, tt.want)
			}
		})
	}
}

func TestSelectedIDs(t *testing.T) {
	ids := SelectedIDs(DefaultCases, nil)
	if len(ids) != 409 || ids[0] != "1.1.1" || ids[len(ids)-1] != "13.7.12" {
		t.Errorf("SelectedIDs(DefaultCases) = %d cases, %s ... %s; want 409, 1.1.1 ... 13.7.12", len(ids), ids[0], ids[len(ids)-1])
	}
}
