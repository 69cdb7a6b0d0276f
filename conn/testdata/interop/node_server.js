// Node's ws as a SERVER for a WebSocket client under test.
// Usage: node node_server.js [deflate]   (prints "PORT <n>" once listening on 127.0.0.1)
// With "deflate", permessage-deflate is accepted when offered.
// Echoes every message with its type, and obeys the text commands
// "cmd:close:CODE:REASON" (close with that code) and "cmd:ping:PAYLOAD" (ping
// the client, then send "pinged:PAYLOAD" when its pong arrives). When a client
// closes, it logs "CLOSED <code> <reason>".
'use strict';
const WebSocket = require('ws');
const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, perMessageDeflate: process.argv[2] === 'deflate' ? { threshold: 0 } : false, maxPayload: 64 << 20 });
wss.on('listening', () => console.log('PORT ' + wss.address().port));
wss.on('connection', (ws) => {
  console.log('EXTENSIONS ' + JSON.stringify(ws.extensions));
  ws.on('message', (data, isBinary) => {
    const s = isBinary ? '' : data.toString();
    if (s.startsWith('cmd:close:')) {
      const [, , code, reason] = s.split(':');
      ws.close(Number(code), reason);
    } else if (s.startsWith('cmd:ping:')) {
      const p = s.slice('cmd:ping:'.length);
      ws.once('pong', (d) => ws.send('pinged:' + d.toString()));
      ws.ping(Buffer.from(p));
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
  ws.on('close', (code, reason) => console.log('CLOSED ' + code + ' ' + reason.toString()));
});
