// Browser benchmark: our wasm consent banner vs vanilla-cookieconsent, Orejime, Klaro and tarteaucitron, measured
// in the same run in Debian's headless Chromium (see README.md for what each number means).
//
//   node run.mjs [--runs 20] [--warmup 2] [--only ours,oursgate,vanilla,orejime,klaro,tarteaucitron] [--out results.json] [--throttle 4]
//
// Besides the banners, every run loads the no-banner page (memory baseline) and the control page
// (the same body, its analytics script ungated: the physical limit for the time figures).
//
// Every sample is one cold load in a fresh browser context (empty cache, no cookies); the
// banners are loaded in turn, round-robin with a rotating order, serially, so that a change
// in the load of this shared machine hits them alike. Times are taken inside the page with
// performance.now() (origin = navigation start), never from the Node side.

import { chromium } from 'playwright-core';
import { gzipSync, constants as zc } from 'node:zlib';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, startConsentServer, startGateServer, consentBin, gateBin, OURS_DIST } from './server.mjs';
import { BANNERS, BASELINE_HTML } from './pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** Every wait on the page is bounded by this. */
const TIMEOUT_MS = 15_000;
/** Issue 13's limit for our banner's transfer size (gzip -9, bytes; the target is 12,000). */
const OURS_BUDGET = 15_000;
const OURS_FILES = ['consent.js', 'consent_bg.wasm', 'consent.css'];

function parseArgs(argv) {
  const o = { runs: 20, warmup: 2, only: null, out: path.join(HERE, 'results.json'), throttle: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--runs') o.runs = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--only') o.only = v().split(',');
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '--throttle') o.throttle = Number(v());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.runs >= 1) || !(o.warmup >= 0)) throw new Error('--runs must be >= 1 and --warmup >= 0');
  if (!(o.throttle >= 1)) throw new Error('--throttle must be >= 1 (4 is a mid-range phone)');
  return o;
}

// Injected before any page script. It (1) watches for the "Accept all" button and records
// when it is first in the DOM and first visible (laid out on screen, not transparent or
// hidden, and the page painted: no earlier than its first contentful paint), (2) records the
// click's event time, and
// (3) notes every WebAssembly memory the page creates, whichever API instantiates it.
function probe(accept) {
  const W = WebAssembly;
  const memories = new Set();
  const note = (instance, imports) => {
    if (instance) for (const v of Object.values(instance.exports)) if (v instanceof W.Memory) memories.add(v);
    if (imports) for (const m of Object.values(imports)) for (const v of Object.values(m ?? {})) if (v instanceof W.Memory) memories.add(v);
  };
  const Instance = W.Instance;
  const instantiate = W.instantiate;
  const instantiateStreaming = W.instantiateStreaming;
  W.instantiate = function (src, imports) {
    return instantiate.call(this, src, imports).then((r) => { note(r instanceof Instance ? r : r.instance, imports); return r; });
  };
  if (instantiateStreaming) {
    W.instantiateStreaming = function (src, imports) {
      return instantiateStreaming.call(this, src, imports).then((r) => { note(r.instance, imports); return r; });
    };
  }
  W.Instance = new Proxy(Instance, {
    construct(target, args, newTarget) { const i = Reflect.construct(target, args, newTarget); note(i, args[1]); return i; },
  });

  const b = { domAt: null, styledAt: null, fcpAt: null, visibleAt: null, clickAt: null, analyticsAtClick: null, el: null, how: null };
  b.wasmBytes = () => [...memories].reduce((s, m) => s + m.buffer.byteLength, 0);
  Object.defineProperty(window, '__bench', { value: b });

  const find = () => {
    let el = accept.selector ? document.querySelector(accept.selector) : null;
    if (el) { b.how = 'selector'; return el; }
    if (accept.text) {
      const root = accept.within ? document.querySelector(accept.within) : document;
      for (const c of root?.querySelectorAll('button, [role="button"]') ?? []) {
        if (c.textContent.trim() === accept.text) { b.how = 'text'; return c; }
      }
    }
    return null;
  };
  const visible = (el) => {
    if (!el.isConnected) return false;
    const r = el.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) return false;
    if (r.bottom <= 0 || r.right <= 0 || r.top >= innerHeight || r.left >= innerWidth) return false;
    // Also false when the element or an ancestor has opacity 0, visibility hidden or display none.
    return el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true });
  };
  let mo = null;
  let stopped = false;
  const check = () => {
    if (stopped) return;
    const now = performance.now();
    const el = b.el?.isConnected ? b.el : find();
    if (!el) return;
    b.el = el;
    if (b.domAt === null) b.domAt = now;
    if (visible(el)) { b.styledAt = now; stopped = true; mo?.disconnect(); seen(); }
  };
  // Visible means painted too: a button laid out before the page's first paint (say, while
  // a render-blocking stylesheet loads, or by a script that runs before the first frame) is
  // seen at the first contentful paint, not earlier.
  const seen = () => {
    if (b.styledAt !== null && b.fcpAt !== null) b.visibleAt = Math.max(b.styledAt, b.fcpAt);
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === 'first-contentful-paint' && b.fcpAt === null) { b.fcpAt = e.startTime; seen(); }
  }).observe({ type: 'paint', buffered: true });
  mo = new MutationObserver(check);
  mo.observe(document, { childList: true, subtree: true, attributes: true, characterData: false });
  // Style changes (a class on <html>, a transition) show an element without a mutation
  // under it, so check every frame as well; give up after the bounded wait.
  const frame = () => { check(); if (!stopped && performance.now() < 30_000) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);

  addEventListener('click', (e) => {
    if (b.clickAt === null) { b.clickAt = e.timeStamp; b.analyticsAtClick = window.__analyticsRanAt ?? null; }
  }, true);
}

