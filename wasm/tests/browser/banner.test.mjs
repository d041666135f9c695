// The banner's browser tests: the BUILT banner (wasm/dist: consent.js, consent_bg.wasm,
// consent.css) embedded in pages as a site embeds it, driven through the DOM, window.Consent,
// the consent:first / consent:change events, cookies and network requests, in Debian's
// headless Chromium (playwright-core). One test or more per numbered point of the banner
// spec (the numbered comments below), first written as wasm-bindgen tests; `wasm/tests/api.rs`
// keeps the wasm API's own.
//
//   node --test wasm/tests/browser/banner.test.mjs      (from any directory)
//
// CONSENT_DIST, CHROMIUM and CONSENT_BIN: see harness.mjs, which holds the server, the pages
// and the visitors these tests and adversarial.test.mjs share.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  here,
  WAIT,
  STRICT_CSP,
  routes,
  requests,
  sign,
  retime,
  reid,
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
  SETTLE,
} from './harness.mjs';

// ---- 1. Returning visitors ----------------------------------------------------------------

// 1. A returning visitor with a valid decision sees no banner; allowed scripts run at once.
bannerTest('returning visitor sees no banner and scripts run at once', async (visitor) => {
  const v = await visitor();
  const cfg = config('c1');
  // The site's embedding: the inline config starts the banner by itself.
  await v.open({ config: cfg });
  assert.ok(await v.bannerShown());
  assert.equal(await v.api('acceptCategory', 'analytics'), true);
  assert.ok((await v.context.cookies()).some((c) => c.name === 'c1' && c.value.startsWith('1.')));
  // The next page view: the banner starts again with the stored cookie.
  await v.open({ config: cfg, body: SCRIPTS });
  assert.ok(await v.js(() => document.cookie.includes('c1=1.')));
  assert.equal(await v.bannerShown(), false, 'no banner for a valid decision');
  assert.deepEqual(await v.log(), ['ga', 'no-ads', 'necessary']);
});

// ---- 2. The first layer -----------------------------------------------------------------

/** The buttons of the first layer, with their look and box. */
const firstLayerButtons = (v) => v.js(() => [...document.querySelectorAll('.consent-banner button')].map((e) => {
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {
    text: e.textContent,
    look: [e.tagName, e.className, s.backgroundColor, s.color, s.fontSize, s.fontWeight,
      s.borderTopWidth, Math.round(r.height)].join(),
    width: Math.round(r.width),
    size: `${Math.round(r.width)}x${Math.round(r.height)}`,
  };
}));

// 2. The first layer: three equal buttons, a privacy link, nothing pre-ticked, layouts, themes.
bannerTest('first layer has three equal buttons and nothing pre-ticked', async (visitor) => {
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('c2'), { layout: 'bar', theme: 'dark' }), true);
  const buttons = await firstLayerButtons(v);
  assert.equal(buttons.map((b) => b.text).join('|'), 'Reject all|Accept all|Settings');
  // Same element, class, size and colours.
  assert.equal(buttons.length, 3);
  assert.ok(buttons.every((b) => b.look === buttons[0].look),
    `Accept all, Reject all and Settings must look the same: ${JSON.stringify(buttons)}`);
  const widths = buttons.map((b) => b.width);
  assert.ok(widths.every((w) => Math.abs(w - widths[0]) <= 2), `widths ${widths}`);
  assert.equal(await v.js(() => document.querySelector('.consent-banner a').getAttribute('href')), '/en/privacy');
  assert.ok(await v.js(() => document.querySelector('[data-consent-ui]').classList.contains('consent-bar')));
  assert.ok(await v.js(() => document.querySelector('[data-consent-ui]').classList.contains('consent-theme-dark')));
  // A custom property reaches the buttons.
  const custom = await v.js(() => {
    document.querySelector('[data-consent-ui]').style.setProperty('--consent-btn-bg', 'rgb(1, 2, 3)');
    return getComputedStyle(document.querySelector('.consent-banner .consent-btn')).backgroundColor;
  });
  assert.equal(custom, 'rgb(1, 2, 3)');

  // The box layout too: the buttons do not wrap into rows of different widths.
  const box = await visitor();
  await box.open();
  assert.equal(await box.run(config('c2b'), { layout: 'box' }), true);
  const sizes = (await firstLayerButtons(box)).map((b) => b.size);
  assert.equal(sizes.length, 3);
  assert.ok(sizes.every((s) => s === sizes[0]), `box layout sizes ${sizes}`);
  // No box is pre-ticked but necessary (locked on).
  await box.press('Settings');
  assert.equal(await box.js(() => document.querySelectorAll('.consent-prefs input[type=checkbox]:checked:not(:disabled)').length), 0);
  assert.equal(await box.api('acceptedCategory', 'necessary'), true);
  assert.equal(await box.api('acceptedCategory', 'analytics'), false);
});

// 2b. The optional floating button (data-floating): none without it; with it, hidden while a
//     layer is open, shown after a decision, and it reopens the preferences.
bannerTest('the floating button reopens the preferences, only when asked for', async (visitor) => {
  const floatShown = (v) => v.js(() => {
    const b = document.querySelector('.consent-float');
    return b ? getComputedStyle(b).display !== 'none' && b.textContent : null;
  });
  const plain = await visitor();
  await plain.open({ csp: STRICT_CSP, config: config('c2f0') });
  await plain.press('Accept all');
  assert.equal(await plain.js(() => document.querySelector('.consent-float')), null, 'no button unless data-floating');

  const v = await visitor();
  await v.open({ csp: STRICT_CSP, config: config('c2f'), dataset: { floating: '' } });
  await v.waitFor(() => document.querySelector('.consent-float')?.textContent);
  assert.equal(await floatShown(v), false, 'hidden while the first layer is open');
  await v.press('Reject all');
  await v.waitFor(() => getComputedStyle(document.querySelector('.consent-float')).display !== 'none');
  assert.equal(await floatShown(v), 'Cookie settings');
  await v.js(() => document.querySelector('.consent-float').click());
  await v.waitFor(() => !!document.querySelector('.consent-prefs'));
  assert.equal(await floatShown(v), false, 'hidden while the preferences are open');
  await v.js(() => document.querySelector('.consent-prefs .consent-close').click());
  await v.waitFor(() => document.activeElement?.classList.contains('consent-float'));
  // Its label (drawn by consent-extra.js) follows the language a visitor or the page chooses.
  assert.equal(await v.api('setLanguage', 'fi'), true);
  await v.waitFor(() => document.querySelector('.consent-float').textContent === 'Evästeasetukset');
  assert.deepEqual(await v.js(() => window.__violations), [], 'no CSP violation');
});

/** Other banners' own stylesheets, as their packages ship them (devDependencies here): a site
 * that moves from one of them, or runs one beside ours on another part of it, has them too. */
const OTHER_BANNERS_CSS = {
  osano: 'cookieconsent/build/cookieconsent.min.css',
  vanilla: 'vanilla-cookieconsent/dist/cookieconsent.css',
  orejime: 'orejime/dist/orejime-standard.css',
  tarteaucitron: 'tarteaucitronjs/css/tarteaucitron.min.css',
  klaro: 'klaro/dist/klaro.min.css',
};

/** Sites' own stylesheets that style bare elements (`button`, `[type=button]`, `h2`, `p`, `a`,
 * `table`, ...), as a clinic's theme does, and may set the root font size (Pico's grows with the
 * viewport; a theme's `html { font-size: 62.5% }` shrinks it): Bootstrap's and Pico's, a
 * classless framework that styles every `section`, `details`, `summary` and `[role=switch]`. */
const SITE_THEMES_CSS = {
  bootstrap: 'bootstrap/dist/css/bootstrap.min.css',
  pico: '@picocss/pico/css/pico.min.css',
};

/** The computed look of every element of the banner's UI (first layer or preferences): its
 * computed style, its pseudo-elements' content, and its box (`[width, height]`, rounded). */
const uiLook = (v) => v.js(() => [...document.querySelectorAll('[data-consent-ui] *, .consent-embed, .consent-embed *')].map((e) => {
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return [[e.localName, e.className, ...['display', 'position', 'font-family', 'font-size', 'font-weight',
    'padding', 'margin', 'border-width', 'border-style', 'border-color', 'border-radius', 'color',
    'background-color', 'background-image', 'opacity', 'white-space', 'text-decoration-line', 'text-transform',
    'letter-spacing', 'box-shadow', 'text-shadow', 'flex', 'min-width', 'min-height', 'line-height', 'appearance',
    'text-align', 'vertical-align', 'list-style-type', 'outline-style', 'cursor', 'width', 'height'].map((p) => s.getPropertyValue(p)),
  getComputedStyle(e, '::before').content, getComputedStyle(e, '::after').content].join('|'),
  [Math.round(r.width), Math.round(r.height)]];
}));

/** `got` is `want` (two `uiLook`s), boxes within a pixel: the same layout can round a half
 * pixel either way where it sits at another fraction of a pixel. */
function sameLook(got, want, what) {
  assert.deepEqual(got.map(([style]) => style), want.map(([style]) => style), what);
  got.forEach(([style, box], i) => {
    assert.ok(box.every((n, k) => Math.abs(n - want[i][1][k]) <= 1), `${what}: ${style}: ${box} against ${want[i][1]}`);
  });
}

/** An embed that waits for consent, in a page's content (a column of a fixed width, so that a
 * theme's page margins do not move it): the banner draws its placeholder there, outside its
 * own root. */
const EMBED = `<div style="width: 600px"><p>Our clinic on the map:</p>
  <iframe data-category="marketing" data-service="youtube" data-src="about:blank" title="map"></iframe></div>`;

/** The banner's two layers (and an embed's placeholder) drawn on a page without and with `sheets` (files in node_modules,
 * linked after the banner's stylesheet) must look the same, element by element. */
async function sameLookUnder(visitor, sheets) {
  for (const [name, file] of Object.entries(sheets)) {
    routes.set(`/others/${name}.css`, { type: 'text/css', body: readFileSync(join(here, 'node_modules', file)) });
  }
  const looks = [];
  for (const styles of [[], Object.keys(sheets).map((n) => `/others/${n}.css`)]) {
    const v = await visitor();
    await v.open({ config: config('c2o'), styles, body: EMBED });
    await v.waitFor(() => !!document.querySelector('.consent-banner button') && !!document.querySelector('.consent-embed button'));
    const first = await uiLook(v);
    // A button with the focus, as the keyboard leaves it.
    await v.js(() => document.querySelector('.consent-banner .consent-btn').focus());
    const focused = await uiLook(v);
    await v.press('Settings');
    await v.waitFor(() => !!document.querySelector('.consent-prefs .consent-switch'));
    await v.js(() => { for (const d of document.querySelectorAll('.consent-prefs details')) d.open = true; });
    looks.push({ first, focused, prefs: await uiLook(v) });
  }
  assert.ok(looks[0].first.length > 5 && looks[0].prefs.length > 20, 'the layers were measured');
  sameLook(looks[1].first, looks[0].first, `the first layer under ${Object.keys(sheets)}`);
  sameLook(looks[1].focused, looks[0].focused, `a focused button under ${Object.keys(sheets)}`);
  sameLook(looks[1].prefs, looks[0].prefs, `the preferences under ${Object.keys(sheets)}`);
}

