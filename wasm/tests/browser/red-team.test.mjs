// Red-team browser tests of the banner: the BUILT banner (wasm/dist) attacked as a hostile page
// and a clumsy site would, where banner.test.mjs and adversarial.test.mjs do not reach: the
// browser's own dictionaries and the core's answers read from a polluted Object.prototype, a
// page's own fetch, WebAssembly and document.cookie, texts of the wrong shape, two decisions
// at two paths, the script twice on a page, markup turned into addresses, Trusted Types,
// cookies with a secure prefix or on a parent domain, excluded paths as servers route them,
// another banner above ours, a phone's narrowest screen, the keyboard, texts of another
// revision than the policy's, a first layer drawn ahead of the core, and a page's own ids and
// cookies like the banner's. The server, pages
// and visitors are harness.mjs's; every wait is bounded.
//
//   node --test wasm/tests/browser/red-team.test.mjs      (from any directory)
//
// CONSENT_DIST, CHROMIUM and CONSENT_BIN: see harness.mjs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import {
  here,
  CHROMIUM,
  WAIT,
  routes,
  requests,
  compiled,
  config,
  addPage,
  until,
  bannerTest,
  SCRIPTS,
  origin,
  setEndpoint,
  STRICT_CSP,
  SETTLE,
  hits,
} from './harness.mjs';

/** Opens `path` and waits for the banner's first layer (or `sel`) without the harness's own
 * waits, which read `window.Consent` from the page. */
async function goto(v, path, sel = '[data-consent-ui]:not([data-consent-early]) .consent-banner button') {
  await v.page.goto(origin + path);
  await v.page.waitForSelector(sel, { timeout: WAIT });
}

/** Waits until the page's log holds `name`, asking with plain evaluations (no
 * waitForFunction, whose polling a polluted page breaks). */
