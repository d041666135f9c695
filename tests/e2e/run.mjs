// The compliance suite: every check of COMPLIANCE.md (C1-C15, one test each, named by its
// id) and the demo's own promises, run for real: `consent serve --demo` on a loopback port,
// Debian's Chromium driven by playwright-core, the SQLite log checked with the `consent`
// command afterwards.
//
// The site runs as http://www.clinic.test:PORT (Chromium maps *.clinic.test to 127.0.0.1),
// so the stand-in tags set their cookies on the parent domain .clinic.test, as the real ones
// do, and withdrawal must clear them there. Every request off *.clinic.test is refused and
// counted. Screenshots go to target/e2e-artifacts/.
//
//   CONSENT_BIN=target/debug/consent node --test tests/e2e/run.mjs
//
// The last test checks every decision the others made against the log; when running a few
// tests with --test-name-pattern, set E2E_MIN_DECISIONS=1 and expect it to miss some actions.
//
// No fixed sleeps: every wait is on a condition or an event, with a bound. "5 s idle" (C1) is
// five seconds of the page's own timers, run on Playwright's fake clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = resolve(process.env.CONSENT_BIN ?? join(root, 'target/debug/consent'));
const artifacts = resolve(process.env.E2E_ARTIFACTS ?? join(root, 'target/e2e-artifacts'));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const exampleConfig = JSON.parse(readFileSync(join(root, 'core/src/example_config.json'), 'utf8'));

/**
 * What the log must hold for a decision the banner sent (`{token, page}`), derived here from
 * the token's bytes (core/src/runtime/token.rs) and the demo's config, not from anything the browser
 * or the server computed: the id (16 bytes), first decision and delta and revision (LEB128),
 * the fingerprint (4 bytes), the flags (method bits 0-2, language bits 3-4, GPC bit 5), then
 * the categories and services, each a count and little-endian bits. The page loses its query.
 */
function recordOf({ token, page }) {
  const bytes = Buffer.from(token.split('.')[1], 'base64url');
  let i = 16;
  const varint = () => {
    let n = 0, shift = 0;
    for (;;) {
      const b = bytes[i++];
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return n;
    }
  };
  const first = varint();
  const last = first + varint();
  const revision = varint();
  i += 4;
  const flags = bytes[i++];
  const bits = () => {
    const count = bytes[i++];
    const set = bytes.subarray(i, i + Math.ceil(count / 8));
    i += set.length;
    return (n) => (set[n >> 3] >> (n & 7)) & 1;
  };
  const categories = bits();
  const services = bits();
  const allServices = exampleConfig.categories.flatMap((c) => c.services ?? []);
  return {
    consent_id: bytes.subarray(0, 16).toString('hex'),
    time: new Date(last * 1000).toISOString(),
    action: ['accept_all', 'reject_all', 'custom', 'withdraw', 'gpc'][flags & 7],
    categories: exampleConfig.categories.map((c, n) => ({ id: c.id, granted: categories(n) === 1 })),
    services: allServices.map((s, n) => ({ id: s.id, granted: services(n) === 1 })),
    revision,
    lang: ['fi', 'sv', 'en'][(flags >> 3) & 3],
    page_url: page?.split(/[?#]/)[0],
    channel: 'banner',
    gpc: ((flags >> 5) & 1) === 1,
  };
}
const HOST = 'www.clinic.test';
const DAY = 86_400_000;
const TAGS = ['ga', 'ads', 'pixel'];
const TRACKER_COOKIES = /^(_ga|_ga_.*|_gcl_au|_fbp)$/;
const DESKTOP = { width: 1280, height: 720 };
const MOBILE = { width: 360, height: 640 };

/** The texts and paths the tests look for, per language. */
const L = {
  fi: {
    accept: 'Hyväksy kaikki', reject: 'Hylkää kaikki', settings: 'Asetukset', save: 'Tallenna valinnat', allowShow: 'Salli ja näytä',
    title: 'Evästeet ja yksityisyytesi', prefs: 'Evästeasetukset', always: 'Aina käytössä',
    home: '/', booking: '/ajanvaraus', video: '/video', privacy: '/tietosuoja', mydata: '/omat-tiedot', newsletter: '/uutiskirje',
  },
  sv: {
    accept: 'Godkänn alla', reject: 'Avvisa alla', settings: 'Inställningar', save: 'Spara mina val', allowShow: 'Tillåt och visa',
    title: 'Kakor och din integritet', prefs: 'Inställningar för kakor', always: 'Alltid på',
    home: '/sv/', booking: '/sv/tidsbokning', video: '/sv/video', privacy: '/sv/dataskydd', mydata: '/sv/mina-uppgifter', newsletter: '/sv/nyhetsbrev',
  },
  en: {
    accept: 'Accept all', reject: 'Reject all', settings: 'Settings', save: 'Save choices', allowShow: 'Allow and show',
    title: 'Cookies and your privacy', prefs: 'Cookie settings', always: 'Always on',
    home: '/en/', booking: '/en/booking', video: '/en/video', privacy: '/en/privacy', mydata: '/en/my-data', newsletter: '/en/newsletter',
  },
};
const LANGS = Object.keys(L);
const PAGES = LANGS.flatMap((l) => ['home', 'booking', 'video', 'privacy', 'mydata', 'newsletter'].map((p) => L[l][p]));

/** The servers' admin token, for the admin routes (the register's checks). */
const adminToken = randomBytes(16).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'consent-e2e-'));
const servers = [];
/** Every decision the browser sent, with the server's answer: checked against the logs last. */
const decisions = [];
/** Consent ids whose records the visitor had erased (C9). */
const erased = new Set();
let main, browser;

/** A free loopback port (the server must know its origin, and so its port, when it starts). */
async function freePort() {
  const s = createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

/** `consent serve --demo` with its own log, on http://www.clinic.test:PORT. */
async function startServer(name, { config, keyFile, pageLayer = true } = {}) {
  const dir = join(work, name);
  mkdirSync(dir);
  const env = {
    ...process.env,
    CONSENT_ADMIN_TOKEN: adminToken,
    CONSENT_DB: join(dir, 'consent.db'),
    CONSENT_KEY_FILE: keyFile ?? join(dir, 'consent.key'),
  };
  if (config) {
    env.CONSENT_CONFIG = join(dir, 'config.json');
    writeFileSync(env.CONSENT_CONFIG, JSON.stringify(config));
  }
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const args = ['serve', '--demo', '--listen', `127.0.0.1:${port}`, '--origin', base, '--rate-limit', '0'];
  if (!pageLayer) args.push('--no-page-layer');
  const proc = spawn(bin, args,
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name}: consent serve did not listen within 30 s`)), 30_000);
    let seen = '';
    proc.stderr.on('data', (chunk) => {
      seen += chunk;
      if (/listening on http/.test(seen)) { clearTimeout(timer); ok(); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`${name}: consent serve exited with ${code}: ${seen}`)); });
  });
  const server = {
    name, base, port, proc, keyFile: env.CONSENT_KEY_FILE, adminToken,
    cli: (...args) => execFileSync(bin, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    hits: async (pv) => (await (await fetch(`http://127.0.0.1:${port}/demo/hits?pv=${pv}`)).json()).hits,
  };
  servers.push(server);
  return server;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  main = await startServer('main');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--host-resolver-rules=MAP *.clinic.test 127.0.0.1',
    ],
  });
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.proc.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

/** Polls `check` (which may be async) until it returns a truthy value; fails after `ms`. */
async function until(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

/**
 * A fresh visitor: a new browser context that records every request, every decision sent,
 * every CSP violation and console error, and refuses anything off the site.
 */
async function visitor({ viewport = DESKTOP, gpc = false, locale = 'fi-FI', server = main, timezoneId } = {}) {
  // `gpc`: true for both signals, as browsers send them; 'navigator' or 'header' for one alone.
  const context = await browser.newContext({
    viewport, locale, timezoneId, extraHTTPHeaders: gpc === true || gpc === 'header' ? { 'Sec-GPC': '1' } : {},
  });
  const v = { context, server, base: server.base, requests: [], offsite: [], sent: 0, posts: [], consoleErrors: [] };
  await context.route((url) => !url.hostname.endsWith('.clinic.test'), (route) => {
    v.offsite.push(route.request().url());
    return route.abort();
  });
  await context.addInitScript((gpc) => {
    if (gpc === true || gpc === 'navigator') Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });
    window.__csp = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`), true);
  }, gpc);
  // Decisions on their way: counted (v.sent) and tracked until answered, by one listener.
  const pending = new Set();
  context.on('request', (r) => {
    v.requests.push(r.url());
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/consent') {
      v.sent += 1;
      pending.add(r);
    }
  });
  context.on('console', (m) => { if (m.type() === 'error') v.consoleErrors.push(m.text()); });
  context.on('response', (r) => {
    const url = new URL(r.url());
    if (r.request().method() !== 'POST' || url.pathname !== '/consent') return;
    const sent = JSON.parse(r.request().postData());
    // Read now: once the test closes the context, the body is gone.
    const answer = r.status() === 201 ? r.json().catch(() => null) : Promise.resolve(null);
    const d = { server, status: r.status(), record: recordOf(sent), answer };
    v.posts.push(d);
    decisions.push(d);
  });
  // A decision's answer is read from the response body, which is gone once the context
  // closes: closing waits for every decision on its way and for its answer.
  for (const done of ['requestfinished', 'requestfailed']) context.on(done, (r) => pending.delete(r));
  const close = context.close.bind(context);
  context.close = async (...args) => {
    await until(() => pending.size === 0, 'the decisions sent to be answered', 5_000);
    await Promise.all(v.posts.map((p) => p.answer));
    return close(...args);
  };
  context.setDefaultTimeout(10_000);
  v.page = await context.newPage();
  return v;
}

// The WebAssembly banner's first layer; the server-rendered one (for pages without
// JavaScript) is marked data-consent-nojs and replaced when the banner starts.
const banner = (page) => page.locator('[data-consent-ui]:not([data-consent-nojs]):not([data-consent-early]) .consent-banner');
const nojsBanner = (page) => page.locator('[data-consent-nojs] .consent-banner');
const prefs = (page) => page.locator('.consent-prefs');
const button = (scope, name) => scope.getByRole('button', { name, exact: true });
/** Waits until the element's entrance animation (and any other animation in it) has finished. */
const settled = (scope) => scope.evaluate((e) => Promise.all(e.getAnimations({ subtree: true }).map((a) => a.finished)));

/** Opens `path` and waits for the first layer. */
async function open(v, path, lang = 'fi') {
  await v.page.goto(v.base + path);
  await button(banner(v.page), L[lang].accept).waitFor({ state: 'visible' });
}

/** Opens `path` and waits until the banner has started (a returning visitor: no banner). */
async function openReady(v, path) {
  await v.page.goto(v.base + path);
  await v.page.waitForFunction(() => window.Consent?.acceptedCategory('necessary'));
}

const ran = (page, tag, times = 1) => page.waitForFunction(
  ([tag, times]) => document.getElementById('status-' + tag)?.dataset.ran === String(times), [tag, times]);
const timesRan = (page, tag) => page.evaluate((tag) => Number(document.getElementById('status-' + tag).dataset.ran || 0), tag);
/**
 * The banner's signed consent cookie (the server's answer) is in place and the banner holds
 * it: the server's Set-Cookie arrives before the banner has read the answer and adopted the
 * id it issued, so the cookie alone is not enough.
 */
const signed = (page) => page.waitForFunction(() => {
  const m = /(?:^|; )consent=1\.([\w-]+)\.[\w-]{22}(?:;|$)/.exec(document.cookie);
  if (!m) return false;
  const bytes = atob(m[1].replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(m[1].length / 4) * 4, '='));
  const id = [...bytes.slice(0, 16)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  return window.Consent?.getConsent()?.consentId === id;
});
const cookies = async (context) => (await context.cookies()).map((c) => ({ name: c.name, domain: c.domain, path: c.path }));
const trackerCookies = async (context) => (await cookies(context)).filter((c) => TRACKER_COOKIES.test(c.name));
const requested = (v, file) => v.requests.filter((u) => new URL(u).pathname === file).length;
const consentModeLog = (page) => page.evaluate(() => (window.dataLayer || [])
  .map((e) => Array.from(e)).filter((e) => e[0] === 'consent'));
const pv = (page) => page.evaluate(() => window.demoTag.pv);
/** The config the demo's server serves, compiled, to its banner: the example clinic's. */
const config = async () => exampleConfig;

/** The hits the server has for this page view, once `n` have arrived. */
async function hitsOf(v, n) {
  const id = await pv(v.page);
  return until(async () => { const h = await v.server.hits(id); return h.length >= n && h; }, `${n} hits`);
}

/** Nothing gated has run or been fetched, and no tracker cookie is set. */
async function nothingGated(v, where) {
  for (const f of ['/demo/ga.js', '/demo/ads.js', '/demo/pixel.js', '/demo/video.html']) {
    assert.equal(requested(v, f), 0, `${where}: ${f} was fetched`);
  }
  assert.deepEqual(await trackerCookies(v.context), [], `${where}: tracker cookies`);
  assert.deepEqual(v.offsite, [], `${where}: requests off the site`);
}

/** Axe-core in the page, through the DevTools protocol (so the page's CSP does not apply). */
async function axe(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const found = result.violations.map((x) => `${x.id} (${x.impact}): ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(found, [], `axe violations in ${what}`);
}

test('C1 before a decision no cookie, gated script, iframe, image or request: after load, scroll, an internal link and 5 s idle', async () => {
  // The pixel's gated image (the layout's, on every page but booking): never fetched, and
  // present without a src, so that the check has something to check.
  const IMAGE = '/demo/pixel.svg';
  const image = (page) => page.locator('img[data-service="facebook-pixel"]');
  const gated = async (v, where, hasImage = true) => {
    await nothingGated(v, where);
    assert.equal(requested(v, IMAGE), 0, `${where}: ${IMAGE} was fetched`);
    assert.equal(await image(v.page).count(), hasImage ? 1 : 0, `${where}: the gated image`);
    if (hasImage) assert.equal(await image(v.page).getAttribute('src'), null, `${where}: the gated image has a src`);
  };
  const v = await visitor();
  await v.context.clock.install();
  await open(v, '/');
  await gated(v, 'after load');
  assert.deepEqual(await cookies(v.context), [], 'no cookie at all: the consent cookie is written only on a decision');
  await v.page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await v.page.waitForFunction(() => window.scrollY > 0 || document.body.scrollHeight <= innerHeight);
  await gated(v, 'after scrolling');
  await v.page.getByRole('navigation', { name: 'Päävalikko' }).getByRole('link', { name: 'Video' }).click();
  await v.page.waitForURL(/\/video$/);
  await button(banner(v.page), L.fi.accept).waitFor();
  const frame = v.page.locator('iframe.video');
  assert.equal(await frame.getAttribute('src'), null, 'the gated iframe has no src');
  // The placeholder comes with the language's details and consent-extra.js and .css, which may
  // come after the first layer's texts.
  await v.page.locator('.consent-embed').first().waitFor();
  assert.ok(await v.page.locator('.consent-wait').count() > 0, 'the iframe waits behind a placeholder');
  await v.page.clock.runFor(5_000);
  await v.page.waitForLoadState('networkidle');
  await gated(v, 'after 5 s idle');
  assert.deepEqual(await cookies(v.context), []);
  for (const tag of TAGS) assert.equal(await timesRan(v.page, tag), 0);
  await v.context.close();
  // Every page of the site, in every language, on a phone (where each page is long enough
  // to scroll): load, scroll to the end, 5 s idle.
  const p = await visitor({ viewport: MOBILE });
  await p.context.clock.install();
  for (const path of PAGES) {
    const lang = LANGS.find((l) => Object.values(L[l]).includes(path));
    const hasImage = path !== L[lang].booking;
    await open(p, path, lang);
    await gated(p, `${path} after load`, hasImage);
    await p.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await p.page.waitForFunction(() => window.scrollY > 0, null, { timeout: 2_000 })
      .catch(() => assert.fail(`${path}: the page did not scroll`));
    await gated(p, `${path} after scrolling`, hasImage);
    await p.page.clock.runFor(5_000);
    await gated(p, `${path} after 5 s idle`, hasImage);
    for (const tag of TAGS) assert.equal(await timesRan(p.page, tag), 0, `${path}: ${tag}`);
  }
  assert.deepEqual(await cookies(p.context), []);
  await p.context.close();
  // The check sees the image when it loads: allowing marketing gives it its src, and the
  // browser fetches it.
  const m = await visitor();
  await open(m, '/');
  await button(banner(m.page), L.fi.settings).click();
  await prefs(m.page).locator('#consent-cat-marketing').check();
  await button(prefs(m.page), L.fi.save).click();
  await until(() => requested(m, IMAGE) === 1, `${IMAGE} fetched once marketing is allowed`);
  await m.page.waitForFunction(() => {
    const img = document.querySelector('img[data-service="facebook-pixel"]');
    return img?.complete && img.naturalWidth === 1 && !img.hasAttribute('data-src');
  });
  await m.context.close();
});

test('C2 "Reject all" beside "Accept all" with the same weight, both visible at 360x640 and 1280x720', async () => {
  for (const viewport of [MOBILE, DESKTOP]) {
    const v = await visitor({ viewport });
    await open(v, '/');
    const look = (name) => button(banner(v.page), name).evaluate((b) => {
      const s = getComputedStyle(b);
      const r = b.getBoundingClientRect();
      return {
        tag: b.tagName, x: r.x, y: r.y, width: r.width, height: r.height,
        style: [s.fontFamily, s.fontSize, s.fontWeight, s.color, s.backgroundColor, s.borderWidth, s.borderStyle, s.borderColor, s.borderRadius, s.padding].join('|'),
      };
    });
    const accept = await look(L.fi.accept);
    const reject = await look(L.fi.reject);
    const at = `${viewport.width}x${viewport.height}`;
    assert.equal(reject.tag, accept.tag, at);
    assert.ok(Math.abs(reject.width - accept.width) <= 2, `${at}: widths ${reject.width} vs ${accept.width}`);
    assert.ok(Math.abs(reject.height - accept.height) <= 2, `${at}: heights ${reject.height} vs ${accept.height}`);
    assert.equal(reject.style, accept.style, `${at}: font, colours and border`);
    for (const b of [accept, reject]) {
      assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= viewport.width && b.y + b.height <= viewport.height,
        `${at}: a button is not fully visible without scrolling: ${JSON.stringify(b)}`);
    }
    assert.equal(await v.page.evaluate(() => scrollY), 0);
    // Beside each other: neighbours in the same row of actions.
    const adjacent = await button(banner(v.page), L.fi.reject).evaluate((b, name) => {
      const near = [b.previousElementSibling, b.nextElementSibling];
      return near.some((n) => n?.textContent === name);
    }, L.fi.accept);
    assert.ok(adjacent, `${at}: "Reject all" is not next to "Accept all"`);
    await v.context.close();
  }
});

