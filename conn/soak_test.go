//go:build linux

package conn

// TestSoak holds many loopback connections echoing messages of mixed sizes
// and types, some compressed, for a bounded time, then shuts them all down
// through Group.Shutdown and checks that the server's goroutines and heap
// return to their baseline. conn/SOAK.md records a full-scale run.
//
// Scale: SOAK_CONNS connections (default 500) for SOAK_DURATION (default
// 5s); -short skips it. The full run:
//
//	SOAK_CONNS=10000 SOAK_DURATION=60s go test -run '^TestSoak$' -v -timeout 30m ./conn
//
// The server side uses Upgrade on a raw listener (no net/http, so every
// goroutine and byte measured belongs to this package or the test). The
// clients run in a child process (this test binary again, with SOAK_CHILD
// set): a process may hold at most RLIMIT_NOFILE descriptors, whose hard
// limit here is 20000, and 10,000 connections take 10,000 on each side.
// SOAK_HEAPPROFILE=file writes a heap profile of the server process once
// the connections are gone.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// soakWindow is how many messages a client may have in flight.
const soakWindow = 2

// soakHeader is the size of the "%09d %05d " header (sequence number and
// client number) that starts every soak message.
const soakHeader = 16

// soakSize returns the size of message seq of client id: mostly small, some
// medium, a few up to 64 KiB.
func soakSize(id, seq int) int {
	x := uint64(id)*0x9e3779b97f4a7c15 ^ uint64(seq)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	switch r, v := x%100, int(x>>8); {
	case r < 70:
		return 16 + v%(512-16)
	case r < 95:
		return 512 + v%(8192-512)
	default:
		return 8192 + v%(65536-8192+1)
	}
}

// soakType alternates text and binary.
func soakType(id, seq int) MessageType {
	if (id+seq)%2 == 0 {
		return Text
	}
	return Binary
}

// soakByte is byte j (past the header) of message seq of client id: ASCII
// for text, arbitrary for binary.
func soakByte(id, seq, j int, text bool) byte {
	if text {
		return byte('a' + (seq+j*7+id)%26)
	}
	return byte(seq*31 + j*7 + id)
}

// soakMessage writes message seq of client id into b[:0].
func soakMessage(b []byte, id, seq int) []byte {
	n := soakSize(id, seq)
	b = fmt.Appendf(b[:0], "%09d %05d ", seq, id)
	text := soakType(id, seq) == Text
	for j := soakHeader; j < n; j++ {
		b = append(b, soakByte(id, seq, j, text))
	}
	return b
}

// soakBufs holds the 4 KiB buffers the echo loops stream through.
var soakBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// soakEnv reads the scale from the environment.
func soakEnv(t testing.TB) (conns int, dur time.Duration) {
	conns, dur = 500, 5*time.Second
	if v := os.Getenv("SOAK_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SOAK_CONNS=%q", v)
		}
		conns = n
	}
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_DURATION=%q", v)
		}
		dur = d
	}
	return conns, dur
}

// raiseFileLimit sets the soft RLIMIT_NOFILE to the hard one and returns it.
func raiseFileLimit(t testing.TB) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	return lim.Cur
}

// soakMem is a memory sample.
type soakMem struct {
	HeapAlloc, HeapInuse, Sys uint64
	Goroutines                int
}

func readSoakMem() soakMem {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return soakMem{m.HeapAlloc, m.HeapInuse, m.Sys, runtime.NumGoroutine()}
}

// peakSampler records the highest readSoakMem values, sampled every
// interval until stop.
type peakSampler struct {
	mu   sync.Mutex
	max  soakMem
	quit chan struct{}
	done chan struct{}
}

func samplePeak(interval time.Duration) *peakSampler {
	ps := &peakSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(ps.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ps.quit:
				return
			case <-tick.C:
			}
			m := readSoakMem()
			ps.mu.Lock()
			ps.max.HeapAlloc, ps.max.HeapInuse = max(ps.max.HeapAlloc, m.HeapAlloc), max(ps.max.HeapInuse, m.HeapInuse)
			ps.max.Sys, ps.max.Goroutines = max(ps.max.Sys, m.Sys), max(ps.max.Goroutines, m.Goroutines)
			ps.mu.Unlock()
		}
	}()
	return ps
}

// peak returns the highest values sampled so far.
func (ps *peakSampler) peak() soakMem {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.max
}

// stop ends sampling and waits for the sampler to finish.
func (ps *peakSampler) stop() {
	close(ps.quit)
	<-ps.done
}

func (m soakMem) String() string {
	return fmt.Sprintf("heap %.1f MiB (in use %.1f MiB, from OS %.1f MiB), %d goroutines",
		float64(m.HeapAlloc)/(1<<20), float64(m.HeapInuse)/(1<<20), float64(m.Sys)/(1<<20), m.Goroutines)
}

