//go:build !js

package conn

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
)

// browserPage loads wasm_exec.js and runs test.wasm.
const browserPage = `<!doctype html>
<meta charset="utf-8">
<title>conn in the browser</title>
<script src="wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("test.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => { window.__result = {ok: false, lines: ["FAIL load: " + e]}; });
</script>
`

// TestBrowserBuild builds internal/browsertest for GOOS=js GOARCH=wasm,
// serves it to headless Chromium with this package's server behind it, and
// passes if every scenario of the page passes: echo round trips of text and
// binary messages up to 1 MiB, streams, wsjson, NetConn, close codes both
// ways, the read limit, read deadlines and a refused handshake.
func TestBrowserBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser build runs in the full test run")
	}
	exe := testpeer.Chromium(t)
	cmd := testpeer.NodeCmd(t, []string{"playwright-core"})
	dir := t.TempDir()
	wasm := filepath.Join(dir, "test.wasm")
	build := exec.Command("go", "build", "-o", wasm, "./internal/browsertest")
	build.Dir = testpeer.Root()
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build ./internal/browsertest: %v\n%s", err, out)
	}
	execJS := filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js")
	if _, err := os.Stat(execJS); err != nil {
		execJS = filepath.Join(runtime.GOROOT(), "misc", "wasm", "wasm_exec.js")
	}

	var mu sync.Mutex
	var recorded []error
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(browserPage))
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, execJS) })
	mux.HandleFunc("/test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasm)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{Subprotocols: []string{"echo.v1"}, Compression: &CompressionOptions{}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	})
	mux.HandleFunc("/close4001", func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Close(4001, "bye from the server")
	})
	mux.HandleFunc("/record", func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		err = echo(c)
		mu.Lock()
		recorded = append(recorded, err)
		mu.Unlock()
	})
	mux.HandleFunc("/nope", http.NotFound)
	s := httptest.NewServer(mux)
	defer s.Close()
	cmd.Args = append(cmd.Args, interopScript("chromium.js"), s.URL+"/", exe, t.TempDir())
	cmd.Args = append(cmd.Args, testpeer.ChromiumFlags...)
	testpeer.RunScript(t, cmd, 3*time.Minute, nil)

	mu.Lock()
	defer mu.Unlock()
	if len(recorded) != 1 || CloseStatus(recorded[0]) != 4002 || !strings.Contains(recorded[0].Error(), "from wasm") {
		t.Errorf("server saw %v, want the page's close 4002 \"from wasm\"", recorded)
	}
}
