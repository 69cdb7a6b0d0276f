package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/selftest"
)

// The suite's default specs, which it writes to ./MODE.json when a mode
// that needs one runs without -s and the file is not there.
var specTemplates = map[string]string{
	"fuzzingclient": `{
   "outdir": "./reports/servers",
   "servers": [
      {
         "url": "ws://127.0.0.1:9001"
      }
   ],
   "cases": ["*"],
   "exclude-cases": [],
   "exclude-agent-cases": {}
}
`,
	"fuzzingserver": `{
   "url": "ws://127.0.0.1:9001",
   "outdir": "./reports/clients",
   "cases": ["*"],
   "exclude-cases": [],
   "exclude-agent-cases": {}
}
`,
	"massconnect": `{
   "options": {
      "connections": 10000,
      "batchsize": 100,
      "batchdelay": 10,
      "retrydelay": 10
   },
   "servers":  [
                  {
                     "name": "AutobahnPython",
                     "uri": "ws://127.0.0.1:9000",
                     "desc": "Autobahn WebSocket Python on localhost"
                  }
               ]
}
`,
}

// specPath returns the spec file of a mode: -s, else ./MODE.json, written
// from the suite's default if it does not exist, as the suite does.
func specPath(cfg config, stdout io.Writer) (string, error) {
	if cfg.spec != "" {
		fmt.Fprintf(stdout, "wstest: using explicit spec file %s\n", cfg.spec)
		return cfg.spec, nil
	}
	name := cfg.mode + ".json"
	if _, err := os.Stat(name); err == nil {
		fmt.Fprintf(stdout, "wstest: using implicit spec file %s\n", name)
		return name, nil
	}
	fmt.Fprintf(stdout, "wstest: auto-generating spec file %s\n", name)
	if err := os.WriteFile(name, []byte(specTemplates[cfg.mode]), 0o644); err != nil {
		return "", err
	}
	return name, nil
}

// specError makes a spec that cannot be used a usage error (exit status
// 2), unless it selects no case (exit status 3).
func specError(err error) error {
	if err == nil || errors.Is(err, autobahn.ErrNoCases) || errors.Is(err, context.Canceled) {
		return err
	}
	return &usageError{strings.TrimPrefix(err.Error(), "autobahn: ")}
}

func warn(stderr io.Writer, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(stderr, "wstest: warning: %s\n", w)
	}
}

// harnessOptions are the options of a run: progress lines, and with -d
// each case's reasons as well.
func harnessOptions(cfg config, stdout io.Writer) *autobahn.Options {
	return &autobahn.Options{Progress: stdout, Debug: cfg.debug}
}

// fuzzingClient tests the servers of a spec: the harness is the client.
func fuzzingClient(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	path, err := specPath(cfg, stdout)
	if err != nil {
		return err
	}
	spec, err := autobahn.LoadClientSpec(path)
	if errors.Is(err, autobahn.ErrNoServers) && cfg.wsuri != "" {
		// As the suite: a spec without servers tests the -w URL.
		spec.Servers, err = []autobahn.ServerEntry{{URL: cfg.wsuri}}, nil
		if _, perr := parseWS(cfg.wsuri); perr != nil {
			return perr
		}
	}
	if err != nil {
		return specError(err)
	}
	warn(stderr, spec.Warnings)
	if cfg.outdir != "" {
		spec.OutDir = cfg.outdir
	}
	if spec.OutDir == "" {
		spec.OutDir = filepath.Join("reports", "servers")
	}
	res, err := autobahn.RunFuzzingClient(ctx, spec, harnessOptions(cfg, stdout))
	return finish(res, specError(err), spec.OutDir, stdout)
}

// webPortFor is the port of the web server: -u, else the spec's webport,
// else the suite's 8080.
func webPortFor(cfg config, spec *autobahn.ServerSpec) int {
	switch {
	case cfg.webportSet:
		return cfg.webport
	case spec != nil && spec.WebPort != nil:
		return *spec.WebPort
	}
	return 8080
}

