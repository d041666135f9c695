
// ---- The banner (wasm/js/banner.js; wasm/build.sh minifies it into dist/consent.js) ----
// It loads the site's compiled policy (policy.bin, beside this script unless the page says
// otherwise) into the WebAssembly core, draws with the texts of one language (texts-<lang>.json,
// loaded only when something is drawn, and details-<lang>.json beside it only for the
// preferences and embeds' placeholders; only texts of the policy's revision), writes the cookie lines the core returns, sends the
// decisions it makes and loads the elements it allows. The core answers in JSON text (one
// string per call, read with JSON.parse). No consent logic lives here: every
// question (may this run? what does this click decide? which cookies go?) is the core's.
// Everything a config or a visitor supplies goes into the page as text, never as HTML.

/** Consent Mode's `gtag`, for pages that have none: a named function in this static file,
 * so a strict CSP needs no inline script. It pushes `arguments`, as gtag.js expects. */
function gtagShim() {
  (window.dataLayer = window.dataLayer || []).push(arguments);
}

/** The WebAssembly core's exports, once loaded (consent_bg.wasm beside this script). */
let wasm;
const utf8 = new TextEncoder();
const utf8d = new TextDecoder();
const memory = () => new Uint8Array(wasm.memory.buffer);

/** Calls the core's export `f` (wasm/src/abi.rs): the text or byte arguments `args` go into
 * its memory one after the other from `base()`, and their lengths come first among the
 * export's arguments, `rest` after them. The core writes its answer, JSON text, right after
 * the arguments and returns its length: parsed here, or with `json` false the export's
 * number itself. */
function core(f, args, rest = [], json = true) {
  let at = wasm.base();
  const short = at + args.reduce((n, a) => n + a.length * 3, 0) - wasm.memory.buffer.byteLength;
  if (short > 0) wasm.memory.grow(Math.ceil(short / 65536));
  const lens = args.map((a) => {
    const n = typeof a === 'string' ? utf8.encodeInto(a, memory().subarray(at)).written : (memory().set(a, at), a.length);
    at += n;
    return n;
  });
  const r = wasm[f](...lens, ...rest);
  return json ? JSON.parse(utf8d.decode(memory().subarray(at, at + r))) : r;
}

/** The actions `decide` takes, by their place in the core's `ActionKind::ALL`. */
const ACCEPT_ALL = 0;
const REJECT_ALL = 1;
const CUSTOM = 2;
const GRANT = 3;
const start = (policy, jar, now, gpc, dnt, langs) => core('start', [policy, jar, dnt, langs], [now, gpc]);
const state = () => core('state', []);
const setLanguage = (lang) => core('language', [lang], [], false) === 1;
const decide = (kind, ids, now, random, jar, host, href, https) =>
  core('decide', [random, ids, jar, host, href], [now, https, kind]);
/** 1: the element may load; 0: not now; 2: never, it names what the policy does not have. */
const allows = (category, service, path) =>
  core('allows', [category ?? '', service ?? '', path], [service != null], false);
const acceptedCategory = (id) => core('category', [id], [], false) === 1;
const acceptedService = (id, path) => core('service', [id, path], [], false) === 1;
const consent = () => core('consent', []);
const signed = (token, https) => core('signed', [token], [https]);
const reset = (now, random, jar, host) => core('reset', [random, jar, host], [now]);

const GATED = "script[type='text/plain'][data-category]:not([data-consent-queued]),"
  + 'iframe[data-category][data-src],img[data-category][data-src]';

/** The banner on this page: its options, where its policy came from, the texts loaded so
 * far (by language), its root element, live region, open layer (the first layer or the
 * preferences), embed placeholders, the element that had focus
 * before the preferences opened and its watch on the page for gated elements added later.
 * `null` until a policy was accepted. */
let ui = null;
let listening = false;
/** Whether the core has started with a policy for the banner on the page (`ui.base_`, where
 * that policy came from, is set then): a first layer drawn ahead of it (`drawEarly`) asks the
 * core nothing until then. */
const running = () => wasm && ui?.base_;
/** Global Privacy Control, as the core is told it (`start`), and as the first layer drawn
 * ahead of the core says it. */
const gpc = () => navigator.globalPrivacyControl === true;

const https = () => location.protocol === 'https:';
/** A list as the core reads it: each item percent-encoded, joined with commas. A lone
 * surrogate (which encodeURIComponent throws on) becomes `%`, which no id or language tag
 * holds: the item stays one that matches nothing. */
const items = (list) => list.map((i) => encodeURIComponent(i.replace(/[\ud800-\udfff]/gu, '%'))).join(',');
const random = () => crypto.getRandomValues(new Uint8Array(16));

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

/** Own keys only: a page whose Object.prototype was polluted (`?__proto__[onfocus]=...`
 * through some parser of its own) must not lend its keys to the banner as attributes. */
function attrs(e, a) {
  for (const k of Object.keys(a)) e.setAttribute(k, a[k]);
  return e;
}

function add(parent, ...children) {
  parent.append(...children);
  return parent;
}

