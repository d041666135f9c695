// A tiny static server for the benchmark pages, on 127.0.0.1 and an ephemeral port.
//
// Bodies are sent as they are on disk, without Content-Encoding: the harness measures
// gzip -9 itself over the bytes the browser received, so the server's compression
// settings cannot skew the comparison.
//
// `node server.mjs` serves the pages for a look in a browser and stops after ten minutes.

import http from 'node:http';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BANNERS, BASELINE_HTML, CONTROL_HTML, OURS_CONFIG } from './pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Where our banner's build output is served from (`OURS_DIST` overrides it, e.g. to try a build elsewhere). */
export const OURS_DIST = process.env.OURS_DIST ? path.resolve(process.env.OURS_DIST) : path.resolve(HERE, '../../wasm/dist');

const ROOTS = {
  // Before '/consent/', which it would otherwise match.
  ...(process.env.OURS_BASE_DIST ? { '/consent-base/': path.resolve(process.env.OURS_BASE_DIST) } : {}),
  '/consent/': OURS_DIST,
  '/vendor/cookieconsent/': path.join(HERE, 'node_modules/vanilla-cookieconsent/dist'),
  '/vendor/orejime/': path.join(HERE, 'node_modules/orejime/dist'),
  '/vendor/klaro/': path.join(HERE, 'node_modules/klaro/dist'),
  // tarteaucitron loads its language file, services, CSS and ad-blocker probe from its own path.
  '/vendor/tarteaucitron/': path.join(HERE, 'node_modules/tarteaucitronjs'),
};

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

// The stand-in for a gated analytics tag: records when it ran and sets a `_ga` cookie.
const ANALYTICS_JS = `window.__analyticsRanAt = performance.now();
window.__analyticsRuns = (window.__analyticsRuns || 0) + 1;
document.cookie = '_ga=GA1.1.123456789.1700000000; path=/; max-age=3600; SameSite=Lax';
`;

function send(res, status, type, body, cache) {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    // Static assets are cacheable like on a real site (matters only for the warm returning
    // visit; every cold load uses a fresh browser context with an empty cache).
    'Cache-Control': cache ? 'public, max-age=3600' : 'no-store',
  });
  res.end(body);
}

async function handle(req, res, consent) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const p = decodeURIComponent(url.pathname);
  const name = p.match(/^\/([a-z]+)\.html$/)?.[1];
  if (name === 'oursserver') {
    if (!consent) return send(res, 404, 'text/plain', 'start the run with a built consent binary\n', false);
    // What a site's own server does: include consent-server's first layer, passing the
    // visitor's cookies on so that the core decides whether one is due.
    const r = await fetch(`${consent}/consent/first-layer?lang=en&return_to=/oursserver.html`, {
      headers: { cookie: req.headers.cookie ?? '' },
    });
    if (!r.ok) throw new Error(`GET /consent/first-layer: ${r.status}`);
    const fragment = await r.text();
    BANNERS.oursserver.fragment ||= fragment;
    return send(res, 200, TYPES['.html'], BANNERS.oursserver.html(fragment), false);
  }
  if (name && BANNERS[name]) return send(res, 200, TYPES['.html'], BANNERS[name].html(), false);
  if (p === '/control.html') return send(res, 200, TYPES['.html'], CONTROL_HTML(), false);
  if (p === '/baseline.html') return send(res, 200, TYPES['.html'], BASELINE_HTML(), false);
  if (p === '/analytics.js') return send(res, 200, TYPES['.js'], ANALYTICS_JS, true);
  for (const [prefix, root] of Object.entries(ROOTS)) {
    if (!p.startsWith(prefix)) continue;
    const file = path.resolve(root, '.' + p.slice(prefix.length - 1));
    if (!file.startsWith(root + path.sep)) break;
    try {
      const body = await readFile(file);
      return send(res, 200, TYPES[path.extname(file)] ?? 'application/octet-stream', body, true);
    } catch {
      break;
    }
  }
  send(res, 404, 'text/plain', 'not found\n', false);
}

/** The `consent` binary for the `oursserver` page: CONSENT_BIN, else the workspace's release
 * or debug build; null when none is built. */
