// Node's ws as a CLIENT against a WebSocket echo server under test.
// Usage: node node_client.js ws://127.0.0.1:PORT/path [deflate]
// With "deflate", permessage-deflate is offered and must be negotiated.
// Prints one line per scenario ("PASS name" or "FAIL name: why") and exits 0
// only if every scenario passed. The server must echo every message and obey
// the text commands "cmd:close:CODE:REASON" and "cmd:ping:PAYLOAD".
'use strict';
const WebSocket = require('ws');
const url = process.argv[2];
const deflate = process.argv[3] === 'deflate';
let failed = 0;

function pass(name) { console.log('PASS ' + name); }
function fail(name, why) { failed++; console.log('FAIL ' + name + ': ' + why); }

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: deflate ? { threshold: 0 } : false, maxPayload: 64 << 20 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function next(ws, event) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout waiting for ' + event)), 20000);
    ws.once(event, (...args) => { clearTimeout(t); resolve(args); });
  });
}

function payload(n, text) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = text ? 97 + (i % 26) : (i * 7) & 0xff;
  return b;
}

async function echoCase(ws, n, text) {
  const name = `echo ${text ? 'text' : 'binary'} ${n} bytes`;
  const p = payload(n, text);
  const got = next(ws, 'message');
  ws.send(p, { binary: !text });
  const [data, isBinary] = await got;
  if (isBinary === text) return fail(name, `type binary=${isBinary}`);
  if (!Buffer.from(data).equals(p)) return fail(name, `payload differs (${data.length} bytes back)`);
  pass(name);
}

async function main() {
  const ws = await open();
  if (deflate) {
    if (!String(ws.extensions).includes('permessage-deflate')) fail('deflate negotiated', `extensions ${ws.extensions}`);
    else pass('deflate negotiated: ' + ws.extensions);
  }
  // Incompressible data as well as the patterns below.
  {
    const name = 'echo binary 100000 random bytes';
    const p = require('crypto').randomBytes(100000);
    const got = next(ws, 'message');
    ws.send(p, { binary: true });
    const [data] = await got;
    if (!Buffer.from(data).equals(p)) fail(name, 'payload differs'); else pass(name);
  }
  for (const n of [0, 125, 126, 65535, 65536, 16 << 20]) {
    for (const text of [true, false]) await echoCase(ws, n, text);
  }

  // Fragmented messages: three frames each.
  for (const text of [true, false]) {
    const name = `fragmented ${text ? 'text' : 'binary'} message`;
    const got = next(ws, 'message');
    ws.send(Buffer.from('frag1'), { binary: !text, fin: false });
    ws.send(Buffer.from('frag2'), { binary: !text, fin: false });
    ws.send(Buffer.from('frag3'), { binary: !text, fin: true });
    const [data, isBinary] = await got;
    if (isBinary === text || Buffer.from(data).toString() !== 'frag1frag2frag3') fail(name, `got ${data} binary=${isBinary}`);
    else pass(name);
  }

  // Ping from the client: the server must pong with the same payload.
  {
    const got = next(ws, 'pong');
    ws.ping(Buffer.from('client-ping'));
    const [data] = await got;
    if (Buffer.from(data).toString() !== 'client-ping') fail('client ping', `pong payload ${data}`);
    else pass('client ping');
  }

  // Ping from the server: ws answers it by itself; the server reports.
  {
    const got = next(ws, 'message');
    ws.send('cmd:ping:server-ping');
    const [data] = await got;
    if (Buffer.from(data).toString() !== 'pinged:server-ping') fail('server ping', `got ${data}`);
    else pass('server ping');
  }

  // The client closes with a code: the server echoes it.
  {
    const got = next(ws, 'close');
    ws.close(4001, 'client-bye');
    const [code] = await got;
    if (code !== 4001) fail('client close 4001', `close event code ${code}`);
    else pass('client close 4001');
  }

  // The server closes with a code and reason.
  {
    const ws2 = await open();
    const got = next(ws2, 'close');
    ws2.send('cmd:close:4002:server-bye');
    const [code, reason] = await got;
    if (code !== 4002 || reason.toString() !== 'server-bye') fail('server close 4002', `code ${code} reason ${reason}`);
    else pass('server close 4002');
  }

  // Invalid UTF-8 in a text message: the server fails the connection with 1007.
  {
    const ws3 = await open();
    const got = next(ws3, 'close');
    ws3.send(Buffer.from([0x48, 0x69, 0xed, 0xa0, 0x80]), { binary: false });
    const [code] = await got;
    if (code !== 1007) fail('invalid utf-8 gets 1007', `close code ${code}`);
    else pass('invalid utf-8 gets 1007');
  }
}

main().then(() => process.exit(failed ? 1 : 0), (err) => { console.log('FAIL run: ' + err.message); process.exit(1); });
