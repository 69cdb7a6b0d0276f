//go:build !js

package conn

import (
	"errors"
	"fmt"
	"io"

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

// pmdParams are the permessage-deflate parameters a handshake agreed on,
// with our compressor's level and threshold.
type pmdParams struct {
	deflate.Agreement
	level     int
	threshold int
}

// config returns the negotiation wishes of o for package deflate.
func (o *CompressionOptions) config() deflate.Config {
	return deflate.Config{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
}

func (o *CompressionOptions) check() error {
	if err := o.config().Check(); err != nil {
		return fmt.Errorf("conn: %w", err)
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
// none left the connection goes on without compression (RFC 7692, Section
// 5.1). Package deflate owns the rules (see [deflate.Config.Accept]).
func negotiateServer(opts *CompressionOptions, up *handshake.Upgrade) (*pmdParams, error) {
	if opts == nil {
		return nil, nil
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	cfg := opts.config()
	for _, e := range up.Offers {
		if e.Name != deflate.ExtensionName {
			continue
		}
		resp, a, err := cfg.Accept(e)
		if err != nil {
			continue // decline this offer
		}
		up.Extensions = resp.String()
		return &pmdParams{Agreement: a, level: opts.Level, threshold: opts.threshold()}, nil
	}
	return nil, nil
}

// offerClient returns the client's Sec-WebSocket-Extensions offer, or "".
func offerClient(opts *CompressionOptions) string {
	if opts == nil {
		return ""
	}
	return opts.config().Offer().String()
}

// acceptClient checks the server's answer to our offer and returns the
// agreed parameters. An answer that uses a parameter we did not allow fails
// the handshake (RFC 7692, Section 5.1).
func acceptClient(opts *CompressionOptions, exts []handshake.Extension) (*pmdParams, error) {
	if len(exts) == 0 {
		return nil, nil
	}
	if opts == nil || len(exts) > 1 || exts[0].Name != deflate.ExtensionName {
		return nil, errors.New("conn: server accepted extensions that were not offered")
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	a, err := opts.config().CheckResponse(exts[0])
	if err != nil {
		return nil, fmt.Errorf("conn: server's permessage-deflate answer: %w", err)
	}
	return &pmdParams{Agreement: a, level: opts.Level, threshold: opts.threshold()}, nil
}

// setCompression sets up the compressor and decompressor for the agreed
// parameters. Our compressor uses our role's window and takeover setting;
// the decompressor the peer's.
func (c *Conn) setCompression(p *pmdParams, ext string) {
	if p == nil {
		return
	}
	c.extensions = ext
	level := deflate.Level(p.level)
	if level == 0 {
		level = deflate.LevelFast
	}
	co := p.CompressorOptions(!c.client, level)
	comp, err := deflate.NewCompressor(co)
	if err != nil {
		panic("conn: " + err.Error()) // parameters were checked during negotiation
	}
	dec, err := deflate.NewDecompressor(p.DecompressorOptions(!c.client))
	if err != nil {
		panic("conn: " + err.Error())
	}
	c.comp, c.decomp, c.threshold = comp, dec, p.threshold
	c.compBits, c.compNoCtx, c.compNow = co.WindowBits, co.NoContextTakeover, level
	c.level.Store(int32(level))
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