const gz9 = (buf) => gzipSync(buf, { level: 9, memLevel: 9, strategy: zc.Z_DEFAULT_STRATEGY }).length;

async function heap(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = await cdp.send('Runtime.getHeapUsage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { jsHeapUsed: usage.usedSize, jsHeapUsedMetric: m.JSHeapUsedSize ?? null };
}

/** Waits (bounded, polling every 50 ms) until `fn` is true in the page; names what it waited for on timeout. */
async function waitFor(page, what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: TIMEOUT_MS, polling: 50 });
  } catch (e) {
    throw new Error(`timed out after ${TIMEOUT_MS / 1000} s waiting for ${what}`, { cause: e });
  }
}

/** One cold load of a banner page: first visit, accept, then the returning visits. */
/** CPU throttling (`--throttle N`: N times slower, as a phone; CDP
 * `Emulation.setCPUThrottlingRate`) for every page of every context, before it loads. */
let THROTTLE = 1;
async function throttled(ctx, page) {
  if (THROTTLE > 1) {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  }
  return page;
}

async function sampleBanner(browser, origin, name, { recordSizes }) {
  const banner = BANNERS[name];
  const url = `${origin}/${name}.html`;
  const out = {};
  const ctx = await browser.newContext();
  try {
    await ctx.addInitScript(probe, banner.accept);
    const page = await throttled(ctx, await ctx.newPage());
    const responses = [];
    if (recordSizes) page.on('response', (r) => responses.push(r));
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Performance.enable');

    await page.goto(url, { waitUntil: 'commit', timeout: TIMEOUT_MS });
    await waitFor(page, 'the Accept all button to be visible', () => window.__bench.visibleAt !== null);
    await page.waitForLoadState('load', { timeout: TIMEOUT_MS });
    const first = await page.evaluate(() => ({ domAt: __bench.domAt, visibleAt: __bench.visibleAt, fcpAt: __bench.fcpAt, how: __bench.how, ran: window.__analyticsRanAt ?? null, wasm: __bench.wasmBytes() }));
    if (first.ran !== null) throw new Error(`${name}: the analytics script ran before consent`);
    Object.assign(out, { domMs: first.domAt, visibleMs: first.visibleAt, fcpMs: first.fcpAt, found: first.how });
    const mem = await heap(cdp);
    out.jsHeap = mem.jsHeapUsed;
    out.jsHeapMetric = mem.jsHeapUsedMetric;
    out.wasmMem = await page.evaluate(() => __bench.wasmBytes());

    if (recordSizes) {
      const files = [];
      const other = [];
      for (const r of responses) {
        const p = new URL(r.url()).pathname;
        if (p.startsWith(banner.prefix)) {
          const body = await r.body();
          files.push({ path: p, status: r.status(), bytes: body.length, gzip9: gz9(body) });
        } else if (!['/' + name + '.html', '/analytics.js', '/favicon.ico'].includes(p)) other.push(p);
      }
      out.files = files;
      out.unattributed = other;
    }

    if (banner.takeover) {
      // A layer the server rendered is a form that posts without JavaScript: click only once
      // the banner has taken it over, on the banner's own button.
      await waitFor(page, 'the banner to take the rendered first layer over',
        () => !document.querySelector('[data-consent-nojs]') && !!document.querySelector('[data-consent-ui] .consent-banner button'));
    }
    if (banner.clickListener) {
      // A banner whose button is visible before it works (tarteaucitron attaches its click
      // handlers on a timer): wait until the button itself has a click listener (CDP
      // DOMDebugger.getEventListeners), and record when (`clickableMs`, page time, polled
      // every 10 ms), so that the click is not lost.
      const t0 = Date.now();
      for (;;) {
        const { result } = await cdp.send('Runtime.evaluate', { expression: '__bench.el' });
        const { listeners } = result.objectId ? await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId }) : { listeners: [] };
        if (listeners.some((l) => l.type === 'click')) break;
        if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`${name}: timed out after ${TIMEOUT_MS / 1000} s waiting for a click listener on Accept all`);
        await new Promise((r) => setTimeout(r, 10));
      }
      out.clickableMs = await page.evaluate(() => performance.now());
    }
    const button = await page.evaluateHandle(({ within, text }) => (__bench.el?.isConnected ? __bench.el
      : [...document.querySelectorAll(`${within} button`)].find((b) => b.textContent.trim() === text)), banner.accept);
    await button.asElement().click({ timeout: TIMEOUT_MS });
    await waitFor(page, 'the analytics script after Accept all', () => window.__analyticsRanAt !== undefined);
    const acc = await page.evaluate(() => ({ clickAt: __bench.clickAt, before: __bench.analyticsAtClick, ranAt: window.__analyticsRanAt, runs: window.__analyticsRuns, ga: document.cookie.includes('_ga=') }));
    if (acc.before !== null || acc.runs !== 1 || !acc.ga) throw new Error(`${name}: after Accept all: ${JSON.stringify(acc)}`);
    out.acceptToAnalyticsMs = acc.ranAt - acc.clickAt;
    // The decision must be stored before a returning visit means anything.
    await waitFor(page, `the ${banner.consentCookie} cookie`, (n) => document.cookie.split('; ').some((c) => c.startsWith(n + '=')), banner.consentCookie);
    const state = await ctx.storageState();

    // Returning visitor, cold cache: a new context holding only the stored cookies/storage.
    const ctx2 = await browser.newContext({ storageState: state });
    try {
      await ctx2.addInitScript(probe, banner.accept);
      const p2 = await throttled(ctx2, await ctx2.newPage());
      out.returnColdMs = await returning(p2, url, name);
    } finally {
      await ctx2.close();
    }
    // Returning visitor, warm cache: a new page in the context that just accepted (the first
    // page is closed first so that it cannot compete for the renderer's main thread).
    await page.close();
    const p3 = await throttled(ctx, await ctx.newPage());
    out.returnWarmMs = await returning(p3, url, name);
  } finally {
    await ctx.close();
  }
  return out;
}

