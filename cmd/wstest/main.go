// Command wstest is the WebSocket test tool of this library: a Go
// re-implementation of the Autobahn|Testsuite's wstest, with its modes,
// flags, spec files and report layout, so that the scripts, specs and
// testee programs written for it work unchanged, plus conformance sections
// of its own (14 and up, see autobahn/SECTIONS.md).
//
//	wstest                                      # the suite against this library, in-process
//	wstest -m fuzzingclient -s fuzzingclient.json
//	wstest -m fuzzingserver -s fuzzingserver.json
//	wstest -m testeeclient -w ws://127.0.0.1:9001
//	wstest -m echoserver -w ws://127.0.0.1:9001
//	wstest -m massconnect -s massconnect.json
//
// Run wstest -h for every mode and flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/wirelevel/ws/autobahn"
)

const usage = `usage: wstest [-m MODE] [flags]

With no mode, runs the conformance suite against this library's own server
and client in-process, prints the summary and writes the report to
./reports (exit status as below).

Modes (the suite's):
  fuzzingclient    test the WebSocket servers listed in the spec (the harness
                   is the client); reports to the spec's outdir
  fuzzingserver    serve testee clients at the spec's url (or -w) with
                   /getCaseCount, /runCase, /updateReports, ...; with a web
                   server on -u for browsers (test page, reports)
  testeeclient     run this library's client as a testee against the
                   fuzzing server at -w (ours or the suite's); -i names it
  testeeserver     run this library's server as a testee at -w: an echo
                   server that accepts permessage-deflate, named by -i
  echoserver       run an echo server at -w until interrupted (any path;
                   text stays text, binary stays binary; a page at /)
  echoclient       connect to -w, send a set of messages and check the
                   echoes; exit status 0 only if every one came back intact
  broadcastserver  run a server at -w that sends every message it receives
                   to every client, and "tick N" every second; a page on -u
  broadcastclient  connect to -w, send "hello from HOST[PID]" every 2 s and
                   print what arrives, until interrupted
  massconnect      open the spec's number of connections to each of its
                   servers, in batches, and report the rate and failures
Not implemented: wsperfcontrol, wsperfmaster, serializer, import, export,
web and the WAMP modes (most are switched off in the suite's wstest too).

The suite's flags:
  -m, --mode MODE         the mode
  -s, --spec FILE         spec file; fuzzingclient, fuzzingserver and
                          massconnect use ./MODE.json without it, and write
                          the suite's default spec there if it is missing
  -w, --wsuri URL         WebSocket URL (ws:// or wss://)
  -u, --webport PORT      port of the web server of fuzzingserver and
                          broadcastserver mode (default: the spec's webport,
                          else 8080; 0: none). It serves a page with the
                          browser testee, and the reports under /reports/
  -i, --ident NAME        the testee's name: testeeclient's agent,
                          testeeserver's Server header
  -k, --key FILE          TLS private key (PEM) for wss:// server modes
  -c, --cert FILE         TLS certificate (PEM) for wss:// server modes
                          (without them: the spec's, else self-signed)
  -d, --debug             debug output: a line per case with its verdicts'
                          reasons, and per connection in the server modes
  -a, --autobahnversion   print the versions and exit
Ours:
  -o, --outdir DIR        report directory: replaces the spec's outdir;
                          with no mode, default ./reports
  -agent NAME             the same as -i
  -cases LIST             comma-separated case patterns (no mode; default:
                          1.* to 10.* and the 12/13 rows up to 16 KiB; '*'
                          for the suite's 517; 14.* and up on request)
  -http2                  echoclient, testeeclient: dial over HTTP/2 (RFC
                          8441), falling back to HTTP/1.1
  -insecure               echoclient, testeeclient, broadcastclient: accept
                          any TLS certificate (for self-signed servers)

Case patterns are matched as the suite matches them: a pattern with '*' is
a regular expression ('.' literal, '*' any characters) anchored at the
start of the ID, one without '*' names a case. Sections 14 and up (the
opening handshake, limits and resilience, RFC 8441) are ours and run only
when a pattern names them, such as "14.*".

Exit status: 0 every case passed (or the mode ended normally); 1 some
cases failed (see the summary; failed counts as in DECISIONS.md, item 8),
or the mode failed; 2 a usage or spec error; 3 the spec selects no case;
4 a testee could not be reached (its cases were not run).

wss:// servers use the -c/-k (or the spec's) certificate, else a freshly
generated self-signed one. The echo, testee and fuzzing servers also take
HTTP/2: with TLS by ALPN, without it with prior knowledge, and RFC 8441's
extended CONNECT; wstest re-executes itself with GODEBUG=http2xconnect=1
to switch that on.
`

// modes lists the modes wstest runs; notImplemented those of the suite it
// does not.
var (
	modes = []string{"echoserver", "echoclient", "broadcastclient", "broadcastserver", "fuzzingserver",
		"fuzzingclient", "testeeserver", "testeeclient", "massconnect"}
	notImplemented = []string{"wsperfcontrol", "wsperfmaster", "serializer", "import", "export", "web",
		"fuzzingwampserver", "fuzzingwampclient", "wampserver", "wamptesteeserver", "wampclient"}
	modesNeedingSpec  = []string{"fuzzingclient", "fuzzingserver", "massconnect"}
	modesNeedingWSURI = []string{"echoclient", "echoserver", "broadcastclient", "broadcastserver", "testeeclient", "testeeserver"}
)