// soakClientReport is what the client process reports.
type soakClientReport struct {
	Conns, DialErrors, Compressed               int
	Sent, Received, Lost, Duplicated, Reordered int64
	Corrupt, WriteErrors                        int64
	Bytes                                       int64
	Elapsed                                     time.Duration
	CloseCodes                                  map[string]int
	PeakMem                                     soakMem
}

func TestSoak(t *testing.T) {
	if addr := os.Getenv("SOAK_CHILD"); addr != "" {
		soakClients(t, addr)
		return
	}
	if testing.Short() {
		t.Skip("the soak test runs in the full test run")
	}
	conns, dur := soakEnv(t)
	if limit := raiseFileLimit(t); uint64(conns)+64 > limit {
		t.Fatalf("%d connections need more descriptors than RLIMIT_NOFILE allows (%d)", conns, limit)
	}

	runtime.GC()
	runtime.GC()
	base := readSoakMem()

	// The server: Upgrade on a raw listener, echoing with pooled buffers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var g Group
	var handlers sync.WaitGroup
	var accepted, upgradeErrs atomic.Int64
	var endMu sync.Mutex
	ends := map[string]int{} // how the server's read loops ended
	var oddEnds []string     // the first few that did not end with 1001
	var shutStart atomic.Pointer[time.Time]
	opts := &AcceptOptions{
		Compression:      &CompressionOptions{},
		HandshakeTimeout: 30 * time.Second,
		Options:          Options{CloseTimeout: 10 * time.Second},
	}
	handlers.Add(1)
	go func() {
		defer handlers.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			handlers.Add(1)
			go func() {
				defer handlers.Done()
				c, err := Upgrade(nc, opts)
				if err != nil {
					upgradeErrs.Add(1)
					return
				}
				accepted.Add(1)
				g.Add(c)
				err = soakEcho(c)
				end := "other: " + err.Error()
				if code := CloseStatus(err); code != 0 {
					end = "close " + code.String()
				} else if errors.Is(err, ErrClosed) {
					end = "ErrClosed"
				}
				endMu.Lock()
				ends[end]++
				if CloseStatus(err) != frame.CloseGoingAway && len(oddEnds) < 5 {
					since := "before the shutdown"
					if st := shutStart.Load(); st != nil {
						since = time.Since(*st).Round(time.Millisecond).String() + " into the shutdown"
					}
					oddEnds = append(oddEnds, fmt.Sprintf("%v: read loop ended with %v (%s; Err() = %v)", c.RemoteAddr(), err, since, c.Err()))
				}
				endMu.Unlock()
			}()
		}
	}()

	// Memory peaks, sampled while the test runs.
	sampler := samplePeak(200 * time.Millisecond)

	// The clients, in a child process.
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSoak$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), "SOAK_CHILD="+ln.Addr().String(),
		"SOAK_CONNS="+strconv.Itoa(conns), "SOAK_DURATION="+dur.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "soak: "); ok {
				lines <- s
			}
		}
		close(lines)
	}()
	next := func(prefix string, timeout time.Duration) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("client process ended before %q", prefix)
			}
			s, ok := strings.CutPrefix(l, prefix+" ")
			if !ok {
				t.Fatalf("client process said %q, want %q", l, prefix)
			}
			return s
		case <-time.After(timeout):
			t.Fatalf("no %q from the client process after %v", prefix, timeout)
		}
		return ""
	}

	next("connected", 5*time.Minute)
	// A client's Dial returns once the 101 is out, a moment before its
	// server goroutine adds the Conn to the group.
	for wait := time.Now(); g.Len() < conns && time.Since(wait) < 10*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	held := g.Len()
	dialed := time.Since(start)
	heldMem := readSoakMem()
	t.Logf("%d connections held (%d dialled in %v); server: %v", held, conns, dialed.Round(time.Millisecond), heldMem)
	if held != conns {
		t.Errorf("server holds %d connections, want %d (upgrade errors: %d)", held, conns, upgradeErrs.Load())
	}
	var drained soakClientReport
	if err := json.Unmarshal([]byte(next("drained", dur+5*time.Minute)), &drained); err != nil {
		t.Fatal(err)
	}

	// Graceful shutdown: 1001 to everyone, within a deadline.
	now := time.Now()
	shutStart.Store(&now)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	err = g.Shutdown(ctx, "soak over")
	cancel()
	shutTime := time.Since(now)
	if err != nil {
		t.Errorf("Group.Shutdown = %v after %v", err, shutTime)
	}
	var final soakClientReport
	if err := json.Unmarshal([]byte(next("closed", 2*time.Minute)), &final); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("client process: %v", err)
	}
	ln.Close()
	handlers.Wait()
	sampler.stop()
	peak := sampler.peak()

	// Back to the baseline, within a tolerance, after GC and a bounded
	// wait: pools empty over two collections, and closed connections'
	// goroutines may take a moment to go. The runtime never frees a
	// goroutine's descriptor (runtime.malg, about 0.5 KiB), so the heap may
	// keep 1 KiB for each goroutine of the peak, on top of 4 MiB.
	const goroutineSlack = 4
	heapSlack := uint64(4<<20) + uint64(peak.Goroutines)<<10
	var after soakMem
	settle := time.Now()
	for {
		runtime.GC()
		runtime.GC()
		after = readSoakMem()
		if (after.Goroutines <= base.Goroutines+goroutineSlack && after.HeapAlloc <= base.HeapAlloc+heapSlack) ||
			time.Since(settle) > 10*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	if path := os.Getenv("SOAK_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	t.Logf("clients: %d conns (%d compressed), %d messages sent, %d received, %.1f MiB echoed, in %v",
		final.Conns, final.Compressed, drained.Sent, drained.Received, float64(drained.Bytes)/(1<<20), drained.Elapsed.Round(time.Millisecond))
	t.Logf("lost %d, duplicated %d, reordered %d, corrupt %d, dial errors %d, write errors %d",
		drained.Lost, drained.Duplicated, drained.Reordered, drained.Corrupt, drained.DialErrors, drained.WriteErrors)
	t.Logf("shutdown in %v; client close codes %v; server read loops ended: %v", shutTime.Round(time.Millisecond), final.CloseCodes, ends)
	for _, e := range oddEnds {
		t.Logf("server: %s", e)
	}
	t.Logf("server before: %v", base)
	t.Logf("server peak:   %v", peak)
	t.Logf("server after:  %v (settled in %v)", after, time.Since(settle).Round(time.Millisecond))
	t.Logf("client process peak: %v", final.PeakMem)

	if drained.Conns != conns || drained.DialErrors != 0 {
		t.Errorf("clients connected %d of %d (%d dial errors)", drained.Conns, conns, drained.DialErrors)
	}
	if drained.Lost != 0 || drained.Duplicated != 0 || drained.Reordered != 0 || drained.Corrupt != 0 || drained.WriteErrors != 0 {
		t.Errorf("lost %d, duplicated %d, reordered %d, corrupt %d messages; %d write errors",
			drained.Lost, drained.Duplicated, drained.Reordered, drained.Corrupt, drained.WriteErrors)
	}
	if drained.Sent == 0 || drained.Received != drained.Sent {
		t.Errorf("sent %d, received %d", drained.Sent, drained.Received)
	}
	if final.CloseCodes[frame.CloseGoingAway.String()] != conns {
		t.Errorf("clients saw close codes %v, want %d × 1001", final.CloseCodes, conns)
	}
	if after.Goroutines > base.Goroutines+goroutineSlack {
		t.Errorf("goroutines: %d after, %d before", after.Goroutines, base.Goroutines)
	}
	if after.HeapAlloc > base.HeapAlloc+heapSlack {
		t.Errorf("heap: %d bytes after, %d before (tolerance %d)", after.HeapAlloc, base.HeapAlloc, heapSlack)
	}
}

