// The Node build of the authoring side against the CLI: the same config gives the same
// files, byte for byte, and a config with problems gives the same problems and no files.
//   CONSENT_BIN=target/debug/consent node --test build/test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bin = process.env.CONSENT_BIN ?? join(root, 'target/debug/consent');
const command = join(root, 'build/consent-build.mjs');
const example = join(root, 'core/src/example_config.json');

test('the Node build writes the files consent banner build writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consent-node-build-'));
  try {
    const empty = join(dir, 'empty');
    execFileSync(bin, ['banner', 'build', example, '--out', join(dir, 'cli'), '--dist', dir]);
    execFileSync(process.execPath, [command, example, join(dir, 'node')], { env: { ...process.env, CONSENT_DIST: empty } });
    const names = readdirSync(join(dir, 'cli')).filter((n) => n === 'policy.bin' || /^(texts|details)-/.test(n)).sort();
    assert.deepEqual(names, ['details-en.json', 'details-fi.json', 'details-sv.json', 'policy.bin',
      'texts-en.json', 'texts-fi.json', 'texts-sv.json']);
    assert.deepEqual(readdirSync(join(dir, 'node')).sort(), names, 'the banner files only (no dist here)');
    for (const name of names) {
      assert.deepEqual(readFileSync(join(dir, 'node', name)), readFileSync(join(dir, 'cli', name)), name);
    }
    // By default it copies the banner beside them.
    execFileSync(process.execPath, [command, example, join(dir, 'site')]);
    for (const name of ['consent.js', 'consent_bg.wasm', 'consent.css']) {
      assert.deepEqual(readFileSync(join(dir, 'site', name)), readFileSync(join(root, 'wasm/dist', name)), name);
    }
    // A dist that also holds an earlier build's output (the site's own directory, say): the
    // files compiled from this config are kept, never the older ones beside the banner.
    const stale = join(dir, 'stale');
    mkdirSync(stale);
    writeFileSync(join(stale, 'policy.bin'), 'CPOL stale');
    writeFileSync(join(stale, 'consent.js'), '// the banner');
    execFileSync(process.execPath, [command, example, join(dir, 'over')], { env: { ...process.env, CONSENT_DIST: stale } });
    assert.deepEqual(readFileSync(join(dir, 'over', 'policy.bin')), readFileSync(join(dir, 'cli', 'policy.bin')));
    assert.equal(readFileSync(join(dir, 'over', 'consent.js'), 'utf8'), '// the banner');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config with problems writes nothing and names every problem, as the CLI does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consent-node-build-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"}, {"id": "ads", "enabled_by_default": true}]}');
    const node = spawnSync(process.execPath, [command, bad, join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(node.status, 1);
    assert.ok(node.stderr.includes('categories[1].title: missing'), node.stderr);
    assert.ok(node.stderr.includes('categories[1].enabled_by_default: not allowed'), node.stderr);
    assert.equal(existsSync(join(dir, 'out')), false);
    const cli = spawnSync(bin, ['validate', bad], { encoding: 'utf8' });
    assert.equal(node.stderr.trim(), cli.stderr.trim(), 'the same words as consent validate');
    const missing = spawnSync(process.execPath, [command, join(dir, 'nope.json'), join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read .*nope\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config file is read as the CLI reads it: a byte order mark ignored, only UTF-8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consent-node-build-'));
  try {
    const env = { ...process.env, CONSENT_DIST: join(dir, 'empty') };
    const plain = readFileSync(example);
    const bom = join(dir, 'bom.json');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain]));
    execFileSync(process.execPath, [command, example, join(dir, 'plain')], { env });
    execFileSync(process.execPath, [command, bom, join(dir, 'bom')], { env });
    for (const name of readdirSync(join(dir, 'plain'))) {
      assert.deepEqual(readFileSync(join(dir, 'bom', name)), readFileSync(join(dir, 'plain', name)), name);
    }
    // Latin-1 (an old editor's) and UTF-16 (Notepad's "Unicode"): refused with where, never
    // compiled into texts with U+FFFD in place of the letters.
    const at = plain.indexOf('Klinikan');
    const latin1 = Buffer.from(plain);
    latin1[at] = 0xc4; // 'Ä' in Latin-1
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(plain.toString('utf8'), 'utf16le')]);
    const before = plain.subarray(0, at).toString('latin1');
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    for (const [name, bytes, want] of [
      ['latin1.json', latin1, `invalid UTF-8 at line ${line} column ${column}`],
      ['utf16.json', utf16, 'UTF-16'],
    ]) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const node = spawnSync(process.execPath, [command, path, join(dir, 'out')], { encoding: 'utf8', env });
      assert.equal(node.status, 1, node.stderr);
      assert.ok(node.stderr.includes(want), node.stderr);
      assert.equal(existsSync(join(dir, 'out')), false);
      const cli = spawnSync(bin, ['validate', path], { encoding: 'utf8' });
      assert.equal(node.stderr.trim(), cli.stderr.trim().replace(/^error: /, ''), 'the same words as consent validate');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a build is written whole or not at all, and loses nothing already there', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consent-node-build-'));
  const tree = (at) => readdirSync(at, { recursive: true }).sort()
    .map((name) => [name, existsSync(join(at, name)) && !statSync(join(at, name)).isDirectory() ? readFileSync(join(at, name), 'utf8') : '/']);
  const build = (out, dist) => spawnSync(process.execPath, [command, example, out],
    { encoding: 'utf8', env: { ...process.env, CONSENT_DIST: dist } });
  try {
    // A site that keeps the banner where it serves it, and builds into the same directory.
    const site = join(dir, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'consent.js'), '// the banner');
    writeFileSync(join(site, 'index.html'), '<p>the site');
    const built = build(site, site);
    assert.equal(built.status, 0, built.stderr);
    assert.equal(readFileSync(join(site, 'consent.js'), 'utf8'), '// the banner');
    const before = tree(site);
    assert.ok(before.every(([name]) => !name.startsWith('.')), 'no staging left behind');
    // A banner that cannot be read (a file named as the dist): nothing, in a new directory
    // or in the earlier build.
    const notADir = join(dir, 'not-a-dir');
    writeFileSync(notADir, 'x');
    const fresh = join(dir, 'fresh');
    const failed = build(fresh, notADir);
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stderr, /not-a-dir/);
    assert.equal(existsSync(fresh), false, 'half a build');
    assert.equal(build(site, notADir).status, 1);
    assert.deepEqual(tree(site), before);
    // A directory where a compiled file goes: refused before anything is replaced.
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'texts-sv.json'), { recursive: true });
    writeFileSync(join(blocked, 'policy.bin'), 'CPOL older');
    const refused = build(blocked, site);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /texts-sv\.json/);
    assert.deepEqual(tree(blocked), [['policy.bin', 'CPOL older'], ['texts-sv.json', '/']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a build never writes over its own config, nor takes or removes a staging directory it did not make', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'consent-node-build-'));
  // In this process, so that its pid is known: a killed build's staging directory of the
  // same name (in a container every build is pid 1) stays as it was.
  const { compile } = await import(command);
  try {
    const out = join(dir, 'out');
    const leftover = join(out, `.consent-build-${process.pid}`);
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'theirs'), 'a build in progress');
    compile(example, out, { dist: null });
    assert.equal(readFileSync(join(leftover, 'theirs'), 'utf8'), 'a build in progress');
    assert.ok(existsSync(join(out, 'policy.bin')));
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.')), [`.consent-build-${process.pid}`]);
    // The config kept in the output directory under one of the build's names: refused, kept.
    const site = join(dir, 'site');
    mkdirSync(site);
    const config = join(site, 'texts-en.json');
    writeFileSync(config, readFileSync(example));
    assert.throws(() => compile(config, site, { dist: null }), /texts-en\.json: it is the config being built/);
    assert.deepEqual(readFileSync(config), readFileSync(example));
    assert.deepEqual(readdirSync(site), ['texts-en.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file far larger than any config is refused without being read whole, as by the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consent-node-build-'));
  try {
    const plain = readFileSync(example, 'utf8');
    const big = join(dir, 'big.json');
    writeFileSync(big, `${plain.slice(0, plain.lastIndexOf('}'))}${' '.repeat(50 << 20)}}`);
    const configs = [big];
    if (process.platform === 'linux') configs.push('/dev/zero');
    for (const config of configs) {
      const node = spawnSync(process.execPath, [command, config, join(dir, 'out')], { encoding: 'utf8' });
      assert.equal(node.status, 1, node.stderr);
      assert.ok(node.stderr.includes(config) && node.stderr.includes('larger than'), node.stderr);
      const cli = spawnSync(bin, ['validate', config], { encoding: 'utf8' });
      assert.equal(node.stderr.trim(), cli.stderr.trim().replace(/^error: /, ''), 'the same words as consent validate');
    }
    assert.equal(existsSync(join(dir, 'out')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