test('C2 on a phone, in every layout and position the banner offers: "Reject all" and "Accept all" side by side at the same weight, in view, the layer well under half the screen', async () => {
  const v = await visitor({ viewport: MOBILE });
  // The demo's script tag gets the layout and position (from the page's query) a site would
  // write on it, as the parser adds it: the module runs after the parse, and reads them then.
  await v.page.addInitScript(() => {
    const q = new URLSearchParams(location.search);
    if (!q.has('layout')) return;
    new MutationObserver((_, seen) => {
      const tag = document.querySelector('script[src="/consent/consent.js"]');
      if (!tag) return;
      Object.assign(tag.dataset, { layout: q.get('layout'), position: q.get('position') });
      seen.disconnect();
    }).observe(document, { childList: true, subtree: true });
  });
  const look = (name) => button(banner(v.page), name).evaluate((b) => {
    const s = getComputedStyle(b);
    const r = b.getBoundingClientRect();
    return {
      tag: b.tagName, x: r.x, y: r.y, width: r.width, height: r.height,
      style: [s.fontFamily, s.fontSize, s.fontWeight, s.color, s.backgroundColor, s.borderWidth, s.borderStyle, s.borderColor, s.borderRadius, s.padding].join('|'),
    };
  });
  for (const layout of ['box', 'bar']) {
    for (const position of ['bottom', 'bottom-left', 'bottom-right', 'top', 'middle']) {
      const at = `${layout} ${position}`;
      await open(v, `/?layout=${layout}&position=${position}`);
      const root = await banner(v.page).evaluate((b) => b.closest('[data-consent-ui]').className);
      assert.match(root, new RegExp(`\\bconsent-${layout}\\b.*\\bconsent-pos-${position}\\b`), `${at}: the options did not reach the banner`);
      await settled(banner(v.page));
      const accept = await look(L.fi.accept);
      const reject = await look(L.fi.reject);
      assert.equal(reject.tag, accept.tag, at);
      assert.ok(Math.abs(reject.width - accept.width) <= 2, `${at}: widths ${reject.width} vs ${accept.width}`);
      assert.ok(Math.abs(reject.height - accept.height) <= 2, `${at}: heights ${reject.height} vs ${accept.height}`);
      assert.ok(Math.abs(reject.y - accept.y) <= 2, `${at}: not side by side: ${reject.y} vs ${accept.y}`);
      assert.equal(reject.style, accept.style, `${at}: font, colours and border`);
      for (const name of [L.fi.reject, L.fi.accept, L.fi.settings]) {
        assert.ok(await inView(button(banner(v.page), name)), `${at}: "${name}" is not in view`);
      }
      const box = await banner(v.page).boundingBox();
      assert.ok(box.height <= PHONE_SHARE * MOBILE.height,
        `${at}: the first layer covers ${Math.round(100 * box.height / MOBILE.height)} % of the screen`);
      // On a phone the first layer is a sheet at the top edge for "top", at the bottom edge
      // for every other position (wasm/README.md).
      if (position === 'top') assert.ok(box.y <= 1, `${at}: the first layer starts at ${box.y}, not at the top`);
      else assert.ok(Math.abs(box.y + box.height - MOBILE.height) <= 1, `${at}: the first layer ends at ${box.y + box.height}, not at the bottom`);
      assert.equal(await overflowX(v.page), 0, `${at}: the page is wider than the screen`);
      await v.page.screenshot({ path: join(artifacts, `c2-mobile-${layout}-${position}.png`) });
    }
  }
  assert.deepEqual(v.consoleErrors, []);
  await v.context.close();
});

test('C3 nothing but "necessary" is pre-selected; "necessary" is locked on and explained', async () => {
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.settings).click();
  const dialog = prefs(v.page);
  await dialog.waitFor();
  const switches = await dialog.locator('input.consent-switch').evaluateAll((all) =>
    all.map((s) => ({ id: s.id, checked: s.checked, disabled: s.disabled })));
  assert.deepEqual(switches, [
    { id: 'consent-cat-necessary', checked: true, disabled: true },
    { id: 'consent-cat-analytics', checked: false, disabled: false },
    { id: 'consent-cat-marketing', checked: false, disabled: false },
  ]);
  const necessary = dialog.locator('section.consent-cat').first();
  assert.match(await necessary.textContent(), new RegExp(L.fi.always));
  const explanation = await necessary.locator(':scope > p').first().textContent();
  assert.ok(explanation.trim().length > 20, `necessary is explained: ${explanation}`);
  await v.context.close();
});

test('C4 ignoring or dismissing the banner (Esc, close, navigating on) grants and records nothing', async () => {
  const v = await visitor();
  await open(v, '/');
  await v.page.keyboard.press('Escape');
  await button(banner(v.page), L.fi.settings).click();
  await prefs(v.page).waitFor();
  await v.page.keyboard.press('Escape');
  await prefs(v.page).waitFor({ state: 'detached' });
  await button(banner(v.page), L.fi.accept).waitFor();
  await button(banner(v.page), L.fi.settings).click();
  await prefs(v.page).getByRole('button', { name: 'Sulje' }).click();
  await button(banner(v.page), L.fi.accept).waitFor();
  for (const path of ['/ajanvaraus', '/tietosuoja', '/']) {
    await open(v, path);
    assert.equal(await v.page.evaluate(() => Consent.getConsent()), null);
  }
  assert.equal(v.sent, 0, 'nothing sent to be recorded');
  assert.deepEqual(await cookies(v.context), []);
  await nothingGated(v, 'after dismissing');
  await v.context.close();
});

/** A declared lifetime (`session`, `90d`, `13mo`, `2y`) as the Finnish banner must say it. */
function finnishLifetime(lifetime) {
  if (lifetime === 'session') return 'Selainistunnon ajan';
  const [, n, unit] = /^(\d+)(d|mo|y)$/.exec(lifetime) ?? assert.fail(`lifetime ${lifetime}`);
  const words = { d: ['päivä', 'päivää'], mo: ['kuukausi', 'kuukautta'], y: ['vuosi', 'vuotta'] }[unit];
  return `${n} ${words[n === '1' ? 0 : 1]}`;
}

test('C5 before choosing, each category\'s purpose, services, providers and cookies with lifetimes; the first layer links to the notice', async () => {
  const v = await visitor();
  await open(v, '/');
  const cfg = await config(v.page);
  const link = banner(v.page).getByRole('link', { name: 'Tietosuojaseloste' });
  assert.equal(await link.getAttribute('href'), cfg.privacy_notice.fi);
  await button(banner(v.page), L.fi.settings).click();
  const dialog = prefs(v.page);
  for (const category of cfg.categories) {
    const section = dialog.locator('section.consent-cat').filter({ has: v.page.locator(`#consent-cat-${category.id}`) });
    await section.locator('summary').click();
    assert.ok((await section.locator(':scope > p').first().textContent()).trim().length > 0, `${category.id}: purpose`);
    for (const service of category.services) {
      // A name is one string for every language, or one per language (the Finnish page here).
      const name = typeof service.name === 'string' ? service.name : service.name.fi;
      const block = section.locator('.consent-svc').filter({ has: v.page.getByRole('heading', { name, exact: true }) });
      const text = await block.textContent();
      assert.ok(text.includes(service.provider), `${service.id}: provider`);
      assert.ok(text.includes(service.purpose.fi), `${service.id}: purpose`);
      for (const cookie of service.cookies) {
        const row = block.locator('tr').filter({ has: v.page.getByRole('cell', { name: cookie.name, exact: true }) });
        const cells = await row.locator('td').allTextContents();
        assert.equal(cells.length, 3, `${cookie.name}: name, lifetime, purpose`);
        assert.equal(cells[1].trim(), finnishLifetime(cookie.lifetime), `${cookie.name}: lifetime ${cookie.lifetime}`);
        assert.equal(cells[2], cookie.description.fi);
      }
    }
  }
  // The notice is there to follow.
  await v.page.keyboard.press('Escape');
  await link.click();
  await v.page.waitForURL(/\/tietosuoja$/);
  await v.page.getByRole('heading', { name: 'Tietosuojaseloste', level: 1 }).waitFor();
  await v.context.close();
});

