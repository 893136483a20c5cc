// Finds the trace database the way the proxy does (TRACEFORGE.md § Where the database is).
//
// The proxy opens TRACEFORGE_SQLITE_PATH, else `.ai-tests/traces.db` relative to its
// working directory; `pnpm --filter @traceforge/proxy dev` runs in packages/proxy, so the
// usual file is packages/proxy/.ai-tests/traces.db, not the one at the repository root.
// Both can exist. A running proxy settles it: the file it has open is the one that
// matters. Everything here reads the file system and /proc only; no SQLite.
import { promises as fsp, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { classifyHolder } from '../locks/processNames';
import { proxyDirOf } from '../locks/proxyPort';
import type { CandidateSource, DbCandidate } from '../../shared/proxyModel';

export interface DiscoverOptions {
  /** Where procfs is mounted; tests point it elsewhere. */
  procRoot?: string;
  /** Budget for the folder walk, in ms. */
  maxMs?: number;
  /** Folder levels below the root the walk descends. */
  maxDepth?: number;
}

export const DB_RELATIVE = path.join('.ai-tests', 'traces.db');
export const PROXY_PACKAGE_DIR = path.join('packages', 'proxy');
/** Where Restart Proxy tees the proxy's output (the proxy itself only writes to stdout). */
export const PROXY_LOG_RELATIVE = path.join('logs', 'proxy.log');
const LOG_NAMES = [PROXY_LOG_RELATIVE, path.join('logs', 'error.log')];
const ENV_FILES = ['.env', '.env.local'];
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'out', '.next', '.turbo', 'coverage', '.cache', '.bench-cache', '.tools']);
const SOURCE_RANK: Record<CandidateSource, number> = { 'proxy-open': 0, env: 1, 'proxy-dir': 2, root: 3, found: 4 };

/** The folder the proxy runs in, for a DB at `<dir>/.ai-tests/<name>`; else the DB's own folder. */
export function proxyFolderOf(dbPath: string): string {
  return proxyDirOf(dbPath) ?? path.dirname(dbPath);
}

/**
 * The proxy's log for a DB: `<proxyDir>/logs/proxy.log` (Restart Proxy's tee) or
 * `logs/error.log` (the runbook's redirect), the most recently written one. When neither
 * exists, the proxy logs to stdout and the answer is where Restart Proxy will keep it.
 */
export function logPathFor(dbPath: string): { logPath: string; logExists: boolean } {
  const dir = proxyFolderOf(dbPath);
  const places = [dir];
  // A DB at the repository root still belongs to packages/proxy's log when that package is there.
  const nested = path.join(dir, PROXY_PACKAGE_DIR);
  if (isDir(nested)) places.push(nested);
  let best: { logPath: string; mtime: number } | undefined;
  for (const p of places) {
    for (const name of LOG_NAMES) {
      const file = path.join(p, name);
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile() && (!best || st.mtimeMs > best.mtime)) best = { logPath: file, mtime: st.mtimeMs };
    }
  }
  return best ? { logPath: best.logPath, logExists: true } : { logPath: path.join(dir, PROXY_LOG_RELATIVE), logExists: false };
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

function isFile(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() === true;
}

/** The real path, as SQLite and /proc name the file; for a missing file, of its folder. */
function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    try {
      return path.join(realpathSync(path.dirname(p)), path.basename(p));
    } catch {
      return p;
    }
  }
}

/** `KEY=value` lines of a dotenv file (quotes stripped, comments skipped). */
export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|(.*?))\s*(?:#.*)?$/.exec(raw);
    if (m) out.set(m[1], m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** NUL-separated `KEY=value` pairs of /proc/PID/environ. */
export function parseEnviron(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of text.split('\0')) {
    const i = pair.indexOf('=');
    if (i > 0) out.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return out;
}

interface ProxyProcess {
  pid: number;
  cwd: string;
  env: Map<string, string>;
  /** Absolute paths of `*.db` files it has open. */
  openDbs: string[];
}

/** Running proxy processes whose cwd lies inside `root`; one pass over /proc, bounded by time. */
async function runningProxies(root: string, procRoot: string, deadline: number): Promise<ProxyProcess[]> {
  let names: string[];
  try {
    names = await fsp.readdir(procRoot);
  } catch {
    return [];
  }
  const realRoot = realOr(root);
  const out: ProxyProcess[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name) || performance.now() > deadline) continue;
    const base = `${procRoot}/${name}`;
    let argv: string[];
    let cwd: string;
    try {
      argv = readFileSync(`${base}/cmdline`, 'utf8')
        .split('\0')
        .filter((s) => s.length > 0);
      if (!argv.length || !/node|bun|tsx/.test(argv[0])) continue;
      cwd = readlinkSync(`${base}/cwd`);
    } catch {
      continue;
    }
    if (!(cwd === realRoot || cwd.startsWith(realRoot + path.sep))) continue;
    if (classifyHolder(Number(name), argv, process.pid, cwd).kind !== 'proxy') continue;
    let env = new Map<string, string>();
    try {
      env = parseEnviron(readFileSync(`${base}/environ`, 'utf8'));
    } catch {
      // Another user's process: its environment is private; its cwd still tells.
    }
    const openDbs: string[] = [];
    try {
      for (const fd of readdirSync(`${base}/fd`)) {
        try {
          const link = readlinkSync(`${base}/fd/${fd}`);
          if (/\.(db|sqlite3?)$/.test(link)) openDbs.push(link);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // no access to its fds
    }
    out.push({ pid: Number(name), cwd, env, openDbs });
  }
  return out;
}

/** `**\/.ai-tests/traces.db` below root, outside node_modules and build output, within a budget. */
async function walkForDbs(root: string, maxDepth: number, deadline: number): Promise<string[]> {
  const found: string[] = [];
  const queue: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
  while (queue.length && performance.now() < deadline) {
    const { dir, depth } = queue.shift()!;
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === '.ai-tests') {
        const db = path.join(p, 'traces.db');
        if (isFile(db)) found.push(db);
        continue;
      }
      if (SKIP_DIRS.has(e.name) || depth + 1 > maxDepth) continue;
      queue.push({ dir: p, depth: depth + 1 });
    }
  }
  return found;
}

