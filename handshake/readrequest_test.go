package handshake

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// pipe returns the two ends of a net.Pipe, closed when the test ends.
func pipe(t *testing.T) (client, server net.Conn) {
	client, server = net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// tcpPair returns two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		ch <- result{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}

// send writes chunks to c from a goroutine, with pause between chunks, and
// stops at the first write error. It returns a channel closed when done.
func send(c net.Conn, pause time.Duration, chunks ...[]byte) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, b := range chunks {
			if pause > 0 {
				time.Sleep(pause)
			}
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}()
	return done
}

func TestReadRequest(t *testing.T) {
	frame := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	valid := []byte(validRequest())
	byteByByte := func(b []byte) [][]byte {
		var out [][]byte
		for i := range b {
			out = append(out, b[i:i+1])
		}
		return out
	}
	tests := []struct {
		name     string
		conn     func(*testing.T) (net.Conn, net.Conn)
		chunks   [][]byte
		pause    time.Duration
		wantRest []byte
	}{
		{name: "pipe, one write with frame", conn: pipe, chunks: [][]byte{append(append([]byte{}, valid...), frame...)}, wantRest: frame},
		{name: "pipe, byte by byte", conn: pipe, chunks: byteByByte(valid), wantRest: []byte{}},
		{name: "tcp, split writes", conn: tcpPair, chunks: [][]byte{valid[:10], valid[10:], frame}, pause: 10 * time.Millisecond, wantRest: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tt.conn(t)
			done := send(client, tt.pause, tt.chunks...)
			s := Server{Timeout: 5 * time.Second}
			req, rest, err := s.ReadRequest(server)
			if err != nil {
				t.Fatalf("ReadRequest = %v", err)
			}
			if string(req.Target) != "/chat" {
				t.Errorf("Target = %q, want /chat", req.Target)
			}
			// Bytes past the header block are returned or still unread.
			got := append([]byte{}, rest...)
			server.SetReadDeadline(time.Now().Add(time.Second))
			for len(got) < len(frame) && tt.wantRest != nil && len(tt.wantRest) > 0 {
				buf := make([]byte, 64)
				n, err := server.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if tt.wantRest != nil && string(got) != string(tt.wantRest) {
				t.Errorf("rest = %s, want %s", hexs(got), hexs(tt.wantRest))
			}
			var up Upgrade
			if err := s.Check(req, &up); err != nil {
				t.Errorf("Check = %v", err)
			}
			server.Close()
			<-done
		})
	}
}

func TestReadRequestFailures(t *testing.T) {
	tests := []struct {
		name    string
		conn    func(*testing.T) (net.Conn, net.Conn)
		timeout time.Duration
		write   func(c net.Conn) // runs in its own goroutine; must stop when c is closed
		status  int              // RejectError status, or 0
		is      error
		maxTime time.Duration
	}{
		{
			name: "trickle over pipe", conn: pipe, timeout: 150 * time.Millisecond,
			write:   trickle(validRequest(), 20*time.Millisecond),
			is:      os.ErrDeadlineExceeded,
			maxTime: 3 * time.Second,
		},
		{
			name: "trickle over tcp", conn: tcpPair, timeout: 150 * time.Millisecond,
			write:   trickle(validRequest(), 20*time.Millisecond),
			is:      os.ErrDeadlineExceeded,
			maxTime: 3 * time.Second,
		},
		{
			name: "silent client", conn: tcpPair, timeout: 100 * time.Millisecond,
			write:   func(net.Conn) {},
			is:      os.ErrDeadlineExceeded,
			maxTime: 3 * time.Second,
		},
		{
			name: "endless header", conn: tcpPair, timeout: 5 * time.Second,
			write:  flood("GET / HTTP/1.1\r\n", "X-A: "+strings.Repeat("b", 1000)+"\r\n"),
			status: 431, is: ErrTooLarge,
			maxTime: 3 * time.Second,
		},
		{
			name: "endless fields", conn: pipe, timeout: 5 * time.Second,
			write:  flood("GET / HTTP/1.1\r\n", "A: b\r\n"),
			status: 431, is: ErrTooLarge,
			maxTime: 3 * time.Second,
		},
		{
			name: "tls client hello", conn: pipe, timeout: 5 * time.Second,
			write:  flood("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "\x00"),
			status: 400, is: ErrMalformed,
			maxTime: 3 * time.Second,
		},
		{
			name: "close mid-request", conn: pipe, timeout: 5 * time.Second,
			write: func(c net.Conn) {
				c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n"))
				c.Close()
			},
			is:      io.ErrUnexpectedEOF,
			maxTime: 3 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tt.conn(t)
			done := make(chan struct{})
			go func() { defer close(done); tt.write(client) }()
			s := Server{Timeout: tt.timeout}
			start := time.Now()
			_, _, err := s.ReadRequest(server)
			elapsed := time.Since(start)
			var re *RejectError
			if tt.status != 0 && (!errors.As(err, &re) || re.Status != tt.status) {
				t.Errorf("ReadRequest = %v, want status %d", err, tt.status)
			}
			if tt.status == 0 && errors.As(err, &re) {
				t.Errorf("ReadRequest = %v, want no RejectError", err)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("ReadRequest = %v, want error wrapping %v", err, tt.is)
			}
			if elapsed > tt.maxTime {
				t.Errorf("ReadRequest took %v, want < %v", elapsed, tt.maxTime)
			}
			if tt.timeout < time.Second && elapsed < tt.timeout {
				t.Errorf("ReadRequest returned after %v, before the %v deadline", elapsed, tt.timeout)
			}
			// The deadline is cleared afterwards.
			server.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			client.Close()
			server.Close()
			<-done
		})
	}
}