async function logged(v, name) {
  const end = Date.now() + WAIT;
  while (!(await v.log()).includes(name)) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${name} in ${await v.log()}`);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

// ---- The browser's dictionaries, read from a polluted Object.prototype -----------------

// WebIDL reads a dictionary's members through the prototype chain: `fetch(url, {method})`
// reads `signal`, `cache`, `window`, `priority`; `observe(node, {childList})` reads
// `attributeFilter`; `addEventListener(t, f, {once})` reads `signal`. A page whose parser
// let `?__proto__[signal]=x` through made each of those throw a TypeError: the banner did not
// start, or a click decided and then threw before the layer closed and the scripts ran.
for (const key of ['signal', 'cache', 'priority', 'attributeFilter']) {
  bannerTest(`a polluted Object.prototype.${key} breaks no call the banner makes`, async (visitor) => {
    setEndpoint(() => ({ status: 500, json: { error: 'not signing in this test' } }));
    const v = await visitor();
    const cfg = config(`rt-dict-${key}`, (c) => { c.endpoint = '/consent-endpoint'; });
    const path = addPage({ body: SCRIPTS, config: cfg, pre: `Object.prototype[${JSON.stringify(key)}] = 'x';` });
    await goto(v, path);
    const posts = () => requests.filter((r) => r.method === 'POST' && r.path === '/consent-endpoint').length;
    const before = posts();
    await v.page.locator('.consent-banner button', { hasText: /^Accept all$/ }).click();
    await logged(v, 'ads');
    await until(() => posts() > before, 'the decision to reach the endpoint');
    assert.equal(await v.bannerShown(), false);
    assert.deepEqual(v.pageErrors, []);
  });
}

// ---- A page's own wrappers --------------------------------------------------------------

// A monitoring snippet's fetch wrapper that expects a string (`input.indexOf`), as many do:
// the banner started nothing and threw from its module; only what is gated was kept back,
// and nothing ran, not even the necessary.
bannerTest("a page's fetch wrapper that takes only strings does not stop the banner", async (visitor) => {
  const v = await visitor();
  const pre = `const f = window.fetch;
window.fetch = function (input, init) { if (input.indexOf('/track') === 0) return Promise.reject(new Error('no')); return f.call(this, input, init); };`;
  await goto(v, addPage({ body: SCRIPTS, config: config('rt-fetch'), pre, lang: 'en' }));
  assert.deepEqual(await v.log(), ['necessary']);
  await v.page.locator('.consent-banner button', { hasText: /^Accept all$/ }).click();
  await logged(v, 'ads');
  assert.deepEqual(v.pageErrors, []);
});

// A page (or an old polyfill) that took WebAssembly.instantiateStreaming away, or replaced it
// with one that throws at once: the banner loads the module the other way.
for (const [how, pre] of [
  ['missing', 'WebAssembly.instantiateStreaming = undefined;'],
  ['throwing', "WebAssembly.instantiateStreaming = () => { throw new TypeError('not here'); };"],
]) {
  bannerTest(`a WebAssembly.instantiateStreaming ${how} falls back, not thrown`, async (visitor) => {
    const v = await visitor();
    await goto(v, addPage({ body: SCRIPTS, config: config(`rt-wasm-${how}`), pre }));
    assert.deepEqual(await v.log(), ['necessary']);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(v.errors, []);
  });
}

// A page's instantiateStreaming that resolves to no instance at all: one console error, as
// a WebAssembly that did not load; it was an uncaught TypeError.
bannerTest('a WebAssembly.instantiateStreaming that gives no instance is one console error', async (visitor) => {
  const v = await visitor();
  await v.page.goto(origin + addPage({ body: SCRIPTS, config: config('rt-wasm-empty'), pre: 'WebAssembly.instantiateStreaming = async () => ({});' }));
  await until(() => v.errors.length + v.pageErrors.length >= 1, 'an error');
  // The module's response, never read, may never be reported finished: a fixed watch.
  await v.page.waitForTimeout(SETTLE);
  assert.deepEqual(v.pageErrors, []);
  assert.equal(v.errors.length, 1, `${v.errors}`);
  assert.ok(v.errors[0].includes('WebAssembly'), v.errors[0]);
  assert.deepEqual(await v.log(), [], 'nothing gated runs, as without the WebAssembly');
});

// A page's document.cookie that throws (a cookie blocker's setter; a getter too, as in a
// sandboxed document): the first layer is drawn and the visitor's decision holds for this
// page, stored nowhere, as where a setter drops the lines. The click threw, left the layer
// open and ran nothing; a throwing getter stopped the module before it started.
for (const [how, pre] of [
  ['setter', "const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie'); Object.defineProperty(document, 'cookie', { get() { return d.get.call(document); }, set() { throw new Error('blocked'); } });"],
  ['getter and setter', "Object.defineProperty(document, 'cookie', { get() { throw new Error('no cookies'); }, set() { throw new Error('blocked'); } });"],
]) {
  bannerTest(`a document.cookie ${how} that throws stores nothing and throws nothing`, async (visitor) => {
    const v = await visitor();
    await goto(v, addPage({ body: SCRIPTS, config: config(`rt-jar-${how.length}`), pre }));
    await v.page.locator('.consent-banner button', { hasText: /^Accept all$/ }).click();
    await logged(v, 'ads');
    await v.settle();
    assert.equal(await v.bannerShown(), false);
    assert.equal(await v.api('acceptedCategory', 'analytics'), true, 'for this page');
    assert.deepEqual((await v.context.cookies()).map((c) => c.name), [], 'nothing stored');
    assert.deepEqual(v.pageErrors, []);
  });
}

// ---- Texts of the wrong shape -----------------------------------------------------------

// A site whose server answers a missing texts file with some JSON of its own (a framework's
// `{"error": "not found"}`, with 200): the first layer cannot be drawn, said once; nothing is
// granted and nothing throws.
bannerTest('texts of the wrong shape are one console error, never an exception', async (visitor) => {
  for (const body of ['{"error":"not found"}', 'null', '[]']) {
    const v = await visitor();
    await v.page.route('**/texts-*.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
    const path = addPage({ body: SCRIPTS, config: config('rt-texts') });
    await v.page.goto(origin + path);
    await until(() => v.errors.length + v.pageErrors.length >= 1, 'an error');
    await v.settle();
    assert.deepEqual(v.pageErrors, [], body);
    assert.equal(v.errors.filter((e) => e.startsWith('consent:')).length, 1, `${body}: ${v.errors}`);
    assert.deepEqual(await v.log(), ['necessary'], body);
    assert.equal(await v.js(() => window.Consent.acceptedCategory('analytics')), false);
  }
});

// ---- Two decisions at two paths ---------------------------------------------------------

// A valid decision at a longer path (copied there by a sibling page, an older release without
// `Path`) is listed first by the browser: the visitor's later withdrawal, written at the
// policy's path, must count. The first valid one counted, so the withdrawal never took.
bannerTest('of two valid decisions at two paths, the later one counts', async (visitor) => {
  const v = await visitor();
  const cfg = config('rt-twopaths');
  await v.open();
  assert.equal(await v.run(cfg), true);
  await v.press('Accept all');
  const accepted = (await v.context.cookies()).find((c) => c.name === 'rt-twopaths').value;
  await v.js((s) => { document.cookie = `rt-twopaths=${s}; Path=/site`; }, accepted);
  // A second later, the visitor withdraws.
  await v.page.waitForTimeout(1100);
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(cfg), true);
  assert.equal(await v.api('acceptCategory', []), true);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(cfg), true);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false, 'the withdrawal holds');
  assert.deepEqual(await v.log(), ['no-ads', 'necessary']);
});

// ---- The script twice on one page -------------------------------------------------------

// A plugin and a theme that both include the banner (two URLs, so two module instances): one
// first layer, one placeholder, each gated script once.
bannerTest('the banner included twice draws one banner and runs each script once', async (visitor) => {
  const v = await visitor();
  const cfg = config('rt-twice');
  const path = addPage({ body: `${SCRIPTS}<iframe data-category="marketing" data-service="youtube" data-src="about:blank#yt"></iframe>`, config: cfg });
  const html = routes.get(path).body.replace(/(<script type="module" src="\/consent\/consent.js"[^>]*><\/script>)/,
    (tag) => `${tag}\n${tag.replace('consent.js"', 'consent.js?v=2"')}`);
  routes.set(path, { ...routes.get(path), body: html });
  await goto(v, path);
  await v.settle();
  assert.equal(await v.js(() => document.querySelectorAll('.consent-banner').length), 1, 'one first layer');
  assert.equal(await v.js(() => document.querySelectorAll('.consent-embed').length), 1, 'one placeholder');
  await v.page.locator('.consent-banner button', { hasText: /^Accept all$/ }).click();
  await v.settle();
  assert.deepEqual((await v.log()).sort(), ['ads', 'ga', 'necessary']);
  assert.equal(await v.js(() => document.querySelectorAll('.consent-banner').length), 0);
  assert.equal(await v.api('acceptedCategory', 'marketing'), true, 'window.Consent is the banner that decided');
  assert.deepEqual(v.pageErrors, []);
});

// ---- Markup turned into addresses -------------------------------------------------------

// Markup a visitor wrote (a comment, a CMS field) that kept its data-* attributes, as
// sanitisers do: the banner turns `data-src` into `src`, so a `javascript:` address there ran
// in the page's origin as the iframe loaded.
bannerTest('a javascript: address in data-src never runs', async (visitor) => {
  const v = await visitor();
  await v.open({
    body: `${SCRIPTS}<iframe data-category="necessary" data-src="javascript:parent.__log.push('xss1')"></iframe>
      <iframe data-category="analytics" data-src=" JaVa&#9;script:parent.__log.push('xss2')"></iframe>`,
  });
  assert.equal(await v.run(config('rt-js')), true);
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.settle();
  assert.deepEqual((await v.log()).filter((l) => l.startsWith('xss')), []);
});

// ---- A phone's narrowest screen ---------------------------------------------------------

// At 320x568 (the narrowest phone still sold), in each language, "Reject all" and "Accept all"
// are both on screen, the same size, and nothing of the first layer spills sideways.
bannerTest('the first layer fits a 320 px screen in Finnish, Swedish and English', async (visitor) => {
  for (const lang of ['fi', 'sv', 'en']) {
    const v = await visitor();
    await v.page.setViewportSize({ width: 320, height: 568 });
    await v.open({ lang, config: config('rt-320') });
    await v.page.waitForSelector('.consent-banner button');
    const got = await v.js(() => {
      const b = [...document.querySelectorAll('.consent-banner button')].map((e) => e.getBoundingClientRect());
      const layer = document.querySelector('.consent-banner').getBoundingClientRect();
      return {
        inside: b.slice(0, 2).every((r) => r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight),
        same: Math.abs(b[0].width - b[1].width) <= 2 && Math.abs(b[0].height - b[1].height) <= 2,
        layer: layer.left >= 0 && layer.right <= innerWidth,
        scroll: document.documentElement.scrollWidth <= innerWidth,
      };
    });
    assert.deepEqual(got, { inside: true, same: true, layer: true, scroll: true }, lang);
  }
});

// ---- The keyboard -----------------------------------------------------------------------

// Refusing is as easy as accepting: from the first layer, Tab reaches "Reject all" before
// "Accept all", and Enter refuses. Esc on the first layer grants and records nothing.
bannerTest('by keyboard, refusing takes no more keys than accepting; Esc grants nothing', async (visitor) => {
  const v = await visitor();
  await v.open({ body: SCRIPTS, config: config('rt-keys') });
  await v.page.waitForSelector('.consent-banner button');
  await v.page.keyboard.press('Escape');
  await v.settle();
  assert.equal(await v.js(() => document.cookie.includes('rt-keys=')), false);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  await v.js(() => document.querySelector('.consent-banner').focus());
  const order = [];
  for (let i = 0; i < 6 && !order.includes('Accept all'); i++) {
    await v.page.keyboard.press('Tab');
    order.push(await v.js(() => document.activeElement.textContent));
  }
  assert.ok(order.indexOf('Reject all') >= 0 && order.indexOf('Reject all') < order.indexOf('Accept all'), `${order}`);
  await v.js(() => document.querySelector('.consent-banner').focus());
  for (let i = 0; i <= order.indexOf('Reject all'); i++) await v.page.keyboard.press('Tab');
  await v.page.keyboard.press('Enter');
  await v.settle();
  assert.equal(await v.bannerShown(), false);
  assert.deepEqual(await v.log(), ['necessary', 'no-ads']);
  assert.ok(await v.js(() => document.cookie.includes('rt-keys=')));
});

// ---- The core's answers, read on a polluted page ----------------------------------------

// The core's answers are JSON objects, with Object.prototype: the members only some answers
// have (`error`, `unknown`) came from a polluted prototype when absent. A polluted `error`
// turned the banner off on every page; a polluted `unknown` made every decision fail, the
// visitor unable to refuse, and threw from the click.
for (const key of ['error', 'unknown']) {
  bannerTest(`a polluted Object.prototype.${key} is no answer of the core`, async (visitor) => {
    const v = await visitor();
    await goto(v, addPage({ body: SCRIPTS, config: config(`rt-answer-${key}`), pre: `Object.prototype[${JSON.stringify(key)}] = ['x'];` }));
    await v.page.locator('.consent-banner button', { hasText: /^Reject all$/ }).click();
    await logged(v, 'no-ads');
    await v.settle();
    assert.equal(await v.bannerShown(), false);
    assert.ok(await v.js((k) => document.cookie.includes(k), `rt-answer-${key}=`), 'the decision is stored');
    assert.equal(await v.api('acceptedCategory', 'analytics'), false);
    assert.deepEqual(v.errors, []);
  });
}

// ---- Withdrawal of prefixed cookies ------------------------------------------------------

// A cookie whose name has the `__Secure-` or `__Host-` prefix is set with `Secure`, and the
// browser refuses any line for it without: the deletion lines had none, so withdrawing (or
// resetting) left a declared `__Secure-` / `__Host-` cookie in place, the consent cookie named
// `__Host-...` too. (Chromium treats http://127.0.0.1 as secure for cookies, as https.)
bannerTest('withdrawal and reset delete __Secure- and __Host- cookies', async (visitor) => {
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  const cfg = config('__Host-rt', (c) => {
    const cookies = c.categories.find((x) => x.id === 'analytics').services[0].cookies;
    for (const name of ['__Secure-chat', '__Host-chat', '__Host-p*']) {
      cookies.push({ name, lifetime: '1d', description: { fi: 'x', sv: 'x', en: 'x' } });
    }
  });
  assert.equal(await v.run(cfg), true);
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.js(() => {
    for (const n of ['__Secure-chat', '__Host-chat', '__Host-pat']) document.cookie = `${n}=1; Secure; Path=/`;
    document.cookie = 'keep=1; Path=/';
  });
  const names = async () => (await v.context.cookies()).map((c) => c.name).sort();
  assert.deepEqual(await names(), ['__Host-chat', '__Host-pat', '__Host-rt', '__Secure-chat', 'keep']);
  assert.equal(await v.api('acceptCategory', []), true);
  assert.deepEqual(await names(), ['__Host-rt', 'keep'], 'the withdrawal deletes them');
  await v.api('reset');
  assert.deepEqual(await names(), ['keep'], 'reset deletes the consent cookie');
});

// ---- Trusted Types ------------------------------------------------------------------------

/** A strict CSP that also requires Trusted Types for every script sink. */
const TT_CSP = `${STRICT_CSP}; require-trusted-types-for 'script'`;

// A page that requires Trusted Types refuses a script's text or address set from a string:
// reviving the first gated script threw out of the banner's start, so no first layer was
// drawn and the visitor could not decide at all. The banner now starts and decides; what the
// page's policy refuses stays inert (the browser says so), and a page with a `default` policy
// gets its gated scripts run by it.
bannerTest('a page that requires Trusted Types still gets its banner and decisions', async (visitor) => {
  const v = await visitor();
  // External scripts: a strict CSP refuses inline ones anyway.
  const body = ['necessary', 'analytics', 'marketing']
    .map((c) => `<script type="text/plain" data-category="${c}" data-src="/log/rt-tt/${c}.js"></script>`).join('')
    + '<iframe data-category="marketing" data-service="youtube" data-src="about:blank#yt" id="yt"></iframe>';
  await goto(v, addPage({ body, config: config('rt-tt'), csp: TT_CSP }));
  await v.press('Accept all');
  await v.waitFor(() => !!document.getElementById('yt').getAttribute('src'));
  assert.equal(await v.bannerShown(), false);
  assert.ok(await v.js(() => document.cookie.includes('rt-tt=')), 'the decision is stored');
  assert.equal(await v.api('acceptedCategory', 'marketing'), true);
  assert.deepEqual(await v.log(), [], 'the page\'s policy refuses the scripts');
  assert.deepEqual(v.pageErrors, []);
  // The page's own default policy lets them through.
  const w = await visitor();
  const pre = "trustedTypes.createPolicy('default', { createScript: (s) => s, createScriptURL: (s) => s });";
  await goto(w, addPage({ body, config: config('rt-tt2'), csp: `${TT_CSP}; trusted-types default`, pre }));
  await w.press('Accept all');
  await w.waitFor(() => window.__log.includes('marketing'));
  assert.deepEqual(await w.log(), ['necessary', 'analytics', 'marketing']);
  assert.deepEqual(w.pageErrors, []);
});

// ---- A service's excluded paths, as servers route them ---------------------------------

// The example keeps the Facebook pixel off the booking page (`/ajanvaraus`: health data), even
// with consent. A static host answers `/ajanvaraus.html` with that page, and a Java server
// `/ajanvaraus;jsessionid=...`: the pixel loaded on both. A suffix after a dot or a
// semicolon is the excluded page too (excluding more, never less).
bannerTest("an excluded path's .html and ;parameters are excluded too", async (visitor) => {
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('rt-excl')), true);
  await v.press('Accept all');
  const pixel = '<script type="text/plain" data-category="marketing" data-service="facebook-pixel">window.__log.push("pixel")</script>';
  for (const [path, loads] of [['/ajanvaraus.html', false], ['/ajanvaraus;jsessionid=1', false], ['/en/booking.php', false],
    ['/ajanvaraus/vahvistus.html', false], ['/ajanvaraukset', true]]) {
    await v.open({ path, body: pixel });
    assert.equal(await v.run(config('rt-excl')), true);
    await v.settle();
    assert.deepEqual(await v.log(), loads ? ['pixel'] : [], path);
    assert.equal(await v.api('acceptedService', 'facebook-pixel'), loads, path);
  }
});

// ---- Withdrawal on a parent domain ------------------------------------------------------

// The other tests' pages are on 127.0.0.1, which has no parent domain: here a browser of its
// own maps www.example.test to this server, and cookies a tracker set on the parent domain
// (`Domain=example.test`), on the host's own domain and on the host alone are all withdrawn,
// the consent cookie and what is not declared kept.
test('withdrawal deletes declared cookies on the host and its parent domain', async () => {
  const port = new URL(origin).port;
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP *.example.test 127.0.0.1:${port}`],
  });
  try {
    const context = await b.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://www.example.test:${port}${addPage({ body: SCRIPTS })}`);
    await page.waitForFunction(() => typeof window.Consent?.run === 'function', null, { timeout: WAIT });
    assert.equal(await page.evaluate((p) => window.Consent.run(p), compiled(config('rt-dom'))), true);
    assert.equal(await page.evaluate(() => window.Consent.acceptCategory('all')), true);
    await page.evaluate(() => {
      document.cookie = '_ga=host; Path=/';
      document.cookie = '_ga=www; Path=/; Domain=www.example.test';
      document.cookie = '_ga=parent; Path=/; Domain=example.test';
      document.cookie = '_ga_X1=parent; Path=/; Domain=.example.test';
      document.cookie = '_fbp=parent; Path=/; Domain=example.test';
      document.cookie = 'keep=parent; Path=/; Domain=example.test';
    });
    const jar = async () => (await context.cookies()).map((c) => `${c.name}@${c.domain}`).sort();
    assert.equal((await jar()).length, 7);
    assert.equal(await page.evaluate(() => window.Consent.acceptCategory([])), true);
    assert.deepEqual(await jar(), ['keep@.example.test', 'rt-dom@www.example.test']);
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
  }
});

