package autobahn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCatalogueLoads(t *testing.T) {
	cat, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(Cases()); got != TotalCases {
		t.Fatalf("len(Cases()) = %d, want %d", got, TotalCases)
	}
	// Section counts as CASES.md, Section B.0, lists them.
	want := map[string]int{
		"1.1": 8, "1.2": 8, "2": 11, "3": 7, "4.1": 5, "4.2": 5, "5": 20,
		"6.1": 3, "6.2": 4, "6.3": 2, "6.4": 4, "6.5": 5, "6.6": 11, "6.7": 4, "6.8": 2,
		"6.9": 4, "6.10": 3, "6.11": 5, "6.12": 8, "6.13": 5, "6.14": 10, "6.15": 1,
		"6.16": 3, "6.17": 5, "6.18": 5, "6.19": 5, "6.20": 7, "6.21": 8, "6.22": 34, "6.23": 7,
		"7.1": 6, "7.3": 6, "7.5": 1, "7.7": 13, "7.9": 9, "7.13": 2,
		"9.1": 6, "9.2": 6, "9.3": 9, "9.4": 9, "9.5": 6, "9.6": 6, "9.7": 6, "9.8": 6,
		"10.1": 1,
		"12.1": 18, "12.2": 18, "12.3": 18, "12.4": 18, "12.5": 18,
		"13.1": 18, "13.2": 18, "13.3": 18, "13.4": 18, "13.5": 18, "13.6": 18, "13.7": 18,
	}
	got := map[string]int{}
	chapters := map[string]int{}
	for _, c := range Cases() {
		got[c.Section]++
		chapters[c.Chapter()]++
	}
	for s, n := range want {
		if got[s] != n {
			t.Errorf("section %s: %d cases, want %d", s, got[s], n)
		}
		if cat.file.CountsPerSection[s] != n {
			t.Errorf("counts_per_section[%s] = %d, want %d", s, cat.file.CountsPerSection[s], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d sections, want %d", len(got), len(want))
	}
	wantChapters := map[string]int{"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1, "12": 90, "13": 126}
	for ch, n := range wantChapters {
		if chapters[ch] != n {
			t.Errorf("chapter %s: %d cases, want %d", ch, chapters[ch], n)
		}
	}
	for i, c := range Cases() {
		if c.Index != i+1 {
			t.Errorf("Cases()[%d] is %s with index %d", i, c.ID, c.Index)
		}
		if LookupCase(c.ID) != c {
			t.Errorf("LookupCase(%s) is not the case", c.ID)
		}
	}
}

// TestEveryStepKindImplemented checks that the catalogue uses only step
// kinds the engine implements, and that every implemented kind is used: no
// case can be skipped silently.
func TestEveryStepKindImplemented(t *testing.T) {
	used := map[string]int{}
	for _, c := range AllCases() {
		for _, s := range c.Steps {
			used[s.Do]++
			if stepHandlers[s.Do] == nil {
				t.Errorf("case %s: step kind %q has no handler", c.ID, s.Do)
			}
		}
	}
	kinds := slices.Clone(StepKinds)
	for k := range limitStepHandlers() { // section 16's own
		kinds = append(kinds, k)
	}
	for _, k := range kinds {
		if stepHandlers[k] == nil {
			t.Errorf("step kind %q has no handler", k)
		}
		if used[k] == 0 {
			t.Errorf("step kind %q is used by no case", k)
		}
	}
	if len(stepHandlers) != len(kinds) {
		t.Errorf("%d handlers, %d step kinds", len(stepHandlers), len(kinds))
	}
	bad := []byte(strings.Replace(string(casesJSON), `"do":"pause"`, `"do":"nap"`, 1))
	if _, err := parseCatalogue(bad); err == nil || !strings.Contains(err.Error(), "nap") {
		t.Errorf("parseCatalogue with an unknown step kind: err = %v, want one naming it", err)
	}
}

// TestCatalogueDocument checks that the catalogue's prose companion,
// CASES.md, ships next to cases.json and that its table of counts (Section
// B.0) agrees with the embedded catalogue, so a clone is complete and the
// two cannot drift apart.
func TestCatalogueDocument(t *testing.T) {
	b, err := os.ReadFile("CASES.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### B.0 Counts")
	end := strings.Index(doc, "### B.1 ")
	if start < 0 || end < start {
		t.Fatal("CASES.md has no Section B.0")
	}
	got := map[string]int{}
	for _, line := range strings.Split(doc[start:end], "\n") {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		for i := 0; i+1 < len(cells); i += 2 {
			sec := strings.TrimSpace(cells[i])
			n, err := strconv.Atoi(strings.TrimSpace(cells[i+1]))
			if err == nil {
				got[sec] = n
			}
		}
	}
	if want := SectionCounts(); !maps.Equal(got, want) {
		t.Errorf("CASES.md, Section B.0, counts %v; cases.json %v", got, want)
	}
	if !strings.Contains(doc[start:end], fmt.Sprintf("**Total = %d cases.**", TotalCases)) {
		t.Errorf("CASES.md, Section B.0, does not give the total of %d cases", TotalCases)
	}
}

func TestPayloadBytes(t *testing.T) {
	tests := []struct {
		name string
		p    Payload
		want []byte
	}{
		{"hex", Payload{Hex: "48656c6c6f"}, []byte("Hello")},
		{"empty", Payload{Hex: ""}, []byte{}},
		{"repeat cut", Payload{RepeatHex: "4241736437266a683233", Length: 14}, []byte("BAsd7&jh23BAsd")},
		{"repeat one byte", Payload{RepeatHex: "fe", Length: 3}, []byte{0xfe, 0xfe, 0xfe}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Bytes(); !bytes.Equal(got, tt.want) {
				t.Errorf("Bytes() = % x, want % x", got, tt.want)
			}
			if tt.p.Len() != len(tt.want) {
				t.Errorf("Len() = %d, want %d", tt.p.Len(), len(tt.want))
			}
		})
	}
	// 262144 bytes of BAsd7&jh23 = 26214 copies plus "BAsd" (CASES.md, A.4).
	p := Payload{RepeatHex: "4241736437266a683233", Length: 262144}
	b := p.Bytes()
	if !bytes.Equal(b, bytes.Repeat([]byte("BAsd7&jh23"), 26215)[:262144]) || !bytes.HasSuffix(b, []byte("jh23BAsd")) {
		t.Error("262144-byte cycled payload is wrong")
	}
}

func TestCaseFieldsUsed(t *testing.T) {
	// Spot checks of how cases.json decodes.
	c := LookupCase("6.4.3")
	if c.Steps[0].Do != StepFrameHeaderOnly || c.Steps[0].Length != 21 || c.Steps[0].Fin {
		t.Errorf("6.4.3 step 1 = %+v", c.Steps[0])
	}
	if c := LookupCase("7.3.2"); c.Steps[0].Code != nil || c.Steps[0].Reason.Len() != 1 {
		t.Errorf("7.3.2 close step = %+v", c.Steps[0])
	}
	if c := LookupCase("10.1.1"); c.Steps[0].AutoFragmentSize != 1300 || c.FuzzerSelfCheck["tx_frames_opcode_0"] != 50 {
		t.Errorf("10.1.1 = %+v", c.Steps[0])
	}
	if c := LookupCase("9.7.1"); c.Steps[0].Message == nil || c.Steps[0].Count != 1000 {
		t.Errorf("9.7.1 loop = %+v", c.Steps[0])
	}
	if c := LookupCase("13.7.5"); len(c.PMCE.ServerAcceptOrder) != 3 || c.Evaluator.MessageLength != 4096 {
		t.Errorf("13.7.5 pmce = %+v", c.PMCE)
	}
	infos := []string{}
	for _, c := range Cases() {
		if c.ForcedVerdict != "" {
			infos = append(infos, c.ID)
		}
	}
	if want := []string{"7.1.6", "7.13.1", "7.13.2"}; !slices.Equal(infos, want) {
		t.Errorf("informational cases %v, want %v", infos, want)
	}
	var ds map[string]DatasetInfo
	if err := json.Unmarshal(mustJSON(t, Datasets()), &ds); err != nil || len(ds) != 5 {
		t.Errorf("Datasets() = %v, %v", ds, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
