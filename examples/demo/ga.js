// Stand-in for Google Analytics 4 (gtag.js): reads Consent Mode; with analytics_storage
// granted it sets _ga and _ga_<id> on the widest domain it can, like the real tag, then
// reports the page view. A block: classic scripts share one global scope.
{
  const t = window.demoTag;
  const consent = t.consentMode();
  const cookies = [];
  if (consent.state.analytics_storage === 'granted') {
    const client = t.getCookie('_ga') || `GA1.1.${t.random()}.${t.now()}`;
    t.setCookie('_ga', client, 400);
    t.setCookie('_ga_DEMO1234', `GS1.1.${t.now()}.1.0.${t.now()}.0.0.0`, 400);
    cookies.push('_ga', '_ga_DEMO1234');
  }
  t.hit('ga', consent, cookies);
}
