package autobahn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/h2stream"
	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/internal/tlscert"
)

// These tests run the suite over HTTP/2 (RFC 8441) and TLS against this
// library's echo server and client, and check that every case ends exactly
// as over HTTP/1.1 on TCP.

// transport is one way of carrying the cases.
type transport struct {
	agent  string
	secure bool // wss://
	http2  bool // extended CONNECT streams
}

var (
	h1    = transport{"h1", false, false}
	h2c   = transport{"h2c", false, true}
	h1TLS = transport{"h1-tls", true, false}
	h2TLS = transport{"h2-tls", true, true}
	// transports lists the baseline first.
	transports = []transport{h1, h2c, h1TLS, h2TLS}
)

// tlsSetup is the certificate the test servers use and a client
// configuration that trusts it.
type tlsSetup struct {
	cert   tls.Certificate
	client *tls.Config
}

func newTLSSetup(t testing.TB) *tlsSetup {
	cert, pool, err := tlscert.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	return &tlsSetup{cert: cert, client: &tls.Config{RootCAs: pool}}
}

// startEchoServers serves the library's echo server on two loopback
// ports: ws:// with HTTP/1.1 and h2c, wss:// with HTTP/1.1 and h2.
func startEchoServers(t testing.TB, ts *tlsSetup) (ws, wss string) {
	es := &echo.Server{}
	var servers []*http.Server
	for _, secure := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: es, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols), ErrorLog: discardLog}
		hs.Protocols.SetHTTP1(true)
		if secure {
			hs.Protocols.SetHTTP2(true)
			hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{ts.cert}}
			go hs.ServeTLS(ln, "", "")
			wss = "wss://" + ln.Addr().String() + "/"
		} else {
			hs.Protocols.SetUnencryptedHTTP2(true)
			go hs.Serve(ln)
			ws = "ws://" + ln.Addr().String() + "/"
		}
		servers = append(servers, hs)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		es.Shutdown(ctx)
		for _, hs := range servers {
			hs.Close()
		}
	})
	return ws, wss
}

// libTestee is the library's client as a testee (echo.TesteeClient), over
// HTTP/2 if h2 is set; it refuses to fall back to HTTP/1.1.
func libTestee(h2 bool, tr *http2.Transport, cfg *tls.Config) EchoFunc {
	return func(ctx context.Context, url string) error {
		opts := echo.ClientOptions()
		opts.HTTP2, opts.HTTP2Transport, opts.TLSConfig = h2, tr, cfg
		c, err := conn.Dial(ctx, url, opts)
		if err != nil {
			return err
		}
		defer c.CloseNow()
		if c.HTTP2() != h2 {
			return fmt.Errorf("testee: HTTP/2 is %v, want %v", c.HTTP2(), h2)
		}
		err = echo.Loop(ctx, c)
		if conn.CloseStatus(err) != 0 {
			return nil
		}
		return err
	}
}

// transportRun runs cases over one transport in one mode.
type transportRun struct {
	tr      transport
	mode    string
	ts      *tlsSetup
	ws, wss string // the echo servers (fuzzingclient mode)
	h2tr    *http2.Transport

	res *Results
	err error
	dur time.Duration
}

func (r *transportRun) do(include, exclude []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	defer func() { r.dur = time.Since(start) }()
	r.res, r.err = nil, nil
	switch r.mode {
	case ModeFuzzingClient:
		url := r.ws
		if r.tr.secure {
			url = r.wss
		}
		spec := &ClientSpec{Servers: []ServerEntry{{Agent: r.tr.agent, URL: url, HTTP2: r.tr.http2}}, Cases: include, ExcludeCases: exclude}
		r.res, r.err = RunFuzzingClient(ctx, spec, &Options{TLSClientConfig: r.ts.client})
	case ModeFuzzingServer:
		r.res, r.err = r.serve(ctx, include, exclude)
	}
	if r.err == nil {
		if got, want := len(r.res.Cases), len(SelectCases(include, exclude)); got != want {
			r.err = fmt.Errorf("%d results, want %d", got, want)
		}
	}
	if r.res == nil {
		return
	}
	for _, c := range r.res.Cases {
		if c.HTTP2 != r.tr.http2 || c.TLS != r.tr.secure {
			r.err = errors.Join(r.err, fmt.Errorf("case %s ran with http2 %v and tls %v", c.ID, c.HTTP2, c.TLS))
		}
	}
}

