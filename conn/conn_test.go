//go:build !js

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

var sizes = []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20}

func TestEchoOverPipe(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	go echo(srv)
	var buf []byte
	for _, n := range sizes {
		for _, typ := range []MessageType{Text, Binary} {
			t.Run(fmt.Sprintf("%v/%d", typ, n), func(t *testing.T) {
				msg := pattern(n)
				if err := cli.WriteMessage(bg, typ, msg); err != nil {
					t.Fatal(err)
				}
				gt, got, err := cli.ReadMessage(bg, buf)
				if err != nil {
					t.Fatal(err)
				}
				if gt != typ {
					t.Fatalf("type %v, want %v", gt, typ)
				}
				mustEqual(t, "echo", got, msg)
				buf = got
			})
		}
	}
	if err := cli.Close(frame.CloseNormal, "done"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not close")
	}
}

func TestFragmentedWriteAndStreamingRead(t *testing.T) {
	srv, cli := Pipe(nil, &Options{FragmentSize: 1000, WriteBufferSize: 4096})
	defer srv.CloseNow()
	defer cli.CloseNow()
	msg := pattern(100_000)
	errc := make(chan error, 2)
	go func() { errc <- cli.WriteMessage(bg, Binary, msg) }()
	go func() {
		w, err := cli.NextWriter(bg, Text)
		if err != nil {
			errc <- err
			return
		}
		for i := 0; i < len(msg); i += 777 {
			if _, err := w.Write(msg[i:min(i+777, len(msg))]); err != nil {
				errc <- err
				return
			}
		}
		errc <- w.Close()
	}()
	seen := map[MessageType]bool{}
	for range 2 {
		typ, r, err := srv.NextReader(bg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, typ.String()+" message", got, msg)
		seen[typ] = true
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if !seen[Text] || !seen[Binary] {
		t.Fatalf("saw %v", seen)
	}
}

// The raw peer sends fragments; the Conn must reassemble them and answer
// pings that arrive between them.
func TestReassemblyWithInterleavedPing(t *testing.T) {
	c, p := newServerUnderTest(t, nil)
	go echo(c)
	p.send(frame.Header{Opcode: frame.OpText}, []byte("fragment1"))
	p.send(frame.Header{Fin: true, Opcode: frame.OpPing}, []byte("ping payload"))
	p.send(frame.Header{Opcode: frame.OpContinuation}, []byte("fragment2"))
	p.send(frame.Header{Fin: true, Opcode: frame.OpContinuation}, []byte("fragment3"))
	f := p.mustRead()
	if f.h.Opcode != frame.OpPong || string(f.payload) != "ping payload" || f.h.Masked {
		t.Fatalf("got %+v %q, want unmasked pong", f.h, f.payload)
	}
	f = p.mustRead()
	if f.h.Opcode != frame.OpText || !f.h.Fin || string(f.payload) != "fragment1fragment2fragment3" {
		t.Fatalf("got %+v %q", f.h, f.payload)
	}
	p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(1000, ""))
	if code := p.expectClose(); code != 1000 {
		t.Fatalf("close code %v, want 1000", code)
	}
	p.expectEOF()
}

