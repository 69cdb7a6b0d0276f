//go:build !js

package conn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/deflate/deflatetest"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

func offers(t *testing.T, header string) *handshake.Upgrade {
	t.Helper()
	exts, err := handshake.ParseExtensions(header)
	if err != nil {
		t.Fatalf("ParseExtensions(%q): %v", header, err)
	}
	return &handshake.Upgrade{Offers: exts}
}

func TestNegotiateServer(t *testing.T) {
	tests := []struct {
		name   string
		opts   CompressionOptions
		offer  string
		answer string // "" = declined
	}{
		{"plain", CompressionOptions{}, "permessage-deflate", "permessage-deflate"},
		{"chrome", CompressionOptions{}, "permessage-deflate; client_max_window_bits", "permessage-deflate"},
		{"firefox", CompressionOptions{}, "permessage-deflate", "permessage-deflate"},
		{"client asks server no takeover", CompressionOptions{}, "permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover"},
		{"client hints own no takeover", CompressionOptions{}, "permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover"},
		{"server window asked", CompressionOptions{}, "permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10"},
		{"server window smaller than asked", CompressionOptions{ServerMaxWindowBits: 9}, "permessage-deflate; server_max_window_bits=12", "permessage-deflate; server_max_window_bits=9"},
		{"own small window not announced", CompressionOptions{ServerMaxWindowBits: 9}, "permessage-deflate", "permessage-deflate"},
		{"client window limited by us", CompressionOptions{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10"},
		{"client window offered value", CompressionOptions{}, "permessage-deflate; client_max_window_bits=11", "permessage-deflate; client_max_window_bits=11"},
		{"client window not offered cannot be asked", CompressionOptions{ClientMaxWindowBits: 10}, "permessage-deflate", "permessage-deflate"},
		{"server options no takeover", CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, "permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"unknown parameter declined", CompressionOptions{}, "permessage-deflate; foo", ""},
		{"duplicate declined", CompressionOptions{}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", ""},
		{"bits 7 declined", CompressionOptions{}, "permessage-deflate; server_max_window_bits=7", ""},
		{"bits 16 declined", CompressionOptions{}, "permessage-deflate; client_max_window_bits=16", ""},
		{"leading zero declined", CompressionOptions{}, "permessage-deflate; server_max_window_bits=010", ""},
		{"plus sign declined", CompressionOptions{}, "permessage-deflate; server_max_window_bits=+9", ""},
		{"server bits without value declined", CompressionOptions{}, "permessage-deflate; server_max_window_bits", ""},
		{"no_context_takeover with value declined", CompressionOptions{}, "permessage-deflate; client_no_context_takeover=1", ""},
		{"first bad, second good", CompressionOptions{}, "permessage-deflate; server_max_window_bits=99, permessage-deflate; server_max_window_bits=12", "permessage-deflate; server_max_window_bits=12"},
		{"other extension ignored", CompressionOptions{}, "x-webkit-deflate-frame, permessage-deflate", "permessage-deflate"},
		{"autobahn 13.7", CompressionOptions{}, "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, permessage-deflate; client_no_context_takeover; client_max_window_bits",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := offers(t, tt.offer)
			p, err := negotiateServer(&tt.opts, up)
			if err != nil {
				t.Fatal(err)
			}
			if (p == nil) != (tt.answer == "") || up.Extensions != tt.answer {
				t.Fatalf("offer %q: answer %q (params %+v), want %q", tt.offer, up.Extensions, p, tt.answer)
			}
			if p == nil {
				return
			}
			// The answer must be acceptable to our own client had it made
			// that offer.
			if _, err := handshake.ParseExtensions(up.Extensions); err != nil {
				t.Fatalf("answer %q does not parse: %v", up.Extensions, err)
			}
		})
	}
	if p, _ := negotiateServer(nil, offers(t, "permessage-deflate")); p != nil {
		t.Fatal("nil options accepted compression")
	}
}

func TestAcceptClient(t *testing.T) {
	tests := []struct {
		name   string
		opts   CompressionOptions
		answer string
		ok     bool
	}{
		{"plain", CompressionOptions{}, "permessage-deflate", true},
		{"server no takeover", CompressionOptions{}, "permessage-deflate; server_no_context_takeover", true},
		{"client no takeover asked by server", CompressionOptions{}, "permessage-deflate; client_no_context_takeover", true},
		{"client bits", CompressionOptions{}, "permessage-deflate; client_max_window_bits=9", true},
		{"client bits without value", CompressionOptions{}, "permessage-deflate; client_max_window_bits", false},
		{"client bits over our offer", CompressionOptions{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=12", false},
		{"server bits over our offer", CompressionOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=12", false},
		{"server bits within offer", CompressionOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=9", true},
		{"server drops our no takeover", CompressionOptions{ServerNoContextTakeover: true}, "permessage-deflate", false},
		{"unknown parameter", CompressionOptions{}, "permessage-deflate; x=1", false},
		{"two answers", CompressionOptions{}, "permessage-deflate, permessage-deflate", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exts, err := handshake.ParseExtensions(tt.answer)
			if err != nil {
				t.Fatal(err)
			}
			_, err = acceptClient(&tt.opts, exts)
			if (err == nil) != tt.ok {
				t.Fatalf("answer %q to %q: err %v, want ok=%v", tt.answer, offerClient(&tt.opts), err, tt.ok)
			}
		})
	}
}

// compressedPipe returns a server and client with permessage-deflate
// negotiated through the real handshake code paths.
func compressedPipe(t testing.TB, sopts, copts CompressionOptions, so, co *Options) (*Conn, *Conn) {
	t.Helper()
	exts, err := handshake.ParseExtensions(offerClient(&copts))
	if err != nil {
		t.Fatal(err)
	}
	up := &handshake.Upgrade{Offers: exts}
	sp, err := negotiateServer(&sopts, up)
	if err != nil || sp == nil {
		t.Fatalf("negotiation: %v %v", sp, err)
	}
	answer, _ := handshake.ParseExtensions(up.Extensions)
	cp, err := acceptClient(&copts, answer)
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := Pipe(so, co)
	srv.setCompression(sp, up.Extensions)
	cli.setCompression(cp, up.Extensions)
	t.Cleanup(func() { srv.CloseNow(); cli.CloseNow() })
	return srv, cli
}

func jsonLike(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","tags":["a","b"],"score":%d.%d},`, rng.IntN(1e6), rng.IntN(1000), rng.IntN(100), rng.IntN(10))
	}
	return b.Bytes()[:n]
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestCompressedEcho(t *testing.T) {
	configs := []struct {
		name       string
		sopts, cop CompressionOptions
	}{
		{"takeover both ways", CompressionOptions{}, CompressionOptions{}},
		{"no takeover", CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, CompressionOptions{}},
		{"small windows", CompressionOptions{ClientMaxWindowBits: 9}, CompressionOptions{ServerMaxWindowBits: 8}},
		{"level 9 threshold off", CompressionOptions{Level: 9, Threshold: -1}, CompressionOptions{Level: 9, Threshold: -1}},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			srv, cli := compressedPipe(t, cfg.sopts, cfg.cop, &Options{FragmentSize: 3000}, nil)
			go echo(srv)
			var buf []byte
			for i, n := range []int{0, 1, 63, 64, 100, 1000, 40000, 300000} {
				for _, typ := range []MessageType{Text, Binary} {
					msg := jsonLike(n, uint64(i))
					if typ == Binary && i%2 == 0 {
						msg = randomBytes(n, uint64(i))
					}
					if i%3 == 0 {
						w, _ := cli.NextWriter(bg, typ)
						for j := 0; j < len(msg); j += 7000 {
							w.Write(msg[j:min(j+7000, len(msg))])
						}
						if err := w.Close(); err != nil {
							t.Fatal(err)
						}
					} else if err := cli.WriteMessage(bg, typ, msg); err != nil {
						t.Fatal(err)
					}
					var got []byte
					var gt MessageType
					var err error
					if i%2 == 0 {
						gt, got, err = cli.ReadMessage(bg, buf)
						buf = got
					} else {
						var r io.Reader
						gt, r, err = cli.NextReader(bg)
						if err == nil {
							got, err = io.ReadAll(r)
						}
					}
					if err != nil {
						t.Fatalf("%v %d bytes: %v", typ, n, err)
					}
					if gt != typ {
						t.Fatalf("type %v, want %v", gt, typ)
					}
					mustEqual(t, fmt.Sprintf("%v %d bytes", typ, n), got, msg)
				}
			}
		})
	}
}

// On the wire: RSV1 on the first frame of a compressed message only, never
// on control frames, never on messages under the threshold; and the
// compressor never refers back further than the negotiated window.
func TestCompressedWire(t *testing.T) {
	for _, bits := range []int{8, 9, 12, 15} {
		for _, noCtx := range []bool{false, true} {
			t.Run(fmt.Sprintf("bits=%d/noctx=%v", bits, noCtx), func(t *testing.T) {
				p := &pmdParams{Agreement: deflate.Agreement{ServerWindowBits: bits, ClientWindowBits: 15, ServerNoContextTakeover: noCtx}, threshold: 64}
				c, peer := newServerUnderTest(t, &Options{FragmentSize: 1000})
				c.setCompression(p, "permessage-deflate")
				inf := &deflatetest.Inflater{Window: 1 << bits, Takeover: !noCtx}
				go echo(c) // a reader, to process the pongs
				go func() {
					for i := range 30 {
						msg := jsonLike(5000+i*100, uint64(i%3))
						c.WriteMessage(bg, Text, msg)
						c.Ping(bg, []byte("p"))
					}
					c.WriteMessage(bg, Text, []byte("short"))
				}()
				for i := range 30 {
					want := jsonLike(5000+i*100, uint64(i%3))
					var payload []byte
					first := true
					for {
						f := peer.mustRead()
						if f.h.Opcode == frame.OpPing {
							if f.h.Rsv != 0 {
								t.Fatal("ping with RSV bits")
							}
							peer.send(frame.Header{Fin: true, Opcode: frame.OpPong}, f.payload)
							continue
						}
						if first != (f.h.Rsv == frame.RSV1) || (!first && f.h.Rsv != 0) {
							t.Fatalf("message %d: frame (first=%v) has RSV %d", i, first, f.h.Rsv)
						}
						first = false
						payload = append(payload, f.payload...)
						if f.h.Fin {
							break
						}
					}
					got, err := inf.Message(payload)
					if err != nil {
						t.Fatalf("message %d does not inflate within a %d-byte window: %v", i, 1<<bits, err)
					}
					mustEqual(t, "inflated", got, want)
				}
				f := peer.mustRead()
				for f.h.Opcode == frame.OpPing {
					peer.send(frame.Header{Fin: true, Opcode: frame.OpPong}, f.payload)
					f = peer.mustRead()
				}
				if f.h.Rsv != 0 || string(f.payload) != "short" {
					t.Fatalf("short message: RSV %d payload %q, want uncompressed", f.h.Rsv, f.payload)
				}
			})
		}
	}
}

// compressFrames returns the payload of a compressed message, as a peer
// would send it.
func compressFrames(t testing.TB, msg []byte) []byte {
	comp, err := deflate.NewCompressor(deflate.CompressorOptions{Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	return comp.AppendMessage(nil, msg)
}

func TestDecompressionBomb(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(fmt.Sprintf("client=%v", client), func(t *testing.T) {
			var c *Conn
			var peer *rawPeer
			opts := &Options{ReadLimit: 1 << 20}
			if client {
				c, peer = newClientUnderTest(t, opts)
			} else {
				c, peer = newServerUnderTest(t, opts)
			}
			c.setCompression(&pmdParams{Agreement: deflate.Agreement{ServerWindowBits: 15, ClientWindowBits: 15}, threshold: 64}, "permessage-deflate")
			// 64 MiB of zeros compress to about 64 KiB; send the first few
			// KiB of it (which already inflate far past the limit).
			bomb := compressFrames(t, make([]byte, 64<<20))
			if len(bomb) > 128<<10 {
				t.Fatalf("bomb is %d bytes", len(bomb))
			}
			errc := make(chan error, 1)
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			go func() { _, _, err := c.ReadMessage(bg, nil); errc <- err }()
			peer.send(frame.Header{Fin: true, Rsv: frame.RSV1, Opcode: frame.OpBinary}, bomb[:8<<10])
			if code := peer.expectClose(); code != 1009 {
				t.Fatalf("close code %v, want 1009", code)
			}
			peer.nc.Close()
			err := <-errc
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) || pe.Code != 1009 {
				t.Fatalf("read error %v, want 1009", err)
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
				t.Fatalf("allocated %d bytes to reject a bomb with a 1 MiB limit", grew)
			}
		})
	}
}

func TestCorruptCompressedData(t *testing.T) {
	c, peer := newServerUnderTest(t, nil)
	c.setCompression(&pmdParams{Agreement: deflate.Agreement{ServerWindowBits: 15, ClientWindowBits: 15}, threshold: 64}, "permessage-deflate")
	errc := make(chan error, 1)
	go func() { errc <- echo(c) }()
	peer.send(frame.Header{Fin: true, Rsv: frame.RSV1, Opcode: frame.OpText}, []byte{0xff, 0xff, 0xff, 0xff, 0x00})
	if code := peer.expectClose(); code != 1007 {
		t.Fatalf("close code %v, want 1007", code)
	}
	peer.nc.Close()
	<-errc
	// RSV1 without negotiation is a protocol error (1002): covered in
	// TestProtocolViolations. RSV1 on a continuation frame is one too.
	c2, peer2 := newServerUnderTest(t, nil)
	c2.setCompression(&pmdParams{Agreement: deflate.Agreement{ServerWindowBits: 15, ClientWindowBits: 15}}, "permessage-deflate")
	go echo(c2)
	payload := compressFrames(t, []byte("hello hello hello"))
	peer2.send(frame.Header{Rsv: frame.RSV1, Opcode: frame.OpText}, payload[:3])
	peer2.send(frame.Header{Fin: true, Rsv: frame.RSV1, Opcode: frame.OpContinuation}, payload[3:])
	if code := peer2.expectClose(); code != 1002 {
		t.Fatalf("close code %v, want 1002 for RSV1 on a continuation", code)
	}
}

// TestIdleMemoryCompressed reports the heap an idle connection holds after a
// compressed exchange, with and without context takeover.
func TestIdleMemoryCompressed(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement runs in the full test run")
	}
	for _, noCtx := range []bool{false, true} {
		const n = 200
		opts := CompressionOptions{ServerNoContextTakeover: noCtx, ClientNoContextTakeover: noCtx}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		conns := make([]*Conn, 0, 2*n)
		msg := jsonLike(20000, 7)
		for range n {
			srv, cli := compressedPipe(t, opts, opts, nil, nil)
			done := make(chan struct{})
			go func() {
				_, m, _ := srv.ReadMessage(bg, nil)
				srv.WriteMessage(bg, Text, m)
				close(done)
			}()
			cli.WriteMessage(bg, Text, msg)
			cli.ReadMessage(bg, nil)
			<-done
			conns = append(conns, srv, cli)
		}
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perConn := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(len(conns))
		t.Logf("context takeover=%v: %d bytes of heap per idle compressed Conn (plus its in-memory pipe)", !noCtx, perConn)
		limit := int64(128 << 10)
		if noCtx {
			limit = 8 << 10
		}
		if perConn > limit {
			t.Errorf("context takeover=%v: %d bytes per idle Conn, want at most %d", !noCtx, perConn, limit)
		}
		runtime.KeepAlive(conns)
		for _, c := range conns {
			c.CloseNow()
		}
	}
}

// Uncompressed sends one message without compression on a compressed
// connection, whichever method sends it: RSV1 clear and the payload as it
// is on the wire, and the compressor's context left alone, so the
// compressed messages around it still inflate.
func TestUncompressedFlag(t *testing.T) {
	for _, noCtx := range []bool{false, true} {
		t.Run(fmt.Sprint("noctx=", noCtx), func(t *testing.T) {
			p := &pmdParams{Agreement: deflate.Agreement{ServerWindowBits: 15, ClientWindowBits: 15, ServerNoContextTakeover: noCtx}, threshold: 64}
			c, peer := newServerUnderTest(t, nil)
			c.setCompression(p, "permessage-deflate")
			inf := &deflatetest.Inflater{Window: 1 << 15, Takeover: !noCtx}
			msg := func(i int) []byte { return jsonLike(2000+i, uint64(i)) }
			sends := []struct {
				name string
				send func(typ MessageType, p []byte) error
			}{
				{"WriteMessage", func(typ MessageType, p []byte) error { return c.WriteMessage(bg, typ, p) }},
				{"QueueMessage", func(typ MessageType, p []byte) error {
					if err := c.QueueMessage(typ, p); err != nil {
						return err
					}
					return c.Flush(bg)
				}},
				{"NextWriter", func(typ MessageType, p []byte) error {
					w, err := c.NextWriter(bg, typ)
					if err != nil {
						return err
					}
					w.Write(p)
					return w.Close()
				}},
				{"WritePrepared", func(typ MessageType, p []byte) error {
					pm, err := NewPreparedMessage(typ, p)
					if err != nil {
						return err
					}
					return c.WritePrepared(bg, pm)
				}},
				{"QueuePrepared", func(typ MessageType, p []byte) error {
					pm, err := NewPreparedMessage(typ, p)
					if err != nil {
						return err
					}
					if err := c.QueuePrepared(pm); err != nil {
						return err
					}
					return c.Flush(bg)
				}},
			}
			i := 0
			for _, s := range sends {
				for _, uncompressed := range []bool{true, false} {
					typ := Text
					if uncompressed {
						typ |= Uncompressed
					}
					want := msg(i)
					i++
					go func() {
						if err := s.send(typ, want); err != nil {
							t.Errorf("%s(%v): %v", s.name, typ, err)
						}
					}()
					f := peer.mustRead()
					if !f.h.Fin || f.h.Opcode != frame.OpText {
						t.Fatalf("%s(%v): frame %+v", s.name, typ, f.h)
					}
					got := f.payload
					if uncompressed {
						if f.h.Rsv != 0 {
							t.Fatalf("%s(%v): RSV %d, want none", s.name, typ, f.h.Rsv)
						}
					} else {
						if f.h.Rsv != frame.RSV1 {
							t.Fatalf("%s(%v): RSV %d, want RSV1", s.name, typ, f.h.Rsv)
						}
						var err error
						if got, err = inf.Message(f.payload); err != nil {
							t.Fatalf("%s(%v): does not inflate after an uncompressed message: %v", s.name, typ, err)
						}
					}
					mustEqual(t, s.name, got, want)
				}
			}
		})
	}
	if s := (Binary | Uncompressed).String(); s != "binary, uncompressed" {
		t.Errorf("String() = %q", s)
	}
	if _, err := NewPreparedMessage(Text|Binary|Uncompressed, nil); err == nil {
		t.Error("NewPreparedMessage accepted a bad type")
	}
}
