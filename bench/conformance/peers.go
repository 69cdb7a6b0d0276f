package conformance

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/bench/libs"
)

// AllCases selects the whole catalogue: sections 1-7, 9, 10, 12 and 13.
var AllCases = []string{"*"}

// CompressionCases are the permessage-deflate sections, the only ones a
// compression variant changes: the fuzzer offers the extension only there.
var CompressionCases = []string{"12.*", "13.*"}

// QuickCases are sections 1 to 10 and the first nine rows (the smaller
// messages) of every 12.x and 13.x subsection: the compression cases with
// large messages take minutes each on two cores. The row patterns end in
// '$': as in the suite, a pattern with '*' is matched at the start of the
// ID only, so "12.*.1" alone would select rows 10 to 18 too.
var QuickCases = func() []string {
	cs := []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"}
	for _, s := range []string{"12", "13"} {
		for n := 1; n <= 9; n++ {
			cs = append(cs, fmt.Sprintf("%s.*.%d$", s, n))
		}
	}
	return cs
}()

// Peer is one implementation under test, in one mode.
type Peer struct {
	// Name is the agent name in the reports and the folder of its results.
	Name string
	// Mode is autobahn.ModeFuzzingClient (the peer is an echo server) or
	// autobahn.ModeFuzzingServer (the peer is a testee client).
	Mode string
	// Module names the implementation and its version.
	Module string
	// Setup says how the peer is configured.
	Setup string
	// Cases are the case patterns run by default.
	Cases []string
	// Default reports whether the peer runs when none are named.
	Default bool

	lib   string            // bench/libs library name, for a Go server
	path  string            // URL path on the Go server
	echo  autobahn.EchoFunc // Go testee client, run in this process
	node  string            // Node script, for a Node peer
	wsOpt string            // WS_OPTIONS for the Node script
}

// Node scripts. They use ws the way its README shows, with its defaults
// unless the environment variable WS_OPTIONS holds options (JSON) to add:
// the server does not enable permessage-deflate (its default is off), the
// client offers it (its default is on); maxPayload stays at its default,
// 100 MiB, above the 16 MiB of 9.x.
const nodeEchoServer = `'use strict';
const { WebSocketServer } = require('ws');
const opts = Object.assign({ host: '127.0.0.1', port: 0 }, JSON.parse(process.env.WS_OPTIONS || '{}'));
const wss = new WebSocketServer(opts);
wss.on('listening', () => console.log('addr 127.0.0.1:' + wss.address().port));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // failing the connection is expected in many cases
});
process.stdin.on('end', () => process.exit(0)).resume();
`

// nodeTesteeClient drives a fuzzing server as the suite's own testee
// clients do: getCaseCount, runCase 1..N echoing, updateReports.
const nodeTesteeClient = `'use strict';
const WebSocket = require('ws');
const [base, agent] = process.argv.slice(2);
const opts = JSON.parse(process.env.WS_OPTIONS || '{}');
const open = (path) => new WebSocket(base + path, opts);
function run(i, n) {
  if (i > n) {
    const u = open('/updateReports?agent=' + encodeURIComponent(agent));
    u.on('error', (e) => { console.error('updateReports:', e.message); process.exit(1); });
    u.on('close', () => process.exit(0));
    return;
  }
  const ws = open('/runCase?case=' + i + '&agent=' + encodeURIComponent(agent));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // failing the connection is expected in many cases
  ws.on('close', () => run(i + 1, n));
}
let count = 0;
const c = open('/getCaseCount');
c.on('message', (data) => { count = parseInt(data, 10); });
c.on('error', (e) => { console.error('getCaseCount:', e.message); process.exit(1); });
c.on('close', () => run(1, count));
`

