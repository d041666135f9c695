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

const cell = (row, text) => {
  const td = document.createElement('td');
  td.textContent = text;
  row.append(td);
};

const showRecords = async (id) => {
  const status = document.getElementById('mydata-status');
  const r = await fetch('/consent/me', { credentials: 'same-origin' });
  if (!r.ok) {
    // 404: nothing is held for this id (never recorded, or erased).
    status.textContent = r.status === 404 ? mydata.dataset.gone : mydata.dataset.failed;
    return;
  }
  const body = document.getElementById('records');
  body.replaceChildren();
  for (const { seq, record } of (await r.json()).records) {
    const row = document.createElement('tr');
    cell(row, String(seq));
    cell(row, record ? record.time : '–');
    cell(row, record ? record.action : '–');
    cell(row, record ? record.categories.filter((c) => c.granted).map((c) => c.id).join(', ') : '–');
    cell(row, record ? String(record.revision) : '–');
    body.append(row);
  }
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
    showRecords(consent.consentId);
  };
  whenReady().then(show, () => {});
}
