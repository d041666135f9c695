#!/usr/bin/env bash
# Builds wasm/dist/: consent.js (the banner's script, minified),
# consent_bg.wasm (wasm-opt -Oz), consent.css (minified), the parts the banner loads when a
# page needs them (consent-prefs.js and .css, consent-extra.js and .css), consent.d.ts and
# consent-signup.js (the newsletter form's script). The one command:
#   bash wasm/build.sh
# Byte-for-byte reproducible for a given toolchain: paths are remapped and the producers
# section stripped, so the committed dist/ can be checked for staleness.
set -euo pipefail
out="${1:-wasm/dist}"
# A 32 KiB stack (Rust's default is 1 MiB): the banner's deepest call needs a few KiB, and the
# stack comes first in linear memory, so an overflow traps instead of corrupting data. With it
# the whole linear memory stays at two 64 KiB pages (issue 13: at most 128 KiB).
source "$(dirname "$0")/../scripts/reproducible-wasm.sh" wasm-dist "-C link-arg=-zstack-size=32768"
profile="${CONSENT_WASM_PROFILE:-wasm-banner}"
cargo build -q -p consent-wasm --lib --no-default-features --target wasm32-unknown-unknown --profile "$profile"

esbuild="$root/wasm/node_modules/.bin/esbuild"
if [ ! -x "$esbuild" ] || [ ! -x "$root/wasm/node_modules/.bin/terser" ]; then
  echo "esbuild and terser are needed (bash scripts/setup.sh installs them: npm ci in wasm/)" >&2
  exit 1
fi
# wasm-opt on rustc's output: the module is the whole of what the browser gets, with no
# wasm-bindgen step (the crate has no allocator for wasm-bindgen's strings; the script
# talks to the exports of wasm/src/abi.rs through linear memory). The features are exactly
# those rustc's wasm32-unknown-unknown output uses; with --all-features binaryen 108 rewrites
# types as typed function references, which browsers without that proposal (and Node 20)
# refuse to compile.
mkdir -p "$out"
# --low-memory-unused lets it fold constant offsets into loads and stores: only an address
# that wrapped past 4 GiB could differ, and that is a stack overflow, which then traps
# instead of reaching the bottom of the stack (the stack comes first in linear memory).
# --flatten --rereloop first: the control flow rebuilt by binaryen's relooper, which -Oz then
# shrinks further than rustc's own (133 B gzip less, measured).
# The strip passes first: run after the optimisations, they left the module 61 B (gzip)
# larger than with nothing to strip while they ran; and the relooper's round twice, 21 B
# less again (a third round gave those back; measured with binaryen 108).
wasm-opt --strip-debug --strip-producers --strip-target-features \
  --flatten --rereloop -Oz -Oz --converge --flatten --rereloop -Oz -Oz --converge --low-memory-unused --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/consent_wasm.wasm" -o "$out/consent_bg.wasm"
# The banner's script as one ES module, minified by esbuild (pinned in wasm/package.json;
# deterministic for a given version, so dist/ can be checked for staleness): local names
# shortened, comments and blanks gone; it exports `Consent` only.
# The banner's own state (its fields end in `_`: `ui.layer_`, ...) is renamed too: those names
# never leave the script. The preferences' script (wasm/js/prefs.js -> consent-prefs.js, which
# the banner imports when they first open) and what only some pages use (wasm/js/extra.js ->
# consent-extra.js: the embeds' placeholders, the cookie declaration) are minified the same
# way, apart: they share no name with the banner but their exports, whose arguments are
# positional.
# Then terser's compressor over esbuild's output (pinned beside it; deterministic): two
# passes find what esbuild's one-pass minifier leaves, 155 B gzip of 5.6 kB (measured). Safe
# transforms only: no `unsafe*` options, and property names are esbuild's as above.
minify() {
  "$esbuild" "$1" --minify --tree-shaking=true --format=esm --target=es2022 --mangle-props='_$' \
    --legal-comments=none --log-level=warning --outfile="$2"
  "$root/wasm/node_modules/.bin/terser" "$2" --module --ecma 2020 --compress passes=2 --mangle --output "$2"
}
minify wasm/js/banner.js "$out/consent.js"
minify wasm/js/prefs.js "$out/consent-prefs.js"
minify wasm/js/extra.js "$out/consent-extra.js"
# The stylesheets minified the same way; wasm/css/, with the comments on customising, is the
# source: consent.css (every page with the banner), consent-prefs.css (the preferences,
# linked by the banner when it first opens them) and consent-extra.css (linked with
# consent-extra.js).
for css in consent consent-prefs consent-extra; do
  "$esbuild" "wasm/css/$css.css" --minify --log-level=warning --outfile="$out/$css.css"
done
cp wasm/js/consent.d.ts "$out/"
# The sign-up script is loaded only by a newsletter page, on its own: copied as written.
cp wasm/js/signup.js "$out/consent-signup.js"
