package realtime

import (
	"slices"

	"github.com/wirelevel/ws/realtime/socketio"
)

// BroadcastWithOffset sends p to this process's sockets that opts selects,
// as Broadcast does, with the offset a message broker gave the broadcast
// rather than one of the adapter's own: with connection state recovery,
// an event without an acknowledgement id that is not volatile gets offset
// as its last argument (the client reconnects with the last one it saw),
// and nothing is kept in memory. An empty offset, or no connection state
// recovery, sends p as it is.
//
// Cluster adapters over a broker that numbers and keeps messages (Redis
// streams, as @socket.io/redis-streams-adapter) call it for every
// broadcast, their own once the broker has numbered it and the others' as
// they read them, and implement PersistSession and RestoreSession over the
// broker, returning the missed packets with their offsets appended.
func (a *MemoryAdapter) BroadcastWithOffset(p *socketio.Packet, opts BroadcastOptions, offset string) {
	if a.rec != nil && offset != "" && p.Type.IsEvent() && !p.HasID && !opts.Flags.Volatile {
		q := *p
		q.Data = appendOffset(slices.Clip(p.Data), offset)
		p = &q
	}
	a.deliver(p, &opts, nil)
}

// Recovery returns the server's connection state recovery options, with
// their defaults, or nil when recovery is off: cluster adapters that keep
// sessions read MaxDisconnectionDuration there. The result is a copy.
func (a *MemoryAdapter) Recovery() *RecoveryOptions {
	r := a.ns.srv.opts.ConnectionStateRecovery
	if r == nil {
		return nil
	}
	c := *r
	return &c
}
