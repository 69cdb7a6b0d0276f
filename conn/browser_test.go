//go:build !js

package conn

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/internal/tlscert"
)

// TestInteropChromium opens a page in headless Chromium that echoes 200
// messages up to 1 MiB through our server and closes with 1000.
func TestInteropChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	exe := testpeer.Chromium(t)
	cmd := testpeer.NodeCmd(t, []string{"playwright-core"})
	page, err := os.ReadFile(interopScript("echo_page.html"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var serverErr error
	var extensions string
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		// Same origin: the default policy admits it. Chromium offers
		// permessage-deflate on every connection.
		c, err := Accept(w, r, &AcceptOptions{Compression: &CompressionOptions{}})
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.CloseNow()
		mu.Lock()
		extensions = c.Extensions()
		mu.Unlock()
		err = echo(c)
		mu.Lock()
		serverErr = err
		mu.Unlock()
	})
	s := httptest.NewServer(mux)
	defer s.Close()
	cmd.Args = append(cmd.Args, interopScript("chromium.js"), s.URL+"/", exe, t.TempDir())
	cmd.Args = append(cmd.Args, testpeer.ChromiumFlags...)
	testpeer.RunScript(t, cmd, 3*time.Minute, nil)
	mu.Lock()
	defer mu.Unlock()
	if CloseStatus(serverErr) != 1000 {
		t.Errorf("server saw %v, want the browser's close 1000", serverErr)
	}
	if !strings.HasPrefix(extensions, "permessage-deflate") {
		t.Errorf("negotiated extensions %q, want permessage-deflate", extensions)
	}
	t.Logf("negotiated extensions: %q", extensions)
}

// TestInteropChromiumHTTP2 serves the same page over HTTPS from an HTTP/2
// server with extended CONNECT: Chromium opens its WebSocket as an HTTP/2
// stream (RFC 8441), echoes 200 messages and closes with 1000, and the
// server sees an HTTP/2 CONNECT, not an HTTP/1.1 upgrade.
func TestInteropChromiumHTTP2(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	exe := testpeer.Chromium(t)
	cmd := testpeer.NodeCmd(t, []string{"playwright-core"})
	page, err := os.ReadFile(interopScript("echo_page.html"))
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := tlscert.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	var serverErr error
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Proto+" "+r.Method+" :protocol="+r.Header.Get(":protocol"))
		mu.Unlock()
		c, err := Accept(w, r, &AcceptOptions{Compression: &CompressionOptions{}})
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.CloseNow()
		err = echo(c)
		mu.Lock()
		serverErr = err
		mu.Unlock()
	})
	s := httptest.NewUnstartedServer(mux)
	s.EnableHTTP2 = true
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	defer s.Close()
	cmd.Args = append(cmd.Args, interopScript("chromium.js"), s.URL+"/", exe, t.TempDir())
	cmd.Args = append(cmd.Args, testpeer.ChromiumFlags...)
	testpeer.RunScript(t, cmd, 3*time.Minute, nil)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "HTTP/2.0 CONNECT :protocol=websocket" {
		t.Fatalf("server saw %q, want one HTTP/2.0 CONNECT with :protocol websocket", seen)
	}
	if CloseStatus(serverErr) != 1000 {
		t.Errorf("server saw %v, want the browser's close 1000", serverErr)
	}
	t.Logf("server saw %s", seen[0])
}