test('C6 withdrawal from a control on every page clears the cookies on host and parent domain, stops the scripts and denies Consent Mode, without a reload', async () => {
  // A control on every page, in every language.
  for (const path of PAGES) {
    const html = await (await fetch(`http://127.0.0.1:${main.port}${path}`)).text();
    assert.match(html, /data-consent-open/, `${path}: no control that reopens the preferences`);
  }
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await Promise.all([...TAGS.map((t) => ran(v.page, t)), signed(v.page)]);
  const set = await trackerCookies(v.context);
  for (const name of ['_ga', '_ga_DEMO1234', '_gcl_au', '_fbp']) {
    assert.ok(set.some((c) => c.name === name && c.domain === '.clinic.test'), `${name} on the parent domain: ${JSON.stringify(set)}`);
  }
  // The same names host-only and at a deeper path, as older tags or other pages leave them.
  await v.context.addCookies([
    { name: '_ga', value: 'GA1.1.1.1', domain: HOST, path: '/' },
    { name: '_ga_OTHER', value: 'GS1.1.1', domain: HOST, path: '/' },
    { name: '_fbp', value: 'fb.1.1.1', domain: '.clinic.test', path: '/' },
  ]);
  await v.page.goto(v.base + '/tietosuoja');
  await Promise.all(TAGS.map((t) => ran(v.page, t)));
  const before = Object.fromEntries(TAGS.map((t) => [t, requested(v, `/demo/${t}.js`)]));
  await v.page.getByRole('contentinfo').getByRole('button', { name: 'Evästeasetukset' }).click();
  const dialog = prefs(v.page);
  await dialog.locator('#consent-cat-analytics').uncheck();
  await dialog.locator('#consent-cat-marketing').uncheck();
  await button(dialog, L.fi.save).click();
  await until(async () => (await trackerCookies(v.context)).length === 0,
    `tracker cookies cleared, still ${JSON.stringify(await trackerCookies(v.context))}`);
  const mode = (await consentModeLog(v.page)).at(-1);
  assert.equal(mode[1], 'update');
  for (const s of ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage']) {
    assert.equal(mode[2][s], 'denied', `Consent Mode ${s} after withdrawal`);
  }
  // Without a reload: the banner's API and its gate already say no on this page.
  assert.equal(await v.page.evaluate(() => Consent.acceptedCategory('analytics')), false);
  await v.page.evaluate(() => Consent.setLanguage('fi'));
  await v.page.evaluate(() => fetch('/healthz'));
  for (const t of TAGS) assert.equal(await timesRan(v.page, t), 1, `${t} ran again after withdrawal`);
  for (const [t, n] of Object.entries(before)) assert.equal(requested(v, `/demo/${t}.js`), n, `${t} fetched again`);
  // The next page view runs none of them.
  const runs = v.requests.length;
  await openReady(v, '/');
  await v.page.evaluate(() => fetch('/healthz'));
  assert.equal(v.requests.slice(runs).filter((u) => /\/demo\/(ga|ads|pixel)\.js$/.test(u)).length, 0);
  assert.deepEqual(await trackerCookies(v.context), []);
  await v.context.close();
});

test('C6 a cookie declared at a deeper path is deleted on withdrawal, on host and parent domain, though the page cannot see it', async () => {
  // A site whose blog sets an ads cookie under /blog: declared there, so the withdrawal
  // deletes it at /blog, even from a page at / where document.cookie does not show it.
  const config = structuredClone(exampleConfig);
  const ads = config.categories.find((c) => c.id === 'marketing').services.find((x) => x.id === 'google-ads');
  ads.cookies.push({ name: '_gcl_aw', path: '/blog', lifetime: '90d', description: { fi: 'Blogin mainosklikkaukset.', sv: 'Bloggens annonsklick.', en: 'The blog\'s ad clicks.' } });
  const blog = servers.find((x) => x.name === 'blog') ?? await startServer('blog', { config });
  const v = await visitor({ server: blog });
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await signed(v.page);
  const copies = [
    { name: '_gcl_aw', value: 'GCL.1', domain: HOST, path: '/blog' },
    { name: '_gcl_aw', value: 'GCL.2', domain: '.clinic.test', path: '/blog' },
  ];
  await v.context.addCookies(copies);
  const blogCookies = async () => (await v.context.cookies()).filter((c) => c.name === '_gcl_aw');
  assert.equal((await blogCookies()).length, 2, 'both copies are set');
  assert.ok(!(await v.page.evaluate(() => document.cookie)).includes('_gcl_aw'), 'the page at / cannot see them');
  await v.page.getByRole('contentinfo').getByRole('button', { name: 'Evästeasetukset' }).click();
  const dialog = prefs(v.page);
  await dialog.locator('#consent-cat-marketing').uncheck();
  await button(dialog, L.fi.save).click();
  await until(async () => (await blogCookies()).length === 0,
    `every copy of _gcl_aw deleted, still ${JSON.stringify(await blogCookies())}`);
  await v.context.close();
});

test('C7 a refusal is remembered for its lifetime; an expired decision asks again and allows nothing meanwhile', async () => {
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.reject).click();
  await signed(v.page);
  for (const path of ['/ajanvaraus', '/video', '/sv/', '/']) {
    await openReady(v, path);
    assert.equal(await banner(v.page).count(), 0, `${path}: asked again after a refusal`);
  }
  const { refuse_days: refuse, accept_days: accept } = (await config(v.page)).lifetime;
  const refused = await v.context.cookies();
  await v.context.close();
  const w = await visitor();
  await open(w, '/');
  await button(banner(w.page), L.fi.accept).click();
  await signed(w.page);
  const accepted = await w.context.cookies();
  await w.context.close();

  // The same cookies seen later: the day before a decision expires it holds; the day after,
  // the banner asks again and nothing but necessary runs. Only the browser's clock can be
  // moved here, so the later visits are to the same site with its pages sent as they are
  // (the banner alone decides); the page layer reads the server's own clock, and its
  // expiry is tested in consent-gate's tests (an expired signed decision grants nothing).
  const browserOnly = await startServer('c7-browser-only', { keyFile: main.keyFile, pageLayer: false });
  for (const [jar, days, asks] of [[refused, refuse - 1, false], [refused, refuse + 1, true], [accepted, accept - 1, false], [accepted, accept + 1, true]]) {
    const later = await visitor({ server: browserOnly });
    await later.context.addCookies(jar);
    await later.context.clock.install({ time: Date.now() + days * DAY });
    await openReady(later, '/');
    await later.page.evaluate(() => fetch('/healthz'));
    const what = `${jar === refused ? 'refusal' : 'acceptance'} after ${days} days`;
    assert.equal(await banner(later.page).count(), asks ? 1 : 0, `${what}: banner`);
    if (asks) {
      assert.equal(await later.page.evaluate(() => Consent.getConsent()), null, what);
      assert.equal(await later.page.evaluate(() => Consent.acceptedCategory('analytics')), false, what);
      for (const t of TAGS) assert.equal(await timesRan(later.page, t), 0, `${what}: ${t} ran`);
    } else if (jar === accepted) {
      await ran(later.page, 'ga');
    }
    await later.context.close();
  }
});

test('C8 a new revision asks again; a malformed, foreign or tampered consent cookie grants nothing', async () => {
  // A decision on revision 1.
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await signed(v.page);
  const token = (await v.context.cookies()).find((c) => c.name === 'consent').value;
  const id = await v.page.evaluate(() => Consent.getConsent().consentId);

  // The same site (same key) at revision 2: it asks again and nothing gated runs.
  const bumped = await startServer('revision-2', { config: { ...exampleConfig, revision: 2 }, keyFile: main.keyFile });
  const r2 = await visitor({ server: bumped });
  await r2.context.addCookies((await v.context.cookies()).filter((c) => c.name === 'consent'));
  await open(r2, '/');
  await nothingGated(r2, 'revision 2 before deciding');
  await button(banner(r2.page), L.fi.accept).click();
  await Promise.all(TAGS.map((t) => ran(r2.page, t)));
  assert.equal((await r2.page.evaluate(() => Consent.getConsent())).revision, 2);
  await r2.context.close();

  // Another site's key: the token is well-formed and signed, but not by this server.
  const other = await startServer('foreign');
  const f = await visitor({ server: other });
  await open(f, '/');
  await button(banner(f.page), L.fi.accept).click();
  await signed(f.page);
  const foreign = (await f.context.cookies()).find((c) => c.name === 'consent').value;
  const foreignId = await f.page.evaluate(() => Consent.getConsent().consentId);
  await f.context.close();

  // Tampered: one character of the signed payload changed.
  const [ver, payload, mac] = token.split('.');
  const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const tampered = [ver, flip(payload, payload.length - 3), mac].join('.');
  const bad = ['garbage', '1.', '1.AAAA.BBBB', `2.${payload}.${mac}`, tampered, token.slice(0, -5)];
  for (const value of bad) {
    const b = await visitor();
    await b.context.addCookies([{ name: 'consent', value, domain: HOST, path: '/' }]);
    await open(b, '/');
    await nothingGated(b, `consent=${value}`);
    assert.equal(await b.page.evaluate(() => Consent.getConsent()), null, `consent=${value}`);
    await b.context.close();
  }
  // The server is the authority on signatures: a foreign or tampered token opens no records.
  for (const [value, cid] of [[foreign, foreignId], [tampered, id]]) {
    const r = await fetch(`http://127.0.0.1:${main.port}/consent/${cid}`, { headers: { Cookie: `consent=${value}` } });
    assert.equal(r.status, 401, `GET /consent/${cid} with consent=${value}`);
  }
  await v.context.close();

  // A well-formed payload edited to grant more: a signed refusal whose category and service
  // bits are all set, with its tag kept and with it stripped (an unsigned token). The server
  // judges with its key: neither is a decision, so its first layer asks again, and neither
  // opens the refusal's records. (The banner, which holds no key, honours an unsigned token
  // by design: DESIGN.md, "What trusts an unsigned token".)
  const r = await visitor();
  await open(r, '/');
  await button(banner(r.page), L.fi.reject).click();
  await signed(r.page);
  const refusal = (await r.context.cookies()).find((c) => c.name === 'consent').value;
  await r.context.close();
  const [, body, tag] = refusal.split('.');
  const forged = grantAll(Buffer.from(body, 'base64url')).toString('base64url');
  assert.notEqual(forged, body, 'the forged payload differs');
  const firstLayer = async (value) => {
    const html = await (await fetch(`http://127.0.0.1:${main.port}/`, { headers: { Cookie: `consent=${value}` } })).text();
    return html.includes('data-consent-nojs');
  };
  assert.equal(await firstLayer(refusal), false, 'the genuine refusal is a decision: no first layer');
  const rid = Buffer.from(body, 'base64url').subarray(0, 16).toString('hex');
  for (const value of [`1.${forged}.${tag}`, `1.${forged}`]) {
    assert.equal(await firstLayer(value), true, `consent=${value}: the server asks again`);
    const me = await fetch(`http://127.0.0.1:${main.port}/consent/me`, { headers: { Cookie: `consent=${value}` } });
    assert.equal(me.status, 401, `GET /consent/me with consent=${value}`);
    const byId = await fetch(`http://127.0.0.1:${main.port}/consent/${rid}`, { headers: { Cookie: `consent=${value}` } });
    assert.equal(byId.status, 401, `GET /consent/${rid} with consent=${value}`);
  }
});

/**
 * A token payload (core/src/runtime/token.rs: id, three varints, fingerprint, flags, then the
 * category and service counts, each followed by its granted bits) with every category and
 * service granted.
 */
function grantAll(payload) {
  const p = Buffer.from(payload);
  let at = 16;
  for (let i = 0; i < 3; i += 1) { while (p[at] & 0x80) at += 1; at += 1; }
  at += 5;
  for (let field = 0; field < 2; field += 1) {
    const count = p[at];
    at += 1;
    for (let b = 0; b < Math.ceil(count / 8); b += 1) {
      const left = count - 8 * b;
      p[at + b] = left >= 8 ? 0xff : (1 << left) - 1;
    }
    at += Math.ceil(count / 8);
  }
  assert.equal(at, p.length, 'the whole payload was read');
  return p;
}

// The banner has no key; what keeps another site's token out is the config's site id (the
// demo server binds its config to its key, `consent site-id`), part of the fingerprint.
test('C8 (banner) a token signed with another site\'s key grants nothing in the browser, which asks again', async () => {
  const other = servers.find((s) => s.name === 'foreign') ?? await startServer('foreign-2');
  const f = await visitor({ server: other });
  await open(f, '/');
  await button(banner(f.page), L.fi.accept).click();
  await signed(f.page);
  const foreign = (await f.context.cookies()).find((c) => c.name === 'consent').value;
  await f.context.close();
  const b = await visitor();
  await b.context.addCookies([{ name: 'consent', value: foreign, domain: HOST, path: '/' }]);
  await openReady(b, '/');
  await button(banner(b.page), L.fi.accept).waitFor({ state: 'visible' });
  await b.page.evaluate(() => fetch('/healthz'));
  await nothingGated(b, 'a foreign token');
  assert.equal(await b.page.evaluate(() => Consent.acceptedCategory('analytics')), false);
  await b.context.close();
});