async function returning(page, url, name) {
  await page.goto(url, { waitUntil: 'commit', timeout: TIMEOUT_MS });
  await waitFor(page, 'the analytics script on a returning visit', () => window.__analyticsRanAt !== undefined);
  await page.waitForLoadState('load', { timeout: TIMEOUT_MS });
  const r = await page.evaluate(() => ({ ranAt: window.__analyticsRanAt, runs: window.__analyticsRuns, shown: __bench.styledAt }));
  if (r.runs !== 1) throw new Error(`${name}: returning visit ran analytics ${r.runs} times`);
  if (r.shown !== null) throw new Error(`${name}: returning visit showed the banner again`);
  return r.ranAt;
}

/** The control page: the same body, its analytics script ungated and no banner. A cold load
 * (fresh context) gives its first contentful paint and when analytics ran (the limit for a
 * returning visitor with a cold cache); a second page in the same context, its HTTP cache
 * warm, the limit for a warm one. */
async function sampleControl(browser, origin) {
  const ctx = await browser.newContext();
  try {
    await ctx.addInitScript(probe, { selector: null, text: null });
    const url = `${origin}/control.html`;
    const page = await throttled(ctx, await ctx.newPage());
    await page.goto(url, { waitUntil: 'commit', timeout: TIMEOUT_MS });
    await waitFor(page, 'the control page to paint and run analytics', () => window.__analyticsRanAt !== undefined && __bench.fcpAt !== null);
    await page.waitForLoadState('load', { timeout: TIMEOUT_MS });
    const r = await page.evaluate(() => ({ fcp: __bench.fcpAt, ranAt: window.__analyticsRanAt, runs: window.__analyticsRuns }));
    if (r.runs !== 1) throw new Error(`control: analytics ran ${r.runs} times`);
    await page.close();
    const p2 = await throttled(ctx, await ctx.newPage());
    await p2.goto(url, { waitUntil: 'commit', timeout: TIMEOUT_MS });
    await waitFor(p2, 'analytics on the control page (warm)', () => window.__analyticsRanAt !== undefined);
    const warm = await p2.evaluate(() => window.__analyticsRanAt);
    return { fcpMs: r.fcp, visibleMs: r.fcp, returnColdMs: r.ranAt, returnWarmMs: warm };
  } finally {
    await ctx.close();
  }
}