// serve runs a fuzzing server that takes HTTP/1.1 and HTTP/2, and drives
// it with the library's client.
func (r *transportRun) serve(ctx context.Context, include, exclude []string) (*Results, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "ws://" + ln.Addr().String()
	if r.tr.secure {
		base = "wss://" + ln.Addr().String()
	}
	opts := &Options{TLSServerConfig: &tls.Config{Certificates: []tls.Certificate{r.ts.cert}}}
	fs, err := NewFuzzingServer(&ServerSpec{URL: base, HTTP2: true, Cases: include, ExcludeCases: exclude}, opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- fs.Serve(ln) }()
	var cfg *tls.Config
	var h2tr *http2.Transport // nil: the library's shared h2c transport
	if r.tr.secure {
		cfg, h2tr = r.ts.client, r.h2tr
	}
	n, err := RunTesteeClientTLS(ctx, base, r.tr.agent, libTestee(r.tr.http2, h2tr, cfg), nil, cfg)
	if err == nil && n != fs.CaseCount() {
		err = fmt.Errorf("RunTesteeClient ran %d cases, server has %d", n, fs.CaseCount())
	}
	if _, e := FetchMessageTLS(ctx, base+"/stopServer", cfg); e != nil {
		err = errors.Join(err, e)
	}
	err = errors.Join(err, <-served)
	return fs.Results(), err
}

// outcome is what must not depend on the transport.
func outcome(c *CaseResult) string {
	code := "none"
	if c.RemoteCloseCode != nil {
		code = fmt.Sprint(*c.RemoteCloseCode)
	}
	return c.Behavior + " / " + c.BehaviorClose + " / " + code
}

// differences lists the cases whose outcome differs between a and b, the
// results of one agent each.
func differences(a, b *Results) []string {
	var ids []string
	for _, ca := range a.Cases {
		var cb *CaseResult
		if len(b.Cases) > 0 {
			cb = b.Lookup(b.Cases[0].Agent, ca.ID)
		}
		if cb == nil || outcome(ca) != outcome(cb) {
			ids = append(ids, ca.ID)
		}
	}
	return ids
}

// replace puts the results of again in place of those in res.
func replace(res, again *Results) {
	for _, cr := range again.Cases {
		for i, old := range res.Cases {
			if old.ID == cr.ID {
				res.Cases[i] = cr
			}
		}
	}
}

// shortH2 is the selection of the HTTP/2 tests under -short (reason: run
// time): a sample of every section, row 1 of every 12.x and 13.x
// subsection, and none of the long 6.x UTF-8 tables or megabyte 9.x cases.
func shortH2() []string {
	return append([]string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.1.*", "6.2.*", "6.3.*", "6.4.*", "7.*",
		"9.1.1", "9.2.1", "9.7.1", "10.*"}, compressionRows(1)...)
}

// compressionRows returns the IDs of the given rows of every 12.x and 13.x
// subsection: a pattern such as "12.*.1" selects rows 10 to 18 as well.
func compressionRows(rows ...int) []string {
	var ids []string
	for _, c := range Cases() {
		if ch := c.Chapter(); ch == "12" || ch == "13" {
			for _, r := range rows {
				if c.ID[strings.LastIndexByte(c.ID, '.')+1:] == fmt.Sprint(r) {
					ids = append(ids, c.ID)
				}
			}
		}
	}
	return ids
}

// h2Selection is what TestHTTP2SameVerdicts runs: 1.* to 10.*, and rows
// 1-4 of every subsection of 12 and 13 (permessage-deflate); shortH2 under
// -short. AUTOBAHN_H2_CASES, a comma-separated list of patterns, replaces
// the selection.
func h2Selection() (include, exclude []string) {
	if s := os.Getenv("AUTOBAHN_H2_CASES"); s != "" {
		return strings.Split(s, ","), nil
	}
	if reduced() {
		return shortH2(), nil
	}
	return append(slices.Clone(sections1to10), compressionRows(1, 2, 3, 4)...), nil
}

