#!/usr/bin/env node
// Compiles a consent config into the files a static site serves under /consent/, with the
// same code as `consent banner build` (consent-core compiled to WebAssembly), for a site
// without a Rust toolchain:
//
//   node build/consent-build.mjs site.json public/consent/
//
// Writes policy.bin, texts-<lang>.json, details-<lang>.json and a copy of the banner (../wasm/dist, or
// CONSENT_DIST). A config with problems writes nothing: every problem is printed with its
// path and the command exits 1.
//
// Also a module: `compile` is the one implementation, which this file's command and the npm
// package's `consent-banner build` (npm/bin/consent-banner.mjs) both call. The package ships
// this file, build/dist/ and wasm/dist/ at the same relative paths as here, so BANNER_DIST
// finds the banner in both places.
import {
  closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync,
  rmdirSync, statSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The WebAssembly and its glue, built by build/build.sh into build/dist/ (committed).
const { build, max_config_len: maxConfigLen } = createRequire(import.meta.url)('./dist/consent_build.js');

/** The built banner beside this file: wasm/dist/ of the repository or of the npm package. */
export const BANNER_DIST = fileURLToPath(new URL('../wasm/dist/', import.meta.url));

/** Why `compile` stopped; its message names the file or directory concerned. A config with
 * problems or one that cannot be read has written nothing. */
export class CompileError extends Error {
  name = 'CompileError';
}

/**
 * Compiles the config at `configPath` into `out` (created if missing): policy.bin and
 * texts-<lang>.json and details-<lang>.json, then a copy of every file in `dist` (a directory; none when `dist` is
 * null). Returns what it wrote, in order: `policy.bin (300 B)`, ..., then the copied names.
 *
 * Throws a `CompileError` when the config cannot be read (nothing written), has problems
 * (nothing written; the message lists each with its path, as `consent validate` does), or
 * a file cannot be read, written or copied (nothing in `out` replaced: see `put`).
 * @param {string} configPath
 * @param {string} out
 * @param {{dist?: string | null}} [options]
 * @returns {string[]}
 */
export function compile(configPath, out, { dist = null } = {}) {
  // The bytes as they are: the WebAssembly reads them as the CLI does (UTF-8, a byte order
  // mark ignored), and names where they stop being UTF-8; Node's decoder would put U+FFFD
  // in place of a Latin-1 letter and compile that into the banner's texts.
  let bytes;
  try {
    bytes = readBounded(configPath, maxConfigLen() + 1);
  } catch (e) {
    throw new CompileError(`cannot read ${configPath}: ${e.message}`);
  }
  let buffer;
  try {
    buffer = Buffer.from(build(bytes));
  } catch (problems) {
    throw new CompileError(`${configPath}: ${problems}`);
  }
  const compiled = [...files(buffer)];
  const written = compiled.map(({ name, bytes }) => `${name} (${bytes.length} B)`);
  const copied = [];
  if (dist != null) {
    const names = io(`cannot read the banner in ${dist}`,
      () => readdirSync(dist).filter((name) => statSync(join(dist, name)).isFile()).sort());
    // A dist that holds an earlier build's output (the site's own directory, say) must not
    // put its policy or texts over this config's.
    const ours = new Set(compiled.map(({ name }) => name));
    for (const name of names.filter((n) => !ours.has(n))) {
      copied.push(name);
      written.push(name);
    }
  }
  put(out, compiled, copied.map((name) => ({ name, from: join(dist, name) })), configPath);
  return written;
}

/**
 * Writes a build into `out` (created if missing) whole or not at all, as `consent banner
 * build` does (server/src/banner_build.rs): every file first into a staging directory inside
 * `out`, nothing there touched until all are written (a failure removes the staging, and `out`
 * if this made it); a directory in the way of a file stops it before anything is replaced;
 * then each file is renamed over its name, the banner's first and policy.bin last, so that
 * none is ever left cut short, and a banner copied from `out` itself is never emptied. The
 * config being built, under one of the build's names in `out` (its links resolved), stops
 * the build too. The staging directory is a new one of this build's own
 * (`.consent-build-XXXXXX`): one a killed build left (in a container every build is pid 1)
 * is neither in the way nor removed.
 * @param {string} out
 * @param {{name: string, bytes: Uint8Array}[]} compiled
 * @param {{name: string, from: string}[]} copied
 * @param {string} configPath
 */
function put(out, compiled, copied, configPath) {
  const made = !existsSync(out);
  io(`cannot create ${out}`, () => mkdirSync(out, { recursive: true }));
  const names = [...copied, ...compiled].map(({ name }) => name);
  const config = resolved(configPath);
  const outDir = resolved(out);
  let staging = null;
  try {
    for (const name of names) {
      if (statSync(join(out, name), { throwIfNoEntry: false })?.isDirectory()) {
        throw new CompileError(`cannot write ${join(out, name)}: a directory is in the way; nothing was replaced`);
      }
      if (config !== null && outDir !== null && join(outDir, name) === config) {
        throw new CompileError(`cannot write ${join(out, name)}: it is the config being built; choose another output directory or move the config; nothing was replaced`);
      }
    }
    staging = io(`cannot write in ${out}`, () => mkdtempSync(join(out, '.consent-build-')));
    for (const { name, bytes } of compiled) {
      io(`cannot write ${join(out, name)}`, () => writeFileSync(join(staging, name), bytes));
    }
    for (const { name, from } of copied) {
      io(`cannot copy ${from}`, () => copyFileSync(from, join(staging, name)));
    }
  } catch (e) {
    if (staging !== null) rmSync(staging, { recursive: true, force: true });
    if (made) {
      try {
        rmdirSync(out);
      } catch {
        // Not empty after all: what is there is not this build's to remove.
      }
    }
    throw e;
  }
  const last = (name) => (name === 'policy.bin' ? 2 : name.endsWith('.json') ? 1 : 0);
  for (const name of names.sort((a, b) => last(a) - last(b))) {
    io(`cannot replace ${join(out, name)}`, () => renameSync(join(staging, name), join(out, name)));
  }
  io(`cannot remove the staging directory ${staging}`, () => rmdirSync(staging));
}

/** `path` with its links resolved, or `null` where it cannot be (it does not exist). */
function resolved(path) {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** The first `limit` bytes of the file at `path`, or all of it if shorter: a file longer than
 * any config (a 50 MB export, /dev/zero) is never read whole; build() refuses what is read. */
function readBounded(path, limit) {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(limit, 1 << 16));
    const chunks = [];
    let total = 0;
    while (total < limit) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, limit - total), null);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** The files in build()'s buffer: for each, its name's length (u16 LE), its name, its
 * length (u32 LE) and its bytes (build/src/lib.rs). */
