// The web workspace in a real browser (Debian's Chromium, headless, driven by playwright-core).
// Run by crates/jiamao-cli/tests/browser.rs against a `jiamao serve` it started:
//   node e2e/flows.mjs <base-url> <screenshot-dir> <examples-dir>
// Accounts (created by the Rust test): `ent-admin` (enterprise_admin of 91441900698123458E) and
// `customs-5200` (customs_officer of district 5200), password in JIAMAO_E2E_PASSWORD.
// Each flow saves a screenshot; any failed expectation exits non-zero with what was expected.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, shots, examples] = process.argv.slice(2);
const password = process.env.JIAMAO_E2E_PASSWORD;
const executablePath = process.env.JIAMAO_CHROMIUM || '/usr/bin/chromium';
if (!base || !shots || !examples || !password) {
  console.error('usage: JIAMAO_E2E_PASSWORD=… node e2e/flows.mjs <base-url> <screenshot-dir> <examples-dir>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

function expect(cond, what) {
  if (!cond) {
    throw new Error(`expected: ${what}`);
  }
}

async function logIn(page, login) {
  await page.goto(`${base}/login`);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('form button[type="submit"], form input[type="submit"]')]);
}

async function logOut(context) {
  await context.clearCookies();
}

const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  // 1. An enterprise logs in, uploads the example book and lists, and sees the rejected lists.
  await logIn(page, 'ent-admin');
  expect((await page.getAttribute('html', 'lang')) === 'zh-CN', 'the pages are Chinese first');
  await page.screenshot({ path: join(shots, '1-enterprise-dashboard.png'), fullPage: true });
  await page.goto(`${base}/upload`);
  await page.setInputFiles('[data-testid="book-file"]', join(examples, 'book.json'));
  await page.click('[data-testid="book-upload"]');
  await page.waitForFunction(() => (document.querySelector('[data-testid="book-result"]')?.textContent || '').includes('C52002600001'));
  await page.setInputFiles('[data-testid="lists-file"]', join(examples, 'lists.json'));
  await page.click('[data-testid="lists-upload"]');
  await page.waitForSelector('[data-testid="outcomes"] [data-status]');
  await page.setInputFiles('[data-testid="lists-file"]', join(examples, 'lists-bad.json'));
  await page.click('[data-testid="lists-upload"]');
  await page.waitForSelector('[data-testid="outcomes"] [data-status="rejected"]');
  const rejected = await page.$$eval('[data-testid="outcomes"] [data-status="rejected"]', (rows) => rows.map((r) => r.textContent || ''));
  expect(rejected.length >= 1, 'at least one rejected list in the outcomes table');
  expect(rejected.every((t) => t.trim().length > 20), `each rejected list shows its message: ${JSON.stringify(rejected)}`);
  await page.screenshot({ path: join(shots, '2-upload-outcomes.png'), fullPage: true });

  // 2. The reconciliation (报核), and the drill-down of a material with its balance chart.
  await page.goto(`${base}/books/C52002600001/reconcile`);
  const links = await page.$$('[data-testid="material-link"]');
  expect(links.length === 5, `a link per material of the example (5), found ${links.length}`);
  await page.screenshot({ path: join(shots, '3-reconcile.png'), fullPage: true });
  // The stocktake: the differences by material in a table and as bars.
  await page.setInputFiles('[data-testid="stocktake-file"]', join(examples, 'stocktake.json'));
  await page.click('[data-testid="stocktake-upload"]');
  await page.waitForSelector('[data-testid="differences"] tbody tr');
  await page.waitForSelector('[data-testid="differences-chart"] rect');
  const differences = await page.$$('[data-testid="differences"] tbody tr');
  expect(differences.length === 5, `a difference per material of the example (5), found ${differences.length}`);
  await page.screenshot({ path: join(shots, '3b-stocktake.png'), fullPage: true });
  await Promise.all([page.waitForURL(/\/books\/C52002600001\/materials\/\d+/), links[0].click()]);
  await page.waitForSelector('[data-testid="balance-chart"]');
  const rows = await page.$$('[data-testid="contributions"] tr');
  expect(rows.length > 1, 'the drill-down lists contributions');
  await page.screenshot({ path: join(shots, '4-drill-down.png'), fullPage: true });
  // The posted lists on a tablet: sorted by a heading (a link), a list expanded with the keyboard.
  await page.setViewportSize({ width: 800, height: 1000 });
  await page.goto(`${base}/books/C52002600001/lists`);
  await Promise.all([page.waitForURL(/sort=list_no/), page.click('th a[data-sort="list_no"]')]);
  const first = await page.getAttribute('[data-testid="list-row"]', 'data-list');
  expect(first === 'QD520026000000001', `sorted by number, the first list is QD520026000000001, not ${first}`);
  await page.focus('[data-testid="list-row"] summary');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="list-lines"]', { state: 'visible' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow <= 0, `the page fits a tablet's width (overflow ${overflow}px)`);
  await page.screenshot({ path: join(shots, '4b-lists-tablet.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await logOut(context);

  // 3. A customs officer of the book's district accepts a 单耗 declaration.
  await logIn(page, 'customs-5200');
  await page.goto(`${base}/review`);
  const declared = await page.$('[data-testid="review-row"][data-book="C52002600001"][data-state="declared"]');
  expect(declared, 'a declared 单耗 version of the example book in the review queue');
  const product = await declared.getAttribute('data-product');
  const version = await declared.getAttribute('data-version');
  await page.screenshot({ path: join(shots, '5-review-queue.png'), fullPage: true });
  await Promise.all([page.waitForLoadState('load'), (await declared.$('[data-testid="accept"]')).click()]);
  await page.waitForSelector(`[data-testid="review-row"][data-book="C52002600001"][data-product="${product}"][data-version="${version}"][data-state="accepted"]`);
  await page.screenshot({ path: join(shots, '6-review-accepted.png'), fullPage: true });

  // 4. Switching language.
  await Promise.all([page.waitForLoadState('load'), page.click('[data-testid="lang-switch"]')]);
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.screenshot({ path: join(shots, '7-english.png'), fullPage: true });
  await context.close();
  console.log(`browser flows passed; screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error(`browser flow failed: ${e && e.stack ? e.stack : e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
