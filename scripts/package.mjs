// npm run package [-- --target <t>] [--out DIR|FILE.vsix]
//
// Builds the production bundles, then a VSIX with vsce:
//   --target linux-x64 | linux-arm64 | darwin-x64 | darwin-arm64 | win32-x64
//       a platform VSIX (TargetPlatform in its manifest) carrying @vscode/sqlite3's native
//       addon, refused unless node_modules holds one built for that platform: vsce would pack a
//       foreign binary without a word, and that platform's users would never get the native engine.
//   --target universal
//       no native addon at all: the engine falls back to node:sqlite (slower), for every other platform.
//   (no --target)
//       tracedb-doctor.vsix, untargeted, with this machine's addon: what `npm start`, the e2e
//       suite and the benches install into code-server here.
// Platform and universal VSIXs are named tracedb-doctor-<version>-<target>.vsix (in the repo root
// unless --out says otherwise). Runs as `node --import tsx` so it can share scripts/lib/nativeBinary.ts
// with the unit tests.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEADER_BYTES, PLATFORM_TARGETS, nativeMismatch } from './lib/nativeBinary.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE = path.join('node_modules', '@vscode', 'sqlite3', 'build', 'Release', 'vscode-sqlite3.node');
const NATIVE_IGNORE_LINE = /^!node_modules\/@vscode\/sqlite3\//;
const TARGETS = [...PLATFORM_TARGETS, 'universal'];

class PackageError extends Error {}

function parseArgs(argv) {
  const opts = { target: undefined, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag !== '--target' && flag !== '--out')
      throw new PackageError(`unknown argument ${argv[i]} (usage: npm run package -- [--target <t>] [--out DIR|FILE.vsix])`);
    const value = inline ?? argv[++i];
    if (!value) throw new PackageError(`${flag} needs a value`);
    opts[flag.slice(2)] = value;
  }
  if (opts.target !== undefined && !TARGETS.includes(opts.target)) throw new PackageError(`unknown target "${opts.target}": one of ${TARGETS.join(', ')}`);
  return opts;
}

function run(command, args) {
  const r = spawnSync(command, args, { cwd: REPO, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new PackageError(`${path.basename(args[0] ?? command)} ${args.slice(1).join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** vsce's own entry point, run with this node: no shell and no .cmd shim, so the same on Windows. */
function vsceBin() {
  const require = createRequire(path.join(REPO, 'package.json'));
  const manifest = require.resolve('@vscode/vsce/package.json');
  const { bin } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin.vsce);
}

/** The file to write: FILE.vsix as given, or the default name inside DIR (the repo root by default). */
function outputFile(out, defaultName) {
  const file = out?.endsWith('.vsix') ? path.resolve(out) : path.join(out ? path.resolve(out) : REPO, defaultName);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

function checkNative(target) {
  const file = path.join(REPO, NATIVE);
  if (!fs.existsSync(file)) throw new PackageError(`${NATIVE} is missing; build @vscode/sqlite3 on a ${target} runner: npm rebuild @vscode/sqlite3`);
  const fd = fs.openSync(file, 'r');
  const header = Buffer.alloc(HEADER_BYTES);
  const n = fs.readSync(fd, header, 0, HEADER_BYTES, 0);
  fs.closeSync(fd);
  const problem = nativeMismatch(target, header.subarray(0, n), NATIVE);
  if (problem) throw new PackageError(problem);
}

/** .vscodeignore without the lines that let @vscode/sqlite3 in, written to a temporary file. */
function universalIgnoreFile(tmp) {
  const lines = fs.readFileSync(path.join(REPO, '.vscodeignore'), 'utf8').split(/\r?\n/);
  const file = path.join(tmp, '.vscodeignore-universal');
  fs.writeFileSync(file, lines.filter((l) => !NATIVE_IGNORE_LINE.test(l.trim())).join('\n'));
  return file;
}

/**
 * dist/'s shipped files and a digest of each, as vsce is about to read them; undefined when one
 * of them is a development build (it ends with a source map comment: production builds have none).
 */
function distDigest() {
  const dir = path.join(REPO, 'dist');
  const lines = [];
  const shipped = fs.readdirSync(dir).filter((n) => /\.(js|css)$/.test(n));
  for (const f of shipped.sort()) {
    const content = fs.readFileSync(path.join(dir, f));
    if (f.endsWith('.js') && /\/\/# sourceMappingURL=\S*\s*$/.test(content.subarray(-300).toString('latin1'))) return undefined;
    lines.push(`${f}:${createHash('sha256').update(content).digest('hex')}`);
  }
  return lines.join('\n');
}

/**
 * Builds and packs; true when dist/ held this production build before and after vsce read it.
 * Another build in the same folder (`npm run watch`, a test run's development build) can rewrite
 * dist/ meanwhile, and vsce would ship its unminified bundles without a word.
 */
function buildAndPack(vsceArgs) {
  run(process.execPath, [path.join(REPO, 'esbuild.mjs'), '--production']);
  const built = distDigest();
  if (built === undefined) return false;
  try {
    run(process.execPath, vsceArgs);
  } catch (e) {
    // A file rewritten under vsce can fail it too; only then is another try worth it.
    if (distDigest() === built) throw e;
    return false;
  }
  return distDigest() === built;
}

const ATTEMPTS = 3;

function main() {
  const { target, out } = parseArgs(process.argv.slice(2));
  const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  if (target && target !== 'universal') checkNative(target);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-package-'));
  try {
    let file;
    const args = [vsceBin(), 'package'];
    if (!target) file = outputFile(out, 'tracedb-doctor.vsix');
    else {
      file = outputFile(out, `tracedb-doctor-${version}-${target}.vsix`);
      if (target === 'universal') args.push('--ignoreFile', universalIgnoreFile(tmp));
      else args.push('--target', target);
    }
    args.push('--out', file);
    for (let attempt = 1; !buildAndPack(args); attempt++) {
      if (attempt === ATTEMPTS) {
        fs.rmSync(file, { force: true });
        throw new PackageError(
          `dist/ kept changing while packaging (${ATTEMPTS} tries): stop other builds in this folder (npm run watch, a test run) and package again`,
        );
      }
      process.stderr.write('package: dist/ changed while vsce read it (another build in this folder); packaging again\n');
    }
    const kib = (fs.statSync(file).size / 1024).toFixed(0);
    const shown = path.relative(process.cwd(), file);
    process.stdout.write(`${shown.startsWith('..') ? file : shown}: ${target ?? 'untargeted, with this machine’s native addon'}, ${kib} KiB\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`package: ${e instanceof PackageError ? e.message : (e?.stack ?? e)}\n`);
  process.exitCode = 1;
}
