package main

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/internal/tlscert"
)

// chromium runs a scenario of testdata/chromium.js against url.
func chromium(t *testing.T, scenario, url string) {
	t.Helper()
	exe := testpeer.Chromium(t)
	cmd := testpeer.NodeCmd(t, []string{"playwright-core"}, filepath.Join("testdata", "chromium.js"), scenario, url, exe, t.TempDir())
	cmd.Args = append(cmd.Args, testpeer.ChromiumFlags...)
	testpeer.RunScript(t, cmd, 3*time.Minute, nil)
}

// TestEchoServerPageChromium loads the page of the wss:// echo server in
// headless Chromium, over HTTP/2 with extended CONNECT, and sends a
// message through the page's WebSocket: Chromium, having loaded the origin
// with a 200, opens the WebSocket as an HTTP/2 stream (RFC 8441).
// startH2 serves h over TLS with HTTP/2 enabled until the test ends and
// returns the server's URL.
func startH2(t *testing.T, cert tls.Certificate, h http.Handler) string {
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s.URL
}

func TestEchoServerPageChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser tests run in the full test run")
	}
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	cert, _, err := tlscert.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	es := &echo.Server{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if echo.IsWebSocketRequest(r) {
			mu.Lock()
			seen = append(seen, r.Proto+" "+r.Method)
			mu.Unlock()
		}
		es.ServeHTTP(w, r)
	})
	chromium(t, "echo", startH2(t, cert, h)+"/")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "HTTP/2.0 CONNECT" {
		t.Errorf("the echo server saw WebSocket requests %q, want one HTTP/2.0 CONNECT", seen)
	}
}

// TestBrowserTestee runs the fuzzing server's browser testee page in
// headless Chromium: the page drives the run through getCaseCount, runCase
// and updateReports, and the report has the browser's results.
func TestBrowserTestee(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser tests run in the full test run")
	}
	addr, web := freeAddr(t), freeAddr(t)
	out := t.TempDir()
	spec := writeFile(t, "fs.json", `{"url": "ws://`+addr+`", "outdir": "`+out+`", "cases": ["1.1.1", "1.2.8", "2.2", "5.6", "6.2.1", "7.1.1", "9.1.1"]}`)
	_, webPort, _ := splitPort(web)
	done := make(chan int, 1)
	var sout, serr syncBuffer
	go func() { done <- run([]string{"-m", "fuzzingserver", "-s", spec, "-u", webPort}, &sout, &serr) }()
	waitListen(t, web)
	chromium(t, "testee", "http://"+web+"/test_browser.html?autorun=1&agent=chromium-testee")
	code, body, _ := get(t, "http://"+web+"/reports/index.json")
	if code != 200 {
		t.Fatalf("index.json: %d", code)
	}
	for _, id := range []string{"1.1.1", "1.2.8", "2.2", "5.6", "6.2.1", "7.1.1", "9.1.1"} {
		if !contains(body, `"`+id+`"`) {
			t.Errorf("index.json lacks case %s:\n%s", id, body)
		}
	}
	stopFuzzingServer(t, "ws://"+addr)
	if c := <-done; c != 0 {
		// Chromium passes every case of this selection.
		t.Errorf("fuzzingserver exit %d:\n%s", c, sout.String())
	}
}

// TestAcceptAnswerKeepsHTTP2Chromium: headless Chromium first loads a URL
// of the origin whose handler is conn.Accept alone, so a plain HTTP/2 GET
// gets whatever Accept answers a request that is not a WebSocket one; it
// then loads the echo page, whose WebSocket must still arrive as an
// HTTP/2 extended CONNECT (RFC 8441), not as an HTTP/1.1 upgrade on a
// connection of its own: Accept's answer must not make the browser give
// up HTTP/2 for the origin. (Accept answers such a GET with 505; with
// Chromium 156 the WebSocket that follows is still an HTTP/2 stream. The
// check fails if the server offers only HTTP/1.1.)
func TestAcceptAnswerKeepsHTTP2Chromium(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser tests run in the full test run")
	}
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	cert, _, err := tlscert.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		first http.HandlerFunc
	}{
		{"conn.Accept", func(w http.ResponseWriter, r *http.Request) {
			if c, err := conn.Accept(w, r, nil); err == nil {
				c.CloseNow()
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			es := &echo.Server{}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/first":
					tc.first(w, r)
				case r.URL.Path == "/page":
					r.URL.Path = "/"
					es.ServeHTTP(w, r)
				default:
					if echo.IsWebSocketRequest(r) || r.Header.Get("Upgrade") != "" {
						mu.Lock()
						seen = append(seen, r.Proto+" "+r.Method)
						mu.Unlock()
					}
					es.ServeHTTP(w, r)
				}
			})
			chromium(t, "visit", startH2(t, cert, h)+"/first")
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || seen[0] != "HTTP/2.0 CONNECT" {
				t.Errorf("after %s at /first, the WebSocket requests were %q, want one HTTP/2.0 CONNECT", tc.name, seen)
			}
		})
	}
}
