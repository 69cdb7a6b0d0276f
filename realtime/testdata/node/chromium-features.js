// Loads a page in headless Chromium (playwright-core, Debian's Chromium)
// whose origin differs from the Socket.IO server's, and runs the scenarios
// of features-scenarios.js there with the official client's browser bundle:
// CORS with credentials on polling, the origin check on WebSocket, and every
// feature the client can see. Then a page from an origin CORS does not
// allow must fail to connect. Prints PASS and FAIL lines.
// Usage: node chromium-features.js PAGE_URL DENIED_PAGE_URL SERVER_URL CHROMIUM USER_DATA_DIR FLAG...
'use strict';
const { chromium } = require('playwright-core');
const [pageURL, deniedURL, serverURL, exe, userDataDir, ...flags] = process.argv.slice(2);

(async () => {
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    args: flags.filter((f) => f !== '--headless'),
  });
  let failed = 0;
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('pageerror', (e) => console.log('page error: ' + e.message));
    await page.goto(pageURL);
    for (const mode of ['polling', 'websocket', 'upgrade']) {
      const results = await page.evaluate(([url, mode]) => window.runScenarios(url, mode), [serverURL, mode]);
      for (const r of results) {
        if (!r.ok) failed++;
        console.log((r.ok ? 'PASS ' : 'FAIL ') + mode + ': ' + r.name + (r.ok ? '' : ': ' + r.err));
      }
    }
    const denied = await ctx.newPage();
    await denied.goto(deniedURL);
    for (const mode of ['polling', 'websocket']) {
      const outcome = await denied.evaluate(([url, mode]) => new Promise((resolve) => {
        const s = io(url, { transports: [mode], withCredentials: true, reconnection: false, timeout: 5000 });
        s.on('connect', () => { s.disconnect(); resolve('connected'); });
        s.on('connect_error', (e) => resolve('refused: ' + e.message));
      }), [serverURL, mode]);
      const ok = outcome.startsWith('refused');
      if (!ok) failed++;
      console.log((ok ? 'PASS ' : 'FAIL ') + 'a page from an origin CORS does not allow, over ' + mode + ': ' + outcome);
    }
  } catch (e) {
    failed++;
    console.log('FAIL browser: ' + e.message);
  } finally {
    await ctx.close();
  }
  process.exit(failed ? 1 : 0);
})();
