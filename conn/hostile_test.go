//go:build !js

package conn

// Regression tests for hostile peers: one test (or table row) per known
// attack class, each failing if its defence is removed. fuzz/README.md
// lists, per attack class, which test covers it, here or elsewhere.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
	"github.com/wirelevel/ws/internal/cputime"
	"github.com/wirelevel/ws/internal/pipe"
)

// scriptConn is a net.Conn whose reads return a fixed script, then EOF,
// and whose writes are recorded. No goroutines, no system calls: the
// allocations of a read can be measured alone.
type scriptConn struct {
	in  []byte
	out bytes.Buffer
}

func (s *scriptConn) Read(p []byte) (int, error) {
	if len(s.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.in)
	s.in = s.in[n:]
	return n, nil
}
func (s *scriptConn) Write(p []byte) (int, error)      { return s.out.Write(p) }
func (s *scriptConn) Close() error                     { return nil }
func (s *scriptConn) LocalAddr() net.Addr              { return pipe.Addr("script") }
func (s *scriptConn) RemoteAddr() net.Addr             { return pipe.Addr("script") }
func (s *scriptConn) SetDeadline(time.Time) error      { return nil }
func (s *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (s *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// closeCodeIn returns the code of the first close frame in b (as written by
// a server, unmasked, or a client, masked), or 0.
func closeCodeIn(t testing.TB, b []byte) frame.CloseCode {
	t.Helper()
	for len(b) > 0 {
		h, n, err := frame.ParseHeader(b)
		if err != nil || n == 0 || int64(len(b)-n) < h.Length {
			t.Fatalf("Conn wrote a bad frame: % x (%v)", b[:min(len(b), 16)], err)
		}
		p := append([]byte(nil), b[n:n+int(h.Length)]...)
		b = b[n+int(h.Length):]
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		if h.Opcode == frame.OpClose {
			code, _, err := frame.ParseClose(p)
			if err != nil {
				t.Fatalf("close payload % x: %v", p, err)
			}
			return code
		}
	}
	return 0
}

// hdrBytes is the header of a frame a peer of the given role would send.
func hdrBytes(fromClient bool, h frame.Header) []byte {
	if fromClient {
		h.Masked, h.Mask = true, [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	}
	return frame.AppendHeader(nil, h)
}

// frameBytes is a whole frame a peer of the given role would send.
func frameBytes(fromClient bool, h frame.Header, p []byte) []byte {
	if fromClient {
		h.Masked, h.Mask = true, [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	}
	return frame.AppendFrame(nil, h, p)
}

// scriptResult is what readScript saw.
type scriptResult struct {
	err            error           // from ReadMessage
	code           frame.CloseCode // of the close frame the Conn sent, or 0
	bytes, mallocs uint64          // allocated during ReadMessage
}

// readScript runs one ReadMessage on a Conn of the given role fed script.
func readScript(t testing.TB, client bool, opts *Options, script []byte) scriptResult {
	sc := &scriptConn{in: script}
	c := newConn(sc, client, nil, opts)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := c.ReadMessage(bg, nil)
	runtime.ReadMemStats(&after)
	return scriptResult{err, closeCodeIn(t, sc.out.Bytes()), after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs}
}

// Frame headers announcing absurd lengths: the 64-bit length with its top
// bit set is a framing error (1002); 2^40 and 2^63-1 are over any read limit
// and fail with 1009 from the header alone, before a payload byte is read or
// a buffer allocated. The allocation bound (4 KiB) is far below one read
// buffer (32 KiB), let alone the announced length.
func TestHostileHugeLengths(t *testing.T) {
	tests := []struct {
		name   string
		header func(fromClient bool) []byte
		code   frame.CloseCode
	}{
		{"64-bit length msb", func(fromClient bool) []byte {
			b := hdrBytes(fromClient, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 1 << 40})
			b[2] |= 0x80 // the length's most significant bit
			return b
		}, frame.CloseProtocolError},
		{"2^40", func(fromClient bool) []byte {
			return hdrBytes(fromClient, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 1 << 40})
		}, frame.CloseTooBig},
		{"2^63-1", func(fromClient bool) []byte {
			return hdrBytes(fromClient, frame.Header{Fin: true, Opcode: frame.OpText, Length: 1<<63 - 1})
		}, frame.CloseTooBig},
		{"2^63-1 continuation", func(fromClient bool) []byte {
			return append(frameBytes(fromClient, frame.Header{Opcode: frame.OpBinary}, []byte("x")),
				hdrBytes(fromClient, frame.Header{Fin: true, Opcode: frame.OpContinuation, Length: 1<<63 - 1})...)
		}, frame.CloseTooBig},
	}
	for _, tt := range tests {
		for _, client := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/client=%v", tt.name, client), func(t *testing.T) {
				script := tt.header(!client)
				// The least of a few runs: the runtime may allocate in the
				// background now and then.
				best := scriptResult{bytes: 1 << 63}
				for range 5 {
					if r := readScript(t, client, nil, script); r.bytes < best.bytes {
						best = r
					}
				}
				var pe *frame.ProtocolError
				if !errors.As(best.err, &pe) || pe.Code != tt.code || best.code != tt.code {
					t.Fatalf("ReadMessage(% x) = %v, sent close %v; want %v", script, best.err, best.code, tt.code)
				}
				if best.bytes > 4<<10 {
					t.Errorf("ReadMessage(% x) allocated %d bytes in %d objects, want under 4 KiB", script, best.bytes, best.mallocs)
				}
				t.Logf("rejected after allocating %d bytes in %d objects", best.bytes, best.mallocs)
			})
		}
	}
}