// 2. Another banner's stylesheet on the page changes nothing in ours: our classes are ours
// (Osano's cookieconsent styles `.cc-banner`, `.cc-btn`, `.cc-link` and `.cc-close`).
bannerTest("other banners' stylesheets leave the banner's look as it is", (visitor) => sameLookUnder(visitor, OTHER_BANNERS_CSS));

// 2. Nor does a site theme that styles bare elements or sets the root font size: the banner's
// rules outrank a theme's element and attribute selectors (each is under `.consent-root`), set
// what such a theme sets, and size in px.
for (const [name, file] of Object.entries(SITE_THEMES_CSS)) {
  bannerTest(`a site theme (${name}) leaves the banner's look as it is`, (visitor) => sameLookUnder(visitor, { [name]: file }));
}

// ---- 3. Preferences ---------------------------------------------------------------------

// 3. Preferences: a switch per category, necessary locked on and explained, services and
//    cookies with lifetimes; saving grants exactly what is switched on.
bannerTest('preferences show categories, services and cookies and save the switches', async (visitor) => {
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('c3')), true);
  await v.api('showPreferences');
  // Drawn once its details (categories, services, cookies) have come.
  await v.waitFor(() => !!document.querySelector('.consent-prefs'));
  assert.equal(await v.js(() => document.activeElement.className), 'consent-prefs');
  assert.equal(await v.js(() => document.querySelectorAll('.consent-prefs .consent-switch').length), 3);
  assert.ok(await v.js(() => {
    const n = document.getElementById('consent-cat-necessary');
    return n.checked && n.disabled;
  }));
  assert.match(await v.js(() => document.querySelector('.consent-prefs .consent-cat').textContent), /Always on/);
  const table = await v.js(() => [...document.querySelectorAll('.consent-cookies td')].map((t) => t.textContent).join('|'));
  assert.ok(table.includes("_ga_*|13 months|Keeps the session's state."), table);
  assert.ok(table.includes('_fbp|90 days|'), table);
  assert.match(await v.js(() => document.querySelector('.consent-svc').textContent), /Kuopion Eläinlääkärikeskus Oy/);
  await v.page.click('#consent-cat-analytics');
  await v.press('Save choices');
  assert.equal(await v.api('acceptedCategory', 'analytics'), true);
  assert.equal(await v.api('acceptedService', 'ga'), true);
  assert.equal(await v.api('acceptedCategory', 'marketing'), false);
  assert.equal(await v.api('acceptedService', 'facebook-pixel'), false);
  assert.equal((await v.api('getConsent')).method, 'custom');
});

// 3. The preferences' stylesheet that did not load (a dropped connection) leaves the dialog
// usable, and is linked again the next time it opens: the visitor can still withdraw.
bannerTest("a preferences' stylesheet that failed to load is linked again at the next opening", async (visitor) => {
  const v = await visitor();
  await v.page.route('**/consent/consent-prefs.css', (r) => r.abort(), { times: 1 });
  await v.open({ config: config('c3s') });
  const prefsLinks = () => v.js(() => document.querySelectorAll('link[href$="/consent-prefs.css"]').length);
  await v.press('Settings');
  await v.waitFor(() => !!document.querySelector('.consent-prefs .consent-switch'));
  assert.equal(await prefsLinks(), 0, 'the failed link is gone');
  assert.notEqual(await v.js(() => getComputedStyle(document.querySelector('.consent-overlay')).position), 'fixed');
  await v.js(() => document.querySelector('.consent-prefs .consent-close').click());
  await v.press('Settings');
  await v.waitFor(() => !!document.querySelector('.consent-prefs .consent-switch'));
  assert.equal(await prefsLinks(), 1, 'linked again');
  assert.equal(await v.js(() => getComputedStyle(document.querySelector('.consent-overlay')).position), 'fixed',
    'the dialog is styled');
});

// 3. The preferences' script (consent-prefs.js, imported when they first open) that did not
// load: the dialog does not open, one console error says why, the first layer still decides,
// and the next "Settings" imports it again and opens them.
bannerTest("a preferences' script that failed to load is imported again at the next opening", async (visitor) => {
  const v = await visitor();
  const errors = [];
  v.page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await v.page.route('**/consent/consent-prefs.js', (r) => r.abort(), { times: 1 });
  const loads = [];
  v.page.on('request', (r) => { if (r.url().endsWith('/consent-prefs.js')) loads.push(r.url()); });
  await v.open({ config: config('c3j') });
  assert.deepEqual(loads, [], 'a first visit does not load the preferences\' script');
  const said = v.page.waitForEvent('console', { predicate: (m) => /consent: the preferences cannot be drawn/.test(m.text()) });
  await v.press('Settings');
  await said;
  await v.page.waitForTimeout(SETTLE);
  assert.equal(errors.filter((e) => /preferences/.test(e)).length, 1, errors.join('\n'));
  assert.equal(await v.js(() => !!document.querySelector('.consent-prefs')), false, 'no dialog without its script');
  assert.equal(await v.js(() => !!document.querySelector('.consent-banner')), true, 'the first layer stays');
  await v.press('Settings');
  await v.waitFor(() => !!document.querySelector('.consent-prefs .consent-switch'));
  assert.equal(loads.length, 2, 'imported again');
  await v.page.click('#consent-cat-analytics');
  await v.press('Save choices');
  assert.equal(await v.api('acceptedCategory', 'analytics'), true);
  assert.equal(await v.api('acceptedCategory', 'marketing'), false);
});

// ---- 4. Gating --------------------------------------------------------------------------

// 4. Gating: each allowed script runs once, in document order, with its attributes and nonce;
//    `!category` runs when refused; embeds get a placeholder that grants in place.
bannerTest('scripts run once in order with attributes and embeds wait for consent', async (visitor) => {
  const v = await visitor();
  // The external script answers late: the inline one after it must wait for it.
  const ext = '/log/t4/ext.js';
  await v.open({
    body: `
    <script type="text/plain" data-category="analytics" id="first" data-extra="kept" nonce="n0nce">window.__log.push('a1')</script>
    <script type="text/plain" data-category="analytics" data-src="${ext}?delay=150"></script>
    <script type="text/plain" data-category="analytics">window.__log.push('a2')</script>
    <script type="text/plain" data-category="analytics" data-service="nope">window.__log.push('unknown-service')</script>
    <script type="text/plain" data-category="!analytics">window.__log.push('not-analytics')</script>
    <iframe data-category="marketing" data-service="google-ads" data-src="about:blank#video" id="video"></iframe>
    <img data-category="analytics" data-src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="pixel" alt="">`,
  });
  assert.equal(await v.run(config('c4')), true);
  assert.deepEqual(await v.log(), [], 'nothing before a decision');
  assert.equal(hits(ext), 0, 'no external script requested before a decision');
  // The placeholder is drawn once the language's details have come.
  await v.waitFor(() => !!document.querySelector('.consent-embed p'));
  assert.ok(await v.js(() => {
    const f = document.getElementById('video');
    return f.classList.contains('consent-wait') && !f.hasAttribute('src');
  }));
  const placeholder = await v.js(() => document.querySelector('.consent-embed p').textContent);
  assert.ok(placeholder.includes('Google Ads') && !placeholder.includes('Marketing'), placeholder);
  await v.press('Accept all');
  await v.waitFor(() => window.__log.length >= 3);
  await v.settle();
  assert.deepEqual(await v.log(), ['a1', 'ext', 'a2']);
  const live = await v.js(() => {
    const s = document.getElementById('first');
    return [s.type, s.getAttribute('data-extra'), s.nonce, s.getAttribute('data-category')].join();
  });
  // Not data-category: another manager of the same markup (vanilla-cookieconsent) would take
  // it for a gated script and run it again (adversarial.test.mjs).
  assert.equal(live, ',kept,n0nce,');
  assert.equal(await v.js(() => document.getElementById('pixel').getAttribute('src').slice(0, 10)), 'data:image');
  // Deciding again activates nothing twice.
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.settle();
  assert.deepEqual(await v.log(), ['a1', 'ext', 'a2']);
  assert.equal(hits(ext), 1, 'the external script was loaded once');

  // The marketing embed was granted by Accept all; a new visitor with "!marketing" refuses:
  const w = await visitor();
  await w.open({
    body: `<script type="text/plain" data-category="!marketing">window.__log.push('no-ads')</script>
      <iframe data-category="marketing" data-src="about:blank#map" id="map"></iframe>`,
  });
  assert.equal(await w.run(config('c4b')), true);
  assert.deepEqual(await w.log(), [], '!marketing waits for a decision');
  await w.press('Reject all');
  await w.waitFor(() => window.__log.length >= 1);
  assert.deepEqual(await w.log(), ['no-ads']);
  assert.ok(await w.js(() => !!document.querySelector('.consent-embed')));
  await w.press('Allow and show');
  assert.equal(await w.js(() => document.getElementById('map').getAttribute('src')), 'about:blank#map');
  assert.ok(await w.js(() => !document.querySelector('.consent-embed')
    && !document.getElementById('map').classList.contains('consent-wait')));
  assert.equal(await w.api('acceptedCategory', 'marketing'), true);
});

