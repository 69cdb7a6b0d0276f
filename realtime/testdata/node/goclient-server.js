// The official socket.io server with connection state recovery, for the Go
// client's tests (realtime/client). Prints "LISTENING PORT" once it accepts
// connections and runs until stdin closes.
// Usage: node goclient-server.js [--max-payload BYTES] [--sticky]
//   --max-payload sets maxHttpBufferSize (the largest POST body it takes);
//   --sticky sets the "io" cookie and refuses every request of a session
//   that does not carry it back, as a load balancer with sticky sessions.
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sticky = args.includes('--sticky');
const maxPayload = Number(opt('--max-payload') || 1e6);

const httpServer = http.createServer();
const io = new Server(httpServer, {
  serveClient: false,
  pingInterval: 1000,
  pingTimeout: 2000,
  maxHttpBufferSize: maxPayload,
  cookie: sticky ? { name: 'io', path: '/', httpOnly: true, sameSite: 'lax' } : false,
  connectionStateRecovery: { maxDisconnectionDuration: 60000, skipMiddlewares: true },
});

// Requests in flight per session and method, to check the client never has
// more than one GET and one POST at a time.
const inFlight = new Map();
const stats = { maxGet: 0, maxPost: 0, posts: 0, gets: 0, refused: 0 };
// Registered after the Server, which takes over the 'request' listeners,
// so that it runs first.
httpServer.prependListener('request', (req, res) => {
  const u = new URL(req.url, 'http://x');
  const sid = u.searchParams.get('sid');
  if (!sid || u.searchParams.get('transport') !== 'polling') return;
  const key = sid + ' ' + req.method;
  const n = (inFlight.get(key) || 0) + 1;
  inFlight.set(key, n);
  if (req.method === 'GET') {
    stats.gets++;
    stats.maxGet = Math.max(stats.maxGet, n);
  } else if (req.method === 'POST') {
    stats.posts++;
    stats.maxPost = Math.max(stats.maxPost, n);
  }
  res.on('close', () => inFlight.set(key, inFlight.get(key) - 1));
});

if (sticky) {
  io.engine.use((req, res, next) => {
    const sid = new URL(req.url, 'http://x').searchParams.get('sid');
    if (sid && !/(^|;\s*)io=/.test(req.headers.cookie || '')) {
      stats.refused++;
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 3, message: 'no sticky-session cookie' }));
      return;
    }
    next();
  });
}

io.on('connection', (s) => {
  const received = []; // events of "record", in order
  s.on('echo', (...a) => {
    const cb = typeof a[a.length - 1] === 'function' ? a.pop() : null;
    if (cb) cb(...a);
  });
  s.on('join', (room, cb) => {
    s.join(room);
    cb();
  });
  // Broadcasts n "tick" events to a room: they carry offsets.
  s.on('tick', (room, n, cb) => {
    for (let i = 1; i <= n; i++) io.to(room).emit('tick', i);
    cb();
  });
  // Closes the Engine.IO connection (recoverable, "forced close"); once the
  // socket is disconnected, broadcasts n ticks to room, which it misses.
  s.on('drop', (room, n) => {
    s.once('disconnect', () => {
      for (let i = 1; i <= n; i++) io.to(room).emit('tick', i, Buffer.from([i]));
    });
    setTimeout(() => s.conn.close(), 10);
  });
  // Broadcasts n ticks to room once this socket has disconnected, however
  // that happens (the test breaks its TCP connection).
  s.on('arm', (room, n, cb) => {
    s.once('disconnect', (reason) => {
      for (let i = 1; i <= n; i++) io.to(room).emit('tick', i);
      io.to(room).emit('dropped', reason);
    });
    cb();
  });
  s.on('ask-me', async (q, cb) => {
    try {
      cb(await s.timeout(5000).emitWithAck('question', q));
    } catch (e) {
      cb('error: ' + e.message);
    }
  });
  s.on('send-bin', (cb) => {
    s.emit('bin', Buffer.from([1, 2, 3]), { nested: [Buffer.from('hi')] });
    cb();
  });
  s.on('many', (n, cb) => {
    for (let i = 0; i < n; i++) s.emit('n' + (i % 3), i);
    cb();
  });
  s.on('record', (...a) => {
    received.push(a.map((v) => (Buffer.isBuffer(v) ? 'bin:' + v.length : v)));
  });
  s.on('recorded', (cb) => cb(received));
  s.on('ignore', () => {}); // never acknowledges
  s.on('kick', () => s.disconnect(true));
  s.on('close-conn', () => setTimeout(() => s.conn.close(), 10));
  s.on('garbage', () => setTimeout(() => s.conn.write('not a socket.io packet'), 10));
  s.on('info', (cb) =>
    cb({ id: s.id, recovered: s.recovered, transport: s.conn.transport.name, rooms: [...s.rooms], stats }),
  );
});

httpServer.listen(0, '127.0.0.1', () => {
  console.log('LISTENING ' + httpServer.address().port);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
