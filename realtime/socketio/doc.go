// Package socketio encodes and decodes Socket.IO protocol version 5 packets
// and the arguments they carry, including binary attachments. It works on
// bytes only: it does no I/O, knows nothing of Engine.IO sessions and starts
// no goroutines.
//
// # Wire format
//
// A packet in text form is
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
//
// for example `2["chat","hi"]` (an event in the main namespace),
// `2/admin,7["ask"]` (an event in /admin that wants acknowledgement 7) or
// `51-["file",{"_placeholder":true,"num":0}]` (a binary event whose first
// attachment follows as its own Engine.IO message). The namespace is left out
// when it is "/". See the Socket.IO protocol, version 5, section "Packet
// encoding".
//
// # Arguments
//
// [AppendArgs] turns Go values into the JSON data of an event or
// acknowledgement; a []byte value becomes a placeholder and an attachment,
// also inside []any and map[string]any, but not inside structs (encoding/json
// writes those as base64 strings). [Args] gives the received arguments back,
// with attachments as []byte.
package socketio
