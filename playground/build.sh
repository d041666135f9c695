#!/usr/bin/env bash
# Builds what the playground page loads besides its own files, both committed so that the
# directory works as it is on any static host, and both checked for staleness by
# scripts/test-wasm.sh:
#   build/   the authoring side for the browser (bash build/build.sh --web): the same
#            consent-build crate as the Node build and the CLI's code
#   banner/  the banner the preview runs: wasm/dist's consent.js, consent-prefs.js,
#            consent-extra.js, consent_bg.wasm, consent.css, consent-prefs.css and
#            consent-extra.css, copied unchanged
#   bash playground/build.sh [out dir]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-playground}"
bash build/build.sh --web "$out/build"
mkdir -p "$out/banner"
cp wasm/dist/consent.js wasm/dist/consent-prefs.js wasm/dist/consent-extra.js wasm/dist/consent_bg.wasm wasm/dist/consent.css \
  wasm/dist/consent-prefs.css wasm/dist/consent-extra.css "$out/banner/"
