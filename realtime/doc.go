// Package realtime is a Socket.IO server: Socket.IO version 5 namespaces
// (dynamic ones too), middleware, events and acknowledgements (from many
// clients at once, with timeouts), binary attachments, rooms, broadcasts
// with flags, the server-side operations of Node's socket.io 4.8
// (fetchSockets, socketsJoin, socketsLeave, disconnectSockets,
// serverSideEmit) and connection state recovery, on the Engine.IO server of
// package engine (HTTP long-polling, WebSocket, the upgrade). It is
// wire-compatible with the official socket.io-client 4.x; where the
// protocol documents are silent it behaves as Node's socket.io 4.8. Every
// room change and broadcast goes through an [Adapter]: in memory by default,
// over Redis with the realtime/redisadapter module. It leaves the Engine.IO
// version 3 protocol, JSONP polling and WebTransport out.
//
// A [Server] is an http.Handler; mount it at the path clients use, by
// default /socket.io/:
//
//	srv := realtime.NewServer(nil)
//	srv.OnConnection(func(s *realtime.Socket) {
//		s.On("chat", func(e *realtime.Event) {
//			s.To(e.Args.String(0)).Emit("chat", e.Args.String(1))
//		})
//	})
//	http.Handle("/socket.io/", srv)
//
// # Sessions
//
// Each client connection is an Engine.IO session (see package engine) with
// an outgoing queue bounded in bytes ([Options.MaxBufferedBytes]); a session
// whose queue would grow past it is closed with [ErrBufferFull], while
// volatile events are dropped instead. The server pings every PingInterval
// and closes a session whose pong does not arrive within PingTimeout, so a
// vanished client's state is freed within PingInterval+PingTimeout. Incoming
// data is bounded by MaxPayload per message (and per polling request) and by
// MaxAttachments per packet.
//
// # Broadcasts and acknowledgements
//
// [Broadcast] selects sockets by rooms and excepted rooms, with flags
// (Volatile, Compress, Local, Timeout). Its Emit encodes the packet once for
// every recipient; its EmitWithAck gathers the acknowledgement of every
// recipient, on every server of the cluster, or returns those that came with
// an [*AckTimeoutError] naming how many are missing. Acknowledgement ids are
// per namespace, as in Node, so a socket's own acknowledgements and broadcast
// ones never clash.
//
// # Connection state recovery
//
// With [Options.ConnectionStateRecovery], a socket that disconnects for a
// recoverable reason ([DisconnectReason.Recoverable]) keeps its id, rooms and
// data for MaxDisconnectionDuration, and the events broadcast meanwhile are
// kept, each with an offset as its last argument (as Node's server does, so
// the official client recovers). A client that reconnects with its private
// session id and last offset gets them back: [Socket.Recovered] is true and
// the missed events arrive just before the CONNECT reply, in order, as from
// Node's server.
//
// # Concurrency
//
// Every session has one goroutine, running only while there is work, that
// runs its handlers: the connection handlers, middleware, event handlers and
// disconnect handlers of all its sockets run there, one at a time, in the
// order the packets arrived ([Socket.Disconnect] is the exception: it runs
// the socket's disconnect handlers on its caller's goroutine). A handler that
// blocks holds up its own session only; when EventQueue packets or
// MaxBufferedBytes of them wait for it, reading from the client stops until
// it returns. Acknowledgements are delivered by the reading goroutine, so a
// handler may wait in [Socket.EmitWithAck] or [Broadcast.EmitWithAck].
//
// The emitting methods ([Socket.Emit], [Socket.EmitWithAck],
// [Broadcast.Emit], [Event.Ack]), Join and Leave, and Disconnect are safe
// from any goroutine. Register a socket's handlers with [Socket.On] and
// [Socket.OnDisconnect] in the connection handler: events that arrive
// meanwhile wait for it to return.
package realtime
