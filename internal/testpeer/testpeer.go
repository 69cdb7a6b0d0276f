// Package testpeer finds the real peers that interoperability tests run
// against: Node.js with the npm packages installed under .ci/peers, Python 3
// with the websockets package, and Debian's Chromium.
//
// A test whose peer is missing is skipped with a message naming what to
// install, except when the environment variable CI is "true": then it fails,
// because .ci/run installs every peer first and CI must never skip silently.
package testpeer

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Missing skips the test, or fails it under CI, because a peer is absent.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	msg := what + " is not available; install it with: " + install
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: peers must be present)")
	}
	t.Skip(msg)
}

// Root returns the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// PeersDir is the folder holding package.json and node_modules for the npm
// peers.
func PeersDir() string { return filepath.Join(Root(), ".ci", "peers") }

const npmInstall = "bash .ci/install-peers (runs npm ci in .ci/peers)"

// Node returns the node binary and the node_modules folder holding the
// packages named, or skips/fails the test.
func Node(t testing.TB, packages ...string) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node (Node.js 20)", "apt-get install nodejs")
	}
	modules = filepath.Join(PeersDir(), "node_modules")
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(modules, p, "package.json")); err != nil {
			Missing(t, "the npm package "+p, npmInstall)
		}
	}
	return node, modules
}

// NodeCmd returns a command running a Node.js script with NODE_PATH set to
// the peers' node_modules.
func NodeCmd(t testing.TB, packages []string, args ...string) *exec.Cmd {
	t.Helper()
	node, modules := Node(t, packages...)
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	return cmd
}

var (
	pyOnce sync.Once
	pyErr  string
)

// Python returns a python3 that can import websockets. Debian's
// /usr/bin/python3 comes first: the Debian package python3-websockets
// installs for it, not for other Pythons on PATH.
func Python(t testing.TB) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			Missing(t, "python3", "apt-get install python3-websockets")
		}
	}
	pyOnce.Do(func() {
		out, err := exec.Command(py, "-c", "import websockets, sys; print(websockets.__version__)").CombinedOutput()
		if err != nil {
			pyErr = strings.TrimSpace(string(out))
		}
	})
	if pyErr != "" {
		Missing(t, "the Python package websockets ("+pyErr+")", "apt-get install python3-websockets")
	}
	return py
}

// Chromium returns the Chromium binary.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "Chromium", "apt-get install chromium")
	return ""
}

// ChromiumFlags are the flags every test starts Chromium with: headless, no
// sandbox (tests run as root), and nothing that reaches for the network.
var ChromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
}