type config struct {
	mode, wsuri, spec, ident, cases, outdir, key, cert string
	webport                                            int
	webportSet                                         bool
	http2, insecure, debug, version                    bool
}

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitNoCases     = 3
	exitUnreachable = 4
)

// Errors that choose the exit status; see exitCode.
var (
	errFailed      = errors.New("some cases FAILED (see the summary and the report)")
	errUnreachable = errors.New("a testee could not be reached")
)

// usageError is a mistake in the command line or the spec: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, autobahn.ErrNoCases):
		return exitNoCases
	case errors.Is(err, errUnreachable):
		return exitUnreachable
	}
	return exitFailed
}

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr, true))
}

// run runs wstest with args, as main does but in this process: it never
// re-executes itself (tests call it).
func run(args []string, stdout, stderr io.Writer) int { return runMain(args, stdout, stderr, false) }

func runMain(args []string, stdout, stderr io.Writer, reexec bool) int {
	var cfg config
	fs := flag.NewFlagSet("wstest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, "", "")
		}
	}
	boolean := func(p *bool, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, false, "")
		}
	}
	str(&cfg.mode, "m", "mode")
	str(&cfg.wsuri, "w", "wsuri")
	str(&cfg.spec, "s", "spec")
	str(&cfg.ident, "i", "ident", "agent")
	str(&cfg.outdir, "o", "outdir")
	str(&cfg.key, "k", "key")
	str(&cfg.cert, "c", "cert")
	str(&cfg.cases, "cases")
	for _, n := range []string{"u", "webport"} {
		fs.Func(n, "", func(s string) error {
			var p int
			if _, err := fmt.Sscan(s, &p); err != nil || p < 0 || p > 65535 || fmt.Sprint(p) != s {
				return fmt.Errorf("invalid Web port %s", s)
			}
			cfg.webport, cfg.webportSet = p, true
			return nil
		})
	}
	boolean(&cfg.debug, "d", "debug")
	boolean(&cfg.version, "a", "autobahnversion")
	boolean(&cfg.http2, "http2")
	boolean(&cfg.insecure, "insecure")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "wstest: %v (wstest -h for usage)\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wstest: unexpected argument %q (wstest -h for usage)\n", fs.Arg(0))
		return exitUsage
	}
	if cfg.version {
		printVersions(stdout)
		return exitOK
	}
	if err := checkMode(cfg); err != nil {
		fmt.Fprintf(stderr, "wstest: %v\n", err)
		return exitUsage
	}
	if reexec && needsXConnect(cfg.mode) && !xconnect() {
		reexecWithXConnect() // returns only if it cannot
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := runMode(ctx, cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "wstest: %v\n", err)
	}
	return exitCode(err)
}

// checkMode checks the mode and the flags it needs, as the suite does
// before it starts.
func checkMode(cfg config) error {
	switch {
	case cfg.mode == "":
		return nil
	case slices.Contains(notImplemented, cfg.mode):
		return usagef("mode %q is not implemented by this wstest; available modes:\n\t- %s", cfg.mode, strings.Join(sortedModes(), "\n\t- "))
	case !slices.Contains(modes, cfg.mode):
		return usagef("mode %q is invalid; available modes:\n\t- %s", cfg.mode, strings.Join(sortedModes(), "\n\t- "))
	case slices.Contains(modesNeedingWSURI, cfg.mode) && cfg.wsuri == "":
		return usagef("mode %s needs a WebSocket URI (-w ws://host:port)", cfg.mode)
	}
	return nil
}

func sortedModes() []string { return slices.Sorted(slices.Values(modes)) }

func runMode(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	switch cfg.mode {
	case "echoserver":
		return echoServer(ctx, cfg, stdout)
	case "testeeserver":
		return testeeServer(ctx, cfg, stdout)
	case "broadcastserver":
		return broadcastServer(ctx, cfg, stdout, stderr)
	case "echoclient":
		return echoClient(ctx, cfg, stdout)
	case "broadcastclient":
		return broadcastClient(ctx, cfg, stdout)
	case "fuzzingclient":
		return fuzzingClient(ctx, cfg, stdout, stderr)
	case "fuzzingserver":
		return fuzzingServer(ctx, cfg, stdout, stderr)
	case "testeeclient":
		return testeeClient(ctx, cfg, stdout)
	case "massconnect":
		return massConnect(ctx, cfg, stdout, stderr)
	}
	return selfTest(ctx, cfg, stdout)
}

// needsXConnect reports whether a mode runs an HTTP/2 server that takes
// WebSockets (extended CONNECT).
func needsXConnect(mode string) bool {
	switch mode {
	case "echoserver", "testeeserver", "broadcastserver", "fuzzingserver":
		return true
	}
	return false
}

// xconnect reports whether this process enables HTTP/2 extended CONNECT.
func xconnect() bool { return strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") }

func printVersions(w io.Writer) {
	fmt.Fprintf(w, "wstest %s (github.com/wirelevel/ws, %s)\n", autobahn.Version, runtime.Version())
	fmt.Fprintf(w, "Cases of Autobahn|Testsuite %s with the semantics of autobahn-python %s, and sections 14 and up of its own\n",
		autobahn.SuiteVersion, autobahn.SuiteLibraryVersion)
}

// parseWS checks a ws:// or wss:// URL from the -w flag.
func parseWS(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, usagef("no URL given (-w ws://host:port)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usagef("bad URL %q: %v", raw, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, usagef("bad URL %q: scheme must be ws or wss", raw)
	}
	if u.Host == "" {
		return nil, usagef("bad URL %q: no host", raw)
	}
	return u, nil
}
