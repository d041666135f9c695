#!/usr/bin/env node
// Compiles a consent config into the files a static site serves under /consent/, with the
// same code as `consent banner build` (consent-core compiled to WebAssembly), for a site
// without a Rust toolchain:
//
//   node build/consent-build.mjs site.json public/consent/
//
// Writes policy.bin, texts-<lang>.json and a copy of the banner (../wasm/dist, or
// CONSENT_DIST). A config with problems writes nothing: every problem is printed with its
// path and the command exits 1.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The WebAssembly and its glue, built by build/build.sh into build/dist/ (committed).
const { build } = createRequire(import.meta.url)('./dist/consent_build.js');
const [configPath, out] = process.argv.slice(2);
if (!configPath || !out) {
  console.error('usage: node build/consent-build.mjs <config.json> <out dir>');
  process.exit(2);
}
let text;
try {
  text = readFileSync(configPath, 'utf8');
} catch (e) {
  console.error(`cannot read ${configPath}: ${e.message}`);
  process.exit(1);
}
let buffer;
try {
  buffer = Buffer.from(build(text));
} catch (problems) {
  console.error(`${configPath}: ${problems}`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
const written = [];
for (let at = 0; at < buffer.length;) {
  const nameLength = buffer.readUInt16LE(at);
  const name = buffer.subarray(at + 2, at + 2 + nameLength).toString('utf8');
  const length = buffer.readUInt32LE(at + 2 + nameLength);
  const start = at + 6 + nameLength;
  writeFileSync(join(out, name), buffer.subarray(start, start + length));
  written.push(`${name} (${length} B)`);
  at = start + length;
}
const dist = process.env.CONSENT_DIST ?? fileURLToPath(new URL('../wasm/dist/', import.meta.url));
if (existsSync(dist)) {
  for (const name of readdirSync(dist)) {
    if (!statSync(join(dist, name)).isFile()) continue;
    copyFileSync(join(dist, name), join(out, name));
    written.push(name);
  }
}
console.log(`${out}: ${written.join(', ')}`);
