// The demo page's own code: what ran, the cookies the page holds, and the "your data" page.
const pixel = document.getElementById('status-pixel');
if (pixel && !document.querySelector('script[data-service="facebook-pixel"]')) {
  pixel.textContent = pixel.dataset.offText;
}

const showCookies = () => {
  const el = document.getElementById('status-cookies');
  if (el) el.textContent = document.cookie || '–';
};

// The hits the server has from this page view (reported by the stand-ins). Each hit asks
// again; only the latest answer is shown, whatever order the answers come in.
let asked = 0;
const showHits = async () => {
  const el = document.getElementById('status-hits');
  if (!el) return;
  const mine = ++asked;
  const r = await fetch('/demo/hits?pv=' + encodeURIComponent(window.demoTag.pv));
  const hits = r.ok ? (await r.json()).hits.length : null;
  if (mine === asked && hits !== null) el.textContent = String(hits);
};

addEventListener('consent:change', showCookies);
addEventListener('consent:first', showCookies);
addEventListener('demo:ran', showCookies);
addEventListener('demo:hit', showHits);
showCookies();

// "Your data": the consent id, its records (GET /consent/me: the signed consent cookie says
// whose) and erasure (DELETE /consent/me). The id never goes into a URL.
const mydata = document.getElementById('mydata');

// Each cell carries its column's name, shown beside the value where a phone stacks the table.
const cell = (row, text, label) => {
  const td = document.createElement('td');
  td.textContent = text;
  td.dataset.label = label;
  row.append(td);
};

const lang = document.documentElement.lang || 'en';
// A record's time in the visitor's own time zone, the zone named ("14.30 UTC+2"), written as
// the visitor's browser writes the page's language (en-GB for a British visitor of /en/).
const locale = navigator.languages?.find((l) => l.split('-')[0] === lang) ?? lang;
const when = new Intl.DateTimeFormat(locale, {
  year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
});
// The actions' names are the page's own words; the categories' are the banner's texts for
// this language (from the same config as the records), ids if those cannot be loaded.
const actionName = (id) => document.querySelector(`#mydata-actions [data-action="${CSS.escape(id)}"]`)?.textContent ?? id;
const categoryNames = () => fetch(`/consent/details-${lang}.json`, { credentials: 'same-origin' })
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
  .then((t) => new Map(t.categories.map((c) => [c.id, c.title])), () => new Map());

const showRecords = async () => {
  const status = document.getElementById('mydata-status');
  const [r, names] = await Promise.all([fetch('/consent/me', { credentials: 'same-origin' }), categoryNames()]);
  if (!r.ok) {
    // 404: nothing is held for this id (never recorded, or erased).
    status.textContent = r.status === 404 ? mydata.dataset.gone : mydata.dataset.failed;
    return;
  }
  const body = document.getElementById('records');
  const labels = [...mydata.querySelectorAll('thead th')].map((th) => th.textContent);
  body.replaceChildren();
  // Numbered 1, 2, ... for this visitor: the log's sequence numbers are the whole log's.
  (await r.json()).records.forEach(({ record }, i) => {
    const row = document.createElement('tr');
    const values = record ? [
      when.format(new Date(record.time)),
      actionName(record.action),
      record.categories.filter((c) => c.granted).map((c) => names.get(c.id) ?? c.id).join(', '),
      String(record.revision),
    ] : ['–', '–', '–', '–'];
    [String(i + 1), ...values].forEach((v, n) => cell(row, v, labels[n]));
    body.append(row);
  });
  const erase = document.getElementById('erase');
  erase.disabled = false;
  erase.onclick = async () => {
    erase.disabled = true;
    const d = await fetch('/consent/me', { method: 'DELETE', credentials: 'same-origin' });
    if (d.ok) {
      // Nothing is left to show: the records are gone, not fetched again (fetching would
      // answer 404 and replace this message).
      body.replaceChildren();
      status.textContent = mydata.dataset.erased;
    } else {
      erase.disabled = false;
      status.textContent = mydata.dataset.failed;
    }
  };
};

// The banner answers "necessary" with true once its WebAssembly has started; until then
// every answer is a safe "no". Checked every 25 ms, for at most ten seconds.
const whenReady = (tries = 400) =>
  new Promise((ok, fail) => {
    const check = (left) => {
      if (window.Consent?.acceptedCategory('necessary')) ok();
      else if (left === 0) fail(new Error('the banner did not start'));
      else setTimeout(() => check(left - 1), 25);
    };
    check(tries);
  });

if (mydata) {
  const show = () => {
    const consent = window.Consent.getConsent();
    if (!consent) {
      document.getElementById('mydata-status').textContent = mydata.dataset.none;
      return;
    }
    document.getElementById('consent-id').textContent = consent.consentId;
    showRecords();
  };
  whenReady().then(show, () => {});
}
