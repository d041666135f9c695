// Adversarial browser tests of the banner: the BUILT banner (wasm/dist) on messy pages and
// under abuse of its API, beside other banners' JavaScript, with hostile cookies and a
// polluted page. The server, pages and visitors are banner.test.mjs's (copied: that file runs
// its tests when imported); every server listens on 127.0.0.1 only and every wait is bounded.
//
//   node --test wasm/tests/browser/adversarial.test.mjs      (from any directory)
//
// CONSENT_DIST, CHROMIUM and CONSENT_BIN as for banner.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
/** The built banner; CONSENT_DIST tests another build of it. */
const dist = resolve(process.env.CONSENT_DIST ?? join(root, 'wasm/dist'));
const EXAMPLE_CONFIG = readFileSync(join(root, 'core/src/example_config.json'), 'utf8');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CONSENT_BIN = process.env.CONSENT_BIN ?? join(root, 'target/debug/consent');
/** The bound on every wait, in milliseconds. */
const WAIT = 5_000;
/**
 * How long a test watches for something that must NOT happen (a second run, a late script, a
 * stale answer stored). There is no event for "nothing happened", so `settle()` first waits
 * for what could still cause it (every request of the page answered, two frames painted) and
 * then watches this long: twice the 300 ms by which a delayed second activation would have to
 * come to be seen on a slow machine, where the old fixed 150 ms missed it.
 */
const SETTLE = 600;
/** What wasm/tests/csp/serve.py sends: no inline script or style, WebAssembly allowed. */
const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
  + "img-src 'self' data:; frame-src 'self'";
/** The fake endpoint's key: it signs tokens as consent-server does (core/src/runtime/token.rs). */
const SIGNING_KEY = Buffer.from('banner-browser-tests-signing-key-not-a-secret');

// ---- The server -------------------------------------------------------------------------

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.ts': 'text/plain' };
/** Generated pages and scripts by path: `{body, type, headers}`. */
const routes = new Map();
/** Every request the server got: `{method, path, search, headers, body}`. */
const requests = [];
/** What POST /consent-endpoint answers by default: an error. */
const NO_ENDPOINT = () => ({ status: 500, json: { error: 'no endpoint in this test' } });
/** What POST /consent-endpoint answers, given the parsed body; set per test. */
let endpointAnswer = NO_ENDPOINT;
let server, origin, browser;

/** Loaded first by every page: the order log and a CSP violation recorder. */
const SETUP_JS = `window.__log = [];
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
`;

/** A token signed as core/src/runtime/token.rs signs it: `1.<payload>.<tag>`, the tag being the first
 * 128 bits of HMAC-SHA-256 over the text `1.<payload>`, base64url without padding. */
function sign(token) {
  const tag = createHmac('sha256', SIGNING_KEY).update(token).digest().subarray(0, 16);
  return `${token}.${tag.toString('base64url')}`;
}

/** `token` (unsigned, `1.<payload>`) with its last decision time `secs` seconds later, as
 * consent-server re-times a decision to its own clock (`ConsentState::at`): the payload is
 * the id (16 bytes), then the first decision time and last minus first as LEB128 varints,
 * then the rest (core/src/runtime/token.rs). */
function retime(token, secs) {
  const bytes = Buffer.from(token.slice(2), 'base64url');
  const varint = (at) => {
    let n = 0, shift = 0, i = at;
    for (;;) {
      const b = bytes[i++];
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return [n, i];
    }
  };
  const [, afterFirst] = varint(16);
  const [delta, afterDelta] = varint(afterFirst);
  const out = [];
  for (let n = delta + secs; ; n = Math.floor(n / 128)) {
    if (n < 128) { out.push(n); break; }
    out.push((n % 128) | 0x80);
  }
  const payload = Buffer.concat([bytes.subarray(0, afterFirst), Buffer.from(out), bytes.subarray(afterDelta)]);
  return `1.${payload.toString('base64url')}`;
}

/** `token` (unsigned) under another consent id, as consent-server issues one to a decision
 * whose visitor showed no token it signed for the id the banner made: the payload's first 16
 * bytes are the id. */
function reid(token, byte) {
  const bytes = Buffer.from(token.slice(2), 'base64url');
  bytes.fill(byte, 0, 16);
  return `1.${bytes.toString('base64url')}`;
}

