//go:build !js

package conn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/internal/testpeer"
)

// interopServer is the server that peer clients test: it echoes, and obeys
// "cmd:close:CODE:REASON" and "cmd:ping:PAYLOAD". It records how each
// connection ended.
type interopServer struct {
	*httptest.Server
	mu         sync.Mutex
	closes     []error
	extensions []string
}

func newInteropServer(t *testing.T, opts *AcceptOptions) *interopServer {
	s := &interopServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		s.mu.Lock()
		s.extensions = append(s.extensions, c.Extensions())
		s.mu.Unlock()
		ctx := context.Background()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(ctx, buf)
			if err != nil {
				s.mu.Lock()
				s.closes = append(s.closes, err)
				s.mu.Unlock()
				return
			}
			cmd := string(msg)
			switch {
			case typ == Text && strings.HasPrefix(cmd, "cmd:close:"):
				parts := strings.SplitN(cmd, ":", 4)
				var code int
				fmt.Sscan(parts[2], &code)
				go c.Close(CloseCode(code), parts[3])
			case typ == Text && strings.HasPrefix(cmd, "cmd:ping:"):
				p := strings.TrimPrefix(cmd, "cmd:ping:")
				go func() {
					pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					if c.Ping(pctx, []byte(p)) == nil {
						c.WriteMessage(ctx, Text, []byte("pinged:"+p))
					}
				}()
			default:
				if err := c.WriteMessage(ctx, typ, msg); err != nil {
					continue
				}
			}
			buf = msg
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// sawClose reports whether some connection ended with the peer's close
// frame carrying code and reason.
func (s *interopServer) sawClose(code CloseCode, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, err := range s.closes {
		var ce *CloseError
		if errors.As(err, &ce) && ce.Code == code && ce.Reason == reason {
			return true
		}
	}
	return false
}

func interopScript(name string) string {
	return filepath.Join(testpeer.Root(), "conn", "testdata", "interop", name)
}

// interopModes are the two ways every peer runs: without compression, and
// with permessage-deflate negotiated.
var interopModes = []struct {
	name string
	opts *CompressionOptions
}{{"plain", nil}, {"deflate", &CompressionOptions{}}}

func (s *interopServer) checkDeflate(t *testing.T, want bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.extensions {
		if strings.Contains(e, "permessage-deflate") != want {
			t.Errorf("server connection negotiated %q, want deflate=%v", e, want)
		}
	}
}

func TestInteropNodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range interopModes {
		t.Run(mode.name, func(t *testing.T) {
			cmd := testpeer.NodeCmd(t, []string{"ws"})
			s := newInteropServer(t, &AcceptOptions{Compression: mode.opts})
			cmd.Args = append(cmd.Args, interopScript("node_client.js"), wsURL(s.Server, "/node"), mode.name)
			testpeer.RunScript(t, cmd, 2*time.Minute, nil)
			if !s.sawClose(4001, "client-bye") {
				t.Error("server did not see the client's close 4001 client-bye")
			}
			s.checkDeflate(t, mode.opts != nil)
		})
	}
}

func TestInteropPythonClient(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range interopModes {
		t.Run(mode.name, func(t *testing.T) {
			py := testpeer.Python(t)
			s := newInteropServer(t, &AcceptOptions{Compression: mode.opts})
			cmd := exec.Command(py, interopScript("py_client.py"), wsURL(s.Server, "/python"), mode.name)
			testpeer.RunScript(t, cmd, 2*time.Minute, nil)
			if !s.sawClose(4001, "client-bye") {
				t.Error("server did not see the client's close 4001 client-bye")
			}
			s.checkDeflate(t, mode.opts != nil)
		})
	}
}

// startPeerServer runs a peer server script and returns its ws:// URL and a
// function returning its output so far.
func startPeerServer(t *testing.T, cmd *exec.Cmd) (string, func() string) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var mu sync.Mutex
	var lines []string
	portc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			lines = append(lines, line)
			mu.Unlock()
			if p, ok := strings.CutPrefix(line, "PORT "); ok {
				portc <- p
			}
		}
		close(portc)
	}()
	select {
	case p, ok := <-portc:
		if !ok {
			t.Fatal("peer server exited before listening")
		}
		return "ws://127.0.0.1:" + p + "/", func() string {
			mu.Lock()
			defer mu.Unlock()
			return strings.Join(lines, "\n")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("peer server did not start")
	}
	return "", nil
}

