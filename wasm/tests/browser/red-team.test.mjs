// Red-team browser tests of the banner: the BUILT banner (wasm/dist) attacked as a hostile page
// and a clumsy site would, where banner.test.mjs and adversarial.test.mjs do not reach: the
// browser's own dictionaries read from a polluted Object.prototype, a page's fetch or
// WebAssembly wrapped, texts of the wrong shape, two decisions at two paths, the script twice
// on a page, markup turning into addresses, a phone's narrowest screen and the keyboard. The
// server, pages and visitors are harness.mjs's; every wait is bounded.
//
//   node --test wasm/tests/browser/red-team.test.mjs      (from any directory)
//
// CONSENT_DIST, CHROMIUM and CONSENT_BIN: see harness.mjs.
import assert from 'node:assert/strict';
import {
  WAIT,
  routes,
  requests,
  compiled,
  config,
  addPage,
  until,
  bannerTest,
  SCRIPTS,
  origin,
  setEndpoint,
} from './harness.mjs';

/** Opens `path` and waits for the banner's first layer (or `sel`) without the harness's own
 * waits, which read `window.Consent` from the page. */
async function goto(v, path, sel = '.consent-banner button') {
  await v.page.goto(origin + path);
  await v.page.waitForSelector(sel, { timeout: WAIT });
}

/** Waits until the page's log holds `name`, asking with plain evaluations (no
 * waitForFunction, whose polling a polluted page breaks). */
async function logged(v, name) {
  const end = Date.now() + WAIT;
  while (!(await v.log()).includes(name)) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${name} in ${await v.log()}`);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

// ---- Two decisions at two paths ---------------------------------------------------------

// A valid decision at a longer path (copied there by a sibling page, an older release without
// `Path`) is listed first by the browser: the visitor's later withdrawal, written at the
// policy's path, must count. The first valid one counted, so the withdrawal never took.
bannerTest('of two valid decisions at two paths, the later one counts', async (visitor) => {
  const v = await visitor();
  const cfg = config('rt-twopaths');
  await v.open();
  assert.equal(await v.run(cfg), true);
  await v.press('Accept all');
  const accepted = (await v.context.cookies()).find((c) => c.name === 'rt-twopaths').value;
  await v.js((s) => { document.cookie = `rt-twopaths=${s}; Path=/site`; }, accepted);
  // A second later, the visitor withdraws.
  await v.page.waitForTimeout(1100);
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(cfg), true);
  assert.equal(await v.api('acceptCategory', []), true);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false);
  await v.open({ body: SCRIPTS });
  assert.equal(await v.run(cfg), true);
  assert.equal(await v.api('acceptedCategory', 'analytics'), false, 'the withdrawal holds');
  assert.deepEqual(await v.log(), ['no-ads', 'necessary']);
});
