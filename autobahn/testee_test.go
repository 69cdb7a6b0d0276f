package autobahn

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirelevel/ws/frame"
)

// This file holds a minimal echo testee written straight on package frame
// and net, independent of the harness's own reader and writer, in a server
// and a client variant. Its flaws turn it into the broken testees whose
// failures the conformance tests predict.

// flaws selects how the testee misbehaves; the zero value is a correct
// echo endpoint.
type flaws struct {
	noUTF8         bool // never validates UTF-8 (text messages, close reasons)
	acceptReserved bool // ignores frames with reserved opcodes instead of failing
	ignoreClose    bool // never answers a close frame (and never drops TCP for it)
	badPong        bool // answers every ping with a wrong payload
	echoClose      bool // answers a close frame with the same payload, byte for byte, valid or not
	closeFirst     bool // answers the first message with close 1008 instead of its echo
	deflate        bool // negotiates permessage-deflate
	noSizeLimit    bool // waits for (and discards) the payload of a frame of any length
}

// badPongPayload is what a badPong testee answers every ping with.
var badPongPayload = []byte("not your ping payload")

// testeeAccept computes Sec-WebSocket-Accept without the handshake package.
func testeeAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// testeePMCE is the testee's permessage-deflate state.
type testeePMCE struct {
	sendBits int // the window the peer allows the testee to use
	fw       *flate.Writer
	out      bytes.Buffer
	dict     []byte
	fr       io.ReadCloser
}

// compress compresses one message on its own (no context takeover is always
// allowed). With a window below 15 bits it sends stored blocks only, which
// no window size can reject.
func (p *testeePMCE) compress(msg []byte) []byte {
	p.out.Reset()
	if p.fw == nil {
		level := flate.BestSpeed
		if p.sendBits < 15 {
			level = flate.NoCompression
		}
		p.fw, _ = flate.NewWriter(&p.out, level)
	} else {
		p.fw.Reset(&p.out)
	}
	p.fw.Write(msg)
	p.fw.Flush()
	return bytes.TrimSuffix(p.out.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func (p *testeePMCE) decompress(msg []byte) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(msg), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))
	if p.fr == nil {
		p.fr = flate.NewReaderDict(src, p.dict)
	} else {
		p.fr.(flate.Resetter).Reset(src, p.dict)
	}
	out, err := io.ReadAll(io.LimitReader(p.fr, 64<<20))
	if err != nil {
		return nil, err
	}
	p.dict = append(p.dict, out...)
	if len(p.dict) > 1<<15 {
		p.dict = append([]byte(nil), p.dict[len(p.dict)-1<<15:]...)
	}
	return out, nil
}

// parseTesteeOffer reads the first permessage-deflate element of a
// Sec-WebSocket-Extensions value into a parameter map.
func parseTesteeOffer(v string) (map[string]string, bool) {
	for _, ext := range strings.Split(v, ",") {
		parts := strings.Split(ext, ";")
		if strings.TrimSpace(parts[0]) != "permessage-deflate" {
			continue
		}
		m := map[string]string{}
		for _, p := range parts[1:] {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			m[k] = strings.Trim(val, `"`)
		}
		return m, true
	}
	return nil, false
}

// tconn is one testee connection.
type tconn struct {
	nc     net.Conn
	br     *bufio.Reader
	server bool
	f      flaws
	pm     *testeePMCE
}

func (c *tconn) writeFrame(op frame.Opcode, rsv byte, payload []byte) error {
	h := frame.Header{Fin: true, Rsv: rsv, Opcode: op, Masked: !c.server}
	if h.Masked {
		h.Mask = [4]byte{0x12, 0x34, 0x56, 0x78}
	}
	_, err := c.nc.Write(frame.AppendFrame(nil, h, payload))
	return err
}

// fail sends a close frame with code, skips the unread rest of the current
// frame, waits briefly for the peer's close (a server) or for TCP to go (a
// client), and ends the connection. unread < 0 means the stream is out of
// step: a server then drops TCP at once.
func (c *tconn) fail(code frame.CloseCode, unread int64) error {
	c.writeFrame(frame.OpClose, 0, frame.AppendClose(nil, code, ""))
	if unread < 0 && c.server {
		// The rest of the frame may never come, so the peer's close
		// cannot be found: just drop TCP.
		return fmt.Errorf("testee failed the connection with %d", code)
	}
	if unread > 0 {
		if _, err := io.CopyN(io.Discard, c.br, unread); err != nil {
			return err
		}
	}
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	var hb [frame.MaxHeaderSize]byte
	for {
		h, err := frame.ReadHeader(c.br, &hb)
		if err != nil || h.Length > 1<<24 {
			break
		}
		if _, err := io.CopyN(io.Discard, c.br, h.Length); err != nil {
			break
		}
		if h.Opcode == frame.OpClose && c.server {
			break
		}
	}
	return fmt.Errorf("testee failed the connection with %d", code)
}

