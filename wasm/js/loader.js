
// ---- The loader (wasm/js/loader.js, appended to the wasm-bindgen glue by wasm/build.sh) ----
// It starts the banner with the inline config, or waits for Consent.run(config). No consent
// logic lives here: every call goes to the WebAssembly core.

/** Consent Mode's `gtag`, for pages that have none: a named function in this static file,
 * so a strict CSP needs no inline script. It pushes `arguments`, as gtag.js expects. */
function gtagShim() {
  (window.dataLayer = window.dataLayer || []).push(arguments);
}

let started;
const start = () => (started = started || __wbg_init());
// Before the WebAssembly is ready nothing is accepted: a safe answer, never an exception.
const ready = (f, none) => (...args) => (wasm ? f(...args) : none);

/** The banner's API; also `window.Consent`. */
export const Consent = {
  run: (config, options) =>
    start().then(() => run(config, Object.assign({ gtag: gtagShim }, options))),
  show: ready(show),
  showPreferences: ready(showPreferences),
  acceptedCategory: ready(acceptedCategory, false),
  acceptedService: ready(acceptedService, false),
  acceptCategory: ready(acceptCategory, false),
  getConsent: ready(getConsent, null),
  setLanguage: ready(setLanguage, false),
  reset: ready(reset),
};

if (typeof window !== 'undefined') {
  window.Consent = Consent;
  const inline = document.getElementById('consent-config');
  if (inline) {
    const d = inline.dataset;
    Consent.run(inline.textContent, {
      layout: d.layout, position: d.position, theme: d.theme, nonce: d.nonce || inline.nonce,
    });
  }
}
