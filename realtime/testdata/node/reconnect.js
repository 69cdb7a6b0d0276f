// Checks that the official socket.io-client reconnects by itself when the
// server goes away and comes back on the same port, and carries on.
// Prints CONNECTED n and DISCONNECTED lines for the Go test, which stops the
// server after "CONNECTED 1" and starts it again after "DISCONNECTED".
// Usage: node reconnect.js URL MODE   (MODE: websocket | polling | upgrade)
'use strict';
const { io } = require('socket.io-client');

const [url, mode] = process.argv.slice(2);
const transports = { websocket: ['websocket'], polling: ['polling'], upgrade: ['polling', 'websocket'] }[mode];
const s = io(url, { transports, reconnectionDelay: 50, reconnectionDelayMax: 300, timeout: 5000 });

function ack(event, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(10000).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

const fail = (msg) => {
  console.log('FAIL ' + mode + ' ' + msg);
  process.exit(1);
};
setTimeout(() => fail('timed out'), 60000).unref();

let connects = 0;
let attempts = 0;
let buffered;
s.io.on('reconnect_attempt', () => { attempts++; });
s.on('disconnect', (reason) => {
  console.log('DISCONNECTED ' + reason);
  // Emitted while disconnected: the client buffers it until reconnected.
  buffered = ack('echo', 'sent while down');
});
s.on('connect', async () => {
  connects++;
  console.log('CONNECTED ' + connects);
  if (connects === 1) {
    try {
      const [r] = await ack('echo', 'before');
      if (r !== 'before') fail('echo before the restart: ' + r);
      console.log('READY');
    } catch (e) {
      fail('echo before the restart: ' + e.message);
    }
    return;
  }
  try {
    if (attempts < 1) fail('no reconnect_attempt event');
    const [b] = await buffered;
    if (b !== 'sent while down') fail('buffered emit: ' + b);
    console.log('PASS ' + mode + ' emit buffered while disconnected is delivered after reconnecting');
    const [r] = await ack('echo', 'after');
    if (r !== 'after') fail('echo after reconnecting: ' + r);
    console.log('PASS ' + mode + ' reconnected by itself after ' + attempts + ' attempts; emit after reconnect works');
    s.close();
    process.exit(0);
  } catch (e) {
    fail(e.message);
  }
});
