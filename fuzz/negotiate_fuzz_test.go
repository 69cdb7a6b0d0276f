package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/deflate/deflatetest"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
	"github.com/wirelevel/ws/internal/pipe"
)

// The targets in this file drive permessage-deflate negotiation (RFC 7692)
// through the real handshakes: arbitrary offers into conn.Upgrade, arbitrary
// answers into conn.Dial, and arbitrary whole responses into conn.Dial. The
// expected outcome comes from pmdRef, a reference reading of RFC 7692,
// Section 7, written apart from conn's own parser.

const pmdName = "permessage-deflate"

// pmdRef is a permessage-deflate offer or answer, as the reference reads it.
type pmdRef struct {
	serverNoCtx, clientNoCtx bool
	serverBits               int  // 0: absent
	clientBits               int  // 0: absent, or present without a value
	clientBitsPresent        bool // client_max_window_bits appeared
}

// refBits reads a window-bits value: a decimal 8 to 15, no leading zero.
func refBits(p handshake.Param) (int, bool) {
	if !p.HasValue {
		return 0, false
	}
	for n, s := range []string{"8", "9", "10", "11", "12", "13", "14", "15"} {
		if p.Value == s {
			return n + 8, true
		}
	}
	return 0, false
}

// refParse applies RFC 7692, Section 7.1: known parameters only, each at
// most once, the no_context_takeover ones without a value, the window bits
// with a valid value, except client_max_window_bits in an offer, which may
// have none.
func refParse(e handshake.Extension, answer bool) (pmdRef, bool) {
	var r pmdRef
	seen := map[string]bool{}
	for _, p := range e.Params {
		if seen[p.Name] {
			return r, false
		}
		seen[p.Name] = true
		switch p.Name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.HasValue {
				return r, false
			}
			if p.Name[0] == 's' {
				r.serverNoCtx = true
			} else {
				r.clientNoCtx = true
			}
		case "server_max_window_bits":
			n, ok := refBits(p)
			if !ok {
				return r, false
			}
			r.serverBits = n
		case "client_max_window_bits":
			r.clientBitsPresent = true
			if !p.HasValue && !answer {
				continue
			}
			n, ok := refBits(p)
			if !ok {
				return r, false
			}
			r.clientBits = n
		default:
			return r, false
		}
	}
	return r, true
}

func or15(n int) int {
	if n == 0 {
		return 15
	}
	return n
}

// compressionFlags unpacks a fuzzer byte into CompressionOptions: the two
// no-context-takeover flags and window bits 0 (default) or 8 to 14.
func compressionFlags(f uint8) *conn.CompressionOptions {
	bits := func(v uint8) int {
		if v == 0 {
			return 0
		}
		return 7 + int(v)
	}
	return &conn.CompressionOptions{
		ServerNoContextTakeover: f&1 != 0,
		ClientNoContextTakeover: f&2 != 0,
		ServerMaxWindowBits:     bits(f >> 2 & 7),
		ClientMaxWindowBits:     bits(f >> 5 & 7),
	}
}

// plainValue reports whether s can be sent as a header field value as is.
func plainValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return len(s) < 2048
}

// dialOver dials ws://fuzz/ with opts over nc, through no proxy.
func dialOver(nc net.Conn, opts *conn.DialOptions) (*conn.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts.Proxy = conn.NoProxy
	opts.NetDialContext = func(context.Context, string, string) (net.Conn, error) { return nc, nil }
	return conn.Dial(ctx, "ws://fuzz/", opts)
}

// serveHandshake reads a client's request from nc and answers it with
// resp, in which "{accept}" stands for the right Sec-WebSocket-Accept
// value. It returns the request's Sec-WebSocket-Extensions value and key.
func serveHandshake(nc net.Conn, resp []byte) (offer, key string, err error) {
	s := handshake.Server{InsecureSkipOriginCheck: true}
	req, _, err := s.ReadRequest(nc)
	if err != nil {
		return "", "", err
	}
	offer, key = string(req.Get("Sec-WebSocket-Extensions")), string(req.Get("Sec-WebSocket-Key"))
	nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = nc.Write(withAccept(resp, key))
	return offer, key, err
}

