// Package client is a Socket.IO client (Engine.IO version 4, Socket.IO
// version 5) over WebSocket, built on package conn, with automatic
// reconnection. It speaks to package realtime's server and to the official
// Node server alike. It has no HTTP long-polling transport.
//
//	c, err := client.Dial(ctx, "http://127.0.0.1:8080", &client.Options{
//		OnConnect: func() { log.Print("connected") },
//	})
//	c.On("chat", func(e *client.Event) { fmt.Println(e.Args.String(0)) })
//	reply, err := c.EmitWithAck(ctx, "join", "lobby")
//
// # Reconnection
//
// When the connection fails (read or write error, close, or no ping from the
// server within pingInterval+pingTimeout) the client waits and dials again,
// for ever or MaxAttempts times. The n-th wait is
// min(ReconnectDelayMax, ReconnectDelay*2^(n-1)), spread by a random factor
// in [1-Jitter, 1+Jitter] and capped at ReconnectDelayMax again. The
// attempt counter starts again after a successful connection. A CONNECT_ERROR
// from the server (a middleware refusal) and a DISCONNECT packet from the
// server end the client without reconnecting, as in the official client.
//
// # Buffering while disconnected
//
// Emit and EmitWithAck while disconnected put the packet in a buffer of
// BufferSize packets (default 64), sent in order as soon as the client is
// connected again and before anything emitted later. When the buffer is
// full the oldest packet is dropped: [Client.Dropped] counts drops and an
// EmitWithAck waiting on a dropped packet returns [ErrDropped]. A negative
// BufferSize turns buffering off: emits while disconnected return
// [ErrNotConnected]. A packet whose write fails goes back to the front of
// the buffer, so it is sent again after reconnecting (the server may then
// see it twice); a packet that was written before the connection broke is
// not sent again, and an EmitWithAck still waiting for its acknowledgement
// returns [ErrDisconnected]. Acknowledgements to the server's events
// ([Event.Ack]) are never buffered: they belong to the connection the event
// came on.
//
// # Concurrency
//
// All methods are safe for concurrent use. Event handlers run one at a time
// on the client's handler goroutine, in arrival order; acknowledgements are
// delivered by the reading goroutine, so a handler may wait in EmitWithAck.
// The hooks in [Options] run on the connecting goroutine and must not block
// for long.
package client
