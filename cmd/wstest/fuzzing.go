package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/selftest"
)

// errFailed makes wstest exit with status 1 after it printed why.
var errFailed = errors.New("some cases FAILED (see the summary and the report)")

func harnessOptions(stdout io.Writer) *autobahn.Options {
	return &autobahn.Options{Progress: stdout}
}

// fuzzingClient tests the servers of a spec: the harness is the client.
func fuzzingClient(ctx context.Context, cfg config, stdout io.Writer) error {
	if cfg.spec == "" {
		return errors.New("fuzzingclient needs a spec (-s fuzzingclient.json)")
	}
	spec, err := autobahn.LoadClientSpec(cfg.spec)
	if err != nil {
		return err
	}
	if spec.OutDir == "" {
		spec.OutDir = filepath.Join("reports", "servers")
	}
	res, err := autobahn.RunFuzzingClient(ctx, spec, harnessOptions(stdout))
	return finish(res, err, spec.OutDir, stdout)
}

// fuzzingServer serves testee clients: the harness is the server.
func fuzzingServer(ctx context.Context, cfg config, stdout io.Writer) error {
	spec := &autobahn.ServerSpec{URL: "ws://127.0.0.1:9001", Cases: []string{"*"}}
	if cfg.spec != "" {
		var err error
		if spec, err = autobahn.LoadServerSpec(cfg.spec); err != nil {
			return err
		}
	}
	if cfg.wsuri != "" {
		spec.URL = cfg.wsuri
	}
	if spec.OutDir == "" {
		spec.OutDir = filepath.Join("reports", "clients")
	}
	fs, err := autobahn.NewFuzzingServer(spec, harnessOptions(stdout))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wstest: fuzzing server at %s with %d cases; reports go to %s; Ctrl-C or /stopServer to stop\n",
		spec.URL, fs.CaseCount(), spec.OutDir)
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
	agent := cfg.agent
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
	n, err := autobahn.RunTesteeClientTLS(ctx, strings.TrimRight(u.String(), "/"), agent, echo.TesteeClientWith(opts), stdout, tlsCfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wstest: ran %d cases as %s; the fuzzing server has the reports\n", n, agent)
	return nil
}

// selfTest runs the suite against this library's own server and client.
func selfTest(ctx context.Context, cfg config, stdout io.Writer) error {
	cases := selftest.DefaultCases
	if cfg.cases != "" {
		cases = strings.Split(cfg.cases, ",")
	}
	out := cfg.outdir
	if out == "" {
		out = "reports"
	}
	fmt.Fprintf(stdout, "wstest: running the conformance suite (%s) against this library's server and client\n", strings.Join(cases, " "))
	start := time.Now()
	srv, cli, err := selftest.Run(ctx, selftest.Config{Cases: cases, Progress: stdout})
	if err != nil {
		return err
	}
	errS := finish(srv, nil, filepath.Join(out, "servers"), stdout)
	errC := finish(cli, nil, filepath.Join(out, "clients"), stdout)
	fmt.Fprintf(stdout, "wstest: done in %v\n", time.Since(start).Round(time.Second))
	return errors.Join(errS, errC)
}

// finish writes the reports and the summary of a run.
func finish(res *autobahn.Results, runErr error, outdir string, stdout io.Writer) error {
	if res == nil {
		return runErr
	}
	if err := autobahn.WriteReports(outdir, res); err != nil {
		return errors.Join(runErr, err)
	}
	res.Summary().WriteText(stdout)
	fmt.Fprintf(stdout, "wstest: report: %s\n", filepath.Join(outdir, "index.html"))
	if runErr != nil {
		return runErr
	}
	if res.Failed() {
		return errFailed
	}
	return nil
}
