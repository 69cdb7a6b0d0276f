// A Node socket.io 4.8 node of a mixed Go and Node cluster
// (@socket.io/redis-adapter in its classic or sharded mode, or
// @socket.io/redis-streams-adapter), the official
// @socket.io/redis-emitter, and official socket.io-client clients that
// connect to any node of the cluster; driven by realtime/redisadapter's
// cluster tests through stdin and stdout, one JSON object per line.
// Usage: node redis-cluster-node.js REDIS_PORT REQUESTS_TIMEOUT_MS [MODE]
// MODE: classic (the default), sharded:dynamic, sharded:static,
// sharded:dynamic-private, or streams (with connection state recovery on).
//
// The server: a socket joins the rooms listed in its auth.rooms (comma
// separated) and takes auth.data as its data, and has the chat demo's
// join(room) and chat(room, text) events; the server-side event "sse" is
// printed as {"sse": [args]} and acknowledged with "N-reply".
// Prints {"ready": port} once listening. Commands ({"id", "cmd", ...},
// answered {"id", "result"} or {"id", "error"}):
//   connect {name, url, nsp, rooms, transports, reconnect}: a client; result
//       its id. With reconnect it reconnects (every 100 to 300 ms) after a
//       lost connection, and recovers its state where the server can.
//       Each client records the Engine.IO message payloads it receives
//       (text as is, binary as "bin:<hex>"), but "ack-me" events, which it
//       acknowledges with {from: name} (unless silent), and counts its
//       disconnections.
//   drain {tag, skip}: what each connected client (but those named in
//       skip) received before the event ["sync", tag], which it forgets;
//       result {name: [frames]}.
//   clients: result {name: {id, connected, disconnects, recovered}}.
//   silence {name}: the client stops acknowledging "ack-me".
//   server {op, ...}: the server does op (emit, sync, emitAck, fetchSockets,
//       socketsJoin, socketsLeave, disconnectSockets, joinThenEmit,
//       serverSideEmit, serverSideEmitWithAck, allRooms, serverCount,
//       remote, remoteAck); see ops below.
//   emitter {op, to, except, event, args, rooms, close}: the official
//       emitter's emit, socketsJoin, socketsLeave, disconnectSockets or
//       serverSideEmit.
// Tagged values: {"t":"json","v":x}, {"t":"buf","hex":h}, {"t":"date","ms":n},
// {"t":"obj","fields":[[key, value]...]}, {"t":"arr","items":[...]}.
'use strict';
const http = require('http');
const readline = require('readline');
const { Server } = require('socket.io');
const { Manager } = require('socket.io-client');
const { createClient } = require('redis');
const { createAdapter, createShardedAdapter } = require('@socket.io/redis-adapter');
const { Emitter } = require('@socket.io/redis-emitter');

const redisURL = 'redis://127.0.0.1:' + process.argv[2];
const requestsTimeout = Number(process.argv[3] || 5000);
const mode = process.argv[4] || 'classic';
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function value(t) {
  switch (t.t) {
    case 'json': return t.v;
    case 'buf': return Buffer.from(t.hex, 'hex');
    case 'date': return new Date(t.ms);
    case 'arr': return t.items.map(value);
    case 'obj': {
      const o = {};
      for (const [k, v] of t.fields) o[k] = value(v);
      return o;
    }
  }
  throw new Error('unknown tag ' + t.t);
}

// describe writes a socket as the tests compare them, local or remote.
const describe = (s) => ({ id: s.id, rooms: [...s.rooms].sort(), handshake: s.handshake, data: s.data });

