// The playground: a consent config checked and compiled as it is typed, by the authoring side
// compiled to WebAssembly (build/, `bash build/build.sh --web`: the crate consent-build, the
// CLI's own code), and the real banner (banner/, wasm/dist unchanged) previewed with it.
//
// This page decides nothing itself: the problems, the compiled files, the languages and the
// declaration all come from consent-build. It shows them, and hands the compiled files to the
// preview through the Cache Storage, where preview/sw.js answers the banner's requests for
// them (preview/frame.js says how the preview keeps to itself).
import init, { example, problems, Site } from './build/consent_build.js';

const CACHE = 'consent-playground';
const SAVED = 'consent-playground-config';
const $ = (id) => document.getElementById(id);
const editor = $('config');
const options = $('options');
const frame = $('preview');

/** This tab's slot among the previews (another tab has its own). */
const slot = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('');
const sites = new URL('preview/site/', location.href);

/** The last valid config's compiled site, and the object URLs of its downloads. */
let site = null;
let downloads = [];
let previews = 0;
/** The preview's Service Worker registration, or why there is none. */
let worker = null;

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function status(state, text) {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
}

/** Registers preview/sw.js and waits until it serves, or says why the preview cannot run. */
async function startWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    throw new Error('the preview needs a Service Worker: open the playground over https or on localhost');
  }
  const registration = await navigator.serviceWorker.register('preview/sw.js', { scope: 'preview/' });
  const w = registration.active ?? registration.waiting ?? registration.installing;
  if (w && w.state !== 'activated') {
    await new Promise((done, fail) => w.addEventListener('statechange', () => {
      if (w.state === 'activated') done();
      if (w.state === 'redundant') fail(new Error('the preview\'s Service Worker did not start'));
    }));
  }
  return registration;
}

/** Every problem of `text`, as `consent validate` lists them; the valid config's site, if none. */
function check(text) {
  const found = problems(text);
  const list = $('problems');
  list.replaceChildren(...found.map((p) => {
    const li = el('li', null, { 'data-path': p.path });
    if (p.path) li.append(el('code', p.path), ': ');
    li.append(p.message);
    return li;
  }));
  if (found.length) {
    status('invalid', `${found.length} ${found.length === 1 ? 'problem' : 'problems'}${site ? ' (the preview shows the last valid config)' : ''}`);
    return null;
  }
  try {
    const parsed = Site.parse(text);
    status('valid', 'Valid: every check of consent validate passes.');
    return parsed;
  } catch (why) {
    // Valid, but it does not fit the compiled format (too many services, say).
    list.replaceChildren(el('li', String(why), { 'data-path': '' }));
    status('invalid', '1 problem');
    return null;
  }
}

/** The languages of `site` in the language picker, keeping the one chosen if it still is. */
function languages(langs) {
  const pick = $('lang');
  const chosen = pick.value;
  pick.replaceChildren(...langs.map((l) => el('option', l, { value: l })));
  pick.value = langs.includes(chosen) ? chosen : langs[0];
}

/** Puts the compiled files where sw.js answers for them, then loads the preview anew. One at
 * a time: two in flight could leave one's policy beside the other's texts. */
function preview() {
  loading = loading.then(load).catch((e) => note(`The preview did not load: ${e.message}`));
  return loading;
}

let loading = Promise.resolve();

async function load() {
  if (!site || !worker || worker instanceof Error) return;
  // Each preview has a directory of its own, site/<tab>-<n>/: the one before may still be
  // loading its files, and is dropped only with the next.
  const n = ++previews;
  const dir = new URL(`${slot}-${n}/`, sites);
  const cache = await caches.open(CACHE);
  for (const file of site.files()) {
    const type = file.name.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    await cache.put(new URL(file.name, dir), new Response(file.bytes, { headers: { 'Content-Type': type } }));
  }
  const o = new FormData(options);
  const query = new URLSearchParams({
    site: `${slot}-${n}`, lang: o.get('lang'), layout: o.get('layout'), position: o.get('position'),
    theme: o.get('theme'), n: String(n),
  });
  frame.dataset.state = 'loading';
  frame.src = `preview/frame.html?${query}`;
  await forget((version) => version < n - 1);
}

