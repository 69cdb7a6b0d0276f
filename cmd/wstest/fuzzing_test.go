package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
)

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkIndex(t *testing.T, dir, agent string, n int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]map[string]map[string]any
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx[agent]) != n {
		t.Fatalf("index.json has %d cases for %s, want %d", len(idx[agent]), agent, n)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Fatal(err)
	}
}

func TestFuzzingClientMode(t *testing.T) {
	s := httptest.NewServer(&echo.Server{})
	defer s.Close()
	out := t.TempDir()
	spec := writeJSON(t, map[string]any{
		"outdir":  out,
		"servers": []map[string]any{{"agent": "echo", "url": "ws" + strings.TrimPrefix(s.URL, "http")}},
		"cases":   []string{"1.1.*", "2.*", "6.4.*"},
	})
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-m", "fuzzingclient", "-s", spec}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	checkIndex(t, out, "echo", 8+11+4)
	if !strings.Contains(stdout.String(), "[23/23]") {
		t.Fatalf("no progress lines:\n%s", stdout.String())
	}

	// -d adds the reasons of both verdicts under each progress line.
	spec = writeJSON(t, map[string]any{
		"outdir":  t.TempDir(),
		"servers": []map[string]any{{"agent": "echo", "url": "ws" + strings.TrimPrefix(s.URL, "http")}},
		"cases":   []string{"1.1.1"},
	})
	stdout.Reset()
	if code := run([]string{"-m", "fuzzingclient", "-s", spec, "-d"}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "] 1.1.1 agent=echo OK (") || !strings.Contains(stdout.String(), "\n    OK: ") || !strings.Contains(stdout.String(), "\n    close OK: ") {
		t.Fatalf("-d: exit %d, output:\n%s", code, stdout.String())
	}
}

// A server that fails cases makes fuzzingclient exit with status 1.
func TestFuzzingClientModeFailures(t *testing.T) {
	// It completes the handshake, then drops the connection: no echo.
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := conn.Accept(w, r, nil); err == nil {
			c.CloseNow()
		}
	}))
	defer s.Close()
	out := t.TempDir()
	spec := writeJSON(t, map[string]any{
		"outdir":  out,
		"servers": []map[string]any{{"agent": "dropper", "url": "ws" + strings.TrimPrefix(s.URL, "http")}},
		"cases":   []string{"1.1.1", "1.1.2"},
	})
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-m", "fuzzingclient", "-s", spec}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1: %s %s", code, stdout.String(), stderr.String())
	}
	checkIndex(t, out, "dropper", 2)
}

// An unreachable server makes fuzzingclient exit with status 4.
func TestFuzzingClientModeUnreachable(t *testing.T) {
	s := httptest.NewServer(&echo.Server{})
	defer s.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ln.Close() // nothing listens there: every case is abandoned
	spec := writeJSON(t, map[string]any{
		"outdir":  t.TempDir(),
		"servers": []map[string]any{{"agent": "gone", "url": "ws://" + ln.Addr().String()}},
		"cases":   []string{"1.1.1"},
	})
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-m", "fuzzingclient", "-s", spec}, &stdout, &stderr); code != 4 {
		t.Fatalf("exit %d, want 4: %s %s", code, stdout.String(), stderr.String())
	}
}

func TestFuzzingServerAndTesteeClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out := t.TempDir()
	spec := writeJSON(t, map[string]any{"url": "ws://" + addr, "outdir": out, "cases": []string{"1.*", "5.*"}})
	codec := make(chan int, 1)
	var sout, serr bytes.Buffer
	go func() { codec <- run([]string{"-m", "fuzzingserver", "-s", spec, "-u", "0"}, &sout, &serr) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fuzzing server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var cout, cerr bytes.Buffer
	if code := run([]string{"-m", "testeeclient", "-w", "ws://" + addr, "-i", "ours"}, &cout, &cerr); code != 0 {
		t.Fatalf("testeeclient exit %d: %s %s", code, cout.String(), cerr.String())
	}
	checkIndex(t, out, "ours", 16+20)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	autobahn.FetchMessage(ctx, "ws://"+addr+"/stopServer")
	select {
	case code := <-codec:
		if code != 0 {
			t.Fatalf("fuzzingserver exit %d: %s %s", code, sout.String(), serr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fuzzing server did not stop")
	}
	if !strings.Contains(sout.String(), "Summary") {
		t.Fatalf("no summary:\n%s", sout.String())
	}
}

func TestSelfTestMode(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-cases", "1.1.*,7.7.*", "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	checkIndex(t, filepath.Join(out, "servers"), "wirelevel-server", 21)
	checkIndex(t, filepath.Join(out, "clients"), "wirelevel-client", 21)
	fmt.Fprint(os.Stderr, "")
}
