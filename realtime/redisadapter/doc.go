// Package redisadapter joins realtime servers into a Socket.IO cluster
// over Redis, wire-compatible with the official @socket.io/redis-adapter 8
// in its classic mode (PUBLISH and PSUBSCRIBE) and with
// @socket.io/redis-emitter 5, so that Go and Node nodes run in one cluster
// and a broadcast on any node reaches the clients of every node. It leaves
// out the adapter's sharded mode (SPUBLISH), the redis-streams adapter
// with its connection state recovery across nodes, and the forwarding of
// polling requests between nodes; see "Later" below. It is a module of its
// own, on go-redis and vmihailenco/msgpack, so that the realtime library
// keeps to the standard library.
//
// # Use
//
// One [Cluster] per server; its NewAdapter gives each namespace its
// [Adapter]:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	cl := redisadapter.New(rdb, nil)
//	srv := realtime.NewServer(&realtime.Options{NewAdapter: cl.NewAdapter})
//	// ... serve ...
//	srv.Close()
//	cl.Close()
//
// Then realtime's API spans the cluster: Emit, To, Except and
// socket.Broadcast reach the sockets of every node (binary arguments
// included); EmitWithAck with a Timeout counts the clients of every node
// and collects their acknowledgements; FetchSockets returns every node's
// sockets (id, handshake, rooms, data) as RemoteSockets that can be sent
// to, joined to rooms, taken out of rooms and disconnected; SocketsJoin,
// SocketsLeave, DisconnectSockets and AllSockets act on every node's;
// ServerSideEmit and ServerSideEmitWithAck reach the other nodes' handlers;
// Local keeps any of these on this node. [Adapter.AllRooms] lists every
// node's rooms.
//
// The [Emitter] publishes to a cluster from a process that is not one of
// its servers.
//
// # Configuration
//
// [Options] has the Node adapter's options with its defaults: the key
// (channel prefix) "socket.io", requestsTimeout 5 s,
// publishOnSpecificResponseChannel false. Every node and emitter of a
// cluster must use the same key. Nodes count each other with PUBSUB NUMSUB
// of a namespace's request channel, as Node nodes do.
//
// # How messages flow
//
// A node has one subscriber connection for all its namespaces (PSUBSCRIBE
// key#nsp#*, SUBSCRIBE key-request#nsp#, key-response#nsp# and
// key-response#nsp#uid#) and handles what arrives there one message at a
// time, in arrival order, on one goroutine: broadcasts, joins and leaves
// are applied at once, so a join that arrived before a broadcast to its
// room is in place when the broadcast is handled. Server-side event
// handlers and disconnections run the application's code, so they go to a
// goroutine of the namespace instead (in order; a full queue of 1024 drops
// them, reported). Requests the node answers (ALL_ROOMS, REMOTE_FETCH,
// SOCKETS, BROADCAST with its client count, 0 included, and each
// acknowledgement) are answered once, with every field Node nodes read.
//
// A node publishes everything through one ordered queue, from one
// goroutine, one pipeline at a time: its messages reach every other node
// in the order it made them. Publishing does not wait for Redis; a full
// queue ([Options].PublishQueue) makes the publisher wait while Redis
// answers and drop the message while it does not.
//
// # Delivery and faults
//
// Redis pub/sub delivers at most once, and so does the cluster. While a
// node's subscriber connection is down (Redis restarted, a network cut) the
// node misses what is published; what it publishes meanwhile is lost once
// the Redis client gives up retrying it (with go-redis's default retries, a
// message published during a short outage may still arrive, late, after
// the reconnection). The node reconnects and subscribes everything again
// by itself (backing off from 50 ms to 2 s), reports the loss as a
// [*ConnectionError] and counts it in [Stats]; [Cluster.Ready] waits for
// the subscriptions. A Redis that stops answering without closing the
// connection is found by a PING after 5 s of silence.
//
// A node that dies closes its connections: Redis stops counting it at
// once, and requests answer without it. A node that is paused (SIGSTOP,
// a long GC pause, an overloaded event loop) is still counted but does not
// answer: requests wait RequestsTimeout, then return what came with a
// [*TimeoutError] (a Node node's fetchSockets fails with "timeout reached
// while waiting for fetchSockets response"), and broadcasts with
// acknowledgements time out with the count of servers missing. The other
// nodes keep delivering broadcasts; Redis keeps the paused node's messages
// for it.
//
// Messages from Redis are untrusted: decoding is bounded by
// [Options].Limits, and a message that is malformed or hostile (a packet
// that is not an event, a reserved event name, a request without the
// fields its type needs) is dropped and reported as a [*MessageError];
// nothing panics.
//
// # Differences from a Node node
//
// What other nodes see is what a Node node sends, with these differences
// in what a Go node does itself:
//
//   - Its own SocketsJoin, SocketsLeave and DisconnectSockets apply to its
//     sockets at once and are ignored when they come back from Redis; a
//     Node node applies its own only when they come back, so its own
//     broadcast right after socketsJoin misses its own sockets.
//   - Requests that time out return the answers that came with the error.
//   - A Local broadcast with acknowledgements waits for this node's
//     clients only (a Node node waits for every server's count and times
//     out).
//   - A socket of another node, from FetchSockets, has its data as JSON
//     ([encoding/json.RawMessage]); socket data is written as JSON, {}
//     when there is none, as a Node node writes its default.
//   - Connection state recovery, if enabled, works within each node only
//     (the Node classic adapter has none).
//
// # Load balancers
//
// Clients on WebSocket only need no sticky sessions. HTTP long-polling
// does: every request of a session must reach the node that holds it,
// including the WebSocket upgrade, which carries the polling session's id.
// Have the nodes set the io cookie (realtime.Options.Cookie =
// &engine.CookieOptions{} on Go nodes, cookie: true on Node nodes) and pin
// clients by it, as in this HAProxy configuration, which
// TestHAProxyStickySessions runs against two nodes:
//
//	defaults
//	  mode http
//	  timeout connect 5s
//	  timeout client 60s   # more than pingInterval + pingTimeout (45 s)
//	  timeout server 60s
//	  timeout tunnel 1h    # WebSocket
//
//	frontend socketio
//	  bind :80
//	  default_backend nodes
//
//	backend nodes
//	  balance roundrobin
//	  cookie io prefix indirect nocache
//	  server node1 10.0.0.1:8080 check cookie node1
//	  server node2 10.0.0.2:8080 check cookie node2
//
// With nginx, which pins by cookie only in its commercial edition, pin by
// address (not tested here):
//
//	upstream nodes {
//	    ip_hash;
//	    server 10.0.0.1:8080;
//	    server 10.0.0.2:8080;
//	}
//	server {
//	    listen 80;
//	    location /socket.io/ {
//	        proxy_pass http://nodes;
//	        proxy_http_version 1.1;
//	        proxy_set_header Upgrade $http_upgrade;
//	        proxy_set_header Connection "upgrade";
//	        proxy_set_header Host $host;
//	        proxy_read_timeout 60s;
//	    }
//	}
//
// Browsers on another origin send the cookie only with CORS credentials
// (realtime.Options.CORS with Credentials, and withCredentials: true in
// the client).
//
// # Later
//
// The sharded mode and redis-streams speak the ClusterAdapter message
// format ({type, data, uid, nsp}) rather than this one. The design leaves
// room for them: a Cluster owns one subscriber (a registry of channels and
// patterns per adapter, resubscribed on every new connection) and one
// ordered publisher, and an Adapter only encodes, decodes and routes. The
// sharded mode adds sharded channels to the registry (go-redis's
// SSubscribe, on a ClusterClient) and, in its dynamic modes, a
// subscription per room, which needs realtime's in-memory adapter to tell
// when a room appears and disappears; its server count is PUBSUB
// SHARDNUMSUB. Redis streams replace the subscriber's loop by an XREAD
// loop from a resolved offset, make Broadcast wait for XADD's entry id
// (appended as the packet's offset, as realtime's in-memory recovery
// does), and back PersistSession and RestoreSession with SET and XRANGE.
// Forwarding polling requests between Go nodes (no sticky balancer) needs
// the node in the session id and an engine hook for unknown sessions, with
// node addresses announced through Redis.
package redisadapter
