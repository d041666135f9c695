// The preview page: starts the banner (../banner/consent.js, unchanged, `data-manual` on its
// tag) as a site's own tag would, with the playground's compiled policy and options from this
// page's address:
//   frame.html?site=<id>&lang=fi&layout=box&position=bottom&theme=light&n=<which preview>
// The policy is site/<id>/policy.bin, which sw.js answers from what the playground page put in
// the cache; the banner finds the texts beside it, as on a site.
//
// The preview keeps to itself: cookies live in memory for this page only (each preview starts
// as a first visit, and nothing lands on the playground's origin, which may be the site's
// own), and sw.js refuses what the banner would send to the config's endpoint.

const jar = new Map();

/** Whether a `document.cookie` line's attributes delete the cookie. */
function expires(attributes) {
  return attributes.some((a) => {
    const [key, value = ''] = a.split('=').map((s) => s.trim());
    if (/^max-age$/i.test(key)) return Number(value) <= 0;
    if (/^expires$/i.test(key)) return Date.parse(value) <= Date.now();
    return false;
  });
}

Object.defineProperty(document, 'cookie', {
  configurable: true,
  get: () => [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
  set: (line) => {
    const [pair, ...attributes] = String(line).split(';');
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? '' : pair.slice(0, eq)).trim();
    const value = pair.slice(eq + 1).trim();
    if (expires(attributes)) jar.delete(name);
    else jar.set(name, value);
  },
});

// The banner moves focus into a layer when it opens it, as it should on a site. Here each
// preview would then take the focus, and the keys being typed, from the playground's editor,
// so a layer takes the focus only while the preview itself has it (the visitor is in it).
const focus = HTMLElement.prototype.focus;
HTMLElement.prototype.focus = function focusInPreview(...args) {
  if (document.hasFocus()) focus.apply(this, args);
};

const q = new URLSearchParams(location.search);
// The banner picks the first of the page's languages its config offers.
document.documentElement.lang = q.get('lang') ?? '';
const site = q.get('site') ?? '';
const options = { layout: q.get('layout'), position: q.get('position'), theme: q.get('theme') };
document.documentElement.dataset.theme = options.theme ?? '';

const n = q.get('n');
const tell = (state) => parent.postMessage({ preview: state, site, n }, location.origin);
window.Consent.run(`site/${encodeURIComponent(site)}/policy.bin`, options)
  .then((ok) => tell(ok ? 'shown' : 'failed'), () => tell('failed'));
window.addEventListener('consent:first', () => tell('decided'));
