// What the demo's stand-ins for Google Analytics, Google Ads and the Facebook pixel share.
// Loaded as an ordinary script (the site's own code, sets nothing): the stand-ins
// themselves stay inert until the banner activates them.
window.demoTag = (() => {
  // One id per page view, so the server's hit list can tell page views apart.
  const pv = Math.random().toString(36).slice(2, 12);

  // Like gtag.js's cookie_domain "auto": the widest domain the browser accepts a cookie
  // on (www.clinic.test -> .clinic.test), or host-only for an IP address or localhost.
  const cookieDomain = () => {
    const host = location.hostname;
    if (/^[\d.]+$/.test(host) || !host.includes('.')) return null;
    const parts = host.split('.');
    for (let i = 2; i <= parts.length; i++) {
      const domain = parts.slice(-i).join('.');
      document.cookie = `_demo_probe=1; path=/; domain=${domain}; SameSite=Lax`;
      if (document.cookie.split('; ').includes('_demo_probe=1')) {
        document.cookie = `_demo_probe=; path=/; domain=${domain}; max-age=0`;
        return domain;
      }
    }
    return null;
  };

  const setCookie = (name, value, days) => {
    const domain = cookieDomain();
    document.cookie = `${name}=${value}; path=/; max-age=${days * 86400}; SameSite=Lax` +
      (domain ? `; domain=${domain}` : '');
  };

  const getCookie = (name) => {
    const pair = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
    return pair ? pair.slice(name.length + 1) : null;
  };

  // Google Consent Mode as gtag.js reads it: the dataLayer's `consent` commands in order.
  const consentMode = () => {
    const state = {};
    let defaultFirst = null;
    for (const entry of window.dataLayer || []) {
      if (entry && entry[0] === 'consent' && (entry[1] === 'default' || entry[1] === 'update')) {
        if (defaultFirst === null) defaultFirst = entry[1] === 'default';
        for (const [k, v] of Object.entries(entry[2] || {})) {
          if (k.endsWith('_storage') || k.startsWith('ad_')) state[k] = v;
        }
      }
    }
    return { state, defaultFirst: defaultFirst === true };
  };

  // Tells the demo server what ran (the page shows the count), and marks it on the page.
  const hit = (tag, consent, cookies) => {
    const body = JSON.stringify({
      tag, page: location.pathname, pv, consent: consent.state,
      default_first: consent.defaultFirst, cookies,
    });
    fetch('/demo/hit', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, keepalive: true })
      .then(() => dispatchEvent(new Event('demo:hit')), () => {});
    const el = document.getElementById('status-' + tag);
    if (el) {
      el.dataset.ran = (Number(el.dataset.ran || 0) + 1).toString();
      el.textContent = el.dataset.ranText || 'ran';
    }
    dispatchEvent(new Event('demo:ran'));
  };

  const random = () => Math.floor(Math.random() * 2e9);
  const now = () => Math.floor(Date.now() / 1000);
  return { pv, setCookie, getCookie, consentMode, hit, random, now };
})();
