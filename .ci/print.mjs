// Browser check of the printable programme: headless Chromium (Debian's package) driven by
// playwright-core opens each page with the user's token, runs axe-core (WCAG 2 A/AA rules, no
// violation allowed), and prints it to PDF on A4 and on US Letter. It writes, per programme, the
// PDFs and the page's rows in document order (the table rows' text, and each week's heading) for
// .ci/exports.py to check against the PDFs' pages.
// Needs: BASE, TOKEN, IDS (comma-separated programme ids), OUT (a folder), AXE (axe.min.js).
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const { BASE, TOKEN, IDS, OUT, AXE } = process.env;

function fail(message) {
  console.error(`print browser check: ${message}`);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const context = await browser.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${TOKEN}` } });
// No external request may leave the page: everything is inline.
const external = [];
context.on('request', (req) => {
  if (!req.url().startsWith(BASE)) external.push(req.url());
});

for (const id of IDS.split(',')) {
  const page = await context.newPage();
  const res = await page.goto(`${BASE}/v1/me/programmes/${id}/print`);
  if (res.status() !== 200) fail(`${id}: status ${res.status()}`);
  if (await page.locator('script').count() !== 0) fail(`${id}: the page has a script`);

  await page.addScriptTag({ path: AXE });
  const axe = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }));
  if (axe.violations.length) {
    for (const v of axe.violations) {
      console.error(`  ${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    }
    fail(`${id}: ${axe.violations.length} accessibility violations`);
  }
  // Pictures have alt text; every table has a caption and column headers.
  const missing = await page.evaluate(() => ({
    pictures: [...document.querySelectorAll('td.picture svg')].filter((s) => !s.getAttribute('aria-label')).length,
    tables: [...document.querySelectorAll('table')].filter((t) => !t.caption || !t.querySelector('th[scope=col]')).length,
    landmarks: ['header', 'main', 'footer'].filter((l) => !document.querySelector(l)),
  }));
  if (missing.pictures || missing.tables || missing.landmarks.length) fail(`${id}: ${JSON.stringify(missing)}`);

  const layout = await page.evaluate(() => ({
    weeks: [...document.querySelectorAll('section.week h2')].map((h) => h.textContent.trim()),
    headers: [...document.querySelectorAll('thead tr')].map((tr) => [...tr.cells].map((c) => c.textContent)),
    rows: [...document.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent)),
  }));
  writeFileSync(`${OUT}/${id}.json`, JSON.stringify(layout));
  for (const format of ['A4', 'Letter']) {
    await page.pdf({ path: `${OUT}/${id}-${format}.pdf`, format, preferCSSPageSize: false });
  }
  console.log(`print browser check: ${id}: ${layout.weeks.length} weeks, ${layout.rows.length} rows, axe clean`);
  await page.close();
}
await browser.close();
if (external.length) fail(`external requests: ${external.slice(0, 5).join(', ')}`);