// TestHTTP2SameVerdicts runs the selection over HTTP/1.1, h2c, HTTP/1.1
// over TLS and HTTP/2 over TLS, in both modes, against the library's echo
// server and client, and checks that every case has the same verdicts and
// testee close code over each transport as over plain HTTP/1.1. A case that
// differs is run again over both transports once (the cases' timers are
// short enough for a loaded machine to miss one); a difference that stays
// fails the test.
func TestHTTP2SameVerdicts(t *testing.T) {
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	include, exclude := h2Selection()
	ts := newTLSSetup(t)
	ws, wss := startEchoServers(t, ts)
	h2tr := conn.NewHTTP2Transport(ts.client)
	defer h2tr.CloseIdleConnections()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			// The transports run at once: they see the same load.
			var rs []*transportRun
			var wg sync.WaitGroup
			for _, tr := range transports {
				r := &transportRun{tr: tr, mode: mode, ts: ts, ws: ws, wss: wss, h2tr: h2tr}
				rs = append(rs, r)
				wg.Go(func() { r.do(include, exclude) })
			}
			wg.Wait()
			for _, r := range rs {
				if r.err != nil {
					t.Fatalf("%s: %v", r.tr.agent, r.err)
				}
				t.Logf("%s over %s: %d cases in %v", mode, r.tr.agent, len(r.res.Cases), r.dur.Round(time.Millisecond))
			}
			base := rs[0]
			for _, r := range rs[1:] {
				diff := differences(base.res, r.res)
				if len(diff) > 0 {
					for _, id := range diff {
						t.Logf("%s: case %s differs: %s over %s, %s over %s", mode, id,
							outcome(base.res.Lookup(base.tr.agent, id)), base.tr.agent,
							outcome(r.res.Lookup(r.tr.agent, id)), r.tr.agent)
					}
					t.Logf("%s: running %v again over %s and %s", mode, diff, base.tr.agent, r.tr.agent)
					for _, x := range []*transportRun{base, r} {
						again := &transportRun{tr: x.tr, mode: mode, ts: ts, ws: ws, wss: wss, h2tr: h2tr}
						again.do(diff, nil)
						if again.err != nil {
							t.Fatalf("%s again: %v", x.tr.agent, again.err)
						}
						replace(x.res, again.res)
					}
				}
				for _, id := range differences(base.res, r.res) {
					t.Errorf("%s: case %s: %s over %s, %s over %s", mode, id,
						outcome(base.res.Lookup(base.tr.agent, id)), base.tr.agent,
						outcome(r.res.Lookup(r.tr.agent, id)), r.tr.agent)
				}
				t.Logf("%s: %s vs %s: %d cases compared", mode, r.tr.agent, base.tr.agent, len(r.res.Cases))
			}
			for _, r := range rs {
				var notOK []string
				for _, c := range r.res.Cases {
					if c.Failed() {
						t.Errorf("%s over %s: case %s", mode, r.tr.agent, describe(c))
					} else if c.Behavior != VerdictOK && c.Behavior != VerdictInformational {
						notOK = append(notOK, c.ID+" "+c.Behavior)
					}
				}
				if len(notOK) > 0 {
					t.Logf("%s over %s: passing, not OK: %v", mode, r.tr.agent, notOK)
				}
				if dir := os.Getenv("AUTOBAHN_REPORT_DIR"); dir != "" {
					if err := WriteReports(dir+"/"+mode+"-"+r.tr.agent, r.res); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

// startH2TesteeServer runs the raw testee of testee_test.go behind an h2c
// server: each extended CONNECT stream is one testee connection, which
// ends (END_STREAM) when the testee drops it.
func startH2TesteeServer(t testing.TB, f flaws) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	hs := &http.Server{Protocols: new(http.Protocols), ErrorLog: discardLog}
	hs.Protocols.SetUnencryptedHTTP2(true)
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
			http.Error(w, "not a WebSocket", http.StatusBadRequest)
			return
		}
		w.Header().Set("Server", "raw-testee")
		ext, pm := testeeServerPMCE(r.Header.Get("Sec-WebSocket-Extensions"), f)
		if ext != "" {
			w.Header().Set("Sec-WebSocket-Extensions", ext)
		}
		w.WriteHeader(http.StatusOK)
		sc, err := h2stream.Server(w, r)
		if err != nil {
			return
		}
		c := &tconn{nc: sc, br: bufio.NewReader(sc), server: true, f: f, pm: pm}
		c.run()
	})
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "ws://" + ln.Addr().String(), nil
}

// h2TesteeClient is the raw testee client on an extended CONNECT stream
// (h2c, the library's shared transport); dropping TCP ends the stream.
func h2TesteeClient(f flaws) EchoFunc {
	return func(ctx context.Context, rawURL string) error {
		h := http.Header{"Sec-WebSocket-Version": {"13"}}
		if f.deflate {
			h.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
		}
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, sc, err := h2stream.Dial(hctx, nil, "http"+strings.TrimPrefix(rawURL, "ws"), h)
		cancel()
		if err != nil {
			return err
		}
		c := &tconn{nc: sc, br: bufio.NewReader(sc), f: f, pm: testeeClientPMCE(resp.Header.Get("Sec-WebSocket-Extensions"))}
		stop := context.AfterFunc(ctx, func() { sc.Close() })
		defer stop()
		return c.run()
	}
}