// clientScenarios runs this library's client against a peer echo server.
func clientScenarios(t *testing.T, url string, output func() string, comp *CompressionOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := &DialOptions{Options: Options{ReadLimit: 64 << 20}, Compression: comp}
	c, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if got := strings.Contains(c.Extensions(), "permessage-deflate"); got != (comp != nil) {
		t.Fatalf("negotiated extensions %q, want deflate=%v", c.Extensions(), comp != nil)
	}
	// A reader goroutine delivers messages; control frames are processed
	// while it reads.
	msgs := make(chan []byte, 1)
	types := make(chan MessageType, 1)
	readErr := make(chan error, 1)
	go func() {
		for {
			typ, m, err := c.ReadMessage(ctx, nil)
			if err != nil {
				readErr <- err
				close(msgs)
				return
			}
			types <- typ
			msgs <- m
		}
	}()
	next := func() (MessageType, []byte) {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("connection ended: %v", <-readErr)
			}
			return <-types, m
		case <-ctx.Done():
			t.Fatal("timed out waiting for an echo")
		}
		return 0, nil
	}
	for _, n := range []int{0, 125, 126, 65535, 65536, 100_000, 16 << 20} {
		for _, typ := range []MessageType{Text, Binary} {
			msg := pattern(n)
			if n == 100_000 && typ == Binary {
				msg = randomBytes(n, 9) // incompressible
			}
			if err := c.WriteMessage(ctx, typ, msg); err != nil {
				t.Fatal(err)
			}
			gt, got := next()
			if gt != typ {
				t.Fatalf("%v %d bytes: echo type %v", typ, n, gt)
			}
			mustEqual(t, fmt.Sprintf("%v %d bytes", typ, n), got, msg)
		}
	}
	t.Log("PASS echo text and binary at 0, 125, 126, 65535, 65536 and 16 MiB")

	// Fragmented messages: a frame per part.
	for _, typ := range []MessageType{Text, Binary} {
		w, err := c.NextWriter(ctx, typ)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{"frag1", "frag2", "frag3"} {
			w.Write([]byte(part))
			w.(*messageWriter).flush(false)
		}
		w.Close()
		if gt, got := next(); gt != typ || string(got) != "frag1frag2frag3" {
			t.Fatalf("fragmented %v echo %v %q", typ, gt, got)
		}
	}
	// And a large message cut into 1000-byte frames by FragmentSize.
	cf, err := Dial(ctx, url, &DialOptions{Options: Options{FragmentSize: 1000}, Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	big := pattern(100_000)
	cf.WriteMessage(ctx, Binary, big)
	if _, got, err := cf.ReadMessage(ctx, nil); err != nil {
		t.Fatal(err)
	} else {
		mustEqual(t, "100 KB in 1000-byte fragments", got, big)
	}
	cf.Close(1000, "")
	t.Log("PASS fragmented text and binary messages")

	if err := c.Ping(ctx, []byte("client-ping")); err != nil {
		t.Fatalf("ping: %v", err)
	}
	t.Log("PASS client ping answered")

	c.WriteMessage(ctx, Text, []byte("cmd:ping:server-ping"))
	if _, got := next(); string(got) != "pinged:server-ping" {
		t.Fatalf("server ping: got %q", got)
	}
	t.Log("PASS server ping answered")

	if err := c.Close(4001, "client-bye"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(output(), "CLOSED 4001 client-bye") {
		if time.Now().After(deadline) {
			t.Fatalf("peer server did not report close 4001; output:\n%s", output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Log("PASS client close 4001 seen by the peer")

	c2, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseNow()
	c2.WriteMessage(ctx, Text, []byte("cmd:close:4002:server-bye"))
	_, _, err = c2.ReadMessage(ctx, nil)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "server-bye" {
		t.Fatalf("server close: read error %v, want CloseError 4002 server-bye", err)
	}
	t.Log("PASS server close 4002 seen by our client")
}

func TestInteropNodeServer(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range interopModes {
		t.Run(mode.name, func(t *testing.T) {
			cmd := testpeer.NodeCmd(t, []string{"ws"}, interopScript("node_server.js"), mode.name)
			url, output := startPeerServer(t, cmd)
			clientScenarios(t, url, output, mode.opts)
		})
	}
}

func TestInteropPythonServer(t *testing.T) {
	if testing.Short() {
		t.Skip("interop runs in the full test run")
	}
	for _, mode := range interopModes {
		t.Run(mode.name, func(t *testing.T) {
			py := testpeer.Python(t)
			url, output := startPeerServer(t, exec.Command(py, "-u", interopScript("py_server.py"), mode.name))
			clientScenarios(t, url, output, mode.opts)
		})
	}
}
