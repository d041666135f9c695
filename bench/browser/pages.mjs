// The test pages: one per banner, with the same body, the same three categories
// (necessary, analytics, marketing), the same services (Google Analytics, Google Ads,
// Facebook pixel) and the same English texts, and one gated analytics script.
//
// Each banner is embedded the way its own documentation says:
// - ours: one stylesheet, one module script; the script loads the compiled policy and one
//   language's texts beside it (`consent banner build` of OURS_CONFIG, server.mjs);
// - vanilla-cookieconsent 3.1: its stylesheet, its ESM build imported from an inline module
//   script holding the config (v3 has no built-in texts, so the English texts are in the config);
//   `hideFromBots: false`, since it otherwise hides itself when navigator.webdriver is true,
//   which it is under playwright;
// - Orejime 3: its stylesheet, the English "standard" build, `window.orejimeConfig`;
// - Klaro 0.7: `window.klaroConfig` inline, then klaro.js (`defer`; CSS and translations inside);
// - tarteaucitron 1.34: tarteaucitron.min.js and `tarteaucitron.init` inline in <head>, custom
//   services, `tarteaucitron.job` at the end of the body; it loads its CSS, language file and
//   services list from its own path at the window's `load`.
// The module-script pages, Orejime and Klaro (`defer`) therefore start after the document is
// parsed, tarteaucitron after the `load` event.

/** English texts shared by all the configs; these are the built-in English texts of our banner. */
const T = {
  title: 'Cookies and your privacy',
  description:
    'We use necessary cookies to make this site work. We would also like to use analytics and marketing cookies to improve the site and for advertising, but only if you allow it. You can change your choice at any time.',
  acceptAll: 'Accept all',
  rejectAll: 'Reject all',
  settings: 'Settings',
  privacy: 'Privacy notice',
  prefsTitle: 'Cookie settings',
  prefsDescription:
    'Choose which purposes you allow cookies for. Necessary cookies are always on, because the site cannot work without them. You can change your choices at any time in the cookie settings.',
  save: 'Save choices',
  close: 'Close',
  necessary: ['Necessary', "These cookies are needed for the site's basic functions, such as security and remembering your cookie choices. They cannot be switched off."],
  analytics: ['Analytics', 'Analytics cookies tell us how the site is used, so that we can improve it.'],
  marketing: ['Marketing', 'Marketing cookies let our advertising partners show you more relevant ads and measure how our advertising performs. They may follow your browsing on other sites too.'],
};

/** Services per category, with their cookies; the content of consent-core's example config. */
const SERVICES = {
  necessary: [
    { id: 'site', name: 'Site', provider: 'Site owner', purpose: 'Running the site, security and remembering your cookie choices.', cookies: [['consent', '6 months', 'Stores your cookie choices.']] },
  ],
  analytics: [
    { id: 'ga', name: 'Google Analytics', provider: 'Google Ireland Ltd', purpose: 'Visitor statistics to improve the site.', cookies: [['_ga', '13 months', 'Tells visitors apart.'], ['_ga_*', '13 months', "Keeps the session's state."]] },
  ],
  marketing: [
    { id: 'google-ads', name: 'Google Ads', provider: 'Google Ireland Ltd', purpose: 'Measuring advertising results.', cookies: [['_gcl_au', '90 days', 'Links ad clicks to visits.']] },
    { id: 'facebook-pixel', name: 'Facebook pixel', provider: 'Meta Platforms Ireland Ltd', purpose: 'Targeting ads and measuring results on Facebook and Instagram.', cookies: [['_fbp', '90 days', 'Recognises the browser for ad targeting.']] },
  ],
};
const CATEGORIES = ['necessary', 'analytics', 'marketing'];

/** The page body, identical on every page apart from how the analytics script is gated. */
function body(gatedAnalytics) {
  const para =
    '<p>Kuopion Eläinlääkärikeskus treats dogs, cats and small animals. Book an appointment online or call us; ' +
    'emergencies are seen every day of the year. This paragraph is filler so the page has some ordinary content to ' +
    'parse and lay out, as a real page would.</p>';
  return `<header><h1>Benchmark page</h1><nav><a href="/">Home</a> <a href="/en/privacy">Privacy</a></nav></header>
<main>${para.repeat(8)}<button type="button" data-consent-open data-cc="show-preferencesModal">Cookie settings</button></main>
${gatedAnalytics}`;
}

