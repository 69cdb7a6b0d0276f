package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/realtime/engineio"
)

var probeReply = []byte("3probe")

// readLoop reads the session's WebSocket until it fails or the session
// closes.
func (ss *Session) readLoop(c *conn.Conn) {
	for {
		typ, b, err := c.ReadMessage(context.Background(), nil)
		if err != nil {
			ss.readFailed(err)
			return
		}
		if !ss.onWebSocketMessage(typ, b) {
			return
		}
	}
}

// readFailed closes the session whose WebSocket read failed.
func (ss *Session) readFailed(err error) {
	reason := ReasonTransportError
	if conn.CloseStatus(err) != 0 {
		reason = ReasonTransportClose
	}
	ss.close(reason, err, false)
}

// onWebSocketMessage handles one WebSocket message, which it keeps (the
// caller must not reuse b), and reports whether to go on reading.
func (ss *Session) onWebSocketMessage(typ conn.MessageType, b []byte) bool {
	p := engineio.Packet{Type: engineio.Message, Data: b, Binary: true}
	if typ == conn.Text {
		var err error
		if p, err = engineio.ParsePacket(b); err != nil {
			ss.close(ReasonParseError, err, false)
			return false
		}
	}
	ss.inMu.Lock()
	err := ss.onPacket(p)
	ss.inMu.Unlock()
	if err != nil {
		if !errors.Is(err, errSessionEnded) {
			ss.close(ReasonParseError, err, false)
		}
		return false
	}
	return true
}

// readOn runs a session's WebSocket reader. With a Poller, the connection
// is watched by it and no goroutine waits on it. Otherwise, over HTTP/1.1 it
// runs on a goroutine of its own and the handler returns, so that
// net/http's goroutine and its buffers for the connection (8 KiB) go away;
// an HTTP/2 stream (RFC 8441) lives only as long as its handler, which reads
// then.
func (ss *Session) readOn(r *http.Request, c *conn.Conn) {
	if r.ProtoMajor != 1 {
		if ss.srv.enter() {
			defer ss.srv.leave()
		}
		ss.readLoop(c)
		return
	}
	if p := ss.srv.opts.Poller; p != nil {
		err := p.Add(c, conn.PollHandler{
			OnMessage: func(c *conn.Conn, typ conn.MessageType, b []byte) {
				if !ss.onWebSocketMessage(typ, bytes.Clone(b)) {
					c.CloseNow()
				}
			},
			OnClose: func(_ *conn.Conn, err error) { ss.readFailed(err) },
		})
		if err == nil {
			return
		}
	}
	ss.srv.spawn(func() { ss.readLoop(c) })
}

// writerLinger is how long a writer waits for more messages before it
// ends: long enough that a busy session keeps its writer, short enough that
// an idle one soon holds none.
const writerLinger = 250 * time.Millisecond

// startWriterLocked starts a writer for the WebSocket unless one runs or
// there is nothing to do. The writer runs only while messages come (it
// ends writerLinger after the last one): an idle session has none, which
// saves its stack.
func (ss *Session) startWriterLocked() {
	if ss.ws != nil && !ss.writer && (len(ss.queue) > 0 || ss.closed) {
		ss.writer = true
		c := ss.ws
		ss.srv.spawn(func() { ss.writeLoop(c) })
	}
}

