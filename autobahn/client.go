package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wirelevel/ws/handshake"
)

// RunFuzzingClient runs the spec's cases against each of its testee servers
// in turn, one TCP connection per case, and returns the results. It prints a
// progress line per case to opts.Progress. If a TCP connection to a server
// cannot be established, the server's remaining cases are abandoned (listed
// in Results.Abandoned) and the run moves on to the next server.
//
// RunFuzzingClient does not write reports; call [WriteReports] with
// spec.OutDir. It returns an error only for a bad spec (a pattern that does
// not compile, or [ErrNoCases] if the patterns select no case for this
// mode) or a canceled ctx, in which case the results so far are returned
// too.
func RunFuzzingClient(ctx context.Context, spec *ClientSpec, opts *Options) (*Results, error) {
	o := opts.withDefaults()
	res := &Results{Mode: ModeFuzzingClient, Started: time.Now()}
	if err := CheckPatterns(spec.Cases, spec.ExcludeCases, spec.ExcludeAgentCases); err != nil {
		return res, err
	}
	cases := casesForMode(SelectCases(spec.Cases, spec.ExcludeCases), ModeFuzzingClient, o.Progress)
	if len(cases) == 0 {
		return res, ErrNoCases
	}
	defer func() { res.Finished = time.Now() }()
	total := len(cases) * len(spec.Servers)
	done := 0
	for si := range spec.Servers {
		srv := &spec.Servers[si]
		u, err := parseWSURL(srv.URL)
		if err != nil {
			return res, err
		}
		if addr, ok := dockerHost(u); ok {
			fmt.Fprintf(o.Progress, "autobahn: %s does not resolve here; connecting to %s, the host Docker's name stands for\n", u.hostname, addr)
			u.addr = addr
		}
		// The spec's options, then the server's, as the suite applies
		// them to its client factory for each server.
		so := *o
		if _, err := so.ApplyProtocolOptions(spec.Options, ModeFuzzingClient); err != nil {
			return res, fmt.Errorf("autobahn: options: %w", err)
		}
		if _, err := so.ApplyProtocolOptions(srv.Options, ModeFuzzingClient); err != nil {
			return res, fmt.Errorf("autobahn: servers[%d].options: %w", si, err)
		}
		agent := srv.Agent
		state := &serverState{}
		for i, c := range cases {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if agent != "" && ExcludedForAgent(spec.ExcludeAgentCases, agent, c.ID) {
				total--
				continue
			}
			cr, err := runClientCase(ctx, u, srv, agent, c, &so, state)
			if err != nil {
				ab := Abandoned{Agent: agent, URL: srv.URL, Reason: err.Error()}
				if ab.Agent == "" {
					ab.Agent = srv.URL
				}
				for _, rest := range cases[i:] {
					ab.Cases = append(ab.Cases, rest.ID)
				}
				res.Abandoned = append(res.Abandoned, ab)
				fmt.Fprintf(o.Progress, "abandoning %d cases of %s: %v\n", len(ab.Cases), srv.URL, err)
				total -= len(cases) - i
				break
			}
			if agent == "" {
				// The first handshake named the agent; apply the
				// agent exclusions from here on.
				agent = cr.Agent
				if ExcludedForAgent(spec.ExcludeAgentCases, agent, c.ID) {
					total--
					continue
				}
			}
			res.Cases = append(res.Cases, cr)
			done++
			o.progress(done, total, cr)
		}
	}
	return res, nil
}

// errConnect marks a failed TCP connect.
var errConnect = errors.New("autobahn: cannot connect")