// Peers lists every peer. The default ones are those of CONFORMANCE.md;
// the others are variants for comparison.
var Peers = []*Peer{
	{Name: "gorilla", Mode: autobahn.ModeFuzzingClient, Default: true, Cases: AllCases,
		Module: "github.com/gorilla/websocket v1.5.3", lib: "gorilla", path: "/echo",
		Setup: "bench/libs echo server: websocket.Upgrader{} (defaults; no compression, its default), SetReadLimit(16 MiB), NextReader + WriteMessage"},
	{Name: "coder", Mode: autobahn.ModeFuzzingClient, Default: true, Cases: AllCases,
		Module: "github.com/coder/websocket v1.8.15", lib: "coder", path: "/echo",
		Setup: "bench/libs echo server: websocket.Accept with CompressionDisabled (its default), SetReadLimit(16 MiB), Reader + Write"},
	{Name: "gws", Mode: autobahn.ModeFuzzingClient, Default: true, Cases: AllCases,
		Module: "github.com/lxzan/gws v1.8.9", lib: "gws", path: "/echo",
		Setup: "bench/libs echo server: gws.NewUpgrader with ServerOption{ReadMaxPayloadSize: 16 MiB} (also its default), all else default (no compression, CheckUtf8Enabled false, ParallelEnabled false), OnMessage echoes with WriteMessage"},
	{Name: "node-ws", Mode: autobahn.ModeFuzzingClient, Default: true, Cases: AllCases,
		Module: "ws (npm)", node: nodeEchoServer,
		Setup: "new WebSocketServer({host, port}) with its defaults (perMessageDeflate off, maxPayload 100 MiB, maxFragments 16384); 'message' handler sends the data back with the same binary flag"},
	{Name: "node-ws-client", Mode: autobahn.ModeFuzzingServer, Default: true, Cases: AllCases,
		Module: "ws (npm)", node: nodeTesteeClient,
		Setup: "new WebSocket(url) with its defaults (perMessageDeflate offered, maxPayload 100 MiB, maxFragments 16384); getCaseCount, runCase 1..N echoing, updateReports"},

	// Variants, not run by default: a baseline, the settings the peers'
	// own Autobahn setups use, and compression.
	{Name: "ours", Mode: autobahn.ModeFuzzingClient, Cases: AllCases,
		Module: "github.com/wirelevel/ws (this repository)", lib: "ours", path: "/echo",
		Setup: "bench/libs echo server of this library (a baseline for the kit itself)"},
	{Name: "gorilla+utf8", Mode: autobahn.ModeFuzzingClient, Cases: AllCases,
		Module: "github.com/gorilla/websocket v1.5.3", lib: "gorilla+utf8", path: "/",
		Setup: "as gorilla, but the echo loop checks each text message with utf8.Valid and sends close 1007 itself, as gorilla's examples/autobahn server does"},
	{Name: "gws+autobahn", Mode: autobahn.ModeFuzzingClient, Cases: AllCases,
		Module: "github.com/lxzan/gws v1.8.9", lib: "gws+autobahn", path: "/",
		Setup: "as gws, with CheckUtf8Enabled: true and an OnPing that answers with the ping's payload, as gws's own Autobahn servers do (compression left off)"},
	{Name: "node-ws+nofraglimit", Mode: autobahn.ModeFuzzingClient, Cases: []string{"9.*"},
		Module: "ws (npm)", node: nodeEchoServer, wsOpt: `{"maxFragments":0}`,
		Setup: "as node-ws, with maxFragments: 0 (no limit on the frames of a message)"},
	{Name: "node-ws-client+nofraglimit", Mode: autobahn.ModeFuzzingServer, Cases: []string{"9.*"},
		Module: "ws (npm)", node: nodeTesteeClient, wsOpt: `{"maxFragments":0}`,
		Setup: "as node-ws-client, with maxFragments: 0 (no limit on the frames of a message)"},
	{Name: "coder-client+deflate-ctx", Mode: autobahn.ModeFuzzingServer, Cases: QuickCases,
		Module: "github.com/coder/websocket v1.8.15", echo: coderClientEcho,
		Setup: "testee client: websocket.Dial with CompressionContextTakeover, SetReadLimit(16 MiB), Reader + Writer echo loop, as coder's own Autobahn test runs it (fuzzingserver mode)"},
	{Name: "gorilla-client", Mode: autobahn.ModeFuzzingServer, Cases: AllCases,
		Module: "github.com/gorilla/websocket v1.5.3", echo: gorillaClientEcho,
		Setup: "testee client: websocket.DefaultDialer (no compression, its default), SetReadLimit(16 MiB), NextReader + NextWriter echo loop"},
	{Name: "coder-client", Mode: autobahn.ModeFuzzingServer, Cases: AllCases,
		Module: "github.com/coder/websocket v1.8.15", echo: coderClientPlain,
		Setup: "testee client: websocket.Dial with its defaults (no compression), SetReadLimit(16 MiB), Reader + Writer echo loop"},
	{Name: "gws-client", Mode: autobahn.ModeFuzzingServer, Cases: AllCases,
		Module: "github.com/lxzan/gws v1.8.9", echo: gwsClientEcho,
		Setup: "testee client: gws.NewClient with ReadMaxPayloadSize 16 MiB, all else default (no compression, CheckUtf8Enabled false), OnMessage echoes with WriteMessage, OnPing answers with the payload"},
	{Name: "gorilla+deflate-noctx", Mode: autobahn.ModeFuzzingClient, Cases: CompressionCases,
		Module: "github.com/gorilla/websocket v1.5.3", lib: "gorilla", path: "/deflate/noctx",
		Setup: "as gorilla, with Upgrader{EnableCompression: true} (no context takeover, the only mode gorilla has)"},
	{Name: "coder+deflate-ctx", Mode: autobahn.ModeFuzzingClient, Cases: CompressionCases,
		Module: "github.com/coder/websocket v1.8.15", lib: "coder", path: "/deflate/ctx",
		Setup: "as coder, with CompressionContextTakeover"},
	{Name: "gws+deflate-ctx", Mode: autobahn.ModeFuzzingClient, Cases: CompressionCases,
		Module: "github.com/lxzan/gws v1.8.9", lib: "gws", path: "/deflate/ctx",
		Setup: "as gws, with PermessageDeflate{Enabled, ServerContextTakeover, ClientContextTakeover}"},
	{Name: "node-ws+deflate", Mode: autobahn.ModeFuzzingClient, Cases: CompressionCases,
		Module: "ws (npm)", node: nodeEchoServer, wsOpt: `{"perMessageDeflate":true}`,
		Setup: "as node-ws, with perMessageDeflate: true"},
}

