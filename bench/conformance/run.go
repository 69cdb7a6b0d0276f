package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/wirelevel/ws/autobahn"
)

// Config tunes a run against one peer.
type Config struct {
	// Cases and Exclude select the cases (patterns of a spec file); nil
	// Cases means the peer's own default.
	Cases, Exclude []string
	// Timeout bounds each run against the peer (the first and the rerun).
	// Zero means two hours: node-ws-client negotiates compression, and
	// sections 12 and 13 alone took over an hour on two loaded cores.
	Timeout time.Duration
	// Progress, if set, receives a line per case.
	Progress io.Writer
	// ReportsDir, if set, receives the full reports (index, per-case JSON
	// and HTML with wire logs) in a folder named after the peer.
	ReportsDir string
	// Rerun runs every case whose verdicts are not OK/OK (UNIMPLEMENTED
	// and INFORMATIONAL aside) once more, in a run of its own, to tell
	// timing artefacts from stable verdicts.
	Rerun bool
}

// Run is the outcome of a run against one peer.
type Run struct {
	Peer     *Peer
	Results  *autobahn.Results
	Duration time.Duration
	// Reruns holds the second result of each case run again, by ID.
	Reruns map[string]*autobahn.CaseResult
	// Index is the index.json WriteIndex wrote, as given to it; empty
	// before.
	Index string
}

// RunPeer runs the harness against p. On an error after cases have run it
// returns the results so far with the error.
func RunPeer(ctx context.Context, p *Peer, cfg Config) (*Run, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Hour
	}
	cases := cfg.Cases
	if cases == nil {
		cases = p.Cases
	}
	start := time.Now()
	res, err := runOnce(ctx, p, cases, cfg.Exclude, cfg)
	if res == nil {
		return nil, err
	}
	r := &Run{Peer: p, Results: res, Duration: time.Since(start), Reruns: map[string]*autobahn.CaseResult{}}
	if err != nil {
		return r, err // the results so far, for the record
	}
	want := 0
	for _, c := range autobahn.SelectCases(cases, cfg.Exclude) {
		if slices.Contains(c.Modes(), p.Mode) {
			want++
		}
	}
	if len(res.Cases) != want {
		return r, fmt.Errorf("conformance: %s: %d results, want %d", p.Name, len(res.Cases), want)
	}
	if cfg.ReportsDir != "" {
		if err := autobahn.WriteReports(filepath.Join(cfg.ReportsDir, p.Name), res); err != nil {
			return r, err
		}
	}
	if cfg.Rerun {
		var again []string
		for _, c := range res.Cases {
			if needsRerun(c) {
				again = append(again, c.ID)
			}
		}
		if len(again) > 0 {
			rcfg := cfg
			rcfg.Progress = nil
			res2, err := runOnce(ctx, p, again, nil, rcfg)
			if err != nil {
				return r, fmt.Errorf("conformance: %s: rerun: %w", p.Name, err)
			}
			for _, c := range res2.Cases {
				r.Reruns[c.ID] = c
			}
			if cfg.ReportsDir != "" {
				if err := autobahn.WriteReports(filepath.Join(cfg.ReportsDir, p.Name+".rerun"), res2); err != nil {
					return r, err
				}
			}
		}
	}
	return r, nil
}

// needsRerun reports whether a case's verdicts are worth a second look.
func needsRerun(c *autobahn.CaseResult) bool {
	switch c.Behavior {
	case autobahn.VerdictUnimplemented, autobahn.VerdictInformational:
		return false
	}
	return c.Behavior != autobahn.VerdictOK || c.BehaviorClose != autobahn.VerdictOK
}

// runOnce runs the selected cases once against a fresh peer process.
func runOnce(ctx context.Context, p *Peer, cases, exclude []string, cfg Config) (*autobahn.Results, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	opts := &autobahn.Options{Progress: cfg.Progress}
	switch p.Mode {
	case autobahn.ModeFuzzingClient:
		pr, err := p.start(ctx)
		if err != nil {
			return nil, err
		}
		defer pr.stop()
		addr, err := pr.addr(30 * time.Second)
		if err != nil {
			return nil, fmt.Errorf("conformance: %s: %w", p.Name, err)
		}
		spec := &autobahn.ClientSpec{
			Servers: []autobahn.ServerEntry{{Agent: p.Name, URL: "ws://" + addr + p.path}},
			Cases:   cases, ExcludeCases: exclude,
		}
		res, err := autobahn.RunFuzzingClient(ctx, spec, opts)
		if err != nil {
			return res, fmt.Errorf("conformance: %s: %w", p.Name, err)
		}
		if len(res.Abandoned) > 0 {
			return res, fmt.Errorf("conformance: %s: cases abandoned: %s", p.Name, res.Abandoned[0].Reason)
		}
		return res, nil
	case autobahn.ModeFuzzingServer:
		out, err := os.MkdirTemp("", "conformance-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(out)
		fs, err := autobahn.NewFuzzingServer(&autobahn.ServerSpec{OutDir: out, Cases: cases, ExcludeCases: exclude}, opts)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		served := make(chan error, 1)
		go func() { served <- fs.Serve(ln) }()
		base := "ws://" + ln.Addr().String()
		if p.echo != nil {
			var n int
			n, err = autobahn.RunTesteeClient(ctx, base, p.Name, p.echo, nil)
			if err == nil && n != fs.CaseCount() {
				err = fmt.Errorf("conformance: %s: ran %d cases, want %d", p.Name, n, fs.CaseCount())
			}
		} else {
			pr, err := p.start(ctx, base, p.Name)
			if err != nil {
				fs.Close()
				<-served
				return nil, err
			}
			select {
			case <-pr.exited:
				err = pr.err
				if err != nil {
					err = fmt.Errorf("conformance: %s: testee client: %w", p.Name, err)
				}
			case <-ctx.Done():
				pr.stop()
				err = fmt.Errorf("conformance: %s: %w", p.Name, ctx.Err())
			}
		}
		if _, e := autobahn.FetchMessage(context.Background(), base+"/stopServer"); e != nil {
			fs.Close()
		}
		err = errors.Join(err, <-served)
		return fs.Results(), err
	}
	return nil, fmt.Errorf("conformance: %s: unknown mode %q", p.Name, p.Mode)
}

// WriteIndex writes the run's index.json (the suite's layout, as
// autobahn.WriteReports writes it) into dir/<peer>/.
func (r *Run) WriteIndex(dir string) error {
	d := filepath.Join(dir, r.Peer.Name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(autobahn.BuildIndex(r.Results), "", "   ")
	if err != nil {
		return err
	}
	r.Index = filepath.Join(d, "index.json")
	return os.WriteFile(r.Index, append(b, '\n'), 0o644)
}

// ReadIndex reads an index.json written by WriteIndex.
func ReadIndex(path string) (autobahn.Index, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx autobahn.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return idx, nil
}
