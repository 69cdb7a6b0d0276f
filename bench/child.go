package bench

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wirelevel/ws/bench/libs"
	"github.com/wirelevel/ws/bench/loadgen"
)

// childFlag makes the bench binary (or test binary) serve one library
// instead of measuring: -wsbench.child=LIB.
const childFlag = "-wsbench.child="

// MaybeRunChild serves as a child process and exits if the command line asks
// for one; otherwise it returns. Call it first in main and TestMain.
func MaybeRunChild() {
	for _, a := range os.Args[1:] {
		if name, ok := strings.CutPrefix(a, childFlag); ok {
			os.Exit(runChild(name))
		}
	}
}

// msgSeed seeds every payload, so parent and child build the same bytes.
const msgSeed = 1

// runChild serves lib on 127.0.0.1, plain and over TLS, prints "addr
// HOST:PORT tls HOST:PORT", then answers one command per line on stdin
// until "quit" or EOF:
//
//	mem            GC, return memory to the OS; "mem HEAPINUSE STACKINUSE GOROUTINES"
//	cpu            "cpu NANOSECONDS" of user+system CPU time so far
//	allocs         "allocs MALLOCS BYTES" allocated so far (no GC)
//	conns          "conns N", the connections on /broadcast
//	broadcast SIZE send a SIZE-byte text message to them; "broadcast NANOSECONDS"
//	               the call took, or "err TEXT"
//	profile [PATH] start a CPU profile into PATH ("profile 1"), or stop it ("profile 0")
func runChild(name string) int {
	lib := libs.Lookup(name)
	if lib == nil {
		fmt.Fprintf(os.Stderr, "bench: no library %q\n", name)
		return 2
	}
	raiseFileLimit()
	srv := lib.NewServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The same servers over TLS, on a second listener, for the storm.
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cert, err := selfSigned()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tlsLn := tls.NewListener(tln, &tls.Config{Certificates: []tls.Certificate{cert}})
	for _, l := range []net.Listener{ln, tlsLn} {
		if srv.Serve != nil {
			go srv.Serve(l)
		} else {
			go (&http.Server{Handler: srv.Handler, ErrorLog: log.New(io.Discard, "", 0)}).Serve(l)
		}
	}
	out := bufio.NewWriter(os.Stdout)
	reply := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	reply("addr %s tls %s", ln.Addr(), tln.Addr())
	msgs := map[int][]byte{}
	var prof, tracef *os.File
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "mem":
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			reply("mem %d %d %d", ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine())
		case "cpu":
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			reply("cpu %d", ru.Utime.Nano()+ru.Stime.Nano())
		case "allocs":
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			reply("allocs %d %d", ms.Mallocs, ms.TotalAlloc)
		case "conns":
			reply("conns %d", srv.Hub.Len())
		case "broadcast":
			size, _ := strconv.Atoi(f[1])
			msg, ok := msgs[size]
			if !ok {
				msg = loadgen.Text(size, msgSeed)
				msgs[size] = msg
			}
			start := time.Now()
			if err := srv.Hub.Broadcast(msg); err != nil {
				reply("err %v", err)
			} else {
				reply("broadcast %d", time.Since(start).Nanoseconds())
			}
		case "profile":
			// profile PATH starts a CPU profile; "profile" alone stops it.
			if len(f) == 1 {
				pprof.StopCPUProfile()
				if prof != nil {
					prof.Close()
					prof = nil
				}
				reply("profile 0")
				continue
			}
			pf, err := os.Create(f[1])
			if err == nil {
				err = pprof.StartCPUProfile(pf)
			}
			if err != nil {
				reply("err %v", err)
				continue
			}
			prof = pf
			reply("profile 1")
		case "trace":
			// trace PATH starts an execution trace; "trace" alone stops it.
			if len(f) == 1 {
				trace.Stop()
				if tracef != nil {
					tracef.Close()
					tracef = nil
				}
				reply("trace 0")
				continue
			}
			tf, err := os.Create(f[1])
			if err == nil {
				err = trace.Start(tf)
			}
			if err != nil {
				reply("err %v", err)
				continue
			}
			tracef = tf
			reply("trace 1")
		case "quit":
			return 0
		default:
			reply("err unknown command %q", f[0])
		}
	}
	return 0
}

// raiseFileLimit lifts RLIMIT_NOFILE as far as it goes: 10,000 idle
// connections need a descriptor each in both processes.
func raiseFileLimit() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return
	}
	want := max(rl.Max, 1<<17)
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}) != nil {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}

// server is the parent's handle on a child process serving one library.
type server struct {
	lib     *libs.Lib
	cmd     *exec.Cmd
	in      io.WriteCloser
	lines   chan string
	addr    string
	tlsAddr string // the same servers over TLS (self-signed certificate)
	stderr  *tail
	done    chan struct{}
}