test('C9 every decision is recorded with id, UTC time, action, choices, revision, texts hash, language and page URL, no IP; the visitor sees their id and records and can ask for erasure', async () => {
  // Helsinki: the visitor's page shows times in the browser's zone, never in UTC.
  const v = await visitor({ locale: 'en-GB', timezoneId: 'Europe/Helsinki' });
  const started = Date.now();
  await v.page.goto(v.base + '/en/?utm_source=newsletter&email=someone%40example.com#top');
  await button(banner(v.page), L.en.settings).click();
  await prefs(v.page).locator('#consent-cat-analytics').check();
  await button(prefs(v.page), L.en.save).click();
  await signed(v.page);
  const consent = await v.page.evaluate(() => Consent.getConsent());
  const exported = JSON.parse(main.cli('export', consent.consentId));
  assert.equal(exported.records.length, 1);
  const r = exported.records[0].record;
  assert.equal(r.consent_id, consent.consentId);
  assert.match(r.time, /(Z|\+00:00)$/, 'UTC');
  const t = Date.parse(r.time);
  assert.ok(t >= started - 2000 && t <= Date.now() + 2000, `time ${r.time}`);
  assert.equal(r.action, 'custom');
  assert.deepEqual(r.categories, [
    { id: 'necessary', granted: true }, { id: 'analytics', granted: true }, { id: 'marketing', granted: false },
  ]);
  assert.deepEqual(r.services, [
    { id: 'site', granted: true }, { id: 'ga', granted: true },
    { id: 'google-ads', granted: false }, { id: 'facebook-pixel', granted: false }, { id: 'youtube', granted: false },
  ]);
  assert.equal(r.revision, 1);
  assert.match(String(r.shown_hash), /^[\w-]{16,}$/, 'a hash of the texts and config shown');
  assert.equal(r.lang, 'en');
  assert.equal(r.page_url, v.base + '/en/', 'the page URL without its query string');
  assert.equal(r.channel, 'banner');
  const text = JSON.stringify(exported);
  assert.ok(!/127\.0\.0\.1|::1|someone|utm_source/.test(text), `no IP or query in the record: ${text}`);

  // The visitor's own view: their id, their records, erasure.
  await v.page.goto(v.base + L.en.mydata);
  await v.page.locator('#consent-id', { hasText: consent.consentId }).waitFor();
  await v.page.locator('#records tr').first().waitFor();
  // Numbered for the visitor, the action and categories in the page's words, the time local
  // with its zone named.
  const cells = await v.page.locator('#records tr').first().locator('td').allTextContents();
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Helsinki', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(r.time));
  assert.deepEqual([cells[0], cells[2], cells[3], cells[4]], ['1', 'Saved your own choices', 'Necessary, Analytics', '1']);
  assert.ok(cells[1].includes(local) && /EET|EEST|GMT\+[23]|UTC\+[23]/.test(cells[1]) && !/UTC$|Z$/.test(cells[1]),
    `the time is ${cells[1]}, not ${local} in Helsinki with the zone named`);
  // Marked first, so that a failure here is reported here and not again by the log check.
  erased.add(consent.consentId);
  await v.page.getByRole('button', { name: 'Ask for my data to be erased' }).click();
  await v.page.getByRole('status').filter({ hasText: 'Your records have been erased.' }).waitFor();
  assert.throws(() => main.cli('export', consent.consentId), /no records for consent id/);
  assert.equal(await v.page.locator('#records tr').count(), 0, 'the erased records are off the page');
  assert.ok(await v.page.getByRole('button', { name: 'Ask for my data to be erased' }).isDisabled());
  // Coming back: nothing is held any more, and the page says so.
  await v.page.reload();
  await v.page.getByRole('status').filter({ hasText: 'No records are held for your consent id.' }).waitFor();
  await v.context.close();
});

test('C9 accept all, reject all and a withdrawal are recorded as the config and the clicks give', async () => {
  // The demo serves the example config: what each click must record follows from it, not from
  // what the browser sent. Category 0 is the strictly necessary one.
  const cfg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../core/src/example_config.json'), 'utf8'));
  const ids = cfg.categories.map((c) => c.id);
  const expected = (action, granted) => ({
    action,
    categories: ids.map((id) => ({ id, granted: granted.includes(id) })),
    services: cfg.categories.flatMap((c) => (c.services ?? []).map((x) => ({ id: x.id, granted: granted.includes(c.id) }))),
    revision: cfg.revision,
    lang: 'fi',
    page_url: main.base + '/',
    channel: 'banner',
    gpc: false,
  });
  const pick = (r) => Object.fromEntries(Object.keys(expected('', [])).map((k) => [k, r[k]]));
  const records = (id) => JSON.parse(main.cli('export', id)).records.map((e) => pick(e.record));

  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await signed(v.page);
  const id = (await v.page.evaluate(() => Consent.getConsent())).consentId;
  assert.deepEqual(records(id), [expected('accept_all', ids)]);
  // Withdrawn from the preferences: necessary only, recorded as a withdrawal of the same id.
  await v.page.getByRole('contentinfo').getByRole('button', { name: 'Evästeasetukset' }).click();
  await button(prefs(v.page), L.fi.reject).click();
  await until(() => records(id).length === 2, 'the withdrawal in the log');
  assert.deepEqual(records(id), [expected('accept_all', ids), expected('withdraw', [ids[0]])]);
  await v.context.close();

  const w = await visitor();
  await open(w, '/');
  await button(banner(w.page), L.fi.reject).click();
  await signed(w.page);
  const other = (await w.page.evaluate(() => Consent.getConsent())).consentId;
  assert.notEqual(other, id);
  assert.deepEqual(records(other), [expected('reject_all', [ids[0]])]);
  await w.context.close();
});

test('C10 Consent Mode: all denied by default before any Google tag runs; every decision updates all v2 signals', async () => {
  const signals = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage'];
  for (const [action, expect] of [['accept', 'granted'], ['reject', 'denied']]) {
    const v = await visitor();
    await open(v, '/');
    const log = await consentModeLog(v.page);
    assert.equal(log.length, 1, 'only the default before a decision');
    assert.equal(log[0][1], 'default');
    for (const s of signals) assert.equal(log[0][2][s], 'denied', `default ${s}`);
    await button(banner(v.page), L.fi[action]).click();
    const update = (await consentModeLog(v.page)).at(-1);
    assert.equal(update[1], 'update');
    for (const s of signals) assert.equal(update[2][s], expect, `${action}: ${s}`);
    if (action === 'accept') {
      await Promise.all(TAGS.map((t) => ran(v.page, t)));
      for (const h of (await hitsOf(v, 3)).filter((h) => h.tag !== 'pixel')) {
        assert.equal(h.default_first, true, `${h.tag} saw the default first`);
        assert.equal(h.consent.analytics_storage, 'granted', `${h.tag} ran with the update applied`);
      }
    }
    await v.context.close();
  }
  // A custom choice, analytics only: analytics granted, every ad signal denied.
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.settings).click();
  await prefs(v.page).locator('#consent-cat-analytics').check();
  await button(prefs(v.page), L.fi.save).click();
  const update = (await consentModeLog(v.page)).at(-1);
  assert.equal(update[1], 'update');
  assert.equal(update[2].analytics_storage, 'granted', 'custom: analytics_storage');
  for (const s of ['ad_storage', 'ad_user_data', 'ad_personalization']) assert.equal(update[2][s], 'denied', `custom: ${s}`);
  await v.context.close();
});

test('C11 Global Privacy Control keeps marketing off unless granted explicitly, and the record says so', async () => {
  const v = await visitor({ gpc: true });
  await open(v, '/');
  assert.ok((await banner(v.page).locator('.consent-gpc').textContent()).includes('Global Privacy Control'));
  await button(banner(v.page), L.fi.accept).click();
  await ran(v.page, 'ga');
  await signed(v.page);
  assert.equal(await v.page.evaluate(() => Consent.acceptedCategory('marketing')), false);
  const first = await v.page.evaluate(() => Consent.getConsent());
  assert.equal(first.gpc, true);
  let records = JSON.parse(main.cli('export', first.consentId)).records.map((x) => x.record);
  assert.equal(records[0].action, 'accept_all');
  assert.equal(records[0].gpc, true);
  assert.deepEqual(records[0].categories.find((c) => c.id === 'marketing'), { id: 'marketing', granted: false });
  assert.equal(await timesRan(v.page, 'ads'), 0);
  assert.equal(await timesRan(v.page, 'pixel'), 0);
  // The visitor switches marketing on themselves.
  await v.page.getByRole('contentinfo').getByRole('button', { name: 'Evästeasetukset' }).click();
  await prefs(v.page).locator('#consent-cat-marketing').check();
  await button(prefs(v.page), L.fi.save).click();
  await Promise.all([ran(v.page, 'ads'), ran(v.page, 'pixel')]);
  await until(() => JSON.parse(main.cli('export', first.consentId)).records.length === 2, 'the second record');
  records = JSON.parse(main.cli('export', first.consentId)).records.map((x) => x.record);
  assert.equal(records[1].gpc, true);
  assert.deepEqual(records[1].categories.find((c) => c.id === 'marketing'), { id: 'marketing', granted: true });
  await v.context.close();
});

test('C11 each signal alone: navigator.globalPrivacyControl in the banner, Sec-GPC on the no-JavaScript first layer', async () => {
  // The script's signal alone: the banner honours it.
  const v = await visitor({ gpc: 'navigator' });
  await open(v, '/');
  assert.ok((await banner(v.page).locator('.consent-gpc').textContent()).includes('Global Privacy Control'));
  await button(banner(v.page), L.fi.accept).click();
  await ran(v.page, 'ga');
  await signed(v.page);
  const c = await v.page.evaluate(() => Consent.getConsent());
  assert.equal(c.gpc, true);
  assert.deepEqual(c.categories, ['necessary', 'analytics']);
  assert.equal(await timesRan(v.page, 'pixel'), 0);
  await v.context.close();
  // The header alone, on the server's first layer without JavaScript: the server honours it.
  const context = await browser.newContext({
    javaScriptEnabled: false, viewport: DESKTOP, locale: 'en-GB', extraHTTPHeaders: { 'Sec-GPC': '1' },
  });
  const page = await context.newPage();
  await page.goto(main.base + L.en.home);
  const layer = nojsBanner(page);
  await Promise.all([page.waitForURL(main.base + L.en.home), button(layer, L.en.accept).click()]);
  const consent = (await context.cookies()).find((k) => k.name === 'consent');
  assert.ok(consent, 'the signed cookie');
  const id = Buffer.from(consent.value.split('.')[1], 'base64url').subarray(0, 16).toString('hex');
  const [record] = JSON.parse(main.cli('export', id)).records.map((e) => e.record);
  assert.equal(record.action, 'accept_all');
  assert.equal(record.gpc, true, 'the record says GPC was on');
  assert.deepEqual(record.categories.find((k) => k.id === 'marketing'), { id: 'marketing', granted: false });
  await context.close();
});

test('C12 the whole flow by keyboard alone, with visible focus, focus moved into the banner and trapped in the preferences', async () => {
  const v = await visitor();
  await open(v, '/');
  const active = () => v.page.evaluate(() => {
    const a = document.activeElement;
    const s = getComputedStyle(a);
    return {
      text: (a.textContent || '').trim(), id: a.id, tag: a.tagName,
      banner: !!a.closest('.consent-banner'), prefs: !!a.closest('.consent-prefs'),
      visible: a.matches(':focus-visible') && (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none'),
    };
  });
  assert.equal((await active()).banner, true, 'focus moves into the banner');
  const tabTo = async (match, key = 'Tab', limit = 40) => {
    for (let i = 0; i < limit; i++) {
      await v.page.keyboard.press(key);
      const a = await active();
      if (match(a)) return a;
    }
    throw new Error(`no focus stop matched within ${limit} presses of ${key}`);
  };
  const settings = await tabTo((a) => a.text === L.fi.settings);
  assert.ok(settings.visible, 'visible focus on the first layer');
  await v.page.keyboard.press('Enter');
  await prefs(v.page).waitFor();
  assert.equal((await active()).prefs, true, 'focus moves into the preferences');
  // Trapped: forty steps either way never leave the dialog.
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < 40; i++) {
      await v.page.keyboard.press(key);
      const a = await active();
      assert.ok(a.prefs, `${key} #${i} left the dialog for ${a.tag} ${a.text}`);
      assert.ok(a.visible, `${key} #${i}: no visible focus on ${a.tag} ${a.id || a.text}`);
    }
  }
  await tabTo((a) => a.id === 'consent-cat-analytics');
  await v.page.keyboard.press('Space');
  assert.equal(await prefs(v.page).locator('#consent-cat-analytics').isChecked(), true);
  await tabTo((a) => a.text === L.fi.save);
  await v.page.keyboard.press('Enter');
  await ran(v.page, 'ga');
  await signed(v.page);
  assert.deepEqual((await v.page.evaluate(() => Consent.getConsent())).categories, ['necessary', 'analytics']);
  // Reopen from the page by keyboard, and withdraw.
  await tabTo((a) => a.text === 'Evästeasetukset' && !a.prefs);
  await v.page.keyboard.press('Enter');
  await prefs(v.page).waitFor();
  await tabTo((a) => a.text === L.fi.reject);
  await v.page.keyboard.press('Enter');
  await prefs(v.page).waitFor({ state: 'detached' });
  assert.deepEqual((await v.page.evaluate(() => Consent.getConsent())).categories, ['necessary']);
  assert.equal((await active()).text, 'Evästeasetukset', 'focus goes back to the control that opened the dialog');
  await v.context.close();
});

test('C12 "Reject all" and "Accept all" on the first layer work by keyboard alone', async () => {
  for (const [button, categories] of [[L.fi.reject, ['necessary']], [L.fi.accept, ['necessary', 'analytics', 'marketing']]]) {
    const v = await visitor();
    await open(v, '/');
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await v.page.keyboard.press('Tab');
      reached = await v.page.evaluate((text) => {
        const a = document.activeElement;
        return !!a.closest('.consent-banner') && (a.textContent || '').trim() === text && a.matches(':focus-visible');
      }, button);
    }
    assert.ok(reached, `${button}: reached by Tab with visible focus`);
    await v.page.keyboard.press('Enter');
    await banner(v.page).waitFor({ state: 'detached' });
    assert.deepEqual((await v.page.evaluate(() => Consent.getConsent())).categories, categories, button);
    await v.context.close();
  }
});

test('C12 axe-core finds no violations in the banner and the preferences, in each language, on a phone and a desktop', async () => {
  for (const [size, viewport] of [['phone', MOBILE], ['desktop', DESKTOP]]) {
    for (const lang of LANGS) {
      const v = await visitor({ viewport });
      await open(v, L[lang].home, lang);
      await settled(banner(v.page));
      await axe(v.page, `${lang} first layer (${size})`);
      await button(banner(v.page), L[lang].settings).click();
      await prefs(v.page).waitFor();
      await prefs(v.page).locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
      await settled(prefs(v.page));
      await axe(v.page, `${lang} preferences (${size})`);
      await v.context.close();
    }
  }
});

