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
// case id for agent, as the suite names it: the agent in lower case with
// every byte other than a-z and 0-9 replaced by a space, leading and
// trailing spaces removed and the others replaced by '_', then "_case_",
// then the ID with its dots replaced by '_'. For example "My Server/1.0"
// and 6.4.3 give my_server_1_0_case_6_4_3.
func ReportBaseName(agent, id string) string {
	b := []byte(strings.ToLower(agent))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = ' '
		}
	}
	name := strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_")
	return name + "_case_" + strings.ReplaceAll(id, ".", "_")
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
// file named by [ReportBaseName], in the suite's layout and formats. Only
// the last result of a case that ran more than once for an agent is
// written.
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
			b, err := indentJSON(cr)
			if err != nil {
				return fmt.Errorf("autobahn: case %s: %w", cr.ID, err)
			}
			if err := write(base+".json", b); err != nil {
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
	b, err := indentJSON(BuildIndex(r))
	if err != nil {
		return fmt.Errorf("autobahn: index: %w", err)
	}
	if err := write("index.json", b); err != nil {
		return err
	}
	var h bytes.Buffer
	if err := indexTemplate.Execute(&h, indexView(r)); err != nil {
		return fmt.Errorf("autobahn: index.html: %w", err)
	}
	return write("index.html", h.Bytes())
}

// indentJSON encodes v as the suite writes its report files: indented by
// three spaces, without escaping <, > and &, with a final newline.
func indentJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "   ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
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
	case VerdictFailedByClient:
		return "almost"
	case VerdictWrongCode:
		return "ns"
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

// closeLabel is what the close cell of the index shows, as in the suite:
// the testee's close code, or Unclean or Fail.
func closeLabel(cr *CaseResult) string {
	switch cr.BehaviorClose {
	case VerdictUnclean:
		return "Unclean"
	case VerdictFailed:
		return "Fail"
	}
	if cr.RemoteCloseCode == nil {
		return "None"
	}
	return fmt.Sprint(*cr.RemoteCloseCode)
}

// legend explains the cells of the index, as the suite's report does.
var legend = []struct{ Class, Label, Text string }{
	{"ok", "Pass", "The case ran and the testee behaved as the specification requires."},
	{"ns", "Non-Strict", "The case ran and passed, but not strictly: the testee did not do what a SHOULD of the specification, or a well-defined behaviour it leaves open, asks for. It still conforms."},
	{"fail", "Fail", "The case ran and the testee broke a MUST of the specification (or, in the performance and limits cases, did not complete in time)."},
	{"info", "Info", "An informational case: it shows how the testee behaves where the specification leaves the choice open. It neither passes nor fails."},
	{"missing", "Missing", "The agent has no result for the case: the spec did not select it, it was excluded for the agent, or the run was cut short."},
	{"unimpl", "Unimplemented", "The testee does not implement what the case tests (in sections 12 and 13: it did not negotiate permessage-deflate)."},
}

type indexCell struct {
	Class, Label, Link, Detail string
	CloseClass, Close          string
	Wide                       bool // one cell spanning the verdict and close columns
}

type indexRow struct {
	ID, Anchor string
	Cells      []indexCell
}

type indexGroup struct {
	Chapter, ChapterName string // set when a chapter header row precedes
	Sub, SubName         string // set when a sub-category row precedes
	Rows                 []indexRow
}

type appendixEntry struct {
	ID, Anchor, Description, Expectation string
}

type indexPage struct {
	Mode, Harness, Generated string
	Duration                 time.Duration
	Agents                   []string
	Span                     int // columns of a full-width row
	Summary                  *Summary
	Columns                  []string
	Legend                   any
	Groups                   []indexGroup
	Appendix                 []appendixEntry
}

// indexCases returns the cases the index lists: the whole Autobahn
// catalogue, as the suite's index does, and the cases of the sections
// after 13 that some agent ran, with any case that has a result and is
// not in the catalogue.
func indexCases(r *Results) []string {
	ran := map[string]bool{}
	for _, cr := range r.Cases {
		ran[cr.ID] = true
	}
	var ids []string
	for _, c := range AllCases() {
		if !c.Extra() || ran[c.ID] {
			ids = append(ids, c.ID)
		}
		delete(ran, c.ID)
	}
	for id := range ran {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, CompareCaseIDs)
	return ids
}

func caseAnchor(id string) string { return "case_desc_" + strings.ReplaceAll(id, ".", "_") }

