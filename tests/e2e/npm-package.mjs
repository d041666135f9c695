// The npm package (npm/) as a static site gets it, with no Rust toolchain and no registry:
// `npm pack` (whose prepack copies wasm/dist and build/ in), `npm install` of the tarball
// into an empty site, `npx @consent-rs/banner build site.json public/consent/` with the
// example clinic's config, and the site served by a small static server on a loopback port
// under the strict CSP the README promises is enough. The banner is then driven in Debian's
// headless Chromium (playwright-core, from this directory's node_modules): the first layer,
// "Reject all" and "Accept all" each storing the decision, and a gated analytics script that
// runs after "Accept all" only. `npm publish --dry-run` must pass.
//
//   (cd tests/e2e && npm ci) && node --test tests/e2e/npm-package.mjs
//
// Every command and wait is bounded; the temporary directory goes away at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const pkgDir = join(root, 'npm');
const meta = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** The bound on every wait in the browser, in milliseconds. */
const WAIT = 10_000;
/** The bound on every npm command, in milliseconds. */
const NPM_WAIT = 60_000;
/** What the package README says a page needs: no inline script or style, WebAssembly allowed. */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:";
const BIN = Object.keys(meta.bin)[0];

const work = mkdtempSync(join(tmpdir(), 'consent-npm-'));
const site = join(work, 'site');
const publicDir = join(site, 'public');
/** npm's own cache for these commands, so they neither read nor fill the user's. */
const npmEnv = {
  ...process.env,
  npm_config_cache: join(work, 'npm-cache'),
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};
/** The example config as a static site has it: no `endpoint` (there is no log server). */
const config = JSON.parse(readFileSync(join(root, 'core/src/example_config.json'), 'utf8'));
delete config.endpoint;

let tarball, packed, buildOutput, server, origin, browser;
/** Every request the static server got, by path. */
const requests = [];

