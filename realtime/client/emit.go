package client

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/realtime/engineio"
	"github.com/wirelevel/ws/realtime/socketio"
)

// Emit sends an event, or buffers it while disconnected (see the package
// documentation). []byte arguments become binary attachments; they are
// copied.
func (c *Client) Emit(event string, args ...any) error {
	msgs, err := c.encodeEvent(event, args, 0, false)
	if err != nil {
		return err
	}
	return c.send(outPacket{msgs: msgs, name: event, args: args})
}

// EmitWithAck sends an event that asks the server for an acknowledgement
// and waits for it until ctx is done, or for Options.AckTimeout if that is
// set, after which it returns [ErrTimeout]. While disconnected the event is
// buffered like Emit's. If the wait ends while the event is still in the
// buffer, the event is taken out and never sent, as in the official client.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Args, error) {
	return c.emitWithAck(ctx, c.opts.AckTimeout, event, args)
}

// Timeout returns an [Emitter] whose EmitWithAck waits at most d for the
// acknowledgement and then fails with [ErrTimeout], like the official
// client's socket.timeout(d).emit(..., cb):
//
//	reply, err := c.Timeout(2*time.Second).EmitWithAck(ctx, "join", "lobby")
//	if errors.Is(err, client.ErrTimeout) { ... }
func (c *Client) Timeout(d time.Duration) *Emitter {
	return &Emitter{c: c, timeout: d}
}

// Emitter sends events with a per-call acknowledgement timeout; see
// [Client.Timeout].
type Emitter struct {
	c       *Client
	timeout time.Duration
}

// EmitWithAck is [Client.EmitWithAck] with the Emitter's timeout in place of
// Options.AckTimeout.
func (em *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Args, error) {
	return em.c.emitWithAck(ctx, em.timeout, event, args)
}

func (c *Client) emitWithAck(ctx context.Context, timeout time.Duration, event string, args []any) (socketio.Args, error) {
	w := &ackWait{ch: make(chan ackResult, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return socketio.Args{}, ErrClosed
	}
	id := c.nextAck
	c.nextAck++
	c.acks[id] = w
	c.mu.Unlock()
	msgs, err := c.encodeEvent(event, args, id, true)
	if err == nil {
		err = c.send(outPacket{msgs: msgs, ackID: id, hasAck: true, name: event, args: args})
	}
	if err != nil {
		c.forgetAck(id)
		return socketio.Args{}, err
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case r := <-w.ch:
		return r.args, r.err
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = ErrTimeout
	}
	if !c.forgetAck(id) {
		r := <-w.ch // the answer came meanwhile
		return r.args, r.err
	}
	return socketio.Args{}, err
}

// forgetAck stops waiting for acknowledgement id and takes its packet out
// of the buffer. It returns false if the wait had already ended; its
// result is then in the wait's channel.
func (c *Client) forgetAck(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.acks[id] == nil {
		return false
	}
	delete(c.acks, id)
	for i := range c.buf {
		if c.buf[i].hasAck && c.buf[i].ackID == id {
			c.buf = append(c.buf[:i:i], c.buf[i+1:]...)
			break
		}
	}
	return true
}

// failAckLocked ends the wait for acknowledgement id with err.
func (c *Client) failAckLocked(id uint64, err error) {
	if w := c.acks[id]; w != nil {
		delete(c.acks, id)
		w.ch <- ackResult{err: err}
	}
}

func (c *Client) encodeEvent(event string, args []any, id uint64, hasID bool) ([]wireMsg, error) {
	data, atts, err := socketio.AppendEvent(nil, nil, event, args...)
	if err != nil {
		return nil, err
	}
	p := &socketio.Packet{Type: socketio.Event, Namespace: c.nsp, HasID: hasID, ID: id, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = socketio.BinaryEvent
	}
	return encode(p), nil
}

// encode returns the Engine.IO messages of a packet: the text message, then
// one binary message per attachment; attachments are copied.
func encode(p *socketio.Packet) []wireMsg {
	text := socketio.AppendPacket([]byte{'0' + byte(engineio.Message)}, p)
	msgs := make([]wireMsg, 1, 1+len(p.Attachments))
	msgs[0] = wireMsg{data: text}
	for _, a := range p.Attachments {
		msgs = append(msgs, wireMsg{binary: true, data: append([]byte(nil), a...)})
	}
	return msgs
}

// send hands a packet to the current connection, or buffers it.
func (c *Client) send(p outPacket) error {
	// The outgoing listeners see a packet before it is written, as in the
	// official client, and outside sendMu, so that they may emit.
	c.mu.Lock()
	online := c.eng != nil
	c.mu.Unlock()
	if online {
		c.notifyOut(&p)
		p.notified = true
	}
	c.sendMu.Lock()
	sent, err := c.sendLocked(&p)
	c.sendMu.Unlock()
	if sent && !p.notified {
		c.notifyOut(&p)
	}
	return err
}

// sendLocked is send with sendMu held; it reports whether the packet went
// to a connection.
func (c *Client) sendLocked(p *outPacket) (bool, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false, ErrClosed
	}
	e := c.eng
	if e == nil {
		defer c.mu.Unlock()
		return false, c.bufferLocked(*p)
	}
	if w := c.acks[p.ackID]; p.hasAck && w != nil {
		w.sent = true
	}
	c.mu.Unlock()
	if err := e.write(c.ctx, p.msgs, p, false); err != nil {
		// The connection is broken; the reader will notice. Keep the
		// packet for the next one.
		c.mu.Lock()
		defer c.mu.Unlock()
		if w := c.acks[p.ackID]; p.hasAck && w != nil {
			w.sent = false
		}
		if c.eng == e {
			c.eng = nil
		}
		return false, c.bufferLocked(*p)
	}
	return true, nil
}

