// Package selftest runs the conformance suite (package autobahn) against
// this library's own echo server and testee client, in-process, as
// `wstest` with no flags does and as CI gates on.
package selftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
)

// Agent names in the reports.
const (
	ServerAgent = "wirelevel-server"
	ClientAgent = "wirelevel-client"
)

// DefaultCases is what wstest runs with no flags and what CI gates on:
// every case of 1.*-10.*, and the 12.*/13.* cases whose messages are at
// most 16 KiB (rows 1-7, 11 and 12 of each subsection). The other 12/13
// rows echo 1,000 messages of 32 KiB to 128 KiB through compression each
// way and take about 20 minutes more on two cores; -cases '*' runs them.
// The 12/13 rows are listed by ID: a pattern such as "12.*.1" also selects
// rows 10 to 18, as it does in the suite (see autobahn.MatchPattern).
var DefaultCases = append([]string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"},
	CompressionRows(1, 2, 3, 4, 5, 6, 7, 11, 12)...)

// DefaultSelection describes DefaultCases in words.
const DefaultSelection = "1.* to 10.*, and rows 1-7, 11 and 12 of every 12.x and 13.x subsection"

// CompressionRows returns the IDs of the given rows (the last component of
// the ID) of every 12.x and 13.x subsection, in case order.
func CompressionRows(rows ...int) []string {
	var ids []string
	for _, c := range autobahn.Cases() {
		if ch := c.Chapter(); ch != "12" && ch != "13" {
			continue
		}
		row, err := strconv.Atoi(c.ID[strings.LastIndexByte(c.ID, '.')+1:])
		if err == nil && slices.Contains(rows, row) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Config selects what to run.
type Config struct {
	Cases, Exclude []string // case patterns; nil Cases means DefaultCases
	Options        *autobahn.Options
	Progress       io.Writer // a line per case, or nil
	SkipServer     bool
	SkipClient     bool
	// HTTP2 runs the suite over HTTP/2 with prior knowledge (h2c, RFC
	// 8441): the echo server serves HTTP/1.1 and h2c, the harness opens
	// every case against it as an extended CONNECT stream, and the testee
	// client dials with DialOptions.HTTP2 into a fuzzing server that takes
	// HTTP/2. The process must have started with GODEBUG=http2xconnect=1
	// (Run returns autobahn.ErrNoExtendedConnect otherwise), and every case
	// must have run over HTTP/2.
	HTTP2 bool
}

// Run runs the selected cases against the echo server (fuzzingclient mode)
// and with the testee client (fuzzingserver mode), both on 127.0.0.1, and
// returns their results (nil for a side that was skipped).
func Run(ctx context.Context, cfg Config) (server, client *autobahn.Results, err error) {
	cases := cfg.Cases
	if cases == nil {
		cases = DefaultCases
	}
	if cfg.HTTP2 && !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		return nil, nil, autobahn.ErrNoExtendedConnect
	}
	// A side for which the patterns select no case (the sections after 13
	// that run in one mode only) is skipped; if both are, the run fails
	// with autobahn.ErrNoCases.
	none := 0
	if !cfg.SkipServer {
		server, err = runServer(ctx, cfg, cases)
		switch {
		case errors.Is(err, autobahn.ErrNoCases):
			server, none = nil, none+1
		case err != nil:
			return nil, nil, err
		}
		if err := checkHTTP2(cfg, server, "server"); err != nil {
			return server, nil, err
		}
	}
	if !cfg.SkipClient {
		client, err = runClient(ctx, cfg, cases)
		switch {
		case errors.Is(err, autobahn.ErrNoCases):
			client, none = nil, none+1
		case err != nil:
			return server, nil, err
		}
		if err := checkHTTP2(cfg, client, "client"); err != nil {
			return server, client, err
		}
	}
	if none > 0 && server == nil && client == nil {
		return nil, nil, autobahn.ErrNoCases
	}
	return server, client, nil
}

// checkHTTP2 makes sure that no case of an HTTP/2 run fell back to
// HTTP/1.1.
func checkHTTP2(cfg Config, res *autobahn.Results, side string) error {
	if !cfg.HTTP2 || res == nil {
		return nil
	}
	for _, cr := range res.Cases {
		if !cr.HTTP2 {
			return fmt.Errorf("selftest: %s case %s did not run over HTTP/2", side, cr.ID)
		}
	}
	return nil
}

// runServer tests the echo server: the harness is the client.
func runServer(ctx context.Context, cfg Config, cases []string) (*autobahn.Results, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	es := &echo.Server{}
	hs := &http.Server{Handler: es, ReadHeaderTimeout: 10 * time.Second}
	if cfg.HTTP2 {
		hs.Protocols = new(http.Protocols)
		hs.Protocols.SetHTTP1(true)
		hs.Protocols.SetUnencryptedHTTP2(true)
	}
	go hs.Serve(ln)
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shutdown)
		es.Shutdown(shutdown)
	}()
	spec := &autobahn.ClientSpec{
		Servers:      []autobahn.ServerEntry{{Agent: ServerAgent, URL: "ws://" + ln.Addr().String() + "/", HTTP2: cfg.HTTP2}},
		Cases:        cases,
		ExcludeCases: cfg.Exclude,
	}
	return autobahn.RunFuzzingClient(ctx, spec, withProgress(cfg.Options, cfg.Progress, "server"))
}

// runClient tests the testee client: the harness is the server.
func runClient(ctx context.Context, cfg Config, cases []string) (*autobahn.Results, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	spec := &autobahn.ServerSpec{URL: "ws://" + ln.Addr().String(), Cases: cases, ExcludeCases: cfg.Exclude, HTTP2: cfg.HTTP2}
	fs, err := autobahn.NewFuzzingServer(spec, withProgress(cfg.Options, cfg.Progress, "client"))
	if err != nil {
		ln.Close()
		return nil, err
	}

	go fs.Serve(ln)
	defer fs.Close()
	testee := echo.TesteeClient
	if cfg.HTTP2 {
		testee = http2Testee
	}
	if _, err := autobahn.RunTesteeClient(ctx, "ws://"+ln.Addr().String(), ClientAgent, testee, nil); err != nil {
		return nil, fmt.Errorf("selftest: testee client: %w", err)
	}
	return fs.Results(), nil
}

// http2Testee is echo.TesteeClient over HTTP/2: it dials with
// DialOptions.HTTP2 and refuses the fallback to HTTP/1.1.
func http2Testee(ctx context.Context, url string) error {
	opts := echo.ClientOptions()
	opts.HTTP2 = true
	c, err := conn.Dial(ctx, url, opts)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if !c.HTTP2() {
		return errors.New("selftest: the testee client fell back to HTTP/1.1")
	}
	err = echo.Loop(ctx, c)
	if conn.CloseStatus(err) != 0 {
		return nil // the case ended with a closing handshake or a drop
	}
	return err
}

func withProgress(o *autobahn.Options, w io.Writer, side string) *autobahn.Options {
	var r autobahn.Options
	if o != nil {
		r = *o
	}
	if w != nil {
		r.Progress = prefixWriter{w, side + " "}
	}
	return &r
}

// prefixWriter prefixes each progress line.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}