// 4. An embed's placeholder names its service and grants that service alone: after "Allow
//    and show" on a YouTube video the Facebook pixel (the same category) stays off, and so
//    do marketing as a category and Consent Mode's ad signals.
bannerTest('the embed placeholder grants its one service, not the rest of its category', async (visitor) => {
  const v = await visitor();
  await v.open({
    body: `<iframe data-category="marketing" data-service="youtube" data-src="about:blank#yt" id="yt"></iframe>
    <script type="text/plain" data-category="marketing" data-service="facebook-pixel">window.__log.push('pixel')</script>
    <script type="text/plain" data-category="marketing">window.__log.push('marketing')</script>
    <script type="text/plain" data-category="!marketing">window.__log.push('no-marketing')</script>`,
    pre: 'window.gtag = function () { window.__log.push(JSON.stringify([...arguments])); };',
  });
  // The example config's marketing holds YouTube beside Google Ads and the pixel.
  assert.equal(await v.run(config('c4y')), true);
  // Drawn once the language's details have come.
  await v.waitFor(() => !!document.querySelector('.consent-embed p'));
  const text = await v.js(() => document.querySelector('.consent-embed p').textContent);
  assert.match(text, /^This content comes from YouTube\b/, text);
  assert.ok(!text.includes('Marketing'), `the placeholder names the service, not the category: ${text}`);
  await v.press('Reject all');
  await v.waitFor(() => window.__log.includes('no-marketing'));
  await v.press('Allow and show');
  assert.equal(await v.js(() => document.getElementById('yt').getAttribute('src')), 'about:blank#yt');
  await v.settle();
  const log = await v.log();
  assert.ok(!log.includes('pixel') && !log.includes('marketing'), `only YouTube: ${log}`);
  assert.equal(await v.api('acceptedService', 'youtube'), true);
  assert.equal(await v.api('acceptedService', 'facebook-pixel'), false);
  assert.equal(await v.api('acceptedCategory', 'marketing'), false, 'marketing is granted only partly');
  const update = JSON.parse(log.filter((l) => l.startsWith('["consent","update"')).at(-1))[2];
  assert.equal(update.ad_storage, 'denied', JSON.stringify(update));
  assert.deepEqual((await v.api('getConsent')).services, ['site', 'youtube']);
  // The preferences show marketing off: saving them does not grant the pixel.
  await v.api('showPreferences');
  await v.waitFor(() => !!document.getElementById('consent-cat-marketing'));
  assert.equal(await v.js(() => document.getElementById('consent-cat-marketing').checked), false);
});

// 4. What only an embed's placeholder draws (consent-extra.js and consent-extra.css) is loaded
//    by a page that has one waiting, never by one without. A script that did not load draws
//    no placeholder, says so once, and is imported again by the next placeholder due (an
//    embed an app adds, the regate of a decision); the embeds it then draws wait behind them.
bannerTest("the placeholders' script loads only for an embed, and again after a failure", async (visitor) => {
  const loading = (v) => {
    const names = [];
    v.page.on('request', (r) => { if (/\/consent-extra\.(js|css)$/.test(r.url())) names.push(basename(r.url())); });
    return names;
  };
  const plain = await visitor();
  const none = loading(plain);
  await plain.open({ config: config('c4e0'), body: '<iframe data-category="marketing" src="about:blank" title="free"></iframe>' });
  await plain.press('Reject all');
  await plain.settle();
  assert.deepEqual(none, [], 'a page with no embed waiting loads neither');

  const v = await visitor();
  const loads = loading(v);
  await v.page.route('**/consent/consent-extra.js', (r) => r.abort(), { times: 1 });
  const said = v.page.waitForEvent('console', { predicate: (m) => /consent: the page's extras cannot be drawn/.test(m.text()) });
  await v.open({ config: config('c4e'), body: '<iframe data-category="marketing" data-src="about:blank#1" id="e1" title="one"></iframe>' });
  await said;
  await v.settle();
  assert.equal(await v.js(() => document.querySelector('.consent-embed')), null, 'no placeholder without its script');
  assert.equal(await v.js(() => document.getElementById('e1').hasAttribute('src')), false, 'the embed still waits');
  await v.js(() => document.body.insertAdjacentHTML('beforeend',
    '<iframe data-category="marketing" data-service="youtube" data-src="about:blank#2" id="e2" title="two"></iframe>'));
  await v.waitFor(() => document.querySelectorAll('.consent-embed').length === 1);
  await v.press('Reject all');
  await v.waitFor(() => document.querySelectorAll('.consent-embed').length === 2);
  assert.deepEqual(loads.filter((n) => n.endsWith('.js')), ['consent-extra.js', 'consent-extra.js'], 'imported again');
  assert.equal(v.errors.filter((e) => /extras/.test(e)).length, 1, v.errors.join('\n'));
  assert.deepEqual(await v.js(() => ['e1', 'e2'].map((id) => getComputedStyle(document.getElementById(id)).display)),
    ['none', 'none'], 'the embeds wait behind their placeholders, styled');
});

// 4. The nonce option is given to revived scripts.
bannerTest('nonce option is given to revived scripts', async (visitor) => {
  const v = await visitor();
  await v.open({
    body: `<script type="text/plain" data-category="analytics" id="s" data-type="module">window.__log.push('m')</script>`,
  });
  assert.equal(await v.run(config('c4n'), { nonce: 'opt-nonce' }), true);
  await v.press('Accept all');
  assert.equal(await v.js(() => document.getElementById('s').nonce), 'opt-nonce');
  assert.equal(await v.js(() => document.getElementById('s').type), 'module');
  // A module script runs deferred: it did run.
  await v.waitFor(() => window.__log.includes('m'));
});

// 4. A single-page app (React, Vue) renders gated markup after the banner started: each
//    element it adds, or that an element it adds holds, is handled as the page's are, once
//    and in document order. They stayed inert until the next decision.
bannerTest('gated elements a single-page app adds later load once when allowed', async (visitor) => {
  const v = await visitor();
  await v.open({ body: '<div id="app"></div>', pre: 'window.__count = 0;' });
  // Run twice, as a site may: the first run's watch is gone with it, so nothing is activated
  // twice.
  assert.equal(await v.run(config('c4spa')), true);
  assert.equal(await v.run(config('c4spa')), true);
  await v.press('Accept all');
  await v.js(() => {
    const app = document.getElementById('app');
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-category', 'analytics');
    s.textContent = "window.__count++; window.__log.push('spa')";
    window.__first = s;
    app.append(s);
    const view = document.createElement('div');
    view.innerHTML = `<section><script type="text/plain" data-category="analytics">window.__log.push('nested')<\/script>
      <iframe data-category="marketing" data-service="youtube" data-src="about:blank#spa" id="yt"></iframe>
      <img data-category="analytics" data-src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="px" alt=""></section>`;
    app.append(view);
  });
  await v.waitFor(() => window.__log.length >= 2);
  await v.settle();
  assert.deepEqual(await v.log(), ['spa', 'nested'], 'each once, in document order');
  assert.equal(await v.js(() => window.__count), 1);
  assert.equal(await v.js(() => document.getElementById('yt').getAttribute('src')), 'about:blank#spa');
  assert.equal(await v.js(() => document.getElementById('px').getAttribute('src').slice(0, 10)), 'data:image');
  assert.equal(await v.js(() => document.querySelectorAll('.consent-embed').length), 0);
  // A framework putting back the node it rendered, and another decision: nothing runs again.
  await v.js(() => document.getElementById('app').append(window.__first));
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.settle();
  assert.equal(await v.js(() => window.__count), 1, 'the script ran once');
  assert.deepEqual(await v.log(), ['spa', 'nested']);

  // After a withdrawal what the app adds stays inert, and an embed gets its placeholder.
  assert.equal(await v.api('acceptCategory', []), true);
  await v.js(() => {
    document.getElementById('app').insertAdjacentHTML('beforeend', `<div><iframe data-category="marketing"
      data-service="youtube" data-src="about:blank#later" id="later"></iframe></div>`);
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-category', 'analytics');
    s.textContent = "window.__log.push('after-withdrawal')";
    document.getElementById('app').append(s);
  });
  await v.waitFor(() => !!document.querySelector('.consent-embed p'));
  await v.settle();
  assert.deepEqual(await v.log(), ['spa', 'nested']);
  assert.equal(await v.js(() => document.getElementById('later').getAttribute('src')), null);
  assert.equal(await v.js(() => document.querySelectorAll('.consent-embed').length), 1);
  assert.match(await v.js(() => document.querySelector('.consent-embed p').textContent), /YouTube/);
});

// 4. What an app adds while nothing is allowed stays inert, an embed with one placeholder
//    however often the banner then changes the page (its layers, the placeholder itself),
//    and loads with the decision that allows it.
bannerTest('gated elements a single-page app adds wait for consent, with one placeholder', async (visitor) => {
  const v = await visitor();
  await v.open({ body: '<div id="app"></div>' });
  assert.equal(await v.run(config('c4spr')), true);
  await v.js(() => {
    document.getElementById('app').innerHTML = `<div><div><iframe data-category="marketing" data-service="youtube"
      data-src="about:blank#wait" id="wait"></iframe></div></div>`;
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-category', 'analytics');
    s.textContent = "window.__log.push('analytics')";
    document.getElementById('app').append(s);
  });
  await v.waitFor(() => !!document.querySelector('.consent-embed p'));
  await v.press('Reject all');
  await v.api('showPreferences');
  await v.waitFor(() => !!document.querySelector('.consent-prefs'));
  await v.page.keyboard.press('Escape');
  await v.settle();
  assert.deepEqual(await v.log(), []);
  assert.equal(await v.js(() => document.getElementById('wait').getAttribute('src')), null);
  assert.equal(await v.js(() => document.querySelectorAll('.consent-embed').length), 1, 'one placeholder');
  await v.press('Allow and show');
  assert.equal(await v.js(() => document.getElementById('wait').getAttribute('src')), 'about:blank#wait');
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.waitFor(() => window.__log.length >= 1);
  await v.settle();
  assert.deepEqual(await v.log(), ['analytics']);
  assert.equal(await v.js(() => document.querySelectorAll('.consent-embed').length), 0);
});

// 4. An app that takes an embed out (a tab closed) takes its placeholder with it, and one that
//    moves it or puts it back gets one placeholder, where the embed is.
bannerTest('an embed a single-page app removes or moves keeps one placeholder, beside it', async (visitor) => {
  const v = await visitor();
  await v.open({ body: '<div id="a"></div><div id="b"></div>' });
  assert.equal(await v.run(config('c4spm')), true);
  await v.press('Reject all');
  const boxes = () => v.js(() => [...document.querySelectorAll('.consent-embed')]
    .map((box) => `${box.parentNode.id}:${box.nextElementSibling?.id}`));
  await v.js(() => {
    const f = document.createElement('iframe');
    f.id = 'video';
    f.setAttribute('data-category', 'marketing');
    f.setAttribute('data-service', 'youtube');
    f.setAttribute('data-src', 'about:blank#video');
    window.__video = f;
    document.getElementById('a').append(f);
  });
  await v.waitFor(() => !!document.querySelector('.consent-embed'));
  assert.deepEqual(await boxes(), ['a:video']);
  await v.js(() => window.__video.remove());
  await v.waitFor(() => !document.querySelector('.consent-embed'));
  await v.js(() => document.getElementById('b').append(window.__video));
  await v.waitFor(() => !!document.querySelector('.consent-embed'));
  await v.settle();
  assert.deepEqual(await boxes(), ['b:video'], 'put back elsewhere: one placeholder, there');
  await v.js(() => document.getElementById('a').append(window.__video));
  await v.waitFor(() => document.querySelector('.consent-embed')?.parentNode.id === 'a');
  await v.settle();
  assert.deepEqual(await boxes(), ['a:video'], 'moved: one placeholder, beside it');
  await v.press('Allow and show');
  assert.equal(await v.js(() => window.__video.getAttribute('src')), 'about:blank#video');
  assert.deepEqual(await boxes(), []);
});

// ---- 5. Withdrawal ----------------------------------------------------------------------

// 5. Withdrawal deletes the declared cookies (names and patterns), fires the change event and
//    never activates that category again on this page.
bannerTest('withdrawal clears declared cookies and never reactivates', async (visitor) => {
  const v = await visitor();
  await v.open({ body: `<script type="text/plain" data-category="analytics">window.__log.push('ga')</script>` });
  assert.equal(await v.run(config('c5')), true);
  await v.press('Accept all');
  assert.deepEqual(await v.log(), ['ga']);
  await v.js(() => {
    document.cookie = '_ga=GA1.1; Path=/';
    document.cookie = '_ga_ABC123=GS1; Path=/';
    document.cookie = 'keep_me=1; Path=/';
    document.cookie = '_fbp=fb.1; Path=/';
    window.changes = [];
    window.addEventListener('consent:change', (e) => window.changes.push(e.detail.changed.join()));
  });
  await v.api('showPreferences');
  await v.page.click('#consent-cat-analytics');
  await v.press('Save choices');
  // An analytics script the page adds after the withdrawal, for the grant below.
  await v.js(() => {
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-category', 'analytics');
    s.textContent = "window.__log.push('ga-again')";
    document.getElementById('t').append(s);
  });
  const jar = await v.js(() => document.cookie);
  assert.ok(!jar.includes('_ga='), jar);
  assert.ok(!jar.includes('_ga_ABC123'), jar);
  assert.ok(jar.includes('_fbp=') && jar.includes('keep_me=1'), `only analytics was revoked: ${jar}`);
  assert.equal(await v.js(() => window.changes.join(';')), 'analytics');
  assert.equal((await v.api('getConsent')).method, 'withdraw');
  // Granted again on the same page: the revoked category does not come back before a reload.
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.settle();
  assert.deepEqual(await v.log(), ['ga']);
});

// The module reads its arguments from, and writes its answers into, linear memory above its
// heap base (wasm/src/abi.rs). A jar as large as a browser keeps (here 150 cookies of about
// 3.9 kB, 590 kB) does not fit the module's initial 128 KiB, and neither does the answer of a
// withdrawal that deletes every one of them on each domain and path: the memory grows, and
// nothing is cut.
bannerTest('a jar of many large cookies is read whole and withdrawn whole', async (visitor) => {
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('c5big')), true);
  await v.press('Accept all');
  // The preferences first: their details are fetched before the jar is too large for any
  // request to carry (a server refuses headers of half a megabyte).
  await v.api('showPreferences');
  await v.waitFor(() => !!document.querySelector('#consent-cat-analytics'));
  const n = await v.js(() => {
    for (let i = 0; i < 150; i++) document.cookie = `_ga_${String(i).padStart(3, '0')}${'x'.repeat(1900)}=${'v'.repeat(1990)}; Path=/`;
    return document.cookie.split(';').filter((c) => c.trim().startsWith('_ga_')).length;
  });
  assert.ok(n >= 140, `the browser kept ${n} of the 150 cookies`);
  assert.ok((await v.js(() => document.cookie.length)) > 500_000);
  await v.page.click('#consent-cat-analytics');
  await v.press('Save choices');
  const left = await v.js(() => document.cookie.split(';').filter((c) => c.trim().startsWith('_ga_')).length);
  assert.equal(left, 0, 'every _ga_* cookie was deleted');
  assert.equal((await v.api('getConsent')).method, 'withdraw');
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  assert.equal(await v.api('acceptedCategory', 'marketing'), true);
  const names = await v.js(() => document.cookie.split(';').map((c) => c.split('=')[0].trim().slice(0, 12)));
  assert.ok(names.includes('c5big'), `the decision itself is stored: ${names}`);
});

