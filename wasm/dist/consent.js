export function acceptedCategory(id) {
const ptr0 = passStringToWasm0(id, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len0 = WASM_VECTOR_LEN;
const ret = wasm.acceptedCategory(ptr0, len0);
return ret !== 0;
}
export function acceptedService(id, path) {
let ptr0, len0, ptr1, len1;
try {
ptr0 = passStringToWasm0(id, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len0 = WASM_VECTOR_LEN;
ptr1 = passStringToWasm0(path, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len1 = WASM_VECTOR_LEN;
} catch (e) {
if (ptr1) { wasm.__wbindgen_export3(ptr1, len1 * 1, 1); }
if (ptr0) { wasm.__wbindgen_export3(ptr0, len0 * 1, 1); }
throw e;
}
const ret = wasm.acceptedService(ptr0, len0, ptr1, len1);
return ret !== 0;
}
export function allows(category, service, path) {
let ptr0, len0, ptr1, len1, ptr2, len2;
try {
ptr0 = passStringToWasm0(category, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len0 = WASM_VECTOR_LEN;
ptr1 = isLikeNone(service) ? 0 : passStringToWasm0(service, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len1 = WASM_VECTOR_LEN;
ptr2 = passStringToWasm0(path, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len2 = WASM_VECTOR_LEN;
} catch (e) {
if (ptr2) { wasm.__wbindgen_export3(ptr2, len2 * 1, 1); }
if (ptr1) { wasm.__wbindgen_export3(ptr1, len1 * 1, 1); }
if (ptr0) { wasm.__wbindgen_export3(ptr0, len0 * 1, 1); }
throw e;
}
const ret = wasm.allows(ptr0, len0, ptr1, len1, ptr2, len2);
return ret !== 0;
}
export function consent() {
const ret = wasm.consent();
return ret;
}
export function decide(kind, ids, now_ms, random, jar, host, href, https) {
const val7 = +now_ms;
const val8 = +https;
let ptr0, len0, ptr1, len1, ptr2, len2, ptr3, len3, ptr4, len4, ptr5, len5;
try {
ptr0 = passStringToWasm0(kind, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len0 = WASM_VECTOR_LEN;
ptr1 = passArrayJsValueToWasm0(ids, wasm.__wbindgen_export);
len1 = WASM_VECTOR_LEN;
ptr2 = passArray8ToWasm0(random, wasm.__wbindgen_export);
len2 = WASM_VECTOR_LEN;
ptr3 = passStringToWasm0(jar, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len3 = WASM_VECTOR_LEN;
ptr4 = passStringToWasm0(host, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len4 = WASM_VECTOR_LEN;
ptr5 = passStringToWasm0(href, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len5 = WASM_VECTOR_LEN;
} catch (e) {
if (ptr5) { wasm.__wbindgen_export3(ptr5, len5 * 1, 1); }
if (ptr4) { wasm.__wbindgen_export3(ptr4, len4 * 1, 1); }
if (ptr3) { wasm.__wbindgen_export3(ptr3, len3 * 1, 1); }
if (ptr2) { wasm.__wbindgen_export3(ptr2, len2 * 1, 1); }
if (ptr1) { wasm.__wbindgen_export6(ptr1, len1); wasm.__wbindgen_export3(ptr1, len1 * 4, 4); }
if (ptr0) { wasm.__wbindgen_export3(ptr0, len0 * 1, 1); }
throw e;
}
const ret = wasm.decide(ptr0, len0, ptr1, len1, val7, ptr2, len2, ptr3, len3, ptr4, len4, ptr5, len5, val8);
return ret;
}
export function placeholder(category, service) {
let ptr0, len0, ptr1, len1;
try {
ptr0 = passStringToWasm0(category, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len0 = WASM_VECTOR_LEN;
ptr1 = isLikeNone(service) ? 0 : passStringToWasm0(service, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len1 = WASM_VECTOR_LEN;
} catch (e) {
if (ptr1) { wasm.__wbindgen_export3(ptr1, len1 * 1, 1); }
if (ptr0) { wasm.__wbindgen_export3(ptr0, len0 * 1, 1); }
throw e;
}
const ret = wasm.placeholder(ptr0, len0, ptr1, len1);
return ret;
}
export function reset(now_ms, random, jar, host) {
const val4 = +now_ms;
let ptr0, len0, ptr1, len1, ptr2, len2;
try {
ptr0 = passArray8ToWasm0(random, wasm.__wbindgen_export);
len0 = WASM_VECTOR_LEN;
ptr1 = passStringToWasm0(jar, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len1 = WASM_VECTOR_LEN;
ptr2 = passStringToWasm0(host, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len2 = WASM_VECTOR_LEN;
} catch (e) {
if (ptr2) { wasm.__wbindgen_export3(ptr2, len2 * 1, 1); }
if (ptr1) { wasm.__wbindgen_export3(ptr1, len1 * 1, 1); }
if (ptr0) { wasm.__wbindgen_export3(ptr0, len0 * 1, 1); }
throw e;
}
const ret = wasm.reset(val4, ptr0, len0, ptr1, len1, ptr2, len2);
return ret;
}
export function setLanguage(lang) {
const ptr0 = passStringToWasm0(lang, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len0 = WASM_VECTOR_LEN;
const ret = wasm.setLanguage(ptr0, len0);
return ret;
}
export function signed(token, https) {
const val2 = +https;
const ptr0 = passStringToWasm0(token, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len0 = WASM_VECTOR_LEN;
const ret = wasm.signed(ptr0, len0, val2);
return ret;
}
export function start(config, jar, now_ms, gpc, langs) {
const val4 = +now_ms;
const val5 = +gpc;
let ptr0, len0, ptr1, len1, ptr2, len2;
try {
ptr0 = passStringToWasm0(config, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len0 = WASM_VECTOR_LEN;
ptr1 = passStringToWasm0(jar, wasm.__wbindgen_export, wasm.__wbindgen_export2);
len1 = WASM_VECTOR_LEN;
ptr2 = passArrayJsValueToWasm0(langs, wasm.__wbindgen_export);
len2 = WASM_VECTOR_LEN;
} catch (e) {
if (ptr2) { wasm.__wbindgen_export6(ptr2, len2); wasm.__wbindgen_export3(ptr2, len2 * 4, 4); }
if (ptr1) { wasm.__wbindgen_export3(ptr1, len1 * 1, 1); }
if (ptr0) { wasm.__wbindgen_export3(ptr0, len0 * 1, 1); }
throw e;
}
const ret = wasm.start(ptr0, len0, ptr1, len1, val4, val5, ptr2, len2);
return ret;
}
export function view() {
const ret = wasm.view();
return ret;
}
function __wbg_get_imports() {
const import0 = {
__proto__: null,
__wbg___wbindgen_string_get_7ce8eee7fd327545: function(arg0, arg1) {
const obj = arg1;
const ret = typeof(obj) === 'string' ? obj : undefined;
var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
var len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
},
__wbg___wbindgen_throw_4c88d8bf264fd984: function(arg0, arg1) {
throw new Error(getStringFromWasm0(arg0, arg1));
},
__wbg_new_37eb45aaf5eeb820: function() {
const ret = new Array();
return ret;
},
__wbg_new_cd4348290afae586: function() {
const ret = new Object();
return ret;
},
__wbg_push_c9f4893fc209f768: function(arg0, arg1) {
const ret = arg0.push(arg1);
return ret;
},
__wbg_set_2793479888329cb6: function() { return handleError(function (arg0, arg1, arg2) {
const ret = Reflect.set(arg0, arg1, arg2);
return ret;
}, arguments); },
__wbindgen_generic_0000000000000001: function(arg0) {
const ret = arg0;
return ret;
},
__wbindgen_generic_0000000000000002: function(arg0, arg1) {
const ret = getStringFromWasm0(arg0, arg1);
return ret;
},
__wbindgen_init_externref_table: function() {
const table = wasm.__wbindgen_externrefs;
table.set(0, undefined);
table.set(1024, undefined);
table.set(1025, null);
table.set(1026, true);
table.set(1027, false);
},
};
return {
__proto__: null,
"./consent_bg.js": import0,
};
}
function addToExternrefTable0(obj) {
const idx = wasm.__wbindgen_export5();
wasm.__wbindgen_externrefs.set(idx, obj);
return idx;
}
let cachedDataViewMemory0 = null;
function getDataViewMemory0() {
if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {
cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
}
return cachedDataViewMemory0;
}
function getStringFromWasm0(ptr, len) {
ptr = ptr >>> 0;
return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}
let cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
}
return cachedUint8ArrayMemory0;
}
function handleError(f, args) {
try {
return f.apply(this, args);
} catch (e) {
const idx = addToExternrefTable0(e);
wasm.__wbindgen_export4(idx);
}
}
function isLikeNone(x) {
return x === undefined || x === null;
}
function passArray8ToWasm0(arg, malloc) {
const ptr = malloc(arg.length * 1, 1) >>> 0;
getUint8ArrayMemory0().set(arg, ptr / 1);
WASM_VECTOR_LEN = arg.length;
return ptr;
}
function passArrayJsValueToWasm0(array, malloc) {
const ptr = malloc(array.length * 4, 4) >>> 0;
for (let i = 0; i < array.length; i++) {
const add = addToExternrefTable0(array[i]);
getDataViewMemory0().setUint32(ptr + 4 * i, add, true);
}
WASM_VECTOR_LEN = array.length;
return ptr;
}
function passStringToWasm0(arg, malloc, realloc) {
if (realloc === undefined) {
const buf = cachedTextEncoder.encode(arg);
const ptr = malloc(buf.length, 1) >>> 0;
getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
WASM_VECTOR_LEN = buf.length;
return ptr;
}
let len = arg.length;
let ptr = malloc(len, 1) >>> 0;
const mem = getUint8ArrayMemory0();
let offset = 0;
for (; offset < len; offset++) {
const code = arg.charCodeAt(offset);
if (code > 0x7F) break;
mem[ptr + offset] = code;
}
if (offset !== len) {
if (offset !== 0) {
arg = arg.slice(offset);
}
ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
const ret = cachedTextEncoder.encodeInto(arg, view);
offset += ret.written;
ptr = realloc(ptr, len, offset, 1) >>> 0;
}
WASM_VECTOR_LEN = offset;
return ptr;
}
let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
cachedTextDecoder.decode();
const MAX_SAFARI_DECODE_BYTES = 2146435072;
let numBytesDecoded = 0;
function decodeText(bytes) {
numBytesDecoded += bytes.length;
if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
cachedTextDecoder.decode();
numBytesDecoded = bytes.length;
}
return cachedTextDecoder.decode(bytes);
}
const cachedTextEncoder = new TextEncoder();
if (!('encodeInto' in cachedTextEncoder)) {
cachedTextEncoder.encodeInto = function (arg, view) {
const buf = cachedTextEncoder.encode(arg);
view.set(buf);
return {
read: arg.length,
written: buf.length
};
};
}
let WASM_VECTOR_LEN = 0;
let wasmModule, wasmInstance, wasm;
function __wbg_finalize_init(instance, module) {
wasmInstance = instance;
wasm = instance.exports;
wasmModule = module;
cachedDataViewMemory0 = null;
cachedUint8ArrayMemory0 = null;
wasm.__wbindgen_start();
return wasm;
}
async function __wbg_load(module, imports) {
if (typeof Response === 'function' && module instanceof Response) {
if (!module.ok) {
throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
}
if (typeof WebAssembly.instantiateStreaming === 'function') {
try {
return await WebAssembly.instantiateStreaming(module, imports);
} catch (e) {
const validResponse = expectedResponseType(module.type);
if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
console.warn("`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\n", e);
} else { throw e; }
}
}
const bytes = await module.arrayBuffer();
return await WebAssembly.instantiate(bytes, imports);
} else {
const instance = await WebAssembly.instantiate(module, imports);
if (instance instanceof WebAssembly.Instance) {
return { instance, module };
} else {
return instance;
}
}
function expectedResponseType(type) {
switch (type) {
case 'basic': case 'cors': case 'default': return true;
}
return false;
}
}
function initSync(module) {
if (wasm !== undefined) return wasm;
if (module !== undefined) {
if (Object.getPrototypeOf(module) === Object.prototype) {
({module} = module)
} else {
console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
}
}
const imports = __wbg_get_imports();
if (!(module instanceof WebAssembly.Module)) {
module = new WebAssembly.Module(module);
}
const instance = new WebAssembly.Instance(module, imports);
return __wbg_finalize_init(instance, module);
}
let __wbg_init_promise;
async function __wbg_init(module_or_path) {
if (wasm !== undefined) return wasm;
if (__wbg_init_promise === undefined) {
__wbg_init_promise = __wbg_init_once(module_or_path);
__wbg_init_promise.catch(() => { __wbg_init_promise = undefined; });
}
return __wbg_init_promise;
}
async function __wbg_init_once(module_or_path) {
if (module_or_path !== undefined) {
if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
({module_or_path} = module_or_path)
} else {
console.warn('using deprecated parameters for the initialization function; pass a single object instead')
}
}
if (module_or_path === undefined) {
module_or_path = new URL('consent_bg.wasm', import.meta.url);
}
const imports = __wbg_get_imports();
if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
module_or_path = fetch(module_or_path);
}
const { instance, module } = await __wbg_load(await module_or_path, imports);
return __wbg_finalize_init(instance, module);
}
export { initSync, __wbg_init as default };
function gtagShim() {
(window.dataLayer = window.dataLayer || []).push(arguments);
}
const GATED = "script[type='text/plain'][data-category]:not([data-consent-queued]),"
+ 'iframe[data-category][data-src],img[data-category][data-src]';
const FOCUSABLE = 'button:not([disabled]),a[href],input:not([disabled]),select,summary';
let ui = null;
let listening = false;
let warned = false;
const https = () => location.protocol === 'https:';
const random = () => crypto.getRandomValues(new Uint8Array(16));
function el(tag, cls, text) {
const e = document.createElement(tag);
if (cls) e.className = cls;
if (text != null) e.textContent = text;
return e;
}
function attrs(e, a) {
for (const k in a) e.setAttribute(k, a[k]);
return e;
}
function add(parent, ...children) {
parent.append(...children);
return parent;
}
function button(text, onClick) {
const b = attrs(el('button', 'cc-btn', text), { type: 'button' });
b.addEventListener('click', onClick);
return b;
}
function actions(t, third, onThird) {
return add(el('div', 'cc-actions'),
button(t.reject_all, () => decideNow('none')),
button(t.accept_all, () => decideNow('all')),
button(third, onThird));
}
function consentMode(command, params) {
if (params && typeof window.gtag === 'function') window.gtag('consent', command, params);
}
function setCookies(lines) {
for (const line of lines) document.cookie = line;
}
function pick(value, allowed) {
return allowed.includes(value) ? value : allowed[0];
}
function mount(options) {
const root = attrs(el('div', `cc-root cc-${pick(options.layout, ['box', 'bar'])}`
+ ` cc-pos-${pick(options.position, ['bottom', 'bottom-left', 'bottom-right', 'top', 'middle'])}`
+ ` cc-theme-${pick(options.theme, ['light', 'dark', 'auto'])}`), { 'data-consent-ui': '' });
for (const rendered of document.querySelectorAll('[data-consent-nojs]')) {
rendered.remove();
root.classList.add('cc-taken-over');
}
const live = attrs(el('div', 'cc-sr'), { role: 'status', 'aria-live': 'polite' });
root.append(live);
document.body?.append(root);
return { options, root, live, layer: null, prefs: false, switches: [], placeholders: [], opener: null };
}
function unmount() {
if (!ui) return;
ui.root.remove();
for (const p of ui.placeholders) p.remove();
ui = null;
}
function showLayer(element, prefs, switches = []) {
ui.layer?.remove();
Object.assign(ui, { layer: element, prefs, switches });
ui.root.append(element);
element.focus();
}
function closeLayer() {
ui.layer?.remove();
Object.assign(ui, { layer: null, prefs: false, switches: [] });
}
function restoreFocus() {
ui.opener?.focus();
ui.opener = null;
}
function showBanner(v = view()) {
const t = v.t;
const banner = attrs(el('div', 'cc-banner'), {
role: 'dialog', 'aria-modal': 'false', 'aria-label': t.banner_label,
'aria-describedby': 'cc-desc', tabindex: '-1', lang: v.lang,
});
add(banner, el('h2', 'cc-title', t.banner_title),
attrs(el('p', 'cc-desc', t.banner_description), { id: 'cc-desc' }));
if (v.gpc) banner.append(el('p', 'cc-gpc', t.gpc_notice));
add(banner, attrs(el('a', 'cc-link', t.privacy_notice), { href: v.privacy }),
actions(t, t.settings, openPreferences));
showLayer(banner, false);
}
function openPreferences() {
if (!ui) return;
if (!ui.opener) {
const active = document.activeElement;
if (active && !active.closest('[data-consent-ui]')) ui.opener = active;
}
showPreferences(view());
}
function showPreferences(v) {
const t = v.t;
const dialog = attrs(el('div', 'cc-prefs'), {
role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'cc-ptitle', tabindex: '-1', lang: v.lang,
});
const close = attrs(button('×', closePreferences), { 'aria-label': t.close });
close.className = 'cc-close';
add(dialog,
add(el('div', 'cc-head'), attrs(el('h2', 'cc-title', t.preferences_title), { id: 'cc-ptitle' }), close),
el('p', 'cc-desc', t.preferences_description));
if (v.gpc) dialog.append(el('p', 'cc-gpc', t.gpc_notice));
dialog.append(attrs(el('a', 'cc-link', t.privacy_notice), { href: v.privacy }));
if (v.langs.length > 1) {
const select = el('select');
for (const [code, name] of v.langs) {
const option = attrs(el('option', '', name), { value: code, lang: code });
if (code === v.lang) option.setAttribute('selected', '');
select.append(option);
}
select.addEventListener('change', () => switchLanguage(select.value));
dialog.append(add(el('label', 'cc-lang', t.language), select));
}
const switches = [];
for (const c of v.categories) dialog.append(category(t, c, switches));
if (v.id) dialog.append(add(el('p', 'cc-id', t.consent_id), el('code', '', v.id)));
dialog.append(actions(t, t.save, () => decideNow('custom',
ui.switches.filter(([, s]) => s.checked).map(([id]) => id))));
dialog.addEventListener('keydown', trapFocus);
showLayer(add(el('div', 'cc-overlay'), dialog), true, switches);
dialog.focus();
}
function category(t, c, switches) {
const id = `cc-cat-${c.id}`;
const head = add(el('div', 'cc-cat-head'), attrs(el('label', 'cc-cat-title', c.title), { for: id }));
const input = attrs(el('input', 'cc-switch'), { type: 'checkbox', role: 'switch', id });
if (c.necessary) {
input.checked = input.disabled = true;
add(head, input, el('span', 'cc-always', t.always_on));
} else {
input.checked = c.on;
head.append(input);
switches.push([c.id, input]);
}
const section = add(el('section', 'cc-cat'), head, el('p', '', c.description));
if (c.services.length) {
const details = add(el('details', 'cc-services'), el('summary', '', t.services));
for (const s of c.services) details.append(service(t, s));
section.append(details);
}
return section;
}
function service(t, s) {
const block = add(el('div', 'cc-svc'), el('h3', '', s.name),
add(el('p', '', t.provider), el('span', '', s.provider)), el('p', '', s.purpose));
if (s.privacy) block.append(attrs(el('a', 'cc-link', t.provider_privacy), { href: s.privacy, rel: 'noopener' }));
if (s.cookies.length) {
const head = el('tr');
for (const k of [t.cookie_name, t.cookie_lifetime, t.cookie_purpose]) {
head.append(attrs(el('th', '', k), { scope: 'col' }));
}
const table = add(el('table', 'cc-cookies'), head);
for (const row of s.cookies) table.append(add(el('tr'), ...row.map((cell) => el('td', '', cell))));
block.append(table);
}
return block;
}
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
function closePreferences() {
const v = view();
if (v?.show) {
showBanner(v);
} else if (ui) {
closeLayer();
restoreFocus();
}
}
function switchLanguage(lang) {
const v = setLanguage(lang);
if (!v) return false;
if (ui.prefs) showPreferences(v);
else if (ui.layer) showBanner(v);
regate();
declare(lang);
return true;
}
function decideNow(kind, ids = []) {
if (!ui) return false;
const r = decide(kind, ids, Date.now(), random(), document.cookie, location.hostname, location.href, https());
if (!r) return false;
if (r.unknown) {
console.error('consent: acceptCategory: no such categories, nothing decided:', r.unknown);
return false;
}
if (r.error) {
console.error('consent: no decision was stored:', r.error);
return false;
}
setCookies(r.cookies);
consentMode('update', r.gcm);
if (r.send) send(r.send);
closeLayer();
ui.live.textContent = r.saved;
restoreFocus();
regate();
const detail = { categories: r.allowed, changed: r.changed };
if (r.first) window.dispatchEvent(new CustomEvent('consent:first', { detail }));
if (r.changed.length) window.dispatchEvent(new CustomEvent('consent:change', { detail }));
return true;
}
function warn(what) {
if (!warned) console.warn('consent: could not record the decision; it is kept locally:', what);
warned = true;
}
function send({ url, body }) {
fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, keepalive: true })
.then((response) => {
if (!response.ok) return warn('the endpoint did not answer 2xx');
return response.json().then((answer) => {
const line = typeof answer?.token === 'string' && signed(answer.token, https());
if (typeof line === 'string') document.cookie = line;
else if (line === false) warn('the answer holds no valid token');
}, () => warn('the answer is not JSON'));
}, () => warn('the request failed'));
}
function regate() {
if (!ui) return;
for (const p of ui.placeholders) p.remove();
ui.placeholders = [];
const go = [];
for (const e of document.querySelectorAll(GATED)) {
const category = e.getAttribute('data-category');
const svc = e.getAttribute('data-service');
if (allows(category, svc, location.pathname)) go.push(e);
else if (e.localName === 'iframe') embedPlaceholder(e, category, svc);
}
activate(go);
}
function embedPlaceholder(embed, category, svc) {
const p = placeholder(category, svc);
if (!p) return;
const box = attrs(add(el('div', 'cc-embed'), el('p', '', p.text),
button(p.button, () => decideNow('grant', [p.category]))), { 'data-consent-placeholder': '' });
embed.classList.add('cc-wait');
embed.parentNode?.insertBefore(box, embed);
ui.placeholders.push(box);
}
function activate(list) {
for (let i = 0; i < list.length; i++) {
const script = list[i].localName === 'script' ? revive(list[i]) : load(list[i]);
const rest = list.slice(i + 1);
if (script && rest.length) {
for (const r of rest) r.setAttribute('data-consent-queued', '');
let done = false;
script.onload = script.onerror = () => {
if (done) return;
done = true;
for (const r of rest) r.removeAttribute('data-consent-queued');
activate(rest);
};
return;
}
}
}
function load(e) {
const src = e.getAttribute('data-src');
e.removeAttribute('data-src');
e.classList.remove('cc-wait');
e.setAttribute('src', src);
return null;
}
function revive(old) {
const parent = old.parentNode;
if (!parent) return null;
const script = document.createElement('script');
for (const { name, value } of old.attributes) {
if (!['type', 'data-src', 'data-type', 'nonce'].includes(name)) script.setAttribute(name, value);
}
const type = old.getAttribute('data-type');
if (type != null) script.setAttribute('type', type);
const nonce = ui.options.nonce || old.nonce;
if (nonce) script.nonce = nonce;
script.async = false;
const src = old.getAttribute('data-src');
if (src != null) script.setAttribute('src', src);
else script.textContent = old.textContent;
parent.insertBefore(script, old.nextSibling);
old.remove();
return src != null ? script : null;
}
function openFromPage(e) {
const opener = e.target instanceof Element && e.target.closest('[data-consent-open]');
if (opener && ui) {
e.preventDefault();
ui.opener = opener;
openPreferences();
}
}
function runBanner(config, options) {
unmount();
let text = config;
if (typeof text !== 'string') {
try {
text = JSON.stringify(config) ?? '';
} catch {
text = '';
}
}
const languages = [document.documentElement.lang || '', ...(navigator.languages || [])];
const v = start(text, document.cookie, Date.now(), navigator.globalPrivacyControl === true, languages);
if (v.error != null) {
console.error('consent: the banner is off and only necessary cookies are allowed, because', v.error);
return false;
}
if (v.gcmDefault) {
if (window.dataLayer === undefined) window.dataLayer = [];
if (typeof window.gtag !== 'function' && typeof options.gtag === 'function') window.gtag = options.gtag;
consentMode('default', v.gcmDefault);
}
consentMode('update', v.gcmUpdate);
if (!listening) document.addEventListener('click', openFromPage);
listening = true;
ui = mount(options);
if (v.show) showBanner(v);
regate();
return true;
}
let started;
const init = () => (started = started || __wbg_init());
const ready = (f, none) => (...args) => (wasm && ui ? f(...args) : none);
function declare(lang = document.documentElement.lang || '') {
for (const e of document.querySelectorAll('[data-consent-declaration]')) {
const url = new URL(e.dataset.consentDeclaration || '/consent/declaration', location.href);
url.searchParams.set('format', 'html');
if (lang) url.searchParams.set('lang', lang.slice(0, 2));
fetch(url, { credentials: 'same-origin' })
.then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${url}: ${r.status}`))))
.then((html) => { e.innerHTML = html; })
.catch((err) => console.warn('consent: cookie declaration not loaded:', err.message));
}
}
export const Consent = {
run: (config, options) =>
init().then(() => {
const ok = runBanner(config, Object.assign({ gtag: gtagShim }, options));
declare();
return ok;
}),
show: ready(() => showBanner()),
showPreferences: ready(openPreferences),
acceptedCategory: ready((id) => acceptedCategory(String(id)), false),
acceptedService: ready((id) => acceptedService(String(id), location.pathname), false),
acceptCategory: ready((ids) => {
if (ids === 'all') return decideNow('all');
const list = typeof ids === 'string' ? [ids] : Array.isArray(ids) ? ids.filter((i) => typeof i === 'string') : null;
if (!list) {
console.error('consent: acceptCategory: expected "all", a category id or a list of them, got', ids);
return false;
}
return decideNow(list.length ? 'custom' : 'none', list);
}, false),
getConsent: ready(consent, null),
setLanguage: ready((lang) => switchLanguage(String(lang)), false),
reset: ready(() => {
const r = reset(Date.now(), random(), document.cookie, location.hostname);
if (!r) return;
setCookies(r.cookies);
consentMode('update', r.gcm);
showBanner();
}),
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