// bufferLocked keeps a packet for the next connection, dropping the oldest
// when the buffer is full.
func (c *Client) bufferLocked(p outPacket) error {
	if c.opts.BufferSize < 0 {
		return ErrNotConnected
	}
	if len(c.buf) >= c.opts.BufferSize {
		c.dropOldestLocked()
	}
	c.buf = append(c.buf, p)
	return nil
}

func (c *Client) dropOldestLocked() {
	old := c.buf[0]
	c.buf[0] = outPacket{}
	c.buf = c.buf[1:]
	c.dropped.Add(1)
	if old.hasAck {
		c.failAckLocked(old.ackID, ErrDropped)
	}
}

// Event is an event received from the server. With connection state
// recovery on, a server adds the event's offset (a string) as the last
// argument of the events it broadcasts; it stays in Args, as in the
// official client.
type Event struct {
	Name string
	Args socketio.Args

	c        *Client
	gen      uint64
	id       uint64
	wantsAck bool
	acked    atomic.Bool
}

// WantsAck reports whether the server asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.wantsAck }

// Ack sends the acknowledgement the server asked for, at most once. It
// fails with [ErrNotConnected] if the connection the event came on has
// ended.
func (e *Event) Ack(args ...any) error {
	if !e.wantsAck {
		return errors.New("client: the event wants no acknowledgement")
	}
	if e.acked.Swap(true) {
		return errors.New("client: the event is already acknowledged")
	}
	data, atts, err := socketio.AppendArgs(nil, nil, args...)
	if err != nil {
		return err
	}
	p := &socketio.Packet{Type: socketio.Ack, Namespace: e.c.nsp, HasID: true, ID: e.id, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = socketio.BinaryAck
	}
	c := e.c
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	eng := c.eng
	same := c.gen == e.gen && eng != nil
	c.mu.Unlock()
	if !same {
		return ErrNotConnected
	}
	return eng.write(c.ctx, encode(p), nil, false)
}
