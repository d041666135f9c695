// The page layer against the control page served by the same server (consent-gate's
// `static_site`), so that the comparison holds the server, its headers and its timing fixed
// and differs only in what the layer and the banner add:
//
//   GATE_BIN=<static_site> CONSENT_BIN=<consent> node same-server.mjs [--runs 20] [--throttle 4]
//
// Each round, in a rotating order, one cold load (a fresh context) of:
// - control, decided: `control.html` with a returning visitor's cookie (the layer inserts
//   nothing for a decided visitor): its first contentful paint and when analytics ran;
// - ours, new visitor: `oursgate.html` without cookies: its first contentful paint (the page
//   layer put the first layer, with its critical CSS, in the HTML);
// - ours, returning: `oursgate.html` with the cookie: when the analytics script, made live
//   by the layer, ran.
// The cookie is a real decision: "Accept all" clicked once in the banner before the rounds.
// Prints medians (p90) and the ratios; issue 14's targets are returning <= 1.10x and the new
// visitor's paint <= 1.05x.
import { chromium } from 'playwright-core';
import { startGateServer, gateBin } from './server.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const RUNS = opt('--runs', 20);
const THROTTLE = opt('--throttle', 1);
const TIMEOUT_MS = 15_000;
const bin = gateBin();
if (!bin) throw new Error('set GATE_BIN to a built static_site (cargo build --release -p consent-gate --all-features --example static_site)');

const gate = await startGateServer(bin);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
try {
  // A decision, as a visitor makes it: the banner takes the rendered first layer over, then
  // "Accept all".
  const first = await browser.newContext();
  const p = await first.newPage();
  await p.goto(`${gate.origin}/oursgate.html`);
  await p.waitForFunction(() => !document.querySelector('[data-consent-nojs]') && !!document.querySelector('[data-consent-ui] .consent-banner button'), null, { timeout: TIMEOUT_MS });
  await p.getByRole('button', { name: 'Accept all' }).first().click();
  await p.waitForFunction(() => document.cookie.includes('consent='), null, { timeout: TIMEOUT_MS });
  const cookies = (await first.cookies()).filter((c) => c.name === 'consent');
  await first.close();
  if (cookies.length !== 1) throw new Error('no consent cookie after Accept all');

  const fcp = () => new Promise((done) => new PerformanceObserver((l) => {
    for (const e of l.getEntries()) if (e.name === 'first-contentful-paint') done(e.startTime);
  }).observe({ type: 'paint', buffered: true }));
  async function load(page, withCookie) {
    const ctx = await browser.newContext();
    try {
      if (withCookie) await ctx.addCookies(cookies);
      const tab = await ctx.newPage();
      if (THROTTLE > 1) await (await ctx.newCDPSession(tab)).send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
      await tab.goto(`${gate.origin}/${page}.html`, { timeout: TIMEOUT_MS });
      const paint = await tab.evaluate(fcp);
      await tab.waitForFunction(() => window.__analyticsRanAt !== undefined || document.querySelector('.consent-banner'), null, { timeout: TIMEOUT_MS });
      const r = await tab.evaluate(() => ({ ran: window.__analyticsRanAt ?? null, layer: !!document.querySelector('.consent-banner') }));
      return { paint, ...r };
    } finally {
      await ctx.close();
    }
  }
  const cases = {
    'control, decided': async () => { const r = await load('control', true); if (r.ran === null) throw new Error('control: analytics did not run'); return { fcp: r.paint, analytics: r.ran }; },
    'ours, new visitor': async () => { const r = await load('oursgate', false); if (!r.layer || r.ran !== null) throw new Error('new visitor: no first layer in the HTML, or analytics ran'); return { fcp: r.paint }; },
    'ours, returning': async () => { const r = await load('oursgate', true); if (r.layer || r.ran === null) throw new Error('returning: first layer shown, or analytics did not run'); return { analytics: r.ran }; },
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const names = Object.keys(cases);
  for (let round = -2; round < RUNS; round++) {
    const order = names.map((_, i) => names[(i + Math.max(round, 0)) % names.length]);
    for (const n of order) { const s = await cases[n](); if (round >= 0) samples[n].push(s); }
  }
  const q = (xs, f) => { const s = xs.filter((x) => x != null).sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(f * s.length))]; };
  const med = (xs) => { const s = xs.filter((x) => x != null).sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };
  const col = (n, m) => samples[n].map((s) => s[m]);
  console.log(`${new Date().toISOString()}  node same-server.mjs --runs ${RUNS} --throttle ${THROTTLE}`);
  for (const n of names) for (const m of ['fcp', 'analytics']) if (col(n, m)[0] != null) {
    console.log(`${n.padEnd(18)} ${m.padEnd(9)} ${med(col(n, m)).toFixed(1)} ms (p90 ${q(col(n, m), 0.9).toFixed(1)})`);
  }
  const ctl = (m) => med(col('control, decided', m));
  console.log(`new visitor's first layer painted / control FCP: ${(med(col('ours, new visitor', 'fcp')) / ctl('fcp')).toFixed(2)} (target <= 1.05)`);
  console.log(`returning visitor's analytics / control's:       ${(med(col('ours, returning', 'analytics')) / ctl('analytics')).toFixed(2)} (target <= 1.10)`);
} finally {
  await browser.close();
  await gate.close();
}