test('C13 on pages served with a strict CSP the whole flow causes no CSP violation', async () => {
  // Every page of the site, in every language, and the server's own pages, carry a strict
  // policy that no other site may frame them under.
  const own = ['/consent/preferences', '/consent/first-layer', '/consent/declaration?format=html'];
  for (const path of [...PAGES, ...own]) {
    const r = await fetch(`http://127.0.0.1:${main.port}${path}`);
    assert.equal(r.status, 200, path);
    const csp = r.headers.get('content-security-policy');
    assert.ok(csp && !/unsafe-inline|unsafe-eval'/.test(csp.replace("'wasm-unsafe-eval'", '')), `${path}: strict CSP: ${csp}`);
    assert.match(csp, /frame-ancestors '(none|self)'/, path);
    if (PAGES.includes(path)) {
      // The page layer's Consent Mode script is allowed by its own hash, and nothing else is.
      const body = await r.text();
      const inline = /<script data-consent-mode>([^<]*)<\/script>/.exec(body)?.[1];
      assert.ok(inline, `${path}: the Consent Mode script`);
      const hash = createHash('sha256').update(inline).digest('base64');
      // So is the script that loads the banner's stylesheet and module after the first paint.
      const apply = /<script data-consent-src="[^"]*">(\{const me=[^<]*)<\/script>/.exec(body)?.[1];
      assert.ok(apply, `${path}: the script putting the banner back after the first paint`);
      const applyHash = createHash('sha256').update(apply).digest('base64');
      assert.ok(csp.includes(`script-src 'self' 'wasm-unsafe-eval' 'sha256-${hash}' 'sha256-${applyHash}';`), `${path}: ${csp}`);
      // A new visitor's first layer comes with its critical CSS, allowed by its own hash too.
      const style = /<style>([^<]*)<\/style>/.exec(body)?.[1];
      assert.ok(style, `${path}: the first layer's critical CSS`);
      const styleHash = createHash('sha256').update(style).digest('base64');
      assert.ok(csp.includes(`style-src 'self' 'sha256-${styleHash}';`), `${path}: ${csp}`);
    }
  }
  const v = await visitor();
  await open(v, '/video');
  await button(banner(v.page), L.fi.settings).click();
  await prefs(v.page).locator('select').selectOption('sv');
  await button(prefs(v.page), L.sv.accept).click();
  await Promise.all(TAGS.map((t) => ran(v.page, t)));
  await v.page.frameLocator('iframe.video').locator('body').waitFor();
  const player = v.page.frames().find((f) => f.url().endsWith('/demo/video.html'));
  assert.deepEqual(await player.evaluate(() => window.__csp), [], 'violations in the embedded player');
  // The listener's record goes with the page: read it before leaving.
  assert.deepEqual(await v.page.evaluate(() => window.__csp), [], 'securitypolicyviolation events on /video');
  await v.page.goto(v.base + '/omat-tiedot');
  await v.page.locator('#records tr').first().waitFor();
  await Promise.all(TAGS.map((t) => ran(v.page, t)));
  assert.deepEqual(await v.page.evaluate(() => window.__csp), [], 'securitypolicyviolation events');
  assert.deepEqual(v.consoleErrors.filter((e) => /Content Security Policy/i.test(e)), []);
  await v.context.close();
});

/** Every text a visitor reads in `scope` (a selected option only), trimmed. */
const textsOf = (scope) => scope.evaluate((d) => [...d.querySelectorAll('h2,h3,p,label,summary,th,td,button,span,a,option')]
  .filter((e) => !e.matches('option') || e.selected).map((e) => e.textContent.trim()));

test('C14 Finnish, Swedish and English are complete (first layer, preferences, no-JavaScript layer), follow the page and can be switched', async () => {
  const seen = {};
  for (const lang of LANGS) {
    const v = await visitor({ locale: 'de-DE' });
    await open(v, L[lang].home, lang);
    assert.equal(await banner(v.page).getAttribute('lang'), lang, 'the banner follows <html lang>');
    await banner(v.page).getByRole('heading', { name: L[lang].title }).waitFor();
    const texts = await textsOf(banner(v.page));
    await button(banner(v.page), L[lang].settings).click();
    const dialog = prefs(v.page);
    await dialog.getByRole('heading', { name: L[lang].prefs, exact: true }).waitFor();
    await dialog.locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
    texts.push(...await textsOf(dialog));
    await v.context.close();
    // The first layer a visitor without JavaScript gets, in the same language.
    const off = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP, locale: 'de-DE' });
    const page = await off.newPage();
    await page.goto(main.base + L[lang].home);
    const layer = nojsBanner(page);
    assert.equal(await page.locator('[data-consent-nojs]').getAttribute('lang') ?? await page.locator('html').getAttribute('lang'), lang);
    await layer.getByRole('heading', { name: L[lang].title }).waitFor();
    for (const name of [L[lang].accept, L[lang].reject, L[lang].settings]) await button(layer, name).waitFor();
    texts.push(...await textsOf(layer));
    await off.close();
    for (const t of texts) {
      assert.ok(t.length > 0, `${lang}: an empty text`);
      assert.ok(!/\{\w+\}/.test(t), `${lang}: an unfilled placeholder in ${t}`);
    }
    seen[lang] = new Set(texts);
  }
  // No text of one language's dialog shows up in another's, but for names (services, providers, cookies).
  const names = new Set(exampleConfig.categories.flatMap((c) => c.services.flatMap((s) =>
    [...(typeof s.name === 'string' ? [s.name] : []), s.provider, ...s.cookies.map((k) => k.name)])).concat(['×', '']));
  for (const a of LANGS) {
    for (const b of LANGS.filter((b) => b !== a)) {
      const shared = [...seen[a]].filter((t) => seen[b].has(t) && !names.has(t) && !/^[\d\s\p{P}]*$/u.test(t));
      assert.deepEqual(shared, [], `${a} texts also in ${b}`);
    }
  }
  // Switched in the dialog, and by the API; the choice is recorded in the chosen language.
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.settings).click();
  await prefs(v.page).locator('select').selectOption('sv');
  await prefs(v.page).getByRole('heading', { name: L.sv.prefs, exact: true }).waitFor();
  await v.page.keyboard.press('Escape');
  await banner(v.page).getByRole('heading', { name: L.sv.title }).waitFor();
  await v.page.evaluate(() => Consent.setLanguage('en'));
  await banner(v.page).getByRole('heading', { name: L.en.title }).waitFor();
  await button(banner(v.page), L.en.reject).click();
  await signed(v.page);
  assert.equal((await v.page.evaluate(() => Consent.getConsent())).language, 'en');
  await v.context.close();
});

test('C15 marketing by email or SMS: separate from cookies, never pre-ticked, recorded with its channel; an objection holds until new consent', async () => {
  const v = await visitor();
  const signups = [];
  v.context.on('request', (r) => { if (new URL(r.url()).pathname === '/register/signup') signups.push(r.postDataJSON()); });
  await open(v, L.fi.newsletter);
  const form = v.page.locator('form[data-consent-signup-ready]');
  await form.waitFor();
  const boxes = { email: 'sähköpostilla', sms: 'tekstiviestillä', post: 'postitse' };
  const box = (channel) => form.getByRole('checkbox', { name: boxes[channel], exact: true });
  const unticked = async (when) => {
    for (const channel of Object.keys(boxes)) {
      assert.equal(await box(channel).getAttribute('value'), channel, `${when}: the ${channel} box`);
      assert.equal(await box(channel).isChecked(), false, `${when}: the ${channel} box is ticked`);
    }
  };
  // Apart from the cookie banner: the page's own form, and no marketing box in the banner.
  await unticked('on arrival');
  assert.equal(await form.evaluate((f) => f.closest('[data-consent-ui]') === null && f.closest('main') !== null), true);
  assert.equal(await v.page.locator('[data-consent-ui] input[name="channels"], [data-consent-ui] form[data-consent-signup]').count(), 0);
  // A cookie decision neither ticks a box nor signs anyone up.
  await button(banner(v.page), L.fi.reject).click();
  await signed(v.page);
  await unticked('after rejecting cookies');
  assert.deepEqual(signups, []);
  await axe(v.page, 'the newsletter page');

  const contact = `c15.${process.pid}.${Date.now()}@example.fi`;
  const msg = (outcome) => form.getAttribute(`data-msg-${outcome}`);
  const status = form.getByRole('status');
  const submit = async () => {
    const [r] = await Promise.all([
      v.page.waitForResponse((r) => new URL(r.url()).pathname === '/register/signup'),
      button(form, 'Tilaa').click(),
    ]);
    await v.page.waitForFunction(() => !document.querySelector('form[data-consent-signup]').hasAttribute('aria-busy'));
    return r.status();
  };
  const may = async (channel) => {
    const r = await fetch(`http://127.0.0.1:${main.port}/register/may-market`, {
      method: 'POST',
      headers: { authorization: `Bearer ${main.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contact, channel }),
    });
    assert.equal(r.status, 200);
    return (await r.json()).allowed;
  };
  /** `consent market check`: exit 0 yes, 1 no. */
  const check = (channel) => {
    try {
      return main.cli('market', 'check', '--contact', contact, '--channel', channel);
    } catch (e) {
      assert.equal(e.status, 1, e.stderr);
      return e.stdout;
    }
  };

  // SMS to an e-mail address: the server refuses, the page says why in Finnish, nothing kept.
  await form.getByLabel('Sähköpostiosoite tai puhelinnumero').fill(contact);
  await box('sms').check();
  assert.equal(await submit(), 422);
  assert.equal(await status.textContent(), await msg('channel'));
  assert.equal(await form.getByLabel('Sähköpostiosoite tai puhelinnumero').getAttribute('aria-invalid'), 'true');
  assert.equal(await may('sms'), false);
  await box('sms').uncheck();

  // E-mail only: one consent, on the e-mail channel, given on the web form, recorded once the
  // contact confirms through the link the site's mailer sends (double opt-in).
  await box('email').check();
  assert.equal(await submit(), 202);
  assert.deepEqual(signups.at(-1), { contact, channels: ['email'] }, 'exactly the boxes ticked');
  assert.equal(await status.textContent(), await msg('ok'));
  assert.equal(await status.getAttribute('data-outcome'), 'ok');
  await unticked('after signing up');
  assert.equal(await may('email'), false, 'nothing recorded before the contact confirms');
  await confirmByLink(v.context, contact);
  const held = () => JSON.parse(main.cli('market', 'access', '--contact', contact)).records.map((e) => e.record);
  const records = held();
  assert.equal(records.length, 1, JSON.stringify(records));
  assert.equal(records[0].channel, 'email');
  assert.equal(records[0].kind, 'consent');
  assert.equal(records[0].via, 'web_form');
  assert.ok(records[0].confirmed?.signed_up <= records[0].time, 'confirmed by the contact, after the sign-up');
  assert.match(check('email'), /^email marketing: yes \(consented since /);
  assert.match(check('sms'), /^sms marketing: no /);
  assert.equal(await may('email'), true);
  assert.equal(await may('sms'), false);

  // An objection (GDPR art. 21), taken by phone: no, until a new explicit consent.
  main.cli('market', 'record', '--contact', contact, '--channel', 'email', '--kind', 'objection', '--via', 'phone', '--staff', 'desk-1');
  assert.match(check('email'), /^email marketing: no \(objected since /);
  assert.equal(await may('email'), false);
  // Records are dated to the second, and the same decision in the same second is one record:
  // the new consent must be made in a later second than the first one to be a new decision.
  const first = Date.parse(records[0].time);
  await until(() => Date.now() >= first + 1_000, 'the next second');
  await form.getByLabel('Sähköpostiosoite tai puhelinnumero').fill(contact);
  await box('email').check();
  assert.equal(await submit(), 202);
  assert.equal(await may('email'), false, 'the objection stands until the new consent is confirmed');
  await confirmByLink(v.context, contact);
  assert.equal(await may('email'), true);
  assert.match(check('email'), /^email marketing: yes \(consented since /);
  assert.deepEqual(held().map((r) => r.kind), ['consent', 'objection', 'consent']);
  assert.deepEqual(await v.page.evaluate(() => window.__csp), [], 'securitypolicyviolation events');
  await v.context.close();
});

/**
 * The contact opens the confirmation link the site's mailer would send (taken from the admin's
 * outbox) and presses the button on the page it opens, without JavaScript if `context` has none.
 */
async function confirmByLink(context, to) {
  const r = await fetch(`http://127.0.0.1:${main.port}/register/outbox`, {
    headers: { authorization: `Bearer ${main.adminToken}` },
  });
  assert.equal(r.status, 200);
  const { messages } = await r.json();
  const mine = messages.filter((m) => m.to === to);
  assert.equal(mine.length, 1, JSON.stringify(messages));
  const page = await context.newPage();
  await page.goto(mine[0].link);
  await Promise.all([
    page.waitForResponse((res) => new URL(res.url()).pathname === '/register/confirm' && res.request().method() === 'POST'),
    page.locator('form[action="/register/confirm"] button').click(),
  ]);
  assert.equal(await page.locator('[role="status"]').getAttribute('data-outcome'), 'done');
  await page.close();
}

test('C15 without JavaScript the sign-up form posts itself and the page says what happened', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP, locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(main.base + L.en.newsletter);
  const form = page.locator('form[data-consent-signup]');
  const phone = `+35840${String(Date.now()).slice(-7)}`;
  await form.getByLabel('E-mail address or phone number').fill(phone);
  for (const name of ['by e-mail', 'by text message (SMS)', 'by post']) {
    assert.equal(await form.getByRole('checkbox', { name, exact: true }).isChecked(), false, name);
  }
  // No box ticked: nothing recorded, and the page says to choose one.
  await Promise.all([page.waitForURL(main.base + L.en.newsletter + '?signup=channels'), button(form, 'Subscribe').click()]);
  assert.equal(await form.getByRole('status').textContent(), await form.getAttribute('data-msg-channels'));
  await form.getByLabel('E-mail address or phone number').fill(phone);
  await form.getByRole('checkbox', { name: 'by text message (SMS)', exact: true }).check();
  await Promise.all([page.waitForURL(main.base + L.en.newsletter + '?signup=ok'), button(form, 'Subscribe').click()]);
  assert.equal(await form.getByRole('status').textContent(), await form.getAttribute('data-msg-ok'));
  // The demo has no mailer: its mailbox page shows this browser the link the mailer would
  // send (and no one else's), and following it confirms.
  await Promise.all([page.waitForURL(main.base + '/demo/mail'), page.getByRole('link', { name: "the demo's mailbox" }).click()]);
  const mail = page.locator('dl.demo-mail');
  assert.ok((await mail.textContent()).includes(phone), await mail.textContent());
  const link = mail.getByRole('link');
  assert.match(await link.getAttribute('href'), /^http:\/\/www\.clinic\.test:\d+\/register\/confirm\?token=[\w-]+$/);
  // On a 320 px phone the page is no wider than the screen: the link (a 150-character token)
  // breaks; so does the confirmation page's one-word Finnish title (it was 804 and 410 px).
  await page.setViewportSize({ width: 320, height: 640 });
  assert.equal(await overflowX(page), 0, 'the mailbox on a phone');
  const fi = await context.newPage();
  await fi.setViewportSize({ width: 320, height: 640 });
  await fi.goto(`${await link.getAttribute('href')}&lang=fi`);
  assert.equal(await fi.getByRole('heading', { level: 1 }).textContent(), 'Vahvista suoramarkkinointisuostumus');
  assert.equal(await overflowX(fi), 0, 'the confirmation page on a phone');
  assert.ok((await fi.getByRole('button').boundingBox()).height >= 44, 'a button big enough to press');
  await fi.close();
  await page.setViewportSize(DESKTOP);
  const stranger = await browser.newContext({ javaScriptEnabled: false });
  const elsewhere = await stranger.newPage();
  await elsewhere.goto(main.base + '/demo/mail');
  assert.equal(await elsewhere.locator('dl.demo-mail').count(), 0, 'another browser sees no message');
  await stranger.close();
  await Promise.all([page.waitForURL(/\/register\/confirm\?token=/), link.click()]);
  await Promise.all([
    page.waitForResponse((res) => new URL(res.url()).pathname === '/register/confirm' && res.request().method() === 'POST'),
    page.locator('form[action="/register/confirm"] button').click(),
  ]);
  assert.equal(await page.locator('[role="status"]').getAttribute('data-outcome'), 'done');
  const records = JSON.parse(main.cli('market', 'access', '--contact', phone)).records.map((e) => e.record);
  assert.deepEqual(records.map((r) => [r.channel, r.kind, r.via]), [['sms', 'consent', 'web_form']]);
  assert.match(records[0].confirmed?.signed_up ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'confirmed by the contact');
  assert.match(main.cli('market', 'check', '--contact', phone, '--channel', 'sms'), /^sms marketing: yes/);
  await context.close();
});

test('no JavaScript: the server-rendered first layer records the decision and sets the signed cookie', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP, locale: 'sv-SE' });
  const page = await context.newPage();
  await page.goto(main.base + L.sv.booking + '?from=ad');
  const layer = nojsBanner(page);
  await button(layer, L.sv.reject).waitFor({ state: 'visible' });
  // The same equal-weight buttons as the banner, on screen at first paint.
  const boxes = await Promise.all([L.sv.reject, L.sv.accept, L.sv.settings].map((n) => button(layer, n).boundingBox()));
  for (const b of boxes) assert.ok(Math.abs(b.height - boxes[0].height) <= 2 && Math.abs(b.width - boxes[0].width) <= 2, JSON.stringify(boxes));
  await Promise.all([page.waitForURL(main.base + L.sv.booking + '?from=ad'), button(layer, L.sv.reject).click()]);
  const consent = (await context.cookies()).find((c) => c.name === 'consent');
  assert.match(consent?.value ?? '', /^1\.[\w-]+\.[\w-]{22}$/, 'the signed token');
  assert.equal(await nojsBanner(page).count(), 0, 'no banner once decided');
  // The consent id is the token payload's first 16 bytes (core/src/runtime/token.rs).
  const id = Buffer.from(consent.value.split('.')[1], 'base64url').subarray(0, 16).toString('hex');
  const logged = () => JSON.parse(main.cli('export', id)).records.map((e) => e.record);
  let records = logged();
  assert.equal(records.length, 1);
  assert.equal(records[0].action, 'reject_all');
  assert.equal(records[0].lang, 'sv');
  assert.equal(records[0].channel, 'banner');
  assert.equal(records[0].page_url, main.base + L.sv.booking, 'the page, without its query');
  // "Settings" leads to the preferences page; on a phone its actions are in view at once
  // (they stick to the bottom of the scrolling form), and a custom choice: analytics only.
  await page.setViewportSize(MOBILE);
  await page.goto(main.base + '/consent/preferences?lang=en&return_to=/en/');
  for (const name of [L.en.reject, L.en.accept, L.en.save]) {
    assert.ok(await inView(button(page, name)), `no JavaScript, phone: "${name}" out of view on the preferences page`);
  }
  await page.setViewportSize(DESKTOP);
  await page.getByLabel('Analytics').check();
  await Promise.all([page.waitForURL(main.base + '/en/'), button(page, L.en.save).click()]);
  records = logged();
  assert.deepEqual(records.map((r) => r.action), ['reject_all', 'custom'], 'the same visitor, the same id');
  const granted = records[1].categories.filter((c) => c.granted).map((c) => c.id);
  assert.deepEqual(granted, ['necessary', 'analytics']);
  assert.match(main.cli('verify'), /^chain verified/);
  await context.close();
});

