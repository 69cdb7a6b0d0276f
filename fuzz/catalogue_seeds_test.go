package fuzz

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wirelevel/ws/autobahn"
	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/frame"
)

// catalogueStream returns the bytes the conformance fuzzer sends in case c
// (sections 1 to 7 of autobahn's catalogue): its frames, messages, streamed
// frames and close frames, masked with key if masked. Pauses, timers and
// chopping do not change the bytes and are left out.
func catalogueStream(c *autobahn.Case, masked bool, key [4]byte) []byte {
	var b []byte
	hdr := func(fin bool, rsv byte, op frame.Opcode, n int64) frame.Header {
		return frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Mask: key, Length: n}
	}
	var streamPos int // masking position inside a streamed frame
	for _, s := range c.Steps {
		switch s.Do {
		case autobahn.StepFrame:
			p := s.Payload.Bytes()
			b = frame.AppendFrame(b, hdr(s.Fin, byte(s.Rsv), frame.Opcode(s.Opcode), int64(len(p))), p)
		case autobahn.StepMessage:
			p := s.Payload.Bytes()
			op := frame.OpText
			if s.Binary {
				op = frame.OpBinary
			}
			size := s.FragmentSize
			if size == 0 {
				size = s.AutoFragmentSize
			}
			if size <= 0 || len(p) <= size {
				b = frame.AppendFrame(b, hdr(true, 0, op, int64(len(p))), p)
				break
			}
			// Pieces of size bytes; an exact multiple ends with an empty
			// continuation frame (cases.json, conventions).
			for len(p) > 0 {
				n := min(size, len(p))
				last := len(p) == n && n < size
				b = frame.AppendFrame(b, hdr(last, 0, op, int64(n)), p[:n])
				p, op = p[n:], frame.OpContinuation
			}
			if len(s.Payload.Bytes())%size == 0 {
				b = frame.AppendFrame(b, hdr(true, 0, frame.OpContinuation, 0), nil)
			}
		case autobahn.StepClose:
			var p []byte
			if s.Code != nil {
				p = frame.AppendClose(nil, frame.CloseCode(*s.Code), "")
			}
			if s.Reason != nil {
				p = append(p, s.Reason.Bytes()...)
			}
			b = frame.AppendFrame(b, hdr(true, 0, frame.OpClose, int64(len(p))), p)
		case autobahn.StepFrameHeaderOnly:
			b = frame.AppendHeader(b, hdr(s.Fin, 0, frame.Opcode(s.Opcode), s.Length))
			streamPos = 0
		case autobahn.StepFramePayloadChunk:
			p := append([]byte(nil), s.Payload.Bytes()...)
			if masked {
				streamPos = frame.Mask(key, streamPos, p)
			}
			b = append(b, p...)
		case autobahn.StepEndStreamed:
			b = frame.AppendFrame(b, hdr(true, 0, frame.OpContinuation, 0), nil)
		}
	}
	return b
}

