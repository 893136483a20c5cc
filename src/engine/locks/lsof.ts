// Who has the database open where there is no /proc/locks (macOS, the BSDs): lsof
// shows who has the files open, but not which SQLite lock they hold.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { execRunner, type CommandRunner } from './commandRunner';
import { ROLE_ORDER, type TrackedFile } from './openFiles';
import { classifyHolder } from './processNames';
import { proxyPortFor } from './proxyPort';
import type { DbFileRole, Holder, LockSample } from '../../shared/model';

export const LSOF_TIMEOUT_MS = 10_000;

/** lsof -F output: `p` starts a process, `c` its command, `n` a file name (`f`, the descriptor, is skipped). */
export function parseLsof(text: string): { pid: number; command: string; names: string[] }[] {
  const out: { pid: number; command: string; names: string[] }[] = [];
  let cur: { pid: number; command: string; names: string[] } | undefined;
  for (const line of text.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') {
      cur = { pid: Number(value), command: '', names: [] };
      out.push(cur);
    } else if (cur && tag === 'c') cur.command = value;
    else if (cur && tag === 'n') cur.names.push(value);
  }
  return out;
}

/**
 * One `n` field as a file: Linux's lsof marks a file removed while open ` (deleted)`.
 * Such a file is no longer the database, whatever its old name: /proc/PID/fd links of
 * that kind never match either (openFiles.ts).
 */
export function lsofFileName(name: string): { path: string; deleted: boolean } {
  const m = /^(.*) \(deleted\)$/.exec(name);
  return m ? { path: m[1], deleted: true } : { path: name, deleted: false };
}

/** Longest run of words joined back into one path with spaces. */
const MAX_PATH_WORDS = 8;

/**
 * A process's argv from ps, which joins it with spaces. Where the executable's path has
 * spaces of its own (`/Applications/DB Browser for SQLite.app/…`), `comm` (the full path
 * on macOS) says where argv[0] ends. Later words that are pieces of one existing path
 * (`/Users/dev/My Projects/…`) are joined back when `exists` finds the whole; elsewhere
 * the words are the best there is.
 */
export function argvFromPs(args: string, comm?: string, cwd?: string, exists: (p: string) => boolean = existsSync): string[] {
  const c = comm?.trim();
  const head = c && c.includes(' ') && (args === c || args.startsWith(`${c} `)) ? c : undefined;
  const words = (head ? args.slice(head.length) : args).split(' ').filter((w) => w.length > 0);
  const argv = head ? [head] : [];
  const where = (w: string) => (path.isAbsolute(w) || !cwd ? w : path.resolve(cwd, w));
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (w.includes('/') && !exists(where(w))) {
      for (let j = i + 1; j < words.length && j - i < MAX_PATH_WORDS; j++) {
        const joined = words.slice(i, j + 1).join(' ');
        if (exists(where(joined))) {
          w = joined;
          i = j;
          break;
        }
      }
    }
    argv.push(w);
  }
  return argv;
}

/** `ps -o pid=,X=` lines as PID → X. */
export function parsePsColumn(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s(.*)$/.exec(line);
    if (m) out.set(Number(m[1]), m[2].replace(/^\s+/, ''));
  }
  return out;
}

export interface LsofSampleOptions {
  lsofPath: string;
  runner?: CommandRunner;
  /** What the report says this method cannot see (lockViewPlan.ts). */
  note: string;
  /** Said instead when lsof turns out not to run at all. */
  missingNote: string;
  /** The database as given and as resolved: where the proxy's config.yaml (its port) is looked for. */
  dbPaths: readonly string[];
  proxyPort?: number;
  selfPid?: number;
  /** Whether a path exists, to join back argv words split at a path's spaces; default: this file system. */
  exists?: (p: string) => boolean;
}

/** Full command lines from ps (lsof only gives the truncated process name), with `comm` to find argv[0]. */
async function psCommands(run: CommandRunner, pids: readonly number[]): Promise<Map<number, { args: string; comm?: string }>> {
  if (!pids.length) return new Map();
  const list = pids.join(',');
  const [args, comms] = await Promise.all(
    ['args', 'comm'].map(async (col) => parsePsColumn((await run('ps', ['-o', `pid=,${col}=`, '-p', list], { timeoutMs: LSOF_TIMEOUT_MS })).stdout)),
  );
  return new Map([...args].map(([pid, a]) => [pid, { args: a, comm: comms.get(pid) }]));
}