/** TRACEFORGE_SQLITE_PATH from the proxy package's and the root's dotenv files. */
function envFromDotenv(root: string): { value: string; base: string }[] {
  const out: { value: string; base: string }[] = [];
  for (const dir of [path.join(root, PROXY_PACKAGE_DIR), root]) {
    for (const f of ENV_FILES) {
      let text: string;
      try {
        text = readFileSync(path.join(dir, f), 'utf8');
      } catch {
        continue;
      }
      const v = parseDotenv(text).get('TRACEFORGE_SQLITE_PATH');
      // The proxy resolves it against its own cwd: packages/proxy when that package exists.
      if (v) out.push({ value: v, base: isDir(path.join(root, PROXY_PACKAGE_DIR)) ? path.join(root, PROXY_PACKAGE_DIR) : root });
    }
  }
  return out;
}

/**
 * Every trace DB the proxy in `root` may be using, best first: the file a running proxy
 * has open, TRACEFORGE_SQLITE_PATH (from the proxy's environment or a .env file),
 * packages/proxy/.ai-tests/traces.db, the root's .ai-tests/traces.db, then any other
 * `.ai-tests/traces.db` below root. The usual places are listed even when missing (the
 * proxy creates its DB on its first trace); `exists` says which are there.
 */
export async function discoverDatabases(root: string, opts: DiscoverOptions = {}): Promise<DbCandidate[]> {
  root = path.resolve(root);
  const deadline = performance.now() + (opts.maxMs ?? 1500);
  const byReal = new Map<string, { dbPath: string; source: CandidateSource; openByProxy: number[] }>();
  const add = (dbPath: string, source: CandidateSource, pid?: number) => {
    const abs = path.resolve(dbPath);
    const key = realOr(abs);
    const cur = byReal.get(key);
    if (!cur) byReal.set(key, { dbPath: abs, source, openByProxy: pid === undefined ? [] : [pid] });
    else {
      if (SOURCE_RANK[source] < SOURCE_RANK[cur.source]) cur.source = source;
      if (pid !== undefined && !cur.openByProxy.includes(pid)) cur.openByProxy.push(pid);
    }
  };

  const proxies = await runningProxies(root, opts.procRoot ?? '/proc', deadline);
  for (const p of proxies) {
    const envPath = p.env.get('TRACEFORGE_SQLITE_PATH');
    const expected = envPath ? path.resolve(p.cwd, envPath) : path.join(p.cwd, DB_RELATIVE);
    for (const open of p.openDbs) if (!/-(wal|shm|journal)$/.test(open)) add(open, 'proxy-open', p.pid);
    add(expected, envPath ? 'env' : 'proxy-dir');
  }
  for (const e of envFromDotenv(root)) add(path.resolve(e.base, e.value), 'env');
  add(path.join(root, PROXY_PACKAGE_DIR, DB_RELATIVE), 'proxy-dir');
  add(path.join(root, DB_RELATIVE), 'root');
  for (const db of await walkForDbs(root, opts.maxDepth ?? 6, deadline)) add(db, 'found');

  const out: DbCandidate[] = [];
  for (const c of byReal.values()) {
    const exists = isFile(c.dbPath);
    // packages/proxy's DB is a candidate only where that package exists; a made-up path helps nobody.
    if (!exists && c.source === 'proxy-dir' && !isDir(path.dirname(path.dirname(c.dbPath)))) continue;
    out.push({ ...c, exists, proxyDir: proxyFolderOf(c.dbPath), ...logPathFor(c.dbPath) });
  }
  return out.sort(
    (a, b) =>
      Number(b.openByProxy.length > 0) - Number(a.openByProxy.length > 0) ||
      Number(b.exists) - Number(a.exists) ||
      SOURCE_RANK[a.source] - SOURCE_RANK[b.source] ||
      a.dbPath.localeCompare(b.dbPath),
  );
}
