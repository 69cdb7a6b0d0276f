//go:build !js

package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/wirelevel/ws/frame"
)

// Ping sends a ping frame and waits for the pong that echoes it, or until ctx
// is done. With a nil payload Ping uses a payload of its own that no other
// ping shares; a payload over 125 bytes is an error. Pongs are processed by
// the goroutine reading the Conn, so Ping needs one.
func (c *Conn) Ping(ctx context.Context, payload []byte) error {
	if len(payload) > frame.MaxControlPayload {
		return errors.New("conn: ping payload over 125 bytes")
	}
	if err := c.writable(); err != nil {
		return err
	}
	ch := make(chan struct{})
	c.pingMu.Lock()
	if payload == nil {
		c.pingSeq++
		payload = binary.BigEndian.AppendUint64(make([]byte, 0, 8), c.pingSeq)
	}
	key := string(payload)
	if c.pings == nil {
		c.pings = make(map[string][]chan struct{})
	}
	c.pings[key] = append(c.pings[key], ch)
	c.notePingLocked(key)
	c.pingMu.Unlock()

	err := c.writeFrame(ctx, true, frame.OpPing, 0, payload)
	if err == nil {
		select {
		case <-ch:
			select {
			case <-c.done:
				return c.terminal()
			default:
				return nil
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	c.pingMu.Lock()
	chs := c.pings[key]
	for i, w := range chs {
		if w == ch {
			chs = append(chs[:i], chs[i+1:]...)
			break
		}
	}
	if len(chs) == 0 {
		delete(c.pings, key)
	} else {
		c.pings[key] = chs
	}
	c.pingMu.Unlock()
	return err
}

// gotPing answers a ping with payload p, unless OnPingReceived says not to.
func (c *Conn) gotPing(p []byte) error {
	// "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
	// response, unless it already received a Close frame" (Section 5.5.2).
	// Once we have sent a close frame we send nothing else.
	if c.closeState() != csOpen {
		return nil
	}
	if c.opts.onPing != nil && !c.opts.onPing(c, p) {
		return nil
	}
	return c.writeControl(frame.OpPong, p)
}

// gotPong wakes the Ping calls waiting for payload p and reports the pong to
// OnPongReceived. An unsolicited pong is otherwise ignored, as RFC 6455
// Section 5.5.3 allows.
func (c *Conn) gotPong(p []byte) {
	c.pingMu.Lock()
	if chs, ok := c.pings[string(p)]; ok {
		for _, ch := range chs {
			close(ch)
		}
		delete(c.pings, string(p))
	}
	var rtt time.Duration
	if sent, ok := c.pingSent[string(p)]; ok {
		rtt = max(time.Since(sent), 1)
		delete(c.pingSent, string(p))
	}
	c.pingMu.Unlock()
	if c.opts.onPong != nil {
		c.opts.onPong(c, p, rtt)
	}
}

// keepaliveTick runs on the keepalive timer. It alternates between sending a
// ping (and then waiting PongTimeout) and checking that some frame arrived
// since that ping (and then waiting out the rest of PingInterval).
func (c *Conn) keepaliveTick() {
	select {
	case <-c.done:
		return
	default:
	}
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	n := c.framesRead.Load()
	if c.kaFrames != 0 {
		// A ping is out: did anything arrive since?
		if n+1 == c.kaFrames {
			go c.failKeepalive()
			return
		}
		c.kaFrames = 0
		c.keepalive.Reset(max(c.opts.pingInterval-c.opts.pongTimeout, time.Millisecond))
		return
	}
	c.kaFrames = n + 1 // +1 so that 0 means "no ping out"
	c.keepalive.Reset(c.opts.pongTimeout)
	go func() {
		var p [8]byte
		binary.BigEndian.PutUint64(p[:], uint64(time.Now().UnixNano()))
		if c.opts.onPong != nil {
			c.pingMu.Lock()
			c.notePingLocked(string(p[:]))
			c.pingMu.Unlock()
		}
		c.writeControl(frame.OpPing, p[:])
	}()
}

// errKeepalive ends a connection whose peer stopped answering.
var errKeepalive = &frame.ProtocolError{Code: frame.CloseInternalError, Reason: "keepalive: no pong from the peer in time"}

// failKeepalive closes a connection whose peer did not answer a keepalive
// ping: a close frame with 1011, then TCP at once, since the peer is
// presumably gone.
func (c *Conn) failKeepalive() {
	c.sendClose(frame.CloseInternalError, "keepalive timeout", errKeepalive, true)
	c.closeTCP()
}