func (c *tconn) failErr(err error, unread int64) error {
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return c.fail(pe.Code, unread)
	}
	return c.fail(frame.CloseProtocolError, unread)
}

// run echoes until the connection ends.
func (c *tconn) run() error {
	defer c.nc.Close()
	peer := frame.Server
	if c.server {
		peer = frame.Client
	}
	var allowRSV byte
	if c.pm != nil {
		allowRSV = frame.RSV1
	}
	var (
		hb         [frame.MaxHeaderSize]byte
		buf        = make([]byte, 32<<10)
		state      frame.Opcode // 0: no message under way
		compressed bool
		msg        []byte
		v          frame.UTF8Validator
	)
	for {
		h, err := frame.ReadHeader(c.br, &hb)
		if err != nil {
			var pe *frame.ProtocolError
			if errors.As(err, &pe) {
				// The stream cannot be parsed any further.
				return c.fail(pe.Code, -1)
			}
			return err
		}
		if h.Opcode.IsReserved() && c.f.acceptReserved {
			if _, err := io.CopyN(io.Discard, c.br, h.Length); err != nil {
				return err
			}
			continue
		}
		if err := frame.Check(h, peer, allowRSV); err != nil {
			if h.Opcode == frame.OpClose && !c.f.ignoreClose && h.Length <= 1<<16 {
				// A bad close frame still ends the closing handshake.
				io.CopyN(io.Discard, c.br, h.Length)
				c.writeFrame(frame.OpClose, 0, frame.AppendClose(nil, frame.CloseProtocolError, ""))
				if !c.server {
					c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
					io.Copy(io.Discard, c.br)
				}
				return err
			}
			return c.failErr(err, h.Length)
		}
		if h.Length > 64<<20 {
			if c.f.noSizeLimit {
				if _, err := io.CopyN(io.Discard, c.br, h.Length); err != nil {
					return err
				}
				continue
			}
			return c.fail(frame.CloseTooBig, h.Length)
		}
		if h.Opcode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(c.br, p); err != nil {
				return err
			}
			if h.Masked {
				frame.Mask(h.Mask, 0, p)
			}
			switch h.Opcode {
			case frame.OpPing:
				if c.f.badPong {
					p = badPongPayload
				}
				if err := c.writeFrame(frame.OpPong, 0, p); err != nil {
					return err
				}
			case frame.OpClose:
				if c.f.ignoreClose {
					continue
				}
				if c.f.echoClose {
					// Echo the payload as received, an invalid code or
					// reason included.
					c.writeFrame(frame.OpClose, 0, p)
					if !c.server {
						c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
						io.Copy(io.Discard, c.br)
					}
					return nil
				}
				code, _, err := frame.ParseClose(p)
				if errors.Is(err, frame.ErrCloseReason) && c.f.noUTF8 {
					code, err = frame.CloseCode(binary.BigEndian.Uint16(p)), nil
				}
				if err != nil {
					// The peer's close was bad: answer 1002 (or 1007),
					// and the closing handshake is over.
					code = frame.CloseProtocolError
					var pe *frame.ProtocolError
					if errors.As(err, &pe) {
						code = pe.Code
					}
				}
				// Echo the code (none for none).
				c.writeFrame(frame.OpClose, 0, frame.AppendClose(nil, code, ""))
				if !c.server {
					// The server closes TCP.
					c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
					io.Copy(io.Discard, c.br)
				}
				return nil
			}
			continue
		}
		switch h.Opcode {
		case frame.OpText, frame.OpBinary:
			if state != 0 {
				return c.fail(frame.CloseProtocolError, h.Length)
			}
			state, compressed, msg = h.Opcode, h.Rsv&frame.RSV1 != 0, msg[:0]
			v.Reset()
		case frame.OpContinuation:
			if state == 0 {
				return c.fail(frame.CloseProtocolError, h.Length)
			}
		}
		validate := state == frame.OpText && !compressed && !c.f.noUTF8
		// Read the payload as it arrives, validating each piece, so
		// invalid text fails fast even inside one frame.
		pos := 0
		for rest := h.Length; rest > 0; {
			n, err := c.br.Read(buf[:min(int64(len(buf)), rest)])
			if n > 0 {
				p := buf[:n]
				if h.Masked {
					pos = frame.Mask(h.Mask, pos, p)
				}
				rest -= int64(n)
				if validate {
					if _, err := v.Write(p); err != nil {
						if rest > 0 {
							return c.fail(frame.CloseInvalidPayload, -1)
						}
						return c.fail(frame.CloseInvalidPayload, 0)
					}
				}
				msg = append(msg, p...)
			}
			if err != nil {
				return err
			}
		}
		if !h.Fin {
			continue
		}
		data := msg
		if compressed {
			if data, err = c.pm.decompress(msg); err != nil {
				return c.fail(frame.CloseInvalidPayload, 0)
			}
			if state == frame.OpText && !c.f.noUTF8 && !utf8.Valid(data) {
				return c.fail(frame.CloseInvalidPayload, 0)
			}
		} else if validate && v.End() != nil {
			return c.fail(frame.CloseInvalidPayload, 0)
		}
		if c.f.closeFirst {
			// Start the closing handshake instead of echoing, as a
			// testee with a message policy does.
			return c.fail(frame.ClosePolicyViolation, 0)
		}
		var rsv byte
		if c.pm != nil {
			data, rsv = c.pm.compress(data), frame.RSV1
		}
		if err := c.writeFrame(state, rsv, data); err != nil {
			return err
		}
		state = 0
	}
}

