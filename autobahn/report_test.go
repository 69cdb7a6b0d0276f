package autobahn

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReportBaseName(t *testing.T) {
	tests := []struct{ agent, id, want string }{
		{"AutobahnPython/0.6.0", "1.1.1", "autobahnpython_0_6_0_case_1_1_1"},
		{"My Server", "6.4.3", "my_server_case_6_4_3"},
		{"raw-testee", "10.1.1", "raw_testee_case_10_1_1"},
		{"Ünï", "2.1", "_n__case_2_1"},
	}
	for _, tt := range tests {
		if got := ReportBaseName(tt.agent, tt.id); got != tt.want {
			t.Errorf("ReportBaseName(%q, %q) = %q, want %q", tt.agent, tt.id, got, tt.want)
		}
	}
}

// TestWriteReports runs a few cases, writes the reports and reads them back.
func TestWriteReports(t *testing.T) {
	url, err := startTesteeServer(t, flaws{badPong: true})
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	spec := &ClientSpec{Servers: []ServerEntry{{URL: url}}, Cases: []string{"1.1.1", "2.2", "6.4.1", "9.7.1", "10.1.1"}}
	res, err := RunFuzzingClient(context.Background(), spec, &Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	const agent = "raw-testee" // the testee's Server header
	if p := progress.String(); !strings.Contains(p, "[1/5] 1.1.1 agent=raw-testee OK (") || !strings.Contains(p, "[2/5] 2.2 agent=raw-testee FAILED (") {
		t.Errorf("progress output:\n%s", p)
	}
	dir := t.TempDir()
	if err := WriteReports(dir, res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	var raw map[string]map[string]map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if len(idx) != 1 || len(idx[agent]) != 5 {
		t.Fatalf("index.json = %v", idx)
	}
	for _, key := range []string{"behavior", "behaviorClose", "duration", "remoteCloseCode", "reportfile"} {
		if _, ok := raw[agent]["1.1.1"][key]; !ok {
			t.Errorf("index.json entry lacks %q", key)
		}
	}
	if e := idx[agent]["2.2"]; e.Behavior != VerdictFailed || e.BehaviorClose != VerdictOK || e.ReportFile != "raw_testee_case_2_2.json" {
		t.Errorf("index entry of 2.2 = %+v", e)
	}
	if e := idx[agent]["1.1.1"]; e.RemoteCloseCode == nil || *e.RemoteCloseCode != 1000 {
		t.Errorf("1.1.1 remoteCloseCode = %v, want 1000", e.RemoteCloseCode)
	}
	for id, e := range idx[agent] {
		cb, err := os.ReadFile(filepath.Join(dir, e.ReportFile))
		if err != nil {
			t.Fatal(err)
		}
		var cr CaseResult
		if err := json.Unmarshal(cb, &cr); err != nil {
			t.Fatalf("%s: %v", e.ReportFile, err)
		}
		if cr.ID != id || cr.Behavior != e.Behavior || cr.Description == "" || cr.Expectation == "" || len(cr.WireLog) == 0 {
			t.Errorf("%s: %+v", e.ReportFile, cr)
		}
		html, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(e.ReportFile, ".json")+".html"))
		if err != nil || !bytes.Contains(html, []byte("Case "+id)) {
			t.Errorf("html report of %s: %v", id, err)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil || !bytes.Contains(html, []byte(`href="raw_testee_case_6_4_1.html"`)) || !bytes.Contains(html, []byte(`class="fail"`)) {
		t.Errorf("index.html: %v", err)
	}
	var sum bytes.Buffer
	if err := res.Summary().WriteText(&sum); err != nil {
		t.Fatal(err)
	}
	if s := sum.String(); !strings.Contains(s, "raw-testee") || !strings.Contains(s, "Failed cases, agent raw-testee: 2.2") || !strings.Contains(s, "10.1") {
		t.Errorf("summary:\n%s", s)
	}
	s := res.Summary()
	if a := s.Agents[0]; a.Total != 5 || a.Behavior[VerdictOK] != 4 || a.Behavior[VerdictFailed] != 1 || len(a.Sections) != 5 {
		t.Errorf("summary %+v", a)
	}
	// The wire log keeps frames up to a limit and counts the rest.
	cr := res.Lookup(agent, "9.7.1")
	if cr.Wire.TxFrames["1"] != 1000 || cr.Wire.TxOmitted == 0 || len(cr.WireLog) > 2*200 || cr.ReceivedTotal != 1000 || len(cr.Received) > maxEvaluatorEvents {
		t.Errorf("9.7.1 traffic %+v, %d events listed of %d", cr.Wire, len(cr.Received), cr.ReceivedTotal)
	}
	if cr.Duration <= 0 || cr.Started.IsZero() || time.Since(cr.Started) > time.Minute {
		t.Errorf("9.7.1 timing %v %v", cr.Duration, cr.Started)
	}
}
