package realtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wirelevel/ws/realtime/socketio"
)

// Broadcast selects sockets of a namespace to act on (Node's
// BroadcastOperator): those in any of its rooms (every socket when there
// are none), minus those in any of its excepted rooms, with flags. Its
// methods return new values, so a Broadcast can be kept and reused.
// Everything it does goes through the namespace's [Adapter], so with a
// cluster adapter it reaches the sockets of every server.
type Broadcast struct {
	ns     *Namespace
	rooms  []string
	except []string
	flags  BroadcastFlags
}

// To returns b with more rooms to send to.
func (b Broadcast) To(rooms ...string) Broadcast {
	b.rooms = append(slices.Clip(b.rooms), rooms...)
	return b
}

// In is To.
func (b Broadcast) In(rooms ...string) Broadcast { return b.To(rooms...) }

// Except returns b with more rooms to leave out.
func (b Broadcast) Except(rooms ...string) Broadcast {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Volatile returns b with events dropped, rather than queued, for sockets
// whose transport is not writable at once (a polling client between two
// GETs, a WebSocket with a write in progress).
func (b Broadcast) Volatile() Broadcast { b.flags.Volatile = true; return b }

// Compress returns b with permessage-deflate on or off for its events (on
// by default, where negotiated).
func (b Broadcast) Compress(on bool) Broadcast { b.flags.NoCompress = !on; return b }

// Local returns b restricted to this server's sockets.
func (b Broadcast) Local() Broadcast { b.flags.Local = true; return b }

// Timeout returns b whose EmitWithAck waits at most d for the
// acknowledgements.
func (b Broadcast) Timeout(d time.Duration) Broadcast { b.flags.Timeout = d; return b }

func (b Broadcast) options() BroadcastOptions {
	return BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// Emit sends an event to the selected sockets. It encodes the packet once
// and queues the same bytes for every recipient; over WebSocket each
// recipient gets them as one message (plus one per attachment). A recipient
// whose queue is full is closed (see [ErrBufferFull]); the others still get
// the event. Emit returns an error only when the arguments cannot be
// encoded.
func (b Broadcast) Emit(event string, args ...any) error {
	p, err := encodeEvent(b.ns.name, event, args, 0, false)
	if err != nil {
		return err
	}
	b.ns.adapter.Broadcast(p, b.options())
	return nil
}

// AckTimeoutError is returned by [Broadcast.EmitWithAck] when some
// acknowledgements did not come in time. It matches [ErrAckTimeout] with
// errors.Is.
type AckTimeoutError struct {
	Expected int // acknowledgements expected from the servers that answered
	Received int
	// ServersMissing counts the servers that did not report how many
	// sockets they sent the event to.
	ServersMissing int
}

// Error implements error.
func (e *AckTimeoutError) Error() string {
	msg := fmt.Sprintf("realtime: operation has timed out: %d of %d acknowledgements missing", e.Expected-e.Received, e.Expected)
	if e.ServersMissing > 0 {
		msg += fmt.Sprintf(", %d servers did not answer", e.ServersMissing)
	}
	return msg
}

// Is reports whether target is [ErrAckTimeout].
func (e *AckTimeoutError) Is(target error) bool { return target == ErrAckTimeout }

// EmitWithAck sends an event that asks every selected socket for an
// acknowledgement, and waits until each has answered, the timeout set with
// [Broadcast.Timeout] passes, or ctx is done. It returns the
// acknowledgements that came, in arrival order; when some are missing, an
// [*AckTimeoutError] naming how many (or ctx's error). With no socket
// selected it returns at once with none.
func (b Broadcast) EmitWithAck(ctx context.Context, event string, args ...any) ([]socketio.Args, error) {
	ns := b.ns
	id := ns.nextAckID()
	p, err := encodeEvent(ns.name, event, args, id, true)
	if err != nil {
		return nil, err
	}
	if b.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.flags.Timeout, ErrAckTimeout)
		defer cancel()
	}
	var (
		mu                sync.Mutex
		responses         []socketio.Args
		expectedClients   int
		serversAnswered   int
		expectedServers   = -1
		finished          bool
		done              = make(chan struct{})
		checkCompleteness = func() { // mu held
			if !finished && expectedServers >= 0 && serversAnswered >= expectedServers && len(responses) >= expectedClients {
				finished = true
				close(done)
			}
		}
	)
	ns.adapter.BroadcastWithAck(p, b.options(),
		func(n int) {
			mu.Lock()
			expectedClients += n
			serversAnswered++
			checkCompleteness()
			mu.Unlock()
		},
		func(a socketio.Args) {
			mu.Lock()
			if !finished {
				responses = append(responses, a)
			}
			checkCompleteness()
			mu.Unlock()
		})
	n := 1 // a Local broadcast has this server's count only
	if !b.flags.Local {
		var err error
		if n, err = ns.adapter.ServerCount(ctx); err != nil {
			n = 1
		}
	}
	mu.Lock()
	expectedServers = n
	checkCompleteness()
	mu.Unlock()
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return responses, nil
	case <-ctx.Done():
	}
	// Too late: forget the handlers so that late acknowledgements are
	// dropped.
	for _, s := range ns.localSockets() {
		s.forgetAck(id)
	}
	mu.Lock()
	defer mu.Unlock()
	finished = true
	out := slices.Clone(responses)
	if cause := context.Cause(ctx); !errors.Is(cause, ErrAckTimeout) {
		return out, ctx.Err()
	}
	missing := 0
	if expectedServers > serversAnswered {
		missing = expectedServers - serversAnswered
	}
	return out, &AckTimeoutError{Expected: expectedClients, Received: len(out), ServersMissing: missing}
}