async function main() {
  const pub = createClient({ url: redisURL });
  const sub = pub.duplicate();
  const epub = pub.duplicate();
  for (const c of [pub, sub, epub]) c.on('error', (e) => out({ log: 'redis: ' + e.message }));
  await Promise.all([pub.connect(), sub.connect(), epub.connect()]);

  const httpServer = http.createServer();
  const opts = { serveClient: false };
  if (mode === 'classic') {
    opts.adapter = createAdapter(pub, sub, { requestsTimeout });
  } else if (mode.startsWith('sharded:')) {
    opts.adapter = createShardedAdapter(pub, sub, { subscriptionMode: mode.slice('sharded:'.length) });
  } else if (mode === 'streams') {
    opts.adapter = require('@socket.io/redis-streams-adapter').createAdapter(pub);
    opts.connectionStateRecovery = { maxDisconnectionDuration: 60000, skipMiddlewares: true };
  } else {
    throw new Error('unknown mode ' + mode);
  }
  const io = new Server(httpServer, opts);
  const onConnection = (socket) => {
    for (const r of String(socket.handshake.auth.rooms || '').split(',').filter(Boolean)) socket.join(r);
    if (socket.handshake.auth.data !== undefined) socket.data = socket.handshake.auth.data;
    // The events of the chat demo, for the load benchmark.
    socket.on('join', (room, cb) => {
      socket.join(room);
      if (typeof cb === 'function') cb('joined', room);
    });
    socket.on('chat', (room, text, cb) => {
      socket.to(room).emit('chat', room, text, socket.id);
      if (typeof cb === 'function') cb();
    });
  };
  for (const nsp of ['/', '/chat']) {
    io.of(nsp).on('connection', onConnection);
    io.of(nsp).on('sse', (...args) => {
      const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      out({ sse: args });
      if (cb) cb('N-reply');
    });
  }
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const emitter = new Emitter(epub);

  const clients = {};
  const connect = (c) => new Promise((resolve, reject) => {
    // withCredentials: the Node client keeps cookies (a balancer's io).
    const m = new Manager(c.url, {
      transports: c.transports || ['websocket'], withCredentials: true, reconnection: !!c.reconnect,
      reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0,
    });
    const cl = { frames: [], disconnects: 0, silent: false };
    clients[c.name] = cl;
    m.on('open', () => m.engine.on('packet', (p) => {
      if (p.type !== 'message') return;
      if (typeof p.data === 'string' && /^2\d*\["ack-me"/.test(p.data)) return; // answered, not recorded
      cl.frames.push(typeof p.data === 'string' ? p.data : 'bin:' + Buffer.from(p.data).toString('hex'));
    }));
    const s = m.socket(c.nsp || '/', { auth: { rooms: c.rooms || '', data: { name: c.name } } });
    cl.socket = s;
    s.on('ack-me', (...args) => {
      const cb = args.pop();
      if (!cl.silent) cb({ from: c.name });
    });
    s.on('disconnect', () => { cl.disconnects++; });
    s.on('connect', () => resolve(s.id));
    s.on('connect_error', reject);
  });
  // drain waits until every connected client (but those in skip) has
  // received ["sync", tag]: the frames before it are the result.
  const drain = async (tag, skip) => {
    const marker = JSON.stringify(['sync', tag]);
    // With connection state recovery an offset follows the tag.
    const isSync = (f) => f === '2' + marker || f === '2/chat,' + marker ||
      f.startsWith('2' + marker.slice(0, -1) + ',"') || f.startsWith('2/chat,' + marker.slice(0, -1) + ',"');
    const names = Object.keys(clients).filter((n) => clients[n].socket.connected && !(skip || []).includes(n));
    for (let i = 0; i < 1000; i++) {
      if (names.every((n) => clients[n].frames.some(isSync))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const got = {};
    for (const name of names) {
      const c = clients[name];
      const i = c.frames.findIndex(isSync);
      if (i < 0) throw new Error('client ' + name + ': no sync ' + tag + ' within 10 s; got ' + JSON.stringify(c.frames));
      got[name] = c.frames.slice(0, i);
      c.frames = c.frames.slice(i + 1);
    }
    return got;
  };

  const sel = (c) => io.of(c.nsp || '/').to(c.to || []).except(c.except || []);
  const settle = async (p) => {
    try {
      return { responses: await p };
    } catch (e) {
      return { error: e.message };
    }
  };
  const ops = {
    emit: (c) => { (c.local ? sel(c).local : sel(c)).emit(c.event, ...(c.args || []).map(value)); },
    sync: (c) => { io.emit('sync', c.tag); io.of('/chat').emit('sync', c.tag); },
    // The callback form: on a timeout it has the responses that came.
    emitAck: (c) => new Promise((resolve) => sel(c).timeout(c.timeoutMs || 2000).emit('ack-me', (err, responses) =>
      resolve(err ? { error: err.message, responses } : { responses }))),
    fetchSockets: async (c) => {
      const t0 = Date.now();
      try {
        const ss = await sel(c).fetchSockets();
        return { sockets: ss.map(describe), ms: Date.now() - t0 };
      } catch (e) {
        return { error: e.message, ms: Date.now() - t0 };
      }
    },
    socketsJoin: (c) => { sel(c).socketsJoin(c.rooms); },
    socketsLeave: (c) => { sel(c).socketsLeave(c.rooms); },
    disconnectSockets: (c) => { sel(c).disconnectSockets(!!c.close); },
    joinThenEmit: (c) => {
      sel(c).socketsJoin(c.room);
      io.to(c.room).emit(c.event, c.room);
    },
    serverSideEmit: (c) => { io.serverSideEmit('sse', ...(c.args || []).map(value)); },
    serverSideEmitWithAck: (c) => settle(io.serverSideEmitWithAck('sse', ...(c.args || []).map(value))),
    allRooms: async () => [...(await io.of('/').adapter.allRooms())].sort(),
    serverCount: () => io.of('/').adapter.serverCount(),
    // remote: fetch one socket by id, then act on the RemoteSocket.
    remote: async (c) => {
      const [s] = await io.in(c.sid).fetchSockets();
      if (!s) throw new Error('no socket ' + c.sid);
      switch (c.op2) {
        case 'emit': s.emit(c.event, 'direct'); break;
        case 'join': s.join(c.room); break;
        case 'leave': s.leave(c.room); break;
        case 'disconnect': s.disconnect(!!c.close); break;
      }
      return describe(s);
    },
    remoteAck: async (c) => {
      const [s] = await io.in(c.sid).fetchSockets();
      return settle(s.timeout(2000).emitWithAck('ack-me'));
    },
  };

  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', async (line) => {
    const c = JSON.parse(line);
    try {
      let result;
      switch (c.cmd) {
        case 'connect': result = await connect(c); break;
        case 'drain': result = await drain(c.tag, c.skip); break;
        case 'clients':
          result = Object.fromEntries(Object.entries(clients).map(([k, v]) =>
            [k, { id: v.socket.id, connected: v.socket.connected, disconnects: v.disconnects, recovered: !!v.socket.recovered }]));
          break;
        case 'silence': clients[c.name].silent = true; break;
        case 'server': result = await ops[c.op](c); break;
        case 'emitter': {
          let e = c.nsp ? emitter.of(c.nsp) : emitter;
          if (c.to) e = e.to(c.to);
          if (c.except) e = e.except(c.except);
          if (c.op === 'emit') e.emit(c.event, ...(c.args || []).map(value));
          else if (c.op === 'serverSideEmit') e.serverSideEmit(...(c.args || []).map(value));
          else if (c.op === 'disconnectSockets') e.disconnectSockets(!!c.close);
          else e[c.op](c.rooms);
          break;
        }
        default:
          throw new Error('unknown command ' + c.cmd);
      }
      out({ id: c.id, result: result === undefined ? null : result });
    } catch (e) {
      out({ id: c.id, error: String(e && e.message) });
    }
  });
  rl.on('close', () => process.exit(0));
  out({ ready: httpServer.address().port });
}

main().catch((e) => { out({ error: String(e && e.stack) }); process.exit(1); });
