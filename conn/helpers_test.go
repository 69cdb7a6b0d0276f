//go:build !js

package conn

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/internal/pipe"
)

// rawPeer speaks frames directly, to test a Conn against exact bytes.
type rawPeer struct {
	t      testing.TB
	nc     net.Conn
	client bool // mask what we send
}

// newServerUnderTest returns a server Conn and a raw client peer.
func newServerUnderTest(t testing.TB, opts *Options) (*Conn, *rawPeer) {
	a, b := pipe.New()
	c := Server(a, nil, opts)
	t.Cleanup(func() { c.CloseNow(); b.Close() })
	return c, &rawPeer{t: t, nc: b, client: true}
}

// newClientUnderTest returns a client Conn and a raw server peer.
func newClientUnderTest(t testing.TB, opts *Options) (*Conn, *rawPeer) {
	a, b := pipe.New()
	c := Client(a, nil, opts)
	t.Cleanup(func() { c.CloseNow(); b.Close() })
	return c, &rawPeer{t: t, nc: b, client: false}
}

func (p *rawPeer) frame(h frame.Header, payload []byte) []byte {
	if p.client {
		h.Masked = true
		h.Mask = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	}
	return frame.AppendFrame(nil, h, payload)
}

func (p *rawPeer) send(h frame.Header, payload []byte) {
	p.t.Helper()
	p.sendRaw(p.frame(h, payload))
}

func (p *rawPeer) sendRaw(b []byte) {
	p.t.Helper()
	p.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("raw peer write: %v", err)
	}
}

type rawFrame struct {
	h       frame.Header
	payload []byte
}

// read reads one frame, failing the test after a timeout.
func (p *rawPeer) read() (rawFrame, error) {
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hb [frame.MaxHeaderSize]byte
	h, err := frame.ReadHeader(p.nc, &hb)
	if err != nil {
		return rawFrame{}, err
	}
	if h.Length > 64<<20 {
		p.t.Fatalf("raw peer: frame of %d bytes", h.Length)
	}
	b := make([]byte, h.Length)
	if _, err := io.ReadFull(p.nc, b); err != nil {
		return rawFrame{}, err
	}
	if h.Masked {
		frame.Mask(h.Mask, 0, b)
	}
	return rawFrame{h, b}, nil
}

func (p *rawPeer) mustRead() rawFrame {
	p.t.Helper()
	f, err := p.read()
	if err != nil {
		p.t.Fatalf("raw peer read: %v", err)
	}
	return f
}

// expectClose reads frames until a close frame and returns its code; frames
// before it must not be data or pongs unless allowed.
func (p *rawPeer) expectClose() frame.CloseCode {
	p.t.Helper()
	for {
		f := p.mustRead()
		if f.h.Opcode == frame.OpClose {
			code, _, err := frame.ParseClose(f.payload)
			if err != nil {
				p.t.Fatalf("close frame payload % x: %v", f.payload, err)
			}
			return code
		}
		p.t.Fatalf("got %v frame % x before the close frame", f.h.Opcode, f.payload)
	}
}

// expectEOF checks that the Conn closes the connection soon.
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [64]byte
	for {
		_, err := p.nc.Read(b[:])
		if err == io.EOF || err == io.ErrClosedPipe {
			return
		}
		if err != nil {
			p.t.Fatalf("expected EOF, got %v", err)
		}
	}
}

func closePayload(code frame.CloseCode, reason string) []byte {
	return frame.AppendClose(nil, code, reason)
}

var bg = context.Background()

// echo reads messages from c and writes them back until an error.
func echo(c *Conn) error {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(bg, buf)
		if err != nil {
			return err
		}
		if err := c.WriteMessage(bg, typ, msg); err != nil {
			return err
		}
		buf = msg
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func mustEqual(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes, want %d (first difference at %d)", what, len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
