// The official socket.io server with the events of the chat demo, for the
// Go client's interop test and the load comparison. Prints "LISTENING PORT"
// once it accepts connections and runs until stdin closes.
// Usage: node server.js [PORT]
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 0);
const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false });

io.on('connection', (s) => {
  s.on('join', (room, cb) => {
    s.join(room);
    if (typeof cb === 'function') cb('joined', room);
  });
  s.on('chat', (room, text, cb) => {
    s.to(room).emit('chat', room, text, s.id);
    if (typeof cb === 'function') cb();
  });
  s.on('echo', (...args) => {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (cb) cb(...args);
  });
  s.on('ask-me', async (q, cb) => {
    try {
      cb(await s.timeout(5000).emitWithAck('question', q));
    } catch (e) {
      cb('error: ' + e.message);
    }
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log('LISTENING ' + httpServer.address().port);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