// ---- Another banner above ours ------------------------------------------------------------

/** A file of another banner's package (devDependencies here), served under /vendor/. */
function vendor(file) {
  const path = `/vendor/${file}`;
  routes.set(path, { type: file.endsWith('.css') ? 'text/css' : 'text/javascript', body: readFileSync(join(here, 'node_modules', file)) });
  return path;
}

// vanilla-cookieconsent, left in a template with its stylesheet, draws its sheet along the
// bottom of a phone at z-index 2147483647: ours, at 2147483000, was under it, and the
// visitor could reach neither "Reject all" nor "Accept all" of ours. At the same z-index the
// later of the two in the page is on top: ours, which is drawn once its module has loaded.
bannerTest("another banner's sheet at the highest z-index does not cover ours", async (visitor) => {
  const v = await visitor();
  await v.page.setViewportSize({ width: 360, height: 640 });
  await v.open({ body: SCRIPTS, styles: [vendor('vanilla-cookieconsent/dist/cookieconsent.css')] });
  await v.js((src) => new Promise((ok) => {
    const e = document.createElement('script');
    e.src = src;
    e.onload = ok;
    document.head.append(e);
  }), vendor('vanilla-cookieconsent/dist/cookieconsent.umd.js'));
  await v.js(() => window.CookieConsent.run({
    hideFromBots: false,
    categories: { necessary: { enabled: true, readOnly: true }, analytics: {} },
    language: { default: 'en', translations: { en: { consentModal: { title: 'Theirs', description: 'Their text.', acceptAllBtn: 'T accept', acceptNecessaryBtn: 'T reject' }, preferencesModal: { sections: [] } } } },
  }));
  await v.page.waitForSelector('#cc-main .cm__btn');
  assert.equal(await v.run(config('rt-z')), true);
  const hits = await v.js(() => [...document.querySelectorAll('.consent-banner button')].map((b) => {
    const r = b.getBoundingClientRect();
    return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === b;
  }));
  assert.deepEqual(hits, [true, true, true], 'each of our buttons is the one a tap reaches');
  await v.press('Reject all');
  assert.equal(await v.bannerShown(), false);
});

