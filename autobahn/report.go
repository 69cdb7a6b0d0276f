package autobahn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// IndexEntry is one case of one agent in index.json.
type IndexEntry struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	Duration        int64  `json:"duration"`
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
}

// Index is the content of index.json: agent, then case ID, to the entry.
type Index map[string]map[string]IndexEntry

// ReportBaseName returns the file name, without extension, of the report of
// case id for agent: the agent in lower case with every character other
// than a-z and 0-9 replaced by '_', then "_case_", then the ID with its dots
// replaced by '_'. For example "My Server/1.0" and 6.4.3 give
// my_server_1_0_case_6_4_3.
func ReportBaseName(agent, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(agent) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteString("_case_")
	b.WriteString(strings.ReplaceAll(id, ".", "_"))
	return b.String()
}

// BuildIndex returns the index.json content of r: the last result of each
// case for each agent.
func BuildIndex(r *Results) Index {
	idx := Index{}
	for _, agent := range r.Agents() {
		m := map[string]IndexEntry{}
		for _, cr := range latestResults(r, agent) {
			m[cr.ID] = IndexEntry{
				Behavior:        cr.Behavior,
				BehaviorClose:   cr.BehaviorClose,
				Duration:        cr.Duration,
				RemoteCloseCode: cr.RemoteCloseCode,
				ReportFile:      ReportBaseName(agent, cr.ID) + ".json",
			}
		}
		idx[agent] = m
	}
	return idx
}

// WriteReports writes the reports of r into dir, creating it if needed:
// index.json, index.html, and for each agent and case a JSON and an HTML
// file named by [ReportBaseName]. Only the last result of a case that ran
// more than once for an agent is written.
func WriteReports(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("autobahn: %w", err)
	}
	write := func(name string, b []byte) error {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("autobahn: %w", err)
		}
		return nil
	}
	for _, agent := range r.Agents() {
		for _, cr := range latestResults(r, agent) {
			base := ReportBaseName(agent, cr.ID)
			b, err := json.MarshalIndent(cr, "", "   ")
			if err != nil {
				return fmt.Errorf("autobahn: case %s: %w", cr.ID, err)
			}
			if err := write(base+".json", append(b, '\n')); err != nil {
				return err
			}
			var h bytes.Buffer
			if err := caseTemplate.Execute(&h, caseView(cr)); err != nil {
				return fmt.Errorf("autobahn: case %s: %w", cr.ID, err)
			}
			if err := write(base+".html", h.Bytes()); err != nil {
				return err
			}
		}
	}
	b, err := json.MarshalIndent(BuildIndex(r), "", "   ")
	if err != nil {
		return fmt.Errorf("autobahn: index: %w", err)
	}
	if err := write("index.json", append(b, '\n')); err != nil {
		return err
	}
	var h bytes.Buffer
	if err := indexTemplate.Execute(&h, indexView(r)); err != nil {
		return fmt.Errorf("autobahn: index.html: %w", err)
	}
	return write("index.html", h.Bytes())
}

// verdictClass is the CSS class (and colour) of a verdict.
func verdictClass(v string) string {
	switch v {
	case VerdictOK:
		return "ok"
	case VerdictNonStrict:
		return "ns"
	case VerdictInformational:
		return "info"
	case VerdictUnimplemented:
		return "unimpl"
	case "":
		return "missing"
	}
	return "fail"
}

// verdictLabel is how the HTML report shows a headline verdict.
func verdictLabel(v string) string {
	switch v {
	case VerdictOK:
		return "Pass"
	case VerdictNonStrict:
		return "Non-Strict"
	case VerdictInformational:
		return "Info"
	case VerdictUnimplemented:
		return "Unimplemented"
	case VerdictFailed:
		return "Fail"
	}
	return v
}

type indexCell struct {
	Class, Label, CloseClass, Close, Link string
	Duration                              int64
	Code                                  string
	Missing                               bool
}

type indexRow struct {
	ID, Title string
	Cells     []indexCell
}

type indexSection struct {
	Chapter, Category string
	Rows              []indexRow
}

type indexPage struct {
	Mode     string
	Duration time.Duration
	Agents   []string
	Span     int // table columns: the case, then one per agent
	Summary  *Summary
	Sections []indexSection
	Columns  []string
}

