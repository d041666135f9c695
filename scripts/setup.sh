#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine, and nothing that is already there.
# Sourced by scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

have() { command -v "$1" >/dev/null 2>&1; }

# Rust: the wasm target and the lint tools.
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

# Debian packages: headless Chromium and its driver for browser tests, PostgreSQL for the
# server's store tests, binaryen for wasm-opt. Never a browser downloaded by a test tool.
missing=()
have chromium || missing+=(chromium)
have chromedriver || missing+=(chromium-driver)
have wasm-opt || missing+=(binaryen)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
fi

# wasm-bindgen-cli at exactly the version in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ -n "$want" ] && ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $want"; then
  echo "installing wasm-bindgen-cli $want"
  cargo install -q wasm-bindgen-cli --version "$want"
fi

# esbuild and terser, which wasm/build.sh minifies the banner's script and stylesheet with:
# the versions pinned in wasm/package-lock.json, from the npm registry.
if [ ! -x wasm/node_modules/.bin/esbuild ] || [ ! -x wasm/node_modules/.bin/terser ] \
    || ! wasm/node_modules/.bin/esbuild --version 2>/dev/null \
    | grep -qx "$(awk -F'"' '/"node_modules\/esbuild": \{/ { getline; print $4; exit }' wasm/package-lock.json)"; then
  (cd wasm && npm ci --no-audit --no-fund --loglevel=error)
fi
