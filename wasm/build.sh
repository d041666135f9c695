#!/usr/bin/env bash
# Builds wasm/dist/: consent.js (wasm-bindgen glue + the banner's script, minified),
# consent_bg.wasm (wasm-opt -Oz), consent.css (minified), consent.d.ts and consent-signup.js (the newsletter form's script). The one
# command:
#   bash wasm/build.sh
# Byte-for-byte reproducible for a given toolchain: paths are remapped and the producers
# section stripped, so the committed dist/ can be checked for staleness.
set -euo pipefail
out="${1:-wasm/dist}"
# A 32 KiB stack (Rust's default is 1 MiB): the banner's deepest call needs a few KiB, and the
# stack comes first in linear memory, so an overflow traps instead of corrupting data. With it
# the whole linear memory stays at two 64 KiB pages (issue 13: at most 128 KiB).
source "$(dirname "$0")/../scripts/reproducible-wasm.sh" wasm-dist "-C link-arg=-zstack-size=32768"
profile="${CONSENT_WASM_PROFILE:-wasm-release}"
cargo build -q -p consent-wasm --lib --no-default-features --target wasm32-unknown-unknown --profile "$profile"

esbuild="$root/wasm/node_modules/.bin/esbuild"
if [ ! -x "$esbuild" ]; then
  echo "esbuild is needed (bash scripts/setup.sh installs it: npm ci in wasm/)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# wasm-opt runs on rustc's output, before wasm-bindgen: binaryen 108 (Debian 12) renumbers
# tables and would export wasm-bindgen's externref table as the function table. The features
# are exactly those rustc's wasm32-unknown-unknown output uses; with --all-features binaryen
# 108 rewrites types as typed function references, which browsers without that proposal
# (and Node 20) refuse to compile.
wasm-opt -Oz --converge --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  --strip-debug --strip-producers \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/consent_wasm.wasm" -o "$tmp/opt.wasm"
wasm-bindgen --target web --no-typescript --out-dir "$tmp" --out-name consent "$tmp/opt.wasm"
mkdir -p "$out"
cp "$tmp/consent_bg.wasm" "$out/consent_bg.wasm"
# The glue and the banner's script as one ES module, minified by esbuild (pinned in
# wasm/package.json; deterministic for a given version, so dist/ can be checked for
# staleness): local names shortened, comments and blanks gone; it exports `Consent` only.
# The glue's own exports (the raw wasm functions, `initSync`, the init function) are not
# the banner's API (consent.d.ts declares `Consent` only): they become local, and esbuild
# drops what the banner's script does not call.
sed -E -e 's/^export (async function|function) /\1 /' -e '/^export \{.*\};$/d' \
  "$tmp/consent.js" > "$tmp/glue.js"
grep -q '^export' "$tmp/glue.js" && { echo "wasm-bindgen's glue has exports build.sh does not know" >&2; exit 1; }
cat "$tmp/glue.js" wasm/js/banner.js > "$tmp/bundle.js"
"$esbuild" "$tmp/bundle.js" --minify --tree-shaking=true --format=esm --target=es2022 \
  --legal-comments=none --log-level=warning --outfile="$out/consent.js"
# The stylesheet minified the same way; wasm/css/consent.css, with the comments on
# customising, is the source.
"$esbuild" wasm/css/consent.css --minify --log-level=warning --outfile="$out/consent.css"
cp wasm/js/consent.d.ts "$out/"
# The sign-up script is loaded only by a newsletter page, on its own: copied as written.
cp wasm/js/signup.js "$out/consent-signup.js"