export function consentBin() {
  const candidates = [process.env.CONSENT_BIN, path.resolve(HERE, '../../target/release/consent'),
    path.resolve(HERE, '../../target/debug/consent')];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

/** Starts the real `consent serve` on 127.0.0.1 with the benchmark's config, a fresh key and
 * log in a temporary directory; resolves to `{ origin, close }` once it answers /healthz. */
export async function startConsentServer(bin) {
  const dir = mkdtempSync(path.join(tmpdir(), 'consent-bench-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(OURS_CONFIG));
  const port = await new Promise((resolve, reject) => {
    const probe = http.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address();
      probe.close(() => resolve(p));
    });
  });
  const child = spawn(bin, ['serve', '--config', path.join(dir, 'config.json'), '--listen', `127.0.0.1:${port}`,
    '--db', path.join(dir, 'consent.db'), '--key-file', path.join(dir, 'consent.key'), '--dist', OURS_DIST],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  const origin = `http://127.0.0.1:${port}`;
  const close = async () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return { origin, close };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  await close();
  throw new Error(`consent serve did not answer on ${origin} within 10 s`);
}

/** consent-gate's `static_site` example for the `oursgate` page: GATE_BIN, else the
 * workspace's release build; null when none is built. */
export function gateBin() {
  const candidates = [process.env.GATE_BIN, path.resolve(HERE, '../../target/release/examples/static_site')];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

/** Starts consent-gate's `static_site` on 127.0.0.1 (an ephemeral port): the `oursgate` and
 * `control` pages and `/analytics.js` from a temporary directory, our banner's files from OURS_DIST under
 * `/consent/` with the policy and texts it compiles from OURS_CONFIG, every page through the
 * page layer. Without a key (OURS_CONFIG has no endpoint to sign decisions, so the banner's
 * are unsigned and count). Resolves to `{ origin, close }` once it listens (within 10 s). */
export async function startGateServer(bin) {
  const dir = mkdtempSync(path.join(tmpdir(), 'consent-bench-gate-'));
  const root = path.join(dir, 'root');
  mkdirSync(root);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(OURS_CONFIG));
  writeFileSync(path.join(root, 'oursgate.html'), BANNERS.oursgate.html());
  // The control page through the same server (same-server.mjs): a decided visitor's copy of
  // it passes through the layer unchanged.
  writeFileSync(path.join(root, 'control.html'), CONTROL_HTML());
  writeFileSync(path.join(root, 'analytics.js'), ANALYTICS_JS);
  const child = spawn(bin, ['--config', path.join(dir, 'config.json'), '--root', root, '--mount', `/consent/=${OURS_DIST}`,
    '--listen', '127.0.0.1:0', '--for', '3600'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const close = async () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const origin = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('static_site did not say it listens within 10 s')), 10_000);
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`static_site exited (${code})`)); });
    });
    return { origin, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Our banner's files as a site serves them: `consent banner build` of OURS_CONFIG, which
 * writes the compiled policy and each language's texts beside a copy of OURS_DIST, in a
 * temporary directory that then answers for `/consent/`. Without a built `consent` binary
 * the directory is OURS_DIST alone, and our pages say the policy did not load. */
function buildOurs() {
  const bin = consentBin();
  if (!bin) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'consent-bench-site-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(OURS_CONFIG));
  execFileSync(bin, ['banner', 'build', path.join(dir, 'config.json'), '--out', path.join(dir, 'site'), '--dist', OURS_DIST],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  ROOTS['/consent/'] = path.join(dir, 'site');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}

/** Starts the server on 127.0.0.1 with an ephemeral port; resolves to `{ origin, close }`.
 * `consent` is the origin of a running `consent serve`, for the `oursserver` page. */
export function startServer({ consent } = {}) {
  buildOurs();
  const server = http.createServer((req, res) => {
    handle(req, res, consent).catch((e) => {
      console.error(e);
      if (!res.headersSent) send(res, 500, 'text/plain', 'error\n', false);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { origin, close } = await startServer();
  for (const n of [...Object.keys(BANNERS).filter((b) => !BANNERS[b].origin), 'control', 'baseline']) console.log(`${origin}/${n}.html`);
  console.log('stopping in 10 minutes (or Ctrl-C)');
  setTimeout(() => close().then(() => process.exit(0)), 10 * 60 * 1000);
}