test('with JavaScript the banner takes the server-rendered first layer over: one banner, no form', async () => {
  const v = await visitor();
  await v.page.goto(v.base + '/');
  await button(banner(v.page), L.fi.accept).waitFor({ state: 'visible' });
  assert.equal(await v.page.locator('[data-consent-nojs]').count(), 0);
  assert.equal(await v.page.locator('.consent-banner').count(), 1);
  await v.context.close();
});

test('the server-rendered first layer stays until the banner draws its own: never a moment without one', async () => {
  const v = await visitor();
  // Every moment the page holds no first layer at all, once one was there, is recorded.
  await v.page.addInitScript(() => {
    window.__gaps = 0;
    let seen = false;
    new MutationObserver(() => {
      const n = document.querySelectorAll('.consent-banner').length;
      if (n) seen = true;
      else if (seen) window.__gaps++;
    }).observe(document, { childList: true, subtree: true });
  });
  // The banner's texts are held until the banner has started.
  let release;
  const held = new Promise((done) => { release = done; });
  await v.page.route('**/texts-*.json', async (route) => { await held; await route.continue(); });
  await v.page.goto(v.base + '/');
  await v.page.waitForFunction(() => typeof window.Consent?.getConsent === 'function' && document.querySelector('[data-consent-ui]:not([data-consent-nojs]):not([data-consent-early])'), null, { timeout: 10_000 });
  assert.equal(await v.page.locator('[data-consent-nojs] .consent-banner').count(), 1, 'the server\'s layer, while the banner waits for its texts');
  release();
  await button(banner(v.page), L.fi.accept).waitFor({ state: 'visible' });
  assert.equal(await v.page.locator('[data-consent-nojs]').count(), 0);
  assert.equal(await v.page.locator('.consent-banner').count(), 1);
  assert.equal(await v.page.evaluate(() => window.__gaps), 0, 'no moment without a first layer');
  await v.context.close();
});

test('the banner, starting, leaves the focus where a visitor already put it in the page', async () => {
  const v = await visitor();
  let release;
  const held = new Promise((done) => { release = done; });
  await v.page.route('**/texts-*.json', async (route) => { await held; await route.continue(); });
  await v.page.goto(v.base + '/');
  await v.page.waitForFunction(() => typeof window.Consent?.getConsent === 'function' && document.querySelector('[data-consent-ui]:not([data-consent-nojs]):not([data-consent-early])'), null, { timeout: 10_000 });
  // The visitor tabs to a link of the page while the banner waits for its texts.
  const link = await v.page.evaluate(() => {
    const a = [...document.querySelectorAll('a[href]')].find((e) => !e.closest('[data-consent-ui]'));
    a.focus();
    return a.outerHTML;
  });
  release();
  await button(banner(v.page), L.fi.accept).waitFor({ state: 'visible' });
  assert.equal(await v.page.evaluate(() => document.activeElement.outerHTML), link, 'the focus stays on the page\'s link');
  // Asked for, the preferences still take it.
  await button(banner(v.page), L.fi.settings).click();
  await prefs(v.page).waitFor();
  assert.equal(await v.page.evaluate(() => !!document.activeElement.closest('.consent-prefs')), true);
  assert.deepEqual(v.consoleErrors, []);
  await v.context.close();
});

test('the privacy notice\'s cookie section is generated from the config, without JavaScript too, and follows the language', async () => {
  const off = await browser.newContext({ javaScriptEnabled: false });
  const plain = await off.newPage();
  await plain.goto(main.base + L.fi.privacy);
  const section = plain.locator('#cookie-declaration section.consent-declaration');
  assert.equal(await section.getAttribute('lang'), 'fi');
  // Every cookie the config declares is listed, with the pixel's transfer outside the EU/EEA.
  for (const name of ['_ga', '_gcl_au', '_fbp']) {
    assert.ok(await section.locator('td, th', { hasText: name }).count() >= 1, `${name} listed`);
  }
  assert.match(await section.textContent(), /Yhdysvallat/);
  await off.close();

  const v = await visitor();
  await open(v, L.fi.privacy);
  assert.equal(await v.page.evaluate(() => Consent.setLanguage('sv')), true);
  await v.page.locator('#cookie-declaration section.consent-declaration[lang="sv"]').waitFor();
  assert.match(await v.page.locator('#cookie-declaration').textContent(), /Kakor/);
  assert.deepEqual(v.consoleErrors, []);
  await v.context.close();
});

test('gating: each stand-in runs only after consent, exactly once per page view, and reports to the demo', async () => {
  const v = await visitor();
  await open(v, '/');
  for (const t of TAGS) assert.equal(await timesRan(v.page, t), 0);
  await button(banner(v.page), L.fi.accept).click();
  await Promise.all([...TAGS.map((t) => ran(v.page, t)), signed(v.page)]);
  // Things that re-run the gate: a new decision with the same choices, a language switch.
  await v.page.evaluate(() => Consent.acceptCategory('all'));
  await v.page.evaluate(() => Consent.setLanguage('sv'));
  await v.page.evaluate(() => fetch('/healthz'));
  const hits = await hitsOf(v, 3);
  for (const t of TAGS) {
    assert.equal(await timesRan(v.page, t), 1, `${t} ran more than once`);
    assert.equal(hits.filter((h) => h.tag === t).length, 1, `${t}: server hits`);
    assert.equal(await v.page.locator(`script[src="/demo/${t}.js"]`).count(), 1);
  }
  await v.page.locator('#status-hits', { hasText: '3' }).waitFor();
  // The second decision's answer may still be on its way.
  await until(() => v.posts.length === 2, 'the second decision\'s answer');
  assert.deepEqual(v.posts.map((p) => p.status), [201, 201]);
  await v.context.close();
});

test('gating: the pixel never runs on the booking page, even after consent (a health site keeps it off sensitive pages)', async () => {
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await Promise.all(TAGS.map((t) => ran(v.page, t)));
  for (const lang of LANGS) {
    const from = v.requests.length;
    await openReady(v, L[lang].booking);
    await Promise.all([ran(v.page, 'ga'), ran(v.page, 'ads')]);
    await hitsOf(v, 2);
    await v.page.evaluate(() => fetch('/healthz'));
    assert.equal(v.requests.slice(from).filter((u) => u.endsWith('/demo/pixel.js')).length, 0, `${lang}: the pixel was fetched`);
    assert.deepEqual((await hitsOf(v, 2)).map((h) => h.tag).sort(), ['ads', 'ga']);
    assert.equal(await timesRan(v.page, 'pixel'), 0);
  }
  await v.context.close();
});

test('gating: per-path exclusion comes from the consent config (services[].exclude_paths)', async () => {
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await signed(v.page);
  assert.equal(await v.page.evaluate(() => Consent.acceptedService('facebook-pixel')), true, 'allowed on the home page');
  for (const path of [L.fi.booking, L.sv.booking, L.en.booking]) {
    await openReady(v, path);
    assert.equal(await v.page.evaluate(() => Consent.acceptedService('facebook-pixel')), false, path);
    assert.equal(await v.page.evaluate(() => Consent.acceptedService('google-ads')), true, `${path}: only the pixel is kept off`);
  }
  await v.context.close();
});

