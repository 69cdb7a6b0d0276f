package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/tlscert"
)

// syncBuffer is a bytes.Buffer safe for a mode writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startMode runs a server mode until the test ends and waits for addr to
// take connections.
func startMode(t *testing.T, addr string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	var cfgErr error
	go func() {
		var cfg config
		cfg.mode, cfg.wsuri = args[0], args[1]
		for i := 2; i+1 < len(args); i += 2 {
			switch args[i] {
			case "-u":
				fmt.Sscan(args[i+1], &cfg.webport)
				cfg.webportSet = true
			case "-i":
				cfg.ident = args[i+1]
			case "-k":
				cfg.key = args[i+1]
			case "-c":
				cfg.cert = args[i+1]
			}
		}
		cfgErr = runMode(ctx, cfg, &out, &out)
		done <- 0
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
			if cfgErr != nil {
				t.Errorf("%s: %v", args[0], cfgErr)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop", args[0])
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return &out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %s", args[0], out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestTesteeServerMode(t *testing.T) {
	addr := freeAddr(t)
	startMode(t, addr, "testeeserver", "ws://"+addr, "-i", "MyTestee/1.0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	nc.Close()
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Server") != "MyTestee/1.0" {
		t.Errorf("handshake: %v %v, Server %q; want 101 with the -i name", resp, err, resp.Header.Get("Server"))
	}
	c, err := conn.Dial(ctx, "ws://"+addr+"/", echo.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if !strings.Contains(c.Extensions(), "permessage-deflate") {
		t.Error("the testee server did not accept permessage-deflate")
	}
	if err := c.WriteMessage(ctx, conn.Text, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "hi" {
		t.Fatalf("echo %q, %v", msg, err)
	}
	// A plain request gets the page.
	if code, body, _ := get(t, "http://"+addr+"/"); code != 200 || !strings.Contains(body, "echo server") {
		t.Errorf("GET / = %d %q", code, body)
	}
	if code, _, _ := get(t, "http://"+addr+"/other"); code != 404 {
		t.Errorf("GET /other = %d, want 404", code)
	}
}

func TestBroadcastModes(t *testing.T) {
	addr, web := freeAddr(t), freeAddr(t)
	_, webPort, _ := net.SplitHostPort(web)
	startMode(t, addr, "broadcastserver", "ws://"+addr, "-u", webPort)
	if code, body, _ := get(t, "http://"+web+"/"); code != 200 || !strings.Contains(body, "broadcast server") {
		t.Errorf("web page: %d %q", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watcher, err := conn.Dial(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.CloseNow()
	// A broadcast client says hello; the watcher hears it, and the ticks.
	var out syncBuffer
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- broadcastClient(cctx, config{mode: "broadcastclient", wsuri: "ws://" + addr + "/"}, &out)
	}()
	var hello, tick bool
	for !hello || !tick {
		_, msg, err := watcher.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatalf("watcher: %v (hello %v, tick %v)", err, hello, tick)
		}
		hello = hello || strings.HasPrefix(string(msg), "hello from ")
		tick = tick || strings.HasPrefix(string(msg), "tick ")
	}
	for !strings.Contains(out.String(), "received: hello from") || !strings.Contains(out.String(), "received: tick") {
		if ctx.Err() != nil {
			t.Fatalf("broadcast client printed %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ccancel()
	if err := <-done; err != nil {
		t.Errorf("broadcastclient: %v", err)
	}
}

func TestMassConnectMode(t *testing.T) {
	s := &http.Server{Handler: &echo.Server{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	// 6 batches 300 ms apart: the run lasts long enough for a progress
	// line (one a second when stdout is not a terminal).
	spec := writeFile(t, "massconnect.json", fmt.Sprintf(`{"options": {"connections": 300, "batchsize": 50, "batchdelay": 300, "retrydelay": 10},
		"servers": [{"name": "echo", "uri": "ws://%s/", "desc": "this library"}, {"name": "gone", "uri": "%s"}]}`, ln.Addr(), deadURL(t)))
	var out, errb bytes.Buffer
	code := run([]string{"-m", "massconnect", "-s", spec}, &out, &errb)
	if !strings.Contains(out.String(), "connected 300 clients to echo at ws://") {
		t.Errorf("output:\n%s", out.String())
	}
	// The second server is unreachable: the run fails, with its error.
	if code != 1 || !strings.Contains(errb.String(), "gone:") || !strings.Contains(out.String(), "connected 0 clients to gone") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "wstest: massconnect echo: ") || !strings.Contains(out.String(), "/300 connected (") {
		t.Errorf("no progress line:\n%s", out.String())
	}
}

// TestFuzzingServerWeb: the web server of fuzzingserver mode (-u) serves
// the start page, the browser testee and the reports.
func TestFuzzingServerWeb(t *testing.T) {
	addr, web := freeAddr(t), freeAddr(t)
	_, webPort, _ := net.SplitHostPort(web)
	out := t.TempDir()
	spec := writeFile(t, "fs.json", fmt.Sprintf(`{"url": "ws://%s", "outdir": %q, "cases": ["1.1.1"], "webport": 1}`, addr, out))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var sout, serr syncBuffer
	go func() { done <- run([]string{"-m", "fuzzingserver", "-s", spec, "-u", webPort}, &sout, &serr) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.Dial("tcp", web); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no web server: %s %s", sout.String(), serr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body, _ := get(t, "http://"+web+"/"); code != 200 || !strings.Contains(body, "test_browser.html") {
		t.Errorf("start page: %d %q", code, body)
	}
	if code, body, _ := get(t, "http://"+web+"/test_browser.html"); code != 200 || !strings.Contains(body, "/runCase?case=") || !strings.Contains(body, addr) {
		t.Errorf("browser testee page: %d", code)
	}
	if err := testeeClient(ctx, config{wsuri: "ws://" + addr, ident: "web"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, "http://"+web+"/reports/index.html"); code != 200 || !strings.Contains(body, "web_case_1_1_1.html") {
		t.Errorf("reports: %d", code)
	}
	if _, err := autobahn.FetchMessage(ctx, "ws://"+addr+"/stopServer"); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Errorf("fuzzingserver exit %d: %s", code, serr.String())
	}
}

func splitPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// waitListen waits for addr to take connections.
func waitListen(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stopFuzzingServer(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := autobahn.FetchMessage(ctx, base+"/stopServer"); err != nil {
		t.Fatal(err)
	}
}

// TestServerCertFlags: a wss:// server mode serves the certificate of -c
// and -k.
func TestServerCertFlags(t *testing.T) {
	cert, pool, err := tlscert.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writeFile(t, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})))
	keyFile := writeFile(t, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})))
	addr := freeAddr(t)
	out := startMode(t, addr, "testeeserver", "wss://"+addr, "-c", certFile, "-k", keyFile)
	if !strings.Contains(out.String(), "the certificate of -c/-k") {
		t.Errorf("output %q does not name the certificate of -c/-k", out.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := echo.ClientOptions()
	// Only the certificate of -c verifies.
	opts.TLSConfig = &tls.Config{RootCAs: pool}
	c, err := conn.Dial(ctx, "wss://"+addr+"/", opts)
	if err != nil {
		t.Fatalf("wss:// with -c's certificate: %v", err)
	}
	c.CloseNow()
}
