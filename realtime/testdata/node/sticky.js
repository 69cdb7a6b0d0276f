// Runs the official socket.io-client, polling only, through a load
// balancer in front of two servers. With WANT=sticky the balancer routes by
// the io cookie, so every request of the session reaches one server and the
// client works; with WANT=unsticky there is no cookie and the session breaks.
// Usage: node sticky.js URL WANT
'use strict';
const { io } = require('socket.io-client');
const assert = require('assert');
const [url, want] = process.argv.slice(2);

function ack(s, event, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(5000).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

(async () => {
  const s = io(url, { transports: ['polling'], withCredentials: true, reconnection: false, forceNew: true, timeout: 5000 });
  try {
    await new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
    for (let i = 0; i < 20; i++) {
      const [got] = await ack(s, 'echo', 'n' + i);
      assert.strictEqual(got, 'n' + i);
    }
    console.log(want === 'sticky' ? 'PASS 20 acknowledged events over polling through the balancer' : 'FAIL the session worked without the cookie');
  } catch (e) {
    console.log(want === 'unsticky' ? 'PASS without the cookie the session broke: ' + e.message : 'FAIL ' + e.message);
  }
  s.disconnect();
  process.exit(0);
})();
