
// ---- What only some pages use (wasm/js/extra.js; wasm/build.sh minifies it into dist/consent-extra.js) ----
// Imported by the banner (consent.js), with its stylesheet consent-extra.css, the first time a
// page needs it: an embed that waits for consent gets its placeholder. A page without any
// never loads it.
// It holds no state and decides nothing: the banner hands it what to draw, where, and the
// helpers it draws with, positionally (the two files are minified apart, so no name is shared
// between them but the exports').

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