// Every protocol violation fails the connection with its close code.
func TestProtocolViolations(t *testing.T) {
	txt := frame.Header{Fin: true, Opcode: frame.OpText}
	tests := []struct {
		name  string
		send  func(p *rawPeer)
		code  frame.CloseCode
		opts  *Options
		echos int // messages echoed before the failure
	}{
		{"reserved opcode 3", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: 3}, nil) }, 1002, nil, 0},
		{"reserved opcode 11", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: 11}, []byte("x")) }, 1002, nil, 0},
		{"rsv1 without extension", func(p *rawPeer) { p.send(frame.Header{Fin: true, Rsv: 4, Opcode: frame.OpText}, []byte("x")) }, 1002, nil, 0},
		{"valid then rsv2", func(p *rawPeer) {
			p.send(txt, []byte("Hello"))
			p.send(frame.Header{Fin: true, Rsv: 2, Opcode: frame.OpText}, []byte("x"))
		}, 1002, nil, 1},
		{"ping 126 bytes", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: frame.OpPing}, make([]byte, 126)) }, 1002, nil, 0},
		{"fragmented ping", func(p *rawPeer) { p.send(frame.Header{Opcode: frame.OpPing}, []byte("a")) }, 1002, nil, 0},
		{"orphan continuation", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: frame.OpContinuation}, []byte("a")) }, 1002, nil, 0},
		{"text inside text", func(p *rawPeer) {
			p.send(frame.Header{Opcode: frame.OpText}, []byte("a"))
			p.send(txt, []byte("b"))
		}, 1002, nil, 0},
		{"unmasked client frame", func(p *rawPeer) {
			p.sendRaw(frame.AppendFrame(nil, txt, []byte("hi")))
		}, 1002, nil, 0},
		{"non-minimal length", func(p *rawPeer) {
			p.sendRaw([]byte{0x81, 0xfe, 0x00, 0x02, 1, 2, 3, 4, 'h', 'i'})
		}, 1002, nil, 0},
		{"64-bit length msb", func(p *rawPeer) {
			p.sendRaw([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
		}, 1002, nil, 0},
		{"invalid utf-8", func(p *rawPeer) { p.send(txt, []byte("\xce\xba\xe1\xbd\xb9\xed\xa0\x80")) }, 1007, nil, 0},
		{"truncated utf-8 at end", func(p *rawPeer) { p.send(txt, []byte("ab\xce")) }, 1007, nil, 0},
		{"close 1 byte", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, []byte{3}) }, 1002, nil, 0},
		{"close code 1005", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, []byte{0x03, 0xed}) }, 1002, nil, 0},
		{"close code 5000", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, []byte{0x13, 0x88}) }, 1002, nil, 0},
		{"close reason invalid utf-8", func(p *rawPeer) {
			p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, append(closePayload(1000, ""), 0xff))
		}, 1007, nil, 0},
		{"over read limit", func(p *rawPeer) { p.send(frame.Header{Fin: true, Opcode: frame.OpBinary}, make([]byte, 101)) }, 1009, &Options{ReadLimit: 100}, 0},
		{"over read limit in fragments", func(p *rawPeer) {
			p.send(frame.Header{Opcode: frame.OpBinary}, make([]byte, 60))
			p.send(frame.Header{Fin: true, Opcode: frame.OpContinuation}, make([]byte, 41))
		}, 1009, &Options{ReadLimit: 100}, 0},
		{"too many fragments", func(p *rawPeer) {
			for range 4 {
				p.send(frame.Header{Opcode: frame.OpContinuation}, nil)
			}
		}, 1002, &Options{MaxFragments: 3}, 0},
		{"too many fragments after start", func(p *rawPeer) {
			p.send(frame.Header{Opcode: frame.OpBinary}, nil)
			for range 3 {
				p.send(frame.Header{Opcode: frame.OpContinuation}, nil)
			}
		}, 1009, &Options{MaxFragments: 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := newServerUnderTest(t, tt.opts)
			errc := make(chan error, 1)
			go func() { errc <- echo(c) }()
			tt.send(p)
			for range tt.echos {
				if f := p.mustRead(); f.h.Opcode != frame.OpText {
					t.Fatalf("expected an echo, got %v", f.h.Opcode)
				}
			}
			if code := p.expectClose(); code != tt.code {
				t.Fatalf("close code %v, want %v", code, tt.code)
			}
			p.nc.Close() // as a peer that answers by dropping TCP
			err := <-errc
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.code {
				t.Fatalf("reader error %v, want a protocol error with code %v", err, tt.code)
			}
			// The same error, forever after.
			if _, _, err2 := c.ReadMessage(bg, nil); err2 != err {
				t.Fatalf("second read error %v, want %v", err2, err)
			}
			if err2 := c.WriteMessage(bg, Text, []byte("x")); err2 != err {
				t.Fatalf("write after failure: %v, want %v", err2, err)
			}
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("connection not closed after failure")
			}
		})
	}
}