// startServer starts a child process serving lib, with GOMAXPROCS=procs
// unless procs is 0.
func startServer(lib *libs.Lib, procs int) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &server{lib: lib, lines: make(chan string, 16), stderr: &tail{}, done: make(chan struct{})}
	s.cmd = exec.Command(exe, childFlag+lib.Name)
	s.cmd.Stderr = s.stderr
	if procs > 0 {
		s.cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(procs))
	}
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	line, err := s.recv(30 * time.Second)
	if err != nil {
		s.close()
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "addr" || f[2] != "tls" {
		s.close()
		return nil, fmt.Errorf("bench: %s server said %q", lib.Name, line)
	}
	s.addr, s.tlsAddr = f[1], f[3]
	return s, nil
}

// send writes one command line to the child.
func (s *server) send(cmd string) error {
	_, err := io.WriteString(s.in, cmd+"\n")
	if err != nil {
		return s.wrap(err)
	}
	return nil
}

// recv returns the child's next line.
func (s *server) recv(timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-s.lines:
		if !ok {
			return "", s.wrap(errors.New("server exited"))
		}
		if rest, ok := strings.CutPrefix(line, "err "); ok {
			return "", s.wrap(errors.New(rest))
		}
		return line, nil
	case <-t.C:
		return "", s.wrap(fmt.Errorf("no answer in %v", timeout))
	}
}

// call sends cmd and returns the fields of the answer, which must start
// with the command's first word.
func (s *server) call(cmd string) ([]int64, error) {
	if err := s.send(cmd); err != nil {
		return nil, err
	}
	line, err := s.recv(60 * time.Second)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != strings.Fields(cmd)[0] {
		return nil, s.wrap(fmt.Errorf("answer %q to %q", line, cmd))
	}
	v := make([]int64, len(f)-1)
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return nil, s.wrap(fmt.Errorf("answer %q to %q", line, cmd))
		}
	}
	return v, nil
}

func (s *server) wrap(err error) error {
	msg := fmt.Sprintf("bench: %s server: %v", s.lib.Name, err)
	if t := strings.TrimSpace(s.stderr.String()); t != "" {
		msg += "; its stderr ends: " + t
	}
	return errors.New(msg)
}

// cpu returns the CPU time the child has used.
func (s *server) cpu() (time.Duration, error) {
	v, err := s.call("cpu")
	if err != nil {
		return 0, err
	}
	return time.Duration(v[0]), nil
}

// usage is the CPU time and allocations of a child so far.
type usage struct {
	cpu    time.Duration
	allocs int64
	bytes  int64
}

func (s *server) usage() (usage, error) {
	c, err := s.cpu()
	if err != nil {
		return usage{}, err
	}
	v, err := s.call("allocs")
	if err != nil {
		return usage{}, err
	}
	return usage{cpu: c, allocs: v[0], bytes: v[1]}, nil
}

// memStats is a child's memory after a GC.
type memStats struct {
	rss        int64 // VmRSS from /proc
	heap       int64 // HeapInuse
	stack      int64 // StackInuse
	goroutines int64
}

func (s *server) mem() (memStats, error) {
	v, err := s.call("mem")
	if err != nil {
		return memStats{}, err
	}
	rss, err := vmRSS(s.cmd.Process.Pid)
	if err != nil {
		return memStats{}, err
	}
	return memStats{rss: rss, heap: v[0], stack: v[1], goroutines: v[2]}, nil
}

// conns returns the number of connections on the child's /broadcast.
func (s *server) conns() (int, error) {
	v, err := s.call("conns")
	if err != nil {
		return 0, err
	}
	return int(v[0]), nil
}

// waitConns waits until the child holds n broadcast connections.
func (s *server) waitConns(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := s.conns()
		if err != nil {
			return err
		}
		if got == n {
			return nil
		}
		if time.Now().After(deadline) {
			return s.wrap(fmt.Errorf("holds %d broadcast connections, want %d", got, n))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// close stops the child.
func (s *server) close() {
	s.send("quit")
	s.in.Close()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// vmRSS returns the resident set size of process pid, in bytes.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := strings.Fields(string(rest))
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) < 2 || f[1] != "kB" {
				return 0, fmt.Errorf("bench: VmRSS line %q", line)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("bench: no VmRSS in /proc status")
}

// tail keeps the last 2 KiB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2048 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-2048:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// selfSigned returns a fresh ECDSA P-256 certificate for 127.0.0.1, the
// TLS servers' identity; clients do not verify it.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// profileDir, if set, receives a CPU profile of the server process for the
// measured part of every echo, latency, broadcast and storm run.
var profileDir string

// SetProfileDir makes every later run write its server's CPU profile to
// dir, as WORKLOAD-CASE-LIB-N.pprof.
func SetProfileDir(dir string) { profileDir = dir }

var profileSeq atomic.Int64

// startProfile starts a CPU profile of the child if profiles are asked
// for; the returned function stops it.
func (s *server) startProfile(workload string, cs caseSpec) (stop func(), err error) {
	if profileDir == "" {
		return func() {}, nil
	}
	name := strings.NewReplacer(" ", "", "·", "", ",", "_", "=", "", "/", "_").Replace(fmt.Sprintf("%s-%s-%s-%d.pprof", workload, cs.key(), s.lib.Name, profileSeq.Add(1)))
	if _, err := s.call("profile " + filepath.Join(profileDir, name)); err != nil {
		return nil, err
	}
	return func() { s.call("profile") }, nil
}
