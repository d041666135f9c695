export function acceptCategory(ids) {
const ret = wasm.acceptCategory(ids);
return ret !== 0;
}
export function acceptedCategory(id) {
const ptr0 = passStringToWasm0(id, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len0 = WASM_VECTOR_LEN;
const ret = wasm.acceptedCategory(ptr0, len0);
return ret !== 0;
}
export function acceptedService(id) {
const ptr0 = passStringToWasm0(id, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len0 = WASM_VECTOR_LEN;
const ret = wasm.acceptedService(ptr0, len0);
return ret !== 0;
}
export function getConsent() {
const ret = wasm.getConsent();
return ret;
}
export function reset() {
wasm.reset();
}
export function run(config, options) {
const ret = wasm.run(config, options);
return ret !== 0;
}
export function setLanguage(lang) {
const ptr0 = passStringToWasm0(lang, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len0 = WASM_VECTOR_LEN;
const ret = wasm.setLanguage(ptr0, len0);
return ret !== 0;
}
export function show() {
wasm.show();
}
export function showPreferences() {
wasm.showPreferences();
}
function __wbg_get_imports() {
const import0 = {
__proto__: null,
__wbg___wbindgen_boolean_get_4f1baf9a00be3c74: function(arg0) {
const v = arg0;
const ret = typeof(v) === 'boolean' ? v : undefined;
return isLikeNone(ret) ? 0xFFFFFF : ret ? 1 : 0;
},
__wbg___wbindgen_is_function_741ff2bb612836f5: function(arg0) {
const ret = typeof(arg0) === 'function';
return ret;
},
__wbg___wbindgen_is_object_8b968c3ab8e96595: function(arg0) {
const val = arg0;
const ret = typeof(val) === 'object' && val !== null;
return ret;
},
__wbg___wbindgen_is_undefined_be5b34249ff1fc15: function(arg0) {
const ret = arg0 === undefined;
return ret;
},
__wbg___wbindgen_jsval_eq_38d7bfbe4cc84039: function(arg0, arg1) {
const ret = arg0 === arg1;
return ret;
},
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
__wbg__wbg_cb_unref_09736879a3f67559: function(arg0) {
arg0._wbg_cb_unref();
},
__wbg_activeElement_6c30fe7fda33ef51: function(arg0) {
const ret = arg0.activeElement;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_addEventListener_847fd86b8c33ec43: function() { return handleError(function (arg0, arg1, arg2, arg3) {
arg0.addEventListener(getStringFromWasm0(arg1, arg2), arg3);
}, arguments); },
__wbg_add_cf82c8d153d93ae1: function() { return handleError(function (arg0, arg1, arg2) {
arg0.add(getStringFromWasm0(arg1, arg2));
}, arguments); },
__wbg_appendChild_dbf7ad2f48413560: function() { return handleError(function (arg0, arg1) {
const ret = arg0.appendChild(arg1);
return ret;
}, arguments); },
__wbg_body_5f971cbc6950ca4f: function(arg0) {
const ret = arg0.body;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_call_275b78b3b6520b92: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4) {
const ret = arg0.call(arg1, arg2, arg3, arg4);
return ret;
}, arguments); },
__wbg_call_fc92fee6137d452d: function() { return handleError(function (arg0, arg1, arg2, arg3) {
const ret = arg0.call(arg1, arg2, arg3);
return ret;
}, arguments); },
__wbg_checked_3f95ede4ece3a2c2: function(arg0) {
const ret = arg0.checked;
return ret;
},
__wbg_classList_97e966c261669b85: function(arg0) {
const ret = arg0.classList;
return ret;
},
__wbg_closest_39824b16065066bc: function() { return handleError(function (arg0, arg1, arg2) {
const ret = arg0.closest(getStringFromWasm0(arg1, arg2));
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
}, arguments); },
__wbg_cookie_d2fddf0073ea44a9: function() { return handleError(function (arg0, arg1) {
const ret = arg1.cookie;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
}, arguments); },
__wbg_createElement_de4a31ed2fb252be: function() { return handleError(function (arg0, arg1, arg2) {
const ret = arg0.createElement(getStringFromWasm0(arg1, arg2));
return ret;
}, arguments); },
__wbg_crypto_56d59c4d711676e1: function() { return handleError(function (arg0) {
const ret = arg0.crypto;
return ret;
}, arguments); },
__wbg_currentTarget_ed5964b1e5e730f0: function(arg0) {
const ret = arg0.currentTarget;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_dispatchEvent_a2af00ffae37e129: function() { return handleError(function (arg0, arg1) {
const ret = arg0.dispatchEvent(arg1);
return ret;
}, arguments); },
__wbg_documentElement_5e44e37dd0181a81: function(arg0) {
const ret = arg0.documentElement;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_document_3b5c3071b43e97ee: function(arg0) {
const ret = arg0.document;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_error_9b95f63d905893d2: function(arg0, arg1) {
console.error(arg0, arg1);
},
__wbg_fetch_21015a0a4570ab44: function(arg0, arg1, arg2, arg3) {
const ret = arg0.fetch(getStringFromWasm0(arg1, arg2), arg3);
return ret;
},
__wbg_focus_d5e2fdbdb56416f0: function() { return handleError(function (arg0) {
arg0.focus();
}, arguments); },
__wbg_from_eac91875c8a5ffa4: function(arg0) {
const ret = Array.from(arg0);
return ret;
},
__wbg_getAttributeNames_ec244c1f5044dcd7: function(arg0) {
const ret = arg0.getAttributeNames();
return ret;
},
__wbg_getAttribute_c7b80d4010284561: function(arg0, arg1, arg2, arg3) {
const ret = arg1.getAttribute(getStringFromWasm0(arg2, arg3));
var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
var len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
},
__wbg_getRandomValues_07f3179f2d015362: function() { return handleError(function (arg0, arg1, arg2) {
const ret = arg0.getRandomValues(getArrayU8FromWasm0(arg1, arg2));
return ret;
}, arguments); },
__wbg_get_2080c49015e35254: function() { return handleError(function (arg0, arg1) {
const ret = Reflect.get(arg0, arg1);
return ret;
}, arguments); },
__wbg_get_unchecked_e6325ad374eff861: function(arg0, arg1) {
const ret = arg0[arg1 >>> 0];
return ret;
},
__wbg_hostname_e42e6cb425d7924e: function() { return handleError(function (arg0, arg1) {
const ret = arg1.hostname;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
}, arguments); },
__wbg_href_a0128fb7c568d8e5: function() { return handleError(function (arg0, arg1) {
const ret = arg1.href;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
}, arguments); },
__wbg_insertBefore_10ab0c19b463c12b: function() { return handleError(function (arg0, arg1, arg2) {
const ret = arg0.insertBefore(arg1, arg2);
return ret;
}, arguments); },
__wbg_instanceof_Element_05dbb22ded594343: function(arg0) {
let result;
try {
result = arg0 instanceof Element;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_instanceof_HtmlDocument_9a3864a99ea4f197: function(arg0) {
let result;
try {
result = arg0 instanceof HTMLDocument;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_instanceof_HtmlElement_ea32ea7121e0a496: function(arg0) {
let result;
try {
result = arg0 instanceof HTMLElement;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_instanceof_HtmlInputElement_28751c98d77a5a65: function(arg0) {
let result;
try {
result = arg0 instanceof HTMLInputElement;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_instanceof_HtmlSelectElement_e8e746c4e56224c9: function(arg0) {
let result;
try {
result = arg0 instanceof HTMLSelectElement;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_instanceof_KeyboardEvent_c9280788b471ab5f: function(arg0) {
let result;
try {
result = arg0 instanceof KeyboardEvent;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_instanceof_Response_5b0b4f7f1daeae51: function(arg0) {
let result;
try {
result = arg0 instanceof Response;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_instanceof_Window_5cf453f5639aa1a2: function(arg0) {
let result;
try {
result = arg0 instanceof Window;
} catch (_) {
result = false;
}
const ret = result;
return ret;
},
__wbg_item_5b70fe58b24cf84b: function(arg0, arg1) {
const ret = arg0.item(arg1 >>> 0);
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_json_8d1f3da8fcd11229: function() { return handleError(function (arg0) {
const ret = arg0.json();
return ret;
}, arguments); },
__wbg_key_76125a528069feff: function(arg0, arg1) {
const ret = arg1.key;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
},
__wbg_languages_6102814e2a4f5511: function(arg0) {
const ret = arg0.languages;
return ret;
},
__wbg_length_9aab85334c5daf3f: function(arg0) {
const ret = arg0.length;
return ret;
},
__wbg_length_b03a0fabb109b1e9: function(arg0) {
const ret = arg0.length;
return ret;
},
__wbg_location_7320782274fc691b: function(arg0) {
const ret = arg0.location;
return ret;
},
__wbg_navigator_c17f443a6fe5d38d: function(arg0) {
const ret = arg0.navigator;
return ret;
},
__wbg_new_37eb45aaf5eeb820: function() {
const ret = new Array();
return ret;
},
__wbg_new_cd4348290afae586: function() {
const ret = new Object();
return ret;
},
__wbg_new_with_event_init_dict_afa9822926033490: function() { return handleError(function (arg0, arg1, arg2) {
const ret = new CustomEvent(getStringFromWasm0(arg0, arg1), arg2);
return ret;
}, arguments); },
__wbg_nextSibling_91136dc7a8ec9b09: function(arg0) {
const ret = arg0.nextSibling;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_now_463ac581d2fc7ea3: function() {
const ret = Date.now();
return ret;
},
__wbg_ok_670a05555db5f713: function(arg0) {
const ret = arg0.ok;
return ret;
},
__wbg_parentNode_fe15bcc26df42856: function(arg0) {
const ret = arg0.parentNode;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_pathname_19fb9627ab2b1180: function() { return handleError(function (arg0, arg1) {
const ret = arg1.pathname;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
}, arguments); },
__wbg_preventDefault_cfb06b02e7406899: function(arg0) {
arg0.preventDefault();
},
__wbg_protocol_c60aedf8a6fa9fca: function() { return handleError(function (arg0, arg1) {
const ret = arg1.protocol;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
}, arguments); },
__wbg_push_c9f4893fc209f768: function(arg0, arg1) {
const ret = arg0.push(arg1);
return ret;
},
__wbg_querySelectorAll_6c1bd81d448fb480: function() { return handleError(function (arg0, arg1, arg2) {
const ret = arg0.querySelectorAll(getStringFromWasm0(arg1, arg2));
return ret;
}, arguments); },
__wbg_querySelectorAll_bd785907acdf7800: function() { return handleError(function (arg0, arg1, arg2) {
const ret = arg0.querySelectorAll(getStringFromWasm0(arg1, arg2));
return ret;
}, arguments); },
__wbg_removeAttribute_735f25a801a701e1: function() { return handleError(function (arg0, arg1, arg2) {
arg0.removeAttribute(getStringFromWasm0(arg1, arg2));
}, arguments); },
__wbg_removeEventListener_4e20bd5fac3de092: function() { return handleError(function (arg0, arg1, arg2, arg3) {
arg0.removeEventListener(getStringFromWasm0(arg1, arg2), arg3);
}, arguments); },
__wbg_remove_12e9b1deffec7d2f: function() { return handleError(function (arg0, arg1, arg2) {
arg0.remove(getStringFromWasm0(arg1, arg2));
}, arguments); },
__wbg_remove_8228e91d7ddbc755: function(arg0) {
arg0.remove();
},
__wbg_setAttribute_f75317b2b5cabfb4: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4) {
arg0.setAttribute(getStringFromWasm0(arg1, arg2), getStringFromWasm0(arg3, arg4));
}, arguments); },
__wbg_set_2793479888329cb6: function() { return handleError(function (arg0, arg1, arg2) {
const ret = Reflect.set(arg0, arg1, arg2);
return ret;
}, arguments); },
__wbg_set_body_877d5251e78ca815: function(arg0, arg1) {
arg0.body = arg1;
},
__wbg_set_checked_91ac4f7dd0263c1a: function(arg0, arg1) {
arg0.checked = arg1 !== 0;
},
__wbg_set_className_fcd90345b3a090af: function(arg0, arg1, arg2) {
arg0.className = getStringFromWasm0(arg1, arg2);
},
__wbg_set_cookie_c3588aca93e20418: function() { return handleError(function (arg0, arg1, arg2) {
arg0.cookie = getStringFromWasm0(arg1, arg2);
}, arguments); },
__wbg_set_detail_bf911f4f40441e17: function(arg0, arg1) {
arg0.detail = arg1;
},
__wbg_set_disabled_260ae32932f58904: function(arg0, arg1) {
arg0.disabled = arg1 !== 0;
},
__wbg_set_headers_6d75a7df4eb22716: function(arg0, arg1) {
arg0.headers = arg1;
},
__wbg_set_method_639e69af35614d36: function(arg0, arg1, arg2) {
arg0.method = getStringFromWasm0(arg1, arg2);
},
__wbg_set_textContent_0177b2a6d9293c2c: function(arg0, arg1, arg2) {
arg0.textContent = arg1 === 0 ? undefined : getStringFromWasm0(arg1, arg2);
},
__wbg_shiftKey_a6ce93ef743d5834: function(arg0) {
const ret = arg0.shiftKey;
return ret;
},
__wbg_static_accessor_GLOBAL_THIS_003ee833af9699fc: function() {
const ret = typeof globalThis === 'undefined' ? undefined : globalThis;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_static_accessor_GLOBAL_e4293fb22cbe77da: function() {
const ret = typeof global === 'undefined' ? undefined : global;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_static_accessor_SELF_53bb20457401453d: function() {
const ret = typeof self === 'undefined' ? undefined : self;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_static_accessor_WINDOW_b5e0810bfecb7feb: function() {
const ret = typeof window === 'undefined' ? undefined : window;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_stringify_0a0fbf2ef722380a: function() { return handleError(function (arg0) {
const ret = JSON.stringify(arg0);
return ret;
}, arguments); },
__wbg_tagName_775bb05619a5c52f: function(arg0, arg1) {
const ret = arg1.tagName;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
},
__wbg_target_e5cd9c7aa87dd8df: function(arg0) {
const ret = arg0.target;
return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
},
__wbg_textContent_240d7f8264a6246e: function(arg0, arg1) {
const ret = arg1.textContent;
var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
var len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
},
__wbg_value_17829e61bdaa1ac5: function(arg0, arg1) {
const ret = arg1.value;
const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_export, wasm.__wbindgen_export2);
const len1 = WASM_VECTOR_LEN;
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
},
__wbg_warn_42702744b2284b6f: function(arg0, arg1) {
console.warn(arg0, arg1);
},
__wbindgen_generic_0000000000000001: function(arg0, arg1) {
const ret = makeMutClosure(arg0, arg1, __wasm_bindgen_func_elem_231);
return ret;
},
__wbindgen_generic_0000000000000002: function(arg0, arg1) {
const ret = makeMutClosure(arg0, arg1, __wasm_bindgen_func_elem_232);
return ret;
},
__wbindgen_generic_0000000000000003: function(arg0) {
const ret = arg0;
return ret;
},
__wbindgen_generic_0000000000000004: function(arg0, arg1) {
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
function __wasm_bindgen_func_elem_231(arg0, arg1, arg2) {
wasm.__wasm_bindgen_func_elem_231(arg0, arg1, arg2);
}
function __wasm_bindgen_func_elem_232(arg0, arg1, arg2) {
wasm.__wasm_bindgen_func_elem_232(arg0, arg1, arg2);
}
function addToExternrefTable0(obj) {
const idx = wasm.__wbindgen_export4();
wasm.__wbindgen_externrefs.set(idx, obj);
return idx;
}
const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
? { register: () => {}, unregister: () => {} }
: new FinalizationRegistry(state => wasm.__wbindgen_export6(state.a, state.b));
function getArrayU8FromWasm0(ptr, len) {
ptr = ptr >>> 0;
return getUint8ArrayMemory0().subarray(ptr / 1, ptr / 1 + len);
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
wasm.__wbindgen_export5(idx);
}
}
function isLikeNone(x) {
return x === undefined || x === null;
}
function makeMutClosure(arg0, arg1, f) {
const state = { a: arg0, b: arg1, cnt: 1 };
const real = (...args) => {
state.cnt++;
const a = state.a;
state.a = 0;
try {
return f(a, state.b, ...args);
} finally {
state.a = a;
real._wbg_cb_unref();
}
};
real._wbg_cb_unref = () => {
if (--state.cnt === 0) {
wasm.__wbindgen_export6(state.a, state.b);
state.a = 0;
CLOSURE_DTORS.unregister(state);
}
};
CLOSURE_DTORS.register(real, state, state);
return real;
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
let started;
const start = () => (started = started || __wbg_init());
const ready = (f, none) => (...args) => (wasm ? f(...args) : none);
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
