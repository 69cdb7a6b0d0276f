// A client that handles one WebSocket message per wait, as the official
// Socket.IO protocol test suite does: it opens a session, sends CONNECT, and
// waits for the CONNECT reply and then for the event the server's connection
// handler emits, each with a one-shot listener registered after the previous
// wait ended. If both come in one network read, the second is missed. Prints
// PASS or FAIL.
// With MAX_MISSED, that many rounds may miss (the property is one of timing,
// which a loaded machine can defeat now and then).
// Usage: node one-per-read.js WS_URL ROUNDS MAX_MISSED
'use strict';
const { WebSocket } = require('ws');
const [url, rounds, maxMissed] = process.argv.slice(2);

function next(ws) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message within 1 s')), 1000);
    ws.addEventListener('message', (e) => { clearTimeout(t); resolve(String(e.data)); }, { once: true });
  });
}

(async () => {
  let missed = 0;
  for (let i = 0; i < Number(rounds); i++) {
    const nsp = i % 2 ? '/custom' : '';
    const ws = new WebSocket(url);
    await next(ws); // open
    ws.send('40' + (nsp ? nsp + ',' : '') + '{"n":' + i + '}');
    const reply = await next(ws);
    const want = '42' + (nsp ? nsp + ',' : '') + '["auth",{"n":' + i + '}]';
    let got;
    try {
      got = await next(ws);
    } catch (e) {
      got = e.message;
    }
    if (!reply.startsWith('40') || got !== want) {
      missed++;
      console.log('round ' + i + ': reply ' + reply + ', then ' + got);
    }
    ws.close();
  }
  const ok = missed <= Number(maxMissed || 0);
  console.log((ok ? 'PASS ' : 'FAIL ') + (Number(rounds) - missed) + ' of ' + rounds +
    ' rounds saw the CONNECT reply and the next event apart (at most ' + (maxMissed || 0) + ' may miss)');
  process.exit(ok ? 0 : 1);
})();
