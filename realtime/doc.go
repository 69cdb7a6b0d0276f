// Package realtime is a Socket.IO server: Engine.IO version 4 sessions over
// WebSocket and HTTP long-polling (with the upgrade from one to the other),
// and Socket.IO version 5 namespaces, events, acknowledgements, binary
// attachments, rooms and broadcasts on top. It is wire-compatible with the
// official socket.io-client 4.x. It speaks WebSocket only through package
// conn and leaves the Engine.IO version 3 protocol out. Servers form a
// cluster through an [Adapter] that reaches across processes, such as the
// module realtime/redisadapter's, which Node socket.io nodes share.
//
// A [Server] is an http.Handler; mount it at the path clients use, by
// default /socket.io/:
//
//	srv := realtime.NewServer(nil)
//	srv.Of("/").OnConnection(func(s *realtime.Socket) {
//		s.On("chat", func(e *realtime.Event) {
//			s.To(e.Args.String(0)).Emit("chat", e.Args.String(1))
//		})
//	})
//	http.Handle("/socket.io/", srv)
//
// # Sessions
//
// Each client connection is an Engine.IO session with an outgoing queue
// bounded in bytes ([Options.MaxBufferedBytes]); a session whose queue would
// grow past it is closed with [ErrBufferFull]. The server pings every
// PingInterval and closes a session whose pong does not arrive within
// PingTimeout, so a vanished client's state is freed within
// PingInterval+PingTimeout. Incoming data is bounded by MaxPayload per
// message (and per polling request) and by MaxAttachments per packet.
//
// # Concurrency
//
// Every session has one goroutine that runs its handlers: the connection
// handlers, event handlers and disconnect handlers of all its sockets run
// there, one at a time, in the order the packets arrived ([Socket.Disconnect]
// is the exception: it runs the socket's disconnect handlers on its caller's
// goroutine). A handler that blocks holds up its own session only; when
// EventQueue packets or MaxBufferedBytes of them wait for it, reading from
// the client stops until it returns. Acknowledgements are delivered by the
// reading goroutine, so a handler may wait in [Socket.EmitWithAck].
//
// The emitting methods ([Socket.Emit], [Socket.EmitWithAck],
// [Broadcast.Emit], [Event.Ack]), Join and Leave, and Disconnect are safe
// from any goroutine. Register a socket's handlers with [Socket.On] and
// [Socket.OnDisconnect] in the connection handler: events that arrive
// meanwhile wait for it to return.
package realtime
