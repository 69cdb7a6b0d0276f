// Drives wstest's web pages in headless Chromium (playwright-core, Debian's
// Chromium) and prints PASS and FAIL lines.
// Usage: node chromium.js SCENARIO URL CHROMIUM_PATH USER_DATA_DIR FLAG...
//   echo    URL is the echo server's page: its WebSocket opens and a
//           message sent through it comes back.
//   testee  URL is the fuzzing server's browser testee page (autorun): the
//           run ends with "Test suite finished!".
//   visit   load URL first, whatever it answers, then URL's /page, whose
//           WebSocket must echo (the server reports how it arrived).
'use strict';
const { chromium } = require('playwright-core');
const [scenario, url, exe, userDataDir, ...flags] = process.argv.slice(2);

(async () => {
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    ignoreHTTPSErrors: true,
    args: flags.filter((f) => f !== '--headless').concat(['--ignore-certificate-errors']),
  });
  let code = 1;
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('console', (m) => console.log('console: ' + m.text()));
    page.on('pageerror', (e) => console.log('FAIL page error: ' + e.message));
    if (scenario === 'echo' || scenario === 'visit') {
      let target = url;
      if (scenario === 'visit') {
        const r = await page.goto(url);
        console.log('visited ' + url + ': status ' + (r ? r.status() : 'none'));
        target = new URL('/page', url).href;
      }
      await page.goto(target);
      await page.waitForSelector('#status:has-text("open")', { timeout: 15000 });
      await page.fill('#text', 'hello from chromium');
      await page.click('button');
      await page.waitForSelector('#log:has-text("echo: hello from chromium")', { timeout: 15000 });
      console.log('PASS the page\'s WebSocket echoed a message');
      code = 0;
    } else if (scenario === 'testee') {
      await page.goto(url);
      await page.waitForSelector('#statusline:has-text("Test suite finished!")', { timeout: 120000 });
      const agent = await page.inputValue('#agent');
      console.log('PASS the browser testee ran the cases as ' + agent);
      code = 0;
    } else {
      console.log('FAIL unknown scenario ' + scenario);
    }
  } catch (e) {
    console.log('FAIL browser: ' + e.message);
  } finally {
    await ctx.close();
  }
  process.exit(code);
})();