// A length within the read limit that the peer never sends costs only what
// arrives: the message buffer grows with the payload received, never to the
// announced length.
func TestHostileAnnouncedLengthNotAllocated(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(fmt.Sprintf("client=%v", client), func(t *testing.T) {
			const announced = 200 << 20
			script := append(hdrBytes(!client, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: announced}), make([]byte, 100)...)
			r := readScript(t, client, &Options{ReadLimit: 256 << 20}, script)
			if CloseStatus(r.err) != frame.CloseAbnormal {
				t.Fatalf("ReadMessage of a cut-short frame = %v, want 1006", r.err)
			}
			if r.bytes > 1<<20 {
				t.Fatalf("a frame announcing %d bytes, with 100 sent, allocated %d bytes", announced, r.bytes)
			}
		})
	}
}

// Lengths whose sums overflow int64 arithmetic, and lengths around the read
// limit. A check written as msgLen+length > limit would wrap to a negative
// sum and let the frame through; the Conn must answer 1009 every time.
func TestHostileLengthArithmetic(t *testing.T) {
	const max64 = 1<<63 - 1
	bin := func(fin bool, n int) frame.Header {
		return frame.Header{Fin: fin, Opcode: frame.OpBinary, Length: int64(n)}
	}
	cont := func(fin bool, n int64) frame.Header {
		return frame.Header{Fin: fin, Opcode: frame.OpContinuation, Length: n}
	}
	tests := []struct {
		name   string
		opts   *Options
		frames []frame.Header // payloads are sent in full, except a last one over the limit
		code   frame.CloseCode
	}{
		{"at the limit", &Options{ReadLimit: 100}, []frame.Header{bin(true, 100)}, 0},
		{"one over the limit", &Options{ReadLimit: 100}, []frame.Header{bin(true, 101)}, 1009},
		{"fragments at the limit", &Options{ReadLimit: 100}, []frame.Header{bin(false, 60), cont(true, 40)}, 0},
		{"fragments one over", &Options{ReadLimit: 100}, []frame.Header{bin(false, 60), cont(false, 40), cont(true, 1)}, 1009},
		{"sum overflows, limited", &Options{ReadLimit: 100}, []frame.Header{bin(false, 60), cont(true, max64)}, 1009},
		{"sum overflows, no limit", &Options{ReadLimit: -1}, []frame.Header{bin(false, 60), cont(true, max64)}, 1009},
		{"sum overflows, limit near max", &Options{ReadLimit: max64 - 1}, []frame.Header{bin(false, 2), cont(true, max64-2)}, 1009},
		{"2^63-1 at a limit of 2^63-2", &Options{ReadLimit: max64 - 1}, []frame.Header{{Fin: true, Opcode: frame.OpBinary, Length: max64}}, 1009},
		{"many fragments, sum over", &Options{ReadLimit: 1000, MaxFragments: -1}, append(append([]frame.Header{bin(false, 100)}, repeatHeader(cont(false, 100), 9)...), cont(true, 1)), 1009},
	}
	for _, tt := range tests {
		for _, client := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/client=%v", tt.name, client), func(t *testing.T) {
				var script []byte
				for i, h := range tt.frames {
					if i == len(tt.frames)-1 && tt.code != 0 {
						script = append(script, hdrBytes(!client, h)...)
						break
					}
					script = append(script, frameBytes(!client, h, make([]byte, h.Length))...)
				}
				r := readScript(t, client, tt.opts, script)
				if tt.code == 0 {
					if r.err != nil {
						t.Fatalf("ReadMessage = %v, want the message", r.err)
					}
					return
				}
				var pe *frame.ProtocolError
				if !errors.As(r.err, &pe) || pe.Code != tt.code || r.code != tt.code {
					t.Fatalf("ReadMessage = %v, sent close %v; want %v", r.err, r.code, tt.code)
				}
			})
		}
	}
}

