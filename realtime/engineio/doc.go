// Package engineio encodes and decodes Engine.IO protocol version 4: packets,
// the HTTP long-polling payload, the handshake data and the HTTP error body.
// It works on bytes only: it does no I/O, keeps no session state and starts
// no goroutines; package realtime builds the transports on top of it.
//
// # Wire format
//
// A packet in text form is its type digit followed by its data, as in
// "4hello" (a message) or "2" (a ping). Over WebSocket each packet is one
// message; a binary message is sent as a binary WebSocket message with no
// type prefix. Over HTTP long-polling several packets travel in one body,
// separated by the record separator 0x1e, and a binary message is written as
// "b" followed by its data in standard base64. See the Engine.IO protocol,
// version 4, sections "Packet encoding" and "HTTP long-polling".
package engineio
