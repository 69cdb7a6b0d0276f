// Package redisadapter connects realtime servers to a Socket.IO cluster
// that shares rooms and broadcasts through Redis, wire-compatible with the
// official @socket.io/redis-adapter 8 (classic mode: PUBLISH and
// PSUBSCRIBE) and @socket.io/redis-emitter 5, so Go and Node nodes can
// run in one cluster. It is a module of its own, on go-redis and
// vmihailenco/msgpack, so that the realtime library keeps to the standard
// library.
//
// Today it has the [Emitter], for Go processes that are not servers: it
// publishes broadcasts (to all, to rooms, except rooms, volatile or not
// compressed) and asks every node to make sockets join or leave rooms, to
// disconnect them, or to run server-side event handlers. The adapter that
// plugs a realtime server into the cluster comes next; package wire holds
// the messages both use.
//
// # Delivery
//
// Redis pub/sub delivers at most once: a node whose subscription is down
// while a message is published never sees it. Messages from one publisher
// connection reach each subscriber in the order they were published.
//
// # Configuration
//
// Every node and emitter of a cluster must use the same channel prefix
// ([EmitterOptions].Key, "socket.io" by default).
package redisadapter