// FetchSockets describes the selected sockets, cluster-wide. Each result
// can emit to its socket, make it join or leave rooms, or disconnect it.
func (b Broadcast) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	details, err := b.ns.adapter.FetchSockets(ctx, b.options())
	out := make([]*RemoteSocket, len(details))
	for i, d := range details {
		out[i] = &RemoteSocket{ID: d.ID, Handshake: d.Handshake, Rooms: d.Rooms, Data: d.Data, ns: b.ns}
	}
	return out, err
}

// AllSockets returns the ids of the sockets in b's rooms (every socket
// when there are none), cluster-wide, sorted.
func (b Broadcast) AllSockets(ctx context.Context) ([]string, error) {
	ids, err := b.ns.adapter.Sockets(ctx, b.rooms)
	slices.Sort(ids)
	return ids, err
}

// SocketsJoin makes the selected sockets join rooms.
func (b Broadcast) SocketsJoin(rooms ...string) { b.ns.adapter.AddSockets(b.options(), rooms) }

// SocketsLeave makes the selected sockets leave rooms.
func (b Broadcast) SocketsLeave(rooms ...string) { b.ns.adapter.DelSockets(b.options(), rooms) }

// DisconnectSockets disconnects the selected sockets ("server namespace
// disconnect"); with close, their whole connections.
func (b Broadcast) DisconnectSockets(close bool) { b.ns.adapter.DisconnectSockets(b.options(), close) }

// RemoteSocket is a socket as [Broadcast.FetchSockets] reports it,
// possibly on another server: its id, handshake, rooms and data at the
// time of the fetch, and what can be done to it from here.
type RemoteSocket struct {
	ID        string
	Handshake *Handshake
	Rooms     []string
	Data      any

	ns *Namespace
}

func (r *RemoteSocket) operator() Broadcast {
	return Broadcast{ns: r.ns, rooms: []string{r.ID}, flags: BroadcastFlags{ExpectSingleResponse: true}}
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.operator().Emit(event, args...)
}

// EmitWithAck sends an event asking the socket for an acknowledgement and
// waits for it until ctx is done.
func (r *RemoteSocket) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Args, error) {
	acks, err := r.operator().EmitWithAck(ctx, event, args...)
	if len(acks) > 0 {
		return acks[0], nil
	}
	if err == nil {
		err = ErrClosed // the socket was gone
	}
	return socketio.Args{}, err
}

// Timeout returns a broadcast to the socket alone whose EmitWithAck waits
// at most d.
func (r *RemoteSocket) Timeout(d time.Duration) Broadcast { return r.operator().Timeout(d) }

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) { r.operator().SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) { r.operator().SocketsLeave(rooms...) }

// Disconnect disconnects the socket; with close, its whole connection.
func (r *RemoteSocket) Disconnect(close bool) { r.operator().DisconnectSockets(close) }
