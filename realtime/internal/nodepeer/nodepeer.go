// Package nodepeer runs the Node.js scripts in realtime/testdata/node for
// the realtime tests: the official socket.io server and clients. It uses
// internal/testpeer to find Node and the npm packages, so a missing peer
// skips the test, or fails it under CI=true.
package nodepeer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
)

// Script returns the path of a script in realtime/testdata/node.
func Script(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "node", name)
}

// Command returns a command running a script with node, NODE_PATH set to
// the peers' node_modules, after checking the packages are installed.
func Command(t testing.TB, packages []string, script string, args ...string) *exec.Cmd {
	t.Helper()
	return testpeer.NodeCmd(t, packages, append([]string{Script(script)}, args...)...)
}

// Server is a server process started by [StartServer] or [StartProcess].
type Server struct {
	URL  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	stop func()
}

// Stop stops the process and waits for it; later calls do nothing.
func (s *Server) Stop() { s.stop() }

// CPU returns the CPU time (user and system) the process has used so far,
// read from /proc; ok is false where that is not available.
func (s *Server) CPU() (d time.Duration, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, true
}

// RSS returns the resident set size of the process, read from
// /proc/PID/status; ok is false where that is not available.
func (s *Server) RSS() (bytes int64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "VmRSS:"); found {
			f := strings.Fields(v) // "1234 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err == nil
			}
		}
	}
	return 0, false
}

// StartServer starts server.js (the official socket.io server) on a free
// loopback port. The server stops when the test ends, if not before.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return StartProcess(t, Command(t, []string{"socket.io"}, "server.js", "0"))
}

// StartProcess starts a server process that prints "LISTENING PORT" once it
// accepts connections on 127.0.0.1 and stops when its stdin closes.
func StartProcess(t testing.TB, cmd *exec.Cmd) *Server {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			stdin.Close()
			timer := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
			cmd.Wait()
			timer.Stop()
		})
	}
	t.Cleanup(stop)
	ports := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if port, ok := strings.CutPrefix(line, "LISTENING "); ok {
				ports <- port
				break
			}
			t.Log("server: " + line)
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case port := <-ports:
		return &Server{URL: "http://127.0.0.1:" + port, cmd: cmd, stop: stop}
	case <-time.After(20 * time.Second):
		stop()
		t.Fatalf("%s did not start within 20 s", cmd.Path)
	}
	return nil
}

// Version returns the output of node --version, such as "v20.20.2".
func Version() (string, error) {
	out, err := exec.Command("node", "--version").Output()
	return strings.TrimSpace(string(out)), err
}