// attackStreams are the attack classes of conn/hostile_test.go as byte
// streams from a peer, for the Conn targets (whose Conn has a 64 KiB read
// limit and at most 1000 fragments a message).
func attackStreams(masked bool) map[string][]byte {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	h := func(fin bool, rsv byte, op frame.Opcode, n int64) frame.Header {
		return frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Mask: key, Length: n}
	}
	f := func(fin bool, rsv byte, op frame.Opcode, p []byte) []byte {
		return frame.AppendFrame(nil, h(fin, rsv, op, int64(len(p))), p)
	}
	rep := bytes.Repeat
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// Long payloads are masked with the key 00 00 00 00, so that their
	// quoted seed files stay small.
	f0 := func(fin bool, op frame.Opcode, p []byte) []byte {
		return frame.AppendFrame(nil, frame.Header{Fin: fin, Opcode: op, Masked: masked, Length: int64(len(p))}, p)
	}
	msb := frame.AppendHeader(nil, h(true, 0, frame.OpBinary, 1<<40))
	msb[2] |= 0x80
	comp, _ := deflate.NewCompressor(deflate.CompressorOptions{Level: deflate.LevelFast})
	bomb := comp.AppendMessage(nil, make([]byte, 1<<20))
	return map[string][]byte{
		"length-msb":              msb,
		"length-2^40":             frame.AppendHeader(nil, h(true, 0, frame.OpBinary, 1<<40)),
		"length-2^63-1":           frame.AppendHeader(nil, h(true, 0, frame.OpText, 1<<63-1)),
		"length-sum-overflow":     cat(f(false, 0, frame.OpBinary, []byte("sixty")), frame.AppendHeader(nil, h(true, 0, frame.OpContinuation, 1<<63-1))),
		"length-at-limit":         f0(true, frame.OpBinary, rep([]byte("a"), 64<<10)),
		"length-limit-plus-one":   cat(f0(false, frame.OpBinary, rep([]byte("a"), 32<<10)), f0(true, frame.OpContinuation, rep([]byte("a"), 32<<10+1))),
		"empty-fragment-flood":    cat(f(false, 0, frame.OpText, nil), rep(f(false, 0, frame.OpContinuation, nil), 1000), f(true, 0, frame.OpContinuation, nil)),
		"tiny-fragment-flood":     cat(f(false, 0, frame.OpText, []byte("a")), rep(f(false, 0, frame.OpContinuation, []byte("a")), 1000)),
		"ping-flood":              cat(rep(f(true, 0, frame.OpPing, rep([]byte("p"), 125)), 200), f(true, 0, frame.OpText, []byte("after the flood"))),
		"ping-flood-in-fragments": cat(f(false, 0, frame.OpText, []byte("a")), rep(cat(f(true, 0, frame.OpPing, nil), f(false, 0, frame.OpContinuation, []byte("b"))), 300), f(true, 0, frame.OpContinuation, nil)),
		"data-after-close":        cat(f(true, 0, frame.OpClose, frame.AppendClose(nil, 1000, "bye")), f(true, 0, frame.OpText, []byte("late")), f(true, 0, frame.OpPing, nil)),
		"bomb":                    f(true, frame.RSV1, frame.OpBinary, bomb),
		"bomb-fragmented":         cat(f(false, frame.RSV1, frame.OpBinary, bomb[:1]), f(false, 0, frame.OpContinuation, bomb[1:len(bomb)/2]), f(true, 0, frame.OpContinuation, bomb[len(bomb)/2:])),
	}
}

