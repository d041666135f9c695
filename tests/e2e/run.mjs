// The banner and the server together, for real: `consent serve --demo` on an ephemeral
// loopback port, Debian's Chromium driven by playwright-core, the SQLite log checked with the
// `consent` command afterwards. The full compliance suite (C1-C15) is its own issue; these are
// the paths that cross from the browser into the log.
//
//   CONSENT_BIN=target/debug/consent node --test tests/e2e/run.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const bin = resolve(process.env.CONSENT_BIN ?? 'target/debug/consent');
const dir = mkdtempSync(join(tmpdir(), 'consent-e2e-'));
const env = { ...process.env, CONSENT_DB: join(dir, 'consent.db'), CONSENT_KEY_FILE: join(dir, 'consent.key') };
let server, base, browser;

before(async () => {
  server = spawn(bin, ['serve', '--demo', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('consent serve did not listen within 30 s')), 30_000);
    let seen = '';
    server.stderr.on('data', (chunk) => {
      seen += chunk;
      const m = seen.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    server.on('exit', (code) => fail(new Error(`consent serve exited with ${code}: ${seen}`)));
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const consent = (...args) => execFileSync(bin, args, { env, encoding: 'utf8' });

/** A fresh visitor: a new context, the demo page, the banner on screen. */
async function visit() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const posts = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname === '/consent') posts.push(r.status());
  });
  await page.goto(base + '/');
  await page.getByRole('button', { name: 'Hyväksy kaikki' }).waitFor({ state: 'visible', timeout: 10_000 });
  return { context, page, posts };
}

const ran = (page, id) => page.waitForFunction((id) => document.getElementById(id).textContent.startsWith('ajettu'), id, { timeout: 10_000 });
const signed = (page) => page.waitForFunction(() => /(^|; )consent=1\.[\w-]+\.[\w-]{22}(;|$)/.test(document.cookie), null, { timeout: 10_000 });
const cookieNames = async (context) => (await context.cookies()).map((c) => c.name).sort();

test('before a decision nothing but the banner runs', async () => {
  const { context, page } = await visit();
  assert.deepEqual(await cookieNames(context), []);
  for (const id of ['status-ga', 'status-ads', 'status-pixel']) {
    assert.equal(await page.textContent('#' + id), 'ei ajettu');
  }
  await context.close();
});

test('accept all: logged by the server, signed cookie, every stand-in runs once', async () => {
  const { context, page, posts } = await visit();
  await page.getByRole('button', { name: 'Hyväksy kaikki' }).click();
  await Promise.all([ran(page, 'status-ga'), ran(page, 'status-ads'), ran(page, 'status-pixel'), signed(page)]);
  assert.deepEqual(posts, [201]);
  assert.deepEqual(await cookieNames(context), ['_fbp', '_ga', '_gcl_au', 'consent']);
  const id = await page.evaluate(() => Consent.getConsent().consentId);
  const exported = JSON.parse(consent('export', id));
  assert.equal(exported.records.length, 1);
  assert.equal(exported.records[0].record.action, 'accept_all');
  assert.equal(exported.records[0].record.page_url, base + '/');
  await context.close();
});

test('reject all, then a withdrawal from the settings clears the trackers', async () => {
  const { context, page, posts } = await visit();
  await page.getByRole('button', { name: 'Hylkää kaikki' }).click();
  await signed(page);
  assert.deepEqual(await cookieNames(context), ['consent']);
  assert.equal(await page.textContent('#status-ga'), 'ei ajettu');

  // Grant everything from the preferences, then withdraw it again.
  await page.locator('button[data-consent-open]').click();
  await page.getByRole('dialog').getByRole('button', { name: 'Hyväksy kaikki' }).click();
  await ran(page, 'status-ga');
  await page.locator('button[data-consent-open]').click();
  // The withdrawal's POST is answered after the cookies are already cleared: wait for it.
  const logged = page.waitForResponse((r) => r.url() === base + '/consent' && r.request().method() === 'POST');
  await page.getByRole('dialog').getByRole('button', { name: 'Hylkää kaikki' }).click();
  await logged;
  await page.waitForFunction(() => !/(^|; )_ga=/.test(document.cookie), null, { timeout: 10_000 });
  assert.deepEqual(await cookieNames(context), ['consent']);
  assert.deepEqual(posts, [201, 201, 201]);
  const id = await page.evaluate(() => Consent.getConsent().consentId);
  const actions = JSON.parse(consent('export', id)).records.map((r) => r.record.action);
  assert.deepEqual(actions, ['reject_all', 'accept_all', 'withdraw']);
  await context.close();
});

test('a returning visitor sees no banner and the allowed scripts run at once', async () => {
  const { context, page } = await visit();
  await page.getByRole('button', { name: 'Hyväksy kaikki' }).click();
  await signed(page);
  const again = await context.newPage();
  await again.goto(base + '/');
  await ran(again, 'status-ga');
  assert.equal(await again.getByRole('button', { name: 'Hyväksy kaikki' }).isVisible(), false);
  await context.close();
});

test('the log verifies after every decision above', () => {
  assert.match(consent('verify'), /^chain verified: \d+ records/);
});
