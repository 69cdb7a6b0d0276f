// Checks the HTML reports in headless Chromium (playwright-core, Debian's
// Chromium), takes screenshots and prints PASS and FAIL lines.
// Usage: node report.js INDEX_URL CASE_URL SHOTS_DIR CHROMIUM_PATH USER_DATA_DIR FLAG...
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');
const [indexURL, caseURL, shots, exe, userDataDir, ...flags] = process.argv.slice(2);

function check(ok, what) {
  console.log((ok ? 'PASS ' : 'FAIL ') + what);
  return ok;
}

(async () => {
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: flags.filter((f) => f !== '--headless'),
  });
  let ok = true;
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('console', (m) => { if (m.type() === 'error') { ok = check(false, 'console error: ' + m.text()); } });
    page.on('pageerror', (e) => { ok = check(false, 'page error: ' + e.message); });

    await page.goto(indexURL);
    const legend = await page.$$eval('#case_outcome_desc tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
    ok &= check(JSON.stringify(legend) === JSON.stringify(['Pass', 'Non-Strict', 'Fail', 'Info', 'Missing', 'Unimplemented']), 'the legend lists ' + legend.join(', '));
    const subs = await page.$$eval('tr.sub td', (tds) => tds.map((td) => td.textContent.trim()));
    ok &= check(subs.includes('1.1 Text Messages') && subs.includes('6.4 Fail-fast on invalid UTF-8') && subs.some((s) => s.startsWith('12.1 ')),
      'a row per sub-category: ' + subs.slice(0, 3).join(' | ') + ' ...');
    ok &= check((await page.$$('td.missing')).length > 0, 'cases the agent did not run are Missing');
    const closeCell = 'table.results td.close';
    const hidden = await page.$eval(closeCell, (td) => getComputedStyle(td).display);
    await page.click('#toggle');
    const shown = await page.$eval(closeCell, (td) => getComputedStyle(td).display);
    ok &= check(hidden === 'none' && shown === 'table-cell', 'the toggle shows the close behaviour (' + hidden + ' -> ' + shown + ')');
    const ratio = await page.$$eval('span.detail', (ss) => ss.map((s) => s.textContent).filter((t) => /\[[-0-9.]+\/[-0-9.]+\]/.test(t)));
    ok &= check(ratio.length > 0, 'compression ratios on the 12/13 cells: ' + ratio[0]);
    await page.click('a[href="#case_desc_1_1_1"]');
    ok &= check(await page.isVisible('#case_desc_1_1_1 ~ p') || (await page.$('#case_desc_1_1_1')) !== null, 'the appendix has the description of 1.1.1');
    const appendix = await page.$$eval('#test_case_descriptions ~ div.block', (ds) => ds.length);
    ok &= check(appendix >= 517, 'the appendix describes every case (' + appendix + ')');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, 'index.png') });

    await page.goto(caseURL);
    const head = await page.textContent('p.casehead');
    ok &= check(/Case \d/.test(head), 'the case page has its headline: ' + head.trim());
    const keys = await page.$$eval('table.kv tr td:first-child', (tds) => tds.map((td) => td.textContent));
    ok &= check(['isServer', 'closedByMe', 'wasClean', 'remoteCloseCode'].every((k) => keys.includes(k)), 'the closing behaviour table has the suite\'s keys');
    const stats = await page.$$eval('table.stats', (ts) => ts.map((t) => t.querySelector('tr.total') !== null));
    ok &= check(stats.length === 4 && stats.every(Boolean), 'octet and frame statistics are tables with totals (' + stats.length + ')');
    const wire = await page.textContent('#wirelog');
    ok &= check(/TX OCTETS: \d+/.test(wire) && /RX FRAME : OPCODE=/.test(wire) && /0000  [0-9a-f]{2} /.test(wire), 'the wire log shows octets in hex and text, and frames');
    await page.screenshot({ path: path.join(shots, 'case.png'), fullPage: true });
  } catch (e) {
    ok = check(false, 'browser: ' + e.message);
  } finally {
    await ctx.close();
  }
  process.exit(ok ? 0 : 1);
})();
