package conn

import (
	"context"
	"sync"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/frame"
)

// PreparedMessage is a message encoded once for sending on many
// connections, as a broadcast does. A server Conn writes its ready-made
// frame bytes without copying or compressing again: the plain frame, or,
// for connections whose own compressor works without context takeover, a
// frame compressed once per window size. Connections that need their own
// encoding (clients, which mask every frame, and compression with context
// takeover) fall back to WriteMessage. A PreparedMessage is safe for
// concurrent use.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu       sync.Mutex
	plain    []byte         // the unmasked frame
	deflated map[int][]byte // the compressed unmasked frame, by window bits
}

// NewPreparedMessage returns a PreparedMessage of type typ (Text or Binary)
// holding a copy of data.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if typ != Text && typ != Binary {
		return nil, errBadType
	}
	return &PreparedMessage{typ: typ, data: append([]byte(nil), data...)}, nil
}

// Type returns the message type.
func (pm *PreparedMessage) Type() MessageType { return pm.typ }

// frameFor returns the frame bytes c can send as they are, or nil if c
// must encode the message itself.
func (pm *PreparedMessage) frameFor(c *Conn) []byte {
	if c.client {
		return nil
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if c.comp == nil || len(pm.data) < c.threshold {
		if pm.plain == nil {
			pm.plain = frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.Opcode(pm.typ)}, pm.data)
		}
		return pm.plain
	}
	if !c.compNoCtx {
		return nil
	}
	if b, ok := pm.deflated[c.compBits]; ok {
		return b
	}
	comp, err := deflate.NewCompressor(deflate.CompressorOptions{Level: c.compLevel, WindowBits: c.compBits, NoContextTakeover: true})
	if err != nil {
		return nil
	}
	payload := comp.AppendMessage(nil, pm.data)
	b := frame.AppendFrame(nil, frame.Header{Fin: true, Rsv: frame.RSV1, Opcode: frame.Opcode(pm.typ)}, payload)
	if pm.deflated == nil {
		pm.deflated = make(map[int][]byte)
	}
	pm.deflated[c.compBits] = b
	return b
}

// WritePrepared sends a prepared message, as WriteMessage would send its
// payload.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	b := pm.frameFor(c)
	if b == nil {
		return c.WriteMessage(ctx, pm.typ, pm.data)
	}
	if err := c.lock(ctx, &c.msgMu); err != nil {
		return err
	}
	defer c.msgMu.Unlock()
	if err := c.lock(ctx, &c.writeMu); err != nil {
		return err
	}
	defer c.writeMu.Unlock()
	return c.guardWrite(ctx, c.opts.writeTimeout, func() error {
		_, err := c.nc.Write(b)
		return err
	})
}
