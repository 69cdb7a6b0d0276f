package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/conn"
)

// massSpec is the suite's massconnect spec.
type massSpec struct {
	Options struct {
		Connections int     `json:"connections"`
		BatchSize   int     `json:"batchsize"`
		BatchDelay  float64 `json:"batchdelay"` // ms between batches
		RetryDelay  float64 `json:"retrydelay"` // ms before a failed connect is tried again
	} `json:"options"`
	Servers []struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
		Desc string `json:"desc"`
	} `json:"servers"`
}

// The bounds of a massconnect run: a connect is tried again at most
// maxRetries times, and a server that has not completed a handshake for
// stallTimeout is given up on.
const (
	maxConnections = 1 << 20
	maxRetries     = 100
	stallTimeout   = 30 * time.Second
)

func loadMassSpec(cfg config, stdout io.Writer) (*massSpec, error) {
	path, err := specPath(cfg, stdout)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s massSpec
	if err := decodeSpecFile(path, b, &s); err != nil {
		return nil, err
	}
	o := &s.Options
	switch {
	case o.Connections < 1 || o.Connections > maxConnections:
		return nil, usagef("%s: options.connections must be 1 to %d", path, maxConnections)
	case o.BatchSize < 1:
		return nil, usagef("%s: options.batchsize must be at least 1", path)
	case o.BatchDelay < 0 || o.RetryDelay < 0:
		return nil, usagef("%s: options.batchdelay and retrydelay must not be negative", path)
	case len(s.Servers) == 0:
		return nil, usagef("%s: no servers", path)
	}
	for i, srv := range s.Servers {
		if _, err := parseWS(srv.URI); err != nil {
			return nil, usagef("%s: servers[%d]: %v", path, i, err)
		}
	}
	return &s, nil
}

// massResult is what a massconnect run against one server found.
type massResult struct {
	connected, failed, lost int64
	duration                time.Duration
	err                     error
}

// massConnect is the suite's massconnect: for each server, open the
// spec's number of WebSocket connections in batches, retry failed
// connects, report the time it took, then close them all.
func massConnect(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	s, err := loadMassSpec(cfg, stdout)
	if err != nil {
		return err
	}
	if n := raiseFileLimit(uint64(s.Options.Connections) + 64); n > 0 && n < uint64(s.Options.Connections)+64 {
		fmt.Fprintf(stderr, "wstest: warning: the open file limit is %d, below the %d connections asked for\n", n, s.Options.Connections)
	}
	var errs []error
	reached := false
	for _, srv := range s.Servers {
		r := massConnectOne(ctx, cfg, s, srv.Name, srv.URI, stdout)
		fmt.Fprintf(stdout, "wstest: connected %d clients to %s at %s in %.3f seconds (retries %d = failed %d + lost %d)\n",
			r.connected, srv.Name, srv.URI, r.duration.Seconds(), r.failed+r.lost, r.failed, r.lost)
		if r.connected > 0 {
			reached = true
		}
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", srv.Name, r.err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if !reached && ctx.Err() == nil {
		errs = append(errs, errUnreachable)
	}
	return errors.Join(errs...)
}

func massConnectOne(ctx context.Context, cfg config, s *massSpec, name, uri string, stdout io.Writer) *massResult {
	o := s.Options
	r := &massResult{}
	var connected, failed, lost, ended atomic.Int64
	var closing atomic.Bool
	var mu sync.Mutex
	var conns []*conn.Conn
	var lastErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := dialOptions(cfg)
	opts.Compression = nil
	start := time.Now()
	var wg sync.WaitGroup
	dialOne := func() {
		defer wg.Done()
		defer ended.Add(1)
		for try := 0; try <= maxRetries; try++ {
			if ctx.Err() != nil {
				return
			}
			dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
			c, err := conn.Dial(dctx, uri, opts)
			dcancel()
			if err == nil {
				connected.Add(1)
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				// Read until the end, to see a server that drops the
				// connection before the run is over.
				go func() {
					for {
						if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
							if !closing.Load() {
								lost.Add(1)
							}
							return
						}
					}
				}()
				return
			}
			failed.Add(1)
			mu.Lock()
			lastErr = err
			mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(o.RetryDelay * float64(time.Millisecond))):
			}
		}
	}
	// The progress line: on a terminal rewritten in place, else a line a
	// second.
	tty := isTerminal(stdout)
	every := time.Second
	if tty {
		every = 200 * time.Millisecond
	}
	done := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprintln(stdout)
				}
				return
			case <-t.C:
			}
			n := connected.Load()
			el := time.Since(start).Seconds()
			line := fmt.Sprintf("wstest: massconnect %s: %d/%d connected (%.0f/s), %d failed connects, %d lost", name, n, o.Connections, float64(n)/el, failed.Load(), lost.Load())
			if tty {
				fmt.Fprintf(stdout, "\r%-100s", line)
			} else {
				fmt.Fprintln(stdout, line)
			}
		}
	}()
	// Start the batches, then wait for every connect to end; give up on a
	// server that makes no progress for stallTimeout.
	go func() {
		for started := 0; started < o.Connections && ctx.Err() == nil; {
			n := min(o.BatchSize, o.Connections-started)
			wg.Add(n)
			for range n {
				go dialOne()
			}
			started += n
			if started < o.Connections {
				select {
				case <-ctx.Done():
				case <-time.After(time.Duration(o.BatchDelay * float64(time.Millisecond))):
				}
			}
		}
	}()
	last, lastAt := int64(0), time.Now()
	for ended.Load() < int64(o.Connections) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		if n := connected.Load(); n != last {
			last, lastAt = n, time.Now()
		} else if time.Since(lastAt) > stallTimeout {
			mu.Lock()
			r.err = fmt.Errorf("no new connection for %v (last error: %v)", stallTimeout, lastErr)
			mu.Unlock()
			break
		}
	}
	r.duration = time.Since(start)
	cancel()
	wg.Wait()
	close(done)
	<-progressDone
	closing.Store(true)
	mu.Lock()
	all := conns
	if r.err == nil && connected.Load() < int64(o.Connections) && lastErr != nil {
		r.err = fmt.Errorf("%d of %d connections made (last error: %v)", connected.Load(), o.Connections, lastErr)
	}
	mu.Unlock()
	// Close them all with the closing handshake, a few at a time.
	sem := make(chan struct{}, 64)
	var cw sync.WaitGroup
	for _, c := range all {
		sem <- struct{}{}
		cw.Add(1)
		go func() {
			defer cw.Done()
			defer func() { <-sem }()
			c.Close(1000, "")
		}()
	}
	cw.Wait()
	r.connected, r.failed, r.lost = connected.Load(), failed.Load(), lost.Load()
	return r
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// decodeSpecFile decodes a spec file that package autobahn does not know
// (massconnect's), with the file, line and column of a JSON error.
func decodeSpecFile(path string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		off := int64(-1)
		switch {
		case errors.As(err, &se):
			off = max(se.Offset-1, 0)
		case errors.As(err, &te):
			off = te.Offset
		}
		if off >= 0 {
			line, col := 1, 1
			for _, c := range b[:min(int(off), len(b))] {
				if c == '\n' {
					line, col = line+1, 1
				} else {
					col++
				}
			}
			return usagef("%s:%d:%d: %v", path, line, col, err)
		}
		return usagef("%s: %v", path, err)
	}
	return nil
}
