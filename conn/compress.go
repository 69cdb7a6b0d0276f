package conn

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

// CompressionOptions configure permessage-deflate (RFC 7692). A server
// accepts the first acceptable offer a client makes; a client offers the
// extension with these parameters. The zero value compresses with context
// takeover both ways and full 32 KiB windows, which gives the best ratio and
// costs 32 KiB per direction per idle connection; the NoContextTakeover
// settings bring that to nearly nothing.
type CompressionOptions struct {
	// Level is the DEFLATE level, 1 (fastest) to 9 (smallest). 0 means 1.
	Level int

	// ServerNoContextTakeover makes the server compress every message on
	// its own (RFC 7692, Section 7.1.1.1): a server says so in its answer,
	// a client asks for it in its offer.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover does the same for the client's messages
	// (Section 7.1.1.2).
	ClientNoContextTakeover bool

	// ServerMaxWindowBits and ClientMaxWindowBits bound the LZ77 window of
	// the server's and the client's compressor, 8 to 15 (256 bytes to
	// 32 KiB); 0 means 15. A smaller window saves memory with context
	// takeover at some cost in ratio (Section 7.1.2).
	ServerMaxWindowBits int
	ClientMaxWindowBits int

	// Threshold is the size below which a message is sent uncompressed. 0
	// means 64 bytes; negative means compress every message.
	Threshold int
}

// pmdParams are the permessage-deflate parameters a handshake agreed on.
type pmdParams struct {
	serverNoCtx, clientNoCtx bool
	serverBits, clientBits   int // windows of the server's and client's compressor
	level                    int
	threshold                int
}

const pmdName = "permessage-deflate"

// pmdOffer is a permessage-deflate offer or response, parsed and checked.
type pmdOffer struct {
	serverNoCtx, clientNoCtx bool
	serverBits               int  // 0 if absent
	clientBits               int  // 0 if absent or without a value
	clientBitsPresent        bool // client_max_window_bits appeared
}

// parsePMD checks the parameters of a permessage-deflate offer or response
// (RFC 7692, Section 7): only the four known parameters, each at most once,
// the no_context_takeover ones without a value, window bits 8 to 15 written
// without leading zeros; server_max_window_bits needs a value, and so does
// client_max_window_bits in a response.
func parsePMD(e handshake.Extension, response bool) (pmdOffer, error) {
	var o pmdOffer
	seen := map[string]bool{}
	for _, p := range e.Params {
		if seen[p.Name] {
			return o, fmt.Errorf("duplicate parameter %s", p.Name)
		}
		seen[p.Name] = true
		switch p.Name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.HasValue {
				return o, fmt.Errorf("%s takes no value", p.Name)
			}
			if p.Name == "server_no_context_takeover" {
				o.serverNoCtx = true
			} else {
				o.clientNoCtx = true
			}
		case "server_max_window_bits":
			bits, err := windowBitsValue(p)
			if err != nil {
				return o, err
			}
			o.serverBits = bits
		case "client_max_window_bits":
			o.clientBitsPresent = true
			if !p.HasValue && !response {
				break
			}
			bits, err := windowBitsValue(p)
			if err != nil {
				return o, err
			}
			o.clientBits = bits
		default:
			return o, fmt.Errorf("unknown parameter %q", p.Name)
		}
	}
	return o, nil
}

func windowBitsValue(p handshake.Param) (int, error) {
	v := p.Value
	if !p.HasValue || len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, fmt.Errorf("%s needs a value from 8 to 15", p.Name)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > 15 {
		return 0, fmt.Errorf("%s=%s is not a value from 8 to 15", p.Name, v)
	}
	return n, nil
}

func bitsOr15(b int) int {
	if b == 0 {
		return 15
	}
	return b
}

func (o *CompressionOptions) check() error {
	for _, b := range []int{o.ServerMaxWindowBits, o.ClientMaxWindowBits} {
		if b != 0 && (b < 8 || b > 15) {
			return fmt.Errorf("conn: window bits %d out of range 8-15", b)
		}
	}
	if o.Level < 0 || o.Level > 9 {
		return fmt.Errorf("conn: compression level %d out of range 1-9", o.Level)
	}
	return nil
}

func (o *CompressionOptions) threshold() int {
	switch {
	case o.Threshold == 0:
		return 64
	case o.Threshold < 0:
		return 0
	}
	return o.Threshold
}