function button(text, onClick) {
  const b = attrs(el('button', 'consent-btn', text), { type: 'button' });
  b.addEventListener('click', onClick);
  return b;
}

/** "Reject all", "Accept all" and a third action: the same element, size and colours. */
function actions(t, third, onThird) {
  return add(el('div', 'consent-actions'),
    button(t.reject_all, () => decideNow(REJECT_ALL)),
    button(t.accept_all, () => decideNow(ACCEPT_ALL)),
    button(third, onThird));
}

function consentMode(command, params) {
  if (params && typeof window.gtag === 'function') window.gtag('consent', command, params);
}

/** Writes the core's cookie lines. Where writing throws (a cookie blocker's setter of
 * document.cookie, a sandboxed document) nothing is stored, and the decision holds for this
 * page only, as where the setter drops them. */
function setCookies(lines) {
  for (const line of lines) {
    try {
      document.cookie = line;
    } catch {}
  }
}

/** document.cookie, or `''` where reading it throws (a page's own getter, a sandboxed
 * document): no decision is stored, so the first layer asks. */
const jar = () => {
  try {
    return document.cookie;
  } catch {
    return '';
  }
};

function pick(value, allowed) {
  return allowed.includes(value) ? value : allowed[0];
}

/** The banner's root: a live region for announcements, and the layers when open. */
function mount(options) {
  const theme = `consent-theme-${pick(options.theme, ['light', 'dark', 'auto'])}`;
  const root = attrs(el('div', `consent-root consent-${pick(options.layout, ['box', 'bar'])}`
    + ` consent-pos-${pick(options.position, ['bottom', 'bottom-left', 'bottom-right', 'top', 'middle'])} ${theme}`), { 'data-consent-ui': '' });
  // A first layer the server rendered is already on screen: the banner's is not animated in
  // a second time.
  if (document.querySelector('[data-consent-nojs]')) root.classList.add('consent-still');
  const live = attrs(el('div', 'consent-sr'), { role: 'status', 'aria-live': 'polite' });
  root.append(live);
  document.body?.append(root);
  // Gated elements a single-page app adds later (React, Vue): watched from now on.
  const watch = new MutationObserver(adopt);
  // Options without a prototype: WebIDL reads a dictionary's members through the chain, and a
  // polluted `attributeFilter` (or fetch's `signal`, `cache`, `priority`) throws.
  watch.observe(document.documentElement, { __proto__: null, childList: true, subtree: true });
  // No prototype, here nor for the texts by file: a field not set yet (`layer_`, `opener_`,
  // `unpad_`, `label_`: undefined until then) or a file not loaded yet is not read from a
  // polluted Object.prototype.
  return { __proto__: null, options_: options, root_: root, theme_: theme, live_: live, placeholders_: new Map(), texts_: { __proto__: null }, drawn_: 0, gen_: 0, watch_: watch };
}

function unmount() {
  if (!ui) return;
  ui.watch_.disconnect();
  ui.unpad_?.();
  ui.root_.remove();
  for (const p of ui.placeholders_.values()) p.remove();
  ui = null;
}

/** The first layer the server rendered (for pages without JavaScript), gone: it stays on
 * screen, and works as a form, until the banner draws a layer in its place (in the same
 * task, so nothing is painted in between) or has none to draw. */
function dropRendered() {
  for (const rendered of document.querySelectorAll('[data-consent-nojs]')) rendered.remove();
}

/** Shows `element` as the open layer and moves focus into it (to `focus`, if any). */
function showLayer(element, prefs, focus = element) {
  dropRendered();
  ui.unpad_?.();
  ui.layer_?.remove();
  ui.layer_ = element;
  ui.prefs_ = prefs;
  ui.root_.append(element);
  focus?.focus();
}

/** Closes the open layer, and one still waiting for its texts: a decision made meanwhile
 * (by the page, or a script) is not followed by a layer asking again, nor leaves the server's
 * first layer on screen. */
function closeLayer() {
  dropRendered();
  ui.unpad_?.();
  ui.layer_?.remove();
  ui.drawn_++;
  ui.layer_ = ui.prefs_ = null;
}

function restoreFocus() {
  ui.opener_?.focus();
  ui.opener_ = null;
}

/** `fetch`, with the address as text and any failure in the promise: a page's wrapper of fetch
 * (a monitor's, which reads `input.indexOf`) may take strings only, or throw at the call. */
const get = (url, init) => Promise.resolve().then(() => fetch(String(url), init));

/** A refused fetch: its body let go (so the request ends), and why. */
function failed(response, what) {
  response.body?.cancel().catch(() => {});
  return Promise.reject(new Error(`${what}: ${response.status}`));
}

/** What `load()` gives, asked for once and kept in `kept` under `key`: one that failed is said
 * once (what it leaves undrawn: `what`) and asked for again the next time it is needed. */
function once(kept, key, what, load) {
  return kept[key] ??= load().catch((err) => {
    delete kept[key];
    console.error(`consent: ${what} cannot be drawn:`, err.message);
    return Promise.reject(err);
  });
}