/** `npm <args>` (or npx) in `cwd`; its stdout, or a failure with its stderr. */
function npm(command, args, cwd) {
  return execFileSync(command, args, { cwd, env: npmEnv, encoding: 'utf8', timeout: NPM_WAIT, stdio: ['ignore', 'pipe', 'pipe'] });
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.bin': 'application/octet-stream' };

/** A static file server for `publicDir`, as any host would be: `/` is index.html, unknown
 * types and anything outside the directory are 404, every answer carries the CSP. */
async function serve(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  requests.push(path);
  const file = normalize(join(publicDir, path.endsWith('/') ? `${path}index.html` : path));
  const type = TYPES[extname(file)];
  let body = null;
  if (req.method === 'GET' && type && file.startsWith(publicDir + sep)) {
    body = await readFile(file).catch(() => null);
  }
  const headers = { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' };
  if (body === null) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
    return res.end('not found');
  }
  res.writeHead(200, { ...headers, 'Content-Type': type });
  res.end(body);
}

before(async () => {
  // Packed as `npm publish` packs it: prepack copies the committed builds in.
  const [info] = JSON.parse(npm('npm', ['pack', '--json', '--silent', '--pack-destination', work], pkgDir));
  packed = info;
  tarball = join(work, info.filename);

  // An empty static site: a page, a gated analytics script, nothing of the banner yet.
  mkdirSync(publicDir, { recursive: true });
  writeFileSync(join(site, 'package.json'), '{"name": "static-site", "private": true}\n');
  writeFileSync(join(site, 'site.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(publicDir, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>A static site</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js"></script>
</head>
<body>
<h1>A static site</h1>
<script type="text/plain" data-category="analytics" data-service="ga" data-src="/analytics.js"></script>
</body>
</html>
`);
  writeFileSync(join(publicDir, 'analytics.js'), 'window.analyticsRuns = (window.analyticsRuns || 0) + 1;\n');

  // Installed from the tarball alone (--offline: a runtime dependency would fail here), then
  // the README's command. --offline also keeps npx from fetching a published package.
  npm('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], site);
  buildOutput = npm('npx', ['--offline', meta.name, 'build', 'site.json', 'public/consent/'], site);

  server = createServer((req, res) => {
    serve(req, res).catch((e) => { res.writeHead(500); res.end(String(e)); });
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
  rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the banner, the compiler and its command, each as committed, and nothing else', () => {
  const banner = readdirSync(join(root, 'wasm/dist')).map((n) => `wasm/dist/${n}`);
  const compiler = readdirSync(join(root, 'build/dist')).map((n) => `build/dist/${n}`);
  const expected = ['README.md', 'package.json', 'bin/consent-banner.mjs', 'build/consent-build.mjs', ...compiler, ...banner];
  assert.deepEqual(packed.files.map((f) => f.path).sort(), expected.sort());
  const installed = join(site, 'node_modules', ...meta.name.split('/'));
  for (const file of [...banner, ...compiler, 'build/consent-build.mjs']) {
    assert.deepEqual(readFileSync(join(installed, file)), readFileSync(join(root, file)), `${file} is the repository's`);
  }
  // postpack removed the copies: the repository holds each file once.
  assert.equal(existsSync(join(pkgDir, 'wasm')) || existsSync(join(pkgDir, 'build')), false, 'copies left in npm/');
  assert.equal(meta.private, undefined);
  assert.deepEqual(Object.keys(meta.dependencies ?? {}), [], 'no runtime dependencies');
  const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8').match(/\[workspace\.package\][^[]*?\nversion = "([^"]+)"/);
  assert.equal(meta.version, cargo?.[1], 'the package has the crates\' version');
});

test('npm publish --dry-run passes', () => {
  const r = spawnSync('npm', ['publish', '--dry-run', '--offline'], { cwd: pkgDir, env: npmEnv, encoding: 'utf8', timeout: NPM_WAIT });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stderr.includes(`${meta.name}@${meta.version}`), r.stderr);
  assert.ok(r.stderr.includes('total files:'), r.stderr);
});

test('npx <package> build writes the policy, its texts and the banner into the site', () => {
  assert.match(buildOutput, /^public\/consent\/: policy\.bin \(\d+ B\), texts-fi\.json/);
  const out = join(publicDir, 'consent');
  assert.deepEqual(readdirSync(out).sort(), ['consent-extra.css', 'consent-extra.js', 'consent-prefs.css', 'consent-prefs.js', 'consent-signup.js',
    'consent.css', 'consent.d.ts', 'consent.js',
    'consent_bg.wasm', 'details-en.json', 'details-fi.json', 'details-sv.json', 'policy.bin',
    'texts-en.json', 'texts-fi.json', 'texts-sv.json']);
  for (const name of ['consent.js', 'consent_bg.wasm', 'consent.css']) {
    assert.deepEqual(readFileSync(join(out, name)), readFileSync(join(root, 'wasm/dist', name)), name);
  }
});

test('the command says what is wrong, with its exit status', () => {
  const run = (...args) => spawnSync('npx', ['--offline', BIN, ...args], { cwd: site, env: npmEnv, encoding: 'utf8', timeout: NPM_WAIT });
  const help = run('--help');
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: consent-banner build <config\.json> <out dir>/);
  assert.equal(run('--version').stdout.trim(), `${meta.name} ${meta.version}`);
  for (const [args, says] of [[[], /no command/], [['frob'], /unknown command "frob"/],
    [['build', 'site.json'], /needs a config file and an output directory/], [['build', '--fast', 'a', 'b'], /unknown option --fast/]]) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, says);
    assert.match(r.stderr, /--help/);
  }
  writeFileSync(join(site, 'bad.json'), '{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"}, {"id": "ads", "enabled_by_default": true}]}');
  const bad = run('build', 'bad.json', 'bad-out');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^bad\.json: invalid consent config/);
  assert.match(bad.stderr, /categories\[1\]\.enabled_by_default: not allowed/);
  assert.equal(existsSync(join(site, 'bad-out')), false, 'a config with problems writes nothing');
  const missing = run('build', 'nope.json', 'out');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^cannot read nope\.json/);
});

