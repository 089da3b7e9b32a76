// Opens an evidence pack's summary.html (written by `exportgate audit export`) in Debian's
// headless Chromium with playwright-core: one section per decision with its order, outcome,
// reasons with citations, screening and inputs; the page loads nothing else (self-contained)
// and prints one decision per page. Saves a screenshot. Fails on any page error.
// Usage: node pack.mjs SUMMARY_HTML OUT_DIR
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, out] = process.argv.slice(2);
if (!file || !out) { console.error('usage: node pack.mjs SUMMARY_HTML OUT_DIR'); process.exit(2); }
mkdirSync(out, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'eg-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
const requests = [];
const page = context.pages()[0] || await context.newPage();
page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
const expect = (cond, what) => { if (!cond) throw new Error('expected ' + what); };
try {
  await page.goto(pathToFileURL(file).href);
  const sections = page.locator('section.decision');
  expect(await sections.count() === 3, 'three decision sections');
  const listed = page.locator('section.decision', { hasText: 'Gulf Trade House FZC' });
  expect(await listed.count() === 1, 'one section for the Gulf Trade House order');
  const body = await page.textContent('body');
  expect(body.includes('no_license_required'), 'the outcome');
  expect(body.includes('88 FR 73458'), 'a citation in the reasons');
  expect(body.includes('Order as submitted'), 'the order');
  expect(body.includes('Reviewer actions'), 'the reviewer actions');
  expect(body.includes('exportgate audit verify --pack'), 'how to verify');
  const breakAfter = await sections.first().evaluate((s) => getComputedStyle(s).breakAfter);
  expect(breakAfter === 'page', `one decision per printed page (break-after ${breakAfter})`);
  expect(requests.length === 0, 'a self-contained page, but it loaded ' + requests.join(', '));
  await page.screenshot({ path: join(out, 'evidence-pack.png'), fullPage: true });
  console.log('screenshot evidence-pack');
  expect(errors.length === 0, 'no page errors: ' + errors.join('; '));
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