// trickle writes s one byte at a time with a pause between bytes.
func trickle(s string, pause time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		for i := 0; i < len(s); i++ {
			time.Sleep(pause)
			if _, err := c.Write([]byte{s[i]}); err != nil {
				return
			}
		}
	}
}

// flood writes head, then unit up to 1 MiB, stopping at the first error.
func flood(head, unit string) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := c.Write([]byte(head)); err != nil {
			return
		}
		b := []byte(strings.Repeat(unit, max(1, 4096/len(unit))))
		for sent := 0; sent < 1<<20; sent += len(b) {
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}
}

// TestReadRequestMemory checks that a 1 MiB header costs about one buffer
// of MaxHeaderBytes, not 1 MiB.
func TestReadRequestMemory(t *testing.T) {
	client, server := pipe(t)
	payload := []byte("GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 1<<20) + "\r\n\r\n")
	done := send(client, 0, payload)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := (&Server{}).ReadRequest(server)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadRequest = %v, want ErrTooLarge", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 128<<10 {
		t.Errorf("ReadRequest allocated %d bytes for a 1 MiB header, want < 128 KiB", d)
	}
	server.Close()
	<-done
}

// replayConn is a net.Conn whose reads return in, then EOF, and whose
// deadlines are no-ops.
type replayConn struct {
	net.Conn
	in []byte
}

func (c *replayConn) Read(b []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *replayConn) SetReadDeadline(time.Time) error { return nil }

func TestReadRequestInto(t *testing.T) {
	in := browserRequest()
	first := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	tests := []struct {
		name    string
		bufLen  int
		aliased bool // rest lies in the buffer given
	}{
		{name: "buffer of MaxHeaderBytes", bufLen: DefaultMaxHeaderBytes, aliased: true},
		{name: "larger buffer", bufLen: 2 * DefaultMaxHeaderBytes, aliased: true},
		{name: "short buffer replaced", bufLen: 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv Server
			buf := make([]byte, tt.bufLen)
			req := Request{Header: make([]Field, 0, 32)}
			storage := &req.Header[:1][0]
			nc := &replayConn{in: append(append([]byte(nil), in...), first...)}
			rest, err := srv.ReadRequestInto(nc, buf, &req)
			if err != nil {
				t.Fatalf("ReadRequestInto = %v", err)
			}
			if hexs(rest) != hexs(first) {
				t.Errorf("rest = %s, want %s", hexs(rest), hexs(first))
			}
			if got := string(req.Get("Sec-WebSocket-Key")); got != rfcKey {
				t.Errorf("Sec-WebSocket-Key = %q, want %q", got, rfcKey)
			}
			if &req.Header[:1][0] != storage {
				t.Error("req.Header storage not reused")
			}
			inBuf := len(buf) > len(in) && &rest[0] == &buf[len(in)]
			if inBuf != tt.aliased {
				t.Errorf("rest aliases the given buffer: %v, want %v", inBuf, tt.aliased)
			}
		})
	}
	t.Run("limit is MaxHeaderBytes, not the buffer", func(t *testing.T) {
		srv := Server{Limits: Limits{MaxHeaderBytes: 64}}
		var req Request
		_, err := srv.ReadRequestInto(&replayConn{in: in}, make([]byte, 4096), &req)
		var re *RejectError
		if !errors.As(err, &re) || re.Status != 431 {
			t.Errorf("ReadRequestInto(%d-byte request, MaxHeaderBytes 64) = %v, want a 431", len(in), err)
		}
	})
}

func TestReadRequestIntoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	in := browserRequest()
	var srv Server
	buf := make([]byte, DefaultMaxHeaderBytes)
	req := Request{Header: make([]Field, 0, 32)}
	nc := &replayConn{}
	allocs := testing.AllocsPerRun(100, func() {
		nc.in = in
		if _, err := srv.ReadRequestInto(nc, buf, &req); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadRequestInto: %v allocations, want 0", allocs)
	}
}