func repeatHeader(h frame.Header, n int) []frame.Header {
	hs := make([]frame.Header, n)
	for i := range hs {
		hs[i] = h
	}
	return hs
}

// A flood of empty or one-byte fragments is cut off by MaxFragments (the
// default, 2^17) with 1009, while the heap stays flat: an empty fragment
// costs nothing to keep.
func TestHostileFragmentFlood(t *testing.T) {
	for _, size := range []int{0, 1} {
		t.Run(fmt.Sprintf("%d-byte fragments", size), func(t *testing.T) {
			c, p := newServerUnderTest(t, nil)
			errc := make(chan error, 1)
			go func() { errc <- echo(c) }()
			go func() {
				p.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := p.nc.Write(p.frame(frame.Header{Opcode: frame.OpText}, bytes.Repeat([]byte("a"), size))); err != nil {
					return
				}
				chunk := bytes.Repeat(p.frame(frame.Header{Opcode: frame.OpContinuation}, bytes.Repeat([]byte("a"), size)), 4096)
				for sent := 1; sent <= DefaultMaxFragments; sent += 4096 {
					if _, err := p.nc.Write(chunk); err != nil {
						return
					}
				}
			}()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			if code := p.expectClose(); code != frame.CloseTooBig {
				t.Fatalf("close code %v, want 1009", code)
			}
			p.nc.Close()
			if err := <-errc; !errors.Is(err, ErrTooManyFrags) {
				t.Fatalf("reader error %v, want ErrTooManyFrags", err)
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			// The message itself is 128 KiB for 1-byte fragments.
			if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
				t.Errorf("heap grew by %d bytes during a fragment flood", grew)
			}
		})
	}
}