// writeLoop writes the queue to the WebSocket, each batch with one write,
// until it is empty; once the session has closed it closes the connection
// (after the queue when the session was closed with flush).
func (ss *Session) writeLoop(c *conn.Conn) {
	var spare []queued
	var idle *time.Timer
	for {
		ss.mu.Lock()
		if len(ss.queue) == 0 {
			if !ss.closed {
				ss.mu.Unlock()
				if idle == nil {
					idle = time.NewTimer(writerLinger)
				} else {
					idle.Reset(writerLinger)
				}
				select {
				case <-ss.wsWake:
					continue
				case <-idle.C:
				}
				ss.mu.Lock()
				if len(ss.queue) > 0 || ss.closed {
					ss.mu.Unlock()
					continue
				}
				ss.writer = false
				ss.queue, spare = nil, nil // an idle session keeps no buffer
				ss.mu.Unlock()
				return
			}
			err := ss.err
			ss.mu.Unlock()
			code := frame.CloseNormal
			if errors.Is(err, ErrServerClosed) {
				code = frame.CloseGoingAway
			}
			c.Close(code, "")
			return
		}
		batch := ss.queue
		ss.queue, ss.queued = spare, 0
		ss.writing = true
		ss.mu.Unlock()
		// Queue the batch and send it with one write, or one per Separate
		// group and the runs between them.
		pending := false
		flush := func() bool {
			pending = false
			if err := c.Flush(context.Background()); err != nil {
				ss.close(ReasonTransportError, err, false)
				return false
			}
			return true
		}
		for _, m := range batch {
			if ss.dropping.Load() {
				break
			}
			if m.flushBefore && pending && !flush() {
				break
			}
			typ := conn.Text
			if m.binary {
				typ = conn.Binary
			}
			if m.noCompress {
				typ |= conn.Uncompressed
			}
			if err := c.QueueMessage(typ, m.data); err != nil {
				ss.close(ReasonTransportError, err, false)
				break
			}
			pending = true
			if m.flushAfter {
				if !flush() {
					break
				}
				time.Sleep(SeparateGap)
			}
		}
		if pending {
			flush()
		}
		clear(batch)
		spare = batch[:0]
		ss.mu.Lock()
		ss.writing = false
		ss.mu.Unlock()
	}
}

// serveUpgrade takes a WebSocket for a polling session: it answers the
// client's "2probe" with "3probe", makes waiting GETs return a noop so the
// client can pause polling, and on the client's upgrade packet "5" moves the
// session, with its queue, to the WebSocket. See the Engine.IO protocol,
// version 4, section "Upgrade". A WebSocket for a session that is already
// upgrading or upgraded is accepted and closed at once, as the reference
// server does.
func (ss *Session) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	if ss.closed || ss.transport != polling || ss.upgrading || ss.srv.opts.DisableUpgrades {
		ss.mu.Unlock()
		if c, err := conn.Accept(w, r, ss.srv.acceptOptions(r, "")); err == nil {
			c.Close(frame.CloseNoStatus, "")
		}
		return
	}
	ss.upgrading, ss.probed = true, false
	ss.mu.Unlock()
	upgraded := false
	if ss.srv.enter() { // Close waits for the probe
		c, err := conn.Accept(w, r, ss.srv.acceptOptions(r, ""))
		if err == nil {
			if upgraded = ss.probe(c); !upgraded {
				c.CloseNow()
			}
		}
		ss.srv.leave()
		if upgraded {
			ss.readOn(r, c)
			return
		}
	}
	ss.mu.Lock()
	ss.upgrading, ss.probed = false, false
	ss.mu.Unlock()
	ss.wake()
}

// probe runs the upgrade on c within UpgradeTimeout and reports whether the
// session moved to it. A close of the session ends a probe that has not
// been answered yet; after the answer the client has paused polling, so
// the probe goes on and the client learns of the close over the new
// WebSocket.
func (ss *Session) probe(c *conn.Conn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), ss.srv.opts.UpgradeTimeout)
	defer cancel()
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return false
	}
	ss.probeCancel = cancel
	ss.mu.Unlock()
	for {
		typ, b, err := c.ReadMessage(ctx, nil)
		if err != nil || typ != conn.Text {
			return false
		}
		switch string(b) {
		case "2probe":
			if err := c.WriteMessage(ctx, conn.Text, probeReply); err != nil {
				return false
			}
			ss.mu.Lock()
			ss.probed = true
			ss.mu.Unlock()
			ss.wake()
		case "5":
			ss.mu.Lock()
			if !ss.probed {
				ss.mu.Unlock()
				return false
			}
			// A session closed meanwhile still moves: the writer then
			// sends what is left and the close frame, which is how the
			// client, which has paused polling, learns of the close (as
			// with Node's engine.io).
			ss.transport, ss.upgrading = websocket, false
			ss.ws = c
			ss.startWriterLocked()
			listeners := ss.onUpgrade
			ss.mu.Unlock()
			ss.wake()
			for _, fn := range listeners {
				fn()
			}
			return true
		default:
			return false
		}
	}
}
