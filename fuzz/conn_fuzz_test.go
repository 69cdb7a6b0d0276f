package fuzz

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/internal/pipe"
)

// connSeeds are byte streams a peer might send: valid traffic and the
// attack classes of the regression tests, as a client would frame them
// (masked) or a server (unmasked).
func connSeeds(masked bool) [][]byte {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	f := func(fin bool, rsv byte, op frame.Opcode, p string) []byte {
		return frame.AppendFrame(nil, frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Mask: key}, []byte(p))
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	hdr := func(h frame.Header) []byte {
		h.Masked, h.Mask = masked, key
		return frame.AppendHeader(nil, h)
	}
	return [][]byte{
		f(true, 0, frame.OpText, "Hello"),
		cat(f(false, 0, frame.OpText, "frag1"), f(true, 0, frame.OpPing, "p"), f(true, 0, frame.OpContinuation, "frag2")),
		cat(f(true, 0, frame.OpBinary, "\x00\xff"), f(true, 0, frame.OpClose, "\x03\xe8bye")),
		f(true, 0, frame.OpText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
		f(true, 4, frame.OpText, "rsv1"),
		f(true, 0, 3, "reserved"),
		f(true, 0, frame.OpContinuation, "orphan"),
		hdr(frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 1 << 40}),
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4},           // 64-bit length, MSB set
		{0x81, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'}, // non-minimal
		cat(f(false, 0, frame.OpText, ""), f(false, 0, frame.OpContinuation, ""), f(false, 0, frame.OpContinuation, ""), f(true, 0, frame.OpContinuation, "")),
		f(true, 0, frame.OpPing, string(make([]byte, 126))),
		f(true, 0, frame.OpClose, "\x03"),
		f(true, 0, frame.OpClose, "\x13\x88"),
		cat(f(true, 0, frame.OpClose, "\x03\xe8"), f(true, 0, frame.OpText, "after close")),
		f(true, 4, frame.OpText, "\xf2\x48\xcd\xc9\xc9\x07\x00"), // "Hello" deflated
		f(true, 4, frame.OpBinary, "\xff\xff\xff"),
	}
}

// fuzzConn feeds b to a Conn as everything its peer sends, then ends the
// stream, and checks the Conn's reading: no panic, no message over the
// limit, text always valid UTF-8, and an end that is either the peer's
// valid close frame, a protocol error with a close code, or EOF (1006).
func fuzzConn(t *testing.T, b []byte, client, deflate bool) {
	const limit = 64 << 10
	a, peer := pipe.New()
	opts := &conn.Options{ReadLimit: limit, MaxFragments: 1000, CloseTimeout: 50 * time.Millisecond}
	var c *conn.Conn
	switch {
	case deflate:
		// The real handshake, with permessage-deflate negotiated.
		go func() {
			peer.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"))
		}()
		var err error
		c, err = conn.Upgrade(a, &conn.AcceptOptions{Options: *opts, Compression: &conn.CompressionOptions{}})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		if c.Extensions() == "" {
			t.Fatalf("handshake did not negotiate permessage-deflate")
		}
	case client:
		c = conn.Client(a, nil, opts)
	default:
		c = conn.Server(a, nil, opts)
	}
	defer c.CloseNow()
	// The peer drains whatever the Conn writes (pongs, close frames).
	go io.Copy(io.Discard, peer)
	go func() {
		peer.SetWriteDeadline(time.Now().Add(2 * time.Second))
		peer.Write(b)
		peer.CloseWrite()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var buf []byte
	for i := 0; ; i++ {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			var pe *frame.ProtocolError
			var ce *conn.CloseError
			switch {
			case errors.As(err, &pe):
				if !pe.Code.Valid() {
					t.Fatalf("protocol error with close code %v", pe.Code)
				}
			case errors.As(err, &ce):
				if ce.Code != frame.CloseAbnormal && ce.Code != frame.CloseNoStatus && !ce.Code.Valid() {
					t.Fatalf("peer close with invalid code %v accepted", ce.Code)
				}
			case errors.Is(err, context.DeadlineExceeded):
				t.Fatal("Conn did not finish reading a finite stream")
			default:
				t.Fatalf("unexpected error %T %v", err, err)
			}
			return
		}
		if len(msg) > limit {
			t.Fatalf("message of %d bytes over the %d limit", len(msg), limit)
		}
		if typ == conn.Text && !frame.ValidUTF8(msg) {
			t.Fatalf("invalid UTF-8 text delivered: % x", msg)
		}
		if i > len(b) {
			t.Fatalf("%d messages from %d bytes", i, len(b))
		}
		buf = msg
	}
}

// FuzzServerConn feeds arbitrary bytes, as if from a client, to a server
// Conn.
func FuzzServerConn(f *testing.F) {
	for _, s := range connSeeds(true) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzConn(t, b, false, false) })
}

// FuzzServerConnDeflate does the same with permessage-deflate negotiated
// through the real handshake, so RSV1 messages go through the inflater.
func FuzzServerConnDeflate(f *testing.F) {
	for _, s := range connSeeds(true) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzConn(t, b, false, true) })
}

// FuzzClientConn feeds arbitrary bytes, as if from a server, to a client
// Conn.
func FuzzClientConn(f *testing.F) {
	for _, s := range connSeeds(false) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzConn(t, b, true, false) })
}
