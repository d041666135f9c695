// Stand-in for a real tag: sets its cookie on the site's domain and says it ran.
// A block: classic scripts share one global scope, so top-level const would collide.
{
  document.cookie = '_ga=GA1.1.123456789.1790000000; path=/; max-age=34560000; SameSite=Lax';
  const el = document.getElementById('status-ga');
  if (el) el.textContent = 'ajettu ' + new Date().toLocaleTimeString('fi-FI');
  dispatchEvent(new Event('demo:ran'));
}