// withAccept replaces "{accept}" in resp by the accept value for key.
func withAccept(resp []byte, key string) []byte {
	return bytes.ReplaceAll(resp, []byte("{accept}"), []byte(handshake.AcceptKey(key)))
}

func response101(extensions string) []byte {
	r := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
	if extensions != "" {
		r += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	return []byte(r + "\r\n")
}

// testMessage is compressible at distances from 1 to about 1000 bytes, so
// that a compressor ignoring a small window shows it.
func testMessage(seed byte) []byte {
	block := make([]byte, 300)
	for i := range block {
		block[i] = 'a' + (seed+byte(i*7)+byte(i*i))%26
	}
	var b []byte
	for range 6 {
		b = append(b, block...)
		b = append(b, "-filler-between-repeats-"...)
		b = append(b, bytes.Repeat([]byte{'0' + seed%10}, 700)...)
	}
	return b
}

// FuzzNegotiateServer sends an arbitrary Sec-WebSocket-Extensions offer to
// conn.Upgrade with compression on (options from flags). The server must
// answer 400 exactly when the value does not parse, and otherwise 101 with
// either no extension, when the reference finds no acceptable
// permessage-deflate offer, or an answer to the first acceptable one that
// RFC 7692 allows. Our own client, had it made that offer, must accept the
// answer, and the two must then exchange compressed messages both ways.
func FuzzNegotiateServer(f *testing.F) {
	for _, s := range seedOffers {
		f.Add(s, uint8(0))
		f.Add(s, uint8(0b1010_0111))
	}
	f.Fuzz(func(t *testing.T, offer string, flags uint8) {
		if !plainValue(offer) {
			return
		}
		opts := compressionFlags(flags)
		sa, sb := pipe.New()
		defer sb.Close()
		type result struct {
			c   *conn.Conn
			err error
		}
		done := make(chan result, 1)
		go func() {
			c, err := conn.Upgrade(sa, &conn.AcceptOptions{Compression: opts, HandshakeTimeout: 5 * time.Second})
			done <- result{c, err}
		}()
		sb.SetDeadline(time.Now().Add(5 * time.Second))
		go sb.Write([]byte("GET / HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Extensions: " + offer + "\r\n\r\n"))
		br := bufio.NewReader(sb)
		resp, err := handshake.ReadResponse(br, handshake.Limits{})
		if err != nil {
			t.Fatalf("offer %q: reading the answer: %v", offer, err)
		}
		res := <-done
		if res.c != nil {
			defer res.c.CloseNow()
		}
		offers, perr := handshake.ParseExtensions(offer)
		if perr != nil {
			if resp.Status != 400 || res.err == nil {
				t.Fatalf("offer %q does not parse (%v), but the answer is %d (%v)", offer, perr, resp.Status, res.err)
			}
			return
		}
		if resp.Status != 101 || res.err != nil {
			t.Fatalf("offer %q: status %d, %v; want 101", offer, resp.Status, res.err)
		}
		chosen := -1
		var want pmdRef
		for i, e := range offers {
			if r, ok := refParse(e, false); ok && e.Name == pmdName {
				chosen, want = i, r
				break
			}
		}
		answer := string(resp.Get("Sec-WebSocket-Extensions"))
		if res.c.Extensions() != answer {
			t.Fatalf("Conn.Extensions() = %q, the 101 says %q", res.c.Extensions(), answer)
		}
		if chosen < 0 {
			if answer != "" {
				t.Fatalf("offer %q has nothing acceptable, but the answer is %q", offer, answer)
			}
			return
		}
		if answer == "" {
			t.Fatalf("offer %q: offer %d is acceptable, but the server declined", offer, chosen)
		}
		exts, err := handshake.ParseExtensions(answer)
		if err != nil || len(exts) != 1 || exts[0].Name != pmdName {
			t.Fatalf("answer %q: %v", answer, err)
		}
		got, ok := refParse(exts[0], true)
		switch {
		case !ok:
			t.Fatalf("answer %q is not a valid permessage-deflate response", answer)
		case want.serverNoCtx && !got.serverNoCtx:
			t.Fatalf("answer %q drops the server_no_context_takeover of offer %q", answer, offer)
		case opts.ServerNoContextTakeover && !got.serverNoCtx, opts.ClientNoContextTakeover && !got.clientNoCtx:
			t.Fatalf("answer %q does not announce the server's own no_context_takeover options", answer)
		case want.serverBits != 0 && (got.serverBits == 0 || got.serverBits > want.serverBits):
			t.Fatalf("answer %q to server_max_window_bits=%d", answer, want.serverBits)
		case got.serverBits > or15(opts.ServerMaxWindowBits):
			t.Fatalf("answer %q over the server's own window %d", answer, opts.ServerMaxWindowBits)
		case got.clientBits != 0 && !want.clientBitsPresent:
			t.Fatalf("answer %q sets client_max_window_bits, which offer %q lacks", answer, offer)
		case want.clientBits != 0 && got.clientBits > want.clientBits:
			t.Fatalf("answer %q raises client_max_window_bits=%d", answer, want.clientBits)
		}

		// Our client, offering the same, accepts the answer; then the
		// two Conns talk through a relay.
		ca, cb := pipe.New()
		defer cb.Close()
		copts := &conn.CompressionOptions{ServerNoContextTakeover: want.serverNoCtx, ClientNoContextTakeover: want.clientNoCtx,
			ServerMaxWindowBits: want.serverBits, ClientMaxWindowBits: want.clientBits}
		go func() {
			if _, _, err := serveHandshake(cb, response101(answer)); err != nil {
				return
			}
			cb.SetDeadline(time.Time{})
			sb.SetDeadline(time.Time{})
			go io.Copy(sb, cb)
			io.Copy(cb, br)
		}()
		cli, err := dialOver(ca, &conn.DialOptions{Compression: copts})
		if err != nil {
			t.Fatalf("our client, offering %+v, refused the answer %q: %v", *copts, answer, err)
		}
		defer cli.CloseNow()
		exchange(t, res.c, cli, flags)
	})
}

// exchange sends compressible messages both ways and checks them.
func exchange(t *testing.T, srv, cli *conn.Conn, seed byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range 2 {
		msg := testMessage(seed + byte(i))
		go cli.WriteMessage(ctx, conn.Text, msg)
		if _, got, err := srv.ReadMessage(ctx, nil); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("client to server, message %d: %v (%d bytes, want %d)", i, err, len(got), len(msg))
		}
		go srv.WriteMessage(ctx, conn.Binary, msg)
		if _, got, err := cli.ReadMessage(ctx, nil); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("server to client, message %d: %v (%d bytes, want %d)", i, err, len(got), len(msg))
		}
	}
}

