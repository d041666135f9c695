#!/usr/bin/env bash
# Builds the authoring side (consent-build) as WebAssembly, in one of two flavours of the one
# crate:
#   bash build/build.sh [out dir]         for Node, into build/dist/ (build/consent-build.mjs)
#   bash build/build.sh --web [out dir]   for the browser, into playground/build/ (the playground)
# Byte-for-byte reproducible for a given toolchain (paths remapped), so the committed builds
# can be checked for staleness.
set -euo pipefail
target=nodejs
default=build/dist
if [ "${1:-}" = --web ]; then
  target=web
  default=playground/build
  shift
fi
out="${1:-$default}"
source "$(dirname "$0")/../scripts/reproducible-wasm.sh" build-dist
cargo build -q -p consent-build --lib --target wasm32-unknown-unknown --profile wasm-release
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Size does not matter here (a build step, and a page for site owners, not a download for
# every visitor): no wasm-opt, names stripped.
wasm-bindgen --target "$target" --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$tmp" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/consent_build.wasm"
mkdir -p "$out"
cp "$tmp/consent_build.js" "$tmp/consent_build_bg.wasm" "$out/"