// ---- 6. Persistence ---------------------------------------------------------------------

/** Records, in the page, every fetch the banner makes (normalised through `Request`), and
 * passes it on to the network. */
function spyOnFetch() {
  window.__fetches = [];
  const real = window.fetch;
  window.fetch = function (input, init) {
    const r = new Request(input, init);
    window.__fetches.push({
      url: r.url, method: r.method, keepalive: r.keepalive, contentType: r.headers.get('Content-Type'),
    });
    return real.call(this, input, init);
  };
}

// 6. Persistence: the token cookie, and the token and page POSTed to the endpoint, whose signed token
//    replaces the local one.
bannerTest('decision is stored and sent and the signed token kept', async (visitor) => {
  const posts = () => requests.filter((r) => r.method === 'POST' && r.path === '/consent-endpoint');
  const before = posts().length;
  setEndpoint((body) => ({ status: 200, json: { token: sign(body.token) } }));
  const v = await visitor();
  await v.context.addInitScript(spyOnFetch);
  // The page's query string must not reach the record.
  await v.open({}, '?utm_source=newsletter&gclid=abc');
  assert.equal(await v.run(config('c6', (c) => { c.endpoint = '/consent-endpoint'; })), true);
  await v.press('Reject all');
  await until(() => posts().length > before, 'the decision to reach the endpoint');
  const sent = posts().slice(before);
  assert.equal(sent.length, 1);
  // Every fetch but the banner's own files (the WebAssembly, the policy and its texts).
  const fetches = (await v.js(() => window.__fetches))
    .filter((f) => !f.url.startsWith(`${origin}/consent/`) && !f.url.startsWith(`${origin}/p/`));
  assert.equal(fetches.length, 1, JSON.stringify(fetches));
  assert.equal(fetches[0].url, `${origin}/consent-endpoint`);
  assert.equal(fetches[0].method, 'POST');
  assert.equal(fetches[0].keepalive, true);
  assert.equal(fetches[0].contentType, 'application/json');
  assert.equal(sent[0].headers['content-type'], 'application/json');
  const body = JSON.parse(sent[0].body);
  const token = body.token;
  assert.ok(token.startsWith('1.'), token);
  // The token and the page, nothing else: the server makes the record from them and its own
  // config (it parses the body with deny_unknown_fields). No query string leaves the page
  // in the record: the server cuts it (PageUrl).
  assert.deepEqual(Object.keys(body).sort(), ['page', 'token']);
  assert.ok(body.page.startsWith('http://127.0.0.1') && body.page.includes('utm_source'), body.page);
  assert.equal(consentIdOf(token), (await v.api('getConsent')).consentId, 'the token is of the stored decision');
  // The signed token is stored.
  const signed = sign(token);
  await v.waitFor((s) => document.cookie.split('; ').includes(`c6=${s}`), signed);
  assert.equal(await v.js(() => document.cookie.split('; ').find((c) => c.startsWith('c6='))), `c6=${signed}`,
    'the signed token is stored');
  assert.equal((await v.api('getConsent')).method, 'reject_all', 'the signed token holds the same decision');
});

// The cookie declaration is HTML put into the page: it comes from the page's own origin only,
// never from another site (which could put any markup there), and from the address the banner
// was given, never one an element of the page names (markup a visitor wrote could).
bannerTest('the cookie declaration is loaded from the same origin only', async (visitor) => {
  routes.set('/decl.html', {
    type: 'text/html; charset=utf-8',
    body: '<b class="injected">declaration</b>',
    headers: { 'Access-Control-Allow-Origin': '*' },
  });
  routes.set('/upload/evil.html', { type: 'text/html; charset=utf-8', body: '<b class="evil">evil</b>' });
  const foreign = origin.replace('127.0.0.1', 'localhost') + '/decl.html';
  const v = await visitor();
  await v.open({
    config: config('decl'),
    dataset: { declaration: '/decl.html' },
    body: '<div id="same" data-consent-declaration>same</div>'
      + '<div id="named" data-consent-declaration="/upload/evil.html">named</div>',
  });
  await v.waitFor(() => document.querySelector('#same .injected') !== null);
  // The element that names an address gets the banner's declaration.
  await v.waitFor(() => document.querySelector('#named .injected') !== null);
  assert.equal(requests.filter((r) => r.path.startsWith('/upload/')).length, 0, 'the named address is never fetched');
  // Another origin is refused, and said in the console.
  const other = await visitor();
  await other.open({ config: config('decl'), dataset: { declaration: foreign }, body: '<div id="other" data-consent-declaration>keep</div>' });
  const deadline = Date.now() + WAIT;
  while (!other.warnings.some((w) => w.includes('same origin')) && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 20));
  }
  assert.ok(other.warnings.some((w) => w.includes('same origin')), JSON.stringify(other.warnings));
  assert.equal(await other.js(() => document.getElementById('other').innerHTML), 'keep');
  const fromOther = requests.filter((r) => r.path === '/decl.html' && r.headers.host?.startsWith('localhost'));
  assert.deepEqual(fromOther, [], 'no request to the other origin');
});

// The page's declaration, asked for as the banner starts, and the one of a language the
// visitor chose right after: the later one stays, whichever the server answers last.
bannerTest('of two cookie declarations asked for at once, the language chosen last stays', async (visitor) => {
  const v = await visitor();
  let release;
  const held = new Promise((done) => { release = done; });
  await v.page.route((url) => url.pathname === '/decl-lang.html', async (route) => {
    const lang = new URL(route.request().url()).searchParams.get('lang');
    if (lang === 'en') await held;
    await route.fulfill({ contentType: 'text/html', body: `<b class="decl">${lang}</b>` });
    if (lang === 'fi') release();
  });
  await v.open({ config: config('decl2'), dataset: { declaration: '/decl-lang.html' }, body: '<div id="d" data-consent-declaration>link</div>' });
  assert.equal(await v.api('setLanguage', 'fi'), true);
  await v.waitFor(() => document.querySelector('#d .decl') !== null);
  await v.settle();
  assert.equal(await v.js(() => document.getElementById('d').textContent), 'fi');
});