/** The file `name` (`texts-fi.json`), loaded once from beside the policy (or by the
 * `ahead` fetch), if it is of the policy's revision: the decision's token carries that
 * revision, and the server records the texts of it as those the visitor was shown. One of
 * another (a cache kept it past a new revision; a deploy half done) is asked for once more,
 * past the HTTP cache (revalidated), and is refused if that is not of it either: what it
 * leaves undrawn stays undrawn (the server's first layer stays), and `once` says so. Like the
 * policy's, with fetch's default credentials: `same-origin`. Texts of a later revision mean
 * the policy is the stale one (a cache keeps policy.bin for minutes): it is asked for past
 * the cache too, once per page, and the banner starts again with it, as `run` did. */
const file = (name, ahead) => once(ui.texts_, name, 'the banner', () => {
  const rev = state().revision;
  const { base_: url, options_: options } = ui;
  const load = (init) => get(new URL(name, url), init).then((r) => (r.ok ? r.json() : failed(r, name)));
  return (ahead || load()).then((f) => (f?.revision === rev ? f : load(NO_CACHE).then((f) => {
    if (f?.revision === rev) return f;
    if (f?.revision > rev && !renewed) {
      // Unless the page has started the banner again meanwhile: the latest `run` wins.
      renewed = runs;
      get(url, NO_CACHE).then(() => renewed === runs && Consent.run(url, options), () => {});
    }
    return Promise.reject(new Error(`${name} is not of revision ${rev}`));
  })));
});
/** Whether the policy was asked for again past the cache (`file`), once per page: the
 * `run` it was asked for in (`runs` then). */
let renewed;
const NO_CACHE = { __proto__: null, cache: 'no-cache' };

/** The first layer's texts of `lang`; with `details`, merged with what only the preferences
 * and an embed's placeholder draw (the categories, services and cookies), which a first visit
 * that decides in the first layer never loads. */
function texts(lang, details) {
  const first = file(`texts-${lang}.json`);
  return details ? Promise.all([first, file(`details-${lang}.json`)])
    .then(([a, b]) => ({ ...a, ...b, t: { ...a.t, ...b.t } })) : first;
}

/** A stylesheet beside this script (`consent-prefs.css`), linked once, right after the
 * banner's own (so a site's rules after that still win; at the end of the head if that is not
 * found); resolves when it has loaded or failed, so that what it styles is never drawn
 * unstyled while it comes. One that failed (a dropped connection) is drawn without, and linked
 * again the next time it is needed. */
const sheets = { __proto__: null };
function sheet(name) {
  return sheets[name] ??= new Promise((done) => {
    const link = attrs(el('link'), { rel: 'stylesheet', href: new URL(name, import.meta.url) });
    if (ui.options_.nonce) link.nonce = ui.options_.nonce;
    link.onload = done;
    link.onerror = () => {
      link.remove();
      delete sheets[name];
      done();
    };
    const main = document.querySelector('link[href*="consent.css"]');
    if (main) main.after(link);
    else document.head.append(link);
  });
}

/** The scripts beside this one, imported once each when first needed, with this script's
 * nonce: the preferences' (consent-prefs.js, wasm/js/prefs.js; until it has loaded they do not
 * open, and the first layer's buttons still decide), and what only some pages use
 * (consent-extra.js, wasm/js/extra.js: the embeds' placeholders, the floating button, the
 * cookie declaration, the messages about a JSON config, markup the policy does not know,
 * acceptCategory's wrong arguments and a decision not stored or not recorded). Their paths are
 * written out, so that a site's bundler can follow them. */
const scripts = { __proto__: null };
const prefsScript = () => once(scripts, 0, 'the preferences', () => import('./consent-prefs.js'));
const extraScript = () => once(scripts, 1, "the page's extras", () => import('./consent-extra.js'));
const prefsStyle = () => sheet('consent-prefs.css');

/** What to draw now: the core's state with the texts of its language (with `prefs`, the
 * categories' texts and, in the state, whether each is on now: `on`, by their place). Calls
 * `draw` with it (and, with `prefs`, the preferences' script) once the texts are there, unless
 * the page moved on (another banner, another draw) first; resolves when it has drawn (or will
 * not). */
function withView(draw, prefs) {
  if (!ui) return Promise.resolve();
  const u = ui;
  const drawn = ++u.drawn_;
  const s = state();
  return Promise.all([texts(s.lang, prefs), prefs && prefsScript(), prefs && prefsStyle()]).then(([t, p]) => {
    if (ui !== u || u.drawn_ !== drawn) return;
    draw({ ...t, ...state() }, p);
  }, () => {}).catch((err) => console.error('consent: the banner cannot be drawn:', err.message));
}

function showBanner(polite = false) {
  return withView((v) => drawBanner(v, polite));
}

