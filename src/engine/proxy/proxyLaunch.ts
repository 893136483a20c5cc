// Which command restarts the proxy, read from its package.json rather than assumed
// (TRACEFORGE.md § What the proxy's processes look like): the runbook's
// `pnpm --filter @traceforge/proxy start` runs `node dist/index.js`, which fails with
// ERR_MODULE_NOT_FOUND until the package is built; `dev` (tsx watch) runs the source.
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseEnviron, PROXY_LOG_RELATIVE, PROXY_PACKAGE_DIR } from './discover';
import type { ProxyLaunch } from '../../shared/proxyModel';

export interface ProxyLaunchOptions {
  /** tracedb.proxy.startCommand: used as it is when set. */
  custom?: string;
  /** Keep the proxy's stdout in `<proxyDir>/logs/proxy.log` (it logs nowhere else). */
  keepLog?: boolean;
  platform?: NodeJS.Platform;
}

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
}

function readPackage(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

function exists(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false }) !== undefined;
}

/** The package manager the repository uses, from its lock file. */
export function packageManagerOf(root: string): 'pnpm' | 'yarn' | 'npm' {
  if (exists(path.join(root, 'pnpm-lock.yaml')) || exists(path.join(root, 'pnpm-workspace.yaml'))) return 'pnpm';
  if (exists(path.join(root, 'yarn.lock'))) return 'yarn';
  return 'npm';
}

/** The file a `node <file>` script runs, when the script is that simple. */
export function nodeEntryOf(script: string): string | undefined {
  const m = /^\s*node\s+(?:--\S+\s+)*([^\s&|;]+\.(?:c|m)?js)\b/.exec(script);
  return m?.[1];
}

function quote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/**
 * The restart command for the proxy that runs in `proxyDir`, inside repository `root`.
 * `start` when what it runs exists; otherwise `dev` when the package has it; otherwise
 * build, then start. The setting wins when set.
 */
export function proxyLaunch(root: string, proxyDir: string, opts: ProxyLaunchOptions = {}): ProxyLaunch {
  const platform = opts.platform ?? process.platform;
  const keepLog = (opts.keepLog ?? true) && platform !== 'win32';
  const logPath = path.join(proxyDir, PROXY_LOG_RELATIVE);
  const withLog = (cmd: string) => (keepLog ? `mkdir -p ${quote(path.dirname(logPath))} && { ${cmd}; } 2>&1 | tee -a ${quote(logPath)}` : cmd);
  const logNote = keepLog ? ` Its output is kept in ${path.relative(root, logPath) || logPath}.` : '';

  if (opts.custom?.trim()) {
    return {
      command: withLog(opts.custom.trim()),
      cwd: root,
      reason: `tracedb.proxy.startCommand: ${opts.custom.trim()}.${logNote}`,
      script: 'custom',
      ...(keepLog ? { logPath } : {}),
    };
  }
  const pkg = readPackage(proxyDir) ?? readPackage(path.join(root, PROXY_PACKAGE_DIR));
  const pkgDir = readPackage(proxyDir) ? proxyDir : path.join(root, PROXY_PACKAGE_DIR);
  const scripts = pkg?.scripts ?? {};
  if (!pkg || (!scripts.start && !scripts.dev)) {
    return {
      command: '',
      cwd: root,
      reason: `No package.json with a start or dev script in ${path.relative(root, pkgDir) || '.'}: set tracedb.proxy.startCommand to the command that starts the proxy.`,
      script: 'none',
    };
  }
  const pm = packageManagerOf(root);
  const inWorkspace = path.resolve(pkgDir) !== path.resolve(root) && !!pkg.name;
  const run = (script: string) => {
    if (!inWorkspace) return pm === 'npm' ? `npm run ${script}` : `${pm} ${script}`;
    if (pm === 'pnpm') return `pnpm --filter ${pkg.name} ${script}`;
    if (pm === 'yarn') return `yarn workspace ${pkg.name} ${script}`;
    return `npm run ${script} -w ${quote(path.relative(root, pkgDir))}`;
  };
  const entry = scripts.start ? nodeEntryOf(scripts.start) : undefined;
  const startReady = scripts.start && (!entry || exists(path.resolve(pkgDir, entry)));
  const base = { cwd: root, ...(keepLog ? { logPath } : {}) };
  if (startReady) {
    return { ...base, command: withLog(run('start')), reason: `"start" (${scripts.start}).${logNote}`, script: 'start' };
  }
  const missing = entry ? `${entry} is not built yet` : 'there is no start script';
  if (scripts.dev) {
    return { ...base, command: withLog(run('dev')), reason: `"dev" (${scripts.dev}): "start" would fail because ${missing}.${logNote}`, script: 'dev' };
  }
  if (scripts.build && scripts.start) {
    return { ...base, command: withLog(`${run('build')} && ${run('start')}`), reason: `"build" then "start": ${missing}.${logNote}`, script: 'build+start' };
  }
  return { ...base, command: withLog(run('start')), reason: `"start" (${scripts.start}), although ${missing}.${logNote}`, script: 'start' };
}

/** What a restarted proxy must keep from the running one's environment (which backend, which DB, which port). */
const KEPT_ENV = /^(TRACEFORGE_\w+|NODE_ENV|PORT|HOST|LOG_LEVEL)$/;

/**
 * The settings a running proxy was started with: without TRACEFORGE_STORAGE_BACKEND=sqlite
 * a restarted proxy would write JSON files instead of the database, and without
 * TRACEFORGE_SQLITE_PATH another database. Empty when the environment cannot be read.
 */
export function proxyEnvOf(pid: number, procRoot = '/proc'): Record<string, string> {
  const out: Record<string, string> = {};
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/environ`, 'utf8');
  } catch {
    return out;
  }
  for (const [key, value] of parseEnviron(text)) if (KEPT_ENV.test(key)) out[key] = value;
  return out;
}
