// The playground (playground/, issue 17) in Debian's headless Chromium: served by `consent
// serve --demo` at /playground/ under its strict CSP, and as a plain static directory.
// A config with mistakes shows each with its path, in the words of `consent validate`; fixed,
// the real banner previews it in fi, sv and en, and a layout, position and theme switch
// takes effect; the declaration is `consent declaration`'s; the downloaded files are what
// `consent banner build` writes, byte for byte.
//
//   CONSENT_BIN=target/debug/consent node --test tests/e2e/playground.mjs
//
// Every wait is on a condition, bounded; the whole file takes a few seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = resolve(process.env.CONSENT_BIN ?? join(root, 'target/debug/consent'));
const work = mkdtempSync(join(tmpdir(), 'consent-playground-'));
const WAIT = 10_000;
// `consent banner build --dist` of an empty directory: the compiled files only.
const noDist = join(work, 'no-dist');
mkdirSync(noDist);

// The example clinic's config with a cookie and a revision of its own, so that what the page
// shows comes from what was typed, not from the example it starts with.
const good = JSON.parse(readFileSync(join(root, 'core/src/example_config.json'), 'utf8'));
good.revision = 3;
good.categories[1].services[0].cookies[0].name = '_pg_visitor';
const goodText = JSON.stringify(good, null, 2);
const goodFile = join(work, 'site.json');
writeFileSync(goodFile, goodText);
// Two mistakes: a provider left out, a lifetime the format does not read.
const bad = structuredClone(good);
delete bad.categories[1].services[0].provider;
bad.categories[1].services[0].cookies[0].lifetime = '13 months';
const badText = JSON.stringify(bad, null, 2);
const badFile = join(work, 'bad.json');
writeFileSync(badFile, badText);

let server, statics, browser;

/** `consent serve --demo` with its own log on a loopback port: 127.0.0.1 is a secure context,
 * which the preview's Service Worker needs. */
async function startServer() {
  const env = {
    ...process.env,
    CONSENT_ADMIN_TOKEN: 'playground-test-token',
    CONSENT_DB: join(work, 'consent.db'),
    CONSENT_KEY_FILE: join(work, 'consent.key'),
    CONSENT_PLAYGROUND: join(root, 'playground'),
  };
  const proc = spawn(bin, ['serve', '--demo', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('consent serve did not listen within 30 s')), 30_000);
    let seen = '';
    proc.stderr.on('data', (chunk) => {
      seen += chunk;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(seen);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`consent serve exited with ${code}: ${seen}`)); });
  });
  return { proc, base };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json',
};

/** The playground directory on a bare static server (no CSP, no special headers), as any
 * static host would serve it. */
async function startStatic() {
  const dir = join(root, 'playground');
  const http = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(dir, path));
    try {
      if (!file.startsWith(dir)) throw new Error('outside');
      const body = readFileSync(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => http.listen(0, '127.0.0.1', ok));
  return { http, base: `http://127.0.0.1:${http.address().port}` };
}

before(async () => {
  server = await startServer();
  statics = await startStatic();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.proc.kill('SIGTERM');
  statics?.http.close();
  rmSync(work, { recursive: true, force: true });
});

/** Polls `check` until it returns a truthy value; fails after `ms`. */
async function until(check, what, ms = WAIT) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 25));
  }
}

/** The playground at `url` in a fresh context, with every console error (a CSP violation is
 * one) collected. */