/** The consent id of a token: the payload's first 16 bytes, as hex. */
function consentIdOf(token) {
  return Buffer.from(token.split('.')[1], 'base64url').subarray(0, 16).toString('hex');
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

async function handle(req, res) {
  const url = new URL(req.url, origin);
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString('utf8');
  requests.push({ method: req.method, path: url.pathname, search: url.search, headers: req.headers, body, at: Date.now() });
  const path = url.pathname;
  if (req.method === 'GET' && path.startsWith('/consent/')) {
    const name = basename(path);
    const type = TYPES[extname(name)];
    if (!type || path !== `/consent/${name}`) return send(res, 404, 'text/plain', 'not found');
    try {
      return send(res, 200, type, await readFile(join(dist, name)));
    } catch {
      return send(res, 404, 'text/plain', 'not found');
    }
  }
  if (req.method === 'GET' && path === '/test/setup.js') return send(res, 200, 'text/javascript', SETUP_JS);
  // /log/<test>/<name>.js: a script that logs <name>; ?delay=ms answers late.
  const logged = req.method === 'GET' && path.match(/^\/log\/[\w-]+\/([\w-]+)\.js$/);
  if (logged) {
    const delay = Number(url.searchParams.get('delay') ?? 0);
    if (delay) await new Promise((ok) => setTimeout(ok, Math.min(delay, 2_000)));
    return send(res, 200, 'text/javascript', `window.__log.push(${JSON.stringify(logged[1])});\n`);
  }
  if (req.method === 'POST' && path === '/consent-endpoint') {
    let parsed = null;
    try { parsed = JSON.parse(body); } catch { /* the answer decides what a bad body gets */ }
    const { status, json } = endpointAnswer(parsed);
    return send(res, status, 'application/json', JSON.stringify(json));
  }
  if (req.method === 'GET' && path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
  const route = req.method === 'GET' && routes.get(path);
  if (route?.tail) {
    // A page that arrives in two parts, `delay` ms apart, as over a slow connection.
    res.writeHead(200, { 'Content-Type': route.type, 'Cache-Control': 'no-store' });
    res.write(route.body);
    await new Promise((ok) => setTimeout(ok, route.delay));
    return res.end(route.tail);
  }
  if (route) {
    // ?delay=ms answers late, as a slow connection would.
    const delay = Number(url.searchParams.get('delay') ?? 0);
    if (delay) await new Promise((ok) => setTimeout(ok, Math.min(delay, 2_000)));
    return send(res, 200, route.type, route.body, route.headers);
  }
  send(res, 404, 'text/plain', 'not found');
}

/** GET requests the server got for `path`. */
const hits = (path) => requests.filter((r) => r.method === 'GET' && r.path === path).length;

before(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((e) => send(res, 500, 'text/plain', String(e)));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((ok) => (server ? server.close(ok) : ok()));
});

// ---- Pages and visitors -----------------------------------------------------------------

let pageCount = 0;
/** Compiled policies by config text: the address of their policy.bin. */
const policies = new Map();

/**
 * The address of `cfg`'s compiled policy, served with its texts under /p/<n>/: compiled by
 * `consent banner build`, as a site does. A config that does not compile fails the test with
 * the command's message.
 */
function compiled(cfg) {
  const text = JSON.stringify(cfg);
  if (policies.has(text)) return policies.get(text);
  const dir = mkdtempSync(join(tmpdir(), 'banner-policy-'));
  try {
    writeFileSync(join(dir, 'site.json'), text);
    execFileSync(CONSENT_BIN, ['banner', 'build', join(dir, 'site.json'), '--out', join(dir, 'out'), '--dist', dir],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    const n = policies.size + 1;
    for (const name of readdirSync(join(dir, 'out'))) {
      if (name !== 'policy.bin' && !/^(texts|details)-\w+\.json$/.test(name)) continue;
      routes.set(`/p/${n}/${name}`, {
        type: name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        body: readFileSync(join(dir, 'out', name)),
      });
    }
    policies.set(text, `/p/${n}/policy.bin`);
    return policies.get(text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The example config with its own cookie name and no endpoint, edited by `edit`. */
function config(cookie, edit = () => {}) {
  const c = JSON.parse(EXAMPLE_CONFIG);
  c.cookie.name = cookie;
  delete c.endpoint;
  edit(c);
  return c;
}

const attrEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * Registers a page and returns its path. The page has the banner's stylesheet, the setup
 * script, an optional `pre` script (JavaScript run before the banner), the banner's module,
 * and `body` (test markup) in `<div id="t">`. With `config` (an object) the banner's script
 * tag names its compiled policy (`data-policy`, with `dataset` as its other data-* options)
 * and the banner starts by itself; a `config` given as text is embedded the old way, as JSON
 * in `#consent-config`. Without, the script tag says `data-manual` and the test calls
 * `Consent.run`. Everything is external, so `csp` can be strict. `styles` are more
 * stylesheets, linked after the banner's (where a site's own come).
 */
function addPage({ body = '', lang = 'en', config: inline, dataset = {}, pre, csp, path, styles = [] } = {}) {
  const n = ++pageCount;
  path ??= `/site/${n}`;
  const head = ['<meta charset="utf-8">', `<title>banner test ${n}</title>`,
    '<link rel="stylesheet" href="/consent/consent.css">',
    ...styles.map((href) => `<link rel="stylesheet" href="${attrEscape(href)}">`),
    '<script src="/test/setup.js"></script>'];
  if (pre) {
    routes.set(`/pre/${n}.js`, { type: 'text/javascript', body: pre });
    head.push(`<script src="/pre/${n}.js"></script>`);
  }
  const data = Object.entries(dataset).map(([k, v]) => ` data-${k}="${attrEscape(v)}"`).join('');
  if (typeof inline === 'string') {
    head.push(`<script type="application/json" id="consent-config"${data}>${inline.replace(/</g, '\\u003c')}</script>`);
    head.push('<script type="module" src="/consent/consent.js"></script>');
  } else if (inline) {
    head.push(`<script type="module" src="/consent/consent.js" data-policy="${attrEscape(compiled(inline))}"${data}></script>`);
  } else {
    head.push('<script type="module" src="/consent/consent.js" data-manual></script>');
  }
  const html = `<!doctype html>\n<html${lang === null ? '' : ` lang="${attrEscape(lang)}"`}>\n<head>\n${head.join('\n')}\n</head>\n`
    + `<body>\n<div id="t">${body}</div>\n</body>\n</html>\n`;
  routes.set(path, {
    type: 'text/html; charset=utf-8',
    body: html,
    headers: csp ? { 'Content-Security-Policy': csp } : {},
  });
  return path;
}

/** Clicks the button with exactly this text in the banner's UI or a placeholder, as a
 * visitor does (a real mouse click, once the button is visible). */
async function press(page, text) {
  const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator('[data-consent-ui] button, .consent-embed button').filter({ hasText: exact })
    .click({ timeout: WAIT });
}

/** Polls `check` (in Node) until it is true, for at most WAIT ms. */
async function until(check, what) {
  const end = Date.now() + WAIT;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

/**
 * A visitor: a browser context of its own (no cookies), one page, and what its console said.
 * `locale` sets navigator.languages; `gpc` sends Global Privacy Control.
 */
async function newVisitor({ locale = 'en-US', gpc = false } = {}) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  if (gpc) {
    await context.addInitScript(() => Object.defineProperty(navigator, 'globalPrivacyControl',
      { value: true, configurable: true }));
  }
  const page = await context.newPage();
  const inFlight = new Set();
  page.on('request', (r) => inFlight.add(r));
  for (const done of ['requestfinished', 'requestfailed']) page.on(done, (r) => inFlight.delete(r));
  page.setDefaultTimeout(WAIT);
  page.setDefaultNavigationTimeout(WAIT);
  const v = {
    context, page,
    /** console.error texts, console.warn texts, uncaught exceptions. */
    errors: [], warnings: [], pageErrors: [],
    /** Loads a page made by `addPage(spec)` (or the path given); with an inline config, waits
     * until the banner has started. `query` is appended to the URL. */
    async open(spec = {}, query = '') {
      const path = typeof spec === 'string' ? spec : addPage(spec);
      await page.goto(origin + path + query, { waitUntil: 'load' });
      await page.waitForFunction(() => typeof window.Consent?.run === 'function', null, { timeout: WAIT });
      if (spec.config && typeof spec.config !== 'string') {
        await page.waitForSelector('[data-consent-ui]:not([data-consent-nojs])', { state: 'attached' });
      }
      return path;
    },
    /** `Consent.run(policy, options)` from the page, as a site's own script calls it, with
     * the compiled policy of `cfg` (a config object; text goes to `run` as it is). */
    run: (cfg, options) => page.evaluate(([c, o]) => window.Consent.run(c, o ?? undefined),
      [typeof cfg === 'string' ? cfg : compiled(cfg), options ?? null]),
    /** `Consent[name](...args)`. */
    api: (name, ...args) => page.evaluate(([n, a]) => window.Consent[n](...a), [name, args]),
    js: (fn, arg) => page.evaluate(fn, arg),
    log: () => page.evaluate(() => window.__log),
    bannerShown: () => page.evaluate(() => !!document.querySelector('[data-consent-ui] .consent-banner')),
    waitFor: (fn, arg) => page.waitForFunction(fn, arg, { timeout: WAIT }),
    press: (text) => press(page, text),
    settle: async () => {
      await until(() => inFlight.size === 0,
        () => `the page's requests to be answered: ${[...inFlight].map((r) => r.url())}`);
      await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
      await page.waitForTimeout(SETTLE);
    },
  };
  page.on('console', (m) => {
    if (m.type() === 'error') v.errors.push(m.text());
    if (m.type() === 'warning') v.warnings.push(m.text());
  });
  page.on('pageerror', (e) => v.pageErrors.push(e.message));
  return v;
}

/** A test with `visitor(options)` to open visitors; their contexts close afterwards, and
 * none may have had an uncaught exception. */
function bannerTest(name, fn) {
  test(name, async () => {
    endpointAnswer = NO_ENDPOINT;
    const opened = [];
    const visitor = async (options) => {
      const v = await newVisitor(options);
      opened.push(v);
      return v;
    };
    try {
      await fn(visitor);
      for (const v of opened) assert.deepEqual(v.pageErrors, [], 'no uncaught exception on the page');
    } finally {
      await Promise.all(opened.map((v) => v.context.close()));
    }
  });
}

/** Gated scripts of every kind the spec names, logging what ran. */
const SCRIPTS = `
  <script type="text/plain" data-category="analytics" data-service="ga" id="ga1" data-extra="kept">window.__log.push('ga')</script>
  <script type="text/plain" data-category="marketing">window.__log.push('ads')</script>
  <script type="text/plain" data-category="!marketing">window.__log.push('no-ads')</script>
  <script type="text/plain" data-category="necessary">window.__log.push('necessary')</script>`;

// ---- A polluted page ----------------------------------------------------------------------

/** What a page's own vulnerable parser leaves on Object.prototype (`?__proto__[onfocus]=...`):
 * inline handlers that would run as the banner focuses its layer, where to load a policy from,
 * a nonce and the floating button's switch. */
const POLLUTE = `for (const k of ['onfocus', 'onclick', 'onpointerdown', 'onload']) {
  Object.prototype[k] = "window.__log.push('xss')";
}
Object.prototype.policy = '/evil/policy.bin';
Object.prototype.nonce = 'evil';
Object.prototype.floating = '';
`;

// A polluted Object.prototype lends the banner nothing: no attribute on its elements (an
// `onfocus` there ran as the first layer took the focus), no policy address, no option.
bannerTest('a polluted Object.prototype is no gadget: no attribute, policy or option from it', async (visitor) => {
  routes.set('/evil/policy.bin', routes.get(compiled(config('adv-evil', (c) => { c.cookie.name = 'adv-evil'; }))));
  // Started by its script tag, which names no policy: the one beside the script, not the
  // polluted `policy`.
  const auto = await visitor();
  routes.set('/site/adv-auto', {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><script src="/test/setup.js"></script>
<script src="/pre/adv-auto.js"></script><script type="module" src="/consent/consent.js"></script></head><body>${SCRIPTS}</body></html>`,
  });
  routes.set('/pre/adv-auto.js', { type: 'text/javascript', body: POLLUTE });
  await auto.page.goto(`${origin}/site/adv-auto`);
  await until(() => auto.errors.length >= 1, 'the console error for the missing policy.bin');
  await auto.settle();
  assert.equal(hits('/evil/policy.bin'), 0, 'the policy is not read from Object.prototype');
  assert.ok(auto.errors.some((e) => e.includes('policy did not load')), `${auto.errors}`);
  assert.deepEqual(await auto.log(), ['necessary']);

  const v = await visitor();
  await v.open({ body: SCRIPTS, pre: POLLUTE });
  assert.equal(await v.run(config('adv-proto')), true);
  await v.waitFor(() => !!document.querySelector('.consent-banner button'));
  await v.press('Settings');
  await v.waitFor(() => !!document.querySelector('.consent-prefs .consent-switch'));
  await v.settle();
  const stray = await v.js(() => [...document.querySelectorAll('[data-consent-ui], [data-consent-ui] *')]
    .flatMap((e) => [...e.attributes].map((a) => a.name))
    .filter((n) => ['onfocus', 'onclick', 'onpointerdown', 'onload', 'policy', 'nonce', 'floating'].includes(n)));
  assert.deepEqual(stray, [], 'no attribute from Object.prototype');
  assert.equal(await v.js(() => document.querySelector('.consent-float')), null, 'no floating button unasked');
  await v.press('Accept all');
  await v.settle();
  assert.deepEqual(await v.log(), ['necessary', 'ga', 'ads'], 'nothing ran from a handler');
  assert.equal(await v.js(() => document.getElementById('ga1').nonce), '', 'no nonce from Object.prototype');
});

// ---- Addresses that are not URLs --------------------------------------------------------

// A policy address that is not a URL (`data-policy="http://["`, a typo) fails closed as a
// policy that did not load does: one console error, only the necessary runs, `run` resolves
// false. It threw from `run` instead, and from the module itself when the tag said it.
bannerTest('a policy address that is not a URL fails closed with one console error', async (visitor) => {
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  const got = await v.js(() => {
    try {
      return window.Consent.run('http://[').then((r) => `resolved ${r}`, (e) => `rejected ${e}`);
    } catch (e) {
      return `threw ${e}`;
    }
  });
  assert.equal(got, 'resolved false');
  await v.settle();
  assert.equal(v.errors.length, 1, `${v.errors}`);
  assert.ok(v.errors[0].startsWith('consent:') && v.errors[0].includes('http://['), v.errors[0]);
  assert.deepEqual(await v.log(), ['necessary']);

  // The same address on the script tag: the module starts, and says so the same way.
  const w = await visitor();
  const path = addPage({ body: SCRIPTS });
  const html = routes.get(path).body.replace(' data-manual>', ' data-policy="http://[">');
  routes.set(path, { ...routes.get(path), body: html });
  await w.page.goto(origin + path);
  await until(() => w.errors.length >= 1, 'the console error');
  await w.settle();
  assert.equal(w.errors.length, 1, `${w.errors}`);
  assert.deepEqual(await w.log(), ['necessary']);
});

// ---- No WebAssembly ---------------------------------------------------------------------

/** A site's CSP that forgot 'wasm-unsafe-eval'. */
const NO_WASM_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:";
const NOJS = '<div class="consent-root" data-consent-ui data-consent-nojs id="nojs"><form class="consent-banner" '
  + 'method="post" action="/consent/form"><button name="action" value="reject_all">Reject all</button></form></div>';

// A page where the WebAssembly cannot run (a CSP without 'wasm-unsafe-eval', or the file
// blocked by an extension) gets one console error saying so, never an uncaught rejection;
// nothing gated runs and the server-rendered first layer stays for the visitor to use.
bannerTest('a WebAssembly that cannot load is one console error, not an uncaught rejection', async (visitor) => {
  for (const how of ['csp', 'blocked']) {
    const v = await visitor();
    if (how === 'blocked') await v.page.route('**/consent_bg.wasm', (route) => route.abort('blockedbyclient'));
    const path = addPage({ body: NOJS + SCRIPTS, config: config('adv-nowasm'), csp: how === 'csp' ? NO_WASM_CSP : undefined });
    await v.page.goto(origin + path);
    await until(() => v.errors.some((e) => e.startsWith('consent:')), `the console error (${how})`);
    // The refused module's request may never be reported finished: a fixed watch, not settle().
    await v.page.waitForTimeout(SETTLE);
    const ours = v.errors.filter((e) => e.startsWith('consent:'));
    assert.equal(ours.length, 1, `${how}: ${v.errors}`);
    assert.ok(ours[0].includes('WebAssembly'), ours[0]);
    assert.deepEqual(v.pageErrors, [], `${how}: no uncaught rejection`);
    assert.ok(await v.js(() => !!document.getElementById('nojs')), `${how}: the rendered first layer stays`);
    assert.deepEqual(await v.log(), [], `${how}: nothing gated runs`);
    assert.equal(await v.js(() => window.Consent.acceptedCategory('analytics')), false);
    assert.equal(await v.js(() => window.Consent.run(window.location.href)), false, `${how}: a later run says so too`);
  }
});

// A cookie declaration address that is not a URL (`declaration: "http://["`) is refused with a
// console warning as another origin's is: the banner has started and `run` resolves true. It
// rejected `run` (an uncaught rejection when the script tag started it).
bannerTest('a cookie declaration address that is not a URL is a warning, not a rejection', async (visitor) => {
  const v = await visitor();
  await v.open({ body: '<div id="bad" data-consent-declaration>keep</div>' });
  const got = await v.js((p) => window.Consent.run(p, { declaration: 'http://[' }).then((r) => `resolved ${r}`, (e) => `rejected ${e}`),
    compiled(config('adv-decl')));
  assert.equal(got, 'resolved true');
  assert.equal(await v.js(() => document.getElementById('bad').innerHTML), 'keep');
  assert.ok(v.warnings.some((w) => w.startsWith('consent:') && w.includes('http://[')), JSON.stringify(v.warnings));
  // Switching the language loads the declarations again: no exception out of setLanguage.
  assert.equal(await v.api('setLanguage', 'fi'), true);
  assert.deepEqual(v.errors, []);
});

// ---- The API under abuse ----------------------------------------------------------------

// A string with a lone surrogate (an emoji cut in half by a site's own slicing) is an id like
// any other: acceptCategory refuses it as unknown, with the console error naming it, and a
// page language holding one is a language that matches nothing. encodeURIComponent threw a
// URIError out of acceptCategory, and out of run (whose promise rejected) for the language.
bannerTest('ids and languages with lone surrogates are unknown, not a URIError', async (visitor) => {
  const v = await visitor();
  await v.open({ body: SCRIPTS, pre: "document.documentElement.lang = 'en\\uD83D';" });
  const got = await v.js((p) => window.Consent.run(p).then((r) => `resolved ${r}`, (e) => `rejected ${e}`),
    compiled(config('adv-sur')));
  assert.equal(got, 'resolved true');
  assert.ok(await v.bannerShown());
  const calls = await v.js(() => [['\uD800'], [['analytics', 'x\uDC00']], ['analytics\uD83D']].map((args) => {
    try {
      return `returned ${window.Consent.acceptCategory(...args)}`;
    } catch (e) {
      return `threw ${e}`;
    }
  }));
  assert.deepEqual(calls, ['returned false', 'returned false', 'returned false']);
  await until(() => v.errors.length >= 3, 'the console errors');
  assert.ok(v.errors.every((e) => e.startsWith('consent: acceptCategory: no such categories')), `${v.errors}`);
  assert.equal(await v.api('getConsent'), null, 'nothing was decided');
  assert.deepEqual(await v.log(), ['necessary']);
});

// ---- Other scripts on the page ----------------------------------------------------------

// Another script holds `window.Consent` read-only (a getter, a non-writable stub): the
// banner still starts and gates (its API is the module's export), and one console error says
// why window.Consent is not it. The assignment threw out of the module before it started, so
// nothing ran, not even the necessary, and no first layer was drawn.
bannerTest('a read-only window.Consent of another script does not stop the banner', async (visitor) => {
  for (const how of ['value', 'getter']) {
    const v = await visitor();
    const pre = how === 'value'
      ? "Object.defineProperty(window, 'Consent', { value: Object.freeze({ theirs: true }), writable: false });"
      : "Object.defineProperty(window, 'Consent', { get() { return { theirs: true }; } });";
    await v.page.goto(origin + addPage({ body: SCRIPTS, config: config('adv-taken'), pre }));
    await v.page.waitForSelector('.consent-banner button', { timeout: WAIT });
    await v.settle();
    assert.deepEqual(v.pageErrors, [], how);
    assert.equal(v.errors.length, 1, `${how}: ${v.errors}`);
    assert.ok(v.errors[0].includes('window.Consent'), v.errors[0]);
    assert.deepEqual(await v.log(), ['necessary'], how);
    await v.press('Accept all');
    await v.waitFor(() => window.__log.includes('ga'));
    assert.equal(await v.js(() => window.Consent.theirs), true, `${how}: theirs is left alone`);
  }
});

// ---- Cookies of the same name -----------------------------------------------------------

// Several cookies of the consent cookie's name (a stale or damaged one on a longer path, or
// another site's under a parent domain, which the browser lists first): the visitor's valid
// decision counts, and continues its consent id at the endpoint. The banner read the first
// one only, so a stray cookie in front brought the first layer back on every page, forever
// (its decision was written on `/` again, behind the stray one), and the next decision was
// sent without the token it continues. Nothing invalid grants anything: with only stray
// cookies the first layer shows and only the necessary runs.
bannerTest('a stray cookie of the same name in front of a valid decision does not hide it', async (visitor) => {
  const posts = () => requests.filter((r) => r.method === 'POST' && r.path === '/consent-endpoint');
  endpointAnswer = () => ({ status: 500, json: { error: 'not signing in this test' } });
  const cfg = config('adv-dup', (c) => { c.endpoint = '/consent-endpoint'; });
  // Another site's decision under the same name: a valid token, for another fingerprint.
  const other = await visitor();
  await other.open();
  assert.equal(await other.run(config('adv-dup', (c) => { c.site = 'another-site'; })), true);
  await other.press('Accept all');
  const foreign = (await other.context.cookies()).find((c) => c.name === 'adv-dup').value;
  for (const stray of ['stale', '1.AAAA', foreign]) {
    const v = await visitor();
    await v.open();
    assert.equal(await v.run(cfg), true);
    await v.press('Accept all');
    const mine = (await v.context.cookies()).find((c) => c.name === 'adv-dup').value;
    await v.js((s) => { document.cookie = `adv-dup=${s}; Path=/site`; }, stray);
    assert.ok((await v.js(() => document.cookie)).startsWith(`adv-dup=${stray};`), 'the stray cookie comes first');
    await v.open({ body: SCRIPTS });
    assert.equal(await v.run(cfg), true);
    assert.equal(await v.bannerShown(), false, `${stray.slice(0, 12)}: the valid decision counts`);
    assert.equal(await v.api('acceptedCategory', 'analytics'), true);
    assert.deepEqual(await v.log(), ['ga', 'ads', 'necessary']);
    const before = posts().length;
    assert.equal(await v.api('acceptCategory', []), true);
    await until(() => posts().length > before, 'the decision to reach the endpoint');
    const body = JSON.parse(posts().at(-1).body);
    assert.equal(body.previous, mine, 'the token the decision continues is sent');
    assert.equal(consentIdOf(body.token), consentIdOf(mine), 'the same consent id');
  }
  // Only stray cookies: nothing granted.
  const w = await visitor();
  await w.open({ body: SCRIPTS });
  await w.js((s) => { document.cookie = 'adv-dup=stale; Path=/site'; document.cookie = `adv-dup=${s}; Path=/`; }, foreign);
  assert.equal(await w.run(cfg), true);
  assert.ok(await w.bannerShown());
  assert.equal(await w.api('acceptedCategory', 'analytics'), false);
  assert.deepEqual(await w.log(), ['necessary']);
});

/** A file of another banner's package (devDependencies here), served under /vendor/. */
function vendor(file) {
  const path = `/vendor/${file}`;
  routes.set(path, { type: 'text/javascript', body: readFileSync(join(here, 'node_modules', file)) });
  return path;
}

/** Loads a classic script into the page and waits for it. */
const loadScript = (v, src) => v.js((s) => new Promise((ok, fail) => {
  const e = document.createElement('script');
  e.src = s;
  e.onload = ok;
  e.onerror = () => fail(new Error(`${s} did not load`));
  document.head.append(e);
}), src);

/** vanilla-cookieconsent 3's run() with our categories, managing script tags (its default). */
const VANILLA_RUN = () => window.CookieConsent.run({
  categories: { necessary: { enabled: true, readOnly: true }, analytics: {}, marketing: {} },
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: { title: 'Theirs', acceptAllBtn: 'Theirs: accept', acceptNecessaryBtn: 'Theirs: reject' },
        preferencesModal: { sections: [] },
      },
    },
  },
});

// vanilla-cookieconsent reads the same markup (`script[data-category]`, whatever its type):
// a site moving between the two, or with it still in one template, has both on a page. Each
// gated script runs once, whichever revives it first. The script the banner revived kept
// `data-category`, so vanilla-cookieconsent started after it took it for one of its own and
// ran it a second time when the visitor accepted there (or at once, for its returning visitor).
bannerTest('beside vanilla-cookieconsent each gated script runs once, in either order', async (visitor) => {
  const cc = vendor('vanilla-cookieconsent/dist/cookieconsent.umd.js');
  // Ours first (a returning visitor's scripts run at start), theirs started after.
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('adv-vcc')), true);
  await v.press('Accept all');
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(config('adv-vcc')), true);
  assert.deepEqual(await v.log(), ['ga', 'ads', 'necessary']);
  await loadScript(v, cc);
  await v.js(VANILLA_RUN);
  await v.js(() => window.CookieConsent.acceptCategory('all'));
  await v.settle();
  assert.deepEqual(await v.log(), ['ga', 'ads', 'necessary'], 'nothing ran a second time');
  // Theirs first: accepted there, then ours decides.
  const w = await visitor();
  await w.open({ body: SCRIPTS });
  await loadScript(w, cc);
  await w.js(VANILLA_RUN);
  await w.js(() => window.CookieConsent.acceptCategory('all'));
  await w.waitFor(() => window.__log.length >= 3);
  assert.equal(await w.run(config('adv-vcc2')), true);
  assert.equal(await w.api('acceptCategory', 'all'), true);
  await w.settle();
  assert.deepEqual((await w.log()).sort(), ['ads', 'ga', 'necessary'], 'nothing ran a second time');
  assert.deepEqual(w.errors, []);
});

// ---- Decisions while scripts load -------------------------------------------------------

// An external script holds back the gated elements after it until it has loaded; a
// withdrawal made meanwhile (the visitor, or a script, rejecting right after accepting)
// takes them away: they were activated all the same when the script came, so analytics
// ran and an analytics embed loaded after the visitor had refused them.
bannerTest('what an external script held back is not activated after a withdrawal', async (visitor) => {
  const v = await visitor();
  await v.open({
    body: `<script type="text/plain" data-category="analytics" data-src="/log/adv-wd/slow.js?delay=600"></script>
    <script type="text/plain" data-category="analytics">window.__log.push('held')</script>
    <iframe data-category="analytics" data-src="about:blank#held" id="held"></iframe>
    <script type="text/plain" data-category="!analytics">window.__log.push('not-analytics')</script>`,
  });
  assert.equal(await v.run(config('adv-wd')), true);
  assert.equal(await v.js(() => window.Consent.acceptCategory('all') && window.Consent.acceptCategory([])), true);
  await v.waitFor(() => window.__log.includes('slow'));
  await v.settle();
  assert.deepEqual((await v.log()).sort(), ['not-analytics', 'slow'], 'nothing held back ran after the withdrawal');
  assert.equal(await v.js(() => document.getElementById('held').getAttribute('src')), null);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
});

// A decision made while a layer waits for its texts (the page's script deciding right after
// run, or a revived script, on a slow connection) closes that layer before it is drawn: the
// first layer appeared after the decision all the same, asking again and taking the focus,
// and so did preferences asked for just before a decision.
bannerTest('a decision made while the texts load is not followed by a layer asking again', async (visitor) => {
  const v = await visitor();
  // With the server's first layer on screen, which the banner's would have replaced.
  await v.open({ body: NOJS + SCRIPTS });
  let release;
  const held = new Promise((ok) => { release = ok; });
  await v.page.route('**/texts-*.json', async (route) => { await held; await route.continue(); });
  const policy = compiled(config('adv-late'));
  await v.js((p) => { window.__run = window.Consent.run(p); }, policy);
  await v.waitFor(() => !!document.querySelector('[data-consent-ui]:not([data-consent-nojs])'));
  assert.equal(await v.api('acceptCategory', 'all'), true);
  release();
  assert.equal(await v.js(() => window.__run), true);
  await v.settle();
  assert.equal(await v.bannerShown(), false, 'no first layer after the decision');
  assert.equal(await v.js(() => !!document.getElementById('nojs')), false, 'nor the server\'s');
  assert.deepEqual(await v.log(), ['necessary', 'ga', 'ads']);
  // The preferences, asked for and then overtaken by a decision before their texts came.
  await v.page.unroute('**/texts-*.json');
  let release2;
  const held2 = new Promise((ok) => { release2 = ok; });
  await v.page.route('**/details-*.json', async (route) => { await held2; await route.continue(); });
  await v.js(() => { window.Consent.showPreferences(); window.Consent.acceptCategory([]); });
  release2();
  await v.settle();
  assert.equal(await v.js(() => !!document.querySelector('.consent-prefs')), false, 'no preferences after the decision');
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
});

// Every other banner of the devDependencies on one page, started before ours (a site
// trying several, or one left in a template): ours starts, decides, keeps its cookie and
// its `window.Consent`, tells its events once, and each of its gated scripts runs once,
// whatever the others then decide; nothing on the page throws.
bannerTest('beside Osano cookieconsent, vanilla-cookieconsent, Orejime and tarteaucitron', async (visitor) => {
  for (const f of ['tarteaucitronjs/tarteaucitron.services.js', 'tarteaucitronjs/lang/tarteaucitron.en.js']) vendor(f);
  const others = ['cookieconsent/build/cookieconsent.min.js', 'vanilla-cookieconsent/dist/cookieconsent.umd.js',
    'orejime/dist/orejime-standard-en.js', 'tarteaucitronjs/tarteaucitron.js'].map(vendor);
  const v = await visitor();
  await v.open({
    body: `${SCRIPTS}<script type="text/plain" data-purpose="analytics">window.__log.push('orejime')</script>`,
    pre: `window.orejimeConfig = { privacyPolicyUrl: '/privacy', purposes: [{ id: 'analytics', title: 'Analytics', cookies: ['_ga'] }] };
      window.__events = [];
      for (const t of ['consent:first', 'consent:change']) window.addEventListener(t, () => window.__events.push(t));`,
  });
  for (const src of others) await loadScript(v, src);
  await v.js(VANILLA_RUN);
  await v.js(() => {
    window.cookieconsent.initialise({ type: 'opt-in' });
    window.tarteaucitron.init({ cookieName: 'tarteaucitron', highPrivacy: true, AcceptAllCta: true, mandatory: true, useExternalCss: true });
  });
  await v.waitFor(() => !!window.orejime?.manager);
  const policy = compiled(config('adv-all'));
  assert.equal(await v.run(config('adv-all')), true);
  assert.ok(await v.bannerShown());
  await v.press('Accept all');
  await v.waitFor(() => window.__log.includes('ads'));
  const ours = (await v.context.cookies()).find((c) => c.name === 'adv-all').value;
  // Theirs decide too.
  await v.js(() => {
    window.CookieConsent.acceptCategory('all');
    window.tarteaucitron.userInterface.respondAll(true);
    window.orejime.manager.setConsent('analytics', true);
  });
  await v.settle();
  const log = await v.log();
  for (const s of ['ga', 'ads', 'necessary']) assert.equal(log.filter((l) => l === s).length, 1, `${s} once: ${log}`);
  assert.equal((await v.context.cookies()).find((c) => c.name === 'adv-all').value, ours, 'our cookie is ours');
  assert.deepEqual(await v.js(() => window.__events), ['consent:first', 'consent:change']);
  assert.equal(await v.js(() => typeof window.Consent.acceptedCategory), 'function');
  assert.equal(await v.api('acceptedCategory', 'marketing'), true);
  assert.deepEqual(v.errors.filter((e) => e.startsWith('consent:')), []);
  // The next page: our decision holds, beside theirs.
  await v.open({ body: SCRIPTS });
  for (const src of others) await loadScript(v, src);
  await v.js(VANILLA_RUN);
  assert.equal(await v.js((p) => window.Consent.run(p), policy), true);
  await v.settle();
  assert.equal(await v.bannerShown(), false);
  const again = await v.log();
  for (const s of ['ga', 'ads', 'necessary']) assert.equal(again.filter((l) => l === s).length, 1, `${s} once: ${again}`);
});
