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

// With the keyboard only: the login field has the focus, Tab to the password, Enter sends.
async function logInWithKeyboard(page, login) {
  await page.goto(`${base}/login`);
  expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'login', 'the login field has the focus');
  await page.keyboard.type(login);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')]);
}

// Marks the loaded document: still marked after an action means the page was updated in place.
async function mark(page) {
  await page.evaluate(() => { window.__jiamaoMark = 1; });
}

async function stillMarked(page, what) {
  expect(await page.evaluate(() => window.__jiamaoMark === 1), `${what}: updated in place, not reloaded`);
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
  // A script error on any page fails the flows; refused requests are logged to help read a failure.
  const scriptErrors = [];
  page.on('pageerror', (e) => scriptErrors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) { console.error(`(${r.status()} ${r.request().method()} ${r.url()})`); } });

  // 1. An enterprise logs in, uploads the example book and lists, and sees the rejected lists.
  await logInWithKeyboard(page, 'ent-admin');
  expect((await page.getAttribute('html', 'lang')) === 'zh-CN', 'the pages are Chinese first');
  await page.screenshot({ path: join(shots, '1-enterprise-dashboard.png'), fullPage: true });
  await page.goto(`${base}/upload`);
  await mark(page);
  await page.setInputFiles('[data-testid="book-file"]', join(examples, 'book.json'));
  await page.click('[data-testid="book-upload"]');
  await page.waitForFunction(() => (document.querySelector('[data-testid="book-result"]')?.textContent || '').includes('C52002600001'));
  await page.setInputFiles('[data-testid="lists-file"]', join(examples, 'lists.json'));
  await page.click('[data-testid="lists-upload"]');
  await page.waitForSelector('[data-testid="outcomes"] [data-status]');
  await page.setInputFiles('[data-testid="lists-file"]', join(examples, 'lists-bad.json'));
  await page.click('[data-testid="lists-upload"]');
  await page.waitForSelector('[data-testid="outcomes"] [data-status="rejected"]');
  await stillMarked(page, 'the upload');
  expect(await page.$('[data-testid="book-result"]'), 'the book\'s result stays while the lists are sent');
  const rejected = await page.$$eval('[data-testid="outcomes"] [data-status="rejected"]', (rows) => rows.map((r) => r.textContent || ''));
  expect(rejected.length >= 1, 'at least one rejected list in the outcomes table');
  expect(rejected.every((t) => t.trim().length > 20), `each rejected list shows its message: ${JSON.stringify(rejected)}`);
  await page.screenshot({ path: join(shots, '2-upload-outcomes.png'), fullPage: true });

  // 2. The reconciliation (报核), and the drill-down of a material with its balance chart.
  await page.goto(`${base}/books/C52002600001/reconcile`);
  const links = await page.$$('[data-testid="material-link"]');
  expect(links.length === 5, `a link per material of the example (5), found ${links.length}`);
  await page.screenshot({ path: join(shots, '3-reconcile.png'), fullPage: true });
  // The stocktake: the differences by material in a table and as bars (drawn on the server).
  await mark(page);
  await page.setInputFiles('[data-testid="stocktake-file"]', join(examples, 'stocktake.json'));
  await page.click('[data-testid="stocktake-upload"]');
  await page.waitForSelector('[data-testid="differences"] tbody tr');
  await page.waitForSelector('[data-testid="differences-chart"] rect');
  const differences = await page.$$('[data-testid="differences"] tbody tr');
  expect(differences.length === 5, `a difference per material of the example (5), found ${differences.length}`);
  await stillMarked(page, 'the stocktake');
  await page.screenshot({ path: join(shots, '3b-stocktake.png'), fullPage: true });
  const link = await page.$('[data-testid="material-link"]');
  await Promise.all([page.waitForURL(/\/books\/C52002600001\/materials\/\d+/), link.click()]);
  await page.waitForSelector('[data-testid="balance-chart"]');
  const rows = await page.$$('[data-testid="contributions"] tr');
  expect(rows.length > 1, 'the drill-down lists contributions');
  await page.screenshot({ path: join(shots, '4-drill-down.png'), fullPage: true });
  // The posted lists on a tablet: sorted by a heading (a link), a list expanded with the keyboard.
  await page.setViewportSize({ width: 800, height: 1000 });
  await page.goto(`${base}/books/C52002600001/lists`);
  await mark(page);
  await page.click('th a[data-sort="list_no"]');
  await page.waitForFunction(() => location.search.includes('sort=list_no') && document.querySelector('th[aria-sort="ascending"] a[data-sort="list_no"]'));
  const first = await page.getAttribute('[data-testid="list-row"]', 'data-list');
  expect(first === 'QD520026000000001', `sorted by number, the first list is QD520026000000001, not ${first}`);
  // Filtered to the imports: the table is replaced, the address follows, Back returns.
  await page.selectOption('#direction', 'I');
  await page.click('form.filters button[type="submit"]');
  await page.waitForFunction(() => location.search.includes('direction=I'));
  await page.waitForFunction(() => !document.querySelector('#main[aria-busy]'));
  const directions = await page.$$eval('[data-testid="list-row"]', (rows) => rows.map((r) => r.getAttribute('data-direction')));
  expect(directions.length > 0 && directions.every((d) => d === 'I'), `only imports after filtering: ${JSON.stringify(directions)}`);
  await stillMarked(page, 'sorting and filtering the lists');
  await page.goBack();
  await page.waitForFunction(() => !location.search.includes('direction=I') && document.querySelectorAll('[data-testid="list-row"][data-direction="E"]').length > 0);
  await page.focus('[data-testid="list-row"] summary');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="list-lines"]', { state: 'visible' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow <= 0, `the page fits a tablet's width (overflow ${overflow}px)`);
  await page.screenshot({ path: join(shots, '4b-lists-tablet.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  // Inline validation by the API's rules: a wrong check character said as the field is left; the
  // form sent with a short password comes back with the message on that field.
  await page.goto(`${base}/accounts`);
  await page.fill('#enterprise', '91441900698123458F');
  await page.keyboard.press('Tab');
  await page.waitForSelector('#enterprise-error');
  expect((await page.getAttribute('#enterprise', 'aria-invalid')) === 'true', 'the field is marked invalid');
  expect((await page.textContent('#enterprise-error')).includes('统一社会信用代码'), 'the message is in Chinese');
  await page.fill('#enterprise', '91441900698123458E');
  await page.keyboard.press('Tab');
  await page.waitForSelector('#enterprise-error', { state: 'detached' });
  await page.fill('#login', 'e2e-new-op');
  await page.fill('#password', 'short');
  await mark(page);
  await page.click('[data-testid="add-account-submit"]');
  await page.waitForSelector('#password-error');
  await stillMarked(page, 'a refused form');
  expect((await page.inputValue('#login')) === 'e2e-new-op', 'what was typed is kept');
  await page.screenshot({ path: join(shots, '4c-inline-validation.png'), fullPage: true });
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
  expect(scriptErrors.length === 0, `no script error on any page: ${JSON.stringify(scriptErrors)}`);
  await context.close();
  console.log(`browser flows passed; screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error(`browser flow failed: ${e && e.stack ? e.stack : e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
