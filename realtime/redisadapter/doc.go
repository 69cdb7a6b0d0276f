// Package redisadapter joins realtime servers into a Socket.IO cluster
// over Redis, wire-compatible with the official Node adapters, so that Go
// and Node nodes run in one cluster and a broadcast on any node reaches
// the clients of every node: @socket.io/redis-adapter 8 in its classic
// mode (PUBLISH and PSUBSCRIBE) and its sharded mode (Redis 7 SPUBLISH
// and SSUBSCRIBE), @socket.io/redis-streams-adapter 0.3 (a Redis stream,
// with connection state recovery across nodes), and
// @socket.io/redis-emitter 5. For Go-only clusters, a [Forwarder] serves
// HTTP long-polling without sticky sessions. It leaves out Redis Cluster
// (a [Cluster] takes one *redis.Client), the heartbeat-based adapters of
// socket.io-adapter (redis-streams before 0.3, postgres, mongo) and an
// emitter for the sharded and streams modes. It is a module of its own,
// on go-redis and vmihailenco/msgpack, so that the realtime library keeps
// to the standard library.
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
// The [Emitter] publishes to a classic cluster from a process that is not
// one of its servers.
//
// # Modes
//
// Every node of a cluster must speak the same mode, with the same key
// and options: the modes do not hear each other.
//
//   - Classic, the default: as createAdapter(pub, sub). Messages are the
//     classic adapter's (package wire: [wire.Broadcast], [wire.Request],
//     [wire.Response]), NewAdapter gives [*Adapter].
//   - Sharded, [Options].Sharded: as createShardedAdapter(pub, sub,
//     {subscriptionMode}), on Redis 7. NewAdapter gives [*ClusterAdapter].
//   - Streams, [Options].Streams: as the redis-streams adapter's
//     createAdapter(client, opts). NewAdapter gives [*ClusterAdapter].
//
// The sharded and streams modes speak socket.io-adapter's ClusterAdapter
// format ([wire.Message]):
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	cl := redisadapter.New(rdb, &redisadapter.Options{Streams: &redisadapter.StreamsOptions{}})
//	srv := realtime.NewServer(&realtime.Options{
//		NewAdapter:              cl.NewAdapter,
//		ConnectionStateRecovery: &realtime.RecoveryOptions{}, // across nodes
//	})
//
// # Configuration
//
// [Options] has the Node adapters' options with their defaults: the key
// (channel prefix) "socket.io", requestsTimeout 5 s (the ClusterAdapter's
// fixed timeout in the other modes), publishOnSpecificResponseChannel
// false; [ShardedOptions] has subscriptionMode "dynamic"; [StreamsOptions]
// has streamName "socket.io", streamCount 1, useShardedPubSub false,
// maxLen 10,000, readCount 100, blockTimeInMs 5,000, sessionKeyPrefix
// "sio:session:", onlyPlaintext false. Every node and emitter of a
// cluster must use the same key. Nodes count each other as Node nodes do:
// PUBSUB NUMSUB of a namespace's request channel (classic), PUBSUB
// SHARDNUMSUB of key#nsp# (sharded), PUBSUB NUMSUB (or SHARDNUMSUB) of
// key#nsp# (streams; 0.3 has no heartbeats, and its heartbeat options do
// nothing).
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
// In the sharded mode the same subscriber connection SSUBSCRIBEs key#nsp#
// (everything) and key#nsp#uid# (the node's responses), and in the
// dynamic modes key#nsp#room# for each room the node has sockets in
// (public rooms only in "dynamic"): a broadcast without acknowledgements
// to exactly one such room goes to that room's channel, so only the nodes
// with members receive it. In the streams mode, broadcasts without
// acknowledgements, joins, leaves and disconnections go to the
// namespace's stream (XADD ... MAXLEN ~ maxLen), which one reader per
// stream, on a connection of its own, follows with XREAD from the
// stream's last entry at start; requests and responses go by pub/sub on
// key#nsp# and key#nsp#uid#, in msgpack.
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
// In the streams mode what goes through the stream survives a lost
// connection: the reader goes on from the last entry it read, and misses
// nothing the stream still holds (maxLen entries); requests, responses and
// broadcasts with acknowledgements, on pub/sub, are at most once.
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
// # Connection state recovery across nodes
//
// In the streams mode with realtime.Options.ConnectionStateRecovery,
// every node does what the Node streams adapter does: a broadcast that
// recovery keeps (an event without acknowledgement, not volatile; every
// socket.Emit included, which goes through the adapter) waits for its
// stream entry id and carries it as its last argument, the offset, on
// every node; a socket that disconnects for a recoverable reason is kept
// in Redis (SET sessionKeyPrefix+pid, base64 msgpack {sid, pid, rooms,
// data}, PX MaxDisconnectionDuration); and a client that reconnects with
// its pid and offset, to any node, Go or Node, gets its id, rooms and data
// back, with the broadcasts it missed read from the stream (XRANGE), in
// order, each with its entry id. Recovery fails, and the client gets a new
// session, when the session expired or was restored already, when its
// offset was trimmed from the stream, and (Go nodes only) when the missed
// packets exceed RecoveryOptions' MaxPackets or MaxBytes. As with Node
// nodes, a node that is killed keeps no session, and a client that
// reconnects before its old node saw the disconnection is not recovered.
// In the classic and sharded modes recovery stays within each node (the
// Node adapters have none; a sharded Node node appends "" as the offset).
//
// # Differences from a Node node
//
// What other nodes see is what a Node node sends, with these differences
// in what a Go node does itself:
//
//   - Its own SocketsJoin, SocketsLeave and DisconnectSockets apply to its
//     sockets at once and are ignored when they come back from Redis; a
//     classic Node node applies its own only when they come back, so its
//     own broadcast right after socketsJoin misses its own sockets.
//   - Requests that time out return the answers that came with the error.
//   - A Local broadcast with acknowledgements waits for this node's
//     clients only (a Node node waits for every server's count and times
//     out).
//   - A socket of another node, from FetchSockets, has its data as JSON
//     ([encoding/json.RawMessage]); socket data is written as JSON, {}
//     when there is none, as a Node node writes its default. So is the
//     data of a session restored from Redis.
//   - In the sharded and streams modes, Sockets (AllSockets) and AllRooms
//     ask the other nodes with FETCH_SOCKETS, the format having no request
//     of their own; a Node node's allSockets and allRooms are local there.
//   - In the dynamic subscription modes a node subscribes to a room's
//     channel only once its join reached it, so a broadcast to one room
//     sent at once after socketsJoin is lost on the nodes whose sockets
//     just joined (Node nodes, alone, lose it too). A Go node sends a
//     broadcast to a room it made sockets join in the last 2 s on the
//     namespace's channel instead, so every node gets it.
//   - The streams reader starts after the stream's last entry, looked up
//     first, where a Node node reads from "$" and may miss what comes
//     between its first reads. A Go node writes a disconnected socket's
//     session and waits for Redis (at most 5 s) before the socket's
//     disconnect handlers run; a Node node sends it without waiting.
//   - Connection state recovery, if enabled, works within each node only
//     in the classic and sharded modes (the Node adapters have none).
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
// # Polling without sticky sessions, between Go nodes
//
// A [Forwarder] lets a cluster of Go nodes, in any mode, sit behind a
// balancer that does not stick: each node's session ids start with its
// tag, each node announces its address in Redis under its tag
// (key-node#tag, renewed, deleted on Close), and a request for another
// node's session (a polling GET or POST, or the WebSocket upgrade of a
// polling session, which then runs through the node that received it) is
// passed to that node with httputil.ReverseProxy:
//
//	fw, err := redisadapter.NewForwarder(rdb, &redisadapter.ForwardOptions{Address: "http://10.0.0.1:8080"})
//	srv := realtime.NewServer(&realtime.Options{NewAdapter: cl.NewAdapter, GenerateID: fw.GenerateID})
//	http.Handle("/socket.io/", fw.Wrap(srv))
//	// ... serve ...
//	srv.Close()
//	fw.Close()
//
// The nodes must reach each other at their addresses; a forwarded
// request costs one more hop, and a forwarded WebSocket stays relayed.
// TestForwardPolling runs two nodes behind HAProxy with "balance
// roundrobin" and no cookie, official clients on polling only and on
// polling upgraded to WebSocket. Node nodes neither tag their session ids
// nor forward, so a cluster with Node nodes still needs sticky sessions
// for polling, or WebSocket-only clients.
package redisadapter
