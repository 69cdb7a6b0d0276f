package autobahn

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// startFuzzingServer serves spec on a loopback port and returns its base URL.
func startFuzzingServer(t *testing.T, spec *ServerSpec, opts *Options) (*FuzzingServer, string) {
	t.Helper()
	fs, err := NewFuzzingServer(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fs.Serve(ln) }()
	t.Cleanup(func() {
		fs.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return fs, "ws://" + ln.Addr().String()
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	b, err := FetchMessage(context.Background(), url)
	if err != nil {
		t.Fatalf("FetchMessage(%s): %v", url, err)
	}
	return string(b)
}

func TestFuzzingServerEndpoints(t *testing.T) {
	dir := t.TempDir()
	spec := &ServerSpec{
		OutDir: dir, Cases: []string{"2.*", "1.1.1"}, ExcludeCases: []string{"2.10", "2.11"},
		ExcludeAgentCases: map[string][]string{"skip*": {"2.1"}},
	}
	fs, base := startFuzzingServer(t, spec, nil)
	if got := fetch(t, base+"/getCaseCount"); got != "10" {
		t.Errorf("getCaseCount = %q, want 10", got)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(fetch(t, base+"/getCaseInfo?case=2")), &info); err != nil || info["id"] != "2.1" || info["description"] == "" {
		t.Errorf("getCaseInfo?case=2 = %v, %v", info, err)
	}
	echo := testeeClient(flaws{})
	ctx := context.Background()
	if err := echo(ctx, base+"/runCase?casetuple=2.2&agent=a"); err != nil {
		t.Errorf("runCase casetuple: %v", err)
	}
	if err := echo(ctx, base+"/runCase?case=1&agent=a"); err != nil {
		t.Errorf("runCase case=1: %v", err)
	}
	if got := fetch(t, base+"/getCaseStatus?case=3&agent=a"); got != `{"behavior":"OK"}` {
		t.Errorf("getCaseStatus 2.2 = %s", got)
	}
	if got := fetch(t, base+"/getCaseStatus?casetuple=1.1.1&agent=a"); got != `{"behavior":"OK"}` {
		t.Errorf("getCaseStatus 1.1.1 = %s", got)
	}
	// An excluded agent/case pair is closed at once and not recorded.
	if err := echo(ctx, base+"/runCase?case=2&agent=skipper"); err != nil {
		t.Errorf("excluded runCase: %v", err)
	}
	if r := fs.Results(); len(r.Cases) != 2 || r.Lookup("skipper", "2.1") != nil {
		t.Errorf("%d results after the excluded case", len(r.Cases))
	}
	for _, bad := range []string{"/runCase?case=11&agent=a", "/runCase?case=1", "/runCase?casetuple=2.10&agent=a", "/getCaseInfo?case=0", "/nowhere"} {
		if _, err := FetchMessage(ctx, base+bad); err == nil || !strings.Contains(err.Error(), "status") {
			t.Errorf("%s: err = %v, want an HTTP rejection", bad, err)
		}
	}
	// A bad permessage-deflate offer is rejected with 400.
	if status := rawHandshake(t, base, "/runCase?case=1&agent=a", "permessage-deflate; server_max_window_bits=99"); status != http.StatusBadRequest {
		t.Errorf("bad offer: status %d, want 400", status)
	}
	if got := fetch(t, base+"/updateReports?agent=a"); got != "reports written" {
		t.Errorf("updateReports = %q", got)
	}
	var idx Index
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || json.Unmarshal(b, &idx) != nil || len(idx["a"]) != 2 {
		t.Errorf("index.json after updateReports: %v %s", err, b)
	}
	fetch(t, base+"/stopServer")
}

// rawHandshake sends an opening handshake to path and returns the status.
func rawHandshake(t *testing.T, base, path, ext string) int {
	t.Helper()
	u, _ := parseWSURL(base)
	nc, err := net.Dial("tcp", u.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: " + ext + "\r\n\r\n"
	nc.Write([]byte(req))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// TestAbandonUnreachableServer: a server whose TCP connect fails loses its
// remaining cases; the run goes on with the next server.
func TestAbandonUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + ln.Addr().String()
	ln.Close()
	live, err := startTesteeServer(t, flaws{})
	if err != nil {
		t.Fatal(err)
	}
	spec := &ClientSpec{
		Servers: []ServerEntry{{Agent: "dead", URL: dead}, {URL: live}},
		Cases:   []string{"1.1.1", "1.1.2"},
		// The second server's agent comes from its Server header, and
		// the exclusion applies to it.
		ExcludeAgentCases: map[string][]string{"raw-*": {"1.1.2"}},
	}
	res, err := RunFuzzingClient(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Abandoned) != 1 || res.Abandoned[0].Agent != "dead" || len(res.Abandoned[0].Cases) != 2 {
		t.Errorf("Abandoned = %+v", res.Abandoned)
	}
	if len(res.Cases) != 1 || res.Cases[0].Agent != "raw-testee" || res.Cases[0].ID != "1.1.1" || res.Cases[0].Behavior != VerdictOK {
		t.Errorf("cases = %+v", res.Cases)
	}
	if !res.Failed() {
		t.Error("Failed() = false with abandoned cases")
	}
	if s := res.Summary(); len(s.Agents) != 2 || s.Agents[1].Abandoned != 2 {
		t.Errorf("summary agents %+v", s.Agents)
	}
}

// silentServer accepts TCP and then runs fn on each connection.
func silentServer(t *testing.T, fn func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				fn(nc)
			}()
		}
	}()
	return "ws://" + ln.Addr().String()
}