// A ping flood from a peer that reads slowly: the pongs go out one at a
// time as the peer takes them, the reader is held back by the writes (so
// the flood waits in the peer's socket, not in our memory), data messages
// still get through, and the heap stays bounded.
func TestHostilePingFloodMemory(t *testing.T) {
	c, p := newServerUnderTest(t, nil)
	go echo(c)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ping := p.frame(frame.Header{Fin: true, Opcode: frame.OpPing}, bytes.Repeat([]byte("p"), 125))
		burst := bytes.Repeat(ping, 256)
		for {
			// Whole bursts only: a write cut short by its deadline goes on
			// where it stopped, so the stream stays well framed.
			for b := burst; len(b) > 0; {
				select {
				case <-stop:
					return
				default:
				}
				p.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				n, err := p.nc.Write(b)
				b = b[n:]
				if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
					return
				}
			}
		}
	}()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak uint64
	data, pongs := 0, 0
	done := make(chan error, 1)
	go func() {
		for i := range 20 {
			if err := c.WriteMessage(bg, Binary, []byte{byte(i)}); err != nil {
				done <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		done <- nil
	}()
	deadline := time.Now().Add(10 * time.Second)
	for data < 20 && time.Now().Before(deadline) {
		f := p.mustRead()
		switch f.h.Opcode {
		case frame.OpPong:
			pongs++
			if pongs%4096 == 0 {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
				time.Sleep(10 * time.Millisecond) // read slowly now and then
			}
		case frame.OpBinary:
			data++
		}
	}
	close(stop)
	wg.Wait()
	if data < 20 {
		t.Fatalf("%d of 20 data messages got through %d pongs", data, pongs)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if grew := int64(peak) - int64(before.HeapInuse); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes during a ping flood (%d pongs)", grew, pongs)
	}
	t.Logf("%d pongs, 20 data messages, heap peak +%d KiB", pongs, (int64(peak)-int64(before.HeapInuse))>>10)
}

// A peer that floods pings and never reads the pongs: the reader blocks on
// the pong write, which times out after CloseTimeout and fails the
// connection, instead of queueing pongs in memory. The error is our own
// deadline's, not a CloseError: the peer did not close anything.
func TestHostilePingFloodNeverRead(t *testing.T) {
	c, p := newServerUnderTest(t, &Options{CloseTimeout: 200 * time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- echo(c) }()
	go func() {
		ping := p.frame(frame.Header{Fin: true, Opcode: frame.OpPing}, bytes.Repeat([]byte("p"), 125))
		burst := bytes.Repeat(ping, 256)
		for {
			p.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := p.nc.Write(burst); err != nil {
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) || CloseStatus(err) != 0 {
			t.Fatalf("reader error %v, want the write deadline's error after the pong write timed out", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Conn still open with pongs piling up unread")
	}
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("connection not closed")
	}
}

// Data after the peer's close frame is never delivered, and the connection
// closes; for a server Conn TestCloseHandshake/no_data_after_close checks
// the wire, this checks what the application sees, for both roles.
func TestHostileDataAfterClose(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(fmt.Sprintf("client=%v", client), func(t *testing.T) {
			var c *Conn
			var p *rawPeer
			if client {
				c, p = newClientUnderTest(t, &Options{CloseTimeout: 200 * time.Millisecond})
			} else {
				c, p = newServerUnderTest(t, nil)
			}
			go io.Copy(io.Discard, p.nc)
			var script []byte
			script = append(script, p.frame(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(1000, "bye"))...)
			script = append(script, p.frame(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("late"))...)
			script = append(script, p.frame(frame.Header{Fin: true, Opcode: frame.OpBinary}, []byte("later"))...)
			p.sendRaw(script)
			for range 2 {
				_, msg, err := c.ReadMessage(bg, nil)
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != 1000 || msg != nil && len(msg) > 0 {
					t.Fatalf("ReadMessage = %q, %v; want the peer's close 1000 and no data", msg, err)
				}
			}
			select {
			case <-c.Done():
			case <-time.After(2 * time.Second):
				t.Fatal("connection still open after the close frame")
			}
		})
	}
}

// A peer that never reads: writes fail after WriteTimeout, and the memory a
// writer holds does not grow with what it tries to send.
func TestHostilePeerNeverReads(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(fmt.Sprintf("client=%v", client), func(t *testing.T) {
			opts := &Options{WriteTimeout: 100 * time.Millisecond}
			var c *Conn
			if client {
				c, _ = newClientUnderTest(t, opts)
			} else {
				c, _ = newServerUnderTest(t, opts)
			}
			msg := make([]byte, 64<<10)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			errc := make(chan error, 1)
			go func() {
				for i := 0; ; i++ {
					if err := c.WriteMessage(bg, Binary, msg); err != nil {
						errc <- err
						return
					}
				}
			}()
			select {
			case err := <-errc:
				if !errors.Is(err, errDeadline()) {
					t.Fatalf("write error %v, want a deadline error", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("writer still blocked on a peer that never reads")
			}
			runtime.ReadMemStats(&after)
			// The pipe buffers 256 KiB; the rest must not pile up anywhere.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
				t.Errorf("writing to a stalled peer allocated %d bytes", grew)
			}
			if err := c.WriteMessage(bg, Text, []byte("x")); err == nil {
				t.Fatal("write after the timeout succeeded")
			}
		})
	}
}

// A peer that never answers our close frame (nor closes TCP, nor reads) is
// dropped after CloseTimeout, on both sides.
func TestHostilePeerIgnoresClose(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(fmt.Sprintf("client=%v", client), func(t *testing.T) {
			opts := &Options{CloseTimeout: 150 * time.Millisecond}
			var c *Conn
			var p *rawPeer
			if client {
				c, p = newClientUnderTest(t, opts)
			} else {
				c, p = newServerUnderTest(t, opts)
			}
			start := time.Now()
			if err := c.Close(frame.CloseNormal, ""); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("Close took %v with a 150ms CloseTimeout", d)
			}
			select {
			case <-c.Done():
			default:
				t.Fatal("Close returned with the connection open")
			}
			if code := p.expectClose(); code != frame.CloseNormal {
				t.Fatalf("close code %v", code)
			}
		})
	}
}

// A half-open connection (the peer is gone without a FIN: it neither reads
// nor writes) is detected by keepalive and closed with 1011, on both sides.
// TestKeepaliveDetectsDeadPeer covers a server whose peer still reads.
func TestHostileHalfOpen(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(fmt.Sprintf("client=%v", client), func(t *testing.T) {
			opts := &Options{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond, CloseTimeout: 100 * time.Millisecond}
			var c *Conn
			if client {
				c, _ = newClientUnderTest(t, opts)
			} else {
				c, _ = newServerUnderTest(t, opts)
			}
			errc := make(chan error, 1)
			go func() { errc <- echo(c) }()
			select {
			case <-c.Done():
			case <-time.After(3 * time.Second):
				t.Fatal("half-open connection not detected")
			}
			var pe *frame.ProtocolError
			if err := c.Err(); !errors.As(err, &pe) || pe.Code != frame.CloseInternalError {
				t.Fatalf("Err() = %v, want the keepalive failure (1011)", err)
			}
			select {
			case <-errc:
			case <-time.After(2 * time.Second):
				t.Fatal("reader still blocked")
			}
		})
	}
}

