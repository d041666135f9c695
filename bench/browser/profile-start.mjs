// Where our banner's start-up time goes: samples the CPU (DevTools protocol profiler, 50 µs)
// over N cold loads of ours.html and prints, per function, the inclusive milliseconds per load
// spent inside the function ROOT (default: the wasm export `start`, which reads the config,
// evaluates the stored decision and builds the view; the DOM is drawn by the banner's script
// after it returns).
//
//   node profile-start.mjs [N]                     # the committed wasm/dist (no names)
//   OURS_DIST=/tmp/namedist node profile-start.mjs # a build with function names
//
// A build with names: run wasm-opt with `-g --strip-dwarf` instead of `--strip-debug` on
// rustc's output (see wasm/build.sh), then `wasm-bindgen --keep-debug`, and put the glue plus
// wasm/js/banner.js (not minified), the .wasm and consent.css in one directory. BENCHMARKS.md
// ("Where the banner's start-up goes") has what it showed.
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const N = Number(process.argv[2] ?? 8);
const ROOT = process.env.ROOT ?? 'start';
const { origin, close } = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
const inclusive = new Map();
let total = 0;
try {
  for (let i = 0; i < N; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    await cdp.send('Profiler.start');
    await page.goto(`${origin}/ours.html`);
    await page.getByRole('button', { name: 'Accept all' }).waitFor({ timeout: 10_000 });
    const { profile } = await cdp.send('Profiler.stop');
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    for (let k = 0; k < profile.samples.length; k++) {
      const stack = new Set();
      for (let id = profile.samples[k]; id !== undefined; id = parent.get(id)) {
        stack.add(byId.get(id).callFrame.functionName || '(anonymous)');
      }
      if (!stack.has(ROOT)) continue;
      const ms = profile.timeDeltas[k] / 1000 / N;
      total += ms;
      for (const f of stack) inclusive.set(f, (inclusive.get(f) ?? 0) + ms);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await close();
}
console.log(`inside ${ROOT}: ${total.toFixed(2)} ms per load (${N} loads)`);
for (const [f, ms] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
  console.log(ms.toFixed(2).padStart(7), f.slice(0, 140));
}
