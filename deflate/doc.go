// Package deflate implements the permessage-deflate extension of RFC 7692:
// it negotiates the extension's parameters and compresses and decompresses
// WebSocket messages with any negotiated window size, with or without
// context takeover. It works on bytes: it does no network I/O beyond the
// payload reader a caller passes and starts no goroutines; package
// handshake parses the Sec-WebSocket-Extensions header it reads from.
//
// # Negotiating
//
// [ParseOffer] and [ParseResponse] are the one reading of RFC 7692, Section
// 7.1 that package conn and the conformance harness share: the four
// parameters, each at most once, window bits "8" to "15". A [Config] says
// what an endpoint asks for; [Config.Offer] is a client's offer,
// [Config.Accept] a server's answer to one, [Config.CheckResponse] a
// client's check of that answer, and the [Agreement] they settle on gives
// the [CompressorOptions] and [DecompressorOptions] of either side.
//
// # Compressing
//
// [Compressor] is a DEFLATE (RFC 1951) encoder written for this use, since
// compress/flate always uses a 32 KiB window and cannot keep a small,
// cheap context between messages. It never emits a distance longer than
// 1<<WindowBits, for WindowBits 8 to 15; zlib quietly widens a window of 8
// bits to 9, this package does not. Each message ends with a sync flush
// whose 00 00 ff ff is removed (RFC 7692, Section 7.2.1), so with context
// takeover message k decodes with any inflater fed messages 0 to k-1.
//
// Matching is LZ77 over a 4-byte hash: greedy with one probe per position at
// [LevelFast], stepping further through input that stops matching, and hash
// chains with lazy matching at higher levels. At [LevelFast] a match's token
// carries the literals before it, which the block writer reads back from the
// input, and the writer stores a 64-bit word of bits per token. Blocks are
// dynamic Huffman (codes limited to 15 bits, code length codes to 7), fixed
// Huffman or stored, whichever is smallest, so incompressible input grows by
// about 5 bytes per 32 KiB.
//
// # Decompressing
//
// [Decompressor] is an RFC 1951 inflater written for this use: a 64-bit
// bit buffer refilled eight bytes at a time, two-level Huffman tables (10
// bits then sub-tables for literal/length codes, 8 for distances) that give
// a symbol and its length in one lookup, and a fast loop that runs without
// per-symbol checks while 8 bytes of input and 258 bytes of output room
// remain. AppendMessage inflates straight into dst; Read, for a payload
// that arrives frame by frame, inflates into a pooled buffer that keeps the
// last 32 KiB of output, and stops at any output byte to resume at the
// next call. It bounds the output of each message while inflating
// (ErrTooLarge), keeps only the negotiated window of output between
// messages, is as strict as compress/flate (code sets, HLIT and HDIST
// limits, stored LEN and NLEN), and rejects data after a final block other
// than the lone 00 byte of RFC 7692, Section 7.2.3.4. Its state, about
// 110 KiB of tables and buffers, comes from a sync.Pool while a message
// is read.
//
// # Memory
//
// Between messages a Compressor or Decompressor with context takeover holds
// its window (at most 32 KiB) and under 100 bytes more; without takeover it
// holds under 100 bytes. The matcher's tables and buffers (about 460 KiB)
// and the inflater's tables and buffers (about 110 KiB) come from sync.Pools
// only while a message is being processed. With context takeover the
// compressor rehashes the window at the start of each message; to keep
// short messages cheap, levels below 8 hash only the last max(1 KiB, 4×n)
// to max(4 KiB, 16×n) bytes of the window for a message of n bytes.
//
// See the deflatetest package for a strict reference inflater that checks
// distances against a window.
package deflate
