// Drives the know-your-customer parts of the web page in headless Chromium: a case held for
// due diligence shows the facts to collect; the reviewer completes the party record from the
// case and the order is decided again; the party's page shows its facts, their age and its
// orders. Saves a screenshot of each page. Fails on any page error.
// Usage: node kyc.mjs BASE_URL REVIEWER_KEY CASE_ID PARTY_ID OUT_DIR
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, key, caseId, partyId, out] = process.argv.slice(2);
if (!out) { console.error('usage: node kyc.mjs BASE_URL KEY CASE_ID PARTY_ID OUT_DIR'); process.exit(2); }
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
  await page.fill('#key', key);
  await page.click('#login-form button');
  await page.waitForSelector('#queue');

  // The held case: the facts to collect, and the form to complete the record.
  await page.goto(`${base}/#/case/${caseId}`);
  await page.waitForSelector('#due-diligence');
  const card = await page.textContent('#due-diligence');
  expect(card.includes('delivery_address_consistent'), 'the missing fact listed');
  expect(card.includes(partyId), 'the party record named');
  await shot('kyc-case');
  await page.fill('#dd-form input[name="f:delivery_address_consistent"]', 'true');
  await page.click('#dd-form button');
  await page.waitForSelector('#dd-result .pill');
  const result = await page.textContent('#dd-result');
  expect(result.includes('no license required'), `decided again clean, got "${result}"`);
  await shot('kyc-case-completed');

  // The party's page: its facts with who and when, and its orders.
  await page.click('#dd-result a');
  await page.waitForSelector('#party-facts');
  const facts = await page.textContent('#party-facts');
  expect(facts.includes('delivery_address_consistent') && facts.includes('days'), 'facts with their age');
  const orders = await page.textContent('#party-orders');
  expect(orders.includes('kyc-web-1'), 'the order among the party\'s orders');
  await shot('kyc-party');
  expect(errors.length === 0, 'no page errors: ' + errors.join('; '));
  console.log('ok');
} catch (e) {
  console.error(e.message, errors);
  await shot('kyc-failure').catch(() => {});
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
