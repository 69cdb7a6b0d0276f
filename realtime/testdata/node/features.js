// Runs the official socket.io-client against the server API of a server
// under test (the app of realtime/features_test.go) and prints one PASS or
// FAIL line per scenario of features-scenarios.js.
// Usage: node features.js URL MODE   (MODE: websocket | polling | upgrade)
'use strict';
const { io } = require('socket.io-client');
const assert = require('assert');
const { defineScenarios } = require('./features-scenarios.js');

const [url, mode] = process.argv.slice(2);
const transports = { websocket: ['websocket'], polling: ['polling'], upgrade: ['polling', 'websocket'] }[mode];
const opened = [];
const scenarios = defineScenarios({
  io, assert, url, transports, opened,
  bin: (bytes) => Buffer.from(bytes),
  binEquals: (x, bytes) => Buffer.isBuffer(x) && x.equals(Buffer.from(bytes)),
});

function within(ms, what, p) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error('timed out waiting for ' + what)), ms); }),
  ]).finally(() => clearTimeout(t));
}

(async () => {
  let failed = 0;
  for (const [name, fn] of scenarios) {
    try {
      await within(60000, name, fn());
      console.log('PASS ' + name);
    } catch (e) {
      failed++;
      console.log('FAIL ' + name + ': ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
    }
    while (opened.length) opened.pop().disconnect();
  }
  process.exit(failed ? 1 : 0);
})();
