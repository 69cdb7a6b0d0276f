// Opens two pages of the chat demo in headless Chromium (playwright-core,
// Debian's Chromium), joins both to one room, types a message in the first
// and waits for it in the second. Prints PASS and FAIL lines.
// Usage: node chromium.js PAGE_URL[,PAGE_URL2] CHROMIUM_PATH USER_DATA_DIR FLAG...
// With two URLs (two nodes of a cluster) the second page opens the second.
'use strict';
const { chromium } = require('playwright-core');
const [pageURLs, exe, userDataDir, ...flags] = process.argv.slice(2);
const urls = pageURLs.split(',');

(async () => {
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    args: flags.filter((f) => f !== '--headless'),
  });
  let code = 1;
  try {
    const pages = [ctx.pages()[0] || (await ctx.newPage()), await ctx.newPage()];
    for (const [i, p] of pages.entries()) {
      p.on('console', (m) => console.log('console ' + i + ': ' + m.text()));
      p.on('pageerror', (e) => console.log('FAIL page ' + i + ' error: ' + e.message));
      await p.goto(urls[Math.min(i, urls.length - 1)]);
      await p.fill('#room', 'e2e');
      await p.click('#join');
      await p.waitForSelector('text=joined e2e', { timeout: 15000 });
    }
    console.log('PASS both pages joined room e2e');
    const msg = 'hello from page one ' + Date.now();
    await pages[0].fill('#text', msg);
    await pages[0].press('#text', 'Enter');
    await pages[1].waitForSelector('#log >> text=' + msg, { timeout: 15000 });
    await pages[0].waitForSelector('#log >> text=me: ' + msg, { timeout: 15000 });
    console.log('PASS a message typed in page one appears in page two');
    const reply = 'and back from page two';
    await pages[1].fill('#text', reply);
    await pages[1].press('#text', 'Enter');
    await pages[0].waitForSelector('#log >> text=' + reply, { timeout: 15000 });
    console.log('PASS a reply typed in page two appears in page one');
    // Binary through the page's own client: echo an ArrayBuffer.
    const ok = await pages[0].evaluate(() => new Promise((resolve) => {
      const buf = new Uint8Array([0, 1, 2, 255]);
      window.chatSocket.emit('echo', buf, { nested: buf.buffer }, (a, b) => {
        const x = new Uint8Array(a);
        const y = new Uint8Array(b.nested);
        resolve(x.length === 4 && x[3] === 255 && y[0] === 0 && y[3] === 255);
      });
    }));
    console.log(ok ? 'PASS binary echo from the page' : 'FAIL binary echo from the page');
    code = ok ? 0 : 1;
  } catch (e) {
    console.log('FAIL browser: ' + e.message);
  } finally {
    await ctx.close();
  }
  process.exit(code);
})();