// fuzzingServer serves testee clients: the harness is the server.
func fuzzingServer(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	path, err := specPath(cfg, stdout)
	if err != nil {
		return err
	}
	spec, err := autobahn.LoadServerSpec(path)
	if err != nil {
		return specError(err)
	}
	warn(stderr, spec.Warnings)
	if cfg.wsuri != "" {
		if _, err := parseWS(cfg.wsuri); err != nil {
			return err
		}
		spec.URL = cfg.wsuri
	}
	if cfg.outdir != "" {
		spec.OutDir = cfg.outdir
	}
	if spec.OutDir == "" {
		spec.OutDir = filepath.Join("reports", "clients")
	}
	// -k and -c win over the spec's key and cert, as in the suite.
	if cfg.key != "" || cfg.cert != "" {
		if cfg.key == "" || cfg.cert == "" {
			return usagef("-c and -k go together")
		}
		spec.Key, spec.Cert = cfg.key, cfg.cert
	}
	fs, err := autobahn.NewFuzzingServer(spec, harnessOptions(cfg, stdout))
	if err != nil {
		return specError(err)
	}
	u, _ := parseWS(spec.URL)
	fmt.Fprintf(stdout, "wstest: fuzzing server at %s, %d cases for any client that connects; reports go to %s; Ctrl-C or /stopServer to stop\n",
		spec.URL, fs.CaseCount(), spec.OutDir)
	var tlsCfg *tls.Config
	if u.Scheme == "wss" {
		if spec.Cert != "" {
			cert, err := tls.LoadX509KeyPair(spec.Cert, spec.Key)
			if err != nil {
				return err
			}
			tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}}
		}
	}
	stopWeb, err := startWeb(ctx, cfg, webPortFor(cfg, spec), u.Hostname(), u.Scheme == "wss", fuzzingSite(spec.URL, spec.OutDir), stdout, stderr, tlsCfg)
	if err != nil {
		return err
	}
	defer stopWeb()
	err = fs.ListenAndServe(ctx)
	if ctx.Err() != nil {
		err = nil // interrupted: report what ran
	}
	return finish(fs.Results(), err, spec.OutDir, stdout)
}

// testeeClient runs this library's client as a testee against a fuzzing
// server, following the runCase protocol.
func testeeClient(ctx context.Context, cfg config, stdout io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	agent := cfg.ident
	if agent == "" {
		agent = selftest.ClientAgent
	}
	opts := echo.ClientOptions()
	opts.HTTP2 = cfg.http2
	var tlsCfg *tls.Config
	if cfg.insecure {
		tlsCfg = &tls.Config{InsecureSkipVerify: true}
		opts.TLSConfig = tlsCfg
	}
	var progress io.Writer
	if cfg.debug {
		progress = stdout
	}
	n, err := autobahn.RunTesteeClientTLS(ctx, strings.TrimRight(u.String(), "/"), agent, echo.TesteeClientWith(opts), progress, tlsCfg)
	if err != nil {
		return unreachable(err)
	}
	fmt.Fprintf(stdout, "wstest: ran %d cases as %s; the fuzzing server has the reports\n", n, agent)
	return nil
}

// selfTest runs the suite against this library's own server and client.
func selfTest(ctx context.Context, cfg config, stdout io.Writer) error {
	cases, what := selftest.DefaultCases, selftest.DefaultSelection
	if cfg.cases != "" {
		cases = strings.Split(cfg.cases, ",")
		what = strings.Join(cases, " ")
	}
	if err := autobahn.CheckPatterns(cases, nil, nil); err != nil {
		return specError(err)
	}
	out := cfg.outdir
	if out == "" {
		out = "reports"
	}
	fmt.Fprintf(stdout, "wstest: running the conformance suite (%s) against this library's server and client\n", what)
	start := time.Now()
	srv, cli, err := selftest.Run(ctx, selftest.Config{Cases: cases, Progress: stdout, Options: &autobahn.Options{Debug: cfg.debug}})
	if err != nil {
		return specError(err)
	}
	errS := finish(srv, nil, filepath.Join(out, "servers"), stdout)
	errC := finish(cli, nil, filepath.Join(out, "clients"), stdout)
	fmt.Fprintf(stdout, "wstest: done in %v\n", time.Since(start).Round(time.Second))
	return errors.Join(errS, errC)
}

// finish writes the reports and the summary of a run, and returns what
// decides the exit status: runErr, else a testee that could not be
// reached, else failed cases.
func finish(res *autobahn.Results, runErr error, outdir string, stdout io.Writer) error {
	if res == nil || errors.Is(runErr, autobahn.ErrNoCases) {
		return runErr
	}
	var ue *usageError
	if errors.As(runErr, &ue) {
		return runErr
	}
	if err := autobahn.WriteReports(outdir, res); err != nil {
		return errors.Join(runErr, err)
	}
	res.Summary().WriteText(stdout)
	fmt.Fprintf(stdout, "wstest: report: %s\n", filepath.Join(outdir, "index.html"))
	switch {
	case runErr != nil:
		return runErr
	case len(res.Abandoned) > 0:
		var why []string
		for _, a := range res.Abandoned {
			why = append(why, fmt.Sprintf("%s (%d cases not run: %s)", a.URL, len(a.Cases), a.Reason))
		}
		err := fmt.Errorf("%w: %s", errUnreachable, strings.Join(why, "; "))
		if res.Failed() && hasFailedCase(res) {
			err = fmt.Errorf("%w; and %v", err, errFailed)
		}
		return err
	case res.Failed():
		return errFailed
	}
	return nil
}

func hasFailedCase(res *autobahn.Results) bool {
	for _, c := range res.Cases {
		if c.Failed() {
			return true
		}
	}
	return false
}