// Decompression bombs through the real handshakes (TestDecompressionBomb
// covers a Conn set up directly): a server from Upgrade and a client from
// Dial, both with a 1 MiB read limit, get a message that inflates past it,
// spread over many small fragments, and fail with 1009.
func TestHostileBombAfterHandshake(t *testing.T) {
	// 16 MiB of zeros: 16 KiB compressed, a complete message that only
	// the read limit stops.
	bomb := compressFrames(t, make([]byte, 16<<20))
	send := func(p *rawPeer) {
		b := p.frame(frame.Header{Rsv: frame.RSV1, Opcode: frame.OpBinary}, bomb[:1])
		for i := 1; i < len(bomb); i += 512 {
			b = append(b, p.frame(frame.Header{Fin: i+512 >= len(bomb), Opcode: frame.OpContinuation}, bomb[i:min(i+512, len(bomb))])...)
		}
		p.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		p.nc.Write(b) // fails once the Conn gives up: fine
	}
	opts := Options{ReadLimit: 1 << 20}
	t.Run("server", func(t *testing.T) {
		a, b := pipe.New()
		go b.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
		c, err := Upgrade(a, &AcceptOptions{Options: opts, Compression: &CompressionOptions{}})
		if err != nil || c.Extensions() == "" {
			t.Fatalf("Upgrade = %v, extensions %q", err, c.Extensions())
		}
		defer c.CloseNow()
		br := bufio.NewReader(b)
		if _, err := handshake.ReadResponse(br, handshake.Limits{}); err != nil {
			t.Fatal(err)
		}
		checkBomb(t, c, &rawPeer{t: t, nc: b, client: true}, send)
	})
	t.Run("client", func(t *testing.T) {
		a, b := pipe.New()
		go fakeServer(b, "permessage-deflate")
		c, err := Dial(bg, "ws://x/", &DialOptions{Options: opts, Compression: &CompressionOptions{}, Proxy: NoProxy,
			NetDialContext: func(context.Context, string, string) (net.Conn, error) { return a, nil }})
		if err != nil || c.Extensions() == "" {
			t.Fatalf("Dial = %v", err)
		}
		defer c.CloseNow()
		checkBomb(t, c, &rawPeer{t: t, nc: b}, send)
	})
}

