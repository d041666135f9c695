
// ---- The preferences (wasm/js/prefs.js; wasm/build.sh minifies it into dist/consent-prefs.js) ----
// What only the preferences draw, imported by the banner (consent.js) the first time they open
// or are about to (a pointer going down on "Settings"), like their stylesheet and the
// details-<lang>.json texts: a first visit that decides in the first layer never loads it.
// It holds no state and decides nothing: the banner hands it the view to draw and the few
// helpers it draws with, and its "Save choices" hands back the ids switched on.

/** The helpers from consent.js, set by `draw` (one banner per page). */
let el, attrs, add, button, actions, showLayer, closePreferences, switchLanguage, save;

const FOCUSABLE = 'button:not([disabled]),a[href],input:not([disabled]),select,summary';

/** Draws the preferences for the view `v` (the core's state with its language's texts) with
 * the banner's helpers `h`, in that order (positional: the two files are minified apart, so
 * no name is shared between them but this function's). */
export function draw(v, ...h) {
  [el, attrs, add, button, actions, showLayer, closePreferences, switchLanguage, save] = h;
  const t = v.t;
  const title = free('consent-ptitle');
  const dialog = attrs(el('div', 'consent-prefs'), {
    role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': title, tabindex: '-1', lang: v.lang,
  });
  const close = attrs(button('×', closePreferences), { 'aria-label': t.close });
  close.className = 'consent-close';
  // Head and actions stay in view; only the body between them scrolls, so a focused switch
  // is never hidden under the action bar.
  const body = el('div', 'consent-body');
  add(body, el('p', 'consent-desc', t.preferences_description));
  if (v.gpc) body.append(el('p', 'consent-gpc', t.gpc_notice));
  body.append(attrs(el('a', 'consent-link', t.privacy_notice), { href: v.privacy }));
  if (v.langs.length > 1) {
    const select = el('select');
    for (const { code, name } of v.langs) {
      const option = attrs(el('option', '', name), { value: code, lang: code });
      if (code === v.lang) option.setAttribute('selected', '');
      select.append(option);
    }
    select.addEventListener('change', () => switchLanguage(select.value));
    body.append(add(el('label', 'consent-lang', t.language), select));
  }
  const switches = [];
  v.categories.forEach((c, i) => body.append(category(t, c, v.on[i], switches)));
  if (v.id) body.append(add(el('p', 'consent-id', t.consent_id), el('code', '', v.id)));
  add(dialog,
    add(el('div', 'consent-head'), attrs(el('h2', 'consent-title', t.preferences_title), { id: title }), close),
    body,
    actions(t, t.save, () => save(switches.filter(([, s]) => s.checked).map(([id]) => id))));
  dialog.addEventListener('keydown', trapFocus);
  // The overlay is not focusable: the dialog is.
  showLayer(add(el('div', 'consent-overlay'), dialog), true, dialog);
}

/** `id`, or `id.` (`id..`, ...) while the page has an element of its own with it: a label's
 * `for` and aria-labelledby name the first element with their id, so a page's own
 * `#consent-ptitle` named the dialog, and a form's `#consent-cat-analytics` took our switch's
 * label (banner.js does the same for the first layer's `consent-desc`). No category's id holds
 * a `.`, so none of our switches takes another's. One of ours (in the preferences these
 * replace, gone as they are shown) is no page's. */
function free(id) {
  while (document.getElementById(id)?.closest('[data-consent-ui]') === null) id += '.';
  return id;
}

/** The category `c`, its switch `on` or off as the state has it now. */
function category(t, c, on, switches) {
  const id = free(`consent-cat-${c.id}`);
  const head = add(el('div', 'consent-cat-head'), attrs(el('label', 'consent-cat-title', c.title), { for: id }));
  const input = attrs(el('input', 'consent-switch'), { type: 'checkbox', role: 'switch', id });
  if (c.necessary) {
    input.checked = input.disabled = true;
    add(head, input, el('span', 'consent-always', t.always_on));
  } else {
    input.checked = on;
    head.append(input);
    switches.push([c.id, input]);
  }
  const section = add(el('section', 'consent-cat'), head, el('p', '', c.description));
  if (c.services.length) {
    const details = add(el('details', 'consent-services'), el('summary', '', t.services));
    for (const s of c.services) details.append(service(t, s));
    section.append(details);
  }
  return section;
}

function service(t, s) {
  const block = add(el('div', 'consent-svc'), el('h3', '', s.name),
    add(el('p'), el('span', 'consent-k', `${t.provider}:`), ' ', s.provider), el('p', '', s.purpose));
  if (s.privacy) block.append(attrs(el('a', 'consent-link', t.provider_privacy), { href: s.privacy, rel: 'noopener' }));
  if (s.cookies.length) {
    const head = el('tr');
    for (const k of [t.cookie_name, t.cookie_lifetime, t.cookie_purpose]) {
      head.append(attrs(el('th', '', k), { scope: 'col' }));
    }
    const table = add(el('table', 'consent-cookies'), head);
    for (const k of s.cookies) {
      table.append(add(el('tr'), ...[k.name, k.lifetime, k.purpose].map((cell) => el('td', '', cell))));
    }
    block.append(table);
  }
  return block;
}

/** Esc closes the preferences; Tab and Shift+Tab stay inside them. */
function trapFocus(e) {
  if (e.key === 'Escape') {
    e.preventDefault();
    closePreferences();
    return;
  }
  if (e.key !== 'Tab') return;
  const dialog = e.currentTarget;
  const list = dialog.querySelectorAll(FOCUSABLE);
  const first = list[0];
  const last = list[list.length - 1];
  const active = document.activeElement;
  const to = e.shiftKey && (active === first || active === dialog) ? last
    : !e.shiftKey && active === last ? first : null;
  if (to) {
    e.preventDefault();
    to.focus();
  }
}
