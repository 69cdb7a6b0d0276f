// Package frame encodes and decodes WebSocket frames at the byte level, as
// RFC 6455 Section 5 defines them: headers, masking, close payloads and the
// UTF-8 rule for text.
//
// Package frame does no I/O beyond the reader passed to [ReadHeader], starts no
// goroutines and keeps no time. It leaves message reassembly, ping/pong and the
// closing handshake to package conn.
//
// Encoding writes exactly what it is given, so tools can build invalid frames on
// purpose; [Check] applies the RFC's rules for a role separately. Decoding is
// incremental: [ParseHeader] reports a partial header as "need more bytes"
// rather than as an error.
//
// # Length encoding policy
//
// RFC 6455 Section 5.2 says "the minimal number of bytes MUST be used to encode
// the length". [AppendHeader] always writes the minimal form. [ParseHeader]
// rejects a 16-bit length below 126 and a 64-bit length below 65536 with
// [ErrNonMinimalLength], and a 64-bit length with its most significant bit set
// with [ErrLengthMSB]; both are protocol errors (close code 1002).
//
// # Errors
//
// Every protocol violation found here is a [*ProtocolError] carrying the close
// code it calls for (1002 or 1007). The exported Err values are such errors, so
// callers can test for a condition with errors.Is and obtain the code with
// errors.As.
package frame
