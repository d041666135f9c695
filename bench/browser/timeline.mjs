// The order of events in a cold load, for each banner page given: the page's own milestones
// (HTML received, DOM interactive, DOMContentLoaded, load, first paint), each resource's
// request and response end, when WebAssembly.instantiateStreaming / compileStreaming /
// instantiate were called and settled, when focus first moved and when the "Accept all"
// button entered the DOM. Medians of N cold loads (a fresh context each), in ms since
// navigation start, sorted by time.
//
//   node timeline.mjs [N] [pages]        # default: 8 loads of ours,orejime
//   OURS_BASE_DIST=<dir> node timeline.mjs 14 ours,oursbase
//   RAW=1 node timeline.mjs 10 ours,oursserver   # also DOMContentLoaded/first paint/button per load
//   RETURNING=1 node timeline.mjs 10 ours,orejime # a returning visitor's load, to analytics
//   THROTTLE=4 node timeline.mjs 10 ours,orejime  # the CPU slowed down 4x, as on a phone
//
// BENCHMARKS.md ("Where the time goes after DOMContentLoaded") has what it showed.
import { chromium } from 'playwright-core';
import { startServer, startConsentServer, consentBin } from './server.mjs';
const N = Number(process.argv[2] ?? 8);
const pages = (process.argv[3] ?? 'ours,orejime').split(',');
const consent = pages.includes('oursserver') ? await startConsentServer(consentBin()) : null;
const { origin, close } = await startServer({ consent: consent?.origin });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
const rows = {};
// RETURNING=1: each load is a returning visitor's (cold cache, the cookies of a visit that
// clicked "Accept all"), timed to the gated analytics script having run.
const RETURNING = !!process.env.RETURNING;
const THROTTLE = Number(process.env.THROTTLE ?? 1);
async function accepted(p) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/${p}.html`);
  await page.getByRole('button', { name: 'Accept all' }).first().waitFor({ timeout: 10_000 });
  if (p === 'oursserver') await page.waitForFunction(() => !document.querySelector('[data-consent-nojs]'));
  await page.getByRole('button', { name: 'Accept all' }).first().click();
  await page.waitForFunction(() => window.__analyticsRanAt !== undefined);
  await page.waitForTimeout(200);
  const state = await context.storageState();
  await context.close();
  return state;
}
const states = {};
if (RETURNING) for (const p of pages) states[p] = await accepted(p);
for (let i = 0; i < N; i++) for (const p of pages) {
  const context = await browser.newContext(RETURNING ? { storageState: states[p] } : {});
  const page = await context.newPage();
  if (THROTTLE > 1) await (await context.newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  await page.addInitScript(() => {
    window.__t = {};
    for (const f of ['instantiateStreaming', 'instantiate', 'compileStreaming']) {
      const orig = WebAssembly[f];
      WebAssembly[f] = function (...a) { window.__t[f + '.call'] = performance.now(); return orig.apply(this, a).then((r) => { window.__t[f + '.done'] = performance.now(); return r; }); };
    }
    document.addEventListener('focusin', () => { window.__t.focus ??= performance.now(); }, true);
    requestAnimationFrame(function f() { (window.__t.frames ??= []).push(performance.now()); if (performance.now() < 400) requestAnimationFrame(f); });
    new MutationObserver(() => {
      if (!window.__t.btn) { const b = [...document.querySelectorAll('button')].find((x) => /Accept all/i.test(x.textContent)); if (b) window.__t.btn = performance.now(); }
      if (window.__t.btn && !window.__t.nojsGone && !document.querySelector('[data-consent-nojs]')) window.__t.nojsGone = performance.now();
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(`${origin}/${p}.html`);
  if (RETURNING) await page.waitForFunction(() => window.__analyticsRanAt !== undefined, null, { timeout: 10_000 });
  else await page.getByRole('button', { name: 'Accept all' }).first().waitFor({ timeout: 10_000 });
  await page.waitForTimeout(300);
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const o = { htmlEnd: nav.responseEnd, domInteractive: nav.domInteractive, dcl: nav.domContentLoadedEventStart, load: nav.loadEventStart };
    for (const e of performance.getEntriesByType('paint')) o[e.name] = e.startTime;
    for (const r of performance.getEntriesByType('resource')) { const n = r.name.split('/').pop(); o[n + '.start'] = r.startTime; o[n + '.end'] = r.responseEnd; }
    for (const [k, v] of Object.entries(window.__t)) if (typeof v === 'number') o[k] = v;
    if (o.btn !== undefined) {
      o.frameAfterBtn = window.__t.frames.find((x) => x >= o.btn);
      // The banner's own delay, free of the page's: from DOMContentLoaded (when a deferred
      // script runs) to "Accept all" in the DOM.
      o['btn - dcl (per load)'] = o.btn - o.dcl;
    }
    if (window.__analyticsRanAt !== undefined) {
      o.analyticsRan = window.__analyticsRanAt;
      o['analytics - dcl (per load)'] = window.__analyticsRanAt - o.dcl;
    }
    return o;
  });
  (rows[p] ??= []).push(t);
  await context.close();
}
await browser.close(); await close(); await consent?.close();
const med = (a) => { const s = a.filter((x) => x != null).sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : null; };
if (process.env.RAW) for (const p of pages) console.log(p, rows[p].map((r) => `${r.dcl.toFixed(0)}/${r['first-contentful-paint']?.toFixed(0)}/${r.btn?.toFixed(0)}`).join(' '));
for (const p of pages) {
  console.log('==', p);
  const keys = [...new Set(rows[p].flatMap(Object.keys))];
  const ks = keys.map((k) => [k, med(rows[p].map((r) => r[k]))]).sort((a, b) => a[1] - b[1]);
  for (const [k, v] of ks) if (v != null) console.log(v.toFixed(1).padStart(8), k);
}