// runClientCase opens a connection for case c, completes the handshake and
// runs the case. It returns an error only when TCP cannot be established.
func runClientCase(ctx context.Context, u *wsURL, srv *ServerEntry, agent string, c *Case, o *Options, state *serverState) (*CaseResult, error) {
	if c.extra != nil && c.extra.client != nil {
		return c.extra.client(ctx, &clientTarget{u: u, srv: srv, agent: agent, c: c, o: o, state: state})
	}
	if srv.HTTP2 || o.HTTP2 {
		return runClientCaseH2(ctx, u, srv, agent, c, o)
	}
	started := time.Now()
	d := net.Dialer{Timeout: timeout(o.OpenHandshakeTimeout)}
	nc, err := d.DialContext(ctx, "tcp", u.addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errConnect, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	nc.SetDeadline(deadline(started, o.OpenHandshakeTimeout))
	key := handshake.NewKey()
	ext := ""
	if c.PMCE != nil {
		ext = clientOfferHeader(c.PMCE)
	}
	req := clientRequest(u, srv, key, ext, o.UserAgent, o.WebSocketVersion)
	name := agent
	fail := func(why string, timeout bool, resp []byte) (*CaseResult, error) {
		nc.Close()
		if name == "" {
			name = "UnknownServer"
		}
		res := handshakeFailedResult(c, name, ModeFuzzingClient, true, started, why, timeout, string(req), string(resp))
		res.TLS = u.secure
		return res, nil
	}
	if u.secure {
		tc := tls.Client(nc, clientTLSConfig(o, srv, u, "http/1.1"))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake: "+err.Error(), isTimeout(err), nil)
		}
		nc = tc
	}
	if _, err := nc.Write(req); err != nil {
		return fail("write request: "+err.Error(), isTimeout(err), nil)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	raw, err := readHeaderBlock(br)
	if err != nil {
		return fail("read response: "+err.Error(), isTimeout(err), raw)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: http.MethodGet})
	if err != nil {
		return fail("parse response: "+err.Error(), false, raw)
	}
	if name == "" {
		name = resp.Header.Get("Server")
	}
	pm, err := checkServerResponse(resp, key, srv, c.PMCE != nil)
	if err != nil {
		return fail(err.Error(), false, raw)
	}
	s := &session{
		nc: nc, br: br, client: true, pmce: pm,
		agent: name, mode: ModeFuzzingClient,
		request: string(req), response: string(raw),
		rawRequest: req, rawResponse: raw,
		opened: time.Now(), tls: u.secure, url: u.base() + u.target,
	}
	if s.agent == "" {
		s.agent = "UnknownServer"
	}
	return runCase(ctx, c, s, o), nil
}

// clientTLSConfig is the TLS configuration for a connection to a wss://
// testee server that is to speak proto (ALPN).
//
// As the suite, the fuzzer verifies the certificate only when the server
// entry names a hostname (then against the system's roots, or
// Options.TLSClientConfig's, with that name in SNI); without one it does
// not, unless Go code set Options.TLSClientConfig.
func clientTLSConfig(o *Options, srv *ServerEntry, u *wsURL, proto string) *tls.Config {
	insecure := srv.Insecure || (srv.Hostname == "" && o.TLSClientConfig == nil)
	cfg := tlsClientConfig(o.TLSClientConfig, u, insecure, proto)
	if srv.Hostname != "" {
		cfg.ServerName = srv.Hostname
	}
	return cfg
}

// tlsClientConfig is a copy of base (nil means the defaults) for a
// connection to u that is to speak proto (ALPN).
func tlsClientConfig(base *tls.Config, u *wsURL, insecure bool, proto string) *tls.Config {
	cfg := base.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.hostname
	}
	if insecure {
		cfg.InsecureSkipVerify = true
	}
	cfg.NextProtos = []string{proto}
	return cfg
}

// dockerHost returns the address to dial for a URL whose host is Docker's
// name for the machine running the container, host.docker.internal, when
// that name does not resolve: the suite's specs are often written for
// wstest in a container, and here wstest runs on that machine itself, at
// 127.0.0.1.
func dockerHost(u *wsURL) (string, bool) {
	if !strings.EqualFold(u.hostname, "host.docker.internal") {
		return "", false
	}
	if _, err := net.LookupHost(u.hostname); err == nil {
		return "", false
	}
	_, port, _ := net.SplitHostPort(u.addr)
	return net.JoinHostPort("127.0.0.1", port), true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
