// The preview's Service Worker (scope: preview/). It answers the files of the policy the
// playground page compiled, site/<id>/policy.bin and site/<id>/texts-<lang>.json, from the
// Cache Storage where the page put them, so that the real banner loads them by URL as on a
// site, on any static host. Everything else the preview asks for comes from the network as
// usual, except what would leave the page: the banner's POST to the config's endpoint is
// answered here, with an error that says the preview records nothing.

const CACHE = 'consent-playground';
const SITES = new URL('site/', self.registration.scope).pathname;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    event.respondWith(Response.json({ error: 'the playground preview records no decisions' }, { status: 503 }));
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== location.origin || !url.pathname.startsWith(SITES)) return;
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(request, { ignoreSearch: true }))
    .then((found) => found ?? new Response('not in the playground (edit the config again)', { status: 404 })));
});
