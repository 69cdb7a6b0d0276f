package autobahn

import (
	"context"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/testpeer"
)

// shortExtra shortens the waits of the sections after 13 for a test, to
// scale of them.
func shortExtra(t *testing.T, scale float64) {
	old := extraScale
	extraScale = scale
	t.Cleanup(func() { extraScale = old })
}

// libServer serves this library's echo endpoint (conn.Accept) on 127.0.0.1
// with net/http, with h2c if h2, and returns its ws:// URL.
func libServer(t *testing.T, h2 bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := conn.Accept(w, r, &conn.AcceptOptions{InsecureSkipOriginCheck: true, Compression: &conn.CompressionOptions{},
			Options: conn.Options{ReadLimit: 16 << 20}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err != nil {
				return
			}
			if c.WriteMessage(r.Context(), typ, msg) != nil {
				return
			}
		}
	})
	hs := &http.Server{Handler: h, ReadHeaderTimeout: time.Second, Protocols: new(http.Protocols)}
	hs.Protocols.SetHTTP1(true)
	if h2 {
		hs.Protocols.SetUnencryptedHTTP2(true)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

// verdictsOf runs the cases of pattern against url and returns each
// case's headline verdict.
func verdictsOf(t *testing.T, url string, patterns ...string) map[string]string {
	t.Helper()
	res, err := RunFuzzingClient(context.Background(), &ClientSpec{Servers: []ServerEntry{{Agent: "t", URL: url}}, Cases: patterns}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return byID(res)
}

func byID(res *Results) map[string]string {
	m := map[string]string{}
	for _, cr := range res.Cases {
		m[cr.ID] = cr.Behavior
		if cr.Failed() != (cr.Behavior == VerdictFailed) {
			m[cr.ID] += "/" + cr.BehaviorClose
		}
	}
	return m
}

// checkVerdicts compares verdicts with want: every case is want's default
// ("*") unless listed.
func checkVerdicts(t *testing.T, who string, got, want map[string]string) {
	t.Helper()
	ids := make([]string, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return CompareCaseIDs(ids[i], ids[j]) < 0 })
	for _, id := range ids {
		w, ok := want[id]
		if !ok {
			w = want["*"]
		}
		if got[id] != w {
			t.Errorf("%s: case %s: %s, want %s", who, id, got[id], w)
		}
	}
}

// TestSelectExtraSections: the sections after 13 are off by default and
// selected like any case when a pattern names them.
func TestSelectExtraSections(t *testing.T) {
	n := func(inc ...string) int { return len(SelectCases(inc, nil)) }
	if got := n("*"); got != TotalCases {
		t.Errorf(`"*" selects %d cases, want the suite's %d`, got, TotalCases)
	}
	if got := n("1*"); got != 233 {
		t.Errorf(`"1*" selects %d cases, want 233, as in the suite`, got)
	}
	for _, p := range []string{"14.*", "14*", "15.*", "16.*", "17.*"} {
		if n(p) == 0 {
			t.Errorf("%q selects nothing", p)
		}
	}
	if got := n("14.2.1", "17.1.1"); got != 2 {
		t.Errorf("two case IDs of sections 14 and 17 select %d cases", got)
	}
	if c := LookupCase("16.4.1"); c == nil || c.PMCE == nil || !c.Extra() || c.Index <= TotalCases {
		t.Errorf("16.4.1 = %+v", c)
	}
	if sub := SubcategoryName("14.2"); sub == "" || ChapterName("16") == "Misc" {
		t.Errorf("names of the new sections: %q %q", sub, ChapterName("16"))
	}
	for _, c := range AllCases() {
		if c.Extra() && (expectation(c) == "" || len(c.Modes()) == 0) {
			t.Errorf("case %s has no rule or mode", c.ID)
		}
	}
}

// TestServerHandshakeSection runs section 14 against this library's
// server, which passes, and against the raw testee, which accepts any
// request and fails what it should refuse.
func TestServerHandshakeSection(t *testing.T) {
	shortExtra(t, 0.1) // trickles of 2 s, against a header timeout of 1 s
	checkVerdicts(t, "library", verdictsOf(t, libServer(t, false), "14.*"), map[string]string{
		"*": VerdictOK, "14.1.9": VerdictInformational, "14.3.5": VerdictInformational,
	})
	raw, err := startTesteeServer(t, flaws{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"*": VerdictFailed}
	for _, id := range []string{"14.1.1", "14.1.2", "14.1.3", "14.1.4", "14.1.5", "14.1.6", "14.1.7", "14.1.8", "14.3.4"} {
		want[id] = VerdictOK
	}
	want["14.1.9"], want["14.3.5"] = VerdictInformational, VerdictInformational
	want["14.2.11"] = VerdictNonStrict // net/http's ReadRequest refuses two Host fields: the testee closes
	want["14.3.3"] = VerdictNonStrict  // no header timeout
	checkVerdicts(t, "raw testee", verdictsOf(t, raw, "14.*"), want)
}

// clientVerdicts runs the cases of pattern in a fuzzing server with echo as
// the testee client and returns each case's headline verdict.
func clientVerdicts(t *testing.T, echo EchoFunc, patterns ...string) map[string]string {
	t.Helper()
	fs, base := startFuzzingServer(t, &ServerSpec{Cases: patterns}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := RunTesteeClient(ctx, base, "t", echo, nil); err != nil {
		t.Fatal(err)
	}
	return byID(fs.Results())
}

// TestClientHandshakeSection runs section 15 against this library's client,
// which passes, and against the raw testee client, which checks the status
// and the accept key only.
func TestClientHandshakeSection(t *testing.T) {
	shortExtra(t, 0.1) // trickles of 2 s, against a handshake timeout of 1 s
	lib := func(ctx context.Context, url string) error {
		opts := echo.ClientOptions()
		opts.HandshakeTimeout = time.Second
		c, err := conn.Dial(ctx, url, opts)
		if err != nil {
			return err
		}
		defer c.CloseNow()
		echo.Loop(ctx, c)
		return nil
	}
	checkVerdicts(t, "library", clientVerdicts(t, lib, "15.*"), map[string]string{"*": VerdictOK})
	want := map[string]string{"*": VerdictOK}
	for _, id := range []string{"15.1.2", "15.1.3", "15.1.4", "15.1.5", "15.1.8", "15.1.9", "15.1.10", "15.3.1"} {
		want[id] = VerdictFailed
	}
	want["15.3.2"] = VerdictNonStrict // its 10 s deadline is longer than the trickle here
	// The library client's 1 s handshake timeout beats the trickle.
	checkVerdicts(t, "raw testee", clientVerdicts(t, testeeClient(flaws{}), "15.*"), want)
}

// TestLimitSection runs section 16 against this library's server and
// client, and against the raw testee, which has no limits.
func TestLimitSection(t *testing.T) {
	shortExtra(t, 0.25)
	// Under -short and the race detector (reason: run time): no million
	// fragments, no bomb the raw testee inflates, one stall.
	full := !reduced()
	pick := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			if full || (id != "16.1.2" && id != "16.4.1-raw" && id != "16.5.1") {
				out = append(out, strings.TrimSuffix(id, "-raw"))
			}
		}
		return out
	}
	// 16.5.2 is 16.5.1 and a second connection.
	checkVerdicts(t, "library server", verdictsOf(t, libServer(t, false), pick("16.1.1", "16.1.2", "16.2.1", "16.3.1", "16.3.2", "16.3.3", "16.4.1", "16.5.2")...), map[string]string{
		"*": VerdictOK, "16.5.2": VerdictNonStrict,
	})
	raw, err := startTesteeServer(t, flaws{deflate: true})
	if err != nil {
		t.Fatal(err)
	}
	// The raw testee echoes everything, fragments and all, refuses frames
	// over 64 MiB with 1009, and inflates the bomb: the fuzzer fails its
	// 256 MiB echo.
	checkVerdicts(t, "raw testee", verdictsOf(t, raw, pick("16.1.1", "16.1.2", "16.2.1", "16.3.1", "16.4.1-raw")...), map[string]string{
		"*": VerdictOK, "16.4.1": VerdictFailed,
	})
	waiting, err := startTesteeServer(t, flaws{noSizeLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	checkVerdicts(t, "a testee that waits for any payload", verdictsOf(t, waiting, "16.3.1", "16.4.1"), map[string]string{
		"16.3.1": VerdictFailed, "16.4.1": VerdictUnimplemented,
	})
	lib := func(ctx context.Context, url string) error {
		c, err := conn.Dial(ctx, url, echo.ClientOptions())
		if err != nil {
			return err
		}
		defer c.CloseNow()
		echo.Loop(ctx, c)
		return nil
	}
	checkVerdicts(t, "library client", clientVerdicts(t, lib, pick("16.1.1", "16.1.2", "16.2.1", "16.3.1", "16.4.1", "16.5.1")...), map[string]string{
		"*": VerdictOK, "16.5.1": VerdictNonStrict,
	})
}

// TestHTTP2Section runs section 17 against this library's server over h2c
// with extended CONNECT, and against servers without it.
func TestHTTP2Section(t *testing.T) {
	if !testpeer.WithExtendedConnect(t) {
		return
	}
	checkVerdicts(t, "library", verdictsOf(t, libServer(t, true), "17.*"), map[string]string{
		"*": VerdictOK,
		// net/http's HTTP/2 server takes a GET with :protocol (RFC 8441,
		// Section 4, makes it malformed) and hands it to the handler,
		// where conn.Accept refuses it as an HTTP/1.1 request over
		// HTTP/2: a 505, with no WebSocket.
		"17.2.5": VerdictNonStrict,
	})
	checkVerdicts(t, "no HTTP/2", verdictsOf(t, libServer(t, false), "17.*"), map[string]string{"*": VerdictUnimplemented})
}

// TestSectionsDocument: SECTIONS.md gives the rule of every case of the
// sections after 13.
func TestSectionsDocument(t *testing.T) {
	b, err := os.ReadFile("SECTIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range AllCases() {
		if c.Extra() && !strings.Contains(string(b), c.ID+" ") && !strings.Contains(string(b), c.ID+",") && !strings.Contains(string(b), c.ID+"\n") {
			t.Errorf("SECTIONS.md does not describe case %s", c.ID)
		}
	}
}