func indexView(r *Results) indexPage {
	agents := slices.Sorted(slices.Values(r.Agents()))
	p := indexPage{
		Mode: r.Mode, Harness: Version, Generated: time.Now().UTC().Format(startedFormat),
		Agents: agents, Span: 2*len(agents) + 1, Summary: r.Summary(), Columns: headlineOrder, Legend: legend,
	}
	p.Duration = p.Summary.Duration.Round(time.Millisecond)
	byAgent := map[string]map[string]*CaseResult{}
	for _, a := range agents {
		byAgent[a] = map[string]*CaseResult{}
		for _, cr := range latestResults(r, a) {
			byAgent[a][cr.ID] = cr
		}
	}
	lastChapter, lastSub := "", "\x00"
	for _, id := range indexCases(r) {
		chapter := strings.SplitN(id, ".", 2)[0]
		sub, subName := subcategoryOf(id), SubcategoryName(subcategoryOf(id))
		if subName == "" {
			sub = ""
		}
		// A header row with the agents before each chapter and each
		// named sub-category, as the suite repeats it.
		if chapter != lastChapter || sub != lastSub {
			g := indexGroup{Chapter: chapter, ChapterName: ChapterName(chapter)}
			if sub != "" && sub != lastSub {
				g.Sub, g.SubName = sub, subName
			}
			p.Groups = append(p.Groups, g)
			lastChapter, lastSub = chapter, sub
		}
		row := indexRow{ID: id, Anchor: caseAnchor(id)}
		for _, a := range agents {
			cr := byAgent[a][id]
			switch {
			case cr == nil:
				row.Cells = append(row.Cells, indexCell{Class: "missing", Label: "Missing", Wide: true})
			case cr.Behavior == VerdictUnimplemented:
				row.Cells = append(row.Cells, indexCell{Class: "unimpl", Label: "Unimplemented", Wide: true,
					Link: ReportBaseName(a, id) + ".html"})
			default:
				cell := indexCell{
					Class: verdictClass(cr.Behavior), Label: verdictLabel(cr.Behavior),
					Link:       ReportBaseName(a, id) + ".html",
					CloseClass: verdictClass(cr.BehaviorClose), Close: closeLabel(cr),
				}
				var detail []string
				if cr.ReportTime {
					detail = append(detail, fmt.Sprintf("%d ms", cr.Duration))
				}
				if cr.ReportRatio {
					ratio := func(f *float64) string {
						if f == nil {
							return "-"
						}
						return fmt.Sprintf("%.3f", *f)
					}
					detail = append(detail, fmt.Sprintf("[%s/%s]", ratio(cr.RatioIn), ratio(cr.RatioOut)))
				}
				cell.Detail = strings.Join(detail, " ")
				row.Cells = append(row.Cells, cell)
			}
		}
		g := &p.Groups[len(p.Groups)-1]
		g.Rows = append(g.Rows, row)
		if c := LookupCase(id); c != nil {
			p.Appendix = append(p.Appendix, appendixEntry{ID: id, Anchor: row.Anchor, Description: c.Title, Expectation: expectation(c)})
		}
	}
	return p
}