function drawBanner(v, polite) {
  const t = v.t;
  // Not an id the page has: a site's own form may have `consent-desc`, and aria-describedby
  // names the first element with it. (A layer this replaces goes in the same task.)
  const id = document.getElementById('consent-desc') ? 'consent-desc-' : 'consent-desc';
  const banner = attrs(el('div', 'consent-banner'), {
    role: 'dialog', 'aria-modal': 'false', 'aria-label': t.banner_label,
    'aria-describedby': id, tabindex: '-1', lang: v.lang,
  });
  add(banner, el('h2', 'consent-title', t.banner_title),
    attrs(el('p', 'consent-desc', t.banner_description), { id }));
  if (v.gpc) banner.append(el('p', 'consent-gpc', t.gpc_notice));
  const acts = actions(t, t.settings, openPreferences);
  // What the preferences draw starts loading as a pointer goes down on "Settings", or the
  // focus comes to it: most of the round trip is over by the click.
  for (const type of ['pointerdown', 'focus']) acts.lastChild.addEventListener(type, warm);
  add(banner, attrs(el('a', 'consent-link', t.privacy_notice), { href: v.privacy }), acts);
  // Drawn as the banner starts (`polite`), unasked, it takes the focus only if that is
  // nowhere yet or on the server's first layer it replaces: a visitor already typing in the
  // page keeps the focus, and the keys.
  const a = document.activeElement;
  showLayer(banner, false, polite && a && a !== document.body && !a.closest('[data-consent-ui]') ? null : banner);
  pad(banner);
}

/** While the first layer is on screen along the bottom edge, the page's bottom scroll padding
 * is the layer's height, so that an element the keyboard focuses in the page scrolls clear of
 * the layer instead of behind it (WCAG 2.2, 2.4.11), and so is the banner's root (at the end of
 * the body), so that the page's last links can scroll above it. The page's own padding comes
 * back when the layer goes. (Along the top edge, nothing: the page would have to be pushed
 * down.) */
function pad(layer) {
  const s = document.documentElement.style;
  const root = ui.root_.style;
  const own = s.scrollPaddingBottom;
  const watch = new ResizeObserver(() => {
    const r = layer.getBoundingClientRect();
    const bottom = r.bottom > innerHeight - 40;
    root.paddingBottom = bottom ? `${innerHeight - r.top}px` : '';
    s.scrollPaddingBottom = bottom ? root.paddingBottom : own;
  });
  watch.observe(layer);
  ui.unpad_ = () => {
    watch.disconnect();
    root.paddingBottom = '';
    s.scrollPaddingBottom = own;
    ui.unpad_ = null;
  };
}

function warm() {
  if (!running()) return;
  texts(state().lang, true).catch(() => {});
  prefsScript().catch(() => {});
  prefsStyle();
}

function openPreferences() {
  if (!ui) return;
  if (!running()) {
    ui.pending_ = openPreferences;
    return;
  }
  if (!ui.opener_) {
    const active = document.activeElement;
    if (active && !active.closest('[data-consent-ui]')) ui.opener_ = active;
  }
  withView(showPreferences, true);
}

/** The preferences for the view `v`, drawn by their script `p` with this script's helpers. */
function showPreferences(v, p) {
  p.draw(v, el, attrs, add, button, actions, showLayer, closePreferences, switchLanguage, (ids) => decideNow(CUSTOM, ids));
}





/** Dismissing grants nothing: without a decision the first layer comes back. */
function closePreferences() {
  const v = state();
  if (v?.show) {
    showBanner();
  } else if (ui) {
    closeLayer();
    restoreFocus();
  }
}

/** The optional button that reopens the preferences (`data-floating` on the script tag),
 * for sites without a link in their footer, drawn by consent-extra.js once it and its
 * stylesheet (which hides the button while a layer is open) are there. What it gives back
 * labels the button in the language now chosen (`label_`, called again when it changes). */
function floating(u) {
  Promise.all([extraScript(), sheet('consent-extra.css')]).then(([x]) => {
    (u.label_ = x.floating(u.root_, button, (b) => { u.opener_ = b; openPreferences(); }, () => texts(state().lang)))();
  }, () => {});
}

function switchLanguage(lang) {
  if (!setLanguage(lang)) return false;
  ui.label_?.();
  if (ui.prefs_) withView(showPreferences, true);
  else if (ui.layer_) showBanner();
  regate();
  declare(lang);
  return true;
}

/** Decides with the core; writes, tells and sends what it returns. Whether it decided. */
function decideNow(kind, ids = []) {
  if (!ui) return false;
  // A click on a first layer drawn ahead of the core (`drawEarly`) waits for it.
  if (!running()) {
    ui.pending_ = () => decideNow(kind, ids);
    return false;
  }
  const r = decide(kind, items(ids), Date.now(), random(), jar(), location.hostname, location.href, https());
  if (!r) return false;
  // Own members only, as for every optional one of the core's answers: a polluted
  // Object.prototype.unknown (or .error) made every decision fail, and threw.
  if (Object.hasOwn(r, 'unknown')) {
    // Said by consent-extra.js, as every other message about a page's mistakes (and the
    // core's refusal below).
    extraScript().then((x) => x.unknown(r.unknown), () => {});
    return false;
  }
  if (Object.hasOwn(r, 'error')) {
    extraScript().then((x) => x.unstored(r.error), () => {});
    return false;
  }
  setCookies(r.cookies);
  consentMode('update', r.gcm);
  // Before the scripts it allows run: one of them may decide again, and the records must
  // reach the log in the order the decisions were made.
  if (r.send) send(r.send);
  closeLayer();
  const lang = state().lang;
  // The announcement, in the texts already loaded (an API call on a page that drew nothing
  // loads none).
  ui.texts_[`texts-${lang}.json`]?.then((t) => { if (ui) ui.live_.textContent = t.t.saved; }, () => {});
  restoreFocus();
  regate();
  const detail = { categories: r.allowed, changed: r.changed };
  if (r.first) window.dispatchEvent(new CustomEvent('consent:first', { detail }));
  if (r.changed.length) window.dispatchEvent(new CustomEvent('consent:change', { detail }));
  return true;
}

