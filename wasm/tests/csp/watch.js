// Records CSP violations and the banner's events on <html>, for csp.sh to read from the DOM.
document.addEventListener('securitypolicyviolation', (e) => {
  const html = document.documentElement;
  html.dataset.cspViolations = (html.dataset.cspViolations || '') + e.violatedDirective + ' ';
});