// TestWriteCatalogueSeeds writes seed corpora built from the conformance
// catalogue (autobahn.Cases, sections 1 to 7 for the Conn targets) and from
// the attack classes of the regression tests, under
// testdata/fuzz/<Target>/case-<id> and attack-<name>. It runs only with
// WRITE_SEEDS=1, like TestWriteSeedCorpora:
//
//	WRITE_SEEDS=1 go test -run 'TestWrite' ./fuzz
//
// The seven cases over 8 KiB (1.1.6 to 1.1.8, 1.2.6 to 1.2.8 and 7.1.6) go
// to FuzzServerConn only, masked with a key chosen so that the file stays
// near the size of the payload; every other case goes to
// FuzzServerConn and FuzzServerConnDeflate masked, as the fuzzer sends it
// to a server, and to FuzzClientConn and FuzzDialResponse unmasked.
func TestWriteCatalogueSeeds(t *testing.T) {
	if os.Getenv("WRITE_SEEDS") != "1" {
		t.Skip("set WRITE_SEEDS=1 to rewrite the seed corpora")
	}
	write := func(target, name string, args ...string) {
		body := "go test fuzz v1\n" + strings.Join(args, "\n") + "\n"
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if name == "" {
			sum := sha256.Sum256([]byte(body))
			name = "seed-" + hex.EncodeToString(sum[:8])
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bytesArg := func(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }
	stringArg := func(s string) string { return "string(" + strconv.Quote(s) + ")" }
	response := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"

	n := 0
	for _, c := range autobahn.Cases() {
		var major int
		fmt.Sscanf(c.Section, "%d", &major)
		if major < 1 || major > 7 {
			continue
		}
		key := [4]byte{byte(c.Index), 0xfa, 0x21, 0x3d}
		name := "case-" + c.ID
		if plain := catalogueStream(c, false, key); len(plain) > 8<<10 {
			// A key that turns the repeated payload byte into '*', or
			// none for ASCII, keeps the quoted file near the payload size.
			var k [4]byte
			if b0 := c.Steps[0].Payload.Bytes()[0]; b0 >= 0x80 {
				k = [4]byte{b0 ^ '*', b0 ^ '*', b0 ^ '*', b0 ^ '*'}
			}
			write("FuzzServerConn", name, bytesArg(catalogueStream(c, true, k)))
			continue
		}
		masked := catalogueStream(c, true, key)
		write("FuzzServerConn", name, bytesArg(masked))
		write("FuzzServerConnDeflate", name, bytesArg(masked))
		plain := catalogueStream(c, false, key)
		write("FuzzClientConn", name, bytesArg(plain))
		write("FuzzDialResponse", name, bytesArg(append([]byte(response), plain...)))
		for _, s := range c.Steps {
			switch {
			case s.Do == autobahn.StepClose:
				var p []byte
				if s.Code != nil {
					p = frame.AppendClose(nil, frame.CloseCode(*s.Code), "")
				}
				if s.Reason != nil {
					p = append(p, s.Reason.Bytes()...)
				}
				write("FuzzParseClose", "", bytesArg(p))
				if s.Code != nil {
					reason := ""
					if s.Reason != nil {
						reason = string(s.Reason.Bytes())
					}
					write("FuzzCloseRoundTrip", "", fmt.Sprintf("uint16(%d)", uint16(*s.Code)), stringArg(reason))
				}
			case s.Do == autobahn.StepMessage && !s.Binary && s.Payload.Len() <= 4096,
				s.Do == autobahn.StepFrame && s.Opcode == 1 && s.Payload.Len() <= 4096:
				write("FuzzUTF8", "", bytesArg(s.Payload.Bytes()))
			}
		}
		n++
	}
	// Section 12 and 13: the permessage-deflate offers the fuzzer makes,
	// and answers built from its accept rules.
	for _, c := range autobahn.Cases() {
		if c.PMCE == nil {
			continue
		}
		var offers []string
		for _, o := range c.PMCE.ClientOffers {
			offers = append(offers, o.Header)
		}
		write("FuzzNegotiateServer", "", stringArg(strings.Join(offers, ", ")), "uint8(0)")
		for _, r := range c.PMCE.ServerAcceptOrder {
			a := "permessage-deflate"
			if r.RespondClientNoContextTakeover {
				a += "; client_no_context_takeover"
			}
			if r.RespondClientMaxWindowBits != nil {
				a += "; client_max_window_bits=" + strconv.Itoa(*r.RespondClientMaxWindowBits)
			}
			write("FuzzNegotiateClient", "", stringArg(a), "uint8(0)")
		}
	}
	for name, s := range attackStreams(true) {
		write("FuzzServerConn", "attack-"+name, bytesArg(s))
		write("FuzzServerConnDeflate", "attack-"+name, bytesArg(s))
	}
	for name, s := range attackStreams(false) {
		write("FuzzClientConn", "attack-"+name, bytesArg(s))
		write("FuzzDialResponse", "attack-"+name, bytesArg(append([]byte(response), s...)))
	}
	for _, s := range seedOffers {
		write("FuzzNegotiateServer", "", stringArg(s), "uint8(0)")
	}
	for _, s := range seedAnswers {
		write("FuzzNegotiateClient", "", stringArg(s), "uint8(0)")
	}
	for _, s := range seedDialResponses {
		write("FuzzDialResponse", "", bytesArg([]byte(s)))
	}
	t.Logf("%d catalogue cases written", n)
}