// ---- Texts of another revision than the policy's ------------------------------------------

// The banner draws texts-<lang>.json (details-<lang>.json too, with the preferences) from
// beside policy.bin, and the decision's token carries the policy's revision, by which the
// server records which texts the visitor was shown (C9). A texts file of another revision (a
// browser's or a CDN's cache that kept it past a new revision, a deploy half done) was drawn
// all the same: the record then claimed texts the visitor never saw.

/** One site at revisions 1 and 2: the same cookie, a first layer's title and a preferences'
 * description of each revision's own. */
const revisions = (cookie) => [1, 2].map((revision) => config(cookie, (c) => {
  c.revision = revision;
  c.texts = { en: { banner_title: `Revision ${revision}`, preferences_description: `Details of revision ${revision}` } };
}));

/** Serves under `/<dir>/` each file named in `files` (name: config) as `consent banner build`
 * wrote it for that config, with `headers`; the policy's address. */
function deploy(dir, files, headers = {}) {
  for (const [name, cfg] of Object.entries(files)) {
    routes.set(`/${dir}/${name}`, { ...routes.get(compiled(cfg).replace(/policy\.bin$/, name)), headers });
  }
  return `/${dir}/policy.bin`;
}

/** The first layer the banner drew (not a server-rendered one): its title. */
const drawnTitle = (v) => v.js(() => document.querySelector('[data-consent-ui]:not([data-consent-nojs]):not([data-consent-early]) .consent-banner .consent-title')?.textContent ?? null);

