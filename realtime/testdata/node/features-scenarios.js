// The scenarios of the server API, shared by features.js (the official
// client in Node) and chromium-features.js (the official client's browser
// bundle in Chromium). defineScenarios returns [name, fn] pairs; env gives
// io, an assert with ok/strictEqual/deepStrictEqual/match, the server URL,
// the transports, client options to add (withCredentials for a page), and
// bin/binEquals for binary data in the platform's form.
'use strict';
function defineScenarios(env) {
  const { io, assert, url, transports, bin, binEquals } = env;
  const extraOpts = env.extraOpts || {};
  const opened = env.opened;
  function open(nsp, extra) {
    const s = io(url + (nsp || ''), Object.assign({ transports, forceNew: true, reconnection: false, timeout: 15000 }, extraOpts, extra));
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

  function ack(s, event, ...args) {
    return new Promise((resolve, reject) => {
      s.timeout(15000).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
    });
  }

  function next(s, event) {
    return within(15000, 'event ' + event, new Promise((resolve) => s.once(event, (...args) => resolve(args))));
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function until(what, fn) {
    for (let i = 0; i < 300; i++) {
      if (await fn()) return;
      await sleep(20);
    }
    throw new Error('timed out waiting for ' + what);
  }

  const scenarios = [];
  function scenario(name, fn) { scenarios.push([name, fn]); }

  scenario('auth defaults to {} and echoes keep key order', async () => {
    const s = await connected(open());
    const [auth, recovered] = await ack(s, 'auth');
    assert.deepStrictEqual(auth, {});
    assert.strictEqual(recovered, false);
    const obj = { zeta: 1, alpha: { y: 2, b: [3, { k: 4, a: 5 }] }, mid: bin([1, 2]) };
    const [back] = await ack(s, 'echo', obj);
    assert.strictEqual(JSON.stringify(Object.keys(back)), '["zeta","alpha","mid"]');
    assert.strictEqual(JSON.stringify(back.alpha), '{"y":2,"b":[3,{"k":4,"a":5}]}');
    assert.ok(binEquals(back.mid, [1, 2]), 'attachment echoed');
  });

  scenario('acknowledgements from many clients, with a timeout and one silent client', async () => {
    const room = 'g-' + Math.random();
    const asker = await connected(open());
    const a = await connected(open());
    const b = await connected(open());
    const silent = await connected(open());
    for (const s of [a, b, silent]) await ack(s, 'join', room);
    a.on('poll', (q, cb) => cb('a'));
    b.on('poll', (q, cb) => setTimeout(() => cb('b'), 50));
    // silent has no listener: it never answers.
    const t0 = Date.now();
    // 1.5 s: long enough for a and b on a loaded machine, short for a test.
    let [answers, err] = await ack(asker, 'gather', room, 1500);
    assert.deepStrictEqual(answers.sort(), ['a', 'b']);
    assert.match(err, /operation has timed out: 1 of 3 acknowledgements missing/);
    assert.ok(Date.now() - t0 >= 1450, 'waited for the timeout');
    silent.on('poll', (q, cb) => cb('s'));
    [answers, err] = await ack(asker, 'gather', room, 5000);
    assert.deepStrictEqual(answers.sort(), ['a', 'b', 's']);
    assert.strictEqual(err, '');
    // To an empty room: no acknowledgement expected, an answer at once.
    [answers, err] = await ack(asker, 'gather', 'nobody-' + Math.random(), 5000);
    assert.deepStrictEqual([answers, err], [[], '']);
  });

  scenario('a socket acknowledgement with a timeout', async () => {
    const s = await connected(open());
    s.on('answer-me', (cb) => cb('yes'));
    assert.deepStrictEqual(await ack(s, 'ask-one', 'answer-me'), ['yes']);
    assert.deepStrictEqual(await ack(s, 'ask-one', 'ignored'), ['error: realtime: operation has timed out']);
  });

  scenario('fetchSockets with data and handshake, and emit to remote sockets', async () => {
    const room = 'f-' + Math.random();
    const a = await connected(open('', { auth: { user: 'ann' } }));
    const b = await connected(open('', { auth: { user: 'bob' } }));
    await ack(a, 'join', room);
    await ack(b, 'join', room);
    const [found] = await ack(a, 'fetch', room);
    found.sort((x, y) => x.data.user.localeCompare(y.data.user));
    assert.deepStrictEqual(found.map((f) => [f.id, f.data.user, f.auth.user]), [[a.id, 'ann', 'ann'], [b.id, 'bob', 'bob']]);
    assert.deepStrictEqual(found[0].rooms.sort(), [a.id, room].sort());
    const got = [next(a, 'remote'), next(b, 'remote')];
    assert.deepStrictEqual(await ack(a, 'remote-emit', room), [2]);
    assert.deepStrictEqual((await Promise.all(got)).map((x) => x[0]), ['hello ' + a.id, 'hello ' + b.id]);
  });

  scenario('socketsJoin then an immediate broadcast, socketsLeave, disconnectSockets', async () => {
    const room = 'j-' + Math.random();
    const target = 'new-' + Math.random();
    const a = await connected(open());
    const b = await connected(open());
    const c = await connected(open());
    await ack(a, 'join', room);
    await ack(b, 'join', room);
    const gotA = next(a, 'joined-msg');
    const gotB = next(b, 'joined-msg');
    let cGot = false;
    c.on('joined-msg', () => { cGot = true; });
    await ack(c, 'sockets-join', room, target);
    assert.deepStrictEqual([(await gotA)[0], (await gotB)[0]], [target, target]);
    assert.ok(!cGot, 'a socket outside the room got the broadcast');
    const [rooms] = await ack(c, 'rooms-of', a.id);
    assert.ok(rooms.includes(target), 'a is in the new room');
    await ack(c, 'sockets-leave', room, target);
    const [after] = await ack(c, 'rooms-of', a.id);
    assert.ok(!after.includes(target), 'a left the new room');
    const reason = new Promise((resolve) => b.once('disconnect', resolve));
    await ack(c, 'disconnect-room', room, false);
    assert.strictEqual(await within(5000, 'disconnect', reason), 'io server disconnect');
  });

  scenario('volatile events are dropped, not queued, while the transport is busy', async () => {
    const s = await connected(open());
    let got = 0;
    s.on('v', () => { got++; });
    const done = next(s, 'v-done');
    await ack(s, 'volatile-burst', 2000);
    assert.strictEqual((await done)[0], 2000);
    await sleep(100);
    // Whether the first events go out depends on what the transport is
    // doing when the burst starts (a GET waiting, a write in progress); the
    // engine's tests check that a writable transport takes them.
    assert.ok(got < 2000, 'received ' + got + ' of 2000 volatile events');
  });

  scenario('per-packet middleware and catch-all listeners', async () => {
    const s = await connected(open());
    let errored = false;
    s.timeout(300).emit('forbidden', (err) => { errored = !!err; });
    await sleep(400);
    assert.ok(errored, 'the blocked event was acknowledged');
    const [seen, blocked] = await ack(s, 'seen');
    assert.strictEqual(seen, 2, 'onAny saw the blocked event and this one');
    assert.ok(blocked >= 1);
    assert.deepStrictEqual(await ack(s, 'two-listeners'), ['first']);
  });

  scenario('compress(false) events arrive', async () => {
    const s = await connected(open());
    const got = [next(s, 'plain')];
    await ack(s, 'uncompressed');
    assert.strictEqual((await got[0])[0].length, 2048);
  });

  scenario('serverSideEmit with acks on one node answers with none', async () => {
    const s = await connected(open());
    assert.deepStrictEqual(await ack(s, 'server-side'), [0, true]);
  });

  scenario('dynamic namespaces: pattern with parent middleware, and function', async () => {
    const ok = await connected(open('/dyn-42', { auth: { token: 'dyn' } }));
    assert.deepStrictEqual(await ack(ok, 'where'), ['/dyn-42']);
    const refused = open('/dyn-43');
    const err = await within(5000, 'connect_error', new Promise((resolve) => refused.once('connect_error', resolve)));
    assert.strictEqual(err.message, 'no token');
    const fn = await connected(open('/fn-x'));
    assert.deepStrictEqual(await ack(fn, 'where'), ['fn /fn-x']);
    const none = open('/dyn-x', { auth: { token: 'dyn' } });
    const err2 = await within(5000, 'connect_error', new Promise((resolve) => none.once('connect_error', resolve)));
    assert.strictEqual(err2.message, 'Invalid namespace');
  });

  scenario('connection state recovery after a forced transport drop', async () => {
    const room = 'r-' + Math.random();
    const c1 = io(url, Object.assign({ transports, forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, timeout: 15000 }, extraOpts));
    opened.push(c1);
    const c2 = await connected(open());
    await connected(c1);
    const id = c1.id;
    await ack(c1, 'join', room);
    const seq = [];
    c1.on('seq', (i, offset) => { seq.push(i); assert.strictEqual(typeof offset, 'string'); });
    await ack(c2, 'to-room-seq', room, 0, 1);
    await until('seq 0', () => seq.length === 1);
    // The server drops the transport; c1 reconnects by itself.
    const gone = new Promise((resolve) => c1.once('disconnect', resolve));
    await ack(c1, 'drop-me');
    const why = await within(5000, 'drop', gone);
    assert.ok(['transport close', 'transport error'].includes(why), 'disconnect reason ' + why);
    await until('server saw the drop', async () => !(await ack(c2, 'connected', id))[0]);
    await ack(c2, 'to-room-seq', room, 1, 5);
    await within(15000, 'reconnect', new Promise((resolve) => c1.once('connect', resolve)));
    assert.strictEqual(c1.recovered, true, 'recovered');
    assert.strictEqual(c1.id, id, 'same id');
    await until('missed packets', () => seq.length === 6);
    assert.deepStrictEqual(seq, [0, 1, 2, 3, 4, 5]);
    const [rooms] = await ack(c2, 'rooms-of', id);
    assert.ok(rooms.includes(room), 'rooms restored');
    // A live broadcast after the recovery still arrives once.
    await ack(c2, 'to-room-seq', room, 6, 1);
    await until('seq 6', () => seq.length === 7);
    await sleep(100);
    assert.deepStrictEqual(seq, [0, 1, 2, 3, 4, 5, 6]);
    const [, recovered] = await ack(c1, 'auth');
    assert.strictEqual(recovered, true);
  });

  return scenarios;
}

if (typeof module !== "undefined") module.exports = { defineScenarios };