// FuzzNegotiateClient answers conn.Dial's permessage-deflate offer (options
// from flags) with an arbitrary Sec-WebSocket-Extensions value. Dial must
// succeed exactly when the reference finds the answer acceptable for the
// offer, and then use the agreed parameters: it inflates what a server with
// those parameters sends, and deflates within the agreed window, which the
// strict deflatetest inflater checks.
func FuzzNegotiateClient(f *testing.F) {
	for _, s := range seedAnswers {
		f.Add(s, uint8(0))
		f.Add(s, uint8(0b0110_1001))
	}
	f.Fuzz(func(t *testing.T, answer string, flags uint8) {
		if !plainValue(answer) {
			return
		}
		opts := compressionFlags(flags)
		ca, cb := pipe.New()
		defer cb.Close()
		offerc := make(chan string, 1)
		go func() {
			offer, _, _ := serveHandshake(cb, response101(answer))
			offerc <- offer
		}()
		cli, err := dialOver(ca, &conn.DialOptions{Compression: opts})
		offer := <-offerc
		if cli != nil {
			defer cli.CloseNow()
		}

		// The reference: is answer acceptable for this offer?
		ok, why := true, ""
		var got pmdRef
		exts, perr := handshake.ParseExtensions(answer)
		switch {
		case perr != nil:
			ok, why = false, perr.Error()
		case len(exts) == 0:
		case len(exts) > 1 || exts[0].Name != pmdName:
			ok, why = false, "not one permessage-deflate"
		default:
			var valid bool
			if got, valid = refParse(exts[0], true); !valid {
				ok, why = false, "invalid parameters"
			} else if opts.ServerNoContextTakeover && !got.serverNoCtx {
				ok, why = false, "server_no_context_takeover dropped"
			} else if opts.ServerMaxWindowBits != 0 && got.serverBits > opts.ServerMaxWindowBits {
				ok, why = false, "server_max_window_bits over the offer"
			} else if got.clientBits > or15(opts.ClientMaxWindowBits) {
				ok, why = false, "client_max_window_bits over the offer"
			}
		}
		if ok != (err == nil) {
			t.Fatalf("offer %q, answer %q: Dial = %v; reference says acceptable=%v (%s)", offer, answer, err, ok, why)
		}
		if !ok {
			return
		}
		if len(exts) == 0 {
			if cli.Extensions() != "" {
				t.Fatalf("no extension agreed, but Extensions() = %q", cli.Extensions())
			}
			return
		}
		if cli.Extensions() != strings.Trim(answer, " \t") {
			t.Fatalf("Extensions() = %q, answer %q", cli.Extensions(), answer)
		}
		serverBits, clientBits := or15(got.serverBits), min(or15(got.clientBits), or15(opts.ClientMaxWindowBits))
		clientNoCtx := got.clientNoCtx || opts.ClientNoContextTakeover
		comp, err := deflate.NewCompressor(deflate.CompressorOptions{Level: deflate.LevelFast, WindowBits: serverBits, NoContextTakeover: got.serverNoCtx})
		if err != nil {
			t.Fatal(err)
		}
		check := deflatetest.Inflater{Window: 1 << clientBits, Takeover: !clientNoCtx}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cb.SetDeadline(time.Now().Add(5 * time.Second))
		for i := range 2 {
			msg := testMessage(flags + byte(i))
			z := comp.AppendMessage(nil, msg)
			go cb.Write(frame.AppendFrame(nil, frame.Header{Fin: true, Rsv: frame.RSV1, Opcode: frame.OpBinary, Length: int64(len(z))}, z))
			if _, m, err := cli.ReadMessage(ctx, nil); err != nil || !bytes.Equal(m, msg) {
				t.Fatalf("answer %q: message %d from the server: %v", answer, i, err)
			}
			go cli.WriteMessage(ctx, conn.Binary, msg)
			var hb [frame.MaxHeaderSize]byte
			h, err := frame.ReadHeader(cb, &hb)
			if err != nil || h.Length > 1<<20 {
				t.Fatalf("reading the client's frame: %+v %v", h, err)
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(cb, p); err != nil {
				t.Fatal(err)
			}
			frame.Mask(h.Mask, 0, p)
			if h.Rsv != frame.RSV1 || !h.Fin {
				t.Fatalf("answer %q: client frame %+v, want one compressed frame", answer, h)
			}
			m, err := check.Message(p)
			if err != nil || !bytes.Equal(m, msg) {
				t.Fatalf("answer %q (client window %d, no takeover %v): message %d does not inflate within the agreed window: %v",
					answer, clientBits, clientNoCtx, i, err)
			}
		}
	})
}

// FuzzDialResponse feeds conn.Dial (offering subprotocols and compression)
// an arbitrary response, with "{accept}" replaced by the right accept key,
// followed by whatever bytes come after it, and reads from the Conn until
// it ends. No panic and no hang; Dial succeeds only if handshake.Client
// accepts the response for the request Dial sent; text messages are valid
// UTF-8.
func FuzzDialResponse(f *testing.F) {
	for _, s := range seedDialResponses {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		ca, cb := pipe.New()
		defer cb.Close()
		type sent struct{ offer, key string }
		sentc := make(chan sent, 1)
		go func() {
			offer, key, err := serveHandshake(cb, resp)
			sentc <- sent{offer, key}
			if err == nil {
				cb.CloseWrite()
				io.Copy(io.Discard, cb)
			}
		}()
		protos := []string{"chat", "superchat"}
		cli, err := dialOver(ca, &conn.DialOptions{Subprotocols: protos, Compression: &conn.CompressionOptions{},
			Options: conn.Options{ReadLimit: 64 << 10, CloseTimeout: 50 * time.Millisecond}})
		req := <-sentc
		if err != nil {
			return
		}
		defer cli.CloseNow()
		// The same response passes handshake.Client.Check.
		var r handshake.Response
		n, perr := r.Parse(withAccept(resp, req.key), handshake.Limits{})
		if perr != nil || n == 0 {
			t.Fatalf("Dial accepted a response that does not parse: %v", perr)
		}
		hc := handshake.Client{Host: "fuzz", Protocols: protos, Extensions: req.offer}
		if _, _, err := hc.Check(&r, req.key); err != nil {
			t.Fatalf("Dial accepted a response Client.Check refuses: %v", err)
		}
		if r.Status != 101 {
			t.Fatalf("Dial accepted status %d", r.Status)
		}
		if p := cli.Subprotocol(); p != "" && p != "chat" && p != "superchat" {
			t.Fatalf("Dial agreed on subprotocol %q", p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var buf []byte
		for i := 0; ; i++ {
			typ, msg, err := cli.ReadMessage(ctx, buf)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatal("Conn did not finish reading a finite stream")
				}
				return
			}
			if typ == conn.Text && !frame.ValidUTF8(msg) {
				t.Fatalf("invalid UTF-8 text delivered: % x", msg)
			}
			if i > len(resp) {
				t.Fatalf("%d messages from %d bytes", i, len(resp))
			}
			buf = msg
		}
	})
}