/** A visitor whose browser keeps revision 1's texts (under `/<dir>/`) for an hour, after a
 * first visit drew them; the site has then moved to revision 2. The visitor and the policy's
 * address. */
async function textsKeptPastRevision(visitor, dir) {
  const [one, two] = revisions(dir);
  const cached = { 'Cache-Control': 'max-age=3600' };
  const policy = deploy(dir, { 'policy.bin': one });
  deploy(dir, { 'texts-en.json': one }, cached);
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(policy), true);
  assert.equal(await drawnTitle(v), 'Revision 1');
  deploy(dir, { 'policy.bin': two });
  deploy(dir, { 'texts-en.json': two }, cached);
  return { v, policy };
}

// The browser keeps revision 1's texts for an hour; the site moves to revision 2. The banner
// sees the texts are not its policy's and asks for them once more, past the HTTP cache.
bannerTest('texts a cache kept past a new revision are asked for again, past the cache', async (visitor) => {
  const { v, policy } = await textsKeptPastRevision(visitor, 'rt-rev-cache');
  const before = hits('/rt-rev-cache/texts-en.json');
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(policy), true);
  assert.equal(await drawnTitle(v), 'Revision 2', 'the texts of the policy in force');
  assert.equal(hits('/rt-rev-cache/texts-en.json') - before, 1, 'asked for once more, past the cache');
  await v.press('Accept all');
  await logged(v, 'ads');
  assert.deepEqual(v.errors, []);
});

// The same cache, with the first layer drawn ahead of the core (its policy is slow to come):
// revision 1's texts are drawn at first, since nothing tells them apart before the core has
// started, but a click on them decides nothing; the core draws revision 2's in their place.
bannerTest('a click on a first layer drawn ahead in texts of another revision decides nothing', async (visitor) => {
  const { v, policy } = await textsKeptPastRevision(visitor, 'rt-rev-early');
  await v.open({ body: SCRIPTS });
  await v.js((p) => { window.__run = window.Consent.run(p); }, `${policy}?delay=1000`);
  const early = v.page.locator('[data-consent-early] .consent-banner');
  await early.locator('.consent-title', { hasText: 'Revision 1' }).waitFor();
  await v.press('Accept all');
  assert.equal(await v.js(() => window.__run), true);
  assert.equal(await drawnTitle(v), 'Revision 2', 'the texts of the policy in force, in its place');
  await v.settle();
  assert.deepEqual(await v.log(), ['necessary'], 'the click on the other revision decided nothing');
  assert.equal(await v.js(() => document.cookie), '');
  await v.press('Accept all');
  await logged(v, 'ads');
  assert.deepEqual(v.errors, []);
});

// The other way round: the browser keeps policy.bin of revision 1 for an hour, the site moves
// to revision 2, and a returning visitor opens the preferences within that hour. Revision 2's
// texts mean the policy is the stale one: it is asked for once more past the cache, and the
// banner starts again with it (revision 2 asks again). The preferences did not open for as
// long as the cache kept the policy: the visitor could not withdraw.
bannerTest('texts of a later revision than a cached policy renew the policy', async (visitor) => {
  const [one, two] = revisions('rt-rev-renew');
  const cached = { 'Cache-Control': 'max-age=3600' };
  const policy = deploy('rt-rev-renew', { 'policy.bin': one }, cached);
  deploy('rt-rev-renew', { 'texts-en.json': one, 'details-en.json': one });
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(policy), true);
  await v.press('Accept all');
  await logged(v, 'ads');
  deploy('rt-rev-renew', { 'policy.bin': two }, cached);
  deploy('rt-rev-renew', { 'texts-en.json': two, 'details-en.json': two });
  await v.open({ body: SCRIPTS });
  const before = hits('/rt-rev-renew/policy.bin');
  assert.equal(await v.run(policy), true);
  assert.equal(hits('/rt-rev-renew/policy.bin'), before, 'the policy came from the cache');
  assert.equal(await v.bannerShown(), false, 'revision 1 decided');
  await v.api('showPreferences');
  await v.waitFor(() => document.querySelector('[data-consent-ui] .consent-banner .consent-title')?.textContent === 'Revision 2');
  assert.equal(hits('/rt-rev-renew/policy.bin') - before, 1, 'asked for once more, past the cache');
  // Said for the texts (and the details, if they were asked for at once) of revision 2.
  assert.ok(v.errors.length >= 1 && v.errors.every((e) => /is not of revision 1$/.test(e)), `${v.errors}`);
  await v.press('Reject all');
  await v.settle();
  assert.equal((await v.api('getConsent'))?.revision, 2, 'decided under revision 2');
});

