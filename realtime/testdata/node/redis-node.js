// A Node socket.io 4.8 node in a Redis cluster (@socket.io/redis-adapter,
// classic mode), three official socket.io-client clients on it, and the
// official @socket.io/redis-emitter, driven by realtime/redisadapter's
// interop tests through stdin and stdout, one JSON object per line.
// Usage: node redis-node.js REDIS_PORT
//
// Clients: c1 in room r1, c2 in r2, c3 in r1 and r3; each records the
// Engine.IO message payloads it receives (text as is, binary as
// "bin:<hex>") and acknowledges "ack-me" events with {from, x: 7}.
// Prints {"ready": port} once all are connected. Commands:
//   {"id", "cmd": "emitter", "nsp", "to", "except", "flags", "event", "args"}
//       emits with the official emitter; args are tagged values (below).
//   {"id", "cmd": "drain"}: answers {"id", "got": {c1: [...], ...}} with what
//       each client received before the "sync" event that an emitter or the
//       server sends to all, and forgets it.
//   {"id", "cmd": "emitter-op", "op", "to", "except", "rooms", "close", "args"}:
//       the official emitter's socketsJoin, socketsLeave, disconnectSockets
//       or serverSideEmit.
//   {"id", "cmd": "sync-emitter"}: the official emitter emits "sync" to all.
//   {"id", "cmd": "server", "op", ...}: the server does op (emit, emitAck,
//       socketsJoin, socketsLeave, disconnectSockets, serverSideEmit,
//       serverSideEmitWithAck, fetchSockets, allRooms) and answers {"id", "result"}.
// Tagged values: {"t":"json","v":x}, {"t":"buf","hex":h}, {"t":"date","ms":n},
// {"t":"obj","fields":[[key, value]...]}, {"t":"arr","items":[...]}.
'use strict';
const http = require('http');
const readline = require('readline');
const { Server } = require('socket.io');
const { Manager } = require('socket.io-client');
const { createClient } = require('redis');
const { createAdapter } = require('@socket.io/redis-adapter');
const { Emitter } = require('@socket.io/redis-emitter');

const redisURL = 'redis://127.0.0.1:' + process.argv[2];
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

async function main() {
  const pub = createClient({ url: redisURL });
  const sub = pub.duplicate();
  const epub = pub.duplicate();
  for (const c of [pub, sub, epub]) c.on('error', (e) => out({ log: 'redis: ' + e.message }));
  await Promise.all([pub.connect(), sub.connect(), epub.connect()]);

  const httpServer = http.createServer();
  const io = new Server(httpServer, { serveClient: false, adapter: createAdapter(pub, sub, { requestsTimeout: 2000 }) });
  io.of('/chat'); // a second namespace, isolated from "/"
  const onConnection = (socket) => {
    for (const r of String(socket.handshake.auth.rooms || '').split(',').filter(Boolean)) socket.join(r);
  };
  io.on('connection', onConnection);
  io.of('/chat').on('connection', onConnection);
  io.on('sse', (...args) => {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    out({ sse: args });
    if (cb) cb('node-reply');
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = httpServer.address().port;

  const emitter = new Emitter(epub);
  const clients = {};
  const specs = [['c1', '/', 'r1'], ['c2', '/', 'r2'], ['c3', '/', 'r1,r3'], ['k1', '/chat', 'r1']];
  await Promise.all(specs.map(([name, nsp, rooms]) => new Promise((resolve, reject) => {
    const m = new Manager('http://127.0.0.1:' + port, { transports: ['websocket'], reconnection: false });
    const c = { frames: [], batches: [] };
    clients[name] = c;
    m.on('open', () => m.engine.on('packet', (p) => {
      if (p.type !== 'message') return;
      const f = typeof p.data === 'string' ? p.data : 'bin:' + Buffer.from(p.data).toString('hex');
      if (/^2(\/chat,)?\["sync"/.test(f)) {
        c.batches.push(c.frames);
        c.frames = [];
        return;
      }
      c.frames.push(f);
    }));
    const s = m.socket(nsp, { auth: { rooms } });
    s.on('ack-me', (...args) => { const cb = args.pop(); cb({ from: name, x: 7 }); });
    s.on('connect', () => { c.id = s.id; resolve(); });
    s.on('connect_error', reject);
  })));

  const syncAll = async () => {
    for (let i = 0; i < 500; i++) {
      if (Object.values(clients).every((c) => c.batches.length > 0)) return Object.values(clients).map((c) => c.batches.shift());
      await new Promise((r) => setTimeout(r, 10));
    }
    return null;
  };
  const ops = {
    emit: (c) => io.to(c.to || []).except(c.except || []).emit(c.event, ...(c.args || []).map(value)),
    emitAck: async (c) => {
      try {
        return { responses: await io.timeout(1500).emitWithAck('ack-me', 7) };
      } catch (e) {
        return { error: e.message };
      }
    },
    socketsJoin: (c) => io.in(c.to || []).socketsJoin(c.rooms),
    socketsLeave: (c) => io.in(c.to || []).socketsLeave(c.rooms),
    disconnectSockets: (c) => io.in(c.to || []).disconnectSockets(!!c.close),
    serverSideEmit: (c) => io.serverSideEmit('sse', ...(c.args || []).map(value)),
    serverSideEmitWithAck: async () => {
      try {
        return { responses: await io.serverSideEmitWithAck('sse', 'ask') };
      } catch (e) {
        return { error: e.message };
      }
    },
    fetchSockets: async () => (await io.fetchSockets()).map((s) => ({ id: s.id, rooms: [...s.rooms], handshake: s.handshake, data: s.data })),
    allRooms: async () => [...(await io.of('/').adapter.allRooms())],
  };

  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', async (line) => {
    const c = JSON.parse(line);
    try {
      switch (c.cmd) {
        case 'emitter': {
          let e = c.nsp ? emitter.of(c.nsp) : emitter;
          if (c.to) e = e.to(c.to);
          if (c.except) e = e.except(c.except);
          for (const [k, v] of c.flags || []) e = k === 'volatile' ? e.volatile : e.compress(v);
          e.emit(c.event, ...(c.args || []).map(value));
          out({ id: c.id });
          break;
        }
        case 'emitter-op': {
          let e = emitter;
          if (c.to) e = e.to(c.to);
          if (c.except) e = e.except(c.except);
          if (c.op === 'serverSideEmit') e.serverSideEmit(...(c.args || []).map(value));
          else if (c.op === 'disconnectSockets') e.disconnectSockets(!!c.close);
          else e[c.op](c.rooms);
          out({ id: c.id });
          break;
        }
        case 'sync-emitter':
          emitter.emit('sync');
          emitter.of('/chat').emit('sync');
          out({ id: c.id });
          break;
        case 'drain': {
          const got = {};
          const frames = await syncAll();
          if (!frames) throw new Error('no sync within 5 s');
          Object.keys(clients).forEach((name, i) => { got[name] = frames[i]; });
          out({ id: c.id, got });
          break;
        }
        case 'ids':
          out({ id: c.id, ids: Object.fromEntries(Object.entries(clients).map(([k, v]) => [k, v.id])) });
          break;
        case 'server':
          out({ id: c.id, result: await ops[c.op](c) });
          break;
        default:
          throw new Error('unknown command ' + c.cmd);
      }
    } catch (e) {
      out({ id: c.id, error: String(e && e.message) });
    }
  });
  rl.on('close', () => process.exit(0));
  out({ ready: port });
}

main().catch((e) => { out({ error: String(e && e.stack) }); process.exit(1); });