// Invalid UTF-8 fails the connection at the byte that makes it invalid, even
// in the middle of a frame whose payload has not fully arrived.
func TestUTF8FailFastMidFrame(t *testing.T) {
	c, p := newServerUnderTest(t, nil)
	errc := make(chan error, 1)
	go func() { errc <- echo(c) }()
	// Header announcing 21 bytes, then the payload in pieces.
	key := [4]byte{1, 2, 3, 4}
	h := frame.Header{Opcode: frame.OpText, Masked: true, Mask: key, Length: 21}
	payload := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited")
	masked := append([]byte(nil), payload...)
	frame.Mask(key, 0, masked)
	p.sendRaw(frame.AppendHeader(nil, h))
	p.sendRaw(masked[:11])
	select {
	case err := <-errc:
		t.Fatalf("failed before the invalid byte: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.sendRaw(masked[11:15]) // f4 90 80 80: over U+10FFFF, invalid at 0x90
	if code := p.expectClose(); code != 1007 {
		t.Fatalf("close code %v, want 1007", code)
	}
	p.nc.Close()
	if err := <-errc; !errors.Is(err, frame.ErrInvalidUTF8) {
		t.Fatalf("reader error %v", err)
	}
}

// A frame header announcing more than the read limit fails with 1009 before
// any payload is read or buffer allocated.
func TestHugeLengthRejectedBeforeAllocation(t *testing.T) {
	c, p := newServerUnderTest(t, nil)
	errc := make(chan error, 1)
	go func() { errc <- echo(c) }()
	p.sendRaw(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 40}))
	if code := p.expectClose(); code != 1009 {
		t.Fatalf("close code %v, want 1009", code)
	}
	p.nc.Close()
	err := <-errc
	if !strings.Contains(err.Error(), "ReadLimit") {
		t.Fatalf("error %q does not say how to raise the limit", err)
	}
}

func TestPingPong(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	go echo(srv)
	go echo(cli)
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	for i := range 10 {
		if err := cli.Ping(ctx, []byte(fmt.Sprint("p", i))); err != nil {
			t.Fatal(err)
		}
		if err := srv.Ping(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A ping nobody answers times out with the context.
	c, p := newClientUnderTest(t, nil)
	go echo(c)
	short, cancel2 := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel2()
	go p.read()
	if err := c.Ping(short, []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping without pong = %v, want deadline exceeded", err)
	}
}

func TestCloseHandshake(t *testing.T) {
	t.Run("client closes, server reading", func(t *testing.T) {
		srv, cli := Pipe(nil, nil)
		errc := make(chan error, 1)
		go func() { errc <- echo(srv) }()
		go echo(cli)
		if err := cli.Close(frame.CloseGoingAway, "bye"); err != nil {
			t.Fatal(err)
		}
		err := <-errc
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != 1001 || ce.Reason != "bye" {
			t.Fatalf("server read error %v, want CloseError 1001 bye", err)
		}
		<-srv.Done()
		<-cli.Done()
	})
	t.Run("server closes, nobody reading", func(t *testing.T) {
		srv, cli := Pipe(nil, nil)
		errc := make(chan error, 1)
		go func() { errc <- echo(cli) }()
		start := time.Now()
		if err := srv.Close(4000, ""); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("close took %v", d)
		}
		if code := CloseStatus(<-errc); code != 4000 {
			t.Fatalf("client saw close %v, want 4000", code)
		}
		if err := srv.WriteMessage(bg, Text, nil); err != ErrClosed {
			t.Fatalf("write after Close = %v, want ErrClosed", err)
		}
	})
	t.Run("peer never answers", func(t *testing.T) {
		c, p := newServerUnderTest(t, &Options{CloseTimeout: 100 * time.Millisecond})
		start := time.Now()
		c.Close(1000, "")
		if d := time.Since(start); d > time.Second {
			t.Fatalf("close took %v with a 100ms close timeout", d)
		}
		if code := p.expectClose(); code != 1000 {
			t.Fatalf("close code %v", code)
		}
		p.expectEOF()
	})
	t.Run("peer close echoed", func(t *testing.T) {
		for _, code := range []frame.CloseCode{1000, 1001, 1003, 3000, 4999, frame.CloseNoStatus} {
			c, p := newServerUnderTest(t, nil)
			go echo(c)
			p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(code, ""))
			f := p.mustRead()
			got, _, err := frame.ParseClose(f.payload)
			if f.h.Opcode != frame.OpClose || err != nil || got != code {
				t.Fatalf("sent close %v, got %v %v %v", code, f.h.Opcode, got, err)
			}
			p.expectEOF() // the server closes TCP first
		}
	})
	t.Run("client waits for server to close TCP", func(t *testing.T) {
		c, p := newClientUnderTest(t, &Options{CloseTimeout: 2 * time.Second})
		errc := make(chan error, 1)
		go func() { errc <- echo(c) }()
		p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(1000, ""))
		if code := p.expectClose(); code != 1000 {
			t.Fatalf("close code %v", code)
		}
		select {
		case <-c.Done():
			t.Fatal("client closed TCP before the server")
		case <-time.After(100 * time.Millisecond):
		}
		p.nc.Close()
		<-errc
		select {
		case <-c.Done():
		case <-time.After(time.Second):
			t.Fatal("client did not close after the server")
		}
	})
	t.Run("no data after close", func(t *testing.T) {
		c, p := newServerUnderTest(t, nil)
		go echo(c)
		p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(1000, ""))
		p.send(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("late"))
		p.send(frame.Header{Fin: true, Opcode: frame.OpPing}, nil)
		if code := p.expectClose(); code != 1000 {
			t.Fatalf("close code %v", code)
		}
		p.expectEOF()
	})
}