// 6. The server signs the decision at its own clock, whose seconds differ from the browser's
//    (an endpoint on another origin, clocks apart): the signed token is still the decision
//    made, and it is stored. An answer with other choices is not.
bannerTest('signed token re-timed by the server is stored', async (visitor) => {
  const posts = () => requests.filter((r) => r.method === 'POST' && r.path === '/consent-endpoint');
  const before = posts().length;
  // The server also issues the consent id: the banner adopts it.
  setEndpoint((body) => ({ status: 201, json: { token: sign(reid(retime(body.token, 7), 0xab)) } }));
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('c6r', (c) => { c.endpoint = '/consent-endpoint'; })), true);
  await v.press('Reject all');
  await until(() => posts().length > before, 'the decision to reach the endpoint');
  const sent = JSON.parse(posts().at(-1).body).token;
  const signed = sign(reid(retime(sent, 7), 0xab));
  assert.notEqual(retime(sent, 7), sent, 'the answer is re-timed');
  await v.waitFor((s) => document.cookie.split('; ').includes(`c6r=${s}`), signed);
  const held = await v.api('getConsent');
  assert.equal(held.method, 'reject_all');
  assert.equal(held.consentId, 'ab'.repeat(16), 'the server-issued id is adopted');

  // An answer for another decision (accept all, signed) is not stored over the local one.
  const w = await visitor();
  await w.open();
  let other = null;
  setEndpoint((body) => {
    other = sign(retime(body.token, 7));
    return { status: 201, json: { token: other } };
  });
  assert.equal(await w.run(config('c6s', (c) => { c.endpoint = '/consent-endpoint'; })), true);
  const mark = posts().length;
  // The first decision (accept all) gets its own signed answer; the second (reject all) is
  // then answered with that same, now stale, token.
  await w.press('Accept all');
  await until(() => posts().length > mark && other !== null, 'the decision to reach the endpoint');
  const first = other;
  await w.waitFor((s) => document.cookie.split('; ').includes(`c6s=${s}`), first);
  setEndpoint(() => ({ status: 201, json: { token: first } }));
  assert.equal(await w.api('acceptCategory', []), true);
  await until(() => posts().length > mark + 1, 'the second decision to reach the endpoint');
  // The stale answer (accept all) must not replace the refusal. Refusing it leaves no trace
  // to wait for, so the answer gets SETTLE to arrive (it did, on a build that stored every
  // answer: this assertion failed there).
  await w.settle();
  const cookie = await w.js(() => document.cookie.split('; ').find((c) => c.startsWith('c6s=')));
  assert.notEqual(cookie, `c6s=${first}`, 'an answer with other choices is not stored');
  assert.equal(await w.api('acceptedCategory', 'marketing'), false);
});

// 6. A failing endpoint keeps the local decision and warns once.
bannerTest('failing endpoint keeps the local decision', async (visitor) => {
  const failed = () => requests.filter((r) => r.method === 'POST' && r.path === '/no-such-endpoint').length;
  const before = failed();
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('c6b', (c) => { c.endpoint = '/no-such-endpoint'; })), true);
  await v.press('Accept all');
  await until(() => failed() === before + 1, 'the decision to reach the (404) endpoint');
  const warned = () => v.warnings.filter((w) => w.includes('could not record the decision'));
  await until(() => warned().length === 1, 'the warning');
  assert.ok(await v.js(() => document.cookie.includes('c6b=1.')));
  assert.equal(await v.api('acceptedCategory', 'marketing'), true);
  // A second failure on the same page: still one warning.
  assert.equal(await v.api('acceptCategory', []), true);
  await until(() => failed() === before + 2, 'the second decision to reach the endpoint');
  await v.settle();
  assert.equal(warned().length, 1, `warned once: ${v.warnings}`);
  assert.equal(await v.api('acceptedCategory', 'marketing'), false);

  // An endpoint answering 500: the unsigned local token stays.
  const posts = () => requests.filter((r) => r.method === 'POST' && r.path === '/consent-endpoint').length;
  const sent = posts();
  const w = await visitor();
  await w.open();
  assert.equal(await w.run(config('c6c', (c) => { c.endpoint = '/consent-endpoint'; })), true);
  await w.press('Accept all');
  await until(() => posts() === sent + 1, 'the decision to reach the endpoint');
  await until(() => w.warnings.some((x) => x.includes('could not record the decision')), 'the warning');
  // The warning passes on the server's status and error, which say what it refused and why.
  assert.ok(w.warnings.some((x) => x.includes('answered 500: no endpoint in this test')), `${w.warnings}`);
  const cookie = await w.js(() => document.cookie.split('; ').find((c) => c.startsWith('c6c=')));
  assert.match(cookie, /^c6c=1\.[\w-]+$/, 'the unsigned token is kept');
  assert.equal(await w.api('acceptedCategory', 'marketing'), true);
});

// 6. A decision the core refuses to store (a clock outside the years a token can carry) is
//    one console error (said by consent-extra.js), and nothing is written, sent or allowed.
bannerTest('a decision the core cannot store is said, and nothing changes', async (visitor) => {
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(config('c6d')), true);
  const ran = await v.log();
  await v.js(() => { Date.now = () => Date.UTC(2101, 0, 1); });
  assert.equal(await v.api('acceptCategory', 'all'), false);
  await until(() => v.errors.some((e) => e.includes('no decision was stored')), 'the console error');
  assert.ok(v.errors.some((e) => e.includes('2020-2099')), `${v.errors}`);
  assert.equal(await v.js(() => document.cookie.includes('c6d=')), false, 'no cookie');
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  assert.ok(await v.bannerShown(), 'the first layer still asks');
  assert.deepEqual(await v.log(), ran, 'nothing more ran');
});

// ---- 7. Consent Mode --------------------------------------------------------------------

// 7. Consent Mode v2: default (all denied, wait_for_update) before any gated tag, then update.
bannerTest('consent mode default comes before tags and update follows decisions', async (visitor) => {
  const v = await visitor();
  await v.open({
    pre: 'window.gtag = function () { window.dataLayer.push(Array.from(arguments)); }; window.dataLayer = [];',
    body: `<script type="text/plain" data-category="analytics">window.__log.push('tag:' + window.dataLayer.length)</script>`,
  });
  assert.equal(await v.run(config('c7')), true);
  assert.equal(await v.js(() => window.dataLayer.length), 1);
  assert.equal(await v.js(() => JSON.stringify(window.dataLayer[0])),
    '["consent","default",{"ad_storage":"denied","ad_user_data":"denied","ad_personalization":"denied",'
    + '"analytics_storage":"denied","functionality_storage":"denied","personalization_storage":"denied",'
    + '"security_storage":"denied","wait_for_update":500}]');
  assert.equal(await v.api('acceptCategory', 'analytics'), true);
  const update = await v.js(() => JSON.stringify(window.dataLayer[1]));
  assert.ok(update.startsWith('["consent","update",{'), update);
  assert.ok(update.includes('"analytics_storage":"granted"') && update.includes('"ad_storage":"denied"'), update);
  assert.deepEqual(await v.log(), ['tag:2'], 'the tag ran after default and update');
});

// 7. Without a gtag on the page the given one (the loader's shim by default) is installed,
//    with dataLayer.
bannerTest('consent mode installs the given gtag when the page has none', async (visitor) => {
  const v = await visitor();
  await v.open({ pre: 'window.shimCalls = []; window.shim = function () { window.shimCalls.push(Array.from(arguments)); };' });
  assert.equal(await v.js((url) => window.Consent.run(url, { gtag: window.shim }), compiled(config('c7b'))), true);
  assert.ok(await v.js(() => window.gtag === window.shim && Array.isArray(window.dataLayer)));
  assert.equal(await v.js(() => window.shimCalls[0][1]), 'default');
  // The site embedding with no gtag and no option: the loader's shim pushes `arguments`.
  const w = await visitor();
  await w.open({ config: config('c7c') });
  assert.deepEqual(await w.js(() => [typeof window.gtag, window.dataLayer.length,
    Object.prototype.toString.call(window.dataLayer[0]), window.dataLayer[0][0], window.dataLayer[0][1]]),
  ['function', 1, '[object Arguments]', 'consent', 'default']);
});

// ---- 8. Global Privacy Control ----------------------------------------------------------

// 8. Global Privacy Control keeps marketing off after "Accept all" and the record says so.
bannerTest('global privacy control keeps marketing off', async (visitor) => {
  const v = await visitor({ gpc: true });
  await v.open();
  assert.equal(await v.run(config('c8')), true);
  assert.match(await v.js(() => document.querySelector('.consent-banner').textContent), /Global Privacy Control/);
  await v.press('Accept all');
  assert.equal((await v.api('getConsent')).gpc, true);
  assert.equal(await v.api('acceptedCategory', 'analytics'), true);
  assert.equal(await v.api('acceptedCategory', 'marketing'), false);
});

// ---- 9. Languages -----------------------------------------------------------------------

