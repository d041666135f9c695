#!/usr/bin/env bash
# Builds build/dist/: the authoring side (consent-build) as WebAssembly for Node, and the
# command that uses it (consent-build.mjs, copied as written). Byte-for-byte reproducible for a
# given toolchain (paths remapped), so the committed dist/ can be checked for staleness.
#   bash build/build.sh [out dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-build/dist}"
export CARGO_TARGET_DIR="$root/target/build-dist"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$root=/src"
cargo build -q -p consent-build --lib --target wasm32-unknown-unknown --profile wasm-release
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if ! wasm-bindgen --version | grep -qx "wasm-bindgen $want"; then
  echo "wasm-bindgen-cli $want is needed (bash scripts/setup.sh installs it)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Size does not matter here (a build step, not a download): no wasm-opt, names stripped.
wasm-bindgen --target nodejs --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$tmp" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/consent_build.wasm"
mkdir -p "$out"
cp "$tmp/consent_build.js" "$tmp/consent_build_bg.wasm" "$out/"
cp build/js/consent-build.mjs "$out/"
