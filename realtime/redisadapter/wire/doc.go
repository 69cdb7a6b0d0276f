// Package wire encodes and decodes the messages that nodes of
// @socket.io/redis-adapter 8 (classic mode, Redis PUBLISH and PSUBSCRIBE,
// and sharded mode), @socket.io/redis-emitter 5 and
// @socket.io/redis-streams-adapter 0.3 exchange over Redis, byte for byte
// as they write them, so that Go and Node Socket.IO nodes can share a
// cluster. It does no I/O: it turns bytes into messages and back, and
// names the classic mode's channels.
//
// # Values
//
// Node nodes carry packet data in msgpack, written and read by
// notepack.io 3, and hand it to their clients as socket.io-parser's JSON
// with binary attachments. [AppendJSON] and [AppendMsgpack] convert between
// the two forms exactly as a Node node does (numbers, strings, binaries,
// Dates, undefined, key order), and [AppendEventData] encodes Go values
// as the JavaScript values that stand for them. The conversions are
// checked against notepack.io and socket.io-parser themselves.
//
// # Messages
//
//   - [Broadcast]: msgpack [uid, packet, {rooms, except, flags}], on the
//     broadcast channel or on a room's channel ([Channels]).
//   - [Request]: on the request channel; JSON, except BROADCAST (a
//     broadcast with acknowledgements), which is msgpack.
//   - [Response]: on the shared or the requester's response channel; JSON,
//     except BROADCAST_ACK, which is msgpack.
//
// The sharded mode and the streams adapter speak socket.io-adapter's
// ClusterAdapter format instead:
//
//   - [Message]: {type, data, uid, nsp}, in JSON, or in msgpack when its
//     data holds a binary ([AppendMessage], as the sharded mode writes
//     it) or always ([AppendMessageMsgpack], as the streams adapter
//     publishes).
//   - [StreamEntry]: a message as a Redis stream entry, uid, nsp, type and
//     data (JSON, or base64 msgpack), as the streams adapter writes its
//     durable messages.
//   - [Session]: a disconnected socket's state kept for connection state
//     recovery, base64 msgpack.
//
// Decoders tell JSON from msgpack by the first byte, as Node nodes do.
// They accept any key order and keep what they do not know, so that a
// decoded message encodes to the same bytes; encoders write every field a
// Node node reads, even when empty, in the order Node nodes write them
// (a Node requester waits out its timeout for a response without its
// list, and a broadcast with acknowledgements times out when a client
// count is missing).
//
// Decoders take untrusted input: sizes, depth, value and attachment counts
// are bounded by [Limits], nothing is allocated from a length read off
// the wire before the bytes are there, and errors wrap [ErrMalformed] or
// [ErrLimit]; they never panic.
package wire