// A deploy half done: policy.bin of revision 2, texts of revision 1 even past the cache. The
// banner draws nothing (a first layer the server rendered stays, and works as a form), says so
// once, and nothing but the necessary runs.
bannerTest('texts of another revision than the policy are never drawn', async (visitor) => {
  const [one, two] = revisions('rt-rev-stale');
  const policy = deploy('rt-rev-stale', { 'policy.bin': two, 'texts-en.json': one });
  const v = await visitor();
  await v.open({ body: `${SCRIPTS}<div data-consent-nojs id="nojs"><form class="consent-banner"></form></div>` });
  assert.equal(await v.run(policy), true);
  await v.settle();
  assert.equal(await drawnTitle(v), null, 'no first layer drawn');
  assert.ok(await v.js(() => !!document.getElementById('nojs')), "the server's first layer stays");
  assert.deepEqual(await v.log(), ['necessary']);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  const asked = requests.filter((r) => r.method === 'GET' && r.path === '/rt-rev-stale/texts-en.json');
  assert.equal(asked.length, 2, 'asked for twice');
  assert.ok(asked[1].headers['cache-control'], 'the second time past the cache');
  assert.equal(v.errors.length, 1, `${v.errors}`);
  assert.match(v.errors[0], /^consent: .*texts-en\.json/);
  assert.deepEqual(v.pageErrors, []);
});

// The preferences' details of revision 1 beside revision 2's policy and texts: the preferences
// do not open (said once); the first layer stays and decides.
bannerTest("the preferences' details of another revision are never drawn", async (visitor) => {
  const [one, two] = revisions('rt-rev-details');
  const policy = deploy('rt-rev-details', { 'policy.bin': two, 'texts-en.json': two, 'details-en.json': one });
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(policy), true);
  // Opened by the API: a pointer on "Settings" starts loading them ahead, and the click asks
  // again if that failed first, so the count would depend on timing.
  await v.api('showPreferences');
  await v.settle();
  assert.equal(await v.js(() => document.querySelectorAll('.consent-prefs').length), 0, 'no preferences drawn');
  assert.equal(await drawnTitle(v), 'Revision 2', 'the first layer stays');
  assert.equal(hits('/rt-rev-details/details-en.json'), 2, 'asked for twice');
  assert.equal(v.errors.length, 1, `${v.errors}`);
  assert.match(v.errors[0], /^consent: .*details-en\.json/);
  await v.press('Reject all');
  await logged(v, 'no-ads');
  assert.deepEqual(await v.log(), ['necessary', 'no-ads']);
});

// ---- A first layer drawn ahead of the core ------------------------------------------------

/** Starts the banner with `policy` from the page, its policy `delay` ms slow, so that the first
 * layer is drawn ahead of the core; waits for that layer. */
async function runSlow(v, policy, delay = 1000) {
  await v.js(([p, d]) => { window.__run = window.Consent.run(`${p}?delay=${d}`); }, [policy, delay]);
  await v.page.locator('[data-consent-early] .consent-banner button').first().waitFor();
}

// Texts with markup in them (a translator's `<b>`, a pasted snippet) are drawn as text, ahead
// of the core and by it alike: no element of theirs, nothing of theirs runs.
bannerTest('markup in the texts is drawn as text on a first layer drawn ahead of the core', async (visitor) => {
  const title = '<img src=x onerror="window.__log.push(\'xss\')">';
  const policy = compiled(config('rt-early-html', (c) => { c.texts = { en: { banner_title: title, banner_description: '<b>bold</b>' } }; }));
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  await runSlow(v, policy);
  const drawn = () => v.js(() => {
    const b = document.querySelector('[data-consent-ui] .consent-banner');
    return [b.querySelector('.consent-title').textContent, b.querySelector('.consent-desc').textContent, b.querySelectorAll('img, b').length];
  });
  assert.deepEqual(await drawn(), [title, '<b>bold</b>', 0], 'ahead of the core');
  assert.equal(await v.js(() => window.__run), true);
  assert.deepEqual(await drawn(), [title, '<b>bold</b>', 0], 'kept by the core');
  await v.settle();
  assert.deepEqual(await v.log(), ['necessary']);
});

// A click on a first layer drawn ahead of a policy that then proves damaged (cut short by a
// proxy) grants nothing: the layer goes, nothing is stored, only the necessary runs.
bannerTest('a click on a first layer drawn ahead of a damaged policy grants nothing', async (visitor) => {
  const good = compiled(config('rt-early-cut'));
  routes.set('/rt-early-cut/texts-en.json', routes.get(good.replace(/policy\.bin$/, 'texts-en.json')));
  const bytes = routes.get(good).body;
  routes.set('/rt-early-cut/policy.bin', { type: 'application/octet-stream', body: bytes.subarray(0, bytes.length >> 1) });
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  await runSlow(v, '/rt-early-cut/policy.bin');
  await v.press('Accept all');
  assert.equal(await v.js(() => window.__run), false);
  await v.settle();
  assert.equal(await v.js(() => document.querySelectorAll('[data-consent-ui]').length), 0, 'no layer left');
  assert.equal(await v.js(() => document.cookie), '');
  assert.deepEqual(await v.log(), ['necessary']);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  assert.equal(v.errors.filter((e) => e.startsWith('consent:')).length, 1, `${v.errors}`);
});

// The page starts the banner again (another policy: a site's region switch) while a click on
// the first run's early layer waits: that click was made on the other policy's layer, and the
// second run's core does not follow it.
bannerTest("a click on an earlier run's first layer drawn ahead is not followed by a later run", async (visitor) => {
  const a = compiled(config('rt-early-a'));
  const b = compiled(config('rt-early-b'));
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  await runSlow(v, a);
  await v.press('Accept all');
  await v.js((p) => { window.__run2 = window.Consent.run(p); }, b);
  assert.equal(await v.js(() => window.__run2), true);
  assert.equal(await v.js(() => window.__run), false, 'the earlier run changes nothing');
  await v.settle();
  assert.equal(await v.bannerShown(), true, 'the later run asks');
  assert.equal(await v.js(() => document.cookie), '');
  assert.deepEqual(await v.log(), ['necessary']);
});

// "Reject all", then "Accept all", both before the core has started: one decision (the last
// click), one record, never two.
bannerTest('two clicks on a first layer drawn ahead make one decision, the last', async (visitor) => {
  const bodies = [];
  setEndpoint((body) => { bodies.push(body); return { status: 500, json: { error: 'not signing in this test' } }; });
  const policy = compiled(config('rt-early-two', (c) => { c.endpoint = '/consent-endpoint'; }));
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  await runSlow(v, policy);
  await v.press('Reject all');
  await v.press('Accept all');
  assert.equal(await v.js(() => window.__run), true);
  await logged(v, 'ads');
  await v.settle();
  assert.equal(bodies.length, 1, 'one record');
  assert.deepEqual((await v.log()).sort(), ['ads', 'ga', 'necessary']);
  assert.equal(await v.bannerShown(), false);
});

