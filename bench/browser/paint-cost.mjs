// What a new visitor's first paint costs the renderer, in CPU time rather than wall time:
// the page layer's first layer (as consent-gate writes it into the HTML) against the control
// page, and the same layer with one part taken away at a time (its end script, font, shadow,
// corners), then all four, and with a shorter description.
//
//   GATE_BIN=<static_site> node paint-cost.mjs [--runs 10] [--throttle 4]
//
// The first layer's page is taken once from consent-gate's `static_site` (a request without
// cookies), then served as it is, beside the control page and the variants, by a Node server
// here: the pages differ only in their HTML. Each round loads every page once, in a rotating
// order, in a fresh context, with Chromium's tracing on, and sums from navigation to the
// first contentful paint:
// - `main`: the renderer's main thread, CPU time of its top-level tasks (`RunTask`);
// - `raster`: the tile workers' `RasterTask`s;
// - the main thread's parts: `parse` (`ParseHTML`, which includes the inline scripts and
//   styles it runs and reads), `style` (`UpdateLayoutTree`), `layout`, and `paint` (`Paint`
//   and `PrePaint`).
// CPU time is what a phone's slower cores multiply, and it is far steadier than the paint's
// wall time on a shared machine, whose other work delays a frame but does not lengthen its
// tasks. Prints medians per page and each page's difference from the control.
import http from 'node:http';
import { chromium } from 'playwright-core';
import { startGateServer, gateBin } from './server.mjs';
import { CONTROL_HTML } from './pages.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const RUNS = opt('--runs', 10);
const THROTTLE = opt('--throttle', 1);
const bin = gateBin();
if (!bin) throw new Error('set GATE_BIN to a built static_site (cargo build --release -p consent-gate --all-features --example static_site)');

// The new visitor's page as the layer writes it.
const gate = await startGateServer(bin);
let layered;
try {
  const r = await fetch(`${gate.origin}/oursgate.html`);
  layered = await r.text();
} finally {
  await gate.close();
}
if (!layered.includes('data-consent-nojs') || !layered.includes('</style>')) throw new Error('the layer wrote no first layer with its critical CSS');

/** The layered page with `css` after the critical CSS (so its rules win). */
const restyled = (css) => layered.replace('</style>', `${css}</style>`);
const END_SCRIPT = /<script data-consent-src="[^"]*">[\s\S]*?<\/script>/;
if (!END_SCRIPT.test(layered)) throw new Error('no end script in the layered page');
const PAGES = {
  control: CONTROL_HTML(),
  'first layer': layered,
  'without the end script': layered.replace(END_SCRIPT, ''),
  "in the page's font": restyled('.consent-root,.consent-root *{font-family:inherit!important;font-weight:400!important}'),
  'without shadow': restyled('.consent-root .consent-banner{box-shadow:none!important}'),
  'square corners': restyled('.consent-root .consent-banner,.consent-root .consent-btn{border-radius:0!important}'),
};
PAGES['all four'] = restyled('.consent-root,.consent-root *{font-family:inherit!important;font-weight:400!important}'
  + '.consent-root .consent-banner{box-shadow:none!important}'
  + '.consent-root .consent-banner,.consent-root .consent-btn{border-radius:0!important}')
  .replace(END_SCRIPT, '');
// The first layer with a description of ten words (the built-in is 44): what a layer with
// less in it costs.
const SHORT = (html) => html.replace(/(<p class="consent-desc" id="consent-desc">)[^<]*/, '$1We use cookies for analytics and marketing only if you allow.');
if (SHORT(layered) === layered) throw new Error('no description in the first layer');
PAGES['a ten-word description'] = SHORT(layered);
PAGES['all four, ten words'] = SHORT(PAGES['all four']);
const names = Object.keys(PAGES);
const files = new Map(names.map((n, i) => [`/p${i}.html`, PAGES[n]]));

// The pages, and a stand-in analytics script (the control page runs it); anything else (the
// banner's files, which the end script asks for only after the first paint) is a 404.
const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  if (path === '/analytics.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
    return res.end('window.__analyticsRanAt = performance.now();');
  }
  const body = files.get(path);
  res.writeHead(body ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body ?? '');
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
const fcp = () => new Promise((done) => new PerformanceObserver((l) => {
  for (const e of l.getEntries()) if (e.name === 'first-contentful-paint') done(e.startTime);
}).observe({ type: 'paint', buffered: true }));

const PARTS = { parse: ['ParseHTML'], style: ['UpdateLayoutTree'], layout: ['Layout'], paint: ['Paint', 'PrePaint'] };
/** One page's sums (ms of CPU time) from a trace's events. */
function sums(events) {
  const start = events.find((e) => e.name === 'navigationStart' && e.args?.data?.isLoadingMainFrame);
  const first = events.find((e) => e.name === 'firstContentfulPaint');
  if (!start || !first) throw new Error('the trace has no navigation start or first contentful paint');
  const pid = first.pid;
  const threads = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid).map((e) => [e.tid, e.args.name]));
  const within = (e) => e.ph === 'X' && e.pid === pid && e.ts >= start.ts && e.ts <= first.ts;
  const cpu = (e) => (e.tdur ?? e.dur ?? 0) / 1000;
  const out = { main: 0, raster: 0 };
  for (const p of Object.keys(PARTS)) out[p] = 0;
  for (const e of events) {
    if (!within(e)) continue;
    const thread = threads.get(e.tid) ?? '';
    if (thread === 'CrRendererMain') {
      if (e.name === 'RunTask') out.main += cpu(e);
      for (const [p, ns] of Object.entries(PARTS)) if (ns.includes(e.name)) out[p] += cpu(e);
    } else if (e.name === 'RasterTask') out.raster += cpu(e);
  }
  return out;
}

const samples = Object.fromEntries(names.map((n) => [n, []]));
try {
  for (let round = -1; round < RUNS; round++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + Math.max(round, 0)) % names.length];
      const ctx = await browser.newContext();
      try {
        const tab = await ctx.newPage();
        if (THROTTLE > 1) await (await ctx.newCDPSession(tab)).send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
        await browser.startTracing(tab, { categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'loading'] });
        let paint;
        let events;
        try {
          await tab.goto(`${origin}/p${names.indexOf(n)}.html`);
          paint = await tab.evaluate(fcp);
          // The paint's own tasks end after the entry is known to the page.
          await tab.waitForTimeout(100);
        } finally {
          events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
        }
        if (round >= 0) samples[n].push({ fcp: paint, ...sums(events) });
      } finally {
        await ctx.close();
      }
    }
  }
} finally {
  await browser.close();
  server.close();
}

const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };
const cols = ['fcp', 'main', 'raster', ...Object.keys(PARTS)];
const m = Object.fromEntries(names.map((n) => [n, Object.fromEntries(cols.map((c) => [c, med(samples[n].map((s) => s[c]))]))]));
console.log(`medians of ${RUNS} cold loads, throttle ${THROTTLE}x; ms (fcp: wall time; the rest: CPU time before it)`);
console.log(['page'.padEnd(24), ...cols.map((c) => c.padStart(7)), '  main+raster vs control'].join(' '));
const total = (n) => m[n].main + m[n].raster;
for (const n of names) {
  const d = total(n) - total('control');
  console.log([n.padEnd(24), ...cols.map((c) => m[n][c].toFixed(2).padStart(7)), `  ${d >= 0 ? '+' : ''}${d.toFixed(2)}`].join(' '));
}