// negotiateServer picks the first acceptable permessage-deflate offer, if
// any, sets up.Extensions to the answer, and returns the agreed parameters.
// An offer that cannot be accepted is declined and the next one tried; with
// none left the connection goes on without compression (Section 5.1).
func negotiateServer(opts *CompressionOptions, up *handshake.Upgrade) (*pmdParams, error) {
	if opts == nil {
		return nil, nil
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	for _, e := range up.Offers {
		if e.Name != pmdName {
			continue
		}
		o, err := parsePMD(e, false)
		if err != nil {
			continue // decline this offer
		}
		p := &pmdParams{
			serverNoCtx: o.serverNoCtx || opts.ServerNoContextTakeover,
			clientNoCtx: o.clientNoCtx || opts.ClientNoContextTakeover,
			serverBits:  min(bitsOr15(o.serverBits), bitsOr15(opts.ServerMaxWindowBits)),
			clientBits:  15,
			level:       opts.Level,
			threshold:   opts.threshold(),
		}
		var b strings.Builder
		b.WriteString(pmdName)
		if p.serverNoCtx {
			b.WriteString("; server_no_context_takeover")
		}
		if p.clientNoCtx {
			b.WriteString("; client_no_context_takeover")
		}
		// Firefox refuses a server_max_window_bits it did not ask for, so
		// a smaller window of our own is used without saying so: any
		// decompressor handles it.
		if o.serverBits != 0 {
			b.WriteString("; server_max_window_bits=" + strconv.Itoa(p.serverBits))
		}
		// client_max_window_bits may be answered only if offered
		// (Section 7.1.2.2), with a value no larger than offered.
		if o.clientBitsPresent {
			p.clientBits = min(bitsOr15(o.clientBits), bitsOr15(opts.ClientMaxWindowBits))
			if p.clientBits < 15 || o.clientBits != 0 {
				b.WriteString("; client_max_window_bits=" + strconv.Itoa(p.clientBits))
			}
		}
		up.Extensions = b.String()
		return p, nil
	}
	return nil, nil
}

// offerClient returns the client's Sec-WebSocket-Extensions offer, or "".
func offerClient(opts *CompressionOptions) string {
	if opts == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(pmdName)
	if opts.ServerNoContextTakeover {
		b.WriteString("; server_no_context_takeover")
	}
	if opts.ClientNoContextTakeover {
		b.WriteString("; client_no_context_takeover")
	}
	if bits := opts.ServerMaxWindowBits; bits != 0 && bits < 15 {
		b.WriteString("; server_max_window_bits=" + strconv.Itoa(bits))
	}
	// Always say we can use a smaller window if the server asks.
	b.WriteString("; client_max_window_bits")
	if bits := opts.ClientMaxWindowBits; bits != 0 && bits < 15 {
		b.WriteString("=" + strconv.Itoa(bits))
	}
	return b.String()
}

// acceptClient checks the server's answer to our offer and returns the
// agreed parameters. An answer that uses a parameter we did not allow fails
// the handshake (RFC 7692, Section 5.1).
func acceptClient(opts *CompressionOptions, exts []handshake.Extension) (*pmdParams, error) {
	if len(exts) == 0 {
		return nil, nil
	}
	if opts == nil || len(exts) > 1 || exts[0].Name != pmdName {
		return nil, errors.New("conn: server accepted extensions that were not offered")
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	o, err := parsePMD(exts[0], true)
	if err != nil {
		return nil, fmt.Errorf("conn: server's permessage-deflate answer: %w", err)
	}
	if o.serverBits != 0 && opts.ServerMaxWindowBits != 0 && o.serverBits > opts.ServerMaxWindowBits {
		return nil, fmt.Errorf("conn: server's permessage-deflate answer: server_max_window_bits=%d over the %d offered", o.serverBits, opts.ServerMaxWindowBits)
	}
	if opts.ServerNoContextTakeover && !o.serverNoCtx {
		return nil, errors.New("conn: server's permessage-deflate answer lacks the server_no_context_takeover offered")
	}
	if o.clientBits > bitsOr15(opts.ClientMaxWindowBits) {
		return nil, fmt.Errorf("conn: server's permessage-deflate answer: client_max_window_bits=%d over the %d offered", o.clientBits, bitsOr15(opts.ClientMaxWindowBits))
	}
	return &pmdParams{
		serverNoCtx: o.serverNoCtx,
		clientNoCtx: o.clientNoCtx || opts.ClientNoContextTakeover,
		serverBits:  bitsOr15(o.serverBits),
		clientBits:  min(bitsOr15(o.clientBits), bitsOr15(opts.ClientMaxWindowBits)),
		level:       opts.Level,
		threshold:   opts.threshold(),
	}, nil
}

// setCompression sets up the compressor and decompressor for the agreed
// parameters. Our compressor uses our role's window and takeover setting;
// the decompressor the peer's.
func (c *Conn) setCompression(p *pmdParams, ext string) {
	if p == nil {
		return
	}
	c.extensions = ext
	ownBits, ownNoCtx, peerBits, peerNoCtx := p.serverBits, p.serverNoCtx, p.clientBits, p.clientNoCtx
	if c.client {
		ownBits, ownNoCtx, peerBits, peerNoCtx = p.clientBits, p.clientNoCtx, p.serverBits, p.serverNoCtx
	}
	level := deflate.Level(p.level)
	if level == 0 {
		level = deflate.LevelFast
	}
	comp, err := deflate.NewCompressor(deflate.CompressorOptions{Level: level, WindowBits: ownBits, NoContextTakeover: ownNoCtx})
	if err != nil {
		panic("conn: " + err.Error()) // parameters were checked during negotiation
	}
	dec, err := deflate.NewDecompressor(deflate.DecompressorOptions{WindowBits: peerBits, NoContextTakeover: peerNoCtx})
	if err != nil {
		panic("conn: " + err.Error())
	}
	c.comp, c.decomp, c.threshold = comp, dec, p.threshold
	c.compBits, c.compNoCtx, c.compLevel = ownBits, ownNoCtx, level
	c.rsv = frame.RSV1
	c.src.c = c
}

// errCorrupt fails a connection whose peer sent compressed data that does
// not inflate.
var errCorrupt = &frame.ProtocolError{Code: frame.CloseInvalidPayload, Reason: "permessage-deflate data does not inflate"}

// inflateErr maps a decompression error to the protocol error it calls for.
func (c *Conn) inflateErr(err error) error {
	if _, ok := protocolCode(err); ok {
		return err // from reading frames
	}
	switch {
	case errors.Is(err, deflate.ErrTooLarge):
		return tooBig(c.opts.readLimit)
	case errors.Is(err, deflate.ErrCorrupt):
		return errCorrupt
	}
	return err // I/O
}

// payloadSource reads the compressed payload of the current message across
// its frames, for the decompressor.
type payloadSource struct{ c *Conn }

func (s *payloadSource) Read(p []byte) (int, error) {
	c := s.c
	for c.fremain == 0 {
		if c.fhdr.Fin {
			return 0, io.EOF
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, err
		}
	}
	return c.readPayload(p)
}