function page({ lang = 'en', head, gatedAnalytics, bodyEnd = '' }) {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Consent banner benchmark</title>
${head}
</head>
<body>
${body(gatedAnalytics)}${bodyEnd}
</body>
</html>
`;
}

// The vanilla-cookieconsent convention, which ours follows too.
const GATED_TEXT_PLAIN = '<script type="text/plain" data-category="analytics" data-src="/analytics.js"></script>';

/** Our config: consent-core's example config without the endpoint and Consent Mode (the others have neither). */
export const OURS_CONFIG = {
  revision: 1,
  languages: ['fi', 'sv', 'en'],
  default_language: 'en',
  privacy_notice: { fi: '/tietosuoja', sv: '/sv/dataskydd', en: '/en/privacy' },
  cookie: { name: 'consent', path: '/', same_site: 'lax' },
  lifetime: { accept_days: 182, refuse_days: 182 },
  categories: [
    {
      id: 'necessary',
      services: [{ id: 'site', name: 'Site', provider: 'Site owner',
        purpose: { fi: 'Sivuston toiminta, tietoturva ja evästevalintojesi muistaminen.', sv: 'Webbplatsens funktion, säkerhet och att komma ihåg dina val om kakor.', en: 'Running the site, security and remembering your cookie choices.' },
        cookies: [{ name: 'consent', lifetime: '6mo', description: { fi: 'Tallentaa evästevalintasi.', sv: 'Sparar dina val om kakor.', en: 'Stores your cookie choices.' } }] }],
    },
    {
      id: 'analytics',
      services: [{ id: 'ga', name: 'Google Analytics', provider: 'Google Ireland Ltd',
        purpose: { fi: 'Kävijätilastot sivuston kehittämiseen.', sv: 'Besöksstatistik för att utveckla webbplatsen.', en: 'Visitor statistics to improve the site.' },
        privacy_url: 'https://policies.google.com/privacy',
        hosts: ['www.googletagmanager.com', 'www.google-analytics.com'],
        cookies: [
          { name: '_ga', lifetime: '13mo', description: { fi: 'Erottaa kävijät toisistaan.', sv: 'Skiljer besökare åt.', en: 'Tells visitors apart.' } },
          { name: '_ga_*', lifetime: '13mo', description: { fi: 'Säilyttää käyntikerran tilan.', sv: 'Sparar sessionens tillstånd.', en: "Keeps the session's state." } },
        ] }],
    },
    {
      id: 'marketing',
      services: [
        { id: 'google-ads', name: 'Google Ads', provider: 'Google Ireland Ltd',
          purpose: { fi: 'Mainonnan tulosten mittaaminen.', sv: 'Mätning av annonseringens resultat.', en: 'Measuring advertising results.' },
          privacy_url: 'https://policies.google.com/privacy',
          hosts: ['www.googleadservices.com', 'googleads.g.doubleclick.net'],
          cookies: [{ name: '_gcl_au', lifetime: '90d', description: { fi: 'Yhdistää mainosklikkaukset käynteihin.', sv: 'Kopplar annonsklick till besök.', en: 'Links ad clicks to visits.' } }] },
        { id: 'facebook-pixel', name: 'Facebook pixel', provider: 'Meta Platforms Ireland Ltd',
          purpose: { fi: 'Mainosten kohdentaminen ja tulosten mittaaminen Facebookissa ja Instagramissa.', sv: 'Riktning av annonser och mätning av resultat på Facebook och Instagram.', en: 'Targeting ads and measuring results on Facebook and Instagram.' },
          privacy_url: 'https://www.facebook.com/privacy/policy/',
          hosts: ['connect.facebook.net', 'www.facebook.com'],
          cookies: [{ name: '_fbp', lifetime: '90d', description: { fi: 'Tunnistaa selaimen mainosten kohdentamista varten.', sv: 'Känner igen webbläsaren för riktad annonsering.', en: 'Recognises the browser for ad targeting.' } }] },
      ],
    },
  ],
};

/** vanilla-cookieconsent 3.1 config, one language (English) inline. */
function vanillaConfig() {
  const sections = [{ description: T.prefsDescription }];
  for (const c of CATEGORIES) {
    sections.push({
      title: T[c][0],
      description: T[c][1],
      linkedCategory: c,
      cookieTable: {
        headers: { name: 'Cookie', service: 'Service', lifetime: 'Lifetime', description: 'Purpose' },
        body: SERVICES[c].flatMap((s) => s.cookies.map(([name, lifetime, description]) => ({ name, service: s.name, lifetime, description }))),
      },
    });
  }
  const categories = {};
  for (const c of CATEGORIES) {
    categories[c] = {
      ...(c === 'necessary' ? { enabled: true, readOnly: true } : {}),
      services: Object.fromEntries(SERVICES[c].map((s) => [s.id, { label: s.name }])),
      ...(c === 'necessary' ? {} : { autoClear: { cookies: SERVICES[c].flatMap((s) => s.cookies.map(([name]) => ({ name: name.endsWith('*') ? new RegExp('^' + name.slice(0, -1)) : name }))) } }),
    };
  }
  return { categories, sections };
}

function vanillaHead() {
  const { categories, sections } = vanillaConfig();
  // RegExp objects do not survive JSON, so print the autoClear patterns as regex literals.
  const cats = JSON.stringify(categories, (k, v) => (v instanceof RegExp ? `@@${v.source}@@` : v)).replace(/"@@(.*?)@@"/g, (_, s) => `/${s.replace(/\\\\/g, '\\')}/`);
  return `<link rel="stylesheet" href="/vendor/cookieconsent/cookieconsent.css">
<script type="module">
import * as CookieConsent from '/vendor/cookieconsent/cookieconsent.esm.js';
CookieConsent.run({
  hideFromBots: false,
  cookie: { name: 'cc_cookie', expiresAfterDays: 182, sameSite: 'Lax' },
  guiOptions: { consentModal: { layout: 'box', position: 'bottom right', equalWeightButtons: true }, preferencesModal: { layout: 'box' } },
  categories: ${cats},
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          title: ${JSON.stringify(T.title)},
          description: ${JSON.stringify(T.description)},
          acceptAllBtn: ${JSON.stringify(T.acceptAll)},
          acceptNecessaryBtn: ${JSON.stringify(T.rejectAll)},
          showPreferencesBtn: ${JSON.stringify(T.settings)},
          footer: '<a href="/en/privacy">${T.privacy}</a>'
        },
        preferencesModal: {
          title: ${JSON.stringify(T.prefsTitle)},
          acceptAllBtn: ${JSON.stringify(T.acceptAll)},
          acceptNecessaryBtn: ${JSON.stringify(T.rejectAll)},
          savePreferencesBtn: ${JSON.stringify(T.save)},
          closeIconLabel: ${JSON.stringify(T.close)},
          sections: ${JSON.stringify(sections)}
        }
      }
    }
  }
});
</script>`;
}

/** Orejime 3 config: the three categories as purpose groups, the services as purposes. */
function orejimeHead() {
  const purposes = CATEGORIES.map((c) =>
    c === 'necessary'
      ? { id: 'necessary', title: T.necessary[0], description: T.necessary[1], cookies: ['consent', 'orejime'], isMandatory: true }
      : {
          id: c,
          title: T[c][0],
          description: T[c][1],
          purposes: SERVICES[c].map((s) => ({ id: s.id, title: s.name, description: `${s.purpose} (${s.provider})`, cookies: s.cookies.map(([n]) => (n.endsWith('*') ? `/^${n.slice(0, -1)}/` : n)) })),
        },
  );
  const config = {
    privacyPolicyUrl: '/en/privacy',
    purposes,
    cookie: { name: 'orejime', duration: 182, sameSite: 'lax' },
    translations: {
      banner: { title: T.title, description: T.description, accept: T.acceptAll, decline: T.rejectAll, configure: T.settings, privacyPolicyLabel: T.privacy },
      modal: { title: T.prefsTitle, description: T.prefsDescription, save: T.save, close: T.close, acceptAll: T.acceptAll, declineAll: T.rejectAll },
    },
  };
  return `<link rel="stylesheet" href="/vendor/orejime/orejime-standard.css">