// LookupPeer returns the peer named name, or nil.
func LookupPeer(name string) *Peer {
	for _, p := range Peers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// DefaultPeers returns the peers that run when none are named.
func DefaultPeers() []*Peer {
	var ps []*Peer
	for _, p := range Peers {
		if p.Default {
			ps = append(ps, p)
		}
	}
	return ps
}

// IsNode reports whether the peer runs under Node.js.
func (p *Peer) IsNode() bool { return p.node != "" }

// ErrNoNode means node or the ws package is not installed.
var ErrNoNode = errors.New("conformance: node or the npm package ws is not installed; run bash .ci/install-peers from the repository root")

// NodeModules returns the repository's .ci/peers/node_modules, found from
// this source file's location or, failing that, by walking up from the
// working directory.
func NodeModules() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			m := filepath.Join(d, ".ci", "peers", "node_modules")
			if _, err := os.Stat(filepath.Join(m, "ws", "package.json")); err == nil {
				return m, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", ErrNoNode
}

// NodeVersions returns the versions of node and of the ws package.
func NodeVersions() (node, ws string, err error) {
	bin, err := exec.LookPath("node")
	if err != nil {
		return "", "", ErrNoNode
	}
	modules, err := NodeModules()
	if err != nil {
		return "", "", err
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "", "", fmt.Errorf("node --version: %w", err)
	}
	cmd := exec.Command(bin, "-p", "require('ws/package.json').version")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	v, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("ws version: %w", err)
	}
	return strings.TrimSpace(string(out)), strings.TrimSpace(string(v)), nil
}

// childFlag makes the binary serve one library's echo server instead of
// running: -conformance.child=LIB.
const childFlag = "-conformance.child="

// MaybeRunChild serves as a child process and exits if the command line
// asks for one; otherwise it returns. Call it first in main and TestMain.
func MaybeRunChild() {
	for _, a := range os.Args[1:] {
		if name, ok := strings.CutPrefix(a, childFlag); ok {
			os.Exit(runChild(name))
		}
	}
}

