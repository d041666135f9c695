// Stand-in for the Meta (Facebook) pixel: sets _fbp (90 days) on the widest domain it can
// and reports the PageView. The real pixel does not read Google Consent Mode; the banner's
// gate is what keeps it off. A block: classic scripts share one global scope.
{
  const t = window.demoTag;
  t.setCookie('_fbp', t.getCookie('_fbp') || `fb.1.${Date.now()}.${t.random()}`, 90);
  t.hit('pixel', t.consentMode(), ['_fbp']);
}
