//go:build !js

package conn

import (
	"context"
	"errors"
	"time"

	"github.com/wirelevel/ws/frame"
)

// Control frames written by the application, and the bookkeeping behind
// OnPongReceived's round-trip time. The hooks themselves are fields of
// [Options]; the reader calls them from gotPing, gotPong (ping.go) and
// handleClose (close.go).

// maxPingsTimed bounds the pings whose send time is kept for
// OnPongReceived: a peer that never answers cannot make the map grow.
const maxPingsTimed = 32

// notePingLocked records that a ping with payload key is being written, for
// the rtt given to OnPongReceived. The first send time of a payload is
// kept. Called with pingMu held.
func (c *Conn) notePingLocked(key string) {
	if c.opts.onPong == nil {
		return
	}
	if _, ok := c.pingSent[key]; ok || len(c.pingSent) >= maxPingsTimed {
		return
	}
	if c.pingSent == nil {
		c.pingSent = make(map[string]time.Time)
	}
	c.pingSent[key] = time.Now()
}

// WritePing writes a ping frame with payload (at most 125 bytes) and
// returns once it is written, within ctx and [Options.WriteTimeout],
// without waiting for the pong: the pong goes to [Options.OnPongReceived]
// (with the round-trip time), and a peer that stops answering is the
// application's to notice. [Conn.Ping] is the form that waits. Like every
// control frame, the ping may go out between the fragments of a message
// being written.
func (c *Conn) WritePing(ctx context.Context, payload []byte) error {
	if len(payload) > frame.MaxControlPayload {
		return errors.New("conn: ping payload over 125 bytes")
	}
	if err := c.writable(); err != nil {
		return err
	}
	if c.opts.onPong != nil {
		c.pingMu.Lock()
		c.notePingLocked(string(payload))
		c.pingMu.Unlock()
	}
	return c.writeFrame(ctx, true, frame.OpPing, 0, payload)
}

// WritePong writes a pong frame with payload (at most 125 bytes) and
// returns once it is written, within ctx and [Options.WriteTimeout]. The
// Conn answers pings by itself; WritePong is for an
// [Options.OnPingReceived] hook that answers itself (later, or with
// another payload), and for unsolicited pongs, which RFC 6455 Section
// 5.5.3 allows as a one-way heartbeat.
func (c *Conn) WritePong(ctx context.Context, payload []byte) error {
	if len(payload) > frame.MaxControlPayload {
		return errors.New("conn: pong payload over 125 bytes")
	}
	if err := c.writable(); err != nil {
		return err
	}
	return c.writeFrame(ctx, true, frame.OpPong, 0, payload)
}

// WriteClose starts the closing handshake without waiting for it to end,
// as a browser's WebSocket.close() does: it writes a close frame with code
// and reason, after any queued messages, and returns once it is written
// (within [Options.CloseTimeout]). From then on no data message may be
// sent, and data messages that still arrive are dropped. The goroutine
// reading the Conn receives the peer's close frame as a [*CloseError], and
// the TCP connection is closed then (by the role's rules, as for Close),
// or CloseTimeout after the call at the latest. [Conn.Close] is the form
// that waits.
//
// Called from [Options.OnCloseReceived], WriteClose answers the peer's
// close frame with this code instead of the echo. The code and reason
// rules are Close's. WriteClose returns [ErrClosed] if a close frame has
// been sent already.
func (c *Conn) WriteClose(code CloseCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	sent, err := c.sendClose(code, reason, ErrClosed, true)
	if !sent {
		return ErrClosed
	}
	if err != nil {
		c.closeTCP()
		return err
	}
	t := time.AfterFunc(c.opts.closeTimeout, c.closeTCP)
	c.afterClose(func() { t.Stop() })
	return nil
}