func indexView(r *Results) indexPage {
	p := indexPage{Mode: r.Mode, Agents: r.Agents(), Summary: r.Summary(), Columns: headlineOrder}
	p.Span = len(p.Agents) + 1
	p.Duration = p.Summary.Duration.Round(time.Millisecond)
	byAgent := map[string]map[string]*CaseResult{}
	var ids []string
	seen := map[string]bool{}
	for _, a := range p.Agents {
		byAgent[a] = map[string]*CaseResult{}
		for _, cr := range latestResults(r, a) {
			byAgent[a][cr.ID] = cr
			if !seen[cr.ID] {
				seen[cr.ID] = true
				ids = append(ids, cr.ID)
			}
		}
	}
	slices.SortFunc(ids, CompareCaseIDs)
	for _, id := range ids {
		c := LookupCase(id)
		chapter, category, title := strings.SplitN(id, ".", 2)[0], "", ""
		if c != nil {
			chapter, category, title = c.Chapter(), c.Category, c.Title
		}
		if n := len(p.Sections); n == 0 || p.Sections[n-1].Chapter != chapter {
			p.Sections = append(p.Sections, indexSection{Chapter: chapter, Category: category})
		}
		row := indexRow{ID: id, Title: title}
		for _, a := range p.Agents {
			cr := byAgent[a][id]
			if cr == nil {
				row.Cells = append(row.Cells, indexCell{Class: "missing", Label: "Missing", Missing: true})
				continue
			}
			cell := indexCell{
				Class: verdictClass(cr.Behavior), Label: verdictLabel(cr.Behavior),
				CloseClass: verdictClass(cr.BehaviorClose), Close: cr.BehaviorClose,
				Link: ReportBaseName(a, id) + ".html", Duration: cr.Duration,
			}
			if cr.RemoteCloseCode != nil {
				cell.Code = fmt.Sprint(*cr.RemoteCloseCode)
			}
			row.Cells = append(row.Cells, cell)
		}
		s := &p.Sections[len(p.Sections)-1]
		s.Rows = append(s.Rows, row)
	}
	return p
}