/** Sends the record to the endpoint and keeps the signed token it answers, if that token
 * still carries the decision in force. Why a record did not reach the log (a refusal, with the
 * server's reason, an answer with no valid token, no answer at all) is said, once per page, by
 * consent-extra.js: `unrecorded` gets the refusing response, or the kind of failure. */
function send({ url, ...body }) {
  const unrecorded = (why) => extraScript().then((x) => x.unrecorded(why), () => {});
  get(url, { __proto__: null, method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, keepalive: true })
    .then((response) => (response.ok ? response.json().then((answer) => {
      const line = typeof answer?.token === 'string' && signed(answer.token, https());
      if (typeof line === 'string') setCookies([line]);
      else if (line === false) unrecorded(1);
    }, () => unrecorded(2)) : unrecorded(response)), () => unrecorded(0));
}

/** Loads what may load now, in document order, and puts placeholders on embeds that wait
 * for consent. A placeholder that held the focus (its button pressed, or the preferences
 * opened from it gave the focus back to it) leaves it on its embed if that loads now (one
 * still waiting is hidden and cannot take it): it went to the page's <body> with the
 * placeholder, and the next Tab started over from the top. */
function regate() {
  if (!ui) return;
  // Additions not yet seen by `adopt` are in the page, handled here: not a second time there.
  ui.watch_.takeRecords();
  let focus;
  for (const [e, p] of ui.placeholders_) {
    if (p.contains(document.activeElement)) focus = e;
    p.remove();
  }
  ui.placeholders_.clear();
  ui.gen_++;
  gate(document.querySelectorAll(GATED));
  focus?.focus();
}

/** Of the gated elements `list` (in document order), loads those that may load now and puts
 * placeholders on the embeds that wait for consent. */
function gate(list) {
  const go = [];
  for (const e of list) {
    const v = verdict(e);
    if (v === 1) go.push(e);
    else refused(e, v);
  }
  activate(go, ui.options_.nonce);
}

/** A gated element that may not load now (`v`, its verdict): an embed gets its placeholder.
 * One that names a category or service the policy does not have (a typo, a list where one id
 * belongs) never loads, whatever the visitor decides: consent-extra.js says so. */
function refused(e, v) {
  const category = e.getAttribute('data-category');
  const service = e.getAttribute('data-service');
  if (v === 2) extraScript().then((x) => x.misnamed(category, service), () => {});
  else if (e.localName === 'iframe') embedPlaceholder(e, category, service);
}

/** The gated elements among what a batch of mutations `records` added (the nodes, and what
 * they hold), handled as `regate` handles the page's, in document order; those still in it.
 * Placeholders of embeds no longer in the page go first.
 * What the banner adds itself (a revived script, a placeholder, a layer) is never gated, so
 * it is never handled again. */
function adopt(records) {
  // Before the core has started (a first layer drawn ahead of it), `regate` handles the page.
  if (!running()) return;
  // An embed the app took out takes its placeholder with it.
  for (const [e, box] of ui.placeholders_) {
    if (!e.isConnected) {
      box.remove();
      ui.placeholders_.delete(e);
    }
  }
  const added = new Set();
  for (const r of records) {
    for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      if (n.matches(GATED)) added.add(n);
      for (const e of n.querySelectorAll(GATED)) added.add(e);
    }
  }
  if (added.size) gate([...document.querySelectorAll(GATED)].filter((e) => added.has(e)));
}

/** Whether the gated element `e` may load now, on this page (`allows`' answer). */
const verdict = (e) => allows(e.getAttribute('data-category'), e.getAttribute('data-service'), location.pathname);
const allowed = (e) => verdict(e) === 1;

/** Without a policy (damaged, cut, missing, or a JSON config given the old way) only the
 * strictly necessary loads: the core's rule 14 answers `allows` until a policy is accepted. */
function necessaryOnly(nonce) {
  activate([...document.querySelectorAll(GATED)].filter(allowed), nonce);
}

/** An embed's placeholder in the page's language, put before it by consent-extra.js once the
 * texts, that script and its stylesheet are there, unless the banner moved on meanwhile (another
 * policy, a regate). */