<script>window.orejimeConfig = ${JSON.stringify(config)};</script>
<script defer src="/vendor/orejime/orejime-standard-en.js"></script>`;
}

/** Klaro 0.7 config (`window.klaroConfig`, read by klaro.js when it starts): the three
 * categories as purposes, the services with them (the site's own as `required`), the English
 * texts as translations. Its notice's accept button says `ok` ("That's ok" by default) even
 * with `acceptAll: true`, so `ok` is set to "Accept all". */
function klaroHead() {
  const config = {
    version: 1,
    elementID: 'klaro',
    lang: 'en',
    htmlTexts: false,
    groupByPurpose: true,
    purposeOrder: CATEGORIES,
    storageMethod: 'cookie',
    cookieName: 'klaro',
    cookieExpiresAfterDays: 182,
    default: false,
    mustConsent: false,
    acceptAll: true,
    hideDeclineAll: false,
    hideLearnMore: false,
    showNoticeTitle: true,
    translations: {
      zz: { privacyPolicyUrl: '/en/privacy' },
      en: {
        consentNotice: { title: T.title, description: `${T.description} {privacyPolicy}`, learnMore: T.settings },
        consentModal: { title: T.prefsTitle, description: T.prefsDescription },
        privacyPolicy: { name: T.privacy, text: '{privacyPolicy}' },
        ok: T.acceptAll,
        acceptAll: T.acceptAll,
        decline: T.rejectAll,
        save: T.save,
        close: T.close,
        purposes: Object.fromEntries(CATEGORIES.map((c) => [c, { title: T[c][0], description: T[c][1] }])),
      },
    },
    services: CATEGORIES.flatMap((c) => SERVICES[c].map((s) => ({
      name: s.id,
      title: s.name,
      description: `${s.purpose} (${s.provider})`,
      purposes: [c],
      cookies: s.cookies.map(([n]) => (n.endsWith('*') ? `@@^${n.slice(0, -1)}@@` : n)),
      ...(c === 'necessary' ? { required: true } : {}),
    }))),
  };
  const js = JSON.stringify(config).replace(/"@@(.*?)@@"/g, (_, src) => `/${src}/`);
  return `<script>window.klaroConfig = ${js};</script>
