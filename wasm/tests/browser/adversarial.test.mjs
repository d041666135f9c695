// Adversarial browser tests of the banner: the BUILT banner (wasm/dist) on messy pages and
// under abuse of its API, beside other banners' JavaScript, with hostile cookies and a
// polluted page. The server, pages and visitors are harness.mjs's; every server listens on
// 127.0.0.1 only and every wait is bounded.
//
//   node --test wasm/tests/browser/adversarial.test.mjs      (from any directory)
//
// CONSENT_DIST, CHROMIUM and CONSENT_BIN: see harness.mjs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  here,
  WAIT,
  SETTLE,
  routes,
  requests,
  consentIdOf,
  hits,
  compiled,
  config,
  addPage,
  until,
  bannerTest,
  SCRIPTS,
  origin,
  setEndpoint,
} from './harness.mjs';

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

/** The names of the banner's own state: its fields as written (`layer_`, `unpad_`, `float_`)
 * and as the build shortens them (single letters), and its texts by file. */
const STATE_NAMES = JSON.stringify(['options_', 'layer_', 'unpad_', 'float_', 'opener_', 'texts_', 'watch_',
  'texts-en.json', 'details-en.json', ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$_']);

// The banner's state and its texts by file have no prototype: a polluted Object.prototype
// lent them a field not set yet (a padding to undo, a floating button) or a texts file not
// loaded yet, strings there, and the first layer was never drawn. Playwright's own script in
// the page reads some of those names too, so while the page is polluted the test only clicks
// and waits from playwright's isolated world, and passes nothing in or out of the page's.
bannerTest('a polluted Object.prototype leaves the layers and decisions working', async (visitor) => {
  const v = await visitor();
  await v.open({
    body: `${SCRIPTS}<iframe data-category="marketing" data-service="youtube" data-src="about:blank#yt" id="yt"></iframe>`,
  });
  // By the page's own parser, before it starts the banner.
  await v.page.evaluate(`for (const k of ${STATE_NAMES}) Object.prototype[k] = 'polluted';
    window.__run = window.Consent.run(${JSON.stringify(compiled(config('adv-state')))}); 0`);
  await v.page.locator('.consent-banner button').first().waitFor();
  await v.page.locator('.consent-embed p').waitFor();
  await v.press('Settings');
  await v.page.locator('.consent-prefs .consent-switch').first().waitFor();
  await v.page.click('#consent-cat-analytics');
  await v.press('Save choices');
  await v.page.locator('.consent-prefs').waitFor({ state: 'detached' });
  // Another language: the floating button, which this page has not, is not labelled.
  await Promise.all([v.page.waitForResponse(/texts-fi\.json/), v.page.evaluate("window.Consent.setLanguage('fi'); 0")]);
  await v.page.waitForTimeout(SETTLE);
  await v.page.evaluate(`for (const k of ${STATE_NAMES}) delete Object.prototype[k]; 0`);
  await v.settle();
  assert.equal(await v.js(() => window.__run), true);
  assert.equal(await v.bannerShown(), false);
  assert.deepEqual(await v.log(), ['necessary', 'ga', 'no-ads']);
  assert.equal(await v.api('acceptedCategory', 'analytics'), true);
  assert.equal(await v.js(() => document.getElementById('yt').getAttribute('src')), null);
  assert.deepEqual(v.errors, []);
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
  // Said by consent-extra.js, which fills the declarations: once it has loaded.
  await until(() => v.warnings.some((w) => w.startsWith('consent:') && w.includes('http://[')), () => JSON.stringify(v.warnings));
  assert.equal(await v.js(() => document.getElementById('bad').innerHTML), 'keep');
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
  // Neither "all", an id nor a list: refused, and said.
  assert.equal(await v.js(() => window.Consent.acceptCategory(42)), false);
  await until(() => v.errors.length >= 4, 'the console error');
  assert.match(v.errors[3], /^consent: acceptCategory: expected "all", a category id or a list of them, got 42/);
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
  setEndpoint(() => ({ status: 500, json: { error: 'not signing in this test' } }));
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
  await v.waitFor(() => !!document.querySelector('[data-consent-ui]:not([data-consent-nojs]):not([data-consent-early])'));
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
bannerTest('beside Osano cookieconsent, vanilla-cookieconsent, Orejime, tarteaucitron and Klaro', async (visitor) => {
  for (const f of ['tarteaucitronjs/tarteaucitron.services.js', 'tarteaucitronjs/lang/tarteaucitron.en.js']) vendor(f);
  const others = ['cookieconsent/build/cookieconsent.min.js', 'vanilla-cookieconsent/dist/cookieconsent.umd.js',
    'orejime/dist/orejime-standard-en.js', 'tarteaucitronjs/tarteaucitron.js', 'klaro/dist/klaro.js'].map(vendor);
  const v = await visitor();
  await v.open({
    body: `${SCRIPTS}<script type="text/plain" data-purpose="analytics">window.__log.push('orejime')</script>
      <script type="text/plain" data-type="text/javascript" data-name="klaro-ga">window.__log.push('klaro')</script>`,
    pre: `window.orejimeConfig = { privacyPolicyUrl: '/privacy', purposes: [{ id: 'analytics', title: 'Analytics', cookies: ['_ga'] }] };
      window.klaroConfig = { storageMethod: 'cookie', cookieName: 'klaro', services: [{ name: 'klaro-ga', purposes: ['analytics'], cookies: ['_ga'] }] };
      window.__events = [];
      for (const t of ['consent:first', 'consent:change']) window.addEventListener(t, () => window.__events.push(t));`,
  });
  for (const src of others) await loadScript(v, src);
  await v.js(VANILLA_RUN);
  await v.js(() => {
    window.cookieconsent.initialise({ type: 'opt-in' });
    window.tarteaucitron.init({ cookieName: 'tarteaucitron', highPrivacy: true, AcceptAllCta: true, mandatory: true, useExternalCss: true });
  });
  await v.waitFor(() => !!window.orejime?.manager && !!window.klaro?.getManager);
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
    const klaro = window.klaro.getManager();
    klaro.changeAll(true);
    klaro.saveAndApplyConsents();
  });
  await v.settle();
  const log = await v.log();
  for (const s of ['ga', 'ads', 'necessary']) assert.equal(log.filter((l) => l === s).length, 1, `${s} once: ${log}`);
  assert.ok(log.includes('klaro'), `Klaro ran its own script: ${log}`);
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
