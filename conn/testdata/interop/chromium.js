// Drives Debian's Chromium with playwright-core: opens PAGE_URL, waits for the
// page to set window.__result, and prints PASS/FAIL lines from it.
// Usage: node chromium.js PAGE_URL CHROMIUM_PATH USER_DATA_DIR FLAG...
'use strict';
const { chromium } = require('playwright-core');
const [pageURL, exe, userDataDir, ...flags] = process.argv.slice(2);

(async () => {
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    args: flags.filter((f) => f !== '--headless'),
    ignoreHTTPSErrors: true, // the tests' HTTPS servers use self-signed certificates
  });
  let code = 1;
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('console', (m) => console.log('console: ' + m.text()));
    await page.goto(pageURL);
    await page.waitForFunction(() => window.__result, null, { timeout: 120000 });
    const r = await page.evaluate(() => window.__result);
    for (const line of r.lines) console.log(line);
    code = r.ok ? 0 : 1;
  } catch (e) {
    console.log('FAIL browser: ' + e.message);
  } finally {
    await ctx.close();
  }
  process.exit(code);
})();