// soakEcho echoes messages, streaming each through NextReader and
// NextWriter with a 4 KiB buffer, until reading fails.
func soakEcho(c *Conn) error {
	ctx := context.Background()
	for {
		typ, r, err := c.NextReader(ctx)
		if err != nil {
			return err
		}
		w, err := c.NextWriter(ctx, typ)
		if err != nil {
			return err
		}
		pb := soakBufs.Get().(*[]byte)
		_, err = io.CopyBuffer(w, r, *pb)
		soakBufs.Put(pb)
		if err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// soakCheck reads one message with NextReader and checks it against the
// expected message, streaming. It returns the message's sequence number,
// its length, whether its type and bytes were right, and the read error.
func soakCheck(c *Conn, id int, buf []byte) (seq, n int, ok bool, err error) {
	typ, r, err := c.NextReader(context.Background())
	if err != nil {
		return 0, 0, false, err
	}
	var hdr [soakHeader]byte
	if k, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return -1, k, false, nil
		}
		return 0, k, false, err
	}
	seq, perr := strconv.Atoi(string(hdr[:9]))
	if perr != nil || string(hdr[9:]) != fmt.Sprintf(" %05d ", id) {
		seq = -1
	}
	ok = seq >= 0 && typ == soakType(id, seq)
	text := typ == Text
	n = soakHeader
	for {
		k, err := r.Read(buf)
		for i := range k {
			if ok && buf[i] != soakByte(id, seq, n+i, text) {
				ok = false
			}
		}
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return seq, n, false, err
		}
	}
	return seq, n, ok && n == soakSize(id, seq), nil
}

