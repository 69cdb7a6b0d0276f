// The reference for realtime/redisadapter's value conversion: what a Node
// node does with a value between Redis and its clients. Reads one JSON
// request per line on stdin and writes one JSON answer per line:
//   {"decode": "<hex msgpack>"} -> {"json": "<text>", "atts": ["<hex>"...]}
//     notepack.io decodes the value, socket.io-parser replaces binaries by
//     placeholders (when there are any), JSON.stringify writes the text:
//     what a Node node sends its clients for a broadcast's data.
//   {"encode": "<json text>", "atts": ["<hex>"...]} -> {"hex": "<msgpack>"}
//     JSON.parse and socket.io-parser's reconstructPacket build the value
//     from a client's packet, notepack.io encodes it: what a Node node
//     publishes for it.
// Errors answer {"error": "<message>"}. Ends when stdin closes.
'use strict';
const path = require('path');
const readline = require('readline');
const notepack = require('notepack.io');
// socket.io-parser does not export these files; load them by path.
const parserDir = path.dirname(require.resolve('socket.io-parser'));
const { deconstructPacket, reconstructPacket } = require(path.join(parserDir, 'binary.js'));
const { hasBinary } = require(path.join(parserDir, 'is-binary.js'));

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  let out;
  try {
    const req = JSON.parse(line);
    if (req.decode !== undefined) {
      const value = notepack.decode(Buffer.from(req.decode, 'hex'));
      let packet = { type: 2, data: value };
      let buffers = [];
      if (hasBinary(value)) {
        ({ packet, buffers } = deconstructPacket(packet));
      }
      const json = JSON.stringify(packet.data);
      out = { json: json === undefined ? 'null' : json, atts: buffers.map((b) => Buffer.from(b).toString('hex')) };
    } else {
      const packet = { type: 2, data: JSON.parse(req.encode) };
      const buffers = (req.atts || []).map((h) => Buffer.from(h, 'hex'));
      if (buffers.length > 0) reconstructPacket(packet, buffers);
      out = { hex: notepack.encode(packet.data).toString('hex') };
    }
  } catch (e) {
    out = { error: String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
