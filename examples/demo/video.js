// The embedded video stand-in reports that it loaded, as a player's first request would.
fetch('/demo/hit', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ tag: 'video', page: new URL(document.referrer || location.href).pathname, pv: '', consent: {}, default_first: false, cookies: [] }),
});