// 9. Languages: from <html lang> (else the browser's languages), switchable.
bannerTest('language follows the page and can be switched', async (visitor) => {
  const v = await visitor();
  await v.open({ lang: 'sv-FI' });
  assert.equal(await v.run(config('c9')), true);
  const h2 = (sel) => v.js((s) => document.querySelector(s).textContent, sel);
  assert.equal(await h2('.consent-banner h2'), 'Kakor och din integritet');
  // Another language's texts load when it is chosen.
  const prefix = compiled(config('c9')).replace('policy.bin', 'texts-');
  const texts = () => requests.filter((r) => r.path.startsWith(prefix)).map((r) => basename(r.path));
  assert.deepEqual(texts(), ['texts-sv.json'], 'only the page\'s language was loaded');
  // The details (categories, services, cookies) only with the preferences, in their language.
  const details = () => requests.filter((r) => r.path.startsWith(prefix.replace('texts-', 'details-')))
    .map((r) => basename(r.path));
  assert.deepEqual(details(), [], 'the first layer loads no details');
  // The focus on "Settings" starts loading them, ahead of the click.
  await v.js(() => document.querySelector('.consent-banner .consent-btn:last-child').focus());
  for (let i = 0; i < 100 && !details().length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(details(), ['details-sv.json'], 'loaded on the focus');
  assert.equal(await v.api('setLanguage', 'fi'), true);
  await v.waitFor(() => document.querySelector('.consent-banner h2')?.textContent === 'Evästeet ja yksityisyytesi');
  assert.equal(await v.api('setLanguage', 'de'), false);
  await v.api('showPreferences');
  await v.page.selectOption('.consent-lang select', 'en');
  await v.waitFor(() => document.querySelector('.consent-prefs h2')?.textContent === 'Cookie settings');
  assert.deepEqual(texts(), ['texts-sv.json', 'texts-fi.json', 'texts-en.json']);
  assert.deepEqual(details(), ['details-sv.json', 'details-fi.json', 'details-en.json']);

  // A site offering only Finnish stays Finnish.
  const fi = await visitor();
  await fi.open();
  assert.equal(await fi.run(config('c9b', (c) => { c.languages = ['fi']; })), true);
  assert.equal(await fi.js(() => document.querySelector('.consent-banner .consent-btn').textContent), 'Hylkää kaikki');

  // A page without lang: the browser's language.
  const sv = await visitor({ locale: 'sv-SE' });
  await sv.open({ lang: null });
  assert.equal(await sv.run(config('c9c')), true);
  assert.equal(await sv.js(() => document.querySelector('.consent-banner h2').textContent), 'Kakor och din integritet');
});

// A first visit with no cookie at all cannot hold a decision, so its page's texts load while
// the policy and the WebAssembly do: one round trip less before the first layer. A page that
// has any cookie waits for the core to say the language and whether to draw.
bannerTest('a first visit fetches its texts ahead, a page with cookies after the core', async (visitor) => {
  const policy = compiled(config('c9d'));
  const texts = (since) => requests.slice(since).filter((r) => r.path === policy.replace('policy.bin', 'texts-fi.json'));
  const arrived = (since) => requests.slice(since).find((r) => r.path === policy).at;

  const v = await visitor();
  await v.open({ lang: 'fi' });
  assert.equal(await v.js(() => document.cookie), '');
  let since = requests.length;
  assert.equal(await v.run(`${policy}?delay=600`), true);
  assert.equal(texts(since).length, 1, 'fetched once, and used');
  assert.ok(texts(since)[0].at - arrived(since) < 400, 'requested while the policy was on its way');
  assert.equal(await v.js(() => document.querySelector('.consent-banner h2').textContent), 'Evästeet ja yksityisyytesi');

  const w = await visitor();
  await w.open({ lang: 'fi' });
  await w.js(() => { document.cookie = 'other=1; path=/'; });
  since = requests.length;
  assert.equal(await w.run(`${policy}?delay=600`), true);
  assert.equal(texts(since).length, 1);
  assert.ok(texts(since)[0].at - arrived(since) >= 550, 'requested once the core had the policy');
});

// A first visit's first layer is drawn from the texts fetched ahead as soon as they are there,
// without waiting for the core (here its policy is slow to come): nothing runs and nothing is
// decided until the core has started; a click made meanwhile waits for it, and is followed
// then on the same layer, which the core keeps (its language, its revision).
bannerTest('a first visit draws its first layer ahead of the core, and a click on it waits for the core', async (visitor) => {
  const policy = compiled(config('early'));
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  await v.js((p) => { window.__run = window.Consent.run(p); }, `${policy}?delay=1000`);
  const early = v.page.locator('[data-consent-ui][data-consent-early] .consent-banner');
  await early.locator('button', { hasText: /^Accept all$/ }).waitFor();
  assert.deepEqual(await v.log(), [], 'nothing runs before the core, not even the necessary');
  assert.equal(await v.api('acceptedCategory', 'necessary'), false, 'the API answers once the core has started');
  await v.press('Accept all');
  assert.equal(await v.js(() => document.cookie), '', 'nothing decided before the core');
  assert.equal(await v.js(() => window.__run), true);
  await v.waitFor(() => window.__log.includes('ads'));
  assert.deepEqual((await v.log()).sort(), ['ads', 'ga', 'necessary']);
  assert.match(await v.js(() => document.cookie), /^early=/);
  assert.equal(await v.bannerShown(), false, 'the click closed the layer');
  assert.equal(await v.js(() => document.querySelectorAll('[data-consent-early]').length), 0, 'the mark went as the core started');
  assert.deepEqual(v.errors, []);

  // Drawn ahead and kept: one layer, never a second paint of it.
  const w = await visitor();
  await w.open({ body: SCRIPTS });
  await w.js(() => { window.__layers = 0; new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1 && n.matches('.consent-banner')) window.__layers++; }).observe(document.body, { childList: true, subtree: true }); });
  await w.js((p) => { window.__run = window.Consent.run(p); }, `${policy}?delay=1000`);
  await w.page.locator('[data-consent-early] .consent-banner').waitFor();
  assert.equal(await w.js(() => window.__run), true);
  assert.equal(await w.bannerShown(), true);
  assert.equal(await w.js(() => window.__layers), 1, 'the layer drawn ahead is the one kept');
  assert.deepEqual(await w.log(), ['necessary']);
});

// A layer drawn ahead of a WebAssembly that then cannot run (a CSP without 'wasm-unsafe-eval',
// here slow too) goes with it: nothing can decide.
bannerTest('a first layer drawn ahead of a WebAssembly that cannot run goes', async (visitor) => {
  const v = await visitor();
  await v.page.route('**/consent_bg.wasm', (route) => setTimeout(() => route.continue().catch(() => {}), 800));
  const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:";
  await v.page.goto(origin + addPage({ body: SCRIPTS, config: config('early-nowasm'), csp }));
  await v.page.locator('[data-consent-early] .consent-banner').waitFor();
  await until(() => v.errors.some((e) => e.startsWith('consent:')), 'the console error');
  await v.waitFor(() => !document.querySelector('[data-consent-ui]'));
  assert.deepEqual(await v.log(), []);
  assert.equal(v.errors.length, 1, `${v.errors}`);
  assert.ok(v.errors[0].includes('WebAssembly'), v.errors[0]);
});

// ---- 10. Accessibility ------------------------------------------------------------------

/** Focuses the first (`shift`) or last control of the preferences, presses Tab (Shift+Tab)
 * and says whether focus wrapped to the other end. */
async function tabWraps(v, shift) {
  await v.js((s) => {
    const f = [...document.querySelector('.consent-prefs')
      .querySelectorAll('button:not([disabled]),a[href],input:not([disabled]),select,summary')];
    (s ? f[0] : f[f.length - 1]).focus();
  }, shift);
  await v.page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
  return v.js((s) => {
    const f = [...document.querySelector('.consent-prefs')
      .querySelectorAll('button:not([disabled]),a[href],input:not([disabled]),select,summary')];
    return document.activeElement === (s ? f[f.length - 1] : f[0]);
  }, shift);
}

// 10. Accessibility: dialog roles and names, focus into the banner, trapped in the
//     preferences, Esc closes them, and the saved choice is announced.
bannerTest('keyboard focus and announcements', async (visitor) => {
  const v = await visitor();
  await v.open({ body: '<button data-consent-open id="open">Cookie settings</button>' });
  assert.equal(await v.run(config('c10')), true);
  assert.ok(await v.js(() => {
    const b = document.querySelector('.consent-banner');
    return b.getAttribute('role') === 'dialog' && b.getAttribute('aria-label') === 'Cookie notice'
      && document.activeElement === b;
  }));
  await v.press('Settings');
  await v.waitFor(() => !!document.querySelector('.consent-prefs'));
  assert.ok(await v.js(() => {
    const d = document.querySelector('.consent-prefs');
    return d.getAttribute('aria-modal') === 'true'
      && document.getElementById(d.getAttribute('aria-labelledby')).textContent === 'Cookie settings'
      && document.activeElement === d;
  }));
  // Tab on the last control wraps to the first; Shift+Tab on the first to the last.
  assert.ok(await tabWraps(v, false), 'Tab wraps');
  assert.ok(await tabWraps(v, true), 'Shift+Tab wraps');
  // Esc closes the preferences; without a decision the first layer comes back (nothing granted).
  await v.page.keyboard.press('Escape');
  assert.ok(await v.js(() => !document.querySelector('.consent-prefs')));
  assert.ok(await v.bannerShown());
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  assert.equal(await v.js(() => document.cookie.includes('c10=')), false);
  await v.press('Reject all');
  assert.equal(await v.js(() => document.querySelector('[data-consent-ui] [role=status]').textContent),
    'Your choices have been saved.');
  // The page's own control reopens the preferences, and Esc returns focus to it.
  await v.page.click('#open');
  assert.ok(await v.js(() => !!document.querySelector('.consent-prefs')));
  await v.page.keyboard.press('Escape');
  assert.equal(await v.bannerShown(), false);
  assert.ok(await v.js(() => !document.querySelector('.consent-prefs')));
  assert.equal(await v.js(() => document.activeElement.id), 'open');
});

// 10. Under forced colours (Windows' contrast themes), which paint every background Canvas, a
// switch still shows whether it is on: the knob stands out from the track, and "on" has
// another track than "off".
bannerTest('a switch shows on and off under forced colours', async (visitor) => {
  const v = await visitor();
  await v.page.emulateMedia({ forcedColors: 'active' });
  await v.open({ config: config('c10f') });
  await v.press('Settings');
  await v.waitFor(() => !!document.querySelector('.consent-prefs input.consent-switch:not(:disabled)'));
  const look = () => v.js(() => [...document.querySelectorAll('.consent-prefs input.consent-switch:not(:disabled)')]
    .map((e) => ({ on: e.checked, track: getComputedStyle(e).backgroundColor, knob: getComputedStyle(e, '::after').backgroundColor })));
  const [off] = await look();
  assert.equal(off.on, false);
  await v.page.locator('.consent-prefs input.consent-switch:not(:disabled)').first().check();
  const [on] = await look();
  assert.equal(on.on, true);
  assert.notEqual(off.knob, off.track, 'off: the knob stands out from the track');
  assert.notEqual(on.knob, on.track, 'on: the knob stands out from the track');
  assert.notEqual(on.track, off.track, 'on and off have different tracks');
});

// 10. The first layer does not hide what the keyboard focuses in the page (WCAG 2.2, 2.4.11
// Focus Not Obscured): the page's scroll padding grows to the layer's height while it is on
// screen along the bottom edge, so a link tabbed to scrolls clear of it, the page's last links
// too; the page's own padding comes back after. (Along the top edge the banner does nothing.)
bannerTest('a link tabbed to in the page scrolls clear of the first layer', async (visitor) => {
  const links = Array.from({ length: 40 }, (_, i) => `<p><a href="#l${i}" id="l${i}">link ${i}</a></p>`).join('');
  for (const [layout, position, width, height, from] of [['bar', 'bottom', 1280, 800, 0], ['box', 'bottom', 390, 700, 0], ['box', 'bottom-left', 1280, 800, 0]]) {
    const v = await visitor();
    await v.page.setViewportSize({ width, height });
    // The page's own scroll padding, set before the banner starts.
    const pre = "document.documentElement.style.scrollPaddingBottom = '3px';";
    await v.open({ config: config('c10p'), body: links, dataset: { layout, position }, pre });
    await v.waitFor(() => !!document.querySelector('.consent-banner button'));
    // Down the page and back up.
    await v.js((id) => document.getElementById(id).focus(), `l${from}`);
    const down = Array.from({ length: 39 - from }, (_, i) => from + 1 + i);
    const up = Array.from({ length: 39 - from }, (_, i) => 38 - i);
    for (const [key, ids] of [['Tab', down], ['Shift+Tab', up]]) {
      for (const i of ids) {
        await v.page.keyboard.press(key);
        const r = await v.js(() => {
          const a = document.activeElement.getBoundingClientRect();
          const b = document.querySelector('.consent-banner').getBoundingClientRect();
          return { id: document.activeElement.id, hidden: a.top >= b.top && a.bottom <= b.bottom && a.left >= b.left && a.right <= b.right };
        });
        assert.equal(r.id, `l${i}`);
        assert.equal(r.hidden, false, `${layout} at the ${position}, ${width}x${height}: link ${i} (${key}) is behind the first layer`);
      }
    }
    await v.press('Reject all');
    assert.equal(await v.js(() => document.documentElement.style.scrollPaddingBottom), '3px', "the page's own scroll padding is back");
  }
});

