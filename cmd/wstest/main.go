// Command wstest is the WebSocket test tool of this library: a Go
// re-implementation of the Autobahn|Testsuite's fuzzing modes, with
// Autobahn's flag names so existing scripts and testee programs work
// unchanged, plus an echo server and client.
//
//	wstest                                      # the suite against this library, in-process
//	wstest -m fuzzingclient -s fuzzingclient.json
//	wstest -m fuzzingserver -s fuzzingserver.json
//	wstest -m testeeclient -w ws://127.0.0.1:9001
//	wstest -m echoserver -w ws://127.0.0.1:9001
//	wstest -m echoclient -w ws://127.0.0.1:9001/
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/tlscert"
)

const usage = `usage: wstest [-m MODE] [flags]

With no mode, runs the conformance suite against this library's own server
and client in-process, prints the summary and writes the report to
./reports (exit status 1 if any case FAILED).

Modes:
  fuzzingclient  test the WebSocket servers listed in the -s spec file
                 (the harness is the client); reports to the spec's outdir
  fuzzingserver  serve testee clients at the spec's url (or -w), with
                 /getCaseCount, /runCase, /updateReports, ...
  testeeclient   run this library's client as a testee against the fuzzing
                 server at -w (ours or the original suite's)
  echoserver     run an echo server at the -w URL until interrupted
                 (any path; text stays text, binary stays binary)
  echoclient     connect to the -w URL, send a set of messages, check the
                 echoes; exit status 0 only if every one came back intact

Flags:
  -m, --mode MODE      the mode
  -w, --wsuri URL      WebSocket URL (ws://host:port[/path])
  -s, --spec FILE      spec file (fuzzing modes)
  -a, --agent NAME     agent name of the testee client (testeeclient)
  -cases LIST          comma-separated case patterns (no mode; default: 1.*-10.*
                       and the 12/13 rows up to 16 KiB messages; '*' for all)
  -o, --outdir DIR     report directory (no mode; default ./reports)
  -http2               echoclient, testeeclient: dial over HTTP/2 (RFC 8441),
                       falling back to HTTP/1.1 if the server does not offer it
  -insecure            echoclient, testeeclient: accept any TLS certificate
                       (for wss:// to a self-signed server)

A wss:// echo server serves TLS with a freshly generated self-signed
certificate, HTTP/2 with extended CONNECT (RFC 8441) and HTTP/1.1 upgrades
side by side; wstest re-executes itself with GODEBUG=http2xconnect=1 to
switch extended CONNECT on. A ws:// echo server also takes HTTP/2 without
TLS (prior knowledge). The fuzzing server likewise takes wss:// (with a
self-signed certificate unless the spec's options say otherwise) and
HTTP/2 testee clients.
`

type config struct {
	mode, wsuri, spec, agent, cases, outdir string
	http2, insecure                         bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("wstest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, name := range []string{"m", "mode"} {
		fs.StringVar(&cfg.mode, name, "", "")
	}
	for _, name := range []string{"w", "wsuri"} {
		fs.StringVar(&cfg.wsuri, name, "", "")
	}
	for _, name := range []string{"s", "spec"} {
		fs.StringVar(&cfg.spec, name, "", "")
	}
	for _, name := range []string{"a", "agent"} {
		fs.StringVar(&cfg.agent, name, "", "")
	}
	for _, name := range []string{"o", "outdir"} {
		fs.StringVar(&cfg.outdir, name, "", "")
	}
	fs.StringVar(&cfg.cases, "cases", "", "")
	fs.BoolVar(&cfg.http2, "http2", false, "")
	fs.BoolVar(&cfg.insecure, "insecure", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "wstest: %v (wstest -h for usage)\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wstest: unexpected argument %q (wstest -h for usage)\n", fs.Arg(0))
		return 2
	}
	if (cfg.mode == "echoserver" || cfg.mode == "fuzzingserver") && !xconnect() {
		reexecWithXConnect() // returns only if it cannot
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cfg.mode {
	case "echoserver":
		err = echoServer(ctx, cfg, stdout)
	case "echoclient":
		err = echoClient(ctx, cfg, stdout)
	case "fuzzingclient":
		err = fuzzingClient(ctx, cfg, stdout)
	case "fuzzingserver":
		err = fuzzingServer(ctx, cfg, stdout)
	case "testeeclient":
		err = testeeClient(ctx, cfg, stdout)
	case "":
		err = selfTest(ctx, cfg, stdout)
	default:
		fmt.Fprintf(stderr, "wstest: unknown mode %q (wstest -h for usage)\n", cfg.mode)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "wstest: %v\n", err)
		return 1
	}
	return 0
}

// parseWS checks a ws:// URL from the -w flag.
func parseWS(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("no URL given (-w ws://host:port)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %v", raw, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("bad URL %q: scheme must be ws or wss", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("bad URL %q: no host", raw)
	}
	return u, nil
}

func echoServer(ctx context.Context, cfg config, stdout io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	secure := u.Scheme == "wss"
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if secure {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	es := &echo.Server{}
	hs := &http.Server{Handler: es, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols)}
	hs.Protocols.SetHTTP1(true)
	if secure {
		cert, _, err := tlscert.SelfSigned(u.Hostname(), "localhost", "127.0.0.1", "::1")
		if err != nil {
			return err
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		hs.Protocols.SetHTTP2(true)
	} else {
		hs.Protocols.SetUnencryptedHTTP2(true)
	}
	h2 := "HTTP/2 without extended CONNECT (start with GODEBUG=http2xconnect=1)"
	if xconnect() {
		h2 = "HTTP/2 with extended CONNECT (RFC 8441)"
	}
	scheme := "ws"
	if secure {
		scheme = "wss"
	}
	fmt.Fprintf(stdout, "wstest: echo server listening on %s://%s (any path; HTTP/1.1 upgrades and %s); Ctrl-C to stop\n", scheme, ln.Addr(), h2)
	errc := make(chan error, 1)
	go func() {
		if secure {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	es.Shutdown(shutdown)
	hs.Shutdown(shutdown)
	fmt.Fprintln(stdout, "wstest: echo server stopped")
	return nil
}

// xconnect reports whether this process enables HTTP/2 extended CONNECT.
func xconnect() bool { return strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") }

func echoClient(ctx context.Context, cfg config, stdout io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	checks := echo.DefaultChecks()
	opts := echo.ClientOptions()
	opts.HTTP2 = cfg.http2
	if cfg.insecure {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	proto, err := echo.RunClient(ctx, u.String(), opts, checks)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wstest: %d messages echoed intact by %s over %s\n", len(checks), u, proto)
	return nil
}