// startTesteeServer runs an echo testee server on 127.0.0.1 and returns its
// ws:// URL. It stops when the test ends. It may be called from any
// goroutine.
func startTesteeServer(t testing.TB, f flaws) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[nc] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				serveTestee(nc, f)
				mu.Lock()
				delete(conns, nc)
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String(), nil
}

func serveTestee(nc net.Conn, f flaws) {
	br := bufio.NewReader(nc)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := http.ReadRequest(br)
	if err != nil {
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	c := &tconn{nc: nc, br: br, server: true, f: f}
	resp := "HTTP/1.1 101 Switching Protocols\r\nServer: raw-testee\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + testeeAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\n"
	var ext string
	if ext, c.pm = testeeServerPMCE(req.Header.Get("Sec-WebSocket-Extensions"), f); ext != "" {
		resp += "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	if _, err := nc.Write([]byte(resp + "\r\n")); err != nil {
		nc.Close()
		return
	}
	c.run()
}

// testeeServerPMCE answers a permessage-deflate offer as the testee server
// does: accepted with f.deflate, the first offer, honouring its
// server_no_context_takeover and server_max_window_bits. It returns the
// response's extension ("" for none) and the testee's state.
func testeeServerPMCE(offers string, f flaws) (string, *testeePMCE) {
	offer, ok := parseTesteeOffer(offers)
	if !ok || !f.deflate {
		return "", nil
	}
	pm := &testeePMCE{sendBits: 15}
	ext := "permessage-deflate"
	if _, ok := offer["server_no_context_takeover"]; ok {
		ext += "; server_no_context_takeover"
	}
	if bits, ok := offer["server_max_window_bits"]; ok {
		pm.sendBits, _ = strconv.Atoi(bits)
		ext += "; server_max_window_bits=" + bits
	}
	return ext, pm
}

// testeeClientPMCE is the testee client's permessage-deflate state for a
// server's response, or nil.
func testeeClientPMCE(response string) *testeePMCE {
	offer, ok := parseTesteeOffer(response)
	if !ok {
		return nil
	}
	pm := &testeePMCE{sendBits: 15}
	if bits, ok := offer["client_max_window_bits"]; ok {
		pm.sendBits, _ = strconv.Atoi(bits)
	}
	return pm
}

// testeeClient returns the EchoFunc of an echo testee client.
func testeeClient(f flaws) EchoFunc {
	return func(ctx context.Context, rawURL string) error {
		u, err := parseWSURL(rawURL)
		if err != nil {
			return err
		}
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", u.addr)
		if err != nil {
			return err
		}
		key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
		req := "GET " + u.target + " HTTP/1.1\r\nHost: " + u.host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
		if f.deflate {
			req += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write([]byte(req + "\r\n")); err != nil {
			nc.Close()
			return err
		}
		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
		if err != nil {
			nc.Close()
			return err
		}
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != testeeAccept(key) {
			nc.Close()
			return fmt.Errorf("testee client: handshake refused: %s", resp.Status)
		}
		nc.SetDeadline(time.Time{})
		c := &tconn{nc: nc, br: br, f: f, pm: testeeClientPMCE(resp.Header.Get("Sec-WebSocket-Extensions"))}
		stop := context.AfterFunc(ctx, func() { nc.Close() })
		defer stop()
		return c.run()
	}
}
