#!/usr/bin/env node
// The package's command. `consent-banner build site.json public/consent/` compiles a site's
// config into the files its pages load (the compiled policy, its texts and this package's
// banner) by calling compile() from build/consent-build.mjs, the compiler the repository's
// `node build/consent-build.mjs` runs: consent-core compiled to WebAssembly, the same code as
// `consent banner build`. This file only reads the arguments and says what went wrong.
import { readFileSync } from 'node:fs';
import { BANNER_DIST, CompileError, compile } from '../build/consent-build.mjs';

const USAGE = `usage: consent-banner build <config.json> <out dir>
       consent-banner --help | --version

build    compiles the consent config <config.json> into <out dir> (created if missing):
         policy.bin, texts-<lang>.json, details-<lang>.json and the banner (consent.js, consent_bg.wasm,
         consent.css, consent-prefs.js, consent-prefs.css, consent-extra.js, consent-extra.css, consent.d.ts,
         consent-signup.js). A config with problems writes
         nothing: each problem is listed with its path.

Serve <out dir> at /consent/ and put in each page:

  <link rel="stylesheet" href="/consent/consent.css">
  <script type="module" src="/consent/consent.js"></script>

options:
  -h, --help     print this and exit
  -V, --version  print the package's version and exit

exit status: 0 written; 1 the config cannot be read or has problems, or a file cannot be
written; 2 the command line is wrong.

docs: https://github.com/consent-rs/consent#the-banner`;

/** A wrong command line: what is wrong, then how to get help; exit status 2. */
function usage(what) {
  console.error(`consent-banner: ${what}\nusage: consent-banner build <config.json> <out dir>\n`
    + "run 'consent-banner --help' for more");
  return 2;
}

function version() {
  const meta = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return `${meta.name} ${meta.version}`;
}

/** `consent-banner build` with the arguments after `build`. */
function build(args) {
  const paths = [];
  let options = true;
  for (const arg of args) {
    if (options && arg === '--') options = false;
    else if (options && (arg === '-h' || arg === '--help')) return help();
    else if (options && arg.startsWith('-') && arg !== '-') return usage(`build: unknown option ${arg}`);
    else paths.push(arg);
  }
  if (paths.length < 2) return usage(`build needs a config file and an output directory (got ${paths.length} of 2)`);
  if (paths.length > 2) return usage(`build takes a config file and an output directory; unexpected ${paths[2]}`);
  const [config, out] = paths;
  try {
    console.log(`${out}: ${compile(config, out, { dist: BANNER_DIST }).join(', ')}`);
    return 0;
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    console.error(e.message);
    return 1;
  }
}

function help() {
  console.log(USAGE);
  return 0;
}

function main([command, ...rest]) {
  switch (command) {
    case 'build': return build(rest);
    case '-h': case '--help': case 'help': return help();
    case '-V': case '--version': console.log(version()); return 0;
    case undefined: return usage('no command');
    default: return usage(`unknown command ${JSON.stringify(command)}`);
  }
}

process.exitCode = main(process.argv.slice(2));