function* files(buffer) {
  for (let at = 0; at < buffer.length;) {
    const nameLength = buffer.readUInt16LE(at);
    const name = buffer.subarray(at + 2, at + 2 + nameLength).toString('utf8');
    const length = buffer.readUInt32LE(at + 2 + nameLength);
    const start = at + 6 + nameLength;
    yield { name, bytes: buffer.subarray(start, start + length) };
    at = start + length;
  }
}

/** `op()`, with a file system error turned into a CompileError: `what`, then why. */
function io(what, op) {
  try {
    return op();
  } catch (e) {
    throw new CompileError(`${what}: ${e.message}`);
  }
}

/** The command: `node build/consent-build.mjs <config.json> <out dir>`. */
function main(args) {
  const [configPath, out] = args;
  if (!configPath || !out || args.length > 2) {
    console.error('usage: node build/consent-build.mjs <config.json> <out dir>');
    return 2;
  }
  // A checkout without wasm/dist (or CONSENT_DIST naming nothing) writes the policy only.
  const dist = process.env.CONSENT_DIST ?? BANNER_DIST;
  try {
    const written = compile(configPath, out, { dist: existsSync(dist) ? dist : null });
    console.log(`${out}: ${written.join(', ')}`);
    return 0;
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    console.error(e.message);
    return 1;
  }
}

/** Whether Node was started with this file (maybe through a symlink), not another that
 * imports it; `node -e` and the REPL have no `process.argv[1]`. */
function isMain() {
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
