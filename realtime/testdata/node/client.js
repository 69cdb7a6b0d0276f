// Runs the official socket.io-client against a server under test and prints
// one PASS or FAIL line per scenario.
// Usage: node client.js URL MODE   (MODE: websocket | polling | upgrade)
'use strict';
const { io } = require('socket.io-client');
const assert = require('assert');

const [url, mode] = process.argv.slice(2);
const transports = { websocket: ['websocket'], polling: ['polling'], upgrade: ['polling', 'websocket'] }[mode];
if (!transports) {
  console.log('FAIL usage: unknown mode ' + mode);
  process.exit(2);
}
const opened = [];

function open(nsp, extra) {
  const s = io(url + (nsp || ''), Object.assign({ transports, forceNew: true, reconnection: false, timeout: 15000 }, extra));
  opened.push(s);
  return s;
}

function within(ms, what, p) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error('timed out waiting for ' + what)), ms); }),
  ]).finally(() => clearTimeout(t));
}

function connected(s) {
  if (s.connected) return Promise.resolve(s);
  return within(15000, 'connect', new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  }));
}

// ack emits an event with an acknowledgement callback and resolves with
// every argument of the acknowledgement (emitWithAck keeps only the first).
function ack(s, event, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(15000).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

function next(s, event) {
  return within(15000, 'event ' + event, new Promise((resolve) => s.once(event, (...args) => resolve(args))));
}

// nothing resolves if s receives event within ms, and rejects otherwise.
function nothing(s, event, ms) {
  return new Promise((resolve, reject) => {
    const f = () => reject(new Error('unexpected event ' + event));
    s.once(event, f);
    setTimeout(() => { s.off(event, f); resolve(); }, ms);
  });
}

const scenarios = [];
function scenario(name, fn) { scenarios.push([name, fn]); }

scenario('connect', async () => {
  const s = await connected(open());
  assert.ok(s.id, 'socket id');
  if (mode === 'upgrade') {
    const eng = s.io.engine;
    if (eng.transport.name !== 'websocket') {
      await within(15000, 'upgrade', new Promise((resolve) => eng.once('upgrade', resolve)));
    }
    assert.strictEqual(eng.transport.name, 'websocket');
  } else {
    assert.strictEqual(s.io.engine.transport.name, transports[0]);
  }
});

scenario('ack client to server', async () => {
  const s = await connected(open());
  const got = await ack(s, 'echo', 'hi', { a: 1, b: [true, null, 2.5] }, [1, 2, 3]);
  assert.deepStrictEqual(got, ['hi', { a: 1, b: [true, null, 2.5] }, [1, 2, 3]]);
});

scenario('binary both ways', async () => {
  const s = await connected(open());
  const buf = Buffer.from([0, 1, 2, 253, 254, 255]);
  const big = Buffer.alloc(100000, 7);
  const got = await ack(s, 'echo', buf, { nested: big, text: 'x' });
  assert.ok(Buffer.isBuffer(got[0]), 'attachment 0 is a Buffer');
  assert.ok(buf.equals(got[0]), 'attachment 0 intact');
  assert.ok(big.equals(got[1].nested), 'nested attachment intact');
  assert.strictEqual(got[1].text, 'x');
  const ev = next(s, 'bin');
  s.emit('bin-please');
  const [b, obj] = await ev;
  assert.ok(Buffer.from([0, 1, 2, 255]).equals(b), 'server binary event');
  assert.ok(Buffer.from('hello').equals(obj.buf), 'server nested binary');
});

scenario('ack server to client', async () => {
  const s = await connected(open());
  s.on('question', (q, cb) => cb(Buffer.isBuffer(q) ? Buffer.from(q).reverse() : 'answer:' + q));
  assert.deepStrictEqual(await ack(s, 'ask-me', 'q1'), ['answer:q1']);
  const got = await ack(s, 'ask-me', Buffer.from([1, 2, 3]));
  assert.ok(Buffer.from([3, 2, 1]).equals(got[0]), 'binary ack from the client');
});

scenario('rooms', async () => {
  const [a1, a2, b1] = await Promise.all([connected(open()), connected(open()), connected(open())]);
  assert.deepStrictEqual(await ack(a1, 'join', 'A'), ['joined', 'A']);
  assert.deepStrictEqual(await ack(a2, 'join', 'A'), ['joined', 'A']);
  assert.deepStrictEqual(await ack(b1, 'join', 'B'), ['joined', 'B']);
  const got = next(a2, 'room-msg');
  const quietB = nothing(b1, 'room-msg', 500);
  const quietSender = nothing(a1, 'room-msg', 500);
  await ack(a1, 'to-room', 'A', 'hello A');
  assert.deepStrictEqual(await got, ['hello A']);
  await quietB;
  await quietSender;
  // several rooms: every member once
  const all = [a1, a2, b1].map((s) => next(s, 'rooms-msg'));
  const once = [a1, a2, b1].map((s) => new Promise((resolve, reject) => {
    let n = 0;
    const f = () => { n++; };
    s.on('rooms-msg', f);
    setTimeout(() => { s.off('rooms-msg', f); n === 1 ? resolve() : reject(new Error('rooms-msg received ' + n + ' times')); }, 700);
  }));
  await ack(b1, 'to-rooms', ['A', 'B'], 'hello A+B');
  for (const p of all) assert.deepStrictEqual(await p, ['hello A+B']);
  await Promise.all(once);
});

scenario('broadcast', async () => {
  const ss = await Promise.all([connected(open()), connected(open()), connected(open())]);
  const all = ss.map((s) => next(s, 'shout'));
  await ss[0].timeout(15000).emitWithAck('shout', 'to everyone');
  for (const p of all) assert.deepStrictEqual(await p, ['to everyone']);
  const others = ss.slice(1).map((s) => next(s, 'shout-others'));
  const quiet = nothing(ss[0], 'shout-others', 500);
  await ss[0].timeout(15000).emitWithAck('shout-others', 'not me');
  for (const p of others) assert.deepStrictEqual(await p, ['not me']);
  await quiet;
});

scenario('namespace auth', async () => {
  const ok = await connected(open('/admin', { auth: { token: 'secret' } }));
  assert.deepStrictEqual(await ack(ok, 'whoami'), ['/admin', 'secret']);
  let err;
  try {
    await connected(open('/admin', { auth: { token: 'wrong' } }));
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'bad token refused');
  assert.strictEqual(err.message, 'not authorized');
  assert.deepStrictEqual(err.data, { code: 401 });
  let err2;
  try {
    await connected(open('/nowhere'));
  } catch (e) {
    err2 = e;
  }
  assert.ok(err2, 'unknown namespace refused');
  assert.strictEqual(err2.message, 'Invalid namespace');
});

scenario('multiplexed namespaces', async () => {
  // Without forceNew the two namespaces share one Engine.IO session.
  const m = io(url, { transports, reconnection: false });
  const a = m.io.socket('/admin', { auth: { token: 'secret' } });
  opened.push(m, a);
  await connected(m);
  await connected(a);
  assert.strictEqual(m.io.engine.id, a.io.engine.id, 'one session');
  assert.deepStrictEqual(await ack(a, 'whoami'), ['/admin', 'secret']);
  assert.deepStrictEqual(await ack(m, 'echo', 1), [1]);
});

scenario('large payload', async () => {
  const s = await connected(open());
  const text = 'x'.repeat(300000);
  const got = await ack(s, 'echo', text);
  assert.strictEqual(got[0].length, text.length);
});

scenario('ordered traffic from the first moment (across the upgrade)', async () => {
  const s = open(); // emits before the connection is up are buffered by the client
  const seq = [];
  s.on('seq', (i) => seq.push(i));
  const replies = [];
  for (let i = 0; i < 60; i++) replies.push(ack(s, 'echo', i));
  const burst = ack(s, 'burst', 200);
  const got = await Promise.all(replies);
  assert.deepStrictEqual(got.map((r) => r[0]), [...Array(60).keys()]);
  await burst; // acknowledged after the 200 events, so they are all in
  assert.deepStrictEqual(seq, [...Array(200).keys()]);
});

scenario('disconnect', async () => {
  const s = await connected(open());
  const id = s.id;
  s.disconnect();
  const ob = await connected(open());
  const reason = await within(15000, 'reason', (async () => {
    for (let i = 0; i < 50; i++) {
      const [r] = await ack(ob, 'reason-of', id);
      if (r) return r;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })());
  assert.strictEqual(reason, 'client namespace disconnect');
});

(async () => {
  let failed = 0;
  for (const [name, fn] of scenarios) {
    try {
      await within(60000, name, fn());
      console.log('PASS ' + mode + ' ' + name);
    } catch (e) {
      failed++;
      console.log('FAIL ' + mode + ' ' + name + ': ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
    }
    while (opened.length) opened.pop().close();
  }
  process.exit(failed ? 1 : 0);
})();
