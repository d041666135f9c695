#!/usr/bin/env bash
# Builds build/dist/: the authoring side (consent-build) as WebAssembly for Node, which
# build/consent-build.mjs runs. Byte-for-byte reproducible for a given toolchain (paths
# remapped), so the committed dist/ can be checked for staleness.
#   bash build/build.sh [out dir]
set -euo pipefail
out="${1:-build/dist}"
source "$(dirname "$0")/../scripts/reproducible-wasm.sh" build-dist
cargo build -q -p consent-build --lib --target wasm32-unknown-unknown --profile wasm-release
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Size does not matter here (a build step, not a download): no wasm-opt, names stripped.
wasm-bindgen --target nodejs --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$tmp" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/consent_build.wasm"
mkdir -p "$out"
cp "$tmp/consent_build.js" "$tmp/consent_build_bg.wasm" "$out/"