<script defer src="/vendor/klaro/klaro.js"></script>`;
}

/** tarteaucitron 1.34, as its README says: the script, then `tarteaucitron.init` inline; it
 * loads its stylesheet, its language file and then its list of services
 * (tarteaucitron.services.min.js, loaded with custom services only too, since `useExternalJs` is
 * false as in its README) from its own path at the window's `load`. The minified entry point makes it load the minified
 * companions (as every other banner here is measured with its minified build). It has no
 * categories of its own choosing: its types `analytic` and `ads` hold analytics and marketing,
 * and necessary cookies are its `mandatory` line. The services are custom ones (its built-in
 * gtag/googleads/facebookpixel would load Google's and Meta's scripts), the GA one adding the same
 * `/analytics.js`; each is registered with `tarteaucitron.job` at the end of the body. */
const TAC_SERVICES = {
  analytics: 'analytic',
  marketing: 'ads',
};
const tacKey = (id) => 'bench' + id.replace(/-/g, '');
function tarteaucitronHead() {
  const customText = {
    middleBarHead: T.title,
    alertBigPrivacy: T.description,
    acceptAll: T.acceptAll,
    denyAll: T.rejectAll,
    personalize: T.settings,
    privacyUrl: T.privacy,
    title: T.prefsTitle,
    disclaimer: T.prefsDescription,
    allowAll: T.acceptAll,
    save: T.save,
    close: T.close,
    mandatoryTitle: T.necessary[0],
    mandatoryText: T.necessary[1],
    analytic: { title: T.analytics[0], details: T.analytics[1] },
    ads: { title: T.marketing[0], details: T.marketing[1] },
  };
  const services = ['analytics', 'marketing'].flatMap((c) => SERVICES[c].map((s) => `tarteaucitron.services[${JSON.stringify(tacKey(s.id))}] = {
  key: ${JSON.stringify(tacKey(s.id))}, type: ${JSON.stringify(TAC_SERVICES[c])}, name: ${JSON.stringify(s.name)}, uri: ${JSON.stringify(s.id === 'facebook-pixel' ? 'https://www.facebook.com/privacy/policy/' : 'https://policies.google.com/privacy')},
  needConsent: true, cookies: ${JSON.stringify(s.cookies.map(([n]) => n.replace(/\*$/, '')))},
  js: function () { 'use strict';${s.id === 'ga' ? " tarteaucitron.addScript('/analytics.js');" : ''} }
};`)).join('\n');
  return `<script src="/vendor/tarteaucitron/tarteaucitron.min.js"></script>