const styles = `body { font-family: "Segoe UI", Tahoma, Arial, sans-serif; font-size: 14px; margin: 1.5em 2em; color: #333; background: #f4f4f4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 1.6em; } h3 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #fff; padding: 4px 10px; text-align: left; vertical-align: top; }
th, .hdr td { background: #666; color: #fff; font-weight: normal; }
.sub td { background: #999; color: #fff; }
.ok { background: #0a0; color: #fff; } .ns { background: #bb0; color: #fff; } .info { background: #46c; color: #fff; }
.unimpl { background: #777; color: #fff; } .fail { background: #c00; color: #fff; } .almost { background: #d80; color: #fff; }
.missing { background: #ccc; color: #666; }
td a { color: inherit; }
td.case a { color: #333; }
.detail { font-size: 11px; }
.legend td.text { background: #fff; color: #333; max-width: 60em; }
.block { background: #e4e4e4; padding: 1em 1.5em; margin: 1em 0; border-radius: 6px; }
.note { max-width: 60em; }
pre, .mono { font-family: Consolas, "Courier New", monospace; font-size: 12px; }
pre { background: #fff; border: 1px solid #bbb; border-radius: 6px; padding: 8px 12px; white-space: pre-wrap; word-break: break-all; }
table.results td.close { display: none; }
table.results.show-close td.close { display: table-cell; }
table.results td.wide { }
#toggle { position: fixed; top: 1em; right: 2em; padding: 6px 12px; background: #028ec9; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
.up { float: right; font-size: 12px; }
.stats td, .stats th { border: 1px solid #ccc; }
.stats td { background: #fff; }
.stats td.num { text-align: right; }
.stats tr.total td { font-weight: bold; }
.kv td { background: #fff; border: 1px solid #ccc; }
.wl { font-family: Consolas, "Courier New", monospace; font-size: 12px; border-collapse: collapse; }
.wl td { border: 0; padding: 1px 8px; background: transparent; color: #333; white-space: pre-wrap; word-break: break-all; }
.wl tr.tx td { color: #054; } .wl tr.rx td { color: #036; }
.wl tr.txo td, .wl tr.rxo td { color: #666; }
.wl tr.timer td { color: #a50; }
.wl tr.end td { color: #000; font-weight: bold; }
.casehead { padding: 10px 16px; border-radius: 6px; font-size: 1.2em; }`

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>WebSocket conformance report ({{.Mode}})</title>
<style>` + styles + `</style>
<script>
function toggleClose() {
  var t = document.getElementById('agent_case_results');
  t.classList.toggle('show-close');
  document.getElementById('toggle').textContent = t.classList.contains('show-close') ? 'Hide close details' : 'Show close details';
}
</script></head><body>
<button id="toggle" onclick="toggleClose()">Show close details</button>
<a id="top"></a>
<h1>WebSocket conformance report</h1>
<div class="block" id="master_report_header">
<p>Generated {{.Generated}} (UTC) by {{.Harness}}, a re-implementation of the Autobahn|Testsuite, in {{.Mode}} mode; the run took {{.Duration}}.</p>
<table class="legend" id="case_outcome_desc">{{range .Legend}}<tr><td class="{{.Class}}">{{.Label}}</td><td class="text">{{.Text}}</td></tr>
{{end}}</table>
<p class="note">Each agent has two columns: the headline verdict (a link to the case's report; below it the duration of the cases that report it, and the compression ratios in/out of sections 12 and 13), and the close behaviour, shown with the button at the top right: the testee's close code, coloured by the close verdict (orange: the fuzzer, as the client, had to drop TCP; yellow: a close code the case does not accept; red: Unclean or Fail).</p>
</div>
<h2>Summary</h2>
<table class="stats" id="summary"><tr><th>agent</th><th>cases</th>{{range .Columns}}<th>{{.}}</th>{{end}}<th>failed (policy)</th><th>abandoned</th></tr>
{{range .Summary.Agents}}{{$a := .}}<tr><td>{{.Agent}}</td><td class="num">{{.Total}}</td>{{range $.Columns}}<td class="num">{{index $a.Behavior .}}</td>{{end}}<td class="num">{{len .Failed}}</td><td class="num">{{.Abandoned}}</td></tr>
{{end}}</table>
<p class="note">The FAILED column counts the cases whose headline verdict is FAILED. "failed (policy)" counts the cases that fail under this harness's policy (DECISIONS.md, item 8): a FAILED headline verdict <em>or</em> a close verdict of FAILED, UNCLEAN, WRONG CODE or FAILED BY CLIENT, so it can be larger; wstest's exit status follows it. "abandoned" counts the cases not run because the testee could not be reached.</p>
<h2>Results</h2>
<table class="results" id="agent_case_results">
{{range .Groups}}{{if .Chapter}}<tr class="hdr"><td class="case_category">{{.Chapter}} {{.ChapterName}}</td>{{range $.Agents}}<td colspan="2">{{.}}</td>{{end}}</tr>
{{end}}{{if .Sub}}<tr class="sub"><td colspan="{{$.Span}}">{{.Sub}} {{.SubName}}</td></tr>
{{end}}{{range .Rows}}<tr><td class="case"><a href="#{{.Anchor}}">Case {{.ID}}</a></td>{{range .Cells}}{{if .Wide}}<td class="{{.Class}} wide" colspan="2">{{if .Link}}<a href="{{.Link}}">{{.Label}}</a>{{else}}{{.Label}}{{end}}</td>{{else}}<td class="{{.Class}}"><a href="{{.Link}}">{{.Label}}</a>{{if .Detail}}<br><span class="detail">{{.Detail}}</span>{{end}}</td><td class="close {{.CloseClass}}">{{.Close}}</td>{{end}}{{end}}</tr>
{{end}}{{end}}</table>
<h2 id="test_case_descriptions">Case descriptions</h2>
{{range .Appendix}}<div class="block"><a id="{{.Anchor}}"></a><a class="up" href="#top">Up</a><h3>Case {{.ID}}</h3>
<p><b>Description</b><br>{{.Description}}</p>
<p><b>Expectation</b><br>{{.Expectation}}</p></div>
{{end}}</body></html>
`))