/** Working folders from lsof: `node dist/index.js` is the proxy only in packages/proxy. */
async function lsofCwds(run: CommandRunner, lsofPath: string, pids: readonly number[]): Promise<Map<number, string>> {
  if (!pids.length) return new Map();
  const { stdout } = await run(lsofPath, ['-w', '-a', '-d', 'cwd', '-F', 'pn', '-p', pids.join(',')], { timeoutMs: LSOF_TIMEOUT_MS });
  return new Map(parseLsof(stdout).flatMap((p) => (p.names[0] ? [[p.pid, p.names[0]] as const] : [])));
}

/** Which of `pids` listen on TCP `port` (the proxy's), asked of lsof for those processes only. */
async function lsofListeners(run: CommandRunner, lsofPath: string, pids: readonly number[], port: number): Promise<Set<number>> {
  const { stdout } = await run(lsofPath, ['-w', '-nP', '-a', '-p', pids.join(','), `-iTCP:${port}`, '-sTCP:LISTEN', '-F', 'p'], { timeoutMs: LSOF_TIMEOUT_MS });
  return new Set(parseLsof(stdout).map((p) => p.pid));
}

/** The role of one name lsof printed; lsof was asked about these files only, but may spell them otherwise (/private/tmp). */
function roleOf(name: string, files: readonly TrackedFile[]): DbFileRole {
  const exact = files.find((e) => e.path === name);
  if (exact) return exact.role;
  const base = path.basename(name);
  return files.find((e) => path.basename(e.path) === base)?.role ?? 'db';
}

export async function sampleFromLsof(files: readonly TrackedFile[], takenAt: number, opts: LsofSampleOptions): Promise<LockSample> {
  const run = opts.runner ?? execRunner;
  const selfPid = opts.selfPid ?? process.pid;
  const existing = files.filter((f) => f.st);
  // -w: lsof's warnings (a stale NFS mount, a FUSE file system) go to stderr, never into the answer.
  const res = await run(opts.lsofPath, ['-w', '-F', 'pcn', '--', ...existing.map((f) => f.path)], { timeoutMs: LSOF_TIMEOUT_MS });
  if (res.missing) return { takenAt, source: 'none', locks: [], holders: [], note: opts.missingNote };
  // lsof exits 1 when a file is open nowhere, or one of them vanished (a -journal between
  // two commits): an answer, not a failure. Its stderr says which; stdout is the rest.
  const procs = parseLsof(res.stdout)
    .filter((p) => p.pid > 0)
    .map((p) => ({ ...p, names: p.names.map(lsofFileName).filter((n) => !n.deleted) }))
    .filter((p) => p.names.length > 0);
  const pids = [...new Set(procs.map((p) => p.pid))];
  const [ps, cwds] = await Promise.all([psCommands(run, pids), lsofCwds(run, opts.lsofPath, pids)]);
  const argvOf = new Map(
    pids.map((pid) => {
      const p = ps.get(pid);
      return [pid, p ? argvFromPs(p.args, p.comm, cwds.get(pid), opts.exists) : undefined] as const;
    }),
  );
  const byPid = new Map<number, Holder>();
  for (const p of procs) {
    const roles = new Set<DbFileRole>(p.names.map((n) => roleOf(n.path, existing)));
    for (const r of byPid.get(p.pid)?.files ?? []) roles.add(r);
    byPid.set(p.pid, {
      pid: p.pid,
      command: ps.get(p.pid)?.args ?? p.command,
      ...classifyHolder(p.pid, argvOf.get(p.pid) ?? [p.command], selfPid, cwds.get(p.pid)),
      files: ROLE_ORDER.filter((r) => roles.has(r)),
      locks: [],
    });
  }
  // As on Linux: a process no name places is the proxy when it serves the proxy's port.
  const unsure = [...byPid.values()].filter((h) => h.kind === 'script' || h.kind === 'other');
  if (unsure.length) {
    const port = opts.proxyPort ?? (await proxyPortFor(opts.dbPaths));
    const listening = await lsofListeners(
      run,
      opts.lsofPath,
      unsure.map((h) => h.pid),
      port,
    );
    for (const h of unsure) {
      if (!listening.has(h.pid)) continue;
      Object.assign(h, classifyHolder(h.pid, argvOf.get(h.pid) ?? [h.command], selfPid, cwds.get(h.pid), { proxyPort: port }));
    }
  }
  return {
    takenAt,
    source: 'lsof',
    locks: [],
    holders: [...byPid.values()].sort((a, b) => a.pid - b.pid),
    note: res.timedOut ? `${opts.note} lsof did not answer within ${LSOF_TIMEOUT_MS / 1000} s, so this list may be incomplete.` : opts.note,
  };
}
