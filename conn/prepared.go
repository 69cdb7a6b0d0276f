//go:build !js

package conn

import (
	"context"
	"sync"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/frame"
)

// PreparedMessage is a message encoded once for sending on many
// connections, as a broadcast does. A server Conn sends its ready-made
// frame bytes without copying or compressing again: the plain frame, or,
// for connections whose own compressor works without context takeover, a
// frame compressed once per window size. Connections that need their own
// encoding (clients, which mask every frame, and compression with context
// takeover) send it as WriteMessage or QueueMessage would. A
// PreparedMessage is safe for concurrent use.
type PreparedMessage struct {
	typ  MessageType // with Uncompressed if it was given
	data []byte

	mu       sync.Mutex
	plain    []byte         // the unmasked frame
	deflated map[int][]byte // the compressed unmasked frame, by window bits
}

// NewPreparedMessage returns a PreparedMessage of type typ (Text or Binary,
// with or without [Uncompressed]) holding a copy of data.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if _, _, err := typ.split(); err != nil {
		return nil, err
	}
	return &PreparedMessage{typ: typ, data: append([]byte(nil), data...)}, nil
}

// Type returns the message type, without the Uncompressed flag.
func (pm *PreparedMessage) Type() MessageType { return pm.typ &^ Uncompressed }

// frameFor returns the frame bytes c can send as they are, or nil if c
// must encode the message itself.
func (pm *PreparedMessage) frameFor(c *Conn) []byte {
	if c.client {
		return nil
	}
	op, compress, _ := pm.typ.split()
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if !c.mayCompress(compress) || len(pm.data) < c.threshold {
		if pm.plain == nil {
			pm.plain = frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: op}, pm.data)
		}
		return pm.plain
	}
	if !c.compNoCtx {
		return nil
	}
	if b, ok := pm.deflated[c.compBits]; ok {
		return b
	}
	comp, err := deflate.NewCompressor(deflate.CompressorOptions{Level: deflate.Level(c.level.Load()), WindowBits: c.compBits, NoContextTakeover: true})
	if err != nil {
		return nil
	}
	payload := comp.AppendMessage(nil, pm.data)
	b := frame.AppendFrame(nil, frame.Header{Fin: true, Rsv: frame.RSV1, Opcode: op}, payload)
	if pm.deflated == nil {
		pm.deflated = make(map[int][]byte)
	}
	pm.deflated[c.compBits] = b
	return b
}

// WritePrepared sends a prepared message directly, as WriteMessage would
// send its payload: after any queued messages, waiting for the socket.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	b := pm.frameFor(c)
	if b == nil {
		return c.WriteMessage(ctx, pm.typ, pm.data)
	}
	if err := c.lockMsg(ctx); err != nil {
		return err
	}
	defer c.unlockMsg()
	if err := c.writable(); err != nil {
		return err
	}
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	defer c.unlockWrite()
	return c.guardWrite(ctx, c.opts.writeTimeout, func() error {
		_, err := c.sendLocked(true, b, nil)
		return err
	})
}

// QueuePrepared adds a prepared message to this Conn's outgoing buffer, as
// QueueMessage does with a payload: it is batched with the other queued
// messages and goes out as they do. The frame is encoded (and compressed)
// once for every connection it is queued on, and a large one waits in each
// outgoing buffer by reference, not as a copy. QueuePrepared is for
// sending to many connections: it never waits, not for the socket nor for
// a message being written with NextWriter (the prepared message follows
// it). Once [Options.MaxBuffered] bytes wait, it refuses the message with
// [ErrBufferFull] and fails the connection or drops the message, as
// [Options.WhenFull] says.
func (c *Conn) QueuePrepared(pm *PreparedMessage) error {
	b := pm.frameFor(c)
	if b == nil {
		return c.queueMessage(pm.typ, pm.data, false)
	}
	if err := c.admit(); err != nil {
		return err
	}
	if !c.msgMu.TryLock() {
		c.outMu.Lock()
		if !c.msgMu.TryLock() {
			// A message is being written: this one waits for it.
			c.out.held = append(c.out.held, heldMsg{pm: pm, n: len(b)})
			c.outN.Add(int64(len(b)))
			c.outMu.Unlock()
			return nil
		}
		c.outMu.Unlock()
	}
	c.queuePreparedLocked(b)
	c.unlockMsg()
	return nil
}

// queuePreparedLocked queues the frame of a prepared message. Called with
// msgMu held.
func (c *Conn) queuePreparedLocked(b []byte) {
	c.outMu.Lock()
	c.out.appendPrepared(b, c.opts.writeBufferSize)
	c.outN.Add(int64(len(b)))
	batch := c.out.n >= c.opts.writeBufferSize
	c.outMu.Unlock()
	if batch {
		c.flushSoon()
	}
}
