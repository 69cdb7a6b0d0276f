package gorillatest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The two builds of every example: as published, and with the import path
// of the drop-in.
const (
	gorillaImport = `"github.com/gorilla/websocket"`
	compatImport  = `"github.com/wirelevel/ws/compat/gorilla"`
)

var variants = []string{"gorilla", "compat"}

// built holds the binaries, by variant and name ("echo-server",
// "echo-client", "chat", "command", "filewatch"), and the folder each runs
// in (chat and command serve home.html from it).
var built struct {
	once sync.Once
	err  error
	bin  map[string]string
	dir  map[string]string
}

// moduleDir returns the folder of a module in the module cache.
func moduleDir(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildExamples copies gorilla's examples out of the module cache into a
// module of their own, twice (the second time with the import path
// rewritten, and nothing else), and builds them.
func buildExamples(t *testing.T) {
	t.Helper()
	built.once.Do(func() { built.err = doBuild() })
	if built.err != nil {
		t.Fatal(built.err)
	}
}

var workDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	os.Exit(code)
}

func doBuild() error {
	src, err := moduleDir("github.com/gorilla/websocket")
	if err != nil {
		return err
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return err
	}
	if workDir, err = os.MkdirTemp("", "gorilla-examples-"); err != nil {
		return err
	}
	gomod := "module gorillaexamples\n\ngo 1.26.0\n\nrequire (\n\tgithub.com/gorilla/websocket v1.5.3\n" +
		"\tgithub.com/wirelevel/ws v0.0.0-00010101000000-000000000000\n)\n\nreplace github.com/wirelevel/ws => " + root + "\n"
	if err := os.WriteFile(filepath.Join(workDir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(workDir, "go.sum"), sum, 0o644); err != nil {
		return err
	}
	built.bin, built.dir = map[string]string{}, map[string]string{}
	// The builds run at once, each "go build" linking its programs in
	// parallel: chat, command and filewatch in one call per variant, and
	// echo's two programs (each a file behind "//go:build ignore") in
	// calls of their own.
	var builds [][]string
	for _, v := range variants {
		bindir := filepath.Join(workDir, "bin", v)
		pkgs := []string{"build", "-o", bindir + string(filepath.Separator)}
		for _, ex := range []string{"echo", "chat", "command", "filewatch"} {
			dir := filepath.Join(workDir, v, ex)
			if err := copyExample(filepath.Join(src, "examples", ex), dir, v == "compat"); err != nil {
				return err
			}
			if ex == "echo" {
				for _, name := range []string{"server", "client"} {
					bin := filepath.Join(bindir, "echo-"+name)
					builds = append(builds, []string{"build", "-o", bin, "./" + v + "/echo/" + name + ".go"})
					built.bin[v+"/echo-"+name], built.dir[v+"/echo-"+name] = bin, dir
				}
				continue
			}
			pkgs = append(pkgs, "./"+v+"/"+ex)
			built.bin[v+"/"+ex], built.dir[v+"/"+ex] = filepath.Join(bindir, ex), dir
		}
		builds = append(builds, pkgs)
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, args := range builds {
		wg.Go(func() {
			cmd := exec.Command("go", args...)
			cmd.Dir = workDir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return nil
}

// copyExample copies an example folder; with rewrite, the import of
// gorilla/websocket in each Go file becomes the drop-in's, and that is the
// only change.
func copyExample(from, to string, rewrite bool) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if rewrite && strings.HasSuffix(e.Name(), ".go") && bytes.Contains(b, []byte(gorillaImport)) {
			if n := bytes.Count(b, []byte(gorillaImport)); n != 1 {
				return fmt.Errorf("%s: %d imports of gorilla/websocket", e.Name(), n)
			}
			b = bytes.Replace(b, []byte(gorillaImport), []byte(compatImport), 1)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// output collects a process's output.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// freeAddr returns a 127.0.0.1 address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer runs an example server on a free port and waits until it
// accepts connections. It is stopped (by its PID) when the test ends.
func startServer(t *testing.T, name string, args ...string) (addr string, log *output, err error) {
	if addr, err = freeAddr(); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(built.bin[name], append([]string{"-addr", addr}, args...)...)
	cmd.Dir = built.dir[name]
	log = &output{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Ready once it answers HTTP: a connection accepted is not enough, a
	// loaded machine has shown a first GET reset.
	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := probe.Get("http://" + addr + "/ready-probe"); err == nil {
			resp.Body.Close()
			return addr, log, nil
		}
	}
	return "", nil, fmt.Errorf("%s did not listen on %s: %s", name, addr, log)
}

// transcript records what a scenario observed.
type transcript struct {
	lines []string
}

func (tr *transcript) add(format string, args ...any) {
	tr.lines = append(tr.lines, fmt.Sprintf(format, args...))
}

// readAll reads messages from c until an error, recording each (split at
// newlines, as chat batches them) and how the connection ended.
func (tr *transcript) readUntilClose(c *websocket.Conn) {
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			tr.closed(err)
			return
		}
		tr.message(mt, p)
	}
}

func (tr *transcript) message(mt int, p []byte) {
	kind := map[int]string{websocket.TextMessage: "text", websocket.BinaryMessage: "binary"}[mt]
	if mt == websocket.BinaryMessage {
		tr.add("%s % x", kind, p)
		return
	}
	for _, line := range strings.Split(string(p), "\n") {
		if len(line) > 40 {
			line = fmt.Sprintf("%s... (%d bytes)", line[:20], len(line))
		}
		tr.add("%s %s", kind, line)
	}
}

func (tr *transcript) closed(err error) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		tr.add("close %d", ce.Code) // the reasons differ: conn names the limit
		return
	}
	tr.add("error %v", err)
}

// sameTranscripts runs scenario for both builds at once and requires the
// same transcript of each, and want.
func sameTranscripts(t *testing.T, scenario func(t *testing.T, variant string) ([]string, error), want []string) {
	t.Helper()
	buildExamples(t)
	got := make(map[string][]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, v := range variants {
		wg.Go(func() {
			lines, err := scenario(t, v)
			if err != nil {
				t.Errorf("%s build: %v", v, err)
			}
			mu.Lock()
			got[v] = lines
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, v := range variants {
		t.Logf("%s build:\n\t%s", v, strings.Join(got[v], "\n\t"))
	}
	if !slices.Equal(got["gorilla"], got["compat"]) {
		t.Errorf("the builds behave differently:\ngorilla: %q\ncompat:  %q", got["gorilla"], got["compat"])
	}
	if want != nil && !slices.Equal(got["gorilla"], want) {
		t.Errorf("gorilla's build: %q, want %q", got["gorilla"], want)
	}
}

func httpGet(rawURL string) (int, string, error) {
	resp, err := http.Get(rawURL)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// normalizeLog keeps a server's or client's log lines, with times and
// addresses replaced and repeated lines folded.
func normalizeLog(s, addr string) []string {
	times := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [+-]\d{4} \S+( m=[+-][\d.]+)?`)
	logPrefix := regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d `)
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		line = logPrefix.ReplaceAllString(line, "")
		line = strings.ReplaceAll(times.ReplaceAllString(line, "TIME"), addr, "ADDR")
		if len(line) > 60 {
			line = line[:40] + "..."
		}
		if len(lines) > 0 && lines[len(lines)-1] == line {
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

// TestEcho drives the echo server with gorilla's client (text, binary,
// 70,000 bytes, a ping, the closing handshake), then runs the echo client
// example against it for two ticks and interrupts it, for every pairing of
// builds: a client of either build against a server of either build.
func TestEcho(t *testing.T) {
	t.Parallel()
	sameTranscripts(t, func(t *testing.T, v string) ([]string, error) {
		var tr transcript
		addr, srvLog, err := startServer(t, v+"/echo-server")
		if err != nil {
			return nil, err
		}
		status, body, err := httpGet("http://" + addr + "/")
		if err != nil {
			return nil, err
		}
		tr.add("home %d, names its socket: %v", status, strings.Contains(body, addr))
		c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/echo", nil)
		if err != nil {
			return tr.lines, err
		}
		defer c.Close()
		tr.add("dial %d", resp.StatusCode)
		pongs := make(chan string, 1)
		c.SetPongHandler(func(s string) error { pongs <- s; return nil })
		for _, m := range []struct {
			mt int
			p  []byte
		}{{websocket.TextMessage, []byte("hello")}, {websocket.BinaryMessage, []byte{1, 2, 3}}, {websocket.TextMessage, bytes.Repeat([]byte("x"), 70000)}} {
			if err := c.WriteMessage(m.mt, m.p); err != nil {
				return tr.lines, err
			}
			mt, p, err := c.ReadMessage()
			if err != nil {
				return tr.lines, err
			}
			tr.message(mt, p)
		}
		c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second))
		go c.ReadMessage() // the reader processes the pong, then the close
		select {
		case p := <-pongs:
			tr.add("pong %s", p)
		case <-time.After(5 * time.Second):
			tr.add("no pong")
		}
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
		time.Sleep(200 * time.Millisecond)
		tr.lines = append(tr.lines, normalizeLog(srvLog.String(), addr)...)

		// The example client of each build against this server.
		for _, cv := range variants {
			cmd := exec.Command(built.bin[cv+"/echo-client"], "-addr", addr)
			var out output
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				return tr.lines, err
			}
			time.Sleep(2500 * time.Millisecond)
			cmd.Process.Signal(os.Interrupt)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				tr.add("%s client exits: %v", cv, err)
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				tr.add("%s client hangs after the interrupt", cv)
			}
			tr.lines = append(tr.lines, normalizeLog(out.String(), addr)...)
		}
		return tr.lines, nil
	}, []string{
		"home 200, names its socket: true", "dial 101",
		"text hello", "binary 01 02 03", "text xxxxxxxxxxxxxxxxxxxx... (70000 bytes)", "pong are you there",
		"recv: hello", "recv: \x01\x02\x03", "recv: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...", "read: websocket: close 1000 (normal): bye",
		"gorilla client exits: <nil>", "connecting to ws://ADDR/echo", "recv: TIME", "interrupt", "read: websocket: close 1000 (normal)",
		"compat client exits: <nil>", "connecting to ws://ADDR/echo", "recv: TIME", "interrupt", "read: websocket: close 1000 (normal)",
	})
}

// TestChat joins three clients, has them talk (a message with a newline
// among them), sends a message over the example's read limit of 512
// bytes, and leaves.
func TestChat(t *testing.T) {
	t.Parallel()
	sameTranscripts(t, func(t *testing.T, v string) ([]string, error) {
		var tr transcript
		addr, srvLog, err := startServer(t, v+"/chat")
		if err != nil {
			return nil, err
		}
		status, body, err := httpGet("http://" + addr + "/")
		if err != nil {
			return nil, err
		}
		tr.add("home %d, has a page: %v", status, strings.Contains(body, "new WebSocket"))
		status, _, _ = httpGet("http://" + addr + "/other")
		tr.add("other page %d", status)
		var clients []*websocket.Conn
		var lines [][]string
		next := func(i int) (string, error) {
			for len(lines[i]) == 0 {
				clients[i].SetReadDeadline(time.Now().Add(10 * time.Second))
				_, p, err := clients[i].ReadMessage()
				if err != nil {
					return "", err
				}
				lines[i] = strings.Split(string(p), "\n")
			}
			l := lines[i][0]
			lines[i] = lines[i][1:]
			return l, nil
		}
		// Each client joins and says so; everyone present hears it.
		for i, name := range []string{"ann", "bob", "cy"} {
			c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
			if err != nil {
				return tr.lines, err
			}
			defer c.Close()
			clients, lines = append(clients, c), append(lines, nil)
			// The hub registers a client after its upgrade: say hello
			// until the client hears itself.
			for {
				c.WriteMessage(websocket.TextMessage, []byte(name+" joined"))
				l, err := next(i)
				if err != nil {
					return tr.lines, err
				}
				if l == name+" joined" {
					break
				}
			}
			for j := range i {
				for {
					l, err := next(j)
					if err != nil {
						return tr.lines, err
					}
					if l == name+" joined" {
						break // repeats while registering are skipped
					}
				}
			}
			tr.add("%s joined", name)
		}
		clients[1].WriteMessage(websocket.TextMessage, []byte("  hi\nall  "))
		for i := range clients {
			l, err := next(i)
			if err != nil {
				return tr.lines, err
			}
			tr.add("client %d hears %q", i, l)
		}
		// Over the read limit: the server closes that connection with 1009.
		clients[0].WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 600))
		clients[0].SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err = clients[0].ReadMessage()
		tr.closed(err)
		clients[2].WriteMessage(websocket.TextMessage, []byte("still here"))
		for _, i := range []int{1, 2} {
			l, err := next(i)
			if err != nil {
				return tr.lines, err
			}
			tr.add("client %d hears %q", i, l)
		}
		// Bob leaves with 1000, which the example logs as unexpected.
		clients[1].WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		tr.readUntilClose(clients[1])
		time.Sleep(200 * time.Millisecond)
		for _, l := range normalizeLog(srvLog.String(), addr) {
			if !strings.HasPrefix(l, "/") { // the URL of each page request
				tr.add("log: %s", l)
			}
		}
		return tr.lines, nil
	}, []string{
		"home 200, has a page: true", "other page 404", "ann joined", "bob joined", "cy joined",
		`client 0 hears "hi all"`, `client 1 hears "hi all"`, `client 2 hears "hi all"`,
		"close 1009", `client 1 hears "still here"`, `client 2 hears "still here"`,
		"close 1000", "log: error: websocket: close 1000 (normal)",
	})
}

// TestCommand runs `head -n 2` behind the command example: the first two
// lines come back, then head exits and the server closes with 1000; a
// second connection sends a message over the example's limit of 8192
// bytes.
func TestCommand(t *testing.T) {
	t.Parallel()
	head, err := exec.LookPath("head")
	if err != nil {
		t.Skip("no head command")
	}
	sameTranscripts(t, func(t *testing.T, v string) ([]string, error) {
		var tr transcript
		addr, _, err := startServer(t, v+"/command", head, "-n", "2")
		if err != nil {
			return nil, err
		}
		status, body, err := httpGet("http://" + addr + "/")
		if err != nil {
			return nil, err
		}
		tr.add("home %d, has a page: %v", status, strings.Contains(body, "WebSocket"))
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			return tr.lines, err
		}
		defer c.Close()
		// Two lines, as many as head prints: a third one written to the
		// command's stdin after head has exited fails, and the example's
		// pumpStdin then closes the connection at once, racing the two
		// lines on their way out (in gorilla's build as in ours; seen once
		// in CI, close 1006 and no text).
		for _, l := range []string{"one", "two"} {
			c.WriteMessage(websocket.TextMessage, []byte(l))
		}
		tr.readUntilClose(c)

		c2, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			return tr.lines, err
		}
		defer c2.Close()
		c2.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("z"), 9000))
		tr.readUntilClose(c2)
		return tr.lines, nil
	}, []string{"home 200, has a page: true", "text one", "text two", "close 1000", "close 1009"})
}

