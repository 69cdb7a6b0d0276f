package autobahn

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReportBaseName(t *testing.T) {
	tests := []struct{ agent, id, want string }{
		{"AutobahnPython/0.6.0", "1.1.1", "autobahnpython_0_6_0_case_1_1_1"},
		{"My Server", "6.4.3", "my_server_case_6_4_3"},
		{"raw-testee", "10.1.1", "raw_testee_case_10_1_1"},
		{"Ünï", "2.1", "n_case_2_1"},               // bytes, as Python 2 strings; trimmed
		{" a é-b/ ", "1.1.1", "a____b_case_1_1_1"}, // é is two bytes
		{"Chrome/120.0.6099.71", "9.1.1", "chrome_120_0_6099_71_case_9_1_1"},
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
		var cr map[string]any
		if err := json.Unmarshal(cb, &cr); err != nil {
			t.Fatalf("%s: %v", e.ReportFile, err)
		}
		checkCaseSchema(t, e.ReportFile, cr)
		if cr["id"] != id || cr["behavior"] != e.Behavior || cr["description"] == "" || cr["expectation"] == "" || len(cr["wirelog"].([]any)) == 0 {
			t.Errorf("%s: %v", e.ReportFile, cr)
		}
		html, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(e.ReportFile, ".json")+".html"))
		if err != nil || !bytes.Contains(html, []byte("Case "+id)) {
			t.Errorf("html report of %s: %v", id, err)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="raw_testee_case_6_4_1.html"`, `class="fail"`, "1.1 Text Messages", "6.4 Fail-fast on invalid UTF-8",
		`<td class="missing wide" colspan="2">Missing</td>`, `id="case_desc_13_7_18"`, "Non-Strict", "Unimplemented", "toggleClose()"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %s", want)
		}
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
	// The wire log keeps entries up to a limit and counts the rest.
	cr := res.Lookup(agent, "9.7.1")
	if cr.Wire.TxFrames["1"] != 1000 || cr.Wire.TxOmitted == 0 || len(cr.WireLog) > 2*200 || cr.ReceivedTotal != 1000 || len(cr.Received) > maxEvaluatorEvents {
		t.Errorf("9.7.1 traffic %+v, %d events listed of %d", cr.Wire, len(cr.Received), cr.ReceivedTotal)
	}
	if cr.Duration <= 0 || cr.Started.IsZero() || time.Since(cr.Started) > time.Minute {
		t.Errorf("9.7.1 timing %v %v", cr.Duration, cr.Started)
	}
}

// caseSchema gives the JSON type of every field of the suite's report file
// of a case, as the suite (wstest 0.8, autobahn-python 0.10.9) writes it;
// "a|b" means either. It was read off report files the suite wrote.
var caseSchema = map[string]string{
	"agent": "string", "behavior": "string", "behaviorClose": "string", "case": "number",
	"closedByMe": "boolean", "createStats": "boolean", "createWirelog": "boolean",
	"description": "string", "droppedByMe": "boolean", "duration": "number", "expectation": "string",
	"expected": "object", "expectedClose": "object", "failedByMe": "boolean",
	"httpRequest": "string", "httpResponse": "string", "id": "string", "isServer": "boolean",
	"localCloseCode": "number|null", "localCloseReason": "string|null", "received": "array",
	"remoteCloseCode": "number|null", "remoteCloseReason": "string|null",
	"reportCompressionRatio": "boolean", "reportTime": "boolean", "result": "string", "resultClose": "string",
	"rxFrameStats": "object", "rxOctetStats": "object", "started": "string", "trafficStats": "object|null",
	"txFrameStats": "object", "txOctetStats": "object", "wasClean": "boolean",
	"wasCloseHandshakeTimeout": "boolean", "wasNotCleanReason": "string|null",
	"wasOpenHandshakeTimeout": "boolean", "wasServerConnectionDropTimeout": "boolean", "wirelog": "array",
}

var trafficSchema = []string{
	"incomingCompressionRatio", "incomingOctetsAppLevel", "incomingOctetsWebSocketLevel", "incomingOctetsWireLevel",
	"incomingWebSocketFrames", "incomingWebSocketMessages", "incomingWebSocketOverhead",
	"outgoingCompressionRatio", "outgoingOctetsAppLevel", "outgoingOctetsWebSocketLevel", "outgoingOctetsWireLevel",
	"outgoingWebSocketFrames", "outgoingWebSocketMessages", "outgoingWebSocketOverhead",
	"preopenIncomingOctetsWireLevel", "preopenOutgoingOctetsWireLevel",
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	}
	return "object"
}

// checkCaseSchema checks a report file against the suite's field names and
// types, down to the tuples of the wire log and the events.
func checkCaseSchema(t *testing.T, name string, cr map[string]any) {
	t.Helper()
	for k, want := range caseSchema {
		v, ok := cr[k]
		if !ok {
			t.Errorf("%s: no field %q", name, k)
			continue
		}
		if got := jsonType(v); !slices.Contains(strings.Split(want, "|"), got) {
			t.Errorf("%s: %s is a JSON %s, want %s", name, k, got, want)
		}
	}
	for k := range cr {
		if _, ok := caseSchema[k]; !ok && k != "wirelevel" {
			t.Errorf("%s: field %q is not the suite's (ours go under \"wirelevel\")", name, k)
		}
	}
	if s, _ := cr["started"].(string); len(s) != len("2020-09-07T18:44:08.089Z") || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s: started %q, want the suite's form 2020-09-07T18:44:08.089Z", name, s)
	}
	if ec, _ := cr["expectedClose"].(map[string]any); jsonType(ec["closeCode"]) != "array" || jsonType(ec["closedByMe"]) != "boolean" || jsonType(ec["requireClean"]) != "boolean" {
		t.Errorf("%s: expectedClose %v", name, ec)
	}
	if ts, ok := cr["trafficStats"].(map[string]any); ok {
		for _, k := range trafficSchema {
			if _, ok := ts[k]; !ok {
				t.Errorf("%s: trafficStats lacks %s", name, k)
			}
		}
	}
	for _, k := range []string{"rxFrameStats", "rxOctetStats", "txFrameStats", "txOctetStats"} {
		for key, n := range cr[k].(map[string]any) {
			if _, err := strconv.Atoi(key); err != nil || jsonType(n) != "number" {
				t.Errorf("%s: %s[%q] = %v", name, k, key, n)
			}
		}
	}
	events := cr["received"].([]any)
	for _, l := range cr["expected"].(map[string]any) {
		events = append(events, l.([]any)...)
	}
	for _, e := range events {
		tu, _ := e.([]any)
		ok := len(tu) >= 2 && jsonType(tu[0]) == "string" && jsonType(tu[1]) == "string"
		if ok && tu[0] == "message" {
			ok = len(tu) == 3 && jsonType(tu[2]) == "boolean"
		}
		if !ok {
			t.Errorf("%s: event %v is not the suite's tuple", name, e)
		}
	}
	// The shapes of the wire log tuples: kind, then the types that follow.
	shapes := map[string]string{
		"RO": "array", "TO": "array boolean", "RF": "array number boolean number boolean string|null",
		"TF": "array number boolean number string|null number|null number|null boolean",
		"KL": "number", "KLE": "", "TI": "number", "TIE": "", "CT": "number string", "CTE": "string", "WLM": "boolean",
	}
	for _, e := range cr["wirelog"].([]any) {
		tu, _ := e.([]any)
		if len(tu) == 0 {
			t.Errorf("%s: wire log entry %v", name, e)
			continue
		}
		kind, _ := tu[0].(string)
		shape, ok := shapes[kind]
		types := strings.Fields(shape)
		if !ok || len(tu) != len(types)+1 {
			t.Errorf("%s: wire log entry %v", name, e)
			continue
		}
		for i, want := range types {
			if got := jsonType(tu[i+1]); !slices.Contains(strings.Split(want, "|"), got) {
				t.Errorf("%s: wire log entry %v: element %d is a %s, want %s", name, e, i+1, got, want)
			}
		}
		if len(types) > 0 && types[0] == "array" {
			if p := tu[1].([]any); len(p) != 2 || jsonType(p[0]) != "number" || jsonType(p[1]) != "string" {
				t.Errorf("%s: wire log entry %v: want [length, data]", name, e)
			}
		}
	}
}