// ---- 11. Strict CSP ---------------------------------------------------------------------

// 11. Strict CSP: the banner adds no inline style or script: only classes and elements. The
//     page is served with a strict policy, which reports any violation. The one style it
//     writes, the room it makes for the first layer at the page's end (the page's scroll
//     padding and its root's padding), goes through the CSSOM, which `style-src 'self'`
//     allows: it is in place while the first layer is shown, and gone with it.
bannerTest('nothing inline for a strict CSP', async (visitor) => {
  const v = await visitor();
  await v.open({ csp: STRICT_CSP, body: "<iframe data-category='marketing' data-src='about:blank'></iframe>" });
  const before = await v.js(() => document.querySelectorAll('style, script').length);
  assert.equal(await v.run(config('c11')), true);
  await v.waitFor(() => !!document.querySelector('.consent-banner button'));
  await v.waitFor(() => parseFloat(getComputedStyle(document.querySelector('[data-consent-ui]')).paddingBottom) > 100
    && parseFloat(getComputedStyle(document.documentElement).scrollPaddingBottom) > 100);
  await v.api('showPreferences');
  await v.waitFor(() => !!document.querySelector('.consent-prefs') && !!document.querySelector('.consent-embed'));
  // The preferences' stylesheet is a link right after the banner's own, loaded, and styles
  // the dialog (a strict `style-src 'self'` allows it).
  assert.ok(await v.js(() => {
    const prefs = document.querySelector('link[href$="/consent-prefs.css"]');
    return prefs?.previousElementSibling?.getAttribute('href').endsWith('/consent.css') && !!prefs.sheet
      && getComputedStyle(document.querySelector('.consent-overlay')).position === 'fixed';
  }));
  assert.equal(await v.js(() => document.querySelectorAll(
    '[data-consent-ui] [style], .consent-embed [style], .consent-embed[style]').length), 0);
  assert.equal(await v.js(() => document.querySelector('[data-consent-ui]').style.cssText), '', 'the room is gone with the layer');
  assert.equal(await v.js(() => document.querySelectorAll('style, script').length), before);
  assert.equal(await v.js(() => document.querySelectorAll(
    '[data-consent-ui] [onclick], [data-consent-ui] [onkeydown]').length), 0);
  await v.settle();
  assert.deepEqual(await v.js(() => window.__violations), [], 'no CSP violation');
  assert.deepEqual(v.errors, [], 'no console error');
});

// 11. The site embedding (inline config with data-* options) under the strict policy: the
//     banner renders, revives allowed external scripts and embeds, and violates nothing.
bannerTest('inline config starts and gates under a strict CSP', async (visitor) => {
  const v = await visitor();
  await v.open({
    csp: STRICT_CSP,
    lang: 'fi',
    config: config('c11b'),
    dataset: { layout: 'bar', theme: 'dark' },
    body: `<script type="text/plain" data-category="necessary" data-src="/log/t11b/necessary.js"></script>
      <script type="text/plain" data-category="analytics" data-src="/log/t11b/analytics.js"></script>
      <iframe data-category="marketing" data-src="/favicon.ico#map" id="map" title="map"></iframe>`,
  });
  assert.equal(await v.js(() => document.querySelector('[data-consent-ui]').className),
    'consent-root consent-bar consent-pos-bottom consent-theme-dark');
  await v.waitFor(() => window.__log.includes('necessary'));
  // The placeholder comes with its script, stylesheet and texts: not before the necessary
  // script has run, nor necessarily after it.
  await v.waitFor(() => !!document.querySelector('.consent-embed'));
  await v.settle();
  assert.deepEqual(await v.log(), ['necessary']);
  assert.equal(hits('/log/t11b/analytics.js'), 0, 'analytics not loaded before consent');
  await v.press('Hyväksy kaikki');
  await v.waitFor(() => window.__log.includes('analytics'));
  assert.equal(await v.js(() => document.getElementById('map').getAttribute('src')), '/favicon.ico#map');
  await v.settle();
  assert.deepEqual(await v.js(() => window.__violations), [], 'no CSP violation');
  assert.deepEqual(v.errors, [], 'no console error');
});

// ---- 12. Bad input ----------------------------------------------------------------------

// 12. Bad input: an invalid config logs one error naming each wrong field and allows only
//     necessary; a malformed or foreign cookie is no consent; config text is never HTML.
bannerTest('a config that does not compile is refused by its build, naming every problem', async () => {
  // The banner reads only what `consent banner build` compiled; a config with problems never
  // becomes a policy, and the build says what and where, as `consent validate` does.
  const bad = config('c12', (c) => {
    c.categories[1].enabled_by_default = true;
    c.revision = 'one';
  });
  assert.throws(() => compiled(bad), (e) => {
    const said = String(e.stderr);
    return said.includes('revision: expected a whole number') && said.includes('categories[1].enabled_by_default');
  });
});

// 12. A page that still embeds its JSON config, or gives one to `run`, is told how to compile
//     it, once, and only the necessary runs (the gated necessary script does, nothing else).
//     So is a page whose policy is damaged, cut short or not a policy at all.
bannerTest('a JSON config or a damaged policy fails closed with one console error', async (visitor) => {
  const good = JSON.stringify(config('c12b'));
  const policy = routes.get(compiled(config('c12b'))).body;
  const damaged = Buffer.from(policy);
  damaged[40] ^= 1;
  routes.set('/p/damaged/policy.bin', { type: 'application/octet-stream', body: damaged });
  routes.set('/p/cut/policy.bin', { type: 'application/octet-stream', body: policy.subarray(0, policy.length - 9) });
  for (const [how, source, said] of [
    ['inline JSON', { config: good }, 'consent banner build'],
    ['JSON to run', good, 'consent banner build'],
    ['an object to run', config('c12b'), 'consent banner build'],
    ['damaged', '/p/damaged/policy.bin', 'checksum'],
    ['cut short', '/p/cut/policy.bin', 'cut short'],
    ['not there', '/p/none/policy.bin', 'did not load'],
  ]) {
    const v = await visitor();
    if (typeof source === 'object' && source.config) {
      await v.open({ body: SCRIPTS, ...source });
    } else {
      await v.open({ body: SCRIPTS });
      const ran = await v.page.evaluate((s) => window.Consent.run(s), source);
      assert.equal(ran, false, how);
    }
    await until(() => v.errors.length >= 1, `the console error (${how})`);
    await v.settle();
    assert.equal(v.errors.filter((e) => e.startsWith('consent:')).length, 1, `${how}: one error: ${v.errors}`);
    assert.ok(v.errors.some((e) => e.includes(said)), `${how}: ${v.errors}`);
    assert.equal(await v.api('acceptedCategory', 'analytics'), false, how);
    assert.equal(await v.bannerShown(), false, how);
    assert.deepEqual(await v.log(), ['necessary'], `${how}: only the necessary runs`);
  }
});

// Two calls of Consent.run: the latest wins, even when the earlier one settles after it
// (the module started by its script tag, then the site's own call, say).
bannerTest('the latest Consent.run wins, whatever order the calls settle in', async (visitor) => {
  const v = await visitor();
  await v.open({ body: SCRIPTS });
  const slow = compiled(config('c-slow'));
  let release;
  const held = new Promise((done) => { release = done; });
  await v.page.route(`**${slow}`, async (route) => { await held; await route.continue(); });
  const first = v.page.evaluate((url) => window.Consent.run(url, { layout: 'box' }), slow);
  assert.equal(await v.run(config('c-fast'), { layout: 'bar' }), true);
  release();
  assert.equal(await first, false, 'the earlier call, settled later, says it did not start the banner');
  await v.settle();
  assert.equal(await v.js(() => document.querySelectorAll('[data-consent-ui]').length), 1);
  assert.ok(await v.js(() => document.querySelector('[data-consent-ui]').classList.contains('consent-bar')), 'the later call\'s layout');
  assert.deepEqual(v.errors, []);
});

// 12. A malformed, foreign, outdated or other site's cookie grants nothing.
bannerTest('malformed or foreign cookies grant nothing', async (visitor) => {
  for (const [i, value] of ['garbage', '1.AAAA', '2.eyJhbGciOiJub25lIn0', '', '1.%%%'].entries()) {
    const v = await visitor();
    await v.open({ body: SCRIPTS });
    const name = `c12c${i}`;
    await v.js(([n, val]) => { document.cookie = `${n}=${val}; Path=/`; }, [name, value]);
    assert.ok(await v.js((n) => document.cookie.includes(`${n}=`), name), 'the test cookie is set');
    assert.equal(await v.run(config(name)), true);
    assert.ok(await v.bannerShown(), `${JSON.stringify(value)} must count as no consent`);
    assert.equal(await v.api('acceptedCategory', 'analytics'), false);
    assert.deepEqual(await v.log(), ['necessary'], `${JSON.stringify(value)}: only necessary runs`);
  }
  // A decision made under another revision asks again.
  const r = await visitor();
  await r.open();
  assert.equal(await r.run(config('c12r')), true);
  await r.press('Accept all');
  await r.open({ body: SCRIPTS });
  assert.equal(await r.run(config('c12r', (c) => { c.revision = 2; })), true);
  assert.ok(await r.bannerShown());
  assert.deepEqual(await r.log(), ['necessary']);
  // A decision made on another site (another `site` id, same categories and revision) grants
  // nothing here: the banner cannot check signatures, but the site is part of the config
  // fingerprint the token carries.
  const s = await visitor();
  await s.open();
  assert.equal(await s.run(config('c12s', (c) => { c.site = 'other-clinic'; })), true);
  await s.press('Accept all');
  await s.open({ body: SCRIPTS });
  assert.equal(await s.run(config('c12s', (c) => { c.site = 'our-clinic'; })), true);
  assert.ok(await s.bannerShown(), "another site's decision asks again");
  assert.equal(await s.api('acceptedCategory', 'analytics'), false);
  assert.deepEqual(await s.log(), ['necessary']);
  // The same site's decision is honoured.
  await s.open({ body: SCRIPTS });
  assert.equal(await s.run(config('c12s', (c) => { c.site = 'other-clinic'; })), true);
  assert.equal(await s.bannerShown(), false);
});

// 12. Config text is text, never HTML.
bannerTest('config text is text never html', async (visitor) => {
  const v = await visitor();
  await v.open();
  const evil = '<img src=x id=evil onerror="window.__log.push(\'xss\')">';
  assert.equal(await v.run(config('c12h', (c) => { c.texts = { en: { banner_title: evil } }; })), true);
  assert.equal(await v.js(() => document.querySelector('.consent-banner h2').textContent), evil);
  assert.ok(await v.js(() => !document.getElementById('evil')));
  await v.settle();
  assert.deepEqual(await v.log(), []);
  assert.equal(requests.filter((q) => q.path.endsWith('/x')).length, 0, 'no image was requested');
});