// withHTTP2 returns a copy of o (nil: the defaults) with HTTP2 set.
func withHTTP2(o *Options) *Options {
	var r Options
	if o != nil {
		r = *o
	}
	r.HTTP2 = true
	return &r
}

// TestHTTP2BrokenTestees runs the broken raw testees of TestTimedRuns over
// h2c, in both modes: the same cases must fail as over TCP. "TCP gone" is
// "stream gone" here, which never-answers-close checks in particular: its
// failures come from the close-handshake and server-drop timeouts.
func TestHTTP2BrokenTestees(t *testing.T) {
	t.Parallel() // mostly waiting for the cases' timers, like TestTimedRuns
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	include := sections1to10
	if reduced() {
		include = shortH2()
	}
	if s := os.Getenv("AUTOBAHN_H2_CASES"); s != "" {
		include = strings.Split(s, ",")
	}
	var rs []*run
	for _, b := range brokenTestees {
		for _, mode := range modes {
			rs = append(rs, &run{name: b.name + "/" + mode, mode: mode, f: b.f, opts: withHTTP2(b.opts),
				include: include, exclude: brokenExclude,
				serverURL: func(t testing.TB) (string, error) { return startH2TesteeServer(t, b.f) },
				driver: func(ctx context.Context, base string) error {
					_, err := RunTesteeClient(ctx, base, "raw-testee", h2TesteeClient(b.f), nil)
					return err
				}})
		}
	}
	runAll(t, rs)
	i := 0
	for _, b := range brokenTestees {
		for _, mode := range modes {
			r := rs[i]
			i++
			t.Run(r.name, func(t *testing.T) {
				if r.res == nil {
					t.Skip("run failed")
				}
				for _, c := range r.res.Cases {
					if !c.HTTP2 {
						t.Fatalf("case %s did not run over HTTP/2", c.ID)
					}
				}
				want := predict(r.include, r.exclude, func(c *Case) bool { return b.fails(c, mode) })
				var wrong []string
				for _, c := range r.res.Cases {
					if c.Failed() != slices.Contains(want, c.ID) {
						t.Logf("case %s", describe(c))
						wrong = append(wrong, c.ID)
					}
				}
				r.retry(t, wrong)
				for _, c := range r.res.Cases {
					if c.Failed() != slices.Contains(want, c.ID) {
						t.Errorf("case %s, predicted failed=%v", describe(c), !c.Failed())
					}
				}
			})
		}
	}
}

