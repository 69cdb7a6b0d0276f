// Package client is a Socket.IO client (Engine.IO version 4, Socket.IO
// version 5) over HTTP long-polling and WebSocket, with the upgrade from
// one to the other, automatic reconnection and connection state recovery,
// behaving like the official socket.io-client 4.8 and engine.io-client 6. It
// speaks to package realtime's server and to the official Node server alike.
// It joins one namespace per [Client] and has no WebTransport.
//
//	c, err := client.Dial(ctx, "http://127.0.0.1:8080", &client.Options{
//		OnConnect: func() { log.Print("connected") },
//	})
//	c.On("chat", func(e *client.Event) { fmt.Println(e.Args.String(0)) })
//	reply, err := c.Timeout(5*time.Second).EmitWithAck(ctx, "join", "lobby")
//
// # Transports
//
// By default the client opens its session over HTTP long-polling and then
// upgrades it to WebSocket, as the official client does: it works through
// proxies that refuse WebSocket, and against servers that offer polling
// only. Options.Transports changes the list; []Transport{WebSocket} starts
// on WebSocket straight away, which saves a few round trips and, behind a
// load balancer, needs no sticky sessions. Options.NoUpgrade keeps the
// first transport, and Options.TryAllTransports makes a failed attempt try
// the next transport of the list.
//
// Over polling, a GET waits for the server's packets and a POST carries
// the client's; there is at most one of each in flight. Packets of a
// payload are separated by 0x1e, binary ones written as "b" and base64.
// Packets emitted while a POST is in flight wait in a queue and go in the
// next POST, each POST at most the maxPayload the server announced in its
// handshake (a single larger packet goes alone). A writer waits while the
// queue holds max(1 MiB, 2×maxPayload) bytes or more, as a WebSocket writer
// waits for the network.
//
// The upgrade follows engine.io-client: once the session is open, the
// client dials a WebSocket for it and sends "2probe"; on "3probe" it stops
// starting POSTs, lets the GET in flight end (the server ends it with a
// noop), waits for the POST in flight, sends "5" on the WebSocket, then the
// queued packets, and carries on there. If the probe fails the session
// stays on polling.
//
// Cookies the server sets, such as the "io" cookie load balancers use for
// sticky sessions, are kept in Options.Jar (by default a jar of the
// client's own) and sent with every polling request and WebSocket
// handshake.
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
// # Connection state recovery
//
// A server with connection state recovery (Node's connectionStateRecovery)
// answers the CONNECT with a private session id, pid, and adds an offset to
// each event it broadcasts, as its last argument. The client remembers the
// pid and, for each event received while it has one, the last argument if
// it is a string: the offset. On reconnecting it sends {pid, offset, ...Auth}
// in its CONNECT. If the server recovers the session it answers with the
// same pid, sends the events the client missed, in order (they reach the
// listeners like any other), keeps the socket id and rooms, and
// [Client.Recovered] reports true. The offset stays the last argument of the
// events, as in the official client. A client that has received no
// broadcast has no offset yet and cannot recover.
//
// # Listeners
//
// [Client.On] adds a listener and returns the function that removes it (Go
// funcs cannot be compared, so this takes the place of Node's
// socket.off(event, fn)); [Client.Off] removes all the listeners of an
// event. [Client.OnAny] and [Client.PrependAny] add catch-all listeners,
// called for every event before its own listeners; [Client.OnAnyOutgoing]
// sees every event the client sends.
//
// # Acknowledgements
//
// [Client.EmitWithAck] waits for the server's acknowledgement until its
// context is done. [Client.Timeout] (the official timeout(ms)) and
// Options.AckTimeout (ackTimeout) bound the wait as well; it then fails with
// [ErrTimeout], "operation has timed out". An event whose wait ends while it
// is still in the disconnected buffer is taken out and never sent.
//
// # Disconnect reasons
//
// Options.OnDisconnect gets a [DisconnectReason] with the official client's
// strings, and the error behind it:
//
//   - [ReasonServerDisconnect], "io server disconnect": the server sent
//     DISCONNECT; the client ends, with [ErrServerDisconnect].
//   - [ReasonClientDisconnect], "io client disconnect": [Client.Close].
//   - [ReasonPingTimeout], "ping timeout": no ping within
//     pingInterval+pingTimeout ([ErrPingTimeout]).
//   - [ReasonTransportClose], "transport close": a close packet
//     ([ErrServerClose]), a WebSocket close or the end of the TCP connection.
//   - [ReasonTransportError], "transport error": a polling request failed
//     or was refused ([*StatusError]), a response over MaxPayload
//     ([ErrTooLarge]), a WebSocket protocol error, a malformed Engine.IO
//     packet.
//   - [ReasonParseError], "parse error": a malformed Socket.IO packet.
//
// Every reason but the first two leads to reconnection. When the end of a
// connection ends the client, [Client.Err] returns a [*DisconnectError]
// carrying the reason.
//
// # Buffering while disconnected
//
// Emit and EmitWithAck while disconnected put the packet in a buffer of
// BufferSize packets (default 64), sent in order as soon as the client is
// connected again and before anything emitted later. When the buffer is
// full the oldest packet is dropped: [Client.Dropped] counts drops and an
// EmitWithAck waiting on a dropped packet returns [ErrDropped]. A negative
// BufferSize turns buffering off: emits while disconnected return
// [ErrNotConnected]. A packet whose write fails, or that still waits in the
// polling queue when the connection breaks, goes back to the buffer, so it
// is sent again after reconnecting (the server may then see it twice); a
// packet that was written or posted before the connection broke is not sent
// again, and an EmitWithAck still waiting for its acknowledgement returns
// [ErrDisconnected]. Acknowledgements to the server's events ([Event.Ack])
// are never buffered: they belong to the connection the event came on.
//
// # Limits
//
// Options.MaxPayload (16 MiB) bounds a polling response body and a
// WebSocket message; MaxAttachments bounds the attachments of a packet;
// EventQueue bounds the received events waiting for the handlers, after
// which the client stops reading; the buffer and the polling queue are
// bounded as above. Error bodies are read up to 512 bytes.
//
// # Concurrency
//
// All methods are safe for concurrent use. Event listeners run one at a
// time on the client's handler goroutine, in arrival order; acknowledgements
// are delivered by the reading goroutine, so a listener may wait in
// EmitWithAck. The hooks in [Options] run on the connecting goroutine and
// must not block for long. [Client.Close] waits for both goroutines, so
// listeners and hooks that want to close the client call go c.Close().
package client