// 12. Markup that names a category or service the policy does not have (a typo, a list where
//     one id belongs) never loads, whatever the visitor decides, and the console says so once
//     per markup; no placeholder offers to allow it. It was silent. Blanks around the ids,
//     and after `!`, are no such mistake.
bannerTest('markup naming what the policy lacks gets one console warning each', async (visitor) => {
  const v = await visitor();
  await v.open({
    body: `<script type="text/plain" data-category="analytics marketing">window.__log.push('list')</script>
    <script type="text/plain" data-category="analytics marketing">window.__log.push('list-again')</script>
    <iframe data-category="analytics,marketing" data-src="about:blank#list"></iframe>
    <script type="text/plain" data-category="analytic">window.__log.push('typo')</script>
    <iframe data-category="marketing" data-service="youtub" data-src="about:blank#svc"></iframe>
    <script type="text/plain" data-category=" analytics ">window.__log.push('analytics')</script>
    <script type="text/plain" data-category="! marketing">window.__log.push('no-marketing')</script>`,
  });
  assert.equal(await v.run(config('c12l')), true);
  assert.equal(await v.js(() => document.querySelectorAll('[data-consent-placeholder]').length), 0,
    'no placeholder offers what can never load');
  await v.press('Accept all');
  await v.waitFor(() => window.__log.length >= 1);
  // Another decision, and the same list added by the page later: no second warning.
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.js(() => {
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-category', 'analytics marketing');
    document.body.append(s);
  });
  await v.settle();
  assert.deepEqual(await v.log(), ['analytics']);
  assert.equal(await v.js(() => document.querySelectorAll('iframe[src]').length), 0);
  const ours = v.warnings.filter((w) => w.startsWith('consent:'));
  const never = 'names no category or service of the policy, so the element never loads';
  assert.deepEqual(ours, [
    `consent: data-category="analytics marketing" ${never}`,
    `consent: data-category="analytics,marketing" ${never}`,
    `consent: data-category="analytic" ${never}`,
    `consent: data-category="marketing" data-service="youtub" ${never}`,
  ]);
});

// ---- The JavaScript API -----------------------------------------------------------------

// The JavaScript API: acceptCategory, getConsent, reset, consent:first.
bannerTest('api decides, reports and resets', async (visitor) => {
  const v = await visitor();
  await v.open({ body: `<script type="text/plain" data-category="analytics">window.__log.push('ga')</script>` });
  await v.js(() => {
    window.firsts = [];
    window.addEventListener('consent:first', (e) => window.firsts.push(e.detail.categories.join()));
  });
  assert.equal(await v.run(config('c13')), true);
  assert.equal(await v.api('getConsent'), null);
  assert.equal(await v.api('acceptCategory', ['analytics', 'analitycs']), false);
  await until(() => v.errors.length >= 1, 'the console error');
  assert.equal(v.errors.length, 1, `${v.errors}`);
  assert.ok(v.errors[0].includes('analitycs'), v.errors[0]);

  assert.equal(await v.api('getConsent'), null, 'a bad call decides nothing');
  assert.equal(await v.api('acceptCategory', ['analytics']), true);
  assert.equal(await v.js(() => window.firsts.join(';')), 'necessary,analytics');
  const consent = await v.api('getConsent');
  assert.equal(consent.consentId.length, 32);
  assert.notEqual(consent.consentId, '0'.repeat(32), 'the id comes from crypto.getRandomValues');
  assert.ok(Math.abs(consent.lastDecision - Date.now()) < 5_000, 'the time comes from Date.now()');
  await v.js(() => { document.cookie = '_ga=1; Path=/'; });
  await v.api('reset');
  assert.ok(await v.bannerShown());
  assert.equal(await v.api('getConsent'), null);
  assert.equal(await v.js(() => document.cookie.includes('c13=')), false);
  assert.equal(await v.js(() => document.cookie.includes('_ga=')), false);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  assert.equal(await v.api('acceptCategory', []), true);
  assert.equal((await v.api('getConsent')).method, 'reject_all');
});

// ---- The server-rendered first layer ----------------------------------------------------

bannerTest('a server-rendered first layer is taken over, not doubled', async (visitor) => {
  const v = await visitor();
  // What consent-server's `nojs::first_layer` puts in the page for visitors without
  // JavaScript.
  await v.open({
    body: '<div class="consent-root" data-consent-ui data-consent-nojs><form class="consent-banner" method="post" '
      + 'action="/consent/form"><button class="consent-btn" name="action" value="reject_all">Hylkää kaikki</button></form></div>',
  });
  assert.equal(await v.js(() => document.querySelectorAll('.consent-banner').length), 1);
  assert.equal(await v.run(config('c9')), true);
  assert.equal(await v.js(() => document.querySelectorAll('[data-consent-nojs]').length), 0,
    'the rendered markup is removed');
  assert.equal(await v.js(() => document.querySelectorAll('.consent-banner').length), 1, 'one banner: the WebAssembly one');
  assert.equal(await v.js(() => !!document.querySelector('.consent-banner form, form.consent-banner')), false);
  // It was on screen already: it is not animated in a second time.
  assert.equal(await v.js(() => getComputedStyle(document.querySelector('.consent-banner')).animationName), 'none');
});

bannerTest('a server-rendered first layer stays when the config is malformed', async (visitor) => {
  const v = await visitor();
  await v.open({ body: '<div data-consent-nojs id="nojs"><form class="consent-banner"></form></div>' });
  assert.equal(await v.run('{not json'), false);
  assert.ok(await v.js(() => !!document.getElementById('nojs')), 'the form still works when the banner cannot start');
});

// ---- Services kept off some pages -------------------------------------------------------

bannerTest('a service kept off this page never loads here, even with consent', async (visitor) => {
  const v = await visitor();
  // This page's own path, kept off for the pixel only.
  const here = `/site/booking-${Date.now()}`;
  addPage({
    path: here,
    body: `
    <script type="text/plain" data-category="marketing" data-service="facebook-pixel">window.__log.push('pixel')</script>
    <script type="text/plain" data-category="marketing" data-service="google-ads">window.__log.push('ads')</script>`,
  });
  await v.open(here);
  assert.equal(await v.js(() => location.pathname), here);
  const cfg = config('c10', (c) => { c.categories[2].services[1].exclude_paths = [here]; });
  assert.equal(cfg.categories[2].services[1].id, 'facebook-pixel');
  assert.deepEqual(cfg.categories[2].services[1].exclude_paths, [here]);
  assert.equal(await v.run(cfg), true);
  assert.equal(await v.api('acceptCategory', 'all'), true);
  await v.settle();
  assert.deepEqual(await v.log(), ['ads'], 'the pixel stays off this page');
  assert.equal(await v.api('acceptedService', 'google-ads'), true);
  assert.equal(await v.api('acceptedService', 'facebook-pixel'), false);
  assert.equal(await v.api('acceptedCategory', 'marketing'), true);
});

// ---- The entrance animation ------------------------------------------------------------

bannerTest('a banner drawn from scratch rises in, visible from its first frame', async (visitor) => {
  // The counterpart of the takeover test: the stylesheet is loaded and animates a new banner.
  const v = await visitor();
  await v.open();
  assert.equal(await v.run(config('c11')), true);
  const b = await v.js(() => {
    const el = document.querySelector('.consent-banner');
    return {
      name: getComputedStyle(el).animationName,
      // What the animation changes: never the opacity, so "Accept all" can be seen (and
      // clicked) from the first frame, not after a fade.
      props: el.getAnimations().flatMap((a) => a.effect.getKeyframes().flatMap((k) => Object.keys(k)))
        .filter((k) => !['offset', 'computedOffset', 'easing', 'composite'].includes(k)),
      visible: el.checkVisibility({ opacityProperty: true }),
    };
  });
  assert.equal(b.name, 'consent-in');
  assert.ok(b.props.length > 0, 'the banner is animated');
  assert.ok(!b.props.includes('opacity'), `the animation leaves the opacity alone: ${b.props}`);
  assert.equal(b.visible, true);
});

bannerTest('an async module script gates what the page has after it', async (visitor) => {
  // `<script type="module" async>` runs as soon as it has loaded, possibly before the rest of
  // the page is parsed: the banner must wait for the whole page before it gates, or the
  // scripts after it would never run (and nothing would watch for them).
  const policy = compiled(config('c12'));
  const path = '/site/async';
  routes.set(path, {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>async</title>
<link rel="stylesheet" href="/consent/consent.css"><script src="/test/setup.js"></script>
<script type="module" async src="/consent/consent.js" data-policy="${policy}"></script></head><body><p>first part</p>\n`,
    tail: `<script type="text/plain" data-category="necessary" data-src="/log/async/late.js"></script>
<script type="text/plain" data-category="analytics" data-src="/log/async/ga.js"></script></body></html>\n`,
    delay: 600,
  });
  const v = await visitor();
  await v.open(path);
  await v.waitFor(() => window.__log.includes('late'));
  assert.equal(await v.bannerShown(), true);
  await v.settle();
  assert.deepEqual(await v.log(), ['late'], 'the necessary script ran once, analytics did not');
});

// 6. A script the banner revives may decide again at once: its decision is sent after the
//    decision that revived it, so the log has them in the order they were made.
bannerTest('a decision made by a revived script is sent after the one that revived it', async (visitor) => {
  const v = await visitor();
  await v.context.addInitScript(() => {
    window.__sent = [];
    const real = window.fetch;
    window.fetch = function (input, init) {
      // The token's method (core/src/runtime/token.rs): the id, three varints (first decision,
      // delta, revision) and the fingerprint, then the flags, whose low 3 bits it is.
      if (init?.method === 'POST') {
        const b64 = JSON.parse(init.body).token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        let i = 16;
        for (let varints = 0; varints < 3; i++) if (bytes[i] < 0x80) varints++;
        const methods = ['accept_all', 'reject_all', 'custom', 'withdraw', 'gpc'];
        window.__sent.push(methods[bytes[i + 4] & 7]);
      }
      return real.call(this, input, init);
    };
  });
  await v.open({
    body: '<script type="text/plain" data-category="analytics">window.__log.push("ga"); Consent.acceptCategory(["marketing"]);</script>',
  });
  assert.equal(await v.run(config('c13', (c) => { c.endpoint = '/consent-endpoint'; })), true);
  await v.press('Accept all');
  await v.waitFor(() => window.__sent.length === 2);
  assert.deepEqual(await v.js(() => window.__sent), ['accept_all', 'withdraw']);
  assert.deepEqual(await v.log(), ['ga'], 'the script ran once');
  assert.deepEqual((await v.api('getConsent')).categories, ['necessary', 'marketing']);
});