/** Drops this tab's previews whose number `drop` says. */
async function forget(drop) {
  const cache = await caches.open(CACHE);
  const mine = `${sites.href}${slot}-`;
  for (const request of await cache.keys()) {
    if (request.url.startsWith(mine) && drop(parseInt(request.url.slice(mine.length), 10))) await cache.delete(request);
  }
}

/** The cookie declaration in the preview's language. */
function declaration() {
  const html = site.declaration($('lang').value);
  // consent-core escapes every text of the config in it (declaration/html.rs); the banner's
  // data-consent-declaration elements take it the same way.
  $('declaration').innerHTML = html;
  $('declaration-html').textContent = html;
}

/** The compiled files as downloads, and the config itself. */
function files(text) {
  for (const url of downloads) URL.revokeObjectURL(url);
  downloads = [];
  const link = (name, blob) => {
    const url = URL.createObjectURL(blob);
    downloads.push(url);
    return el('li').appendChild(el('a', name, { href: url, download: name })).parentNode;
  };
  $('files').replaceChildren(
    ...site.files().map((f) => link(f.name, new Blob([f.bytes], { type: 'application/octet-stream' }))),
    link('site.json', new Blob([text], { type: 'application/json' })),
  );
}

/** The tags to paste into the site: the banner's, then each gated service's. */
function snippet() {
  let base = $('base').value.trim() || '/consent/';
  if (!base.endsWith('/')) base += '/';
  const attr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const o = new FormData(options);
  $('snippet').textContent = `<link rel="stylesheet" href="${attr(base)}consent.css">\n`
    + `<script type="module" src="${attr(base)}consent.js" data-layout="${o.get('layout')}"`
    + ` data-position="${o.get('position')}" data-theme="${o.get('theme')}"></script>`;
  const gated = site.services().filter((s) => !s.necessary).map((s) =>
    `<script type="text/plain" data-category="${s.category}" data-service="${s.id}"\n`
    + `        data-src="https://…"></script>`);
  gated.push('<button type="button" data-consent-open>Cookie settings</button>');
  $('gated').textContent = gated.join('\n');
}

/** Everything from the config as it is now. */
function update() {
  const text = editor.value;
  try {
    localStorage.setItem(SAVED, text);
  } catch {
    // Storage off (a private window, say): the config lasts as long as the page.
  }
  const parsed = check(text);
  document.body.classList.toggle('invalid', !parsed);
  if (!parsed) {
    // As consent banner build, which writes nothing for a config with problems.
    for (const url of downloads) URL.revokeObjectURL(url);
    downloads = [];
    $('files').replaceChildren(el('li', 'None yet: a config with problems compiles to nothing.'));
    return;
  }
  site?.free();
  site = parsed;
  languages(site.languages());
  declaration();
  files(text);
  snippet();
  preview();
}

function note(text) {
  const n = $('preview-note');
  n.hidden = !text;
  n.textContent = text ?? '';
}

let pending = 0;
editor.addEventListener('input', () => {
  clearTimeout(pending);
  pending = setTimeout(update, 150);
});
options.addEventListener('change', () => {
  if (!site) return;
  declaration();
  snippet();
  preview();
});
$('reload').addEventListener('click', preview);
$('base').addEventListener('input', () => site && snippet());
$('example').addEventListener('click', () => {
  editor.value = example();
  update();
});
window.addEventListener('message', (e) => {
  // Only the preview loaded last: an earlier one may still be telling as it goes.
  if (e.origin === location.origin && e.source === frame.contentWindow && e.data?.n === String(previews)
    && e.data?.site === `${slot}-${previews}`) {
    frame.dataset.state = e.data.preview;
  }
});
window.addEventListener('pagehide', () => forget(() => true));

await init();
try {
  worker = await startWorker();
  note(null);
} catch (e) {
  worker = e;
  note(`No preview: ${e.message}. The checks, the declaration, the files and the snippet work without it.`);
}
let saved = null;
try {
  saved = localStorage.getItem(SAVED);
} catch {
  // As above.
}
editor.value = saved ?? example();
update();
