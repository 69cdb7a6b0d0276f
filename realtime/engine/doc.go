// Package engine is an Engine.IO version 4 server: sessions over HTTP
// long-polling and WebSocket, the upgrade from one to the other, the
// heartbeat, and the limits that keep a session's memory bounded. It is what
// Node's engine.io package is to socket.io: package realtime builds Socket.IO
// on it, and an application may use it on its own for a plain message
// channel with the polling fallback. It speaks WebSocket only through
// package conn and the wire format only through package engineio; it leaves
// Engine.IO version 3, JSONP polling and WebTransport out.
//
// A [Server] is an http.Handler; mount it at the path clients use, by
// default /engine.io/:
//
//	srv := engine.NewServer(nil)
//	srv.OnConnection(func(s *engine.Session) {
//		s.OnMessage(func(m engine.Message) {
//			s.SendText("echo: " + string(m.Data))
//		})
//	})
//	http.Handle("/engine.io/", srv)
//
// # Requests
//
// Every request is checked in the order of the reference server, and a bad
// one is answered with its HTTP status and JSON body, such as 400
// {"code":1,"message":"Session ID unknown"}, and reported to the
// [Server.OnConnectionError] listeners with the same code and message:
// 0 unknown transport, 1 unknown session id, 2 bad handshake method, 3 bad
// request, 4 forbidden, 5 unsupported protocol version. A refused WebSocket
// handshake gets a plain 400 with the message as its body, as from the
// reference server. [Options.CORS] answers preflight requests and adds the
// CORS headers to every response; [Options.Cookie] sets the cookie that
// sticky load balancers route polling requests by.
//
// # Sessions
//
// Each [Session] has an outgoing queue bounded in bytes
// ([Options.MaxBufferedBytes]); a session whose queue would grow past it is
// closed with [ErrBufferFull]. The server pings every PingInterval and
// closes a session whose pong does not come within PingTimeout, so the state
// of a vanished client is freed within PingInterval+PingTimeout. Incoming
// data is bounded by MaxPayload per WebSocket message and per polling
// request.
//
// # Concurrency
//
// A session's message listeners run on the goroutine reading its transport,
// one message at a time, in arrival order; while they run, nothing more is
// read from that client, which is how a slow consumer of messages pushes
// back on its client. Connection listeners run on the handshake request's
// goroutine before the session reads anything, so listeners registered there
// miss nothing. Close listeners run once, on the goroutine that ended the
// session. The sending methods, Close and the accessors are safe from any
// goroutine.
package engine