// TestHTTP2Endpoints drives a fuzzing server's endpoints over HTTP/2 (h2c
// and TLS with a generated certificate) next to HTTP/1.1 on the same port.
func TestHTTP2Endpoints(t *testing.T) {
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", secure), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			base := "ws://" + ln.Addr().String()
			var cfg *tls.Config
			if secure {
				base = "wss://" + ln.Addr().String()
				cfg = &tls.Config{InsecureSkipVerify: true}
			}
			var progress strings.Builder
			spec := &ServerSpec{URL: base, OutDir: t.TempDir(), HTTP2: true, Cases: []string{"1.1.1", "2.1"}}
			fs, err := NewFuzzingServer(spec, &Options{Progress: &progress})
			if err != nil {
				t.Fatal(err)
			}
			if secure != strings.Contains(progress.String(), "self-signed certificate") {
				t.Errorf("progress %q", progress.String())
			}
			served := make(chan error, 1)
			go func() { served <- fs.Serve(ln) }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var h2tr *http2.Transport
			if secure {
				h2tr = conn.NewHTTP2Transport(cfg)
				defer h2tr.CloseIdleConnections()
			}
			fetchH2 := func(path string) string {
				t.Helper()
				c, err := conn.Dial(ctx, base+path, &conn.DialOptions{HTTP2: true, HTTP2Transport: h2tr, TLSConfig: cfg})
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				defer c.CloseNow()
				if !c.HTTP2() {
					t.Fatalf("%s: not over HTTP/2", path)
				}
				_, msg, err := c.ReadMessage(ctx, nil)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if _, _, err := c.ReadMessage(ctx, nil); conn.CloseStatus(err) != 1000 {
					t.Errorf("%s: closed with %v, want 1000", path, err)
				}
				return string(msg)
			}
			if got := fetchH2("/getCaseCount"); got != "2" {
				t.Errorf("getCaseCount over HTTP/2 = %q", got)
			}
			// HTTP/1.1 on the same port, as without HTTP/2.
			if got, err := FetchMessageTLS(ctx, base+"/getCaseCount", cfg); err != nil || string(got) != "2" {
				t.Errorf("getCaseCount over HTTP/1.1 = %q, %v", got, err)
			}
			if err := libTestee(true, h2tr, cfg)(ctx, base+"/runCase?casetuple=2.1&agent=a"); err != nil {
				t.Errorf("runCase: %v", err)
			}
			if got := fetchH2("/getCaseStatus?casetuple=2.1&agent=a"); got != `{"behavior":"OK"}` {
				t.Errorf("getCaseStatus = %s", got)
			}
			cr := fs.Results().Lookup("a", "2.1")
			if cr == nil || !cr.HTTP2 || cr.TLS != secure || !strings.HasPrefix(cr.HTTPRequest, ":method: CONNECT\r\n:protocol: websocket\r\n") ||
				!strings.HasPrefix(cr.HTTPResponse, ":status: 200\r\n") || !strings.Contains(cr.HTTPResponse, "server: "+Version) {
				t.Errorf("result %+v", cr)
			}
			// Rejections carry their status over HTTP/2 too.
			url := "http" + strings.TrimPrefix(base, "ws")
			for _, tc := range []struct {
				path    string
				version string
				status  int
			}{
				{"/getCaseCount", "", http.StatusUpgradeRequired},
				{"/nowhere", "13", http.StatusNotFound},
				{"/runCase?case=1", "13", http.StatusBadRequest},
				{"/runCase?case=3&agent=a", "13", http.StatusBadRequest},
			} {
				h := http.Header{}
				if tc.version != "" {
					h.Set("Sec-WebSocket-Version", tc.version)
				}
				resp, sc, err := h2stream.Dial(ctx, h2tr, url+tc.path, h)
				if sc != nil {
					sc.Close()
				}
				if resp == nil || resp.StatusCode != tc.status {
					t.Errorf("%s: %v, %v; want status %d", tc.path, resp, err, tc.status)
				} else if tc.status == http.StatusUpgradeRequired && resp.Header.Get("Sec-WebSocket-Version") != "13" {
					t.Errorf("426 without Sec-WebSocket-Version: 13")
				}
			}
			start := time.Now()
			if got := fetchH2("/stopServer"); got != "stopping" {
				t.Errorf("stopServer = %q", got)
			}
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Serve returned %v after stopServer", d)
			}
		})
	}
}