// Seeds: browser and Autobahn (section 13) offers, the RFC 7692 examples,
// and the hostile shapes of the regression tests (window bits out of
// range, duplicates, unknown parameters, leading zeros, quoting).
var (
	seedOffers = []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, " +
			"permessage-deflate; client_no_context_takeover; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=10, permessage-deflate",
		`permessage-deflate; client_max_window_bits="10"`,
		"permessage-deflate; server_max_window_bits=7",
		"permessage-deflate; server_max_window_bits=16",
		"permessage-deflate; client_max_window_bits=08",
		"permessage-deflate; server_max_window_bits",
		"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
		"permessage-deflate; client_no_context_takeover=1",
		"permessage-deflate; foo, permessage-deflate; server_max_window_bits=12",
		"x-webkit-deflate-frame, permessage-deflate",
		"permessage-deflate;",
		"",
	}
	seedAnswers = []string{
		"",
		"permessage-deflate",
		"permessage-deflate; server_no_context_takeover",
		"permessage-deflate; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
		"permessage-deflate; client_max_window_bits=9",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=16",
		"permessage-deflate; server_max_window_bits=0",
		"permessage-deflate; x=1",
		"permessage-deflate, permessage-deflate",
		"x-foo",
		`permessage-deflate; server_max_window_bits="12"`,
	}
	seedDialResponses = []string{
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n" +
			"\x81\x05Hello",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n" +
			"Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n" +
			"\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\x88\x02\x03\xe8",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n" +
			"Sec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n" +
			"Sec-WebSocket-Protocol: other\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n" +
			"Sec-WebSocket-Accept: {accept}\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n" +
			"\x82\x7f\x00\x00\x01\x00\x00\x00\x00\x00",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n" +
			"\x89\x00\x8a\x00\x01\x01a\x80\x01b",
	}
)