// TestOpenHandshakeTimeout: a server that never answers the handshake
// fails the case (FAILED, FAILED) after the opening-handshake timeout.
func TestOpenHandshakeTimeout(t *testing.T) {
	url := silentServer(t, func(nc net.Conn) { time.Sleep(2 * time.Second) })
	spec := &ClientSpec{Servers: []ServerEntry{{Agent: "mute", URL: url}}, Cases: []string{"7.1.6"}}
	start := time.Now()
	res, err := RunFuzzingClient(context.Background(), spec, &Options{OpenHandshakeTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cr := res.Cases[0]
	if cr.Behavior != VerdictFailed || cr.BehaviorClose != VerdictFailed || !cr.OpenTimeout || cr.OpenHandshakeDone {
		t.Errorf("result %s / %s, open timeout %v", cr.Behavior, cr.BehaviorClose, cr.OpenTimeout)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("took %v", d)
	}
}

// TestSafetyTimeout: a server that closes first but never drops TCP, in a
// case with only a close timer, would hang the suite; the safety timeout
// ends the case as FAILED.
func TestSafetyTimeout(t *testing.T) {
	url := silentServer(t, func(nc net.Conn) {
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			testeeAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"))
		nc.Write(frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpClose}, frame.AppendClose(nil, 1000, "")))
		time.Sleep(5 * time.Second) // never drop TCP
	})
	spec := &ClientSpec{Servers: []ServerEntry{{Agent: "sticky", URL: url}}, Cases: []string{"2.1"}}
	start := time.Now()
	res, err := RunFuzzingClient(context.Background(), spec, &Options{SafetyMargin: 100 * time.Millisecond, CloseHandshakeTimeout: 100 * time.Millisecond, ServerDropTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cr := res.Cases[0]
	if cr.Behavior != VerdictFailed || cr.BehaviorClose != VerdictFailed || !cr.SafetyTimeout || !cr.DroppedByMe {
		t.Errorf("result %s / %s, safety %v: %s", cr.Behavior, cr.BehaviorClose, cr.SafetyTimeout, cr.Result)
	}
	if d := time.Since(start); d < time.Second || d > 3*time.Second {
		t.Errorf("took %v, want about 1.3 s", d)
	}
}

func TestSpecParsing(t *testing.T) {
	cs, err := ParseClientSpec([]byte(`{"outdir": "./r", "servers": [{"agent": "A", "url": "ws://127.0.0.1:9001/path?x=1", "options": {"version": 18}}],
		"cases": ["1.*"], "exclude-cases": ["1.1.2"], "exclude-agent-cases": {"A": ["1.2.*"]}, "options": {"failByDrop": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cs.OutDir != "./r" || cs.Servers[0].Agent != "A" || len(cs.ExcludeAgentCases["A"]) != 1 || cs.ExcludeCases[0] != "1.1.2" {
		t.Errorf("client spec %+v", cs)
	}
	u, _ := parseWSURL(cs.Servers[0].URL)
	if u.addr != "127.0.0.1:9001" || u.target != "/path?x=1" || u.host != "127.0.0.1:9001" {
		t.Errorf("url %+v", u)
	}
	if u, _ := parseWSURL("ws://example.com"); u.addr != "example.com:80" || u.target != "/" {
		t.Errorf("default port: %+v", u)
	}
	if u, _ := parseWSURL("wss://[::1]/x"); !u.secure || u.addr != "[::1]:443" || u.hostname != "::1" || u.target != "/x" {
		t.Errorf("wss default port: %+v", u)
	}
	for _, bad := range []string{`{}`, `{"servers": [{"url": "http://x"}]}`, `{"servers": [{"url": "https://x"}]}`, `[`} {
		if _, err := ParseClientSpec([]byte(bad)); err == nil {
			t.Errorf("ParseClientSpec(%s) succeeded", bad)
		}
	}
	ss, err := ParseServerSpec([]byte(`{"outdir": "./c"}`))
	if err != nil || ss.URL != "ws://127.0.0.1:9001" || ss.Cases[0] != "*" {
		t.Errorf("server spec %+v, %v", ss, err)
	}
}

// TestUpdateReportsWaitsForTheLastCase: without an outdir, /updateReports
// still waits for the runCase that is finishing, so that results read
// right after it are complete. The testee here returns from each case
// before its TCP connection is gone, so the fuzzing server is still
// finishing the last case when updateReports arrives.
func TestUpdateReportsWaitsForTheLastCase(t *testing.T) {
	fs, base := startFuzzingServer(t, &ServerSpec{Cases: []string{"1.1.1", "1.1.2", "2.1"}}, nil)
	inner := testeeClient(flaws{ignoreClose: true}) // never closes TCP itself
	slow := func(ctx context.Context, url string) error {
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- inner(cctx, url) }()
		// Return while the case is still open; the server ends it
		// (its close timeout, then it drops TCP) after we are gone.
		time.Sleep(50 * time.Millisecond)
		go func() {
			<-done
			cancel()
		}()
		return nil
	}
	n, err := RunTesteeClient(context.Background(), base, "slow", slow, nil)
	if err != nil || n != 3 {
		t.Fatalf("RunTesteeClient = %d, %v", n, err)
	}
	if got := len(fs.Results().Cases); got != 3 {
		t.Errorf("%d results right after updateReports, want 3", got)
	}
}