/** The memory baseline: the same page without any banner. */
async function sampleBaseline(browser, origin) {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(`${origin}/baseline.html`, { waitUntil: 'load', timeout: TIMEOUT_MS });
    const mem = await heap(cdp);
    return { jsHeap: mem.jsHeapUsed, jsHeapMetric: mem.jsHeapUsedMetric, wasmMem: 0 };
  } finally {
    await ctx.close();
  }
}

function quantile(xs, q) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  // Nearest rank for p90; the middle (or mean of the two middle) values for the median.
  if (q === 0.5) return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

const METRICS = ['domMs', 'visibleMs', 'fcpMs', 'clickableMs', 'acceptToAnalyticsMs', 'returnColdMs', 'returnWarmMs', 'jsHeap', 'jsHeapMetric', 'wasmMem', 'heapPlusWasm', 'heapOverBaseline'];

function summarise(samples) {
  const s = {};
  for (const m of METRICS) {
    const xs = samples.map((x) => x[m]);
    s[m] = { median: quantile(xs, 0.5), p90: quantile(xs, 0.9), n: xs.filter((x) => x != null).length };
  }
  return s;
}

const kb = (b) => (b == null ? '-' : (b / 1000).toFixed(1));
const ms = (x) => (x == null ? '-' : x.toFixed(1));
const mib = (b) => (b == null ? '-' : (b / 1048576).toFixed(2));

