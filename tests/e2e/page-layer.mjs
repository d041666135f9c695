// consent-gate's page layer in Debian's headless Chromium, served by its `static_site`
// example, where the demo (tests/e2e/run.mjs) does not go:
// - under a nonce-based Content-Security-Policy: the page layer holds the banner's module
//   script back until after the first frame and puts it back from a script of its own, so
//   both must carry the response's nonce; so must the Consent Mode script it writes, the
//   analytics tag it makes live for a returning visitor, and the one the banner revives after
//   "Accept all". The policy allows no script by origin (no 'self'): any of them without the
//   nonce is refused, and the test sees the violation;
// - with gzip outside the layer (the order its docs ask for): pages rewritten, then
//   compressed; and inside it: every page passes through as the site wrote it, and the
//   banner alone does the gating, as on a site without the layer.
//
//   GATE_BIN=target/debug/examples/static_site node --test tests/e2e/page-layer.mjs
//
// (`cargo build -p consent-gate --all-features --example static_site` builds GATE_BIN.)
// Every wait is on a condition, bounded; the whole file takes a few seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = resolve(process.env.GATE_BIN ?? join(root, 'target/debug/examples/static_site'));
const work = mkdtempSync(join(tmpdir(), 'consent-gate-csp-'));
const WAIT = 10_000;
// A fixed nonce: the test server sends the same policy with every page (static_site's --csp).
const NONCE = 'bm9uY2UtZm9yLXRlc3Rz';
const CSP = `default-src 'self'; script-src 'nonce-${NONCE}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'`;

