package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/realtime/engineio"
)

// Transport names an Engine.IO transport, as the official client's
// transports option does.
type Transport string

// The transports the client speaks.
const (
	// Polling is HTTP long-polling: a GET waits for the server's packets,
	// a POST carries the client's.
	Polling Transport = "polling"
	// WebSocket carries one packet per WebSocket message.
	WebSocket Transport = "websocket"
)

// wireMsg is one Engine.IO packet as it goes over the wire: a text packet
// with its type digit ("4..." for a message, "3" for a pong), or the bytes
// of a binary message.
type wireMsg struct {
	binary bool
	data   []byte
}

// pollLen returns the size of m in a polling payload.
func (m wireMsg) pollLen() int {
	if m.binary {
		return 1 + base64.StdEncoding.EncodedLen(len(m.data))
	}
	return len(m.data)
}

// appendPoll appends m in its polling form: binary as "b" and base64.
func appendPoll(dst []byte, m wireMsg) []byte {
	if m.binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, m.data)
	}
	return append(dst, m.data...)
}

// Control packets the client sends.
var (
	pongMsg    = wireMsg{data: []byte{'0' + byte(engineio.Pong)}}
	closeMsg   = wireMsg{data: []byte{'0' + byte(engineio.Close)}}
	upgradeMsg = wireMsg{data: []byte{'0' + byte(engineio.Upgrade)}}
	probeMsg   = wireMsg{data: []byte("2probe")}
)

// pollQueueMin is the least number of bytes the polling write queue holds
// before writers wait; see [engine.write].
const pollQueueMin = 1 << 20

// qitem is one unit of the polling write queue: the messages of one
// Socket.IO packet, or one control packet.
type qitem struct {
	msgs []wireMsg
	sent int        // messages already posted
	p    *outPacket // the packet msgs encode; nil for acks and control packets
}

// engine is one Engine.IO session: the handshake, the heartbeat, one
// transport at a time and the upgrade from polling to WebSocket.
//
// One goroutine reads (recv); writes (write) come from any goroutine, in
// the order the client's sendMu gives them. Over polling, a POST goroutine
// drains the write queue, one POST at a time, and the reader does the GETs,
// one at a time. An upgrade goroutine probes the WebSocket; the reader
// switches to it between two GETs once no POST is in flight.
type engine struct {
	c      *Client
	hs     engineio.Handshake
	window time.Duration   // pingInterval + pingTimeout
	ctx    context.Context // canceled when the engine fails
	cancel context.CancelFunc
	wg     sync.WaitGroup // the POST and upgrade goroutines

	// Read state, used by the reading goroutine only.
	rest     []byte    // unread packets of the last polling response; nil when none
	deadline time.Time // a ping must come by then; zero before the handshake

	wsMu sync.Mutex // held while writing on the WebSocket and while switching to it

	mu sync.Mutex
	// guarded by mu
	tr      Transport
	ws      *conn.Conn    // the WebSocket, once tr is WebSocket
	probe   *conn.Conn    // a probed WebSocket ready to take over; no new POST starts
	queue   []qitem       // polling: packets waiting for a POST
	queued  int           // bytes in queue, in polling form
	posting bool          // the POST goroutine runs
	changed chan struct{} // closed and replaced when posting, queue, probe or err change
	closing bool          // shutdown has begun: no upgrade any more
	err     error         // why the engine failed, a *DisconnectError; set once
}

