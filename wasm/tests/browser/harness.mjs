// The browser tests' harness, shared by banner.test.mjs and adversarial.test.mjs: a small
// HTTP server on an ephemeral loopback port serving wasm/dist under /consent/, pages generated
// per test, scripts that record that they ran (window.__log, and a request count on the
// server), and a fake decision endpoint (`setEndpoint`); one browser per test file, a new
// context (no cookies) per visitor. Every wait is bounded. Importing it registers the file's
// `before` and `after` hooks.
//
// CONSENT_DIST=dir tests the build in dir instead of wasm/dist; CHROMIUM=path another browser;
// CONSENT_BIN=path the `consent` command that compiles each test's config (default: the
// workspace's target/debug/consent, which scripts/test-wasm.sh builds).
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

export const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../../..');
/** The built banner; CONSENT_DIST tests another build of it. */
export const dist = resolve(process.env.CONSENT_DIST ?? join(root, 'wasm/dist'));
export const EXAMPLE_CONFIG = readFileSync(join(root, 'core/src/example_config.json'), 'utf8');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CONSENT_BIN = process.env.CONSENT_BIN ?? join(root, 'target/debug/consent');
/** The bound on every wait, in milliseconds. */
export const WAIT = 5_000;
/**
 * How long a test watches for something that must NOT happen (a second run, a late script, a
 * stale answer stored). There is no event for "nothing happened", so `settle()` first waits
 * for what could still cause it (every request of the page answered, two frames painted) and
 * then watches this long: twice the 300 ms by which a delayed second activation would have to
 * come to be seen on a slow machine, where the old fixed 150 ms missed it.
 */
export const SETTLE = 600;
/** What wasm/tests/csp/serve.py sends: no inline script or style, WebAssembly allowed. */
export const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
  + "img-src 'self' data:; frame-src 'self'";
/** The fake endpoint's key: it signs tokens as consent-server does (core/src/runtime/token.rs). */
export const SIGNING_KEY = Buffer.from('banner-browser-tests-signing-key-not-a-secret');

// ---- The server -------------------------------------------------------------------------

export const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.ts': 'text/plain' };
/** Generated pages and scripts by path: `{body, type, headers}`. */
export const routes = new Map();
/** Every request the server got: `{method, path, search, headers, body}`. */
export const requests = [];
/** What POST /consent-endpoint answers by default: an error. */
export const NO_ENDPOINT = () => ({ status: 500, json: { error: 'no endpoint in this test' } });
/** What POST /consent-endpoint answers, given the parsed body; set per test. */
export let endpointAnswer = NO_ENDPOINT;
export let server, origin, browser;

/** Loaded first by every page: the order log and a CSP violation recorder. */
export const SETUP_JS = `window.__log = [];
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
`;

/** A token signed as core/src/runtime/token.rs signs it: `1.<payload>.<tag>`, the tag being the first
 * 128 bits of HMAC-SHA-256 over the text `1.<payload>`, base64url without padding. */
export function sign(token) {
  const tag = createHmac('sha256', SIGNING_KEY).update(token).digest().subarray(0, 16);
  return `${token}.${tag.toString('base64url')}`;
}

/** `token` (unsigned, `1.<payload>`) with its last decision time `secs` seconds later, as
 * consent-server re-times a decision to its own clock (`ConsentState::at`): the payload is
 * the id (16 bytes), then the first decision time and last minus first as LEB128 varints,
 * then the rest (core/src/runtime/token.rs). */
export function retime(token, secs) {
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
export function reid(token, byte) {
  const bytes = Buffer.from(token.slice(2), 'base64url');
  bytes.fill(byte, 0, 16);
  return `1.${bytes.toString('base64url')}`;
}

/** The consent id of a token: the payload's first 16 bytes, as hex. */
export function consentIdOf(token) {
  return Buffer.from(token.split('.')[1], 'base64url').subarray(0, 16).toString('hex');
}

export function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

export async function handle(req, res) {
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
export const hits = (path) => requests.filter((r) => r.method === 'GET' && r.path === path).length;

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

export let pageCount = 0;
/** Compiled policies by config text: the address of their policy.bin. */
export const policies = new Map();

/**
 * The address of `cfg`'s compiled policy, served with its texts under /p/<n>/: compiled by
 * `consent banner build`, as a site does. A config that does not compile fails the test with
 * the command's message.
 */
export function compiled(cfg) {
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
export function config(cookie, edit = () => {}) {
  const c = JSON.parse(EXAMPLE_CONFIG);
  c.cookie.name = cookie;
  delete c.endpoint;
  edit(c);
  return c;
}

export const attrEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

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
export function addPage({ body = '', lang = 'en', config: inline, dataset = {}, pre, csp, path, styles = [] } = {}) {
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
export async function press(page, text) {
  const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator('[data-consent-ui] button, .consent-embed button').filter({ hasText: exact })
    .click({ timeout: WAIT });
}

/** Polls `check` (in Node) until it is true, for at most WAIT ms. */
export async function until(check, what) {
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
export async function newVisitor({ locale = 'en-US', gpc = false } = {}) {
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
        await page.waitForSelector('[data-consent-ui]:not([data-consent-nojs]):not([data-consent-early])', { state: 'attached' });
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
export function bannerTest(name, fn) {
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
export const SCRIPTS = `
  <script type="text/plain" data-category="analytics" data-service="ga" id="ga1" data-extra="kept">window.__log.push('ga')</script>
  <script type="text/plain" data-category="marketing">window.__log.push('ads')</script>
  <script type="text/plain" data-category="!marketing">window.__log.push('no-ads')</script>
  <script type="text/plain" data-category="necessary">window.__log.push('necessary')</script>`;

/** What the fake decision endpoint answers, until the next test starts. */
export function setEndpoint(answer) {
  endpointAnswer = answer;
}
