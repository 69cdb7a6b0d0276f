package autobahn

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The harness against a real peer: Node's ws, which the Autobahn suite
// rates fully conformant, as a server (fuzzingclient) and as an
// Autobahn-style testee client (fuzzingserver). .ci/install-peers installs
// it into .ci/peers/node_modules.

const nodeEchoServer = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true, maxPayload: 64 << 20 });
wss.on('listening', () => console.log(wss.address().port));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
`

// nodeTesteeClient drives a fuzzing server the way the suite's testee
// clients do: getCaseCount, runCase 1..N echoing, updateReports.
const nodeTesteeClient = `
const WebSocket = require('ws');
const [base, agent] = process.argv.slice(2);
const open = (path) => new WebSocket(base + path, { maxPayload: 64 << 20 });
function run(i, n) {
  if (i > n) {
    open('/updateReports?agent=' + agent).on('close', () => process.exit(0));
    return;
  }
  const ws = open('/runCase?case=' + i + '&agent=' + agent);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
  ws.on('close', () => run(i + 1, n));
}
open('/getCaseCount').on('message', (data) => run(1, parseInt(data)));
`

// nodePeer returns the path of node and of the ws module's node_modules,
// or skips the test.
func nodePeer(t *testing.T) (node, modules string) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed (run .ci/install-peers):", err)
	}
	modules, err = filepath.Abs("../.ci/peers/node_modules")
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "ws", "package.json")); err != nil {
		t.Skip("Node's ws not installed (run .ci/install-peers):", err)
	}
	return node, modules
}

// startNode runs script with node and stops it when the test ends.
func startNode(t testing.TB, node, modules, script string, args ...string) (*exec.Cmd, *bufio.Reader, error) {
	file := filepath.Join(t.TempDir(), "peer.js")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(node, append([]string{file}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, bufio.NewReader(out), nil
}

func TestNodeWSPeer(t *testing.T) {
	t.Parallel()
	node, modules := nodePeer(t)
	include := append(append([]string{}, sections1to10...), "12.1.1", "12.4.3", "13.3.1", "13.7.1")
	exclude := heavy9 // reason: run time; the raw testee covers them
	if reduced() {
		include = []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.1.*", "6.2.*", "6.3.*", "7.*", "12.1.1", "13.3.1"}
	}
	serverURL := func(t testing.TB) (string, error) {
		_, out, err := startNode(t, node, modules, nodeEchoServer)
		if err != nil {
			return "", err
		}
		port, err := out.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("node echo server: %w", err)
		}
		return "ws://127.0.0.1:" + strings.TrimSpace(port), nil
	}
	driver := func(ctx context.Context, base string) error {
		cmd, _, err := startNode(t, node, modules, nodeTesteeClient, base, "raw-testee")
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Minute):
			return fmt.Errorf("node testee client did not finish")
		}
	}
	var rs []*run
	for _, mode := range modes {
		rs = append(rs, &run{name: "node-ws/" + mode, mode: mode, include: include, exclude: exclude,
			serverURL: serverURL, driver: driver})
	}
	runAll(t, rs)
	for _, r := range rs {
		t.Run(r.mode, func(t *testing.T) {
			if r.res == nil {
				t.Skip("run failed")
			}
			var wrong, notOK []string
			for _, c := range r.res.Cases {
				if c.Failed() {
					t.Logf("case %s", describe(c))
					wrong = append(wrong, c.ID)
				}
			}
			r.retry(t, wrong)
			for _, c := range r.res.Cases {
				if c.Failed() {
					t.Errorf("case %s", describe(c))
				} else if c.Behavior != VerdictOK {
					notOK = append(notOK, c.ID+" "+c.Behavior)
				}
			}
			t.Logf("not OK but passing: %v", notOK)
		})
	}
}