// TestTLSAndHTTP2Failures covers wss:// without HTTP/2 and what fails
// without extended CONNECT; it runs without GODEBUG=http2xconnect=1.
func TestTLSAndHTTP2Failures(t *testing.T) {
	if extendedConnectEnabled() {
		t.Skip("needs a process without GODEBUG=http2xconnect=1")
	}
	if _, err := NewFuzzingServer(&ServerSpec{HTTP2: true, Cases: []string{"1.1.1"}}, nil); !errors.Is(err, ErrNoExtendedConnect) {
		t.Errorf("NewFuzzingServer with HTTP2: %v, want ErrNoExtendedConnect", err)
	}
	ts := newTLSSetup(t)
	ws, wss := startEchoServers(t, ts)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead.Close()
	spec := &ClientSpec{
		Servers: []ServerEntry{
			{Agent: "insecure", URL: wss, Insecure: true, Hostname: "localhost"},
			// As the suite: a certificate is verified only with a hostname.
			{Agent: "untrusted", URL: wss, Hostname: "localhost"},
			{Agent: "unverified", URL: wss},
			{Agent: "no-xconnect", URL: ws, HTTP2: true},
			{Agent: "dead", URL: "wss://" + dead.Addr().String(), HTTP2: true},
		},
		Cases: []string{"1.1.1"},
	}
	res, err := RunFuzzingClient(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"insecure":    "OK",
		"untrusted":   "FAILED opening handshake failed: TLS handshake: tls: failed to verify certificate",
		"unverified":  "OK",
		"no-xconnect": "FAILED opening handshake failed: extended CONNECT",
	}
	for agent, w := range want {
		cr := res.Lookup(agent, "1.1.1")
		if cr == nil {
			t.Errorf("%s: no result", agent)
			continue
		}
		if got := cr.Behavior + " " + cr.Result; !strings.HasPrefix(got, w) {
			t.Errorf("%s: %s, want %s…", agent, got, w)
		}
	}
	if len(res.Abandoned) != 1 || res.Abandoned[0].Agent != "dead" {
		t.Errorf("abandoned %+v, want the dead server's case", res.Abandoned)
	}
	// A wss:// fuzzing server with a generated certificate, over HTTP/1.1.
	var progress strings.Builder
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "wss://" + ln.Addr().String()
	fs, err := NewFuzzingServer(&ServerSpec{URL: base, Cases: []string{"1.1.1"}}, &Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	go fs.Serve(ln)
	defer fs.Close()
	cfg := &tls.Config{InsecureSkipVerify: true}
	if _, err := FetchMessage(context.Background(), base+"/getCaseCount"); err == nil {
		t.Error("FetchMessage trusted a self-signed certificate")
	}
	n, err := RunTesteeClientTLS(context.Background(), base, "a", libTestee(false, nil, cfg), nil, cfg)
	if err != nil || n != 1 {
		t.Fatalf("RunTesteeClientTLS: %d, %v", n, err)
	}
	if cr := fs.Results().Lookup("a", "1.1.1"); cr == nil || cr.Behavior != VerdictOK || !cr.TLS || cr.HTTP2 {
		t.Errorf("result %+v", cr)
	}
	if !strings.Contains(progress.String(), "self-signed certificate") {
		t.Errorf("progress %q does not announce the certificate", progress.String())
	}
}

// TestHTTP2StalledTestee: a testee that stops reading its stream leaves
// the fuzzer's writes blocked by HTTP/2 flow control; the safety timeout
// must still end the case at once, in both modes, as closing a socket ends
// a blocked write.
func TestHTTP2StalledTestee(t *testing.T) {
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	opts := &Options{HTTP2: true, MaxCaseDuration: 500 * time.Millisecond}
	cases := []string{"9.1.6"} // 16 MiB to the testee
	stalled := make(chan struct{})
	defer close(stalled)

	// fuzzingclient: a server that answers 200 and never reads.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Protocols: new(http.Protocols), ErrorLog: discardLog}
	hs.Protocols.SetUnencryptedHTTP2(true)
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		select {
		case <-stalled:
		case <-r.Context().Done():
		}
	})
	go hs.Serve(ln)
	defer hs.Close()
	start := time.Now()
	spec := &ClientSpec{Servers: []ServerEntry{{Agent: "stalled", URL: "ws://" + ln.Addr().String()}}, Cases: cases}
	res, err := RunFuzzingClient(context.Background(), spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	if cr := res.Cases[0]; !cr.SafetyTimeout || !cr.HTTP2 || cr.Behavior != VerdictFailed {
		t.Errorf("fuzzingclient: %s", describe(cr))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("fuzzingclient: the case took %v", d)
	}

	// fuzzingserver: a client that opens the stream and never reads.
	fs, base := startFuzzingServer(t, &ServerSpec{Cases: cases}, opts)
	start = time.Now()
	resp, sc, err := h2stream.Dial(context.Background(), nil, "http"+strings.TrimPrefix(base, "ws")+"/runCase?case=1&agent=stalled",
		http.Header{"Sec-WebSocket-Version": {"13"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := fs.waitStatus("stalled", "9.1.6"); got != VerdictFailed {
		t.Errorf("fuzzingserver: %s", got)
	}
	if cr := fs.Results().Lookup("stalled", "9.1.6"); cr == nil || !cr.SafetyTimeout || !cr.HTTP2 {
		t.Errorf("fuzzingserver: %+v", cr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("fuzzingserver: the case took %v", d)
	}
}

func TestSpecTransportFields(t *testing.T) {
	cs, err := ParseClientSpec([]byte(`{"servers": [{"url": "wss://example.com/x", "http2": true, "insecure": true}, {"url": "ws://127.0.0.1:9001"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := cs.Servers[0]; !s.HTTP2 || !s.Insecure {
		t.Errorf("server entry %+v", s)
	}
	if s := cs.Servers[1]; s.HTTP2 || s.Insecure {
		t.Errorf("server entry %+v", s)
	}
	ss, err := ParseServerSpec([]byte(`{"url": "wss://127.0.0.1:9443", "http2": true}`))
	if err != nil || !ss.HTTP2 {
		t.Errorf("server spec %+v, %v", ss, err)
	}
}
