package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

// webSite maps the paths of the web server (-u) to their handlers; a path
// ending in '/' is a subtree.
type webSite map[string]http.Handler

// startWeb runs the web server of the server modes on port (none if 0),
// on the host of the WebSocket URL, with TLS if the WebSocket server has
// it. A port that is taken is an error if -u asked for it and a warning if
// it is the default. The returned function stops the server.
func startWeb(ctx context.Context, cfg config, port int, host string, secure bool, site webSite, stdout, stderr io.Writer, tlsCfg *tls.Config) (func(), error) {
	if port == 0 {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	for p, h := range site {
		mux.Handle(p, h)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if cfg.webportSet {
			return nil, fmt.Errorf("web server (-u): %w", err)
		}
		fmt.Fprintf(stderr, "wstest: warning: no web server: %v (-u 0 turns it off, -u PORT moves it)\n", err)
		return func() {}, nil
	}
	scheme := "http"
	if secure {
		scheme = "https"
		if tlsCfg == nil {
			u, _ := parseWS("wss://" + host)
			if tlsCfg, _, err = serverTLS(cfg, u, false); err != nil {
				ln.Close()
				return nil, err
			}
		}
		ln = tls.NewListener(ln, tlsCfg)
	}
	fmt.Fprintf(stdout, "wstest: web server at %s://%s/\n", scheme, ln.Addr())
	go hs.Serve(ln)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}, nil
}

// pageHandler serves a page made from a template and data, at its path
// only.
func pageHandler(t *template.Template, data any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/"+t.Name() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		t.Execute(w, data)
	})
}

// fuzzingSite is the web server of fuzzingserver mode, as the suite's: a
// start page, the browser testee, and the reports of the outdir.
func fuzzingSite(wsURL, outdir string) webSite {
	data := map[string]string{"URL": wsURL}
	return webSite{
		"/":                  pageHandler(fuzzingIndex, data),
		"/test_browser.html": pageHandler(browserTestee, data),
		"/reports/":          http.StripPrefix("/reports/", http.FileServer(http.Dir(outdir))),
	}
}

const pageStyle = `<style>body { font-family: "Segoe UI", Tahoma, Arial, sans-serif; color: #333; margin: 2em; } li { padding: 0.3em; }
label { display: block; margin-top: 0.8em; } #statusline { font-weight: bold; }</style>`

var fuzzingIndex = template.Must(template.New("index.html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wstest fuzzing server</title>` + pageStyle + `</head>
<body><h1>wstest fuzzing server</h1>
<p>A re-implementation of the Autobahn|Testsuite's fuzzing server, serving testee clients at <code>{{.URL}}</code>.</p>
<ul>
<li><a href="/test_browser.html">Test this browser</a>: run the cases with the browser's own WebSocket client.</li>
<li><a href="/reports/index.html">Client reports</a> (after /updateReports).</li>
</ul></body></html>
`))

// browserTestee is the page that makes a browser a testee client: it
// drives the fuzzing server through getCaseCount, runCase (echoing every
// message) and updateReports. Query parameters fill the form and start a
// run by themselves (autorun=1), for headless browsers.
var browserTestee = template.Must(template.New("test_browser.html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wstest: test this browser</title>` + pageStyle + `</head>
<body><h1>Test this browser</h1>
<form id="form">
<label>Fuzzing server<br><input id="wsuri" size="40"></label>
<label>Agent (the name in the reports)<br><input id="agent" size="40"><br><small id="ua"></small></label>
<label><input type="radio" name="which" id="alltests" checked> all cases</label>
<label><input type="radio" name="which" id="singletest"> one case: <input id="casetuple" size="10"></label>
</form>
<p><button id="start">Start</button> <button id="update">Update reports</button> Status: <span id="statusline">Ready</span></p>
<p id="resultlink"></p>
<script>
const fuzzer = {{.URL}};
const params = new URLSearchParams(location.search);
function defaultURL() {
  const u = new URL(fuzzer.replace(/^ws/, "http"));
  if (u.hostname === "127.0.0.1" || u.hostname === "localhost") u.hostname = location.hostname || u.hostname;
  return u.href.replace(/^http/, "ws").replace(/\/$/, "");
}
function detectAgent() {
  const ua = navigator.userAgent;
  for (const name of ["Edg", "Chrome", "Firefox", "Safari"]) {
    const m = ua.match(new RegExp(name + "/[^ ;)]+"));
    if (m) return m[0];
  }
  return "unknown";
}
const $ = (id) => document.getElementById(id);
$("wsuri").value = params.get("wsuri") || defaultURL();
$("agent").value = params.get("agent") || detectAgent();
$("ua").textContent = navigator.userAgent;
if (params.get("casetuple")) { $("singletest").checked = true; $("casetuple").value = params.get("casetuple"); }
const status = (s) => { $("statusline").textContent = s; console.log(s); };
// open runs one WebSocket to a path of the fuzzing server and resolves
// with the text messages it got when the server closes it; in a case, it
// echoes every message.
function open(path, echo) {
  return new Promise((resolve) => {
    const ws = new WebSocket($("wsuri").value + path);
    ws.binaryType = "arraybuffer";
    const got = [];
    ws.onmessage = (e) => { if (echo) ws.send(e.data); else got.push(e.data); };
    ws.onclose = () => resolve(got);
    ws.onerror = () => {};
  });
}
async function updateReports() {
  status("Updating reports ..");
  await open("/updateReports?agent=" + encodeURIComponent($("agent").value), false);
  $("resultlink").innerHTML = '<a href="/reports/index.html">The report</a>';
}
async function run() {
  const agent = encodeURIComponent($("agent").value);
  if ($("singletest").checked) {
    status("Running case " + $("casetuple").value);
    await open("/runCase?casetuple=" + encodeURIComponent($("casetuple").value) + "&agent=" + agent, true);
  } else {
    const n = parseInt((await open("/getCaseCount", false))[0], 10);
    for (let i = 1; i <= n; i++) {
      status("Running case " + i + "/" + n);
      await open("/runCase?case=" + i + "&agent=" + agent, true);
    }
  }
  await updateReports();
  status("Test suite finished!");
}
$("start").onclick = run;
$("update").onclick = updateReports;
if (params.get("autorun") === "1") run();
</script></body></html>
`))

var broadcastPage = template.Must(template.New("index.html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wstest broadcast server</title>` + pageStyle + `
<style>#log { white-space: pre-wrap; font-family: monospace; }</style></head>
<body><h1>wstest broadcast server</h1>
<p>Every message sent to <code>{{.URL}}</code> goes to every client; the server adds "tick N" every second.</p>
<form id="f"><input id="text" size="40" value="Hello, everyone!"> <button>Send</button></form>
<p>Status: <span id="statusline">connecting</span></p><div id="log"></div>
<script>
const ws = new WebSocket({{.URL}});
const log = (s) => { document.getElementById("log").textContent = s + "\n" + document.getElementById("log").textContent; };
ws.onopen = () => { document.getElementById("statusline").textContent = "open"; };
ws.onclose = (e) => { document.getElementById("statusline").textContent = "closed, code " + e.code; };
ws.onmessage = (e) => log(String(e.data));
document.getElementById("f").onsubmit = (e) => { e.preventDefault(); ws.send(document.getElementById("text").value); };
</script></body></html>
`))
