// The clinic's dashboard (/admin) in Debian's headless Chromium: `consent serve --demo` with
// an admin token, some decisions, register entries and data-subject requests recorded through
// the API, then staff log in (HTTP Basic, the token as the password) and look at every panel
// in Finnish, Swedish and English, on a 360 px phone and a desktop: no horizontal overflow,
// no axe violation, no console error or CSP violation. Then the search by consent id, the
// export, and logout. Screenshots go to target/e2e-artifacts/dashboard-*.png.
//
//   CONSENT_BIN=target/debug/consent node --test tests/e2e/dashboard.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = resolve(process.env.CONSENT_BIN ?? join(root, 'target/debug/consent'));
const artifacts = resolve(process.env.E2E_ARTIFACTS ?? join(root, 'target/e2e-artifacts'));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const SIZES = { phone: { width: 360, height: 640 }, desktop: { width: 1280, height: 800 } };
const token = randomBytes(16).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'consent-dash-'));
let server, base, browser, consentId;

/** What each language's dashboard must say. */
const L = {
  fi: {
    title: 'Suostumusten hallinta', requests: 'Avoimet rekisteröityjen pyynnöt', overdue: '1 pyyntö myöhässä.',
    rates: 'Suostumusaste kategorioittain', decisions: '3 päätöstä', register: 'Suoramarkkinointirekisteri',
    email: 'Sähköposti', log: 'Lokin eheys', ok: 'Ketju on eheä', logout: 'Kirjaudu ulos', search: 'Hae',
    found: 'Suostumustunnisteen tiedot', loggedOut: 'Olet kirjautunut ulos',
  },
  sv: {
    title: 'Översikt över samtycken', requests: 'Öppna begäranden från registrerade', overdue: '1 begäran är försenad.',
    rates: 'Andel samtycken per kategori', decisions: '3 beslut', register: 'Register för direktmarknadsföring',
    email: 'E-post', log: 'Loggens integritet', ok: 'Kedjan är intakt', logout: 'Logga ut', search: 'Sök',
    found: 'Uppgifter om samtyckes-id', loggedOut: 'Du har loggat ut',
  },
  en: {
    title: 'Consent dashboard', requests: 'Open data-subject requests', overdue: '1 request is overdue.',
    rates: 'Consent rate per category', decisions: '3 decisions', register: 'Direct-marketing register',
    email: 'E-mail', log: 'Log integrity', ok: 'The chain verifies', logout: 'Log out', search: 'Search',
    found: 'Records of a consent id', loggedOut: 'You are logged out',
  },
};

async function freePort() {
  const s = createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

const admin = { authorization: `Bearer ${token}` };
async function post(path, body, headers) {
  const r = await fetch(base + path, { method: 'POST', body, headers, redirect: 'manual' });
  assert.ok(r.status < 400, `${path}: ${r.status} ${await r.text()}`);
  return r;
}
const day = (daysAgo) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    CONSENT_ADMIN_TOKEN: token,
    CONSENT_DB: join(work, 'consent.db'),
    CONSENT_KEY_FILE: join(work, 'consent.key'),
  };
  server = spawn(bin, ['serve', '--demo', '--listen', `127.0.0.1:${port}`, '--origin', base, '--rate-limit', '0'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('consent serve did not listen within 30 s')), 30_000);
    let seen = '';
    server.stderr.on('data', (chunk) => {
      seen += chunk;
      if (/listening on http/.test(seen)) { clearTimeout(timer); ok(); }
    });
    server.on('exit', (code) => { clearTimeout(timer); fail(new Error(`consent serve exited with ${code}: ${seen}`)); });
  });

  // Three cookie decisions through the no-JavaScript form, as a visitor's browser posts it.
  const form = { origin: base, 'content-type': 'application/x-www-form-urlencoded' };
  for (const body of ['action=accept_all', 'action=reject_all', 'action=custom&category=analytics']) {
    const r = await post('/consent/form', body, form);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('consent='));
    const bytes = Buffer.from(cookie.split(';')[0].split('.')[1], 'base64url');
    consentId = bytes.subarray(0, 16).toString('hex');
  }
  // The register: two consents and an objection on e-mail, one text-message consent.
  const json = { ...admin, 'content-type': 'application/json' };
  for (const [contact, channel, kind] of [
    ['maija@example.fi', 'email', 'consent'], ['pekka@example.fi', 'email', 'consent'],
    ['liisa@example.fi', 'email', 'objection'], ['+358401234567', 'sms', 'consent'],
  ]) {
    await post('/register/marketing', JSON.stringify({ contact, channel, kind, via: 'front_desk', staff: 'desk-1' }), json);
  }
  // Two open requests: an access request received 45 days ago (overdue), an erasure today.
  await post('/register/requests', JSON.stringify({ kind: 'erasure', consent_id: consentId, staff: 'desk-1', received: day(0) }), json);
  await post('/register/requests', JSON.stringify({ kind: 'access', contact: 'maija@example.fi', staff: 'desk-1', received: day(45) }), json);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

