
// ---- What only some pages use (wasm/js/extra.js; wasm/build.sh minifies it into dist/consent-extra.js) ----
// Imported by the banner (consent.js) the first time a page needs it: an embed that waits for
// consent gets its placeholder, and a page that asks for one the floating button (both
// styled by consent-extra.css, linked with it),
// `[data-consent-declaration]` elements get the cookie declaration, and the site's developer
// gets the console's message about a mistake of the page: a JSON config where the compiled
// policy belongs, markup that names what the policy does not have, acceptCategory called with
// what it does not take, a decision the core refused to store or the endpoint did not record.
// A page without any of them never loads it.
// It decides nothing: the banner hands it what to draw, where, and the helpers it draws with,
// positionally (the two files are minified apart, so no name is shared between them but the
// exports'), and it keeps only which declaration it asked for last and what it warned about.

/** Puts the placeholder of `embed` before it, drawn with the texts `t` (the language's details
 * with them), unless the embed left the page or loaded meanwhile: it names the embed's service
 * `svc` and grants that service alone in place (an embed of no named service: it names the
 * `category` and grants it whole). `boxes` holds the banner's placeholders by embed. */
export function placeholder(t, embed, category, svc, theme, boxes, el, attrs, add, button, grant) {
  const c = t.categories.find((x) => x.id === category.trim());
  if (!c || !embed.hasAttribute('data-src') || !embed.isConnected) return;
  const s = c.services.find((x) => x.id === svc?.trim());
  const text = t.t[s ? 'placeholder_text' : 'placeholder_category_text']
    .split('{service}').join(s?.name ?? c.title).split('{category}').join(c.title);
  // A root of its own, in the banner's theme: the page's variables for .consent-root reach it.
  const box = attrs(add(el('div', `consent-root consent-embed ${theme}`), el('p', '', text),
    button(t.t.placeholder_button, () => grant((s ?? c).id))), { 'data-consent-placeholder': '' });
  embed.classList.add('consent-wait');
  // One per embed: an app that moved it (or put it back) gets it where the embed is now.
  boxes.get(embed)?.remove();
  embed.before(box);
  boxes.set(embed, box);
}

/** Puts the floating button that reopens the preferences (`data-floating`) into the banner's
 * `root`, drawn with the banner's `button`; a click hands it to `open`. Gives back what labels
 * it, in the texts `texts()` gives (those of the language chosen now). */
export function floating(root, button, open, texts) {
  const b = button('', () => open(b));
  b.className = 'consent-btn consent-float';
  root.append(b);
  return () => texts().then((t) => { b.textContent = t.t.preferences_title; }, () => {});
}

/** The declarations asked for so far: only the latest one's answer is put into the page. */
let asked = 0;

/** Fills every `[data-consent-declaration]` element with the cookie declaration the server
 * renders from the same config (`GET /consent/declaration`, or the address `at` the banner was
 * given, on the page's origin: another origin is refused), in the language `lang` (the page's,
 * or the one `setLanguage` chose), so the privacy notice and the banner never disagree. Of two
 * asked for at once (the page's language as the banner starts, and the one a visitor then
 * chose, both waiting for this script), the one asked for last wins, whichever answers last.
 * On any failure the elements keep what they had (a link, say). */
export function declare(at, lang) {
  const ask = ++asked;
  const elements = document.querySelectorAll('[data-consent-declaration]');
  let url;
  try {
    url = new URL(at, location.href);
  } catch {
    // Not a URL at all (`http://[`): refused as another origin's is, not thrown.
  }
  // HTML from another site would be markup that site chooses, in this page.
  if (url?.origin !== location.origin) {
    console.warn('consent: cookie declaration not loaded: not a URL of the same origin as the page:', at);
    return;
  }
  url.searchParams.set('format', 'html');
  if (lang) url.searchParams.set('lang', lang.slice(0, 2));
  // The address as text and the options without a prototype: a page's fetch wrapper may take
  // strings only, and a polluted `signal` or `cache` would throw (banner.js's `get`).
  Promise.resolve().then(() => fetch(`${url}`, { __proto__: null, credentials: 'same-origin' }))
    .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${url}: ${r.status}`))))
    .then((html) => {
      if (ask === asked) for (const e of elements) e.innerHTML = html;
    })
    .catch((err) => console.warn('consent: cookie declaration not loaded:', err.message));
}

/** The markup warned about. */
const warned = new Set();

/** Says once per markup that an element naming the `category` (and `service`) the policy does
 * not have (a typo, a list where one id belongs) never loads, whatever the visitor decides. */
export function misnamed(category, service) {
  const what = `data-category="${category}"${service == null ? '' : ` data-service="${service}"`}`;
  if (!warned.has(what)) console.warn(`consent: ${what} names no category or service of the policy, so the element never loads`);
  warned.add(what);
}

/** Whether `unrecorded` has said anything on this page. */
let unsaid = true;

/** Says, once per page, why a decision did not reach the endpoint's log (it is kept locally):
 * `why` is the endpoint's refusing response, whose error says what it refused and why (a
 * banner config that is not the server's, say), or 0 (the request failed), 1 (the answer holds
 * no valid token) or 2 (the answer is not JSON). */
export function unrecorded(why) {
  (why instanceof Response
    ? why.json().then((a) => a?.error, () => 0)
      .then((e) => `the endpoint answered ${why.status}${typeof e === 'string' ? `: ${e}` : ''}`)
    : Promise.resolve(['the request failed', 'the answer holds no valid token', 'the answer is not JSON'][why]))
    .then((what) => {
      if (unsaid) console.warn('consent: could not record the decision; it is kept locally:', what);
      unsaid = false;
    });
}

/** What a page that still embeds a JSON config (or gives one to `Consent.run`) is told: the
 * banner reads a compiled policy. */
export function oldConfig() {
  console.error('consent: the banner reads a compiled policy now, not a JSON config in the page: '
    + 'compile it with `consent banner build site.json --out <dir>` (or let `consent serve` serve it) '
    + 'and serve the files it writes beside consent.js; only necessary cookies are allowed meanwhile');
}

/** What `acceptCategory` says when it was given ids the policy does not have (`ids`, as the core
 * answered them: percent-encoded): nothing was decided. */
export function unknown(ids) {
  console.error('consent: acceptCategory: no such categories, nothing decided:', ids.map(decodeURIComponent));
}

/** What a decision the core refused to store (`error`, its reason) says. */
export function unstored(error) {
  console.error('consent: no decision was stored:', error);
}

/** What `acceptCategory` says when it was given neither "all", an id nor a list (`got`). */
export function expected(got) {
  console.error('consent: acceptCategory: expected "all", a category id or a list of them, got', got);
}