// ---- Other scripts and banners on the page ------------------------------------------------

// A site's own form with an element of id `consent-desc` (a newsletter's consent line), before
// the banner in the page: the first layer's aria-describedby named that id, and a screen
// reader read the newsletter's line as the cookie dialog's description, ahead of the core and
// after it, and after a change of language.
bannerTest("a page's own #consent-desc does not describe the banner's first layer", async (visitor) => {
  const form = '<form><input type="checkbox" aria-describedby="consent-desc"><p id="consent-desc">Send me the newsletter.</p></form>';
  const v = await visitor();
  await v.open({ body: form + SCRIPTS });
  const described = () => v.js(() => {
    const b = document.querySelector('[data-consent-ui] .consent-banner');
    return document.getElementById(b.getAttribute('aria-describedby')) === b.querySelector('.consent-desc');
  });
  await runSlow(v, compiled(config('rt-ids')));
  assert.equal(await described(), true, 'ahead of the core');
  assert.equal(await v.js(() => window.__run), true);
  assert.equal(await described(), true, 'the core\'s');
  assert.equal(await v.api('setLanguage', 'fi'), true);
  await v.waitFor(() => document.querySelector('.consent-banner')?.lang === 'fi');
  assert.equal(await described(), true, 'redrawn in another language');
  assert.equal(await v.js(() => document.getElementById('consent-desc').textContent), 'Send me the newsletter.', "the page's element keeps its id");
});

// The same for the preferences: a page's own `#consent-ptitle` (a heading of its own) and
// `#consent-cat-analytics` (a form's checkbox), before the banner in the page. The dialog's
// aria-labelledby and the analytics switch's label named those ids, so the dialog took the
// page's heading as its name, and the label named the page's checkbox (a click on it ticked
// that one) while our switch had no name. Drawn ahead of a language switch and after it.
bannerTest("a page's own #consent-ptitle and #consent-cat-analytics do not name the preferences' dialog and switch", async (visitor) => {
  const page = '<h2 id="consent-ptitle">Our newsletter</h2><input type="checkbox" id="consent-cat-analytics" aria-label="Page box">';
  const v = await visitor();
  await v.open({ body: page + SCRIPTS, config: config('rt-pids') });
  const named = () => v.js(() => {
    const d = document.querySelector('.consent-prefs');
    const switches = [...d.querySelectorAll('.consent-switch')];
    return [
      document.getElementById(d.getAttribute('aria-labelledby')) === d.querySelector('.consent-title'),
      switches.length > 1 && switches.every((s) => s.labels.length === 1 && s.labels[0].closest('.consent-cat-head') === s.parentNode),
      document.getElementById('consent-cat-analytics').labels.length,
    ];
  });
  await v.api('showPreferences');
  for (const lang of ['en', 'fi']) {
    if (lang !== 'en') await v.api('setLanguage', lang);
    await v.page.locator(`.consent-prefs[lang="${lang}"] .consent-switch`).first().waitFor();
    assert.deepEqual(await named(), [true, true, 0], lang);
  }
  const title = await v.js(() => document.querySelector('.consent-prefs .consent-title').textContent);
  await v.page.getByRole('dialog', { name: title, exact: true }).waitFor();
  const label = await v.js(() => document.querySelector('.consent-prefs .consent-switch:not([disabled])').labels[0].textContent);
  await v.page.locator('.consent-prefs').getByRole('switch', { name: label, exact: true }).click();
  assert.equal(await v.js(() => document.getElementById('consent-cat-analytics').checked), false, "the page's box is not ticked");
  assert.deepEqual(await v.js(() => [...document.querySelectorAll('#consent-ptitle, #consent-cat-analytics')].map((e) => e.closest('#t') !== null)), [true, true], "the page's elements keep their ids");
});

// Another banner that stores its own choice under the same cookie name, as JSON (a generic
// `consent`): no decision of ours, so the first layer asks, and nothing is granted by it.
bannerTest("another banner's cookie of the same name is no decision", async (visitor) => {
  const v = await visitor();
  const pre = `document.cookie = 'rt-same=' + encodeURIComponent('{"analytics":true,"marketing":true}') + '; Path=/';`;
  await goto(v, addPage({ body: SCRIPTS, config: config('rt-same'), pre }));
  await v.settle();
  assert.equal(await v.bannerShown(), true);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  assert.deepEqual(await v.log(), ['necessary']);
  // Our own decision, copied by another script under names like ours: still no decision.
  await v.press('Accept all');
  await logged(v, 'ads');
  await v.js(() => {
    const value = document.cookie.match(/(?:^|; )rt-same=([^;]*)/)[1];
    document.cookie = 'rt-same=; Path=/; Max-Age=0';
    for (const name of ['RT-SAME', 'rt-same2', 'xrt-same', 'rt-same.']) document.cookie = `${name}=${value}; Path=/`;
  });
  await goto(v, addPage({ body: SCRIPTS, config: config('rt-same') }));
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  assert.deepEqual(await v.log(), ['necessary']);
});

// ---- Texts of a later revision renew a cached policy ----------------------------------------

// A first visit whose browser keeps policy.bin of revision 1 while the texts are of revision
// 2: the banner asks for the policy again past the cache and then starts again with it. The
// page meanwhile started the banner with another policy (`Consent.run`: the latest call wins):
// the renewal started the first policy again over it, and took the later run's first layer away.
bannerTest("a renewed policy does not start again over a later Consent.run", async (visitor) => {
  const [one, two] = revisions('rt-renew-race');
  deploy('rt-renew-race', { 'policy.bin': one, 'texts-en.json': two });
  const other = compiled(config('rt-renew-other', (c) => { c.texts = { en: { banner_title: 'The other policy' } }; }));
  const v = await visitor();
  let asked = 0;
  let renewal;
  const held = new Promise((ok) => { renewal = ok; });
  let release;
  const go = new Promise((ok) => { release = ok; });
  await v.page.route('**/rt-renew-race/policy.bin', async (route) => {
    if (++asked === 2) {
      renewal();
      await go;
    }
    await route.continue().catch(() => {});
  });
  await v.open({ body: SCRIPTS });
  await v.js(() => { window.Consent.run('/rt-renew-race/policy.bin'); });
  await held;
  assert.equal(await v.run(other), true);
  assert.equal(await drawnTitle(v), 'The other policy');
  release();
  // The renewal's answer is never read, so never reported finished: a fixed watch.
  await v.page.waitForTimeout(SETTLE);
  assert.equal(asked, 2, 'the first policy is not loaded again to start over the later run');
  assert.equal(await drawnTitle(v), 'The other policy', "the later run's first layer stays");
  await v.press('Accept all');
  await logged(v, 'ads');
  assert.match(await v.js(() => document.cookie), /rt-renew-other=/);
  assert.deepEqual(v.pageErrors, []);
});

