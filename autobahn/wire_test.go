package autobahn

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// TestFragment checks the suite's fragmentation loop (CASES.md, Section A.4),
// including the extra empty final frame when the length is a multiple of
// the fragment size.
func TestFragment(t *testing.T) {
	tests := []struct {
		name      string
		n, size   int
		frames    int
		lastSize  int
		firstSize int
	}{
		{"29 bytes by 1 (6.2.3)", 29, 1, 30, 0, 1},
		{"11 bytes by 1 (6.2.4)", 11, 1, 12, 0, 1},
		{"20 bytes by 1 (6.3.2)", 20, 1, 21, 0, 1},
		{"64 KiB by 1300 (10.1.1)", 65536, 1300, 51, 536, 1300},
		{"4 MiB by 64 (9.3.1)", 4 << 20, 64, 65537, 0, 64},
		{"4 MiB by 1 MiB (9.3.8)", 4 << 20, 1 << 20, 5, 0, 1 << 20},
		{"4 MiB by 4 MiB (9.3.9)", 4 << 20, 4 << 20, 1, 4 << 20, 4 << 20},
		{"shorter than the size", 10, 64, 1, 10, 10},
		{"empty", 0, 64, 1, 0, 0},
		{"no fragmentation", 100, 0, 1, 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fragment(tt.n, tt.size)
			if got := len(b) - 1; got != tt.frames {
				t.Fatalf("fragment(%d, %d) gives %d frames, want %d", tt.n, tt.size, got, tt.frames)
			}
			if b[0] != 0 || b[len(b)-1] != tt.n || !slices.IsSorted(b) {
				t.Errorf("fragment(%d, %d) bounds %v… do not cover the payload", tt.n, tt.size, b[:min(5, len(b))])
			}
			if got := b[len(b)-1] - b[len(b)-2]; got != tt.lastSize {
				t.Errorf("last frame has %d bytes, want %d", got, tt.lastSize)
			}
			if got := b[1] - b[0]; got != tt.firstSize {
				t.Errorf("first frame has %d bytes, want %d", got, tt.firstSize)
			}
		})
	}
}

// pipeRunner returns a runner writing to one end of a TCP loopback pair and
// a reader on the other end.
func pipeRunner(t *testing.T, client bool) (*runner, *bufio.Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	log := newWireLog(time.Now(), 1000)
	r := &runner{s: &session{nc: a, client: client, mask: client}, o: (*Options)(nil).withDefaults(), log: log, w: newWireWriter(a, log, 10*time.Microsecond)}
	t.Cleanup(func() {
		a.Close()
		b.Close()
		r.w.stop()
	})
	return r, bufio.NewReader(b)
}

