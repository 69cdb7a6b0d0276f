//go:build !js

package conn

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

// rawUpgradeRequest is a client's opening handshake followed, in the same
// bytes, by a masked text frame holding first.
func rawUpgradeRequest(target, first string) []byte {
	hc := handshake.Client{Host: "example.com", Target: target, Protocols: []string{"chat"}}
	req, _ := hc.AppendRequest(nil, handshake.NewKey())
	return frame.AppendFrame(req, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{9, 8, 7, 6}}, []byte(first))
}

// Upgrade borrows the request's buffer and parsed form for the handshake
// only: a Conn keeps nothing of them, so the next Upgrade, which may reuse
// them, cannot change what the first Conn reads or reports.
func TestUpgradeKeepsNothingBorrowed(t *testing.T) {
	const n = 3
	conns := make([]*Conn, n)
	for i := range n {
		cli, srv := net.Pipe()
		t.Cleanup(func() { cli.Close(); srv.Close() })
		go func() {
			cli.Write(rawUpgradeRequest("/"+strings.Repeat("x", i*100), "first frame "+string(rune('a'+i))))
			io.Copy(io.Discard, cli) // the 101, then whatever follows
		}()
		c, err := Upgrade(srv, &AcceptOptions{Subprotocols: []string{"chat"}, HandshakeTimeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("Upgrade %d: %v", i, err)
		}
		conns[i] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, c := range conns {
		if got := c.Subprotocol(); got != "chat" {
			t.Errorf("conn %d: Subprotocol() = %q, want chat", i, got)
		}
		_, msg, err := c.ReadMessage(ctx, nil)
		if want := "first frame " + string(rune('a'+i)); err != nil || string(msg) != want {
			t.Errorf("conn %d: ReadMessage = %q, %v, want %q", i, msg, err, want)
		}
		c.CloseNow()
	}
}

// replayPeer is a net.Conn that reads in, then blocks until closed, and
// discards what is written.
type replayPeer struct {
	net.Conn
	in []byte
}

func (p *replayPeer) Read(b []byte) (int, error) {
	if len(p.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.in)
	p.in = p.in[n:]
	return n, nil
}
func (p *replayPeer) Write(b []byte) (int, error)      { return len(b), nil }
func (p *replayPeer) SetDeadline(time.Time) error      { return nil }
func (p *replayPeer) SetReadDeadline(time.Time) error  { return nil }
func (p *replayPeer) SetWriteDeadline(time.Time) error { return nil }
func (p *replayPeer) Close() error                     { return nil }

// TestUpgradeAllocs bounds the allocations of an Upgrade that succeeds:
// the Conn and what it cannot do without, nothing for the request.
func TestUpgradeAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts")
	}
	in := rawUpgradeRequest("/chat", "hello")
	opts := &AcceptOptions{Subprotocols: []string{"chat"}}
	p := &replayPeer{}
	allocs := testing.AllocsPerRun(100, func() {
		p.in = in
		c, err := Upgrade(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		_ = c
	})
	const want = 3 // the Conn and its two channels
	if allocs > want {
		t.Errorf("Upgrade: %v allocations, want at most %d", allocs, want)
	}
}
