#!/usr/bin/env bash
# Builds wasm/dist/: consent.js (wasm-bindgen glue + loader), consent_bg.wasm (wasm-opt -Oz),
# consent.css, consent.d.ts and consent-signup.js (the newsletter form's script). The one
# command:
#   bash wasm/build.sh
# Byte-for-byte reproducible for a given toolchain: paths are remapped and the producers
# section stripped, so the committed dist/ can be checked for staleness.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-wasm/dist}"
# Its own target directory: the remapping flags below would otherwise rebuild everyone's.
export CARGO_TARGET_DIR="$root/target/wasm-dist"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$root=/src -C link-arg=-zstack-size=65536"
profile="${CONSENT_WASM_PROFILE:-wasm-release}"
cargo build -q -p consent-wasm --lib --target wasm32-unknown-unknown --profile "$profile"

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if ! wasm-bindgen --version | grep -qx "wasm-bindgen $want"; then
  echo "wasm-bindgen-cli $want is needed (bash scripts/setup.sh installs it)" >&2
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
# Comment lines and indentation go (1.1 kB of the gzip): the glue has no multi-line strings
# or template literals, so only whole comment lines and leading blanks are dropped, never
# code. consent.d.ts keeps the API's docs for editors.
cat "$tmp/consent.js" wasm/js/banner.js | awk '
  /^[ \t]*\/\*/ { comment = 1 }
  comment { if ($0 ~ /\*\/[ \t]*$/) comment = 0; next }
  /^[ \t]*\/\// { next }
  { sub(/^[ \t]+/, ""); if ($0 != "") print }
' > "$out/consent.js"
# The stylesheet without its comments and indentation (0.4 kB of the gzip; it has no strings
# holding "/*"). wasm/css/consent.css, with the comments on customising, is the source.
perl -0pe 's{/\*.*?\*/}{}gs; s/^[ \t]+//mg; s/\n+/\n/g; s/^\n//' wasm/css/consent.css > "$out/consent.css"
cp wasm/js/consent.d.ts "$out/"
# The sign-up script is loaded only by a newsletter page, on its own: copied as written.
cp wasm/js/signup.js "$out/consent-signup.js"
