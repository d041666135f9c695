// The JavaScript embedding: no inline config; the page imports the API and calls
// Consent.run(config) itself. Before run() resolves, the API gives safe answers.
import { Consent } from '/wasm/dist/consent.js';

const html = document.documentElement;
html.dataset.beforeRun = String(Consent.acceptedCategory('analytics'));
const config = await (await fetch(html.dataset.config)).json();
const ok = await Consent.run(config, { layout: 'box', position: 'bottom-left' });
html.dataset.runResult = String(ok);
html.dataset.windowApi = String(window.Consent === Consent);
Consent.acceptCategory(['analytics']);
html.dataset.afterAccept = String(Consent.acceptedCategory('analytics'));
