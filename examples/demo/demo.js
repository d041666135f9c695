// Shows which stand-ins ran and which cookies the page holds, updated on every decision.
const show = () => {
  const el = document.getElementById('status-cookies');
  if (el) el.textContent = document.cookie || '(ei evästeitä)';
};
addEventListener('consent:change', show);
addEventListener('consent:first', show);
addEventListener('demo:ran', show);
show();