function table(rows) {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => '| ' + r.map((c, i) => String(c).padEnd(w[i])).join(' | ') + ' |';
  return [line(rows[0]), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n');
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  THROTTLE = opt.throttle;
  let names = opt.only ?? Object.keys(BANNERS);
  const unknown = names.filter((n) => !BANNERS[n]);
  if (unknown.length) throw new Error(`--only: unknown banner ${unknown.join(', ')} (known: ${Object.keys(BANNERS).join(', ')})`);
  const missing = OURS_FILES.filter((f) => !existsSync(path.join(OURS_DIST, f)));
  const notes = [];
  if (names.includes('ours') && missing.length) {
    const msg = `ours skipped: ${OURS_DIST} lacks ${missing.join(', ')} (build the wasm crate first)`;
    console.error(msg);
    notes.push(msg);
    names = names.filter((n) => n !== 'ours');
  }
  const bin = names.includes('oursserver') ? consentBin() : null;
  if (names.includes('oursserver') && (!bin || missing.length)) {
    const msg = `oursserver skipped: ${bin ? `${OURS_DIST} lacks ${missing.join(', ')}` : 'no consent binary (cargo build -p consent-server, or CONSENT_BIN)'}`;
    console.error(msg);
    notes.push(msg);
    names = names.filter((n) => n !== 'oursserver');
  }
  const gbin = names.includes('oursgate') ? gateBin() : null;
  if (names.includes('oursgate') && (!gbin || missing.length)) {
    const msg = `oursgate skipped: ${gbin ? `${OURS_DIST} lacks ${missing.join(', ')}` : 'no static_site binary (cargo build --release -p consent-gate --all-features --example static_site, or GATE_BIN)'}`;
    console.error(msg);
    notes.push(msg);
    names = names.filter((n) => n !== 'oursgate');
  }
  if (names.length === 0) throw new Error('nothing to measure');

  const consent = names.includes('oursserver') ? await startConsentServer(bin) : null;
  const gate = names.includes('oursgate') ? await startGateServer(gbin) : null;
  const server = await startServer({ consent: consent?.origin });
  const originOf = (n) => (BANNERS[n]?.origin === 'gate' ? gate.origin : server.origin);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  const env = {
    date: new Date().toISOString(),
    command: `node run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    loadavgStart: os.loadavg(),
    chromium: browser.version(),
    node: process.version,
    oursDist: path.relative(HERE, OURS_DIST),
    runs: opt.runs,
    warmup: opt.warmup,
    throttle: opt.throttle,
  };
  console.error(`chromium ${env.chromium}, node ${env.node}, ${env.nproc} cpus, load ${env.loadavgStart.map((x) => x.toFixed(2)).join(' ')}`);

  const samples = Object.fromEntries([...names, 'control', 'baseline'].map((n) => [n, []]));
  const sizes = {};
  const failed = {};
  const kinds = [...names, 'control', 'baseline'];
  try {
    for (let round = 0; round < opt.warmup + opt.runs; round++) {
      const warm = round < opt.warmup;
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]);
      for (const n of order) {
        if (failed[n]) continue;
        const recordSizes = n !== 'baseline' && n !== 'control' && !sizes[n];
        let s;
        try {
          s = n === 'baseline' ? await sampleBaseline(browser, server.origin)
            : n === 'control' ? await sampleControl(browser, server.origin)
              : await sampleBanner(browser, originOf(n), n, { recordSizes });
        } catch (e) {
          // One banner failing its checks must not cost the others their figures; it is
          // dropped from the rest of the run and the run exits with status 1.
          failed[n] = String(e?.message ?? e).split('\n')[0];
          console.error(`${n} failed in round ${round + 1}: ${failed[n]}`);
          continue;
        }
        if (recordSizes) {
          sizes[n] = { files: s.files, unattributed: s.unattributed, found: s.found };
          delete s.files;
          delete s.unattributed;
        }
        if (!warm) samples[n].push(s);
      }
      process.stderr.write(warm ? `warm-up ${round + 1}/${opt.warmup}\n` : `round ${round - opt.warmup + 1}/${opt.runs}\n`);
    }
  } finally {
    env.loadavgEnd = os.loadavg();
    await browser.close();
    await server.close();
    await consent?.close();
    await gate?.close();
  }

  for (const [n, why] of Object.entries(failed)) {
    notes.push(`${n} FAILED and is left out: ${why}`);
    process.exitCode = 1;
  }
  if (failed.baseline) throw new Error('the no-banner page failed');
  if (failed.control) throw new Error('the control page failed');
  names = names.filter((n) => !failed[n]);
  const baseHeap = quantile(samples.baseline.map((s) => s.jsHeap), 0.5);
  for (const n of kinds) if (n !== 'control') for (const s of samples[n]) {
    s.heapPlusWasm = s.jsHeap + s.wasmMem;
    s.heapOverBaseline = s.heapPlusWasm - baseHeap;
  }
  const baselineGz = gz9(Buffer.from(BASELINE_HTML()));
  const result = { env, notes, banners: {} };
  for (const n of names) {
    const f = sizes[n].files;
    const missingOurs = n === 'ours' ? OURS_FILES.filter((x) => !f.some((y) => y.path.endsWith('/' + x))) : [];
    if (missingOurs.length) notes.push(`ours: the page did not load ${missingOurs.join(', ')}`);
    if (sizes[n].unattributed.length) notes.push(`${n}: other requests not counted: ${sizes[n].unattributed.join(', ')}`);
    result.banners[n] = {
      label: BANNERS[n].label,
      acceptFoundBy: sizes[n].found,
      transfer: { bytes: f.reduce((a, x) => a + x.bytes, 0), gzip9: f.reduce((a, x) => a + x.gzip9, 0), files: f },
      // What the banner adds to the HTML page itself (config, tags), gzip -9, for context only.
      pageOverheadGzip9: gz9(Buffer.from(BANNERS[n].html())) - baselineGz,
      summary: summarise(samples[n]),
      samples: samples[n],
    };
  }
  result.baseline = { summary: summarise(samples.baseline), samples: samples.baseline };
  result.control = { summary: summarise(samples.control), samples: samples.control };
  writeFileSync(opt.out, JSON.stringify(result, null, 1) + '\n');

  const B = result.banners;
  const med = (n, m) => B[n].summary[m].median;
  const p90 = (n, m) => B[n].summary[m].p90;
  console.log(`\n${env.date}  ${env.command}\n${env.cpu}, ${env.nproc} cpus, Chromium ${env.chromium}, Node ${env.node}; ${opt.runs} cold loads per banner (+${opt.warmup} warm-up), load avg ${env.loadavgStart[0].toFixed(2)} -> ${env.loadavgEnd[0].toFixed(2)}\n`);
  console.log(table([
    ['banner', 'transfer gz -9 kB', 'raw kB', 'page overhead gz kB', 'JS heap MiB', 'wasm mem MiB', 'heap+wasm MiB', 'over no-banner page MiB'],
    ...names.map((n) => [B[n].label, kb(B[n].transfer.gzip9), kb(B[n].transfer.bytes), kb(B[n].pageOverheadGzip9), mib(med(n, 'jsHeap')), mib(med(n, 'wasmMem')), mib(med(n, 'heapPlusWasm')), mib(med(n, 'heapOverBaseline'))]),
    ['(page without banner)', '-', '-', '-', mib(baseHeap), '-', '-', '-'],
  ]));
  console.log('\nTimes in ms, median (p90):\n');
  const mp = (n, m) => `${ms(med(n, m))} (${ms(p90(n, m))})`;
  const cmp = (m) => `${ms(result.control.summary[m].median)} (${ms(result.control.summary[m].p90)})`;
  console.log(table([
    ['banner', 'button in DOM', 'button visible', 'Accept all -> analytics', 'returning, cold cache -> analytics', 'returning, warm cache -> analytics'],
    ...names.map((n) => [B[n].label, mp(n, 'domMs'), mp(n, 'visibleMs'), mp(n, 'acceptToAnalyticsMs'), mp(n, 'returnColdMs'), mp(n, 'returnWarmMs')]),
    ['control: no banner, analytics ungated (visible = its FCP)', '-', cmp('visibleMs'), '-', cmp('returnColdMs'), cmp('returnWarmMs')],
  ]));
  // Each banner against the control page (the physical limit), medians: "Accept all" painted
  // over the control page's first contentful paint, and a returning visitor's analytics over
  // the control page's (cold and warm cache).
  const C = result.control.summary;
  const vs = (n, m) => (C[m].median ? (med(n, m) / C[m].median).toFixed(2) : '-');
  console.log('\n' + table([
    ['banner / control page (medians)', 'button visible / control FCP', 'returning cold / control', 'returning warm / control'],
    ...names.map((n) => [B[n].label, vs(n, 'visibleMs'), vs(n, 'returnColdMs'), vs(n, 'returnWarmMs')]),
  ]));
  if (B.ours) {
    const ratio = (m, other) => (med(other, m) ? (med('ours', m) / med(other, m)).toFixed(2) : '-');
    const others = names.filter((n) => n !== 'ours');
    const rows = [['ours / other (medians)', ...others.map((n) => B[n].label)]];
    rows.push(['transfer gz -9', ...others.map((n) => (B.ours.transfer.gzip9 / B[n].transfer.gzip9).toFixed(2))]);
    for (const [m, l] of [['visibleMs', 'button visible'], ['acceptToAnalyticsMs', 'Accept all -> analytics'], ['returnColdMs', 'returning cold'], ['returnWarmMs', 'returning warm'], ['heapPlusWasm', 'heap+wasm']]) rows.push([l, ...others.map((n) => ratio(m, n))]);
    console.log('\n' + table(rows));
    if (B.ours.transfer.gzip9 > OURS_BUDGET) {
      console.error(`\nFAIL: our banner transfers ${B.ours.transfer.gzip9} B gzip -9, over the ${OURS_BUDGET} B limit`);
      process.exitCode = 1;
    }
  }
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`\nraw samples: ${path.relative(process.cwd(), opt.out) || opt.out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