function embedPlaceholder(embed, category, svc) {
  const u = ui;
  const gen = u.gen_;
  Promise.all([texts(state().lang, true), extraScript(), sheet('consent-extra.css')]).then(([t, x]) => {
    if (ui === u && u.gen_ === gen) {
      x.placeholder(t, embed, category, svc, u.theme_, u.placeholders_, el, attrs, add, button, (id) => decideNow(GRANT, [id]));
    }
  }, () => {});
}

/** Brings each element to life once, in order: an external script holds back the rest until
 * it has loaded (or failed), as the parser would; what it held back is asked about again
 * then, since a decision made meanwhile (a withdrawal) may have taken it away. */
function activate(list, nonce) {
  for (let i = 0; i < list.length; i++) {
    let script;
    try {
      script = list[i].localName === 'script' ? revive(list[i], nonce) : load(list[i]);
    } catch {
      // A page that requires Trusted Types, without a default policy, refuses a script's
      // text or address from a string (the browser says so): that element stays inert, and
      // the banner goes on (it threw out of its start, and drew no first layer).
      continue;
    }
    const rest = list.slice(i + 1);
    if (script && rest.length) {
      for (const r of rest) r.setAttribute('data-consent-queued', '');
      let done = false;
      script.onload = script.onerror = () => {
        if (done) return;
        done = true;
        for (const r of rest) r.removeAttribute('data-consent-queued');
        activate(rest.filter(allowed), nonce);
      };
      return;
    }
  }
}

function load(e) {
  const src = e.getAttribute('data-src');
  e.removeAttribute('data-src');
  e.classList.remove('consent-wait');
  // Markup a visitor wrote (a comment a sanitiser passed with its data-* attributes) must not
  // become script: a `javascript:` address (however spelt: parsed as the browser parses it)
  // would run in the page as the iframe loads.
  if (attrs(el('a'), { href: src }).protocol !== 'javascript:') e.setAttribute('src', src);
  return null;
}

/** A real script in place of the `text/plain` one, with its attributes and nonce but not
 * `data-category`; the original goes, without `data-category` too (a framework may put back
 * a node it rendered), so it can never be activated a second time, and the new one is no
 * gated script to another manager of the same markup (vanilla-cookieconsent takes any
 * `script[data-category]`, and drops the attribute from what it revives too). The new
 * script, if external. */
function revive(old, nonce) {
  const parent = old.parentNode;
  if (!parent) return null;
  const script = document.createElement('script');
  for (const { name, value } of old.attributes) {
    if (!['type', 'data-src', 'data-type', 'nonce', 'data-category'].includes(name)) script.setAttribute(name, value);
  }
  const type = old.getAttribute('data-type');
  if (type != null) script.setAttribute('type', type);
  // Browsers hide a parsed nonce from getAttribute; the property still has it.
  const given = nonce || old.nonce;
  if (given) script.nonce = given;
  script.async = false;
  const src = old.getAttribute('data-src');
  if (src != null) script.setAttribute('src', src);
  else script.textContent = old.textContent;
  parent.insertBefore(script, old.nextSibling);
  old.removeAttribute('data-category');
  old.remove();
  return src != null ? script : null;
}

/** Any element with `data-consent-open` opens the preferences. */
function openFromPage(e) {
  const opener = e.target instanceof Element && e.target.closest('[data-consent-open]');
  if (opener && ui) {
    e.preventDefault();
    openAt(opener);
  }
}

/** The preferences, opened from `opener` (focus returns there), which loses the mark of a
 * click made before the banner ran. */
function openAt(opener) {
  opener.removeAttribute('data-consent-clicked');
  ui.opener_ = opener;
  openPreferences();
}

/** Starts the banner with the compiled policy's `bytes` (from `base`): `true`, or a promise
 * of it while the first layer is drawn; `false`, after one console error saying why, when
 * they are not a policy this banner reads: only necessary cookies are then allowed. */
function runBanner(bytes, base, options) {
  // A first layer drawn ahead of the core (`drawEarly`) stays until the core has said whether
  // it is the one to draw: its mark says which it is.
  const ahead = ui?.root_.getAttribute('data-consent-early');
  if (!ahead) unmount();
  const languages = [document.documentElement.lang || '', ...(navigator.languages || [])];
  const v = start(bytes, jar(), Date.now(), gpc(), String(navigator.doNotTrack), items(languages));
  if (Object.hasOwn(v, 'error')) {
    unmount();
    off(v.error);
    return false;
  }
  // A page the server rewrote (consent-gate's page layer) already sent the default, before
  // any tag: Google's tags take only the first, so it is not sent twice.
  if (v.gcmDefault && !document.querySelector('script[data-consent-mode]')) {
    if (window.dataLayer === undefined) window.dataLayer = [];
    if (typeof window.gtag !== 'function' && typeof options.gtag === 'function') window.gtag = options.gtag;
    consentMode('default', v.gcmDefault);
  }
  consentMode('update', v.gcmUpdate);
  if (!listening) document.addEventListener('click', openFromPage);
  listening = true;
  // The layer drawn ahead is the core's own if the core asks, in its language, with texts of
  // its policy's revision: kept (no second paint), and a click made on it meanwhile is
  // followed now. Else it goes, with that click (made on texts the core would not draw), and
  // the core's layer is drawn as always.
  const kept = v.show && ahead === `${v.lang} ${v.revision}`;
  if (kept) {
    ui.options_ = options;
    ui.root_.removeAttribute('data-consent-early');
  } else {
    unmount();
    ui = mount(options);
  }
  ui.base_ = base;
  // Texts fetched ahead, while the WebAssembly loaded (see `early`): kept if the core chose
  // their language, else they are one unused request.
  if (early?.url.href === new URL(`texts-${v.lang}.json`, base).href) file(`texts-${v.lang}.json`, early.texts);
  early = null;
  // Gated elements first: a returning visitor's allowed scripts wait for nothing else.
  regate();
  if (options.floating != null) floating(ui);
  // A settings control clicked before the banner ran (consent-gate's page layer loads it
  // after the first paint and marks such a click): its preferences open now.
  const clicked = document.querySelector('[data-consent-clicked]');
  if (clicked) openAt(clicked);
  if (kept) {
    const pending = ui.pending_;
    ui.pending_ = null;
    pending?.();
    return true;
  }
  // Resolves once the first layer, if due, is drawn.
  if (v.show) return showBanner(true).then(() => true);
  dropRendered();
  return true;
}