// soakClients is the client process: it dials conns connections to addr,
// echoes through them for the duration, reports, then waits for the
// server's shutdown and reports the close codes.
func soakClients(t *testing.T, addr string) {
	conns, dur := soakEnv(t)
	raiseFileLimit(t)
	report := soakClientReport{CloseCodes: map[string]int{}}
	var rmu sync.Mutex
	var sent, received, bytes, lost, dup, reord, corrupt, werrs atomic.Int64

	sampler := samplePeak(500 * time.Millisecond)

	// Dial, 64 at a time.
	cs := make([]*Conn, conns)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			o := &DialOptions{Proxy: NoProxy, HandshakeTimeout: 60 * time.Second, Options: Options{CloseTimeout: 10 * time.Second}}
			if i%4 == 0 {
				o.Compression = &CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
			}
			c, err := Dial(context.Background(), "ws://"+addr+"/soak", o)
			rmu.Lock()
			defer rmu.Unlock()
			if err != nil {
				report.DialErrors++
				if report.DialErrors < 5 {
					fmt.Fprintf(os.Stderr, "soak client %d: %v\n", i, err)
				}
				return
			}
			cs[i] = c
			report.Conns++
			if c.Extensions() != "" {
				report.Compressed++
			}
		}()
	}
	wg.Wait()
	fmt.Printf("soak: connected %d\n", report.Conns)

	// Each client: a writer with at most soakWindow messages in flight
	// and a reader checking every echo.
	start := time.Now()
	stopWriters := make(chan struct{})
	time.AfterFunc(dur, func() { close(stopWriters) })
	var writers, readers sync.WaitGroup
	sentBy := make([]atomic.Int64, conns)
	recvBy := make([]atomic.Int64, conns)
	writersDone := make(chan struct{})
	for id, c := range cs {
		if c == nil {
			continue
		}
		tokens := make(chan struct{}, soakWindow)
		for range soakWindow {
			tokens <- struct{}{}
		}
		writers.Add(1)
		go func() {
			defer writers.Done()
			ctx := context.Background()
			b := make([]byte, 0, 1024)
			for seq := 0; ; seq++ {
				select {
				case <-tokens:
				case <-c.Done():
					return
				case <-stopWriters: // also when a lost echo holds the token
					return
				}
				select {
				case <-stopWriters:
					return
				default:
				}
				b = soakMessage(b, id, seq)
				if err := c.WriteMessage(ctx, soakType(id, seq), b); err != nil {
					werrs.Add(1)
					return
				}
				sent.Add(1)
				sentBy[id].Add(1)
				if cap(b) > 8192 {
					b = make([]byte, 0, 1024) // keep idle clients small
				}
			}
		}()
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 4096)
			next := 0
			for {
				seq, n, ok, err := soakCheck(c, id, buf)
				if err != nil {
					rmu.Lock()
					if code := CloseStatus(err); code != 0 {
						report.CloseCodes[code.String()]++
					} else {
						report.CloseCodes[err.Error()]++
					}
					rmu.Unlock()
					return
				}
				switch {
				case seq < 0 || !ok:
					corrupt.Add(1)
					if seq >= next {
						next = seq + 1
					}
				case seq < next:
					dup.Add(1)
				case seq > next:
					reord.Add(1)
					next = seq + 1
				default:
					next++
				}
				received.Add(1)
				recvBy[id].Add(1)
				bytes.Add(int64(n))
				select {
				case tokens <- struct{}{}:
				default: // a duplicate: no token to give back
				}
			}
		}()
	}
	go func() { writers.Wait(); close(writersDone) }()
	<-writersDone
	// Wait, bounded, for the echoes still in flight.
	for wait := time.Now(); received.Load() < sent.Load() && time.Since(wait) < 30*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	report.Elapsed = time.Since(start)
	for id := range conns {
		if d := sentBy[id].Load() - recvBy[id].Load(); d > 0 {
			lost.Add(d)
		}
	}
	report.Sent, report.Received, report.Bytes = sent.Load(), received.Load(), bytes.Load()
	report.Lost, report.Duplicated, report.Reordered = lost.Load(), dup.Load(), reord.Load()
	report.Corrupt, report.WriteErrors = corrupt.Load(), werrs.Load()
	rmu.Lock()
	report.PeakMem = sampler.peak()
	js, _ := json.Marshal(report)
	rmu.Unlock()
	fmt.Printf("soak: drained %s\n", js)

	// The server now shuts down: every reader ends with its close code.
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		fmt.Fprintln(os.Stderr, "soak: readers still running 90 s after the drain")
	}
	for _, c := range cs {
		if c != nil {
			select {
			case <-c.Done():
			case <-time.After(15 * time.Second):
			}
		}
	}
	sampler.stop()
	rmu.Lock()
	report.PeakMem = sampler.peak()
	js, _ = json.Marshal(report)
	rmu.Unlock()
	fmt.Printf("soak: closed %s\n", js)
}