// A policy.bin that stays of revision 1 even past the cache (a CDN's edge that answers the
// revalidation from its own stale copy) beside texts of revision 2: the banner asks for the
// policy past the cache and starts again once, then stops (no first layer: a texts file of
// another revision is never drawn); it never asks, and starts, again and again.
bannerTest('a policy that stays older than its texts is renewed once, never in a loop', async (visitor) => {
  const [one, two] = revisions('rt-renew-loop');
  deploy('rt-renew-loop', { 'policy.bin': one, 'texts-en.json': two });
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  await v.js(() => { window.__run = window.Consent.run('/rt-renew-loop/policy.bin'); });
  await until(() => hits('/rt-renew-loop/policy.bin') >= 3, 'the policy loaded for the restart');
  await v.page.waitForTimeout(2 * SETTLE);
  assert.equal(hits('/rt-renew-loop/policy.bin'), 3, 'loaded, renewed and loaded once more: no more');
  assert.equal(await drawnTitle(v), null, 'no first layer of another revision');
  assert.deepEqual(await v.log(), ['necessary']);
  assert.equal(await v.js(() => document.cookie), '');
  assert.deepEqual(v.pageErrors, []);
});

// ---- The name window.Consent --------------------------------------------------------------

// Another script holds `window.Consent` as an accessor whose setter does nothing: the
// assignment neither takes nor throws, and the banner said nothing while window.Consent was
// not it (adversarial.test.mjs has the getter without a setter and the read-only value).
bannerTest('a window.Consent whose setter does nothing is said to be taken', async (visitor) => {
  const v = await visitor();
  const pre = "Object.defineProperty(window, 'Consent', { get() { return 1; }, set(v) {}, configurable: false });";
  await goto(v, addPage({ body: SCRIPTS, config: config('rt-name-setter'), pre }));
  await v.settle();
  assert.deepEqual(v.errors, ['consent: window.Consent is taken by another script']);
  assert.equal(await v.js(() => window.Consent), 1, 'theirs is left alone');
  await v.page.locator('.consent-banner button', { hasText: /^Accept all$/ }).click();
  await logged(v, 'ads');
  assert.deepEqual(v.pageErrors, []);
});

// ---- Focus ------------------------------------------------------------------------------

// An embed's placeholder holds the focus (a keyboard visitor tabbed to its button) and goes
// as a decision allows the embed: the focus went with it, to the page's <body>, so the next
// Tab started over from the top of the page. Pressing the placeholder's own button, and a
// decision in the preferences opened while the focus was on it (the focus returns there as
// they close).
bannerTest("a placeholder that goes as its embed is allowed leaves the focus on the embed", async (visitor) => {
  const body = `${SCRIPTS}<a href="#x" id="before">before</a><iframe data-category="marketing" data-service="youtube" data-src="about:blank#yt" id="yt" title="video"></iframe>`;
  for (const how of ['placeholder', 'preferences']) {
    const v = await visitor();
    await v.open({ body, config: config(`rt-focus-${how}`) });
    await v.press('Reject all');
    const allow = v.page.locator('.consent-embed button');
    await allow.focus();
    if (how === 'placeholder') {
      await v.page.keyboard.press('Enter');
    } else {
      await v.api('showPreferences');
      await v.page.locator('.consent-prefs button', { hasText: /^Accept all$/ }).click();
    }
    await v.waitFor(() => document.getElementById('yt').getAttribute('src') === 'about:blank#yt');
    assert.deepEqual(await v.js(() => [document.activeElement.localName, document.activeElement.id, document.activeElement.isConnected]),
      ['iframe', 'yt', true], how);
  }
});

// ---- axe ---------------------------------------------------------------------------------

// A first visit draws its first layer from the texts fetched ahead, before the WebAssembly has
// started (on a phone, the slowest step): that layer is what a visitor first meets, and axe
// had never checked it (tests/e2e's C12 checks the core's).
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
bannerTest('axe finds no violation in the first layer drawn ahead of the core', async (visitor) => {
  // In each language; on a desktop, and on a phone with Global Privacy Control (its notice).
  for (const [lang, gpc] of [['en', false], ['fi', false], ['sv', false], ['en', true]]) {
    const v = await visitor({ gpc });
    if (gpc) await v.page.setViewportSize({ width: 375, height: 667 });
    let release;
    const held = new Promise((ok) => { release = ok; });
    await v.page.route('**/consent_bg.wasm', async (route) => {
      await held;
      await route.continue().catch(() => {});
    });
    await goto(v, addPage({ body: `<main><h1>Page</h1>${SCRIPTS}</main>`, config: config('rt-axe-early'), lang }),
      '[data-consent-early] .consent-banner button');
    if (gpc) await v.page.locator('[data-consent-early] .consent-gpc').waitFor();
    // Its entry animation over: axe reads the colours and boxes as they stay.
    await v.page.locator('[data-consent-early] .consent-banner').evaluate((b) => Promise.all(b.getAnimations().map((a) => a.finished)));
    await v.page.evaluate(axeSource);
    const result = await v.page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const found = result.violations.map((x) => `${x.id} (${x.impact}): ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.ok(await v.js(() => !!document.querySelector('[data-consent-early]')), `${lang}: still the layer drawn ahead`);
    assert.deepEqual(found, [], `${lang}${gpc ? ' (phone, GPC)' : ''}: axe violations`);
    release();
    await v.page.waitForSelector('[data-consent-ui]:not([data-consent-early]) .consent-banner button');
  }
});