const styles = `body { font-family: sans-serif; font-size: 14px; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eee; }
.ok { background: #8fd18f; } .ns { background: #f2d97a; } .info { background: #9cc3ec; }
.unimpl { background: #ccc; } .fail { background: #ef8a8a; } .missing { background: #f6f6f6; color: #999; }
td a { color: inherit; text-decoration: none; display: block; }
.small { font-size: 12px; color: #333; }
pre { background: #f6f6f6; padding: 8px; white-space: pre-wrap; word-break: break-all; }
.mono { font-family: monospace; }
.case { max-width: 420px; }`

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>WebSocket conformance report ({{.Mode}})</title>
<style>` + styles + `</style></head><body>
<h1>WebSocket conformance report</h1>
<p>Mode: {{.Mode}}. Duration: {{.Duration}}. Headline verdict: Pass, Non-Strict, Info, Unimplemented or Fail; below it the close verdict, the testee's close code and the duration.</p>
<h2>Summary</h2>
<table><tr><th>agent</th><th>cases</th>{{range .Columns}}<th>{{.}}</th>{{end}}<th>failed</th><th>abandoned</th></tr>
{{range .Summary.Agents}}{{$a := .}}<tr><td>{{.Agent}}</td><td>{{.Total}}</td>{{range $.Columns}}<td>{{index $a.Behavior .}}</td>{{end}}<td>{{len .Failed}}</td><td>{{.Abandoned}}</td></tr>
{{end}}</table>
<h2>Cases</h2>
<table>
{{range .Sections}}<tr><th colspan="{{$.Span}}">{{.Chapter}} {{.Category}}</th></tr>
<tr><th>case</th>{{range $.Agents}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td class="case">{{.ID}}<br><span class="small">{{.Title}}</span></td>{{range .Cells}}{{if .Missing}}<td class="missing">Missing</td>{{else}}<td class="{{.Class}}"><a href="{{.Link}}">{{.Label}}<br><span class="small">{{.Close}}{{if .Code}} {{.Code}}{{end}} · {{.Duration}} ms</span></a></td>{{end}}{{end}}</tr>
{{end}}{{end}}</table>
<h2>Per section</h2>
{{range .Summary.Agents}}{{$a := .}}<h3>{{.Agent}}</h3>
<table><tr><th>section</th><th>cases</th>{{range $.Columns}}<th>{{.}}</th>{{end}}<th>failed</th></tr>
{{range .Sections}}{{$s := .}}<tr><td>{{.Section}}</td><td>{{.Total}}</td>{{range $.Columns}}<td>{{index $s.Behavior .}}</td>{{end}}<td>{{.Failed}}</td></tr>
{{end}}</table>
{{end}}
</body></html>
`))

type casePage struct {
	*CaseResult
	Class, CloseClass, Label   string
	ExpectedJSON, ReceivedJSON string
	JSONFile                   string
	Facts                      [][2]string
}

func caseView(cr *CaseResult) casePage {
	p := casePage{CaseResult: cr, Class: verdictClass(cr.Behavior), CloseClass: verdictClass(cr.BehaviorClose),
		Label: verdictLabel(cr.Behavior), JSONFile: ReportBaseName(cr.Agent, cr.ID) + ".json"}
	if b, err := json.MarshalIndent(cr.Expected, "", "  "); err == nil {
		p.ExpectedJSON = string(b)
	}
	if b, err := json.MarshalIndent(cr.Received, "", "  "); err == nil {
		p.ReceivedJSON = string(b)
	}
	opt := func(i *int) string {
		if i == nil {
			return "none"
		}
		return fmt.Sprint(*i)
	}
	opts := func(s *string) string {
		if s == nil {
			return "none"
		}
		return fmt.Sprintf("%q", *s)
	}
	p.Facts = [][2]string{
		{"fuzzer role", cr.FuzzerRole},
		{"opening handshake completed", fmt.Sprint(cr.OpenHandshakeDone)},
		{"closedByMe (fuzzer sent the first close)", fmt.Sprint(cr.ClosedByMe)},
		{"failedByMe (fuzzer failed the connection)", fmt.Sprint(cr.FailedByMe)},
		{"fail reason", cr.FailReason},
		{"droppedByMe (fuzzer closed TCP)", fmt.Sprint(cr.DroppedByMe)},
		{"wasClean", fmt.Sprint(cr.WasClean)},
		{"wasNotCleanReason", cr.WasNotCleanReason},
		{"wasOpenHandshakeTimeout", fmt.Sprint(cr.OpenTimeout)},
		{"wasCloseHandshakeTimeout", fmt.Sprint(cr.CloseTimeout)},
		{"wasServerConnectionDropTimeout", fmt.Sprint(cr.DropTimeout)},
		{"wasSafetyTimeout", fmt.Sprint(cr.SafetyTimeout)},
		{"localCloseCode", opt(cr.LocalCloseCode)},
		{"localCloseReason", opts(cr.LocalReason)},
		{"remoteCloseCode", opt(cr.RemoteCloseCode)},
		{"remoteCloseReason", opts(cr.RemoteReason)},
	}
	return p
}

var caseTemplate = template.Must(template.New("case").Funcs(template.FuncMap{
	"deref": func(f *float64) float64 { return *f },
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Agent}} - case {{.ID}}</title>
<style>` + styles + `</style></head><body>
<p><a href="index.html">Back to the index</a> · <a href="{{.JSONFile}}">JSON</a></p>
<h1>{{.Agent}} - Case {{.ID}}: <span class="{{.Class}}">{{.Label}}</span> - {{.Duration}} ms @ {{.Started.Format "2006-01-02T15:04:05.000Z07:00"}}</h1>
<h2>Description</h2><p>{{.Description}}</p>
<h2>Expectation</h2><p>{{.Expectation}}</p>
<h2>Outcome</h2><p class="{{.Class}}">{{.Behavior}}: {{.Result}}</p>
{{if .Expected}}<h3>Expected</h3><pre>{{.ExpectedJSON}}</pre>{{end}}
<h3>Observed ({{.ReceivedTotal}} events)</h3><pre>{{.ReceivedJSON}}</pre>
<h2>Closing behaviour</h2><p class="{{.CloseClass}}">{{.BehaviorClose}}: {{.ResultClose}}</p>
<table>{{range .Facts}}<tr><td>{{index . 0}}</td><td class="mono">{{index . 1}}</td></tr>{{end}}</table>
{{if .PMCE}}<h2>permessage-deflate</h2><p class="mono">{{.PMCE.Response}}</p>{{end}}
{{if .RatioOut}}<p>Compression ratio out: {{printf "%.3f" (deref .RatioOut)}}{{if .RatioIn}}, in: {{printf "%.3f" (deref .RatioIn)}}{{end}}</p>{{end}}
<h2>Opening handshake</h2><p>{{if .HTTP2}}HTTP/2 extended CONNECT (RFC 8441){{else}}HTTP/1.1 upgrade{{end}}{{if .TLS}} over TLS{{end}}</p><pre>{{.HTTPRequest}}</pre><pre>{{.HTTPResponse}}</pre>
<h2>Traffic</h2>
<p>Octets sent {{.Wire.TxOctets}}, received {{.Wire.RxOctets}}. Frames sent by opcode {{.Wire.TxFrames}}, received {{.Wire.RxFrames}}.
{{if .Wire.TxOmitted}} {{.Wire.TxOmitted}} sent frames not logged.{{end}}{{if .Wire.RxOmitted}} {{.Wire.RxOmitted}} received frames not logged.{{end}}</p>
<h2>Wire log</h2>
<table><tr><th>ms</th><th>dir</th><th>opcode</th><th>fin</th><th>rsv</th><th>masked</th><th>length</th><th>payload (first bytes, hex)</th><th>note</th></tr>
{{range .WireLog}}<tr><td>{{.MS}}</td><td>{{.Dir}}</td><td>{{.Opcode}}</td><td>{{.Fin}}</td><td>{{.Rsv}}</td><td>{{.Masked}}</td><td>{{.Length}}</td><td class="mono">{{.Payload}}</td><td>{{.Note}}</td></tr>
{{end}}</table>
</body></html>
`))