test('the exports resolve in the installed package', () => {
  const script = `
    import { createRequire } from 'node:module';
    import { existsSync } from 'node:fs';
    const require = createRequire(process.cwd() + '/');
    const paths = ['', '/consent.js', '/consent_bg.wasm', '/consent.css', '/consent-prefs.css', '/consent-prefs.js', '/consent-extra.css',
      '/consent-extra.js', '/consent-signup.js', '/compiler', '/package.json']
      .map((p) => require.resolve(${JSON.stringify(meta.name)} + p));
    const { compile, CompileError } = await import(${JSON.stringify(`${meta.name}/compiler`)});
    let error;
    try { compile('nope.json', 'out'); } catch (e) { error = e; }
    console.log(JSON.stringify({ paths, exist: paths.map((p) => existsSync(p)), compiler: error instanceof CompileError }));`;
  const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: site, encoding: 'utf8', timeout: NPM_WAIT }));
  assert.deepEqual(r.exist, r.paths.map(() => true), r.paths.join('\n'));
  assert.match(r.paths[0], /wasm\/dist\/consent\.js$/);
  assert.equal(r.compiler, true, 'compile() throws CompileError for a missing config');
  assert.ok(existsSync(join(site, 'node_modules', ...meta.name.split('/'), meta.types)), meta.types);
});

/** A visitor with no cookies on the site's home page, and what went wrong in it. */
async function visit() {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.setDefaultNavigationTimeout(WAIT);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  const cookie = async () => (await context.cookies()).find((c) => c.name === config.cookie.name);
  /** Loads the page until its network is idle, so a gated script that was going to load has. */
  const open = async () => {
    await page.goto(`${origin}/`, { waitUntil: 'networkidle' });
    await page.waitForFunction(() => typeof window.Consent?.getConsent === 'function');
  };
  await open();
  return { context, page, problems, cookie, open };
}

const analyticsLoads = () => requests.filter((p) => p === '/analytics.js').length;
const firstLayer = (page) => page.locator('[data-consent-ui] .consent-banner');
const button = (page, text) => page.locator('[data-consent-ui] button').filter({ hasText: new RegExp(`^${text}$`) });

test('the first layer appears; "Reject all" stores the refusal and the analytics script never runs', async () => {
  const loadsBefore = analyticsLoads();
  const v = await visit();
  try {
    await firstLayer(v.page).waitFor({ state: 'visible' });
    assert.equal(await v.cookie(), undefined, 'no cookie before a decision');
    await button(v.page, 'Reject all').click();
    await firstLayer(v.page).waitFor({ state: 'detached' });
    const stored = await v.cookie();
    assert.ok(stored, 'the consent cookie is set');
    const consent = await v.page.evaluate(() => window.Consent.getConsent());
    assert.equal(consent?.method, 'reject_all');
    assert.deepEqual(consent.categories, ['necessary']);
    // A second visit with the refusal: no first layer, and the analytics still waits.
    await v.open();
    assert.equal(await firstLayer(v.page).count(), 0, 'the first layer again after a decision');
    assert.equal(await v.page.evaluate(() => window.analyticsRuns ?? 0), 0);
    assert.equal(analyticsLoads(), loadsBefore, 'analytics.js was requested without consent');
    assert.deepEqual(v.problems, []);
  } finally {
    await v.context.close();
  }
});

test('"Accept all" stores the consent and runs the gated analytics script, once per page', async () => {
  const loadsBefore = analyticsLoads();
  const v = await visit();
  try {
    await firstLayer(v.page).waitFor({ state: 'visible' });
    assert.equal(await v.page.evaluate(() => window.analyticsRuns ?? 0), 0, 'analytics ran before consent');
    assert.equal(analyticsLoads(), loadsBefore, 'analytics.js was requested before consent');
    await button(v.page, 'Accept all').click();
    await v.page.waitForFunction(() => window.analyticsRuns === 1);
    await firstLayer(v.page).waitFor({ state: 'detached' });
    assert.ok(await v.cookie(), 'the consent cookie is set');
    assert.equal(await v.page.evaluate(() => window.Consent.getConsent()?.method), 'accept_all');
    // A second visit with the consent: the script runs as the page loads, with no first layer.
    await v.open();
    await v.page.waitForFunction(() => window.analyticsRuns === 1);
    assert.equal(await firstLayer(v.page).count(), 0);
    assert.equal(analyticsLoads(), loadsBefore + 2);
    assert.deepEqual(v.problems, []);
  } finally {
    await v.context.close();
  }
});