func checkBomb(t *testing.T, c *Conn, p *rawPeer, send func(*rawPeer)) {
	t.Helper()
	errc := make(chan error, 1)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	go func() { _, _, err := c.ReadMessage(bg, nil); errc <- err }()
	go send(p)
	if code := p.expectClose(); code != frame.CloseTooBig {
		t.Fatalf("close code %v, want 1009", code)
	}
	p.nc.Close()
	var pe *frame.ProtocolError
	if err := <-errc; !errors.As(err, &pe) || pe.Code != frame.CloseTooBig {
		t.Fatalf("read error %v, want 1009", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Fatalf("allocated %d bytes to reject a bomb with a 1 MiB limit", grew)
	}
}

// fakeServer answers one opening handshake on nc with a 101 carrying the
// given Sec-WebSocket-Extensions value (none if ""), then leaves nc to the
// caller.
func fakeServer(nc net.Conn, extensions string) error {
	s := handshake.Server{InsecureSkipOriginCheck: true}
	req, _, err := s.ReadRequest(nc)
	if err != nil {
		return err
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + handshake.AcceptKey(string(req.Get("Sec-WebSocket-Key"))) + "\r\n"
	if extensions != "" {
		resp += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	_, err = nc.Write([]byte(resp + "\r\n"))
	return err
}

// Window bits out of range (RFC 7692 allows 8 to 15): a server declines
// such an offer and goes on without compression; a client fails the
// handshake on such an answer. Through Upgrade and Dial, not just the
// negotiation functions (TestNegotiateServer, TestAcceptClient).
func TestHostileWindowBits(t *testing.T) {
	bad := []string{"0", "7", "16", "255", "08", "1e1", "-9", "15.0", "99999999999999999999"}
	for _, v := range bad {
		for _, param := range []string{"server_max_window_bits", "client_max_window_bits"} {
			t.Run("server/"+param+"="+v, func(t *testing.T) {
				a, b := pipe.New()
				defer b.Close()
				go b.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
					"Sec-WebSocket-Extensions: permessage-deflate; " + param + "=" + v + "\r\n\r\n"))
				c, err := Upgrade(a, &AcceptOptions{Compression: &CompressionOptions{}})
				if err != nil {
					t.Fatalf("Upgrade = %v, want a 101 declining the offer", err)
				}
				defer c.CloseNow()
				if c.Extensions() != "" {
					t.Fatalf("Upgrade accepted %s=%s: %q", param, v, c.Extensions())
				}
				resp, err := handshake.ReadResponse(bufio.NewReader(b), handshake.Limits{})
				if err != nil || resp.Status != 101 || len(resp.Get("Sec-WebSocket-Extensions")) != 0 {
					t.Fatalf("response %+v, %v; want a 101 without extensions", resp, err)
				}
			})
			t.Run("client/"+param+"="+v, func(t *testing.T) {
				a, b := pipe.New()
				defer b.Close()
				go fakeServer(b, "permessage-deflate; "+param+"="+v)
				c, err := Dial(bg, "ws://x/", &DialOptions{Compression: &CompressionOptions{}, Proxy: NoProxy,
					NetDialContext: func(context.Context, string, string) (net.Conn, error) { return a, nil }})
				if err == nil {
					c.CloseNow()
					t.Fatalf("Dial accepted the answer %s=%s", param, v)
				}
			})
		}
	}
}

// handshakeTarget runs a raw request against a server built with opts,
// through Upgrade on a raw listener or Accept behind net/http, and returns
// the HTTP status of the answer (0 if the connection closed without one).
type handshakeTarget struct {
	name string
	url  func(t *testing.T, opts *AcceptOptions) string // host:port
}

var handshakeTargets = []handshakeTarget{
	{"Upgrade", func(t *testing.T, opts *AcceptOptions) string {
		ln := listen(t)
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					if c, err := Upgrade(nc, opts); err == nil {
						c.CloseNow()
					}
				}()
			}
		}()
		return ln.Addr().String()
	}},
	{"Accept", func(t *testing.T, opts *AcceptOptions) string {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := Accept(w, r, opts); err == nil {
				c.CloseNow()
			}
		}))
		// net/http reads the request; bounding that is its job.
		if opts != nil {
			s.Config.ReadHeaderTimeout = opts.HandshakeTimeout
		}
		s.Start()
		t.Cleanup(s.Close)
		return s.Listener.Addr().String()
	}},
}

// roundTrip writes req to addr and returns the response status, or 0 and
// the error if none came.
func roundTrip(addr string, req []byte, timeout time.Duration) (int, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	go nc.Write(req) // the server may answer before reading it all
	resp, err := handshake.ReadResponse(bufio.NewReaderSize(nc, 4096), handshake.Limits{MaxHeaderBytes: 1 << 20, MaxHeaders: 1000, MaxLineBytes: 1 << 20})
	if err != nil {
		return 0, err
	}
	return resp.Status, nil
}