<script>
var tarteaucitronCustomText = ${JSON.stringify(customText)};
tarteaucitron.init({
  privacyUrl: '/en/privacy', bodyPosition: 'bottom', hashtag: '#tarteaucitron', cookieName: 'tarteaucitron',
  orientation: 'middle', groupServices: true, showDetailsOnClick: true, serviceDefaultState: 'wait',
  showAlertSmall: false, showTitleBanner: true, cookieslist: false, cookieslistEmbed: false, showIcon: true, iconPosition: 'BottomRight',
  adblocker: false, DenyAllCta: true, AcceptAllCta: true, highPrivacy: true, alwaysNeedConsent: false, handleBrowserDNTRequest: false,
  removeCredit: false, moreInfoLink: true, useExternalCss: false, useExternalJs: false, readmoreLink: '',
  mandatory: true, mandatoryCta: true,
  googleConsentMode: false, bingConsentMode: false, pianoConsentMode: false, softConsentMode: false, dataLayer: false, serverSide: false, partnersList: false
});
${services}
</script>`;
}
const TAC_JOBS = `<script>(tarteaucitron.job = tarteaucitron.job || []).push(${['analytics', 'marketing'].flatMap((c) => SERVICES[c].map((s) => JSON.stringify(tacKey(s.id)))).join(', ')});</script>`;

/**
 * The benchmarked banners. `prefix` attributes responses to the banner for the transfer size;
 * `accept` finds the "Accept all" button of the first layer (checked in the browser, see README);
 * `consentCookie` is the cookie each library stores the decision in.
 */
/** Our banner, embedded as the README says; with `preload`, the wasm and the policy are
 * fetched alongside the script instead of after it (the README's optional hints); with `async`, the module script is
 * `async` (it runs once fetched, not after the parse). `prefix` is where its files are
 * served: `/consent-base/` holds an earlier build to compare with (`OURS_BASE_DIST`). */
const ours = (label, preload, prefix = '/consent/', async = false) => ({
  label,
  prefix,
  // Its three first-layer buttons are the same element and class (equal weight), so the
  // Accept all button is the one with our built-in English text in the first layer.
  accept: { within: '[data-consent-ui] .consent-banner', text: T.acceptAll },
  consentCookie: 'consent',
  html: (bodyEnd = '') => page({
    bodyEnd,
    head: `<link rel="stylesheet" href="${prefix}consent.css">${preload ? `
<link rel="preload" href="${prefix}consent_bg.wasm" as="fetch" type="application/wasm" crossorigin>
<link rel="preload" href="${prefix}policy.bin" as="fetch" crossorigin>` : ''}
<script type="module"${async ? ' async' : ''} src="${prefix}consent.js"></script>`,
    gatedAnalytics: GATED_TEXT_PLAIN,
  }),
});

/** Ours with the first layer in the page's HTML, as a site whose own server includes
 * consent-server's `GET /consent/first-layer` at the end of the body, as the README says (the real server, started by run.mjs from a
 * built `consent` binary with OURS_CONFIG): the fragment is empty for a visitor whose decision
 * is current, and the banner takes a rendered layer over when its WebAssembly has started.
 * The harness clicks "Accept all" only after that takeover (`takeover`), since the rendered
 * button is a form post that works without JavaScript. */
const oursServer = {
  ...ours('ours, first layer from the server', false),
  takeover: true,
  /** The fragment the last page was served with (for the page-overhead column). */
  fragment: '',
};
const oursPage = oursServer.html;
oursServer.html = (fragment = oursServer.fragment) => oursPage(fragment);

/** Ours with the page layer in front (consent-gate's `PageLayer`, issue 14): the same page as
 * `ours`, served by the Rust example `gate/examples/static_site.rs` (started by run.mjs), which
 * rewrites it for each visitor: for a new one the first layer is in the HTML (the harness clicks
 * "Accept all" once the banner has taken it over, as for `oursserver`); for a returning one the
 * gated analytics script is live in the HTML as sent. `origin: 'gate'` sends the browser to
 * that server. */
const oursGate = {
  ...ours('ours, page layer on the server', false),
  takeover: true,
  origin: 'gate',
};

export const BANNERS = {
  ours: ours('ours (wasm)', false),
  ourspreload: ours('ours, wasm and policy preloaded', true),
  oursasync: ours('ours, async script', false, '/consent/', true),
  oursserver: oursServer,
  oursgate: oursGate,
  // An earlier build of ours beside this one in the same run: `OURS_BASE_DIST=<dir> node
  // run.mjs --only ours,oursbase,...` (a copy of an older commit's wasm/dist).
  ...(process.env.OURS_BASE_DIST ? { oursbase: ours('ours, earlier build (OURS_BASE_DIST)', false, '/consent-base/') } : {}),
  vanilla: {
    label: 'vanilla-cookieconsent 3.1.0',
    prefix: '/vendor/cookieconsent/',
    accept: { selector: '#cc-main .cm .cm__btn[data-role="all"]' },
    consentCookie: 'cc_cookie',
    html: () => page({ head: vanillaHead(), gatedAnalytics: GATED_TEXT_PLAIN }),
  },
  orejime: {
    label: 'Orejime 3.2.1 (en)',
    prefix: '/vendor/orejime/',
    accept: { selector: '.orejime-Banner [data-testid="orejime-banner-accept"]' },
    consentCookie: 'orejime',
    html: () => page({ head: orejimeHead(), gatedAnalytics: '<template data-purpose="ga"><script src="/analytics.js"></script></template>' }),
  },
  klaro: {
    label: 'Klaro 0.7.22 (en)',
    prefix: '/vendor/klaro/',
    accept: { selector: '#klaro .cookie-notice:not(.cookie-notice-hidden) .cn-buttons .cm-btn-success' },
    consentCookie: 'klaro',
    html: () => page({ head: klaroHead(), gatedAnalytics: '<script type="text/plain" data-type="text/javascript" data-name="ga" data-src="/analytics.js"></script>' }),
  },
  tarteaucitron: {
    label: 'tarteaucitron 1.34.0 (en)',
    prefix: '/vendor/tarteaucitron/',
    accept: { selector: '#tarteaucitronAlertBig #tarteaucitronPersonalize2' },
    consentCookie: 'tarteaucitron',
    // Its buttons get their click handlers 500 ms after they are inserted (a setTimeout in
    // tarteaucitron.js): the harness clicks once the button has a click listener.
    clickListener: true,
    html: () => page({ head: tarteaucitronHead(), gatedAnalytics: TAC_JOBS }),
  },
};

/** The control page (the physical limit): the same body with the analytics script ungated,
 * where the banners' pages have their gated one, and no banner: it runs as soon as it is
 * parsed and loaded, on every visit. */
export const CONTROL_HTML = () => page({
  // CONTROL_CSS=1: with our banner's stylesheet in <head>, as a diagnostic of what a
  // render-blocking stylesheet alone costs (no longer the physical limit).
  head: process.env.CONTROL_CSS === '1' ? '<link rel="stylesheet" href="/consent/consent.css">' : '',
  gatedAnalytics: '<script src="/analytics.js"></script>',
});

/** The same body with no banner at all: the memory baseline. */
export const BASELINE_HTML = () => page({ head: '', gatedAnalytics: '' });

/** The inline config of each page (not counted in the transfer size; reported separately). */
export function inlineConfigBytes(name) {
  const html = BANNERS[name].html();
  const base = BASELINE_HTML();
  return Buffer.byteLength(html) - Buffer.byteLength(base);
}