test('gating: the video\'s placeholder names YouTube before any decision, and "Allow and show" grants YouTube alone: the pixel and the rest of marketing stay off (screenshots)', async () => {
  const youtube = exampleConfig.categories.find((c) => c.id === 'marketing').services.find((s) => s.id === 'youtube');
  assert.ok(youtube, 'the example config declares YouTube');
  for (const lang of LANGS) {
    for (const [device, viewport] of [['mobile', MOBILE], ['desktop', { width: 1280, height: 800 }]]) {
      const at = `${lang} ${device}`;
      const v = await visitor({ viewport, locale: { fi: 'fi-FI', sv: 'sv-SE', en: 'en-GB' }[lang] });
      await open(v, L[lang].video, lang);
      const placeholder = v.page.locator('.consent-embed');
      await placeholder.waitFor();
      await settled(banner(v.page));
      const text = await placeholder.locator('p').innerText();
      assert.match(text, /YouTube/, `${at}: the placeholder does not name the service: ${text}`);
      assert.doesNotMatch(text, /markkinoin|marknadsf|marketing/i, `${at}: the placeholder names the category: ${text}`);
      // In the theme: the site's button colour (demo.css sets it on .consent-root) reaches it.
      const colours = await placeholder.evaluate((p) => {
        const b = p.querySelector('.consent-btn');
        const banner = document.querySelector('[data-consent-ui] .consent-btn');
        return { placeholder: getComputedStyle(b).backgroundColor, banner: getComputedStyle(banner).backgroundColor };
      });
      assert.equal(colours.placeholder, colours.banner, `${at}: "${L[lang].allowShow}" is not in the theme's button colour`);
      await placeholder.evaluate((p) => p.scrollIntoView({ block: 'start' }));
      await v.page.screenshot({ path: join(artifacts, `${lang}-${device}-video-placeholder.png`) });
      assert.equal(await overflowX(v.page), 0, `${at}: the page is wider than the screen with the placeholder`);
      await axe(v.page, `${at} video placeholder`);
      await nothingGated(v, `${at} before a decision`);
      await button(placeholder, L[lang].allowShow).click();
      await v.page.frameLocator('iframe.video').locator('body').waitFor();
      assert.equal(await v.page.locator('iframe.video').getAttribute('src'), '/demo/video.html');
      assert.equal(await v.page.locator('.consent-embed').count(), 0, `${at}: the placeholder stays`);
      const granted = await v.page.evaluate(() => ['youtube', 'facebook-pixel', 'google-ads', 'ga']
        .map((s) => [s, window.Consent.acceptedService(s)]));
      assert.deepEqual(granted, [['youtube', true], ['facebook-pixel', false], ['google-ads', false], ['ga', false]], at);
      assert.equal(await v.page.evaluate(() => window.Consent.acceptedCategory('marketing')), false, `${at}: marketing granted whole`);
      // The record: YouTube and the necessary site, nothing else.
      await until(() => v.posts.length >= 1, `${at}: the decision sent`);
      const services = v.posts[0].record.services.filter((x) => x.granted).map((x) => x.id);
      assert.deepEqual(services, ['site', 'youtube'], `${at}: the decision sent`);
      await v.page.evaluate(() => fetch('/healthz'));
      for (const tag of TAGS) assert.equal(await timesRan(v.page, tag), 0, `${at}: ${tag} ran`);
      for (const f of ['/demo/ga.js', '/demo/ads.js', '/demo/pixel.js', '/demo/pixel.svg']) {
        assert.equal(requested(v, f), 0, `${at}: ${f} was fetched`);
      }
      assert.deepEqual(await trackerCookies(v.context), [], `${at}: tracker cookies`);
      await v.page.screenshot({ path: join(artifacts, `${lang}-${device}-video-allowed.png`) });
      assert.deepEqual(v.consoleErrors, [], `${at}: console errors`);
      await v.context.close();
    }
  }
});

test('a page whose banner policy is not the server\'s: nothing is logged, the decision stays local and the console says why', async () => {
  // A site that serves another build of the banner's files (an older build, a cache) beside
  // a server whose config is of another revision: the visitor decided under a policy the
  // server does not hold, so the server refuses the decision with 409, and the developer is
  // told why. The build's policy and texts go together (the banner draws only texts of its
  // policy's revision).
  const dir = mkdtempSync(join(tmpdir(), 'e2e-policy-'));
  const other = structuredClone(exampleConfig);
  other.revision += 1;
  writeFileSync(join(dir, 'site.json'), JSON.stringify(other));
  execFileSync(bin, ['banner', 'build', join(dir, 'site.json'), '--out', join(dir, 'out'), '--dist', dir]);
  const stale = readFileSync(join(dir, 'out', 'policy.bin'));
  const staleTexts = readFileSync(join(dir, 'out', 'texts-fi.json'));
  rmSync(dir, { recursive: true, force: true });
  const v = await visitor();
  const warnings = [];
  v.page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await v.page.route('**/consent/policy.bin', (route) => route.fulfill({ body: stale, contentType: 'application/octet-stream' }));
  await v.page.route('**/consent/texts-fi.json', (route) => route.fulfill({ body: staleTexts, contentType: 'application/json' }));
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await until(() => v.posts.length === 1, 'the decision sent');
  assert.equal(v.posts[0].status, 409);
  await until(() => warnings.some((w) => w.includes('answered 409: the decision was made under another policy')), `the warning (${warnings})`);
  assert.match(String(await v.page.evaluate(() => document.cookie)), /(^|; )consent=1\.[\w-]+(;|$)/,
    'the unsigned local decision stays');
  assert.throws(() => main.cli('export', v.posts[0].record.consent_id), /no records for consent id/, 'nothing in the log');
  await v.context.close();
});

test('a returning visitor sees no banner and the allowed stand-ins run at once, once', async () => {
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.settings).click();
  await prefs(v.page).locator('#consent-cat-analytics').check();
  await button(prefs(v.page), L.fi.save).click();
  await signed(v.page);
  const again = await v.context.newPage();
  const sent = v.sent;
  await again.goto(v.base + '/video');
  await ran(again, 'ga');
  await again.evaluate(() => fetch('/healthz'));
  assert.equal(await again.locator('.consent-banner').count(), 0);
  assert.equal(await timesRan(again, 'ads'), 0);
  assert.equal(await again.locator('iframe.video').getAttribute('src'), null, 'marketing video still waits');
  assert.equal(v.sent, sent, 'nothing sent to be recorded on a return visit');
  await v.context.close();
});

// ---- The server's page layer (consent-gate's PageLayer, issue 14): the demo's pages are
// rewritten for each visitor before they are sent.

/** The page at `path` as the server sends it (no browser, no banner), with `headers`. */
async function sent(server, path, headers = {}) {
  const r = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers, redirect: 'manual' });
  return { status: r.status, headers: r.headers, body: await r.text() };
}
/** Whether the gated element with `src` is live in `html` (its `data-src` became `src`). */
const liveIn = (html, src) => html.includes(` src="${src}"`) && !html.includes(`data-src="${src}"`);
/** A signed consent cookie from the server's form post (what a visitor without JavaScript gets). */
async function formCookie(server, action) {
  const r = await fetch(`http://127.0.0.1:${server.port}/consent/form`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.base },
    body: `action=${action}&lang=fi&return_to=%2F`,
  });
  assert.equal(r.status, 303, `the form post answers with a redirect (${r.status})`);
  const m = /(?:^|\s)consent=([^;]+)/.exec(r.headers.get('set-cookie') ?? '');
  assert.ok(m, 'a consent cookie was set');
  return m[1];
}

test('page layer: a returning visitor\'s page arrives with what they allowed already live, and the banner loads nothing twice', async () => {
  const v = await visitor();
  await open(v, '/');
  await button(banner(v.page), L.fi.accept).click();
  await signed(v.page);
  const again = await v.context.newPage();
  const response = await again.goto(v.base + '/');
  const html = await response.text();
  for (const src of ['/demo/ga.js', '/demo/ads.js', '/demo/pixel.js', '/demo/pixel.svg?ev=PageView']) {
    assert.ok(liveIn(html, src), `${src} is live in the HTML as sent`);
  }
  assert.ok(!html.includes('data-consent-nojs'), 'no first layer for a visitor who decided');
  assert.match(response.headers().vary ?? '', /Cookie/, 'a page per visitor says so to caches');
  assert.doesNotMatch(response.headers()['cache-control'] ?? '', /public/);
  // The banner starts, agrees, and brings nothing to life a second time.
  await again.waitForFunction(() => window.Consent?.acceptedCategory('analytics'));
  await again.waitForLoadState('networkidle');
  const hits = await until(async () => { const h = await v.server.hits(await pv(again)); return h.length >= 3 && h; }, 'the three stand-ins');
  for (const tag of TAGS) {
    assert.equal(hits.filter((h) => h.tag === tag).length, 1, `${tag} ran exactly once`);
    assert.equal(await timesRan(again, tag), 1, `${tag} ran once on the page`);
  }
  // Consent Mode: the server's default came first, the banner did not send another, and the
  // stand-ins saw the decision when they ran (during the parse, before the banner).
  const log = await consentModeLog(again);
  assert.equal(log.filter((e) => e[1] === 'default').length, 1, JSON.stringify(log));
  assert.equal(log[0][1], 'default');
  assert.equal(log[0][2].analytics_storage, 'denied');
  assert.ok(hits.every((h) => h.default_first && h.consent.analytics_storage === 'granted'), JSON.stringify(hits));
  assert.deepEqual(await again.evaluate(() => window.__csp), [], 'the inline Consent Mode script runs under the strict CSP');
  assert.deepEqual(v.consoleErrors, []);
  await v.context.close();
});

test('page layer: undecided, refused, GPC, new-revision, tampered, unsigned and foreign visitors get the page the policy gives them', async () => {
  const GATED = ['/demo/ga.js', '/demo/ads.js', '/demo/pixel.js', '/demo/pixel.svg?ev=PageView'];
  const check = (page, { live = [], firstLayer }, what) => {
    for (const src of GATED) assert.equal(liveIn(page.body, src), live.includes(src), `${what}: ${src} ${live.includes(src) ? 'live' : 'inert'}`);
    assert.equal(page.body.includes('data-consent-nojs'), firstLayer, `${what}: first layer ${firstLayer ? '' : 'not '}in the page`);
  };
  const undecided = await sent(main, '/sv/');
  check(undecided, { firstLayer: true }, 'undecided');
  assert.ok(undecided.body.includes('Godkänn alla'), 'the first layer in the page\'s language');
  const accepted = await formCookie(main, 'accept_all');
  check(await sent(main, '/', { cookie: `consent=${accepted}` }), { live: GATED, firstLayer: false }, 'accepted');
  check(await sent(main, '/', { cookie: `consent=${await formCookie(main, 'reject_all')}` }), { firstLayer: false }, 'refused');
  check(await sent(main, '/', { cookie: `consent=${accepted}`, 'sec-gpc': '1' }), { live: ['/demo/ga.js'], firstLayer: false }, 'GPC');
  // The pixel stays off the booking page (its exclude_paths) even after consent.
  check(await sent(main, L.fi.booking, { cookie: `consent=${accepted}` }), { live: ['/demo/ga.js', '/demo/ads.js'], firstLayer: false }, 'booking');
  // The token's payload with one character changed and its tag kept; without its tag.
  const [v1, payload, tag] = accepted.split('.');
  const flipped = payload.slice(0, -1) + (payload.at(-1) === 'A' ? 'B' : 'A');
  check(await sent(main, '/', { cookie: `consent=${v1}.${flipped}.${tag}` }), { firstLayer: true }, 'tampered');
  check(await sent(main, '/', { cookie: `consent=${v1}.${payload}` }), { firstLayer: true }, 'unsigned');
  const other = await startServer('page-layer-foreign');
  check(await sent(main, '/', { cookie: `consent=${await formCookie(other, 'accept_all')}` }), { firstLayer: true }, 'foreign key');
  const bumped = await startServer('page-layer-revision-2', { config: { ...exampleConfig, revision: 2 }, keyFile: main.keyFile });
  check(await sent(bumped, '/', { cookie: `consent=${accepted}` }), { firstLayer: true }, 'older revision');
  check(await sent(bumped, '/', { cookie: `consent=${await formCookie(bumped, 'accept_all')}` }), { live: GATED, firstLayer: false }, 'the control: revision 2\'s own decision');
  // What is not a page passes through as the server sent it.
  const script = await sent(main, '/demo/ga.js', { cookie: `consent=${accepted}` });
  assert.equal(script.body, readFileSync(join(root, 'examples/demo/ga.js'), 'utf8'));
  assert.doesNotMatch(script.headers.get('vary') ?? '', /Cookie/);
  assert.equal(script.headers.get('content-length'), String(Buffer.byteLength(script.body)));
  const hits = await sent(main, '/demo/hits?pv=none', { cookie: `consent=${accepted}` });
  assert.deepEqual(JSON.parse(hits.body), { hits: [] });
  // Every page, rewritten or not, is kept from shared caches.
  for (const path of PAGES) {
    const page = await sent(main, path, { cookie: `consent=${accepted}` });
    assert.match(page.headers.get('vary') ?? '', /Cookie/, path);
    assert.match(page.headers.get('cache-control') ?? '', /no-store|private/, path);
  }
});

test('page layer: a refusal\'s inert elements still come to life when the visitor changes their mind, without a reload', async () => {
  const v = await visitor();
  await v.context.addCookies([{ name: 'consent', value: await formCookie(main, 'reject_all'), url: v.base }]);
  await openReady(v, '/');
  assert.equal(await timesRan(v.page, 'ga'), 0);
  await v.page.evaluate(() => Consent.showPreferences());
  await button(prefs(v.page), L.fi.accept).click();
  await Promise.all(TAGS.map((t) => ran(v.page, t)));
  await v.context.close();
});

test('page layer: the banner\'s module loads after the first paint, and a settings control clicked before it started opens the preferences when it does', async () => {
  const v = await visitor();
  await v.context.addCookies([{ name: 'consent', value: await formCookie(main, 'accept_all'), url: v.base }]);
  // The banner's script is held until the control has been clicked.
  let release;
  const clicked = new Promise((done) => { release = done; });
  await v.page.route('**/consent/consent.js', async (route) => { await clicked; await route.continue(); });
  // Not until `load`: the banner's script, once put back, is part of what `load` waits for,
  // and the test holds it until the click.
  const response = await v.page.goto(v.base + '/', { waitUntil: 'domcontentloaded' });
  const html = await response.text();
  assert.match(html, /<script type="text\/plain" data-consent-js="\/consent\/consent\.js"/, 'the module, held back inert');
  assert.doesNotMatch(html, /<script type="module"[^>]*consent\.js/, 'no module script in the HTML as sent');
  await Promise.all(TAGS.map((t) => ran(v.page, t)));
  assert.equal(await v.page.evaluate(() => window.Consent), undefined, 'the banner has not started');
  await v.page.getByRole('contentinfo').getByRole('button', { name: 'Evästeasetukset' }).click();
  release();
  const dialog = prefs(v.page);
  await dialog.locator('#consent-cat-analytics').waitFor({ state: 'visible' });
  assert.equal(await dialog.locator('#consent-cat-analytics').isChecked(), true);
  assert.equal(await v.page.locator('[data-consent-clicked]').count(), 0, 'the mark is dropped');
  // Closed and clicked again, once the banner runs: it opens once more.
  await v.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await v.page.getByRole('contentinfo').getByRole('button', { name: 'Evästeasetukset' }).click();
  await dialog.locator('#consent-cat-analytics').waitFor({ state: 'visible' });
  assert.equal(await v.page.locator('[data-consent-clicked]').count(), 0);
  for (const t of TAGS) assert.equal(await timesRan(v.page, t), 1, `${t} ran once`);
  assert.deepEqual(v.consoleErrors, []);
  await v.context.close();
});