func newEngine(c *Client, tr Transport) *engine {
	e := &engine{c: c, tr: tr, changed: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancel(c.ctx)
	return e
}

// notifyLocked wakes the goroutines waiting for a change.
func (e *engine) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// fail ends the engine with reason and err, unless it has already failed,
// and returns the error it ended with.
func (e *engine) fail(reason DisconnectReason, err error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	e.err = &DisconnectError{Reason: reason, Err: err}
	e.cancel()
	if e.ws != nil {
		e.ws.CloseNow()
	}
	if e.probe != nil {
		e.probe.CloseNow()
		e.probe = nil
	}
	e.notifyLocked()
	return e.err
}

func (e *engine) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// transport returns the transport in use.
func (e *engine) transport() Transport {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tr
}

// open performs the handshake: the first polling GET, or the first
// WebSocket message. On success the upgrade to WebSocket starts, if the
// server offers it and the client wants it.
func (e *engine) open(ctx context.Context) error {
	var first []byte
	if e.tr == WebSocket {
		ws, err := e.c.dialWS(ctx, "")
		if err != nil {
			return err
		}
		e.ws = ws
		typ, b, err := ws.ReadMessage(ctx, nil)
		if err != nil {
			return err
		}
		if typ != conn.Text {
			return fmt.Errorf("client: first message is binary, want the open packet")
		}
		first = b
	} else {
		body, err := e.get(ctx)
		if err != nil {
			return err
		}
		first = body
		if i := bytes.IndexByte(body, engineio.Separator); i >= 0 {
			first, e.rest = body[:i], body[i+1:]
		}
	}
	p, err := engineio.ParsePacket(first)
	if err == nil && p.Type != engineio.Open {
		err = fmt.Errorf("client: first packet is %s, want open", p.Type)
	}
	if err == nil {
		e.hs, err = engineio.ParseHandshake(p.Data)
	}
	if err != nil {
		return err
	}
	// A hostile handshake must not overflow the duration: at most a day.
	const maxWindow = int64(24 * time.Hour / time.Millisecond)
	ms := min(e.hs.PingInterval, maxWindow) + min(e.hs.PingTimeout, maxWindow)
	e.window = time.Duration(ms) * time.Millisecond
	e.deadline = time.Now().Add(e.window)
	if e.ws != nil {
		e.ws.SetReadDeadline(e.deadline)
	}
	if e.tr == Polling && e.c.wantUpgrade() && slices.Contains(e.hs.Upgrades, string(WebSocket)) {
		e.wg.Add(1)
		go e.upgrade()
	}
	return nil
}

// close ends the engine, waits for its goroutines and returns the packets
// that were queued but not posted, in order.
func (e *engine) close() []qitem {
	e.fail(ReasonClientDisconnect, ErrClosed)
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queue
	e.queue, e.queued = nil, 0
	return q
}

// shutdown ends the session gracefully, for [Client.Close]: a WebSocket
// close, or a close packet and the end of the POSTs, within timeout.
func (e *engine) shutdown(timeout time.Duration) {
	e.mu.Lock()
	tr, ws, err := e.tr, e.ws, e.err
	// Give up an upgrade under way: its pause would hold the close packet
	// back, and the reader that would switch may be gone.
	e.closing = true
	if e.probe != nil {
		e.probe.CloseNow()
		e.probe = nil
		e.notifyLocked()
	}
	e.mu.Unlock()
	if err != nil {
		return
	}
	if tr == WebSocket {
		ws.Close(frame.CloseNormal, "")
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	if e.write(ctx, []wireMsg{closeMsg}, nil, true) != nil {
		return
	}
	for {
		e.mu.Lock()
		idle := e.err != nil || e.tr != Polling || !e.posting && len(e.queue) == 0
		ch := e.changed
		e.mu.Unlock()
		if idle {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// recv returns the next message packet, text or binary. It answers pings,
// keeps the heartbeat deadline and switches to a probed WebSocket. Its
// errors are *DisconnectError, or ctx's error.
func (e *engine) recv(ctx context.Context) (engineio.Packet, error) {
	for {
		p, err := e.read(ctx)
		if err != nil {
			return p, err
		}
		switch p.Type {
		case engineio.Message:
			return p, nil
		case engineio.Ping:
			e.deadline = time.Now().Add(e.window)
			e.mu.Lock()
			if e.ws != nil {
				e.ws.SetReadDeadline(e.deadline)
			}
			e.mu.Unlock()
			if err := e.write(ctx, []wireMsg{pongMsg}, nil, true); err != nil {
				return engineio.Packet{}, err
			}
		case engineio.Close:
			return engineio.Packet{}, e.fail(ReasonTransportClose, ErrServerClose)
		case engineio.Noop, engineio.Pong, engineio.Upgrade:
		default:
			return engineio.Packet{}, e.fail(ReasonTransportError, fmt.Errorf("client: unexpected %s packet", p.Type))
		}
	}
}

// read returns the next packet of any type.
func (e *engine) read(ctx context.Context) (engineio.Packet, error) {
	for {
		if e.rest != nil {
			return e.nextPolled()
		}
		e.mu.Lock()
		tr, ws, probe, err := e.tr, e.ws, e.probe, e.err
		e.mu.Unlock()
		if err != nil {
			return engineio.Packet{}, err
		}
		if tr == WebSocket {
			typ, b, err := ws.ReadMessage(ctx, nil)
			if err != nil {
				return engineio.Packet{}, e.readFailed(ctx, err)
			}
			if typ == conn.Binary {
				return engineio.Packet{Type: engineio.Message, Data: b, Binary: true}, nil
			}
			p, err := engineio.ParsePacket(b)
			if err != nil {
				return p, e.fail(ReasonTransportError, err)
			}
			return p, nil
		}
		if probe != nil {
			if err := e.switchToWS(ctx); err != nil {
				return engineio.Packet{}, err
			}
			continue
		}
		body, err := e.get(ctx)
		if err != nil {
			return engineio.Packet{}, err
		}
		e.rest = body
	}
}

// nextPolled parses the next packet of the last polling response.
func (e *engine) nextPolled() (engineio.Packet, error) {
	one := e.rest
	if i := bytes.IndexByte(e.rest, engineio.Separator); i >= 0 {
		one, e.rest = e.rest[:i], e.rest[i+1:]
	} else {
		e.rest = nil
	}
	p, err := engineio.ParsePacket(one)
	if err != nil {
		e.rest = nil
		return p, e.fail(ReasonTransportError, err)
	}
	return p, nil
}

// readFailed classifies a failed WebSocket read.
func (e *engine) readFailed(ctx context.Context, err error) error {
	if ferr := e.failed(); ferr != nil {
		return ferr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var pe *frame.ProtocolError
	switch {
	case isTimeout(err):
		return e.fail(ReasonPingTimeout, ErrPingTimeout)
	case errors.As(err, &pe):
		return e.fail(ReasonTransportError, err)
	}
	return e.fail(ReasonTransportClose, err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// write sends msgs, the messages of one packet, in order and together: at
// once on a WebSocket, through the POST queue over polling. p is the packet
// they encode, to send again on the next connection if the queue is never
// posted; nil for packets that must not be sent again. Over polling a
// writer waits while the queue holds max(1 MiB, 2*maxPayload) bytes or
// more, unless control is set (pongs and the close packet always go in).
func (e *engine) write(ctx context.Context, msgs []wireMsg, p *outPacket, control bool) error {
	for {
		e.mu.Lock()
		if e.err != nil {
			err := e.err
			e.mu.Unlock()
			return err
		}
		if e.tr == WebSocket {
			e.mu.Unlock()
			return e.writeWS(ctx, msgs)
		}
		if control || len(e.queue) == 0 || e.queued < e.queueLimit() {
			e.queue = append(e.queue, qitem{msgs: msgs, p: p})
			for _, m := range msgs {
				e.queued += m.pollLen()
			}
			if !e.posting && e.probe == nil {
				e.posting = true
				e.wg.Add(1)
				go e.postLoop()
			}
			e.mu.Unlock()
			return nil
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (e *engine) queueLimit() int {
	return max(pollQueueMin, 2*e.maxPost())
}

// maxPost is the largest POST body the server takes: its maxPayload.
func (e *engine) maxPost() int {
	if e.hs.MaxPayload > 0 && e.hs.MaxPayload < 1<<40 {
		return int(e.hs.MaxPayload)
	}
	return 1_000_000 // the reference server's default
}

func (e *engine) writeWS(ctx context.Context, msgs []wireMsg) error {
	e.wsMu.Lock()
	defer e.wsMu.Unlock()
	e.mu.Lock()
	ws, err := e.ws, e.err
	e.mu.Unlock()
	if err != nil {
		return err
	}
	if err := writeMsgs(ctx, ws, msgs); err != nil {
		if ferr := e.failed(); ferr != nil {
			return ferr
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return e.fail(ReasonTransportError, err)
	}
	return nil
}

func writeMsgs(ctx context.Context, ws *conn.Conn, msgs []wireMsg) error {
	for _, m := range msgs {
		typ := conn.Text
		if m.binary {
			typ = conn.Binary
		}
		if err := ws.WriteMessage(ctx, typ, m.data); err != nil {
			return err
		}
	}
	return nil
}

// postLoop is the POST goroutine: it posts the queue, at most maxPayload
// bytes per POST, until the queue is empty, the engine fails or an upgrade
// pauses polling.
func (e *engine) postLoop() {
	defer e.wg.Done()
	var body []byte
	for {
		e.mu.Lock()
		if e.err != nil || e.probe != nil || len(e.queue) == 0 {
			e.posting = false
			e.notifyLocked()
			e.mu.Unlock()
			return
		}
		var n int
		body, n = e.batchLocked(body[:0])
		e.mu.Unlock()
		if err := e.post(body); err != nil {
			e.fail(ReasonTransportError, err)
			continue
		}
		e.mu.Lock()
		e.consumeLocked(n)
		e.notifyLocked()
		e.mu.Unlock()
	}
}

// batchLocked appends to dst the payload of the next POST: the queued
// messages in order, separated by 0x1e, as many as fit in maxPayload (at
// least one). It returns the payload and the number of messages.
func (e *engine) batchLocked(dst []byte) ([]byte, int) {
	limit := e.maxPost()
	n := 0
	for _, it := range e.queue {
		for _, m := range it.msgs[it.sent:] {
			if n > 0 && len(dst)+1+m.pollLen() > limit {
				return dst, n
			}
			if n > 0 {
				dst = append(dst, engineio.Separator)
			}
			dst = appendPoll(dst, m)
			n++
		}
	}
	return dst, n
}

// consumeLocked removes the first n queued messages, which were posted.
func (e *engine) consumeLocked(n int) {
	for n > 0 {
		it := &e.queue[0]
		k := min(n, len(it.msgs)-it.sent)
		for _, m := range it.msgs[it.sent : it.sent+k] {
			e.queued -= m.pollLen()
		}
		it.sent += k
		n -= k
		if it.sent == len(it.msgs) {
			e.queue[0] = qitem{}
			e.queue = e.queue[1:]
		}
	}
	if len(e.queue) == 0 {
		e.queue = nil // let the backing array go
	}
}

// upgrade is the upgrade goroutine: it opens a WebSocket for the session
// and probes it (2probe, 3probe). On success it hands the WebSocket to the
// reader, which switches to it; on failure the session stays on polling,
// as in the official client.
func (e *engine) upgrade() {
	defer e.wg.Done()
	ctx, cancel := context.WithTimeout(e.ctx, e.c.opts.ConnectTimeout)
	defer cancel()
	ws, err := e.c.dialWS(ctx, e.hs.SID)
	if err != nil {
		return
	}
	if err := writeMsgs(ctx, ws, []wireMsg{probeMsg}); err != nil {
		ws.CloseNow()
		return
	}
	typ, b, err := ws.ReadMessage(ctx, nil)
	if err != nil || typ != conn.Text || string(b) != "3probe" {
		ws.CloseNow()
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil || e.closing {
		ws.CloseNow()
		return
	}
	e.probe = ws
	e.notifyLocked()
}

// switchToWS moves the session to the probed WebSocket: it waits for the
// POST in flight, sends the upgrade packet and then the queue on the
// WebSocket. The reader calls it between two GETs, so no GET is in flight.
func (e *engine) switchToWS(ctx context.Context) error {
	for {
		e.wsMu.Lock()
		e.mu.Lock()
		if e.err != nil {
			err := e.err
			e.mu.Unlock()
			e.wsMu.Unlock()
			return err
		}
		if e.probe == nil { // given up by shutdown meanwhile
			e.mu.Unlock()
			e.wsMu.Unlock()
			return nil
		}
		if !e.posting {
			break
		}
		ch := e.changed
		e.mu.Unlock()
		e.wsMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ws := e.probe
	e.probe, e.ws, e.tr = nil, ws, WebSocket
	q := e.queue
	e.queue, e.queued = nil, 0
	e.notifyLocked()
	e.mu.Unlock()
	defer e.wsMu.Unlock()
	ws.SetReadDeadline(e.deadline)
	i := 0
	err := writeMsgs(ctx, ws, []wireMsg{upgradeMsg})
	for ; err == nil && i < len(q); i++ {
		err = writeMsgs(ctx, ws, q[i].msgs[q[i].sent:])
	}
	if err == nil {
		return nil
	}
	if i > 0 {
		i-- // q[i-1] failed
	}
	e.mu.Lock()
	e.queue = q[i:] // sent again on the next connection
	e.mu.Unlock()
	return e.fail(ReasonTransportError, err)
}

// checkBody checks a polling response body.
func checkBody(body []byte) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: polling response is not valid UTF-8", engineio.ErrBadPacket)
	}
	return nil
}