/** A member of staff's browser: logged in (unless `login` is false), errors recorded. */
async function staff({ viewport = SIZES.desktop, locale = 'fi-FI', login = true } = {}) {
  const context = await browser.newContext({
    viewport, locale, httpCredentials: login ? { username: 'staff', password: token } : undefined,
  });
  const s = { context, consoleErrors: [] };
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`), true);
  });
  context.on('console', (m) => { if (m.type() === 'error') s.consoleErrors.push(m.text()); });
  context.setDefaultTimeout(10_000);
  s.page = await context.newPage();
  return s;
}

/** No horizontal overflow (of the page, or of a table inside the box it may scroll in: on a
 * phone a table that needs scrolling sideways hides a column), no axe violation, no CSP
 * violation. */
async function sound(page, what) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${what}: the page is ${scroll} px wide in a ${width} px window`);
  const boxes = await page.evaluate(() => [...document.querySelectorAll('.scroll')]
    .filter((b) => b.scrollWidth > b.clientWidth)
    .map((b) => `${b.getAttribute('aria-labelledby')}: ${b.scrollWidth} px in ${b.clientWidth} px`));
  assert.deepEqual(boxes, [], `${what}: a table wider than its box`);
  assert.deepEqual(await page.evaluate(() => window.__csp), [], `${what}: CSP violations`);
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const found = result.violations.map((x) => `${x.id} (${x.impact}): ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(found, [], `axe violations in ${what}`);
}

test('every panel in each language, on a phone and a desktop: no overflow, axe, no console error (screenshots)', async () => {
  for (const [size, viewport] of Object.entries(SIZES)) {
    for (const [lang, t] of Object.entries(L)) {
      const at = `${lang} ${size}`;
      const s = await staff({ viewport });
      const response = await s.page.goto(`${base}/admin?lang=${lang}`);
      assert.equal(response.status(), 200, at);
      const page = s.page;
      assert.equal(await page.locator('html').getAttribute('lang'), lang, at);
      await page.getByRole('heading', { level: 1, name: t.title }).waitFor();
      // Requests: the overdue access request first, flagged.
      const requests = page.locator('#requests');
      assert.equal(await requests.getByRole('heading', { name: t.requests }).count(), 1, at);
      assert.match(await requests.getByRole('alert').innerText(), new RegExp(t.overdue.replace('.', '\\.')), at);
      const items = requests.locator('li.request');
      assert.equal(await items.count(), 2, at);
      assert.equal(await items.nth(0).getAttribute('class'), 'request overdue', at);
      assert.equal(await items.nth(1).getAttribute('class'), 'request', at);
      // Rates: a chart per category with a text alternative, and a table of the numbers.
      const rates = page.locator('#rates');
      assert.equal(await rates.getByRole('heading', { name: t.rates }).count(), 1, at);
      assert.match(await rates.locator('.summary').innerText(), new RegExp(`^${t.decisions}`), at);
      assert.equal(await rates.getByRole('img').count(), 2, at);
      for (const img of await rates.getByRole('img').all()) {
        assert.ok((await img.getAttribute('aria-label')).length > 20, `${at}: the chart's text alternative`);
      }
      assert.equal(await rates.locator('tbody tr').count(), 1, `${at}: one day of data, one row`);
      assert.equal(await rates.locator('rect.bar').count(), 2, `${at}: one bar per category`);
      // Register: counts per channel and status.
      const register = page.locator('#register');
      assert.equal(await register.getByRole('heading', { name: t.register }).count(), 1, at);
      assert.equal(await register.getByRole('columnheader', { name: t.email, exact: true }).count(), 1, at);
      assert.deepEqual(await register.locator('tfoot td').allInnerTexts(), ['3', '1', '0'], at);
      // Log: verified, and its size: 3 cookie decisions and 4 marketing ones.
      const log = page.locator('#log');
      assert.equal(await log.getByRole('heading', { name: t.log }).count(), 1, at);
      assert.match(await log.locator('.ok').innerText(), new RegExp(t.ok), at);
      assert.equal(await log.locator('dd').first().innerText(), '7', at);
      // Search, export, logout, the other languages.
      assert.equal(await page.getByRole('button', { name: t.search, exact: true }).count(), 1, at);
      assert.equal(await page.locator('a[href="/stats?format=csv"]').count(), 1, at);
      assert.equal(await page.getByRole('link', { name: t.logout }).count(), 1, at);
      assert.equal(await page.locator('.langs a[aria-current="page"]').getAttribute('lang'), lang, at);
      await sound(page, at);
      await page.screenshot({ path: join(artifacts, `dashboard-${lang}-${size}.png`), fullPage: true });
      assert.deepEqual(s.consoleErrors, [], `${at}: console errors`);
      await s.context.close();
    }
  }
});