/** Axe-core on what a visitor without JavaScript gets at `url`: axe needs script, so the page
 * is opened again with script on but the banner's script answered empty, which leaves the
 * server-rendered layer in place (the demo's own scripts run; they only fill in its status
 * lines). `unfold` opens every <details> first. */
async function axeWithoutBanner(url, viewport, what, unfold = false) {
  const context = await browser.newContext({ viewport });
  await context.route('**/consent/consent.js', (route) => route.fulfill({ contentType: 'text/javascript', body: '' }));
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('[data-consent-nojs] .consent-banner, [data-consent-nojs] .consent-prefs').first().waitFor();
  if (unfold) await page.locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
  await axe(page, what);
  await context.close();
}

/** The most of a 360x640 phone's screen a first layer may cover: well under half. */
const PHONE_SHARE = 0.46;

/** How many pixels the page is wider than the screen: 0 when it fits. */
const overflowX = (page) => page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
/** The element is wholly inside the viewport and nothing covers its centre. */
const inView = (locator) => locator.evaluate((e) => {
  const r = e.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth
    && (top === e || e.contains(top));
});

/** Of `cells`, those with a word split across lines or text wider than the cell. A word
 * split across lines draws one box per line. */
function brokenWords(cells) {
  const broken = [];
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(`"${m[0]}" on ${lines.size} lines`);
      }
    }
    if (cell.scrollWidth > cell.clientWidth) broken.push(`"${cell.textContent}" ${cell.scrollWidth} px in ${cell.clientWidth} px`);
  }
  return { total: cells.length, broken };
}

test('layout: the first layer and the preferences, each language, phone and desktop: compact, actions in view, no overflow, no focus ring on load, axe, no console error (screenshots)', async () => {
  for (const lang of LANGS) {
    for (const [device, viewport] of [['mobile', MOBILE], ['desktop', { width: 1280, height: 800 }]]) {
      const at = `${lang} ${device}`;
      const v = await visitor({ viewport });
      await open(v, L[lang].home, lang);
      await settled(banner(v.page));
      await v.page.screenshot({ path: join(artifacts, `${lang}-${device}-first-layer.png`) });
      const box = await banner(v.page).boundingBox();
      if (device === 'mobile') {
        // Well under half: wasm/README.md gives 41-44 % for the example's texts.
        assert.ok(box.height <= PHONE_SHARE * viewport.height,
          `${at}: the first layer covers ${Math.round(100 * box.height / viewport.height)} % of the screen (at most ${100 * PHONE_SHARE} %)`);
      }
      for (const name of [L[lang].reject, L[lang].accept, L[lang].settings]) {
        assert.ok(await inView(button(banner(v.page), name)), `${at}: "${name}" is not in view`);
      }
      // Focus is in the banner, which draws no ring: only the keyboard's focus does, in the
      // theme's button colour.
      const focus = () => v.page.evaluate(() => {
        const a = document.activeElement;
        const s = getComputedStyle(a);
        return { banner: a.matches('.consent-banner'), outline: s.outlineStyle, colour: s.outlineColor,
          theme: getComputedStyle(a.closest('.consent-root')).getPropertyValue('--consent-btn-bg') };
      });
      const loaded = await focus();
      assert.ok(loaded.banner && loaded.outline === 'none', `${at}: a ring on load: ${JSON.stringify(loaded)}`);
      await v.page.keyboard.press('Tab');
      await v.page.keyboard.press('Tab');
      const keyed = await focus();
      assert.notEqual(keyed.outline, 'none', `${at}: no ring on keyboard focus`);
      const rgb = await v.page.evaluate((c) => { const e = document.createElement('i'); e.style.color = c; document.body.append(e); const x = getComputedStyle(e).color; e.remove(); return x; }, keyed.theme.trim());
      assert.equal(keyed.colour, rgb, `${at}: the ring is not in the theme's colour`);
      assert.equal(await overflowX(v.page), 0, `${at}: the page is wider than the screen with the first layer`);

      await button(banner(v.page), L[lang].settings).click();
      await prefs(v.page).waitFor();
      await settled(prefs(v.page));
      await v.page.screenshot({ path: join(artifacts, `${lang}-${device}-preferences.png`) });
      const actionsInView = async (where) => {
        for (const name of [L[lang].reject, L[lang].accept, L[lang].save]) {
          assert.ok(await inView(button(prefs(v.page), name)), `${at}: "${name}" is out of view in the preferences (${where})`);
        }
        assert.ok(await inView(prefs(v.page).locator('.consent-close')), `${at}: the close button is out of view (${where})`);
      };
      await actionsInView('opened');
      // Everything unfolded and scrolled to the end, then to the start: the bar stays.
      await prefs(v.page).locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
      const scrolls = await prefs(v.page).locator('.consent-body').evaluate((b) => { b.scrollTop = b.scrollHeight; return b.scrollTop > 0; });
      assert.ok(scrolls, `${at}: the unfolded preferences do not scroll inside the dialog`);
      await actionsInView('scrolled to the end');
      await v.page.screenshot({ path: join(artifacts, `${lang}-${device}-preferences-end.png`) });
      // A label and its value are apart ("Provider: Kuopion ...", not "ProviderKuopion ...").
      const provider = await prefs(v.page).locator('.consent-svc p').first().innerText();
      assert.match(provider, /\S:\s+\S/, `${at}: provider label runs into its value: ${provider}`);
      // The cookie tables' headings keep their words whole ("Säilytysaika", not "Säilytysai"
      // above "ka"), inside their cells.
      const headings = await prefs(v.page).locator('.consent-cookies th').evaluateAll(brokenWords);
      assert.ok(headings.total > 0, `${at}: no cookie table`);
      assert.deepEqual(headings.broken, [], `${at}: cookie-table headings broken mid-word or overflowing`);
      const wide = await prefs(v.page).locator('.consent-cookies').evaluateAll((all) => all
        .filter((t) => t.getBoundingClientRect().right > t.parentElement.getBoundingClientRect().right + 0.5)
        .map((t) => `${t.rows[1]?.cells[0]?.textContent}: ${Math.round(t.getBoundingClientRect().width)} px`));
      assert.deepEqual(wide, [], `${at}: a cookie table wider than its service's box`);
      assert.equal(await overflowX(v.page), 0, `${at}: the page is wider than the screen with the preferences`);
      await axe(v.page, `${at} preferences, unfolded`);
      assert.deepEqual(v.consoleErrors, [], `${at}: console errors`);
      await v.context.close();
    }
  }
});

test('layout without JavaScript: the server-rendered first layer and the preferences page, each language, phone and desktop: compact, actions in view, no overflow, axe, no console error (screenshots)', async () => {
  for (const lang of LANGS) {
    for (const [device, viewport] of [['mobile', MOBILE], ['desktop', { width: 1280, height: 800 }]]) {
      const at = `${lang} ${device}, no JavaScript`;
      const context = await browser.newContext({ javaScriptEnabled: false, viewport, locale: { fi: 'fi-FI', sv: 'sv-SE', en: 'en-GB' }[lang] });
      const errors = [];
      context.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      const page = await context.newPage();
      await page.goto(main.base + L[lang].home);
      const layer = nojsBanner(page);
      await button(layer, L[lang].accept).waitFor({ state: 'visible' });
      await page.screenshot({ path: join(artifacts, `nojs-${lang}-${device}-first-layer.png`) });
      const box = await layer.boundingBox();
      if (device === 'mobile') {
        assert.ok(box.height <= PHONE_SHARE * viewport.height,
          `${at}: the first layer covers ${Math.round(100 * box.height / viewport.height)} % of the screen (at most ${100 * PHONE_SHARE} %)`);
      }
      for (const name of [L[lang].reject, L[lang].accept, L[lang].settings]) {
        assert.ok(await inView(button(layer, name)), `${at}: "${name}" is not in view on the first layer`);
      }
      assert.equal(await overflowX(page), 0, `${at}: the page is wider than the screen with the first layer`);
      await axeWithoutBanner(page.url(), viewport, `${at} first layer`);
      // "Settings" is the preferences page of the server's own.
      await Promise.all([page.waitForURL(/\/consent\/preferences/), button(layer, L[lang].settings).click()]);
      const form = page.locator('form.consent-prefs');
      await form.waitFor();
      await page.screenshot({ path: join(artifacts, `nojs-${lang}-${device}-preferences.png`) });
      const actionsInView = async (where) => {
        for (const name of [L[lang].reject, L[lang].accept, L[lang].save]) {
          assert.ok(await inView(button(form, name)), `${at}: "${name}" is out of view on the preferences page (${where})`);
        }
      };
      await actionsInView('opened');
      await form.locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
      await form.evaluate((f) => { f.scrollTop = f.scrollHeight; window.scrollTo(0, document.documentElement.scrollHeight); });
      await actionsInView('unfolded, scrolled to the end');
      await page.screenshot({ path: join(artifacts, `nojs-${lang}-${device}-preferences-end.png`) });
      assert.equal(await overflowX(page), 0, `${at}: the preferences page is wider than the screen`);
      await axeWithoutBanner(page.url(), viewport, `${at} preferences page, unfolded`, true);
      // The icon included: a 404 for it is a console error too.
      assert.deepEqual(errors, [], `${at}: console errors`);
      await context.close();
    }
  }
});

test('layout: every demo page, each language, phone and desktop, after a decision: no overflow, axe, no console error (screenshots)', async () => {
  for (const [device, viewport] of [['mobile', MOBILE], ['desktop', { width: 1280, height: 800 }]]) {
    const v = await visitor({ viewport });
    await open(v, '/');
    await button(banner(v.page), L.fi.accept).click();
    await signed(v.page);
    for (const lang of LANGS) {
      for (const name of ['home', 'booking', 'video', 'privacy', 'mydata', 'newsletter']) {
        const path = L[lang][name];
        const at = `${path} (${device})`;
        await openReady(v, path);
        if (name === 'mydata') await v.page.locator('#records tr').first().waitFor();
        if (name === 'privacy') await v.page.locator('#cookie-declaration table').first().waitFor();
        await v.page.screenshot({ path: join(artifacts, `page-${lang}-${name}-${device}.png`), fullPage: true });
        assert.equal(await overflowX(v.page), 0, `${at}: the page is wider than the screen`);
        await axe(v.page, at);
      }
    }
    // The favicon included: a 404 for /favicon.ico is a console error too.
    assert.deepEqual(v.consoleErrors, [], `console errors (${device})`);
    assert.equal(requested(v, '/favicon.ico'), 0, '/favicon.ico requested');
    await v.context.close();
  }
});

test('every decision made in the browser is in the server\'s log with the right fields, and `consent verify` passes', async () => {
  // It stands alone: one decision of each action of its own, beside whatever the checks
  // before it made (all of them are checked).
  const a = await visitor();
  await open(a, '/');
  const answered = async (n) => {
    await until(() => a.posts.length >= n, `decision ${n} sent`);
    await Promise.all(a.posts.map((p) => p.answer));
  };
  await button(banner(a.page), L.fi.settings).click();
  await prefs(a.page).locator('#consent-cat-analytics').check();
  await button(prefs(a.page), L.fi.save).click();
  await answered(1);
  for (const [n, name] of [[2, L.fi.accept], [3, L.fi.reject]]) {
    await a.page.getByRole('contentinfo').getByRole('button', { name: 'Evästeasetukset' }).click();
    await button(prefs(a.page), name).click();
    await answered(n);
  }
  await a.context.close();
  const b = await visitor();
  await open(b, '/');
  await button(banner(b.page), L.fi.reject).click();
  await until(() => b.posts.length >= 1, 'the refusal sent');
  await b.posts[0].answer;
  await b.context.close();
  const made = decisions.filter((d) => d.status === 201);
  assert.ok(made.length >= (process.env.E2E_MIN_DECISIONS ?? 4), `decisions seen: ${made.length}`);
  // Every field the token and the page determine, derived by recordOf from their bytes.
  const fields = ['consent_id', 'action', 'categories', 'services', 'revision', 'lang', 'page_url', 'channel', 'gpc'];
  const logs = new Map();
  for (const d of made) {
    const answer = await d.answer;
    assert.ok(answer && typeof answer.consent_id === 'string', `a 201 names the consent id: ${JSON.stringify(answer)}`);
    // The server issues ids: a decision keeps the banner's id only when the visitor proved it
    // with a token the server signed (a later decision of the same visitor); a first decision
    // gets the server's, which the banner adopts.
    const id = answer.consent_id;
    if (erased.has(id)) continue; // erased on request (C9)
    const key = `${d.server.name} ${id}`;
    if (!logs.has(key)) logs.set(key, JSON.parse(d.server.cli('export', id)).records.map((e) => e.record));
    const expected = { ...d.record, consent_id: id };
    const pick = (r) => fields.map((f) => r?.[f]);
    const found = logs.get(key).some((r) => isDeepStrictEqual(pick(r), pick(expected))
      && Math.abs(Date.parse(r.time) - Date.parse(d.record.time)) < 5_000);
    assert.ok(found, `${key}: no record like ${JSON.stringify(pick(expected))} at ${d.record.time} in ${JSON.stringify(logs.get(key))}`);
  }
  const actions = new Set(made.map((d) => d.record.action));
  for (const a of ['accept_all', 'reject_all', 'custom', 'withdraw']) assert.ok(actions.has(a), `no ${a} decision made`);
  for (const s of servers) assert.match(s.cli('verify'), /^chain verified: \d+ records/, s.name);
});
