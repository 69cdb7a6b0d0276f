// Runs the official engine.io-client against an Engine.IO server under test
// (an echo: text "echo " + text, binary 0xff + bytes; "close-me" makes the
// server close the session) and prints PASS and FAIL lines.
// Usage: node engine-client.js URL MODE   (MODE: websocket | polling | upgrade)
'use strict';
const { Socket } = require('engine.io-client');
const assert = require('assert');

const [url, mode] = process.argv.slice(2);
const transports = { websocket: ['websocket'], polling: ['polling'], upgrade: ['polling', 'websocket'] }[mode];

function within(ms, what, p) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timed out waiting for ' + what)), ms); })]).finally(() => clearTimeout(t));
}

function open() {
  const s = new Socket(url, { transports, path: '/engine.io/' });
  return within(10000, 'open', new Promise((resolve, reject) => {
    s.once('open', () => resolve(s));
    s.once('error', reject);
  }));
}

function nextMessage(s) {
  return within(10000, 'message', new Promise((resolve) => s.once('message', resolve)));
}

const scenarios = [];
const scenario = (name, fn) => scenarios.push([name, fn]);

scenario('open on the transport set', async () => {
  const s = await open();
  if (mode === 'upgrade' && s.transport.name !== 'websocket') {
    await within(10000, 'upgrade', new Promise((resolve) => s.once('upgrade', resolve)));
  }
  assert.strictEqual(s.transport.name, mode === 'polling' ? 'polling' : 'websocket');
  s.close();
});

scenario('string messages both ways, in order', async () => {
  const s = await open();
  const got = [];
  s.on('message', (m) => got.push(m));
  for (let i = 0; i < 50; i++) s.send('m' + i + ' é✓');
  await within(10000, '50 echoes', new Promise((resolve) => { const t = setInterval(() => { if (got.length >= 50) { clearInterval(t); resolve(); } }, 10); }));
  assert.deepStrictEqual(got, Array.from({ length: 50 }, (_, i) => 'echo m' + i + ' é✓'));
  s.close();
});

scenario('binary messages both ways', async () => {
  const s = await open();
  const m = nextMessage(s);
  s.send(Buffer.from([0, 1, 2, 250]));
  const got = await m;
  assert.ok(Buffer.isBuffer(got) || got instanceof ArrayBuffer, 'binary type ' + typeof got);
  assert.deepStrictEqual([...Buffer.from(got)], [255, 0, 1, 2, 250]);
  const big = Buffer.alloc(200000, 7);
  const m2 = nextMessage(s);
  s.send(big);
  assert.strictEqual(Buffer.from(await m2).length, 200001);
  s.close();
});

scenario('the server closes the session', async () => {
  const s = await open();
  const closed = within(10000, 'close', new Promise((resolve) => s.once('close', (reason) => resolve(reason))));
  s.send('close-me');
  const reason = await closed;
  assert.ok(['transport close', 'forced close'].includes(reason), 'close reason ' + reason);
});

scenario('heartbeat keeps an idle session open', async () => {
  const s = await open();
  await new Promise((r) => setTimeout(r, 1500)); // the test server pings every 300 ms
  assert.strictEqual(s.readyState, 'open');
  const m = nextMessage(s);
  s.send('still');
  assert.strictEqual(await m, 'echo still');
  s.close();
});

(async () => {
  let failed = 0;
  for (const [name, fn] of scenarios) {
    try {
      await within(30000, name, fn());
      console.log('PASS ' + name);
    } catch (e) {
      failed++;
      console.log('FAIL ' + name + ': ' + (e && e.message));
    }
  }
  process.exit(failed ? 1 : 0);
})();