func readFrames(t *testing.T, br *bufio.Reader, n int) ([]frame.Header, [][]byte) {
	t.Helper()
	var hs []frame.Header
	var ps [][]byte
	var hb [frame.MaxHeaderSize]byte
	for range n {
		h, err := frame.ReadHeader(br, &hb)
		if err != nil {
			t.Fatalf("ReadHeader: %v", err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			t.Fatal(err)
		}
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		hs, ps = append(hs, h), append(ps, p)
	}
	return hs, ps
}

// TestSendMessageFrames checks the frames of a fragmented message on the
// wire, as a client (masked, fresh keys) and as a server, and RSV1 on the
// first frame only for a compressed message.
func TestSendMessageFrames(t *testing.T) {
	for _, client := range []bool{true, false} {
		r, br := pipeRunner(t, client)
		payload := []byte("Hello-µ@ßöäüàá-UTF-8!!")
		r.sendMessage(frame.OpText, payload, 1, frame.RSV1)
		hs, ps := readFrames(t, br, len(payload)+1)
		var got []byte
		keys := map[[4]byte]bool{}
		for i, h := range hs {
			wantOp, wantRsv := frame.OpContinuation, byte(0)
			if i == 0 {
				wantOp, wantRsv = frame.OpText, frame.RSV1
			}
			if h.Opcode != wantOp || h.Rsv != wantRsv || h.Fin != (i == len(hs)-1) || h.Masked != client {
				t.Errorf("client=%v frame %d: %+v", client, i, h)
			}
			keys[h.Mask] = true
			got = append(got, ps[i]...)
		}
		if len(ps[len(ps)-1]) != 0 {
			t.Errorf("last frame has %d bytes, want an empty final frame", len(ps[len(ps)-1]))
		}
		if !bytes.Equal(got, payload) {
			t.Errorf("client=%v: reassembled %q", client, got)
		}
		if client && len(keys) < len(hs)/2 {
			t.Errorf("only %d distinct masking keys for %d frames", len(keys), len(hs))
		}
	}
}

// TestChoppedWrite checks that a chopped frame arrives intact, in pieces.
func TestChoppedWrite(t *testing.T) {
	r, br := pipeRunner(t, true)
	payload := bytes.Repeat([]byte{0xfe}, 125)
	r.sendFrame(frame.OpPing, true, 0, payload, 1, false, "")
	hs, ps := readFrames(t, br, 1)
	if hs[0].Opcode != frame.OpPing || !bytes.Equal(ps[0], payload) {
		t.Errorf("chopped ping arrived as %+v % x", hs[0], ps[0][:8])
	}
	// The wire log has the frame, then each one-byte write, as octets
	// written on their own; the statistics count the writes by size.
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, stats := r.log.snapshot()
		const size = 2 + 4 + 125 // header, masking key, payload
		if stats.TxOctets == size || time.Now().After(deadline) {
			if len(entries) != size+1 || entries[0].Kind != WireTxFrame || entries[0].Chop != 1 || entries[0].Opcode != 9 || stats.TxFrames["9"] != 1 || stats.TxOctetChunks["1"] != size {
				t.Fatalf("wire log %d entries, first %+v, stats %+v", len(entries), entries[0], stats)
			}
			for _, e := range entries[1:] {
				if e.Kind != WireTxOctets || e.Length != 1 || !e.Sync {
					t.Fatalf("entry %+v, want a synchronous write of one octet", e)
				}
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWireEntryJSON checks the suite's tuples of the wire log, events and
// the payload text: UTF-8 as text, cut after 64 bytes with " ...",
// anything else as 0x and hex.
func TestWireEntryJSON(t *testing.T) {
	long := bytes.Repeat([]byte("BAsd7&jh23"), 7)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"rx octets", WireEntry{Kind: WireRxOctets, Length: 8, Data: []byte{0x88, 0x82, 0x98, 0x7f, 0x23, 0xcb, 0x9b, 0x97}}, `["RO",[8,"8882987f23cb9b97"]]`},
		{"tx octets, long", WireEntry{Kind: WireTxOctets, Length: 262154, Data: long[:64], Sync: true}, `["TO",[262154,"` + hex.EncodeToString(long[:64]) + ` ..."],true]`},
		{"tx frame", WireEntry{Kind: WireTxFrame, Length: 2, Data: []byte{0x03, 0xe8}, Opcode: 8, Fin: true}, `["TF",[2,"0x03e8"],8,true,0,null,null,null,false]`},
		{"tx frame, masked and chopped", WireEntry{Kind: WireTxFrame, Length: 12, Data: []byte("Hello World!"), Opcode: 1, Fin: true, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Chop: 1, Sync: false},
			`["TF",[12,"Hello World!"],1,true,0,"01020304",null,1,false]`},
		{"rx frame", WireEntry{Kind: WireRxFrame, Length: 70, Data: long[:64], Opcode: 1, Fin: true, Masked: true, Mask: [4]byte{0x98, 0x7f, 0x23, 0xcb}},
			`["RF",[70,"` + string(long[:64]) + ` ..."],1,true,0,true,"987f23cb"]`},
		{"kill timer", WireEntry{Kind: WireKill, Seconds: 1}, `["KL",1]`},
		{"kill", WireEntry{Kind: WireKillFire}, `["KLE"]`},
		{"pause", WireEntry{Kind: WirePause, Seconds: 0.5, Tag: "A"}, `["CT",0.5,"A"]`},
		{"pause end", WireEntry{Kind: WirePauseEnd, Tag: "A"}, `["CTE","A"]`},
		{"message", newEvent(expectedEventMessage, false, []byte("Hello"), false), `["message","Hello",false]`},
		{"binary message", newEvent(expectedEventMessage, true, []byte{0xfe, 0xff}, false), `["message","0xfeff",true]`},
		{"pong", newEvent(expectedEventPong, false, nil, false), `["pong",""]`},
		{"timeout", Event{Type: expectedEventTimeout, Tag: "B"}, `["timeout","B"]`},
		{"expected", ExpectedEvent{Type: expectedEventMessage, Payload: &Payload{Hex: "48656c6c6f"}}, `["message","Hello",false]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := marshalJSON(tt.v)
			if err != nil || string(b) != tt.want {
				t.Errorf("marshalJSON = %s, %v; want %s", b, err, tt.want)
			}
		})
	}
}

// writeBrokenConn is a connection whose sending side has been refused by
// the peer (as an HTTP/2 request body is after the server's RST_STREAM)
// while what the peer sent is still to be read.
type writeBrokenConn struct {
	net.Conn // nil: only the methods below are used
	unread   []byte
	closed   chan struct{}
}

func (c *writeBrokenConn) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
func (c *writeBrokenConn) Read(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if len(c.unread) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.unread)
	c.unread = c.unread[n:]
	return n, nil
}
func (c *writeBrokenConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

// A failed write stops the writer but leaves the connection open, so that
// the testee's last frames (its close frame, typically) can still be read;
// a close asked for afterwards happens at once.
func TestWriterFailureKeepsReadSide(t *testing.T) {
	closeFrame := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpClose}, frame.AppendClose(nil, 1002, ""))
	nc := &writeBrokenConn{unread: closeFrame, closed: make(chan struct{})}
	w := newWireWriter(nc, newWireLog(time.Now(), 10), 0)
	w.enqueue(writeItem{b: []byte("hello"), chop: 1})
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		failed := w.failed
		w.mu.Unlock()
		if failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer did not notice the failed write")
		}
		time.Sleep(time.Millisecond)
	}
	got, err := io.ReadAll(nc)
	if err != nil || !bytes.Equal(got, closeFrame) {
		t.Fatalf("after a failed write, read % x, %v; want the close frame % x", got, err, closeFrame)
	}
	w.enqueue(writeItem{closeConn: true})
	select {
	case <-nc.closed:
	default:
		t.Fatal("a close asked for after a failed write did not close the connection")
	}
	w.stop()
}
