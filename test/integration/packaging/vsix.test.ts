// npm run package as the release workflow runs it: the platform VSIX for this machine
// (linux-x64 here), the universal one (no native addon: the node:sqlite fallback) and the
// untargeted one `npm start` installs, each opened as the zip it is and checked entry by entry.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PLATFORM_TARGETS } from '../../../scripts/lib/nativeBinary';
import { REPO, tempDir } from '../../support/helpers';
import { ZipFile } from './zipReader';

const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
const HOST = `${process.platform}-${process.arch}`;
const NATIVE = 'extension/node_modules/@vscode/sqlite3/build/Release/vscode-sqlite3.node';
const BUNDLES = ['extension', 'server', 'lint', 'cli', 'writer', 'explorer'].map((b) => `extension/dist/${b}.js`);
const DOCS = ['extension/readme.md', 'extension/changelog.md', 'extension/LICENSE.txt', 'extension/package.json', 'extension.vsixmanifest'];

function packageVsix(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npm', ['run', '--silent', 'package', '--', ...args], { cwd: REPO, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function build(args: string[], file: string): ZipFile {
  const r = packageVsix(args);
  assert.equal(r.status, 0, `npm run package -- ${args.join(' ')}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.ok(fs.existsSync(file), `${file} not written`);
  return new ZipFile(fs.readFileSync(file));
}

/** What every VSIX must hold and must never hold, whatever its target. */
function assertCommonContents(vsix: ZipFile): void {
  const names = vsix.names;
  for (const want of [...BUNDLES, ...DOCS, 'extension/media/icon.png', 'extension/media/tracedb.svg']) assert.ok(names.includes(want), `${want} missing`);
  // Every webview bundle and stylesheet the repo has (a webview added later is covered too).
  for (const f of fs.readdirSync(path.join(REPO, 'dist')).filter((f) => /\.(js|css)$/.test(f)))
    assert.ok(names.includes(`extension/dist/${f}`), `dist/${f} missing`);
  for (const f of fs.readdirSync(path.join(REPO, 'media')).filter((f) => f.endsWith('.css')))
    assert.ok(names.includes(`extension/media/${f}`), `media/${f} missing`);

  const forbidden = names.filter(
    (n) =>
      n.endsWith('.map') ||
      n.endsWith('.ts') ||
      /^extension\/(src|test|webview|scripts|bench|docs|\.tools|\.demo|\.e2e|\.bench-cache|\.github)\//.test(n) ||
      n.includes('/.tools/') ||
      n.startsWith('extension/dist/test/') ||
      (n.startsWith('extension/node_modules/') && !n.startsWith('extension/node_modules/@vscode/sqlite3/')),
  );
  assert.deepEqual(forbidden, []);
  // The production build: no closing source map comment pointing at a file that is not there.
  for (const b of BUNDLES) assert.doesNotMatch(vsix.read(b)!.toString('utf8'), /\/\/# sourceMappingURL=\S*\s*$/, b);

  const icon = vsix.read('extension/media/icon.png')!;
  assert.equal(icon.subarray(1, 4).toString('latin1'), 'PNG');
  assert.deepEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [128, 128], 'icon is 128×128');
  const manifest = JSON.parse(vsix.read('extension/package.json')!.toString('utf8')) as { icon: string; version: string };
  assert.equal(manifest.icon, 'media/icon.png');
  assert.equal(manifest.version, version);
  assert.match(vsix.read('extension.vsixmanifest')!.toString('utf8'), /<Icon>extension\/media\/icon\.png<\/Icon>/);
  // The Marketplace shows the README from the VSIX: vsce made its relative links absolute.
  const readme = vsix.read('extension/readme.md')!.toString('utf8');
  assert.match(readme, /\]\(https:\/\/github\.com\/traceforge\/tracedb-doctor\/blob\/HEAD\/docs\/DESIGN\.md\)/);
  assert.doesNotMatch(readme, /\]\((?!https?:|#|mailto:)[^)]+\)/, 'a relative link left in the packaged README');
}

describe('npm run package: the VSIXs', function () {
  this.timeout(600_000);
  const out = tempDir('tracedb-vsix-');
  const sizes: Record<string, number> = {};

  after(() => {
    for (const [t, n] of Object.entries(sizes)) process.stdout.write(`      ${t}: ${(n / 1024 / 1024).toFixed(2)} MiB\n`);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it(`--target ${HOST}: the native addon built for it, TargetPlatform="${HOST}"`, function () {
    if (!(PLATFORM_TARGETS as readonly string[]).includes(HOST)) this.skip();
    const file = path.join(out, `tracedb-doctor-${version}-${HOST}.vsix`);
    const vsix = build(['--target', HOST, '--out', out], file);
    sizes[HOST] = fs.statSync(file).size;
    assertCommonContents(vsix);
    assert.ok(vsix.names.includes(NATIVE), 'the native addon is missing');
    for (const js of ['package.json', 'lib/sqlite3.js', 'lib/sqlite3-binding.js'])
      assert.ok(vsix.names.includes(`extension/node_modules/@vscode/sqlite3/${js}`), js);
    const native = vsix.read(NATIVE)!;
    assert.ok(
      native.equals(fs.readFileSync(path.join(REPO, 'node_modules/@vscode/sqlite3/build/Release/vscode-sqlite3.node'))),
      'not the addon in node_modules',
    );
    assert.match(vsix.read('extension.vsixmanifest')!.toString('utf8'), new RegExp(`<Identity [^>]*TargetPlatform="${HOST}"`));
  });

  it('--target universal: no native addon, no TargetPlatform', () => {
    const file = path.join(out, `tracedb-doctor-${version}-universal.vsix`);
    const vsix = build(['--target', 'universal', '--out', out], file);
    sizes.universal = fs.statSync(file).size;
    assertCommonContents(vsix);
    assert.deepEqual(
      vsix.names.filter((n) => n.startsWith('extension/node_modules/') || n.endsWith('.node')),
      [],
    );
    assert.doesNotMatch(vsix.read('extension.vsixmanifest')!.toString('utf8'), /TargetPlatform/);
  });

  it('no --target: the untargeted VSIX npm start installs, with this machine’s addon (--out FILE.vsix)', () => {
    const file = path.join(out, 'dev.vsix');
    const vsix = build(['--out', file], file);
    assertCommonContents(vsix);
    assert.ok(vsix.names.includes(NATIVE));
    assert.doesNotMatch(vsix.read('extension.vsixmanifest')!.toString('utf8'), /TargetPlatform/);
  });

  it('refuses a platform whose addon is not in node_modules, before building anything', () => {
    const other = PLATFORM_TARGETS.find((t) => t !== HOST)!;
    const r = packageVsix(['--target', other, '--out', out]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `vscode-sqlite3\\.node was built for ${HOST} \\(\\w+\\), not ${other}; build @vscode/sqlite3 on a ${other} runner: npm rebuild @vscode/sqlite3`,
      ),
    );
    assert.ok(!fs.existsSync(path.join(out, `tracedb-doctor-${version}-${other}.vsix`)));
  });

  it('refuses an unknown target or argument', () => {
    for (const args of [
      ['--target', 'linux-armhf'],
      ['--platform', 'linux-x64'],
    ]) {
      const r = packageVsix(args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /^package: (unknown target "linux-armhf": one of linux-x64, .*universal|unknown argument --platform)/m);
    }
  });
});
