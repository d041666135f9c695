// Puts into this directory what the package ships besides bin/ and its README, copied from
// where the repository keeps it (npm runs this before `npm pack` and `npm publish`), and
// removes the copies afterwards (`--clean`, after packing), so each file is committed once:
//
//   ../wasm/dist/*                the banner, built by wasm/build.sh
//   ../build/consent-build.mjs    the policy compiler's command and compile()
//   ../build/dist/*               its WebAssembly, built by build/build.sh
//
// The copies keep the repository's relative layout: consent-build.mjs finds its glue in
// ./dist/ and the banner in ../wasm/dist/, in the package as in the repository.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
/** Directories copied whole, and single files, relative to the repository and the package. */
const DIRS = ['wasm/dist', 'build/dist'];
const FILES = ['build/consent-build.mjs'];
/** The copies' top directories, which --clean removes (and .gitignore ignores). */
const COPIES = ['wasm', 'build'];

for (const top of COPIES) rmSync(join(here, top), { recursive: true, force: true });
if (process.argv[2] === '--clean') process.exit(0);
if (process.argv.length > 2) {
  console.error(`pack-files.mjs: unknown argument ${process.argv[2]} (only --clean)`);
  process.exit(2);
}
const copies = [...FILES];
for (const dir of DIRS) {
  const names = readdirSync(join(repo, dir)).filter((n) => statSync(join(repo, dir, n)).isFile());
  if (names.length === 0) {
    console.error(`pack-files.mjs: ${join(repo, dir)} is empty: nothing to pack`);
    process.exit(1);
  }
  copies.push(...names.map((n) => `${dir}/${n}`));
}
for (const file of copies) {
  mkdirSync(dirname(join(here, file)), { recursive: true });
  copyFileSync(join(repo, file), join(here, file));
}