// TestFilewatch serves a file, changes it and waits for the example's
// writer (which looks every 10 s) to send the new contents.
func TestFilewatch(t *testing.T) {
	t.Parallel()
	sameTranscripts(t, func(t *testing.T, v string) ([]string, error) {
		var tr transcript
		file := filepath.Join(t.TempDir(), "watched.txt")
		if err := os.WriteFile(file, []byte("version 1"), 0o644); err != nil {
			return nil, err
		}
		old := time.Now().Add(-time.Hour)
		os.Chtimes(file, old, old)
		addr, _, err := startServer(t, v+"/filewatch", file)
		if err != nil {
			return nil, err
		}
		status, body, err := httpGet("http://" + addr + "/")
		if err != nil {
			return nil, err
		}
		m := regexp.MustCompile(`lastMod=([0-9a-f]+)`).FindStringSubmatch(body)
		tr.add("home %d, shows the file: %v, names its version: %v", status, strings.Contains(body, "version 1"), m != nil)
		if m == nil {
			return tr.lines, errors.New("no lastMod in the page")
		}
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?lastMod="+url.QueryEscape(m[1]), nil)
		if err != nil {
			return tr.lines, err
		}
		defer c.Close()
		if err := os.WriteFile(file, []byte("version 2"), 0o644); err != nil {
			return tr.lines, err
		}
		c.SetReadDeadline(time.Now().Add(25 * time.Second))
		mt, p, err := c.ReadMessage()
		if err != nil {
			tr.closed(err)
			return tr.lines, nil
		}
		tr.message(mt, p)
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		tr.readUntilClose(c)
		return tr.lines, nil
	}, []string{"home 200, shows the file: true, names its version: true", "text version 2", "close 1000"})
}