// FuzzPMDParams parses every permessage-deflate extension of an arbitrary
// Sec-WebSocket-Extensions value with package deflate, the one parser of
// RFC 7692, Section 7 that conn and autobahn share, as an offer and as a
// response. It must agree with the reference reading (refParse), and what
// Params.String writes must parse back to the same Params. A server's
// answer to an accepted offer must pass a client's check of it.
func FuzzPMDParams(f *testing.F) {
	for _, s := range seedOffers {
		f.Add(s, uint8(0))
		f.Add(s, uint8(0b1010_0111))
	}
	f.Add("permessage-deflate; server_max_window_bits=+8", uint8(0))
	f.Add("permessage-deflate; client_max_window_bits=1_0", uint8(0))
	f.Fuzz(func(t *testing.T, value string, flags uint8) {
		exts, err := handshake.ParseExtensions(value)
		if err != nil {
			return
		}
		cfg := compressionFlags(flags)
		dc := deflate.Config{
			ServerNoContextTakeover: cfg.ServerNoContextTakeover,
			ClientNoContextTakeover: cfg.ClientNoContextTakeover,
			ServerMaxWindowBits:     cfg.ServerMaxWindowBits,
			ClientMaxWindowBits:     cfg.ClientMaxWindowBits,
		}
		for _, e := range exts {
			if e.Name != pmdName {
				continue
			}
			for _, response := range []bool{false, true} {
				parse := deflate.ParseOffer
				if response {
					parse = deflate.ParseResponse
				}
				p, err := parse(e)
				ref, ok := refParse(e, response)
				if (err == nil) != ok {
					t.Fatalf("%q (response %v): deflate says %v, the reference %v", value, response, err, ok)
				}
				if err != nil {
					if !errors.Is(err, deflate.ErrParams) {
						t.Fatalf("%q: error %v does not wrap ErrParams", value, err)
					}
					continue
				}
				got := pmdRef{p.ServerNoContextTakeover, p.ClientNoContextTakeover, p.ServerMaxWindowBits, p.ClientMaxWindowBits, p.ClientMaxWindowBitsSent}
				if got != ref {
					t.Fatalf("%q (response %v): deflate reads %+v, the reference %+v", value, response, got, ref)
				}
				again, err := handshake.ParseExtensions(p.String())
				if err != nil || len(again) != 1 {
					t.Fatalf("Params.String() = %q does not parse: %v", p.String(), err)
				}
				if q, err := parse(again[0]); err != nil || q != p {
					t.Fatalf("%q: Params.String() = %q parses to %+v, %v", value, p.String(), q, err)
				}
			}
			resp, a, err := dc.Accept(e)
			if err != nil {
				continue
			}
			again, err := handshake.ParseExtensions(resp.String())
			if err != nil {
				t.Fatalf("answer %q does not parse: %v", resp.String(), err)
			}
			// The client that made this offer must accept the answer. Its
			// configuration is what the offer says.
			o, _ := deflate.ParseOffer(e)
			client := deflate.Config{
				ServerNoContextTakeover: o.ServerNoContextTakeover,
				ClientNoContextTakeover: o.ClientNoContextTakeover,
				ServerMaxWindowBits:     o.ServerMaxWindowBits,
				ClientMaxWindowBits:     o.ClientMaxWindowBits,
			}
			if !o.ClientMaxWindowBitsSent {
				continue // our client always names client_max_window_bits
			}
			ca, err := client.CheckResponse(again[0])
			if err != nil {
				t.Fatalf("offer %q, answer %q: the offering client refuses it: %v", value, resp.String(), err)
			}
			if ca.ServerWindowBits < a.ServerWindowBits || ca.ClientWindowBits != a.ClientWindowBits ||
				ca.ServerNoContextTakeover != a.ServerNoContextTakeover || ca.ClientNoContextTakeover != a.ClientNoContextTakeover {
				t.Fatalf("offer %q, answer %q: server agreed %+v, client %+v", value, resp.String(), a, ca)
			}
		}
	})
}
