// Stand-in for the Google Ads conversion linker: reads Consent Mode; with ad_storage granted
// it sets _gcl_au (90 days) on the widest domain it can, then reports. A block: classic
// scripts share one global scope.
{
  const t = window.demoTag;
  const consent = t.consentMode();
  const cookies = [];
  if (consent.state.ad_storage === 'granted') {
    t.setCookie('_gcl_au', t.getCookie('_gcl_au') || `1.1.${t.random()}.${t.now()}`, 90);
    cookies.push('_gcl_au');
  }
  t.hit('ads', consent, cookies);
}
