// The JavaScript embedding: the page imports the API and calls Consent.run(policy) itself.
// Before run() resolves, the API gives safe answers.
import { Consent } from '/wasm/dist/consent.js';

const html = document.documentElement;
html.dataset.beforeRun = String(Consent.acceptedCategory('analytics'));
const ok = await Consent.run(html.dataset.policy, { layout: 'box', position: 'bottom-left' });
html.dataset.runResult = String(ok);
html.dataset.windowApi = String(window.Consent === Consent);
Consent.acceptCategory(['analytics']);
html.dataset.afterAccept = String(Consent.acceptedCategory('analytics'));
