// consent-signup.js: the newsletter sign-up, for a site's own form. Load it as a module:
//
//   <form data-consent-signup method="post" action="/register/signup"
//         data-msg-ok="Thank you: you are subscribed." data-msg-channels="Tick at least one box.">
//     <input type="hidden" name="return_to" value="/newsletter">
//     <label>E-mail or phone <input name="contact" required></label>
//     <label><input type="checkbox" name="channels" value="email"> By e-mail</label>
//     ... one unticked box per channel (email, sms, post), a submit button ...
//     <p role="status"></p>
//   </form>
//   <script type="module" src="/consent/consent-signup.js"></script>
//
// Without JavaScript the form posts itself and the server answers with a redirect back to
// `return_to` with `?signup=<outcome>`. With it, this script posts the same fields as JSON
// and shows the outcome in the form's role="status" element without leaving the page.
//
// Outcomes (the same codes as the redirect's): ok, channels (no box ticked), contact (not an
// e-mail address or phone number), channel (a ticked channel cannot reach the contact), busy
// (rate-limited), error. The text shown is the form's data-msg-<outcome> attribute, in the
// page's language; without one, the server's own message.
//
// No consent logic lives here: the script sends exactly the boxes the visitor ticked, never
// ticks one itself, and the server normalises the contact and decides what is recorded.

const OUTCOMES = ['ok', 'channels', 'contact', 'channel', 'busy', 'error'];

/** The outcome of the server's JSON answer: its status and the field its error names. */
function outcomeOf(status, message) {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429) return 'busy';
  const field = /^(channels|channel|contact):/.exec(message);
  return field ? field[1] : 'error';
}

/** Shows `outcome` in the form's status element (a polite live region), as text. */
function show(form, outcome, serverMessage) {
  const status = form.querySelector('[role="status"]');
  if (!status) return;
  const key = 'msg' + outcome.charAt(0).toUpperCase() + outcome.slice(1);
  status.textContent = form.dataset[key] || serverMessage || outcome;
  status.dataset.outcome = outcome;
  const contact = form.elements.namedItem('contact');
  if (contact && 'setAttribute' in contact) {
    if (outcome === 'contact' || outcome === 'channel') {
      contact.setAttribute('aria-invalid', 'true');
      contact.focus();
    } else {
      contact.removeAttribute('aria-invalid');
    }
  }
}

async function submit(form) {
  const data = new FormData(form);
  const body = JSON.stringify({
    contact: String(data.get('contact') ?? ''),
    channels: data.getAll('channels').map(String),
  });
  form.setAttribute('aria-busy', 'true');
  try {
    // getAttribute: a field named "action" would shadow form.action.
    const r = await fetch(form.getAttribute('action') || '/register/signup', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    const answer = await r.json().catch(() => ({}));
    const outcome = outcomeOf(r.status, typeof answer.error === 'string' ? answer.error : '');
    show(form, outcome, answer.error);
    // Signed up: the form starts over, empty and with every box unticked again.
    if (outcome === 'ok') form.reset();
  } catch (e) {
    show(form, 'error', String(e));
  } finally {
    form.removeAttribute('aria-busy');
  }
}

/** Takes over one sign-up form's submit. Safe to call twice. */
export function enhance(form) {
  if (form.hasAttribute('data-consent-signup-ready')) return;
  for (const box of form.querySelectorAll('input[type="checkbox"]')) {
    if (box.defaultChecked) {
      console.warn('consent-signup: a pre-ticked box is not consent; leave every box unticked', box);
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!form.hasAttribute('aria-busy')) submit(form);
  });
  // Back from a post made before this script loaded: say what the server answered.
  const asked = new URLSearchParams(location.search).get('signup');
  if (OUTCOMES.includes(asked)) show(form, asked);
  form.setAttribute('data-consent-signup-ready', '');
}

if (typeof document !== 'undefined') {
  document.querySelectorAll('form[data-consent-signup]').forEach(enhance);
}
