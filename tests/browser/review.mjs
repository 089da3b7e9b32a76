// Drives the exportgate web page in Debian's headless Chromium with playwright-core:
// sign in, the review queue, a case (decision reasons, screening explanation), releasing it,
// the licence and quota charts, the country map (AI Diffusion tiers and a Country Group) and
// the check form. Saves a screenshot of each page. Fails on any page error.
// Usage: node review.mjs BASE_URL REVIEWER_KEY OUT_DIR
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, key, out] = process.argv.slice(2);
if (!base || !key || !out) { console.error('usage: node review.mjs BASE_URL KEY OUT_DIR'); process.exit(2); }
mkdirSync(out, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'eg-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
const page = context.pages()[0] || await context.newPage();
page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
const shot = async (name) => { await page.screenshot({ path: join(out, name + '.png'), fullPage: true }); console.log('screenshot', name); };
const expect = (cond, what) => { if (!cond) throw new Error('expected ' + what); };

try {
  await page.goto(base + '/');
  await page.fill('#key', 'eg_wrong');
  await page.click('#login-form button');
  await page.waitForSelector('#login-error:not(:empty)');
  expect((await page.textContent('#login-error')).includes('401'), 'a 401 for a wrong key');
  errors.length = 0; // the wrong key's 401 was expected
  await page.fill('#key', key);
  await page.click('#login-form button');

  // Review queue.
  await page.waitForSelector('#queue tbody tr.link');
  const rows = await page.locator('#queue tbody tr.link').count();
  expect(rows >= 2, `at least two open cases, got ${rows}`);
  await shot('queue');

  // Case detail: reasons with citations and the screening explanation.
  await page.locator('#queue tbody tr.link').first().click();
  await page.waitForSelector('#reasons tbody tr');
  expect((await page.textContent('#reasons')).includes('CFR'), 'a citation in the reasons');
  expect(await page.locator('#screening .hit').count() >= 1, 'a screening hit with its explanation');
  expect((await page.textContent('#screening')).includes('tokens'), 'matched tokens');
  await shot('case');
  await page.fill('#reason', 'Checked the registry: a different company');
  await page.click('#release');
  await page.waitForSelector('#action-result .pill.released');
  await page.waitForSelector('h2 .pill.released');
  await shot('case-released');

  // Licence and quota charts.
  await page.click('nav a[data-tab=balances]');
  await page.waitForSelector('#licence-chart svg rect');
  await page.waitForSelector('#quota-chart svg rect');
  await shot('charts');

  // Map: AI Diffusion tiers on a date, then a Country Group.
  await page.goto(base + '/#/map?as_of=2025-06-01&mode=tier');
  await page.waitForSelector('#map svg path');
  const paths = await page.locator('#map svg path').count();
  expect(paths > 150, `country shapes, got ${paths}`);
  const cn = await page.getAttribute('#map path[data-code=CN]', 'fill');
  const us = await page.getAttribute('#map path[data-code=US]', 'fill');
  expect(cn !== us, 'China and the US in different tiers');
  await shot('map-tiers');
  await page.selectOption('#map-mode', 'D:5');
  await page.click('#map-form button');
  await page.waitForSelector('.legend >> text=Country Group D:5');
  await shot('map-group-d5');

  // Check one order.
  await page.click('nav a[data-tab=check]');
  await page.waitForSelector('#check-form');
  await page.click('#check-form button');
  await page.waitForSelector('#check-result .card, #check-result .error');
  expect(await page.locator('#check-result .card').count() === 1, 'a decision for the form order');
  await shot('check');

  if (errors.length) throw new Error('page errors:\n' + errors.join('\n'));
  console.log('browser test passed');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
