#!/usr/bin/env bash
# The built banner (wasm/dist, started by its script tag and by Consent.run) in headless Chromium
# on a page served with a strict CSP: the banner must render, revive an allowed script, keep
# the analytics one off, and cause no CSP violation. Run from scripts/test-wasm.sh.
set -euo pipefail
cd "$(dirname "$0")/../../.."
dir=wasm/tests/csp
page="$(mktemp "$dir/tmp-XXXXXX.html")"
jspage="$(mktemp "$dir/tmp-XXXXXX.html")"
site="$(mktemp -d "$dir/tmp-site-XXXXXX")"
trap 'rm -rf "$page" "$jspage" "$site"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true' EXIT
# The example config, without an endpoint (there is no server here), compiled as a site
# compiles it; the banner's script tag names the policy in one page, run() in the other.
python3 - "$site/site.json" <<'PY'
import json, sys
config = json.load(open("core/src/example_config.json"))
config.pop("endpoint", None)
open(sys.argv[1], "w").write(json.dumps(config))
PY
"${CONSENT_BIN:-target/debug/consent}" banner build "$site/site.json" --out "$site/out" --dist "$site" >/dev/null
sed "s|POLICY_URL|/$site/out/policy.bin|" "$dir/page.html" > "$page"
sed "s|POLICY_URL|/$site/out/policy.bin|" "$dir/page-js.html" > "$jspage"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$dir/serve.py" "$port" &
server=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
load() {
  timeout 60 chromium --enable-logging=stderr --v=0 --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --no-first-run --virtual-time-budget=5000 --dump-dom \
  "http://127.0.0.1:$port/$1" 2>>"${CSP_LOG:-/dev/null}"
}
dom=$(load "$page")
fail() { echo "strict CSP check: $*" >&2; exit 1; }
grep -q 'class="consent-banner"' <<<"$dom" || fail "no banner rendered"
grep -q '>Hyväksy kaikki<' <<<"$dom" || fail "the banner is not in Finnish (<html lang=fi>)"
grep -q 'consent-root consent-bar consent-pos-bottom consent-theme-dark' <<<"$dom" || fail "data-layout/data-theme not applied"
grep -q 'data-necessary-ran="yes"' <<<"$dom" || fail "the necessary script was not revived"
grep -q '[^-]src="/wasm/tests/csp/analytics.js"' <<<"$dom" && fail "the analytics script ran before consent"
grep -q 'type="text/plain" data-category="analytics"' <<<"$dom" || fail "the gated analytics script is gone"
grep -Eq 'class="([^"]* )?consent-embed( [^"]*)?"' <<<"$dom" || fail "no placeholder on the gated iframe"
grep -q 'data-csp-violations' <<<"$dom" && fail "CSP violations: $(grep -o 'data-csp-violations="[^"]*"' <<<"$dom")"

dom=$(load "$jspage")
grep -q 'data-before-run="false"' <<<"$dom" || fail "the API did not answer safely before run()"
grep -q 'data-run-result="true"' <<<"$dom" || fail "Consent.run(policy) did not start the banner"
grep -q 'data-window-api="true"' <<<"$dom" || fail "window.Consent is not the module's Consent"
grep -q 'data-after-accept="true"' <<<"$dom" || fail "acceptCategory did not grant analytics"
grep -q 'data-necessary-ran="yes"' <<<"$dom" || fail "the analytics script was not revived after consent"
grep -q 'consent-root consent-box consent-pos-bottom-left' <<<"$dom" || fail "run() options not applied"
grep -q 'data-csp-violations' <<<"$dom" && fail "CSP violations: $(grep -o 'data-csp-violations="[^"]*"' <<<"$dom")"
echo "the banner renders and gates under a strict CSP with no violation (script tag and Consent.run)"