func TestCloseNowUnblocks(t *testing.T) {
	srv, cli := Pipe(nil, nil)
	errc := make(chan error, 1)
	go func() { _, _, err := srv.ReadMessage(bg, nil); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	srv.CloseNow()
	if err := <-errc; err != ErrClosed {
		t.Fatalf("read after CloseNow = %v, want ErrClosed", err)
	}
	if _, _, err := cli.ReadMessage(bg, nil); CloseStatus(err) != frame.CloseAbnormal {
		t.Fatalf("peer read = %v, want 1006", err)
	}
}

// A read stopped by its context between messages returns ctx.Err() as it
// is, not a CloseError, and leaves the Conn usable; inside a message it
// fails the connection with a close frame (1008), never a silent drop.
func TestReadContext(t *testing.T) {
	t.Run("between messages", func(t *testing.T) {
		srv, cli := Pipe(nil, nil)
		defer srv.CloseNow()
		defer cli.CloseNow()
		for _, cancelled := range []bool{false, true} {
			ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
			if cancelled {
				cancel()
			}
			_, _, err := srv.ReadMessage(ctx, nil)
			cancel()
			want := context.DeadlineExceeded
			if cancelled {
				want = context.Canceled
			}
			if !errors.Is(err, want) || CloseStatus(err) != 0 || srv.Err() != nil {
				t.Fatalf("ReadMessage = %v (CloseStatus %v, Err() %v), want %v as it is and the Conn open", err, CloseStatus(err), srv.Err(), want)
			}
		}
		// A ping and a message sent since arrive: the next read goes on.
		go cli.Ping(bg, []byte("p"))
		go cli.WriteMessage(bg, Text, []byte("hi"))
		if _, msg, err := srv.ReadMessage(bg, nil); err != nil || string(msg) != "hi" {
			t.Fatalf("ReadMessage after a cancelled read = %q, %v", msg, err)
		}
		// A context that does not fire leaves the connection usable too.
		ctx2, cancel2 := context.WithCancel(bg)
		go cli.WriteMessage(bg, Text, []byte("again"))
		if _, msg, err := srv.ReadMessage(ctx2, nil); err != nil || string(msg) != "again" {
			t.Fatalf("ReadMessage = %q, %v", msg, err)
		}
		cancel2()
	})
	t.Run("inside a message", func(t *testing.T) {
		c, p := newServerUnderTest(t, nil)
		p.send(frame.Header{Opcode: frame.OpText}, []byte("first half, "))
		ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
		defer cancel()
		_, _, err := c.ReadMessage(ctx, nil)
		if !errors.Is(err, context.DeadlineExceeded) || CloseStatus(err) != 0 {
			t.Fatalf("ReadMessage = %v, want the context's error as it is", err)
		}
		if code := p.expectClose(); code != frame.ClosePolicyViolation {
			t.Fatalf("peer got close %v, want 1008", code)
		}
		if _, _, err2 := c.ReadMessage(bg, nil); err2 != err {
			t.Fatalf("later read = %v, want the same error", err2)
		}
	})
}

// A peer that stops reading cannot block writers past WriteTimeout.
func TestWriteTimeout(t *testing.T) {
	c, p := newServerUnderTest(t, &Options{WriteTimeout: 50 * time.Millisecond})
	_ = p
	big := make([]byte, 1<<20)
	start := time.Now()
	var err error
	for range 10 {
		if err = c.WriteMessage(bg, Binary, big); err != nil {
			break
		}
	}
	if !errors.Is(err, errDeadline()) {
		t.Fatalf("write to a peer that never reads = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	// Other writers are not blocked forever either.
	if err := c.WriteMessage(bg, Text, []byte("x")); err == nil {
		t.Fatal("write after a timed-out write succeeded")
	}
}

func TestConcurrentWritersReaderAndClose(t *testing.T) {
	srv, cli := Pipe(nil, &Options{FragmentSize: 100})
	go echo(srv)
	var wg sync.WaitGroup
	const writers, perWriter = 8, 50
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				msg := []byte(fmt.Sprintf("w%d-%d-%s", w, i, strings.Repeat("x", i*7)))
				if i%3 == 0 {
					nw, err := cli.NextWriter(bg, Text)
					if err != nil {
						return
					}
					nw.Write(msg[:len(msg)/2])
					nw.Write(msg[len(msg)/2:])
					if nw.Close() != nil {
						return
					}
				} else if cli.WriteMessage(bg, Text, msg) != nil {
					return
				}
				if i%10 == 0 {
					ctx, cancel := context.WithTimeout(bg, time.Second)
					cli.Ping(ctx, nil)
					cancel()
				}
			}
		}()
	}
	got := make(chan int)
	go func() {
		n := 0
		var buf []byte
		for {
			_, msg, err := cli.ReadMessage(bg, buf)
			if err != nil {
				got <- n
				return
			}
			if !strings.HasPrefix(string(msg), "w") {
				t.Errorf("corrupt echo %q", msg)
			}
			buf = msg
			n++
		}
	}()
	wg.Wait()
	time.Sleep(50 * time.Millisecond)
	cli.Close(1000, "")
	n := <-got
	if n == 0 || n > writers*perWriter {
		t.Fatalf("read %d echoes", n)
	}
}