func upgradeRequest(fields ...string) []byte {
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// Oversized and malformed handshakes through both server paths: thousands
// of header fields, a 1 MiB field, non-ASCII bytes in tokens. Each gets
// its 4xx (431 or 400) and no connection; net/http answers some of them
// itself on the Accept path.
func TestHostileHandshakes(t *testing.T) {
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("X-F%d: v", i)
	}
	tests := []struct {
		name   string
		req    []byte
		status int // both paths
	}{
		{"valid", upgradeRequest(), 101},
		{"5000 header fields", upgradeRequest(many...), 431},
		{"101 header fields", upgradeRequest(many[:101]...), 431},
		{"1 MiB header value", upgradeRequest("X-Big: " + strings.Repeat("a", 1<<20)), 431},
		{"1 MiB protocol list", upgradeRequest("Sec-WebSocket-Protocol: " + strings.Repeat("a,", 1<<19)), 431},
		{"non-ASCII protocol token", upgradeRequest("Sec-WebSocket-Protocol: caf\xc3\xa9"), 400},
		{"non-ASCII extension token", upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; caf\xc3\xa9"), 400},
		{"non-ASCII extension name", upgradeRequest("Sec-WebSocket-Extensions: \xffdeflate"), 400},
		{"non-ASCII in quoted extension value", upgradeRequest("Sec-WebSocket-Extensions: x; a=\"\xc3\xa9\""), 400},
		{"non-ASCII header name", upgradeRequest("X-Caf\xc3\xa9: 1"), 400},
		{"NUL in protocol", upgradeRequest("Sec-WebSocket-Protocol: a\x00b"), 400},
		{"non-ASCII key", []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ\xc3\xa9=\r\nSec-WebSocket-Version: 13\r\n\r\n"), 400},
	}
	for _, ht := range handshakeTargets {
		addr := ht.url(t, &AcceptOptions{HandshakeTimeout: 5 * time.Second})
		for _, tt := range tests {
			t.Run(ht.name+"/"+tt.name, func(t *testing.T) {
				status, err := roundTrip(addr, tt.req, 5*time.Second)
				if status != tt.status {
					t.Fatalf("status %d (%v), want %d", status, err, tt.status)
				}
			})
		}
	}
}

// A handshake trickled a byte at a time is dropped when the handshake
// timeout (an absolute deadline, not an idle timeout) runs out, on both
// paths: the raw path by HandshakeTimeout, net/http by ReadHeaderTimeout.
func TestHostileHandshakeTrickle(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, ht := range handshakeTargets {
		t.Run(ht.name, func(t *testing.T) {
			addr := ht.url(t, &AcceptOptions{HandshakeTimeout: timeout})
			req := upgradeRequest()
			// The server's clock starts when it accepts, which may come
			// before Dial returns here: start before dialling.
			start := time.Now()
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			gone := make(chan time.Duration, 1)
			go func() {
				io.Copy(io.Discard, nc) // until the server closes
				gone <- time.Since(start)
			}()
			// A byte every 50 ms: every read finishes fast, so only a
			// deadline on the whole request stops it. The whole request
			// would take about 7 s.
			for i := range req {
				select {
				case d := <-gone:
					if d < timeout-10*time.Millisecond || d > timeout+time.Second {
						t.Fatalf("dropped after %v, want about %v", d, timeout)
					}
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := nc.Write(req[i : i+1]); err != nil {
					break
				}
				if time.Since(start) > 3*time.Second {
					t.Fatalf("still connected after %v with a %v handshake timeout", time.Since(start), timeout)
				}
			}
			select {
			case d := <-gone:
				t.Fatalf("the trickled request went through; closed after %v", d)
			case <-time.After(time.Second):
				t.Fatal("the trickled request went through")
			}
		})
	}
}

// Header values shaped to make a backtracking parser slow, in
// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions, through both server
// paths: the time for 8n bytes stays near 8 times that for n (a quadratic
// parser would take 64 times). The limits are raised so the values reach
// the parsers.
func TestHostileHandshakeLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison runs in the full test run")
	}
	shapes := []struct {
		name, field, head, unit, tail string
	}{
		{"protocol commas", "Sec-WebSocket-Protocol", "", ",", ""},
		{"protocol spaces", "Sec-WebSocket-Protocol", "a", " ", "b"},
		{"protocol long token", "Sec-WebSocket-Protocol", "", "a", "@"},
		{"extension empty elements", "Sec-WebSocket-Extensions", "", ", ", "x"},
		{"extension semicolons", "Sec-WebSocket-Extensions", "x", "; ", ""},
		{"extension unterminated quote", "Sec-WebSocket-Extensions", `x; a="`, `\b`, ""},
		{"extension long quoted", "Sec-WebSocket-Extensions", `x; a="`, "b", `"; c`},
		{"extension OWS", "Sec-WebSocket-Extensions", "permessage-deflate", " \t", ";x"},
		{"extension params", "Sec-WebSocket-Extensions", "permessage-deflate", "; a=1", ""},
	}
	lim := handshake.Limits{MaxHeaderBytes: 2 << 20, MaxHeaders: 100, MaxLineBytes: 2 << 20}
	for _, ht := range handshakeTargets {
		addr := ht.url(t, &AcceptOptions{HandshakeTimeout: 10 * time.Second, Limits: lim, Compression: &CompressionOptions{},
			Subprotocols: []string{"chat"}})
		for _, sh := range shapes {
			t.Run(ht.name+"/"+sh.name, func(t *testing.T) {
				measure := func(n int) time.Duration {
					value := sh.head + strings.Repeat(sh.unit, n/len(sh.unit)) + sh.tail
					req := upgradeRequest(sh.field + ": " + value)
					best := time.Duration(1 << 62)
					for range 3 {
						start := cputime.Used() // the server's parsing, not the wait for a core
						if status, err := roundTrip(addr, req, 10*time.Second); status == 0 {
							t.Fatalf("no answer: %v", err)
						}
						best = min(best, cputime.Used()-start)
					}
					return best
				}
				small, large := measure(64<<10), measure(512<<10)
				t.Logf("64 KiB: %v, 512 KiB: %v", small, large)
				if large > 32*small && large > 250*time.Millisecond {
					t.Errorf("512 KiB took %v, 64 KiB %v: not linear", large, small)
				}
			})
		}
	}
}

// Cross-site WebSocket hijacking: a browser page from a foreign origin is
// refused with 403 by default, on both server paths; OriginPatterns and
// InsecureSkipOriginCheck let it in.
func TestHostileCrossSiteHijacking(t *testing.T) {
	policies := []struct {
		name string
		opts *AcceptOptions
		// status for each origin below
		foreign, allowed, same, none, null int
	}{
		{"default", nil, 403, 403, 101, 101, 403},
		{"zero options", &AcceptOptions{}, 403, 403, 101, 101, 403},
		{"OriginPatterns", &AcceptOptions{OriginPatterns: []string{"*.good.example"}}, 403, 101, 101, 101, 403},
		{"InsecureSkipOriginCheck", &AcceptOptions{InsecureSkipOriginCheck: true}, 101, 101, 101, 101, 101},
	}
	for _, ht := range handshakeTargets {
		for _, pol := range policies {
			addr := ht.url(t, pol.opts)
			origins := []struct {
				name, origin string
				want         int
			}{
				{"foreign", "Origin: https://evil.example", pol.foreign},
				{"allowed", "Origin: https://app.good.example", pol.allowed},
				{"same", "Origin: http://127.0.0.1", pol.same},
				{"none", "", pol.none},
				{"null", "Origin: null", pol.null},
			}
			for _, o := range origins {
				t.Run(ht.name+"/"+pol.name+"/"+o.name, func(t *testing.T) {
					var fields []string
					if o.origin != "" {
						fields = append(fields, o.origin)
					}
					status, err := roundTrip(addr, upgradeRequest(fields...), 5*time.Second)
					if status != o.want {
						t.Fatalf("status %d (%v), want %d", status, err, o.want)
					}
				})
			}
		}
	}
}

// A peer that sends more after its close frame (7.1.6 sends a ping) and is
// slow to read what the server sends must still get the server's close
// frame and a clean end of stream. Closing a socket with unread data makes
// the kernel send a reset and drop the unsent tail, close frame included;
// the server half-closes and lingers instead. Real TCP, since that is where
// the reset happens; a megabyte after the close frame makes sure the server
// has not read it all when it closes.
func TestServerCloseNotLostToReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { served <- echo(Server(nc, nil, &Options{ReadLimit: 8 << 20})) }()
		}
	}()
	const size = 4 << 20
	for round := range 3 {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		p := &rawPeer{t: t, nc: nc, client: true}
		var script []byte
		script = append(script, p.frame(frame.Header{Fin: true, Opcode: frame.OpText}, bytes.Repeat([]byte("BAsd7&jh23"), size/10))...)
		script = append(script, p.frame(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(1000, ""))...)
		script = append(script, p.frame(frame.Header{Fin: true, Opcode: frame.OpPing}, nil)...)
		script = append(script, p.frame(frame.Header{Fin: true, Opcode: frame.OpBinary}, make([]byte, 1<<20))...)
		wrote := make(chan error, 1)
		go func() {
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err := nc.Write(script)
			wrote <- err
		}()
		// Let the server fill its send buffer and read everything we sent
		// before we start reading.
		time.Sleep(200 * time.Millisecond)
		f := p.mustRead()
		if f.h.Opcode != frame.OpText || len(f.payload) != size/10*10 {
			t.Fatalf("round %d: got %v frame of %d bytes, want the echo", round, f.h.Opcode, len(f.payload))
		}
		if code := p.expectClose(); code != 1000 {
			t.Fatalf("round %d: close code %d, want 1000", round, code)
		}
		p.expectEOF()
		if err := <-wrote; err != nil {
			t.Fatalf("round %d: write: %v", round, err)
		}
		nc.Close()
		var ce *CloseError
		if err := <-served; !errors.As(err, &ce) || ce.Code != 1000 {
			t.Fatalf("round %d: server ended with %v, want the peer's close 1000", round, err)
		}
	}
}
