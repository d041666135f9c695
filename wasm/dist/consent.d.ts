/* The cookie banner's JavaScript API (consent-wasm). Also available as `window.Consent`. */

/** Embedding options; also read from the `data-*` attributes of the banner's own script tag
 * (`<script type="module" src="/consent/consent.js" data-layout="bar">`). */
export interface ConsentOptions {
  /** `"box"` (default) or `"bar"`. */
  layout?: "box" | "bar";
  /** Where the first layer sits; `"bottom"` by default. */
  position?: "bottom" | "bottom-left" | "bottom-right" | "top" | "middle";
  /** `"light"` (default), `"dark"`, or `"auto"` to follow `prefers-color-scheme`. */
  theme?: "light" | "dark" | "auto";
  /** Any value (`data-floating` on the script tag): a small fixed button that reopens the
   * preferences once the first layer is closed, for sites without a link in their footer. */
  floating?: string | boolean;
  /** Where the cookie declaration that fills `[data-consent-declaration]` elements comes from,
   * on the page's origin (`data-declaration` on the script tag); `/consent/declaration` by
   * default. An element cannot name an address of its own. */
  declaration?: string | URL;
  /** CSP nonce given to revived inline scripts (else each keeps its own). */
  nonce?: string;
  /** Consent Mode's `gtag`; the banner passes one that pushes to `dataLayer`. */
  gtag?: (...args: unknown[]) => void;
}

/** The stored decision, when it is valid now. Times are milliseconds since the epoch. */
export interface ConsentInfo {
  consentId: string;
  firstDecision: number;
  lastDecision: number;
  expires: number;
  revision: number;
  method: "accept_all" | "reject_all" | "custom" | "withdraw" | "gpc";
  language: "fi" | "sv" | "en";
  gpc: boolean;
  /** Category ids allowed now. */
  categories: string[];
  /** Service ids allowed now. */
  services: string[];
}

/** `detail` of the `consent:first` and `consent:change` events on `window`. */
export interface ConsentEventDetail {
  /** Category ids allowed now. */
  categories: string[];
  /** Category ids whose state this decision changed. */
  changed: string[];
}

export interface ConsentApi {
  /** Starts the banner with the site's compiled policy (`consent banner build`): `policy` is
   * its address, by default `policy.bin` beside consent.js; its texts (`texts-<lang>.json`)
   * are loaded from beside it. Resolves to `true` once the first layer, if due, is drawn, or
   * to `false` (after one console error saying why) for a policy that is damaged, of another
   * format version or did not load, or for a JSON config given the old way: the page then
   * has necessary cookies only. The banner starts by itself unless its script tag has
   * `data-manual`. */
  run(policy?: string | URL, options?: ConsentOptions): Promise<boolean>;
  show(): void;
  showPreferences(): void;
  acceptedCategory(id: string): boolean;
  acceptedService(id: string): boolean;
  /** `"all"`, `[]` (reject all) or the categories to grant. Returns whether it decided. */
  acceptCategory(ids: "all" | string | string[]): boolean;
  getConsent(): ConsentInfo | null;
  setLanguage(lang: "fi" | "sv" | "en"): boolean;
  reset(): void;
}

export declare const Consent: ConsentApi;

declare global {
  interface Window {
    Consent: ConsentApi;
  }
  interface WindowEventMap {
    "consent:first": CustomEvent<ConsentEventDetail>;
    "consent:change": CustomEvent<ConsentEventDetail>;
  }
}