async function open(url) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors = [];
  page.on('console', (m) => {
    // The preview's Service Worker answers the banner's POST to the config's endpoint with a
    // 503 (the preview records nothing), which Chromium logs as a failed load.
    const refused = / 503 /.test(m.text()) && new URL(m.location().url, url).pathname === '/consent';
    if (m.type() === 'error' && !refused) errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  // Said as they come, so that a test that times out shows why.
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[${url}] ${m.text()}`); });
  page.on('pageerror', (e) => console.error(`[${url}] ${e.message}`));
  await page.goto(url);
  await page.locator('#status[data-state="valid"]').waitFor();
  return { context, page, errors };
}

/** Types `text` as the config and waits for the page to settle on `state`. */
async function typeConfig(page, text, state) {
  await page.locator('#config').fill(text);
  await page.locator(`#status[data-state="${state}"]`).waitFor();
}

/** The preview frame, once the banner says it has drawn (frame.js tells the page). */
async function banner(page) {
  await page.locator('#preview[data-state="shown"]').waitFor();
  const frame = page.frameLocator('#preview');
  await frame.locator('.consent-root [role="dialog"]').waitFor();
  return frame;
}

/** Sets one of the preview's options and waits for the preview to load anew. */
async function choose(page, name, value) {
  const before = await page.locator('#preview').getAttribute('src');
  await page.locator(`#options select[name="${name}"]`).selectOption(value);
  await until(async () => (await page.locator('#preview').getAttribute('src')) !== before, `the preview with ${name}=${value}`);
  return banner(page);
}

function cli(...args) {
  return spawnSync(bin, args, { encoding: 'utf8', cwd: work });
}

test('a mistake shows with its path; fixed, the banner previews in every language, layout, position and theme', async () => {
  const { context, page, errors } = await open(`${server.base}/playground/`);
  try {
    await typeConfig(page, badText, 'invalid');
    const shown = await page.locator('#problems li').allTextContents();
    // The same problems, in the same words, as `consent validate`.
    const validate = cli('validate', badFile);
    assert.equal(validate.status, 1);
    const lines = validate.stderr.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    assert.deepEqual(shown, lines);
    assert.ok(shown.includes('categories[1].services[0].provider: missing'), shown.join('\n'));
    assert.ok(shown.some((l) => l.startsWith('categories[1].services[0].cookies[0].lifetime: ')), shown.join('\n'));
    assert.equal(await page.locator('#problems li[data-path="categories[1].services[0].provider"]').count(), 1);
    assert.match(await page.locator('#files').textContent(), /None yet/, 'no files for a config with problems');

    await typeConfig(page, goodText, 'valid');
    assert.equal(await page.locator('#problems li').count(), 0);
    let frame = await banner(page);
    // The preview's banner opened its first layer without taking the focus (and the keys being
    // typed) from the editor: it moves focus into its dialog only while the preview has it.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'config', 'the editor keeps the focus');
    const titles = {};
    for (const lang of ['fi', 'sv', 'en']) {
      frame = await choose(page, 'lang', lang);
      const dialog = frame.locator('.consent-root [role="dialog"]');
      assert.equal(await dialog.getAttribute('lang'), lang);
      titles[lang] = await dialog.locator('#consent-title, h2').first().textContent();
    }
    assert.equal(new Set(Object.values(titles)).size, 3, `a title per language: ${JSON.stringify(titles)}`);
    execFileSync(bin, ['banner', 'build', goodFile, '--out', join(work, 'texts'), '--dist', noDist]);
    const sv = readFileSync(join(work, 'texts/texts-sv.json'), 'utf8');
    assert.ok(sv.includes(JSON.stringify(titles.sv.trim())), `the Swedish title comes from texts-sv.json: ${titles.sv}`);

    const root = frame.locator('.consent-root');
    assert.match(await root.getAttribute('class'), /\bconsent-box\b.*\bconsent-theme-light\b/);
    frame = await choose(page, 'layout', 'bar');
    assert.match(await frame.locator('.consent-root').getAttribute('class'), /\bconsent-bar\b/);
    frame = await choose(page, 'theme', 'dark');
    assert.match(await frame.locator('.consent-root').getAttribute('class'), /\bconsent-bar\b.*\bconsent-theme-dark\b/);
    frame = await choose(page, 'position', 'top');
    assert.match(await frame.locator('.consent-root').getAttribute('class'), /\bconsent-pos-top\b/);
    // The snippet carries the chosen options.
    assert.match(await page.locator('#snippet').textContent(),
      /<script type="module" src="\/consent\/consent\.js" data-layout="bar" data-position="top" data-theme="dark"><\/script>/);
    assert.match(await page.locator('#gated').textContent(), /data-category="analytics" data-service="ga"/);

    // A decision in the preview stays there: the banner closes, no cookie reaches the origin.
    await frame.locator('.consent-root [role="dialog"] button', { hasText: 'Accept all' }).click();
    await page.locator('#preview[data-state="decided"]').waitFor();
    await until(async () => (await frame.locator('.consent-root [role="dialog"]').count()) === 0, 'the banner to close');
    assert.deepEqual(await context.cookies(), [], 'the preview sets no cookie');
    assert.deepEqual(errors, [], 'no console errors (a CSP violation would be one)');
  } finally {
    await context.close();
  }
});

test('the declaration and the downloads are what the CLI makes of the same config', async () => {
  const { context, page, errors } = await open(`${server.base}/playground/`);
  try {
    await typeConfig(page, goodText, 'valid');
    await banner(page);
    for (const lang of ['fi', 'en']) {
      await choose(page, 'lang', lang);
      // The declaration is drawn after the status says "valid" and after the language is
      // chosen: wait for the typed config's cookie in the chosen language, not the example's.
      await page.waitForFunction((l) => {
        const t = document.querySelector('#declaration-html')?.textContent ?? '';
        return t.includes('_pg_visitor') && t.includes(`lang="${l}"`);
      }, lang, { timeout: 10000 });
      const html = await page.locator('#declaration-html').textContent();
      const want = execFileSync(bin, ['declaration', '--lang', lang, '--format', 'html', goodFile], { encoding: 'utf8' });
      assert.equal(html.trim(), want.trim(), `consent declaration --lang ${lang}`);
      assert.equal(await page.locator('#declaration th code', { hasText: /^_pg_visitor$/ }).count(), 1, 'the typed cookie is declared');
    }
    const out = join(work, 'cli');
    execFileSync(bin, ['banner', 'build', goodFile, '--out', out, '--dist', noDist]);
    const names = await page.locator('#files a').allTextContents();
    assert.deepEqual(names, ['policy.bin', 'texts-fi.json', 'details-fi.json', 'texts-sv.json', 'details-sv.json',
      'texts-en.json', 'details-en.json', 'site.json']);
    for (const name of names.filter((n) => n !== 'site.json')) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#files a', { hasText: name }).click()]);
      assert.equal(download.suggestedFilename(), name);
      const saved = join(work, `downloaded-${name}`);
      await download.saveAs(saved);
      assert.deepEqual(readFileSync(saved), readFileSync(join(out, name)), `${name}: what consent banner build writes`);
    }
    // The banner's own files: every one a page loads (the preferences' script and stylesheet,
    // and those of what only some pages use, too), as wasm/dist has them.
    const own = page.locator('#files-title ~ ul.files:not(#files) a');
    const ownNames = await own.allTextContents();
    assert.deepEqual(ownNames, ['consent.js', 'consent_bg.wasm', 'consent.css', 'consent-prefs.js', 'consent-prefs.css',
      'consent-extra.js', 'consent-extra.css']);
    for (const name of ownNames) {
      const link = own.filter({ hasText: new RegExp(`^${name.replaceAll('.', '\\.')}$`) });
      assert.equal(await link.getAttribute('download'), name);
      const served = await page.evaluate((href) => fetch(href).then((r) => (r.ok ? r.arrayBuffer() : null)).then((b) => b && [...new Uint8Array(b)]),
        await link.evaluate((a) => a.href));
      assert.ok(served, `${name}: served`);
      assert.deepEqual(Buffer.from(served), readFileSync(join(root, 'wasm/dist', name)), `${name}: wasm/dist's`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the playground works as a plain static directory', async () => {
  const { context, page, errors } = await open(`${statics.base}/`);
  try {
    await typeConfig(page, badText, 'invalid');
    assert.ok((await page.locator('#problems li').allTextContents()).includes('categories[1].services[0].provider: missing'));
    await typeConfig(page, goodText, 'valid');
    const frame = await choose(page, 'lang', 'sv');
    assert.equal(await frame.locator('.consent-root [role="dialog"]').getAttribute('lang'), 'sv');
    // The preferences open in the preview: their script and stylesheet come from banner/.
    await frame.locator('.consent-banner button').last().dispatchEvent('click');
    await frame.locator('.consent-prefs .consent-switch').first().waitFor({ timeout: WAIT });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#files a', { hasText: 'policy.bin' }).click()]);
    const saved = join(work, 'static-policy.bin');
    await download.saveAs(saved);
    execFileSync(bin, ['banner', 'build', goodFile, '--out', join(work, 'cli2'), '--dist', noDist]);
    assert.deepEqual(readFileSync(saved), readFileSync(join(work, 'cli2/policy.bin')));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