func errDeadline() error { return osErrDeadlineExceeded }

// Errors say who ended the connection: a CloseError only for the peer's
// close frame or a lost connection; our own context or deadline as it is,
// with CloseStatus 0; the read limit as ErrMessageTooBig.
func TestErrorsSayWhoEndedIt(t *testing.T) {
	t.Run("peer close frame", func(t *testing.T) {
		c, p := newServerUnderTest(t, nil)
		p.send(frame.Header{Fin: true, Opcode: frame.OpClose}, closePayload(4001, "bye"))
		_, _, err := c.ReadMessage(bg, nil)
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
			t.Fatalf("ReadMessage = %v, want CloseError 4001 bye", err)
		}
	})
	t.Run("connection lost", func(t *testing.T) {
		c, p := newServerUnderTest(t, nil)
		p.nc.Close()
		_, _, err := c.ReadMessage(bg, nil)
		if CloseStatus(err) != frame.CloseAbnormal {
			t.Fatalf("ReadMessage = %v, want 1006", err)
		}
	})
	t.Run("read limit", func(t *testing.T) {
		c, p := newServerUnderTest(t, &Options{ReadLimit: 10})
		p.send(frame.Header{Fin: true, Opcode: frame.OpBinary}, make([]byte, 11))
		_, _, err := c.ReadMessage(bg, nil)
		var pe *frame.ProtocolError
		if !errors.Is(err, ErrMessageTooBig) || !errors.As(err, &pe) || pe.Code != frame.CloseTooBig || CloseStatus(err) != 0 {
			t.Fatalf("ReadMessage = %v, want ErrMessageTooBig with code 1009", err)
		}
		f := p.mustRead()
		code, reason, _ := frame.ParseClose(f.payload)
		if code != frame.CloseTooBig || !strings.Contains(string(reason), "limit of 10 bytes") {
			t.Fatalf("close frame %v %q, want 1009 naming the limit", code, reason)
		}
	})
	t.Run("write context", func(t *testing.T) {
		c, _ := newServerUnderTest(t, nil) // the peer never reads
		ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
		defer cancel()
		var err error
		for range 100 {
			if err = c.WriteMessage(ctx, Binary, make([]byte, 64<<10)); err != nil {
				break
			}
		}
		if !errors.Is(err, context.DeadlineExceeded) || CloseStatus(err) != 0 {
			t.Fatalf("WriteMessage = %v (CloseStatus %v), want the context's error as it is", err, CloseStatus(err))
		}
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) || CloseStatus(err) != 0 {
			t.Fatalf("Err() = %v, want the context's error", err)
		}
	})
	t.Run("read deadline between messages", func(t *testing.T) {
		c, p := newServerUnderTest(t, nil)
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, _, err := c.ReadMessage(bg, nil)
		if !errors.Is(err, os.ErrDeadlineExceeded) || CloseStatus(err) != 0 {
			t.Fatalf("ReadMessage = %v, want the deadline's error as it is", err)
		}
		c.SetReadDeadline(time.Time{})
		p.send(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("later"))
		if _, msg, err := c.ReadMessage(bg, nil); err != nil || string(msg) != "later" {
			t.Fatalf("ReadMessage after the deadline = %q, %v", msg, err)
		}
	})
}