// The example clinic without an endpoint: a static site keeps its decisions in the browser.
const config = JSON.parse(readFileSync(join(root, 'core/src/example_config.json'), 'utf8'));
delete config.endpoint;
writeFileSync(join(work, 'config.json'), JSON.stringify(config));
const site_dir = join(work, 'site');
mkdirSync(site_dir);
writeFileSync(join(site_dir, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A page under a nonce policy</title>
<link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js" nonce="${NONCE}"></script>
</head><body><h1>A page under a nonce policy</h1>
<script type="text/plain" data-category="analytics" data-service="ga" data-src="/analytics.js"></script>
<button type="button" data-consent-open>Cookie settings</button>
</body></html>`);
writeFileSync(join(site_dir, 'analytics.js'), 'window.__ran = (window.__ran || 0) + 1;\n');
// Markup a visitor wrote into a page (a comment), carrying the end script's mark where the
// layer's parser (lol_html) reads text and Chromium's tree builder makes elements: inside
// foreign content that lol_html takes for HTML (a raw-text `<style>`) or for SVG (a CDATA
// section), each a `script[data-consent-js]` in the DOM.
const FORGED = [
  '<math><mi><mglyph><style><script type="text/plain" data-consent-js="/evil.js?1"></script></style></mglyph></mi></math>',
  '<math><svg><title><style><script type="text/plain" data-consent-js="/evil.js?2"></script></style></title></svg></math>',
  '<svg><math><mi><style><script type="text/plain" data-consent-js="/evil.js?3"></script></style></mi></math></svg>',
  '<svg/><![CDATA[><script type="text/plain" data-consent-js="/evil.js?4"></script>]]>',
];
writeFileSync(join(site_dir, 'comments.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Comments</title>
<link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js" nonce="${NONCE}"></script>
</head><body><h1>Comments</h1>
<div class="comment">${FORGED.join('\n')}</div>
</body></html>`);
writeFileSync(join(site_dir, 'evil.js'), 'window.__evil = (window.__evil || 0) + 1;\n');
// A page without <head> and <body> tags (as a minifier writes it), with a comment before its
// scripts that shows lol_html a <script> Chromium reads in a <style>'s text.
writeFileSync(join(site_dir, 'minified.html'), `<!doctype html><html lang="en"><meta charset="utf-8"><link rel="icon" href="data:,"><title>Comments</title>
<div class="comment"><svg/><style><script></script></style></div>
<script src="/analytics.js"></script>`);
// The same without a <title> or a <meta> naming the charset either: Consent Mode has no
// anchor before the comment, which shows lol_html a <script> Chromium reads as a comment in
// a MathML <style>.
writeFileSync(join(site_dir, 'bare.html'), `<!doctype html><html lang="en"><link rel="icon" href="data:,">
<div class="comment"><math><mi><mglyph><style><!--</style><script></script>--></style></mglyph></mi></math></div>
<script src="/analytics.js"></script>`);
// Gated scripts and the banner's stylesheet in a comment, where lol_html reads SVG or MathML
// on and Chromium a <style>'s or a <textarea>'s text; and the page's own gated tag after it.
const IN_TEXT = [
  '<svg/><style><script type="text/plain" data-category="analytics" data-service="ga" data-src="/evil.js?1"></script><link rel="stylesheet" href="/consent/consent.css"></style>',
  '<math/><textarea><script type="text/plain" data-category="analytics" data-service="ga" data-src="/evil.js?2"></script></textarea>',
  '<svg><foreignObject><div></foreignObject><title><script type="text/plain" data-category="analytics" data-service="ga" data-src="/evil.js?3"></script></title></div></foreignObject></svg>',
];
writeFileSync(join(site_dir, 'in-text.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Comments</title>
<link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js" nonce="${NONCE}"></script>
</head><body><h1>Comments</h1>
<div class="comment">${IN_TEXT.join('\n')}</div>
<script type="text/plain" data-category="analytics" data-service="ga" data-src="/analytics.js"></script>
</body></html>`);
// A comment with a form it leaves open, as a browser keeps it open to the page's end.
writeFileSync(join(site_dir, 'open-form.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Comments</title></head>
<body><div class="comment"><form method="post" action="/elsewhere">Hi!</div>
</body></html>`);
// Comments that leave open what the page's own end tags after them do not close, as
// Chromium parses them: the first layer went into a link, a select, a table's comment, a
// template, or a text element's text, and the end script with it.
const LEFT_OPEN = ['<a href="/elsewhere">', '<select>', '<table><tr><td>', '<template>', '<textarea>', '<noscript>', '<svg><foreignObject>', '<!--'];
LEFT_OPEN.forEach((open, i) => writeFileSync(join(site_dir, `open-${i}.html`), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Comments</title>
<link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js"></script>
</head><body><div class="comment">${open}Hi!</div>
</body></html>`));
// A comment with a `</body>` that lol_html reads as a tag (it takes what follows `<svg/>` for
// SVG) and Chromium as a `<style>`'s text (it closes `<svg/>` at once).
writeFileSync(join(site_dir, 'swallow.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Comments</title>
<link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js"></script>
</head><body><div class="comment"><svg/><style></body></style></div>
<h2>More comments</h2>
</body></html>`);

let browser;
const servers = [];

/** static_site over the page above with `args`; resolves to its origin. */
async function site(...args) {
  const server = spawn(bin, ['--config', join(work, 'config.json'), '--root', site_dir, '--mount', `/consent/=${join(root, 'wasm/dist')}`,
    '--listen', '127.0.0.1:0', '--for', '300', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(server);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('static_site did not listen within 30 s')), 30_000);
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    server.once('exit', (code) => { clearTimeout(timer); fail(new Error(`static_site exited (${code})`)); });
  });
}

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.kill();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh visitor whose pages record every CSP violation and console error. */
async function visitor() {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const errors = [];
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

test('page layer under a nonce policy: the banner held back, put back and revived scripts all run with the nonce, and nothing is refused', async () => {
  const base = await site('--csp', CSP);
  const v = await visitor();
  // A new visitor: the first layer is in the page; the banner, put back after the first
  // contentful paint by the layer's script, takes it over.
  const response = await v.page.goto(base + '/');
  const html = await response.text();
  assert.equal(response.headers()['content-security-policy'].includes(`'nonce-${NONCE}'`), true);
  assert.match(html, /data-consent-nojs/, 'the first layer in the HTML');
  assert.match(html, new RegExp(`<script type="text/plain" nonce="${NONCE}" data-consent-js="/consent/consent.js"></script><script nonce="${NONCE}" data-consent-src="/consent/consent.js">\\{const me=`), 'the module held back (nonce kept) just before the end script, which carries the nonce');
  await v.page.waitForFunction(() => !document.querySelector('[data-consent-nojs]') && document.querySelector('[data-consent-ui] .consent-banner'), null, { timeout: WAIT });
  assert.equal(await v.page.evaluate(() => window.__ran), undefined, 'nothing gated ran before a decision');
  // Neither the banner's stylesheet nor its module was asked for before the first contentful
  // paint was on screen: the layer's script waits for the browser's paint timing entry.
  const order = await v.page.evaluate(() => {
    const start = (path) => performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname === path)?.startTime;
    return { fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime, css: start('/consent/consent.css'), js: start('/consent/consent.js') };
  });
  assert.ok(order.fcp > 0 && order.css > order.fcp && order.js > order.fcp, `requested after the first contentful paint: ${JSON.stringify(order)}`);
  // "Accept all" in the banner: the analytics tag it revives runs under the policy.
  await v.page.locator('[data-consent-ui] .consent-banner').getByRole('button', { name: 'Accept all' }).click();
  await v.page.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  assert.deepEqual(await v.page.evaluate(() => window.__csp), []);

  // The same visitor returns: the layer made the tag live with the nonce; the banner, put
  // back after the first frame, agrees and runs nothing a second time.
  const again = await v.context.newPage();
  again.on('console', (m) => { if (m.type() === 'error') v.errors.push(m.text()); });
  const second = await (await again.goto(base + '/')).text();
  assert.match(second, new RegExp(`src="/analytics.js" nonce="${NONCE}"`), 'the tag live in the HTML, with the nonce');
  assert.doesNotMatch(second, /data-consent-nojs/);
  await again.waitForFunction(() => window.__ran === 1 && window.Consent?.acceptedCategory('analytics'), null, { timeout: WAIT });
  // The settings control opens the preferences under the policy too.
  await again.getByRole('button', { name: 'Cookie settings' }).click();
  await again.locator('.consent-prefs').waitFor({ state: 'visible', timeout: WAIT });
  assert.equal(await again.evaluate(() => window.__ran), 1, 'the tag ran once');
  assert.deepEqual(await again.evaluate(() => window.__csp), []);
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

/** The banner has taken over the server's first layer, or drawn its own. */
const banner = (page) => page.waitForFunction(() => !document.querySelector('[data-consent-nojs]') && document.querySelector('[data-consent-ui] .consent-banner'), null, { timeout: WAIT });
const acceptAll = (page) => page.locator('[data-consent-ui] .consent-banner').getByRole('button', { name: 'Accept all' }).click();

test('page layer with gzip outside it, as its docs ask: each page is rewritten for its visitor, then compressed', async () => {
  const base = await site('--compress', 'outside');
  const v = await visitor();
  const response = await v.page.goto(base + '/');
  assert.equal(response.headers()['content-encoding'], 'gzip');
  assert.match(response.headers()['cache-control'] ?? '', /private|no-store/);
  assert.match(response.headers().vary ?? '', /Cookie/);
  const html = await response.text();
  assert.match(html, /data-consent-nojs/, 'the first layer in the HTML');
  assert.match(html, /data-consent-js="\/consent\/consent\.js"/, 'the banner held back');
  await banner(v.page);
  await acceptAll(v.page);
  await v.page.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  const again = await v.context.newPage();
  const second = await again.goto(base + '/');
  assert.equal(second.headers()['content-encoding'], 'gzip');
  assert.match(await second.text(), /<script data-category="analytics" data-service="ga" src="\/analytics.js">/, 'the tag live in the HTML');
  await again.waitForFunction(() => window.__ran === 1 && window.Consent?.acceptedCategory('analytics'), null, { timeout: WAIT });
  assert.equal(await again.evaluate(() => window.__ran), 1, 'the tag ran once');
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('page layer with gzip inside it: pages pass through as the site wrote them, and the banner alone gates them', async () => {
  const base = await site('--compress', 'inside');
  const v = await visitor();
  const response = await v.page.goto(base + '/');
  assert.equal(response.headers()['content-encoding'], 'gzip');
  assert.doesNotMatch(response.headers().vary ?? '', /Cookie/, 'the site\'s own headers');
  const html = await response.text();
  assert.equal(html, readFileSync(join(site_dir, 'index.html'), 'utf8'), 'the page as written');
  await banner(v.page);
  assert.equal(await v.page.evaluate(() => window.__ran), undefined);
  await acceptAll(v.page);
  await v.page.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  const again = await v.context.newPage();
  const second = await (await again.goto(base + '/')).text();
  assert.match(second, /data-src="\/analytics.js"/, 'still inert as sent');
  await again.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('page layer under a strict-dynamic policy: an end-script mark a visitor wrote where lol_html reads text is never loaded', async () => {
  // Under 'strict-dynamic' a script that a trusted script adds runs whatever its URL: the
  // end script must add only the banner's module that the layer held back.
  const base = await site('--csp', CSP.replace("'wasm-unsafe-eval'", "'strict-dynamic' 'wasm-unsafe-eval'"));
  const v = await visitor();
  const html = await (await v.page.goto(base + '/comments.html')).text();
  for (const forged of FORGED) assert.ok(html.includes(forged), `passed through as text to the layer: ${forged}`);
  // Elements in Chromium, marked (or already loaded, if the end script took them).
  assert.equal(await v.page.evaluate(() => document.querySelectorAll('script[data-consent-js^="/evil.js"], script[src*="evil.js"]').length), FORGED.length);
  await banner(v.page);
  // The end script has run (the banner it put back is up): it added no script of the page's.
  assert.deepEqual(await v.page.evaluate(() => [...document.querySelectorAll('script[src*="evil.js"]')].map((s) => s.src)), []);
  assert.equal(await v.page.evaluate(() => window.__evil), undefined);
  // (The console has the CSP's refusal of the drawings' empty `<style>` elements.)
  await v.context.close();
});

test('page layer: a </body> in page content that Chromium reads as text takes neither the first layer nor the banner', async () => {
  const base = await site();
  const v = await visitor();
  await v.page.goto(base + '/swallow.html');
  assert.equal(await v.page.evaluate(() => document.querySelector('h2')?.textContent), 'More comments', 'the page is whole');
  await banner(v.page);
  assert.equal(await v.page.evaluate(() => document.querySelector('.comment style').textContent), '</body>', 'nothing of the layer in it');
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('page layer: a form page content leaves open does not take the first layer\'s buttons', async () => {
  const base = await site();
  // Without JavaScript, the first layer alone (the banner would draw its own in its place).
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/open-form.html');
  const posted = page.waitForRequest((r) => r.method() === 'POST', { timeout: WAIT });
  await page.locator('[data-consent-nojs]').getByRole('button', { name: 'Reject all' }).click();
  const request = await posted;
  assert.equal(new URL(request.url()).pathname, '/consent/form');
  assert.match(request.postData(), /action=reject_all/);
  await context.close();
});

test('page layer: Consent Mode\'s default runs on a page without a <head> tag, whatever a comment holds', async () => {
  const base = await site();
  const v = await visitor();
  await v.page.goto(base + '/minified.html');
  await v.page.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  const calls = await v.page.evaluate(() => (window.dataLayer ?? []).map((a) => [...a].slice(0, 2).join(' ')));
  assert.equal(calls[0], 'consent default', JSON.stringify(calls));
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('page layer: what page content leaves open (a link, a select, a table, a template, a text element) takes neither the first layer nor the banner', async () => {
  const base = await site();
  const wrong = [];
  // A case that goes wrong goes wrong at once: a shorter wait, so all are reported.
  const SHORT = 3_000;
  // Without JavaScript, the first layer alone: shown, in nothing the comment left open, no
  // link of the comment's in it, and posting to the layer.
  for (const [i, open] of LEFT_OPEN.entries()) {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/open-${i}.html`);
    const layer = page.locator('[data-consent-nojs]');
    const reject = layer.getByRole('button', { name: 'Reject all' });
    if (!(await layer.count()) || !(await reject.isVisible())) {
      wrong.push(`${open}: no first layer shown`);
      await context.close();
      continue;
    }
    // (In the comment's own `<div>` still, whose end tag was read in the select, table, and
    // so on: an ordinary element, and the layer is fixed to the viewport.)
    if (await layer.evaluate((l) => l.parentElement.closest('a, select, table, template, textarea, noscript, svg') !== null || l.querySelector('a:not(.consent-link)') !== null)) wrong.push(`${open}: in what the comment left open, or its link in the layer`);
    const posted = page.waitForRequest((r) => r.method() === 'POST', { timeout: SHORT }).catch(() => null);
    await reject.click({ timeout: SHORT }).catch(() => {});
    const request = await posted;
    if (new URL(request?.url() ?? 'about:none').pathname !== '/consent/form') wrong.push(`${open}: posted to ${request?.url()}`);
    await context.close();
  }
  // With it, the end script runs and the banner takes the first layer over.
  for (const [i, open] of LEFT_OPEN.entries()) {
    const v = await visitor();
    await v.page.goto(`${base}/open-${i}.html`);
    await v.page.waitForFunction(() => !document.querySelector('[data-consent-nojs]') && document.querySelector('[data-consent-ui] .consent-banner'), null, { timeout: SHORT })
      .catch(() => wrong.push(`${open}: no banner`));
    await v.context.close();
  }
  assert.deepEqual(wrong, []);
});

test('page layer: Consent Mode\'s default runs first on a page without <head>, <title> or charset <meta>, whatever a comment holds', async () => {
  const base = await site();
  const v = await visitor();
  await v.page.goto(base + '/bare.html');
  await v.page.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  const calls = await v.page.evaluate(() => (window.dataLayer ?? []).map((a) => [...a].slice(0, 2).join(' ')));
  assert.equal(calls[0], 'consent default', JSON.stringify(calls));
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('page layer under a nonce policy: the nonce never goes into text Chromium reads where lol_html guesses foreign content', async () => {
  const base = await site('--csp', CSP);
  const v = await visitor();
  await v.page.goto(base + '/');
  await banner(v.page);
  await acceptAll(v.page);
  await v.page.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  const page = await v.context.newPage();
  await page.goto(base + '/in-text.html');
  // The page's own tag runs (made live by the banner: right after `<svg/>`, lol_html reads
  // it as SVG's too, and the layer leaves it).
  await page.waitForFunction(() => window.__ran === 1, null, { timeout: WAIT });
  // Chromium hides a live element's nonce attribute (nonce=""): any copy left in the
  // document is text, a style's, a textarea's or a title's.
  const texts = await page.evaluate((nonce) => [...document.querySelectorAll('style, textarea, title, .comment')]
    .map((e) => e.textContent).filter((t) => t.includes(nonce)), NONCE);
  assert.deepEqual(texts, []);
  assert.equal(await page.evaluate((nonce) => document.documentElement.outerHTML.includes(nonce), NONCE), false);
  assert.equal(await page.evaluate(() => window.__evil), undefined);
  await v.context.close();
});

test('page layer: the first layer in the HTML is painted in place, and stays there as the banner\'s stylesheet loads and the banner takes it over', async () => {
  const base = await site();
  const v = await visitor();
  await v.context.addInitScript(() => {
    window.__animations = [];
    addEventListener('animationstart', (e) => window.__animations.push(`${e.animationName} on ${e.target.className}`), true);
  });
  await v.page.goto(base + '/');
  await banner(v.page);
  // The banner's own stylesheet has loaded (its rules apply to the layer it drew).
  await v.page.waitForFunction(() => [...document.styleSheets].some((s) => s.href?.endsWith('/consent/consent.css')), null, { timeout: WAIT });
  assert.deepEqual(await v.page.evaluate(() => window.__animations), [], 'no entrance animation at the first paint, nor after');
  // (A layer the banner draws itself still rises into place: banner.test.mjs, "The entrance
  // animation".)
  assert.deepEqual(v.errors, []);
  await v.context.close();
});