// runChild serves lib's servers on 127.0.0.1, prints "addr HOST:PORT" and
// serves until its standard input ends (the parent went away).
func runChild(name string) int {
	var handler http.Handler
	var serve func(net.Listener) error
	if v := variantServers[name]; v != nil {
		handler = v()
	} else if lib := libs.Lookup(name); lib != nil {
		srv := lib.NewServer()
		handler, serve = srv.Handler, srv.Serve
	} else {
		fmt.Fprintf(os.Stderr, "conformance: no library %q\n", name)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if serve != nil {
		go serve(ln)
	} else {
		go (&http.Server{Handler: handler}).Serve(ln)
	}
	fmt.Printf("addr %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// process is a running peer process.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader // nil for a client
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

// start runs the peer's process: the Go child or the Node script. A server
// prints its address on standard output; a client's output goes to stderr.
func (p *Peer) start(ctx context.Context, extra ...string) (*process, error) {
	var cmd *exec.Cmd
	if p.IsNode() {
		bin, err := exec.LookPath("node")
		if err != nil {
			return nil, ErrNoNode
		}
		modules, err := NodeModules()
		if err != nil {
			return nil, err
		}
		script, err := writeScript(p.node)
		if err != nil {
			return nil, err
		}
		cmd = exec.CommandContext(ctx, bin, append([]string{script}, extra...)...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "WS_OPTIONS="+p.wsOpt)
	} else {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd = exec.CommandContext(ctx, exe, childFlag+p.lib)
	}
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	pr := &process{cmd: cmd, exited: make(chan struct{})}
	var err error
	if pr.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if p.Mode == autobahn.ModeFuzzingClient {
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		pr.out = bufio.NewReader(stdout)
	} else {
		cmd.Stdout = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		pr.err = cmd.Wait()
		close(pr.exited)
	}()
	return pr, nil
}

// addr reads the "addr HOST:PORT" line a server process prints.
func (pr *process) addr(timeout time.Duration) (string, error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		s, err := pr.out.ReadString('\n')
		ch <- line{s, err}
		if err == nil {
			io.Copy(io.Discard, pr.out)
		}
	}()
	select {
	case l := <-ch:
		if l.err != nil {
			return "", fmt.Errorf("peer process: %w", l.err)
		}
		a, ok := strings.CutPrefix(strings.TrimSpace(l.s), "addr ")
		if !ok {
			return "", fmt.Errorf("peer process said %q", l.s)
		}
		return a, nil
	case <-time.After(timeout):
		return "", errors.New("peer process did not start in time")
	}
}

// stop ends the process: end of input first (both kinds of server exit on
// it), then a kill if it is still there after a second.
func (pr *process) stop() {
	pr.stdin.Close()
	select {
	case <-pr.exited:
	case <-time.After(time.Second):
		pr.cmd.Process.Kill()
		<-pr.exited
	}
}

// Versions describes the versions in play for p: the Go toolchain and the
// peer's module as built, or node and ws as installed.
func Versions(p *Peer) string {
	if p.IsNode() {
		node, ws, err := NodeVersions()
		if err != nil {
			return err.Error()
		}
		return "node " + node + ", ws " + ws
	}
	v := runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		mod := strings.Fields(p.Module)[0]
		for _, d := range bi.Deps {
			if d.Path == mod {
				v += ", " + d.Path + " " + d.Version
			}
		}
	}
	return v
}

// writeScript writes a Node script into the temporary folder, once per
// content, and returns its path.
func writeScript(src string) (string, error) {
	sum := sha256.Sum256([]byte(src))
	path := filepath.Join(os.TempDir(), fmt.Sprintf("wirelevel-conformance-%x.js", sum[:8]))
	if b, err := os.ReadFile(path); err == nil && string(b) == src {
		return path, nil
	}
	tmp, err := os.CreateTemp(os.TempDir(), "wirelevel-conformance-*.js")
	if err != nil {
		return "", err
	}
	if _, err := tmp.WriteString(src); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}