test('the language follows Accept-Language, and the switcher keeps the page', async () => {
  const s = await staff({ locale: 'sv-SE' });
  await s.page.goto(`${base}/admin`);
  assert.equal(await s.page.locator('html').getAttribute('lang'), 'sv');
  await s.page.getByRole('link', { name: 'English' }).click();
  await s.page.getByRole('heading', { level: 1, name: L.en.title }).waitFor();
  await s.context.close();
});

test('the search by consent id leads to its records; the export downloads the statistics', async () => {
  for (const [size, viewport] of Object.entries(SIZES)) {
    const s = await staff({ viewport });
    await s.page.goto(`${base}/admin?lang=en`);
    await s.page.getByLabel('Search by consent id').fill(consentId);
    await s.page.getByRole('button', { name: 'Search', exact: true }).click();
    await s.page.getByRole('heading', { level: 1, name: L.en.found }).waitFor();
    assert.match(await s.page.locator('main').innerText(), /1 record\b/);
    assert.match(await s.page.locator('main').innerText(), /Own choices/);
    await sound(s.page, `the records page (${size})`);
    await s.page.screenshot({ path: join(artifacts, `dashboard-search-${size}.png`), fullPage: true });
    // Not an id: said so, the text shown back as text.
    await s.page.getByLabel('Search by consent id').fill('<b>nope</b>');
    await s.page.getByRole('button', { name: 'Search', exact: true }).click();
    assert.match(await s.page.getByRole('alert').innerText(), /<b>nope<\/b>/);
    await sound(s.page, `a search for a non-id (${size})`);
    const csv = await s.page.request.get(`${base}/stats?format=csv`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /^day,action,revision,count\n/);
    assert.deepEqual(s.consoleErrors.filter((e) => !/status of 400/.test(e)), [], 'console errors');
    await s.context.close();
  }
});

test('logout: the browser forgets the password, and /admin asks for it again', async () => {
  // Logged in the way a browser's own prompt does it: credentials it caches for the site.
  const s = await staff({ login: false });
  const [scheme, rest] = base.split('//');
  let response = await s.page.goto(`${scheme}//staff:${token}@${rest}/admin?lang=fi`);
  assert.equal(response.status(), 200);
  response = await s.page.goto(`${base}/admin?lang=fi`);
  assert.equal(response.status(), 200, 'the browser sends the cached password');
  await s.page.getByRole('link', { name: L.fi.logout }).click();
  await s.page.getByRole('heading', { level: 1, name: L.fi.loggedOut }).waitFor();
  await sound(s.page, 'the logout page');
  await s.page.screenshot({ path: join(artifacts, 'dashboard-logout-desktop.png'), fullPage: true });
  // The password is not sent any more: /admin challenges again, and a browser without a
  // person to type it (Playwright answers no prompt) fails the navigation on that challenge.
  const again = await s.page.goto(`${base}/admin?lang=fi`).catch((e) => e);
  if (again instanceof Error) assert.match(again.message, /ERR_INVALID_AUTH_CREDENTIALS/);
  else assert.equal(again.status(), 401, 'after logout the password is no longer sent');
  await s.context.close();
});