/** The compiled policy's bytes and address (`[bytes, url]`, `runBanner`'s first arguments),
 * from `source` (its URL; by default policy.bin beside this script), or `null` after one
 * console error: a JSON config (the old way: said by consent-extra.js, which names the command
 * that compiles it), or a policy that cannot be loaded. */
function loadPolicy(source) {
  if ((source != null && typeof source !== 'string' && !(source instanceof URL))
    || (typeof source === 'string' && /^\s*[{[]/.test(source))) {
    extraScript().then((x) => x.oldConfig(), () => {});
    return Promise.resolve(null);
  }
  let url;
  try {
    url = new URL(source ?? 'policy.bin', source == null ? import.meta.url : location.href);
  } catch {
    // `data-policy="http://["`: refused like a policy that did not load, not thrown.
    return Promise.resolve(off('the policy address is not a URL:', source));
  }
  fetchEarly(url);
  return get(url)
    .then((r) => (r.ok ? r.arrayBuffer() : failed(r, url)))
    .then((b) => [new Uint8Array(b), url])
    .catch((err) => off('the policy did not load:', err.message));
}

/** The one console error of a banner that cannot start: `null`. */
function off(...why) {
  console.error('consent: the banner is off and only necessary cookies are allowed, because', ...why);
  return null;
}

/** Texts fetched before the core has said whether to draw: only on a page with no cookie at
 * all, where no decision can be stored so the first layer is due, in the page's `<html
 * lang>`. A returning visitor (whose browser holds the consent cookie) never loads texts. */
let early = null;
function fetchEarly(policyUrl) {
  const lang = (document.documentElement.lang || '').slice(0, 2).toLowerCase();
  if (jar() !== '' || !['fi', 'sv', 'en'].includes(lang)) return;
  const url = new URL(`texts-${lang}.json`, policyUrl);
  const ahead = get(url).then((r) => (r.ok ? r.json() : failed(r, url.pathname)));
  ahead.catch(() => {});
  early = { url, lang, texts: ahead };
}

/** The first layer, drawn from the texts fetched ahead (`early`) as soon as they and the page
 * are there, if the core has not started by then: where no cookie at all is stored, neither is
 * a decision, so the first layer is due (policy rule 2), and it is painted without waiting
 * for the WebAssembly to compile (a phone's slowest step). It asks the core nothing: a click
 * on it waits for the core (`ui.pending_`), and `runBanner` keeps it only if the core draws
 * that same layer (same language, texts of its policy's revision), else draws its own in its
 * place (no layer at all, for a policy it refuses). Not over a layer the server rendered,
 * which already works as a form. */
function drawEarly(options, call) {
  const { lang, texts } = early;
  Promise.all([texts, parsed()]).then(([t]) => {
    if (ui || call !== runs || document.querySelector('[data-consent-nojs]')) return;
    ui = mount(options);
    // Its language and revision, until the core has started (the mark goes then): what a
    // page's script or test can wait for.
    attrs(ui.root_, { 'data-consent-early': `${lang} ${t?.revision}` });
    try {
      drawBanner({ ...t, lang, gpc: gpc() }, true);
    } catch {
      // Texts of the wrong shape: the core's start says why (`file`), and draws its own.
      unmount();
    }
  }, () => {});
}

let started;
const init = () => (started = started || (() => {
  const url = new URL('consent_bg.wasm', import.meta.url);
  // Compiled while it downloads; a server that does not say `application/wasm`, or a page
  // that took instantiateStreaming away (or made it throw), gets the slower path.
  return get(url).then((r) => WebAssembly.instantiateStreaming(r))
    .catch(() => get(url).then((r) => r.arrayBuffer()).then((b) => WebAssembly.instantiate(b)))
    .then((m) => { wasm = m.instance.exports; }).catch((err) => {
      // A CSP without 'wasm-unsafe-eval', a blocked or missing file, a page's instantiate
      // that gives no instance: said once, not thrown (a server-rendered first layer stays);
      // a later `run` tries again.
      started = null;
      off('the WebAssembly did not load:', err.message);
    });
})());
/** The whole page is parsed (so every gated element is there): at once for the usual
 * deferred module script; an `async` one starts fetching the wasm before that. */
const parsed = () => (document.readyState !== 'loading' ? 0
  : new Promise((done) => document.addEventListener('DOMContentLoaded', done, { __proto__: null, once: true })));
// Before the core has started nothing is accepted: a safe answer, never an exception.
const ready = (f, none) => (...args) => (running() ? f(...args) : none);

/** Where the cookie declaration comes from: the banner's `declaration` option (`data-declaration`
 * on its script tag), never an element of the page, whose content (a comment, a CMS field that
 * kept `data-*`) would then choose what HTML the banner puts into the page. */
let declaredAt = '/consent/declaration';

/** Fills every `[data-consent-declaration]` element with the cookie declaration in `lang`
 * (consent-extra.js fetches it from `declaredAt`), on a page that has one. */
function declare(lang = document.documentElement.lang || '') {
  if (document.querySelector('[data-consent-declaration]')) extraScript().then((x) => x.declare(declaredAt, lang), () => {});
}

/** The banner's API; also `window.Consent`. */
let runs = 0;
export const Consent = {
  // The latest call wins: an earlier run that settles after it changes nothing.
  run: (source, options) => {
    const call = ++runs;
    // Options the caller set, never ones inherited from a polluted Object.prototype.
    const given = Object.assign({ __proto__: null, gtag: gtagShim }, options);
    // A first layer an earlier call drew ahead is not this call's (its options, its policy).
    if (!ui?.base_) unmount();
    early = null;
    const policy = loadPolicy(source);
    if (early) drawEarly(given, call);
    return Promise.all([init(), policy, parsed()]).then(([, policy]) => {
      if (call !== runs) return false;
      if (!wasm) {
        // A first layer drawn ahead goes: nothing can decide (the server's stays).
        if (!ui?.base_) unmount();
        return false;
      }
      if (!policy) {
        unmount();
        necessaryOnly(given.nonce);
        return false;
      }
      const ok = runBanner(...policy, given);
      if (ok === false) necessaryOnly(given.nonce);
      declaredAt = String(given.declaration ?? '/consent/declaration');
      declare();
      return ok;
    });
  },
  show: ready(() => showBanner()),
  showPreferences: ready(openPreferences),
  acceptedCategory: ready((id) => acceptedCategory(String(id)), false),
  acceptedService: ready((id) => acceptedService(String(id), location.pathname), false),
  acceptCategory: ready((ids) => {
    if (ids === 'all') return decideNow(ACCEPT_ALL);
    const list = typeof ids === 'string' ? [ids] : Array.isArray(ids) ? ids.filter((i) => typeof i === 'string') : null;
    if (!list) {
      extraScript().then((x) => x.expected(ids), () => {});
      return false;
    }
    return decideNow(list.length ? CUSTOM : REJECT_ALL, list);
  }, false),
  getConsent: ready(() => consent(), null),
  setLanguage: ready((lang) => switchLanguage(String(lang)), false),
  reset: ready(() => {
    const r = reset(Date.now(), random(), jar(), location.hostname);
    if (!r) return;
    setCookies(r.cookies);
    consentMode('update', r.gcm);
    showBanner();
  }),
};

// The banner's script twice on a page (a plugin's and a theme's, two URLs: two modules): the
// first starts, and keeps window.Consent; the second only exports its API.
if (typeof window !== 'undefined' && !window[Symbol.for('consent')]) {
  window[Symbol.for('consent')] = 1;
  // Another script may hold the name read-only (a getter, a frozen stub) or behind a setter
  // that keeps nothing (the assignment neither takes nor throws): the banner still starts (its
  // API is the module's export, `import { Consent }`) and says why the name is not it.
  try {
    if ((window.Consent = Consent) !== window.Consent) throw 0;
  } catch {
    console.error('consent: window.Consent is taken by another script');
  }
  // Started by its own script tag (`data-policy`, `data-layout`, ... on it), unless it says
  // `data-manual` or the module was imported by a script instead (the site calls
  // Consent.run). A page that still embeds its JSON config in `#consent-config` is told how
  // to compile it, once.
  const own = [...document.scripts].find((e) => e.src === import.meta.url);
  const inline = document.getElementById('consent-config');
  if (inline?.textContent.trim() || (own && !own.hasAttribute('data-manual'))) {
    // No prototype: an option the tag does not set is not read from a polluted Object.prototype.
    const d = { __proto__: null, ...inline?.dataset, ...own?.dataset };
    // An inline JSON config goes to run as it is, which refuses it with consent-extra.js's
    // message.
    Consent.run(inline?.textContent.trim() ? inline.textContent : d.policy, {
      layout: d.layout, position: d.position, theme: d.theme, floating: d.floating, declaration: d.declaration, nonce: d.nonce || own?.nonce || inline?.nonce,
    });
  }
}
