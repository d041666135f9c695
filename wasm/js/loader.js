
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

/** Fills every `[data-consent-declaration]` element with the cookie declaration the server
 * renders from the same config (`GET /consent/declaration`, or the attribute's own URL), in
 * the page's language (or the one `setLanguage` chose), so the privacy notice and the banner never disagree. On any failure
 * the element keeps what it had (a link, say). */
function declare(lang = document.documentElement.lang || '') {
  for (const el of document.querySelectorAll('[data-consent-declaration]')) {
    const url = new URL(el.dataset.consentDeclaration || '/consent/declaration', location.href);
    url.searchParams.set('format', 'html');
    if (lang) url.searchParams.set('lang', lang.slice(0, 2));
    fetch(url, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${url}: ${r.status}`))))
      .then((html) => { el.innerHTML = html; })
      .catch((e) => console.warn('consent: cookie declaration not loaded:', e.message));
  }
}

/** The banner's API; also `window.Consent`. */
export const Consent = {
  run: (config, options) =>
    start().then(() => {
      const ok = run(config, Object.assign({ gtag: gtagShim }, options));
      declare();
      return ok;
    }),
  show: ready(show),
  showPreferences: ready(showPreferences),
  acceptedCategory: ready(acceptedCategory, false),
  acceptedService: ready(acceptedService, false),
  acceptCategory: ready(acceptCategory, false),
  getConsent: ready(getConsent, null),
  setLanguage: ready((lang) => {
    const ok = setLanguage(lang);
    if (ok) declare(lang);
    return ok;
  }, false),
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
