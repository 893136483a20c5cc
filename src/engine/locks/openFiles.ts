// Who has the database or its companions open, from the /proc/PID/fd links. Nothing
// here opens a descriptor on the database: closing any descriptor of a file drops all
// of this process's POSIX locks on it (see fileGate.ts).
import { existsSync, promises as fsp, readdirSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { procStatFields, startTicksOf } from './procStat';
import type { ProcessInfo } from './processInfo';
import type { HolderClass } from './processNames';
import { statOrUndefined } from '../util/tryFs';
import type { DbFileRole, LockSample } from '../../shared/model';

export type ScanMode = 'full' | 'incremental' | 'lockers';

export const ROLE_ORDER: readonly DbFileRole[] = ['db', 'wal', 'shm', 'journal'];

interface CachedProcess {
  /** /proc/PID/stat field 22 (start time in clock ticks): a reused PID is another process. */
  start: string;
  /** When `start` was last read (performance.now()). */
  startReadAt: number;
  /** Which of the database's files its fds point at; undefined until they were read. */
  roles?: ReadonlySet<DbFileRole>;
  /** The files it held locks on when `roles` was read: a change means it opened or closed something. */
  lockState?: string;
  info?: ProcessInfo;
  cls?: HolderClass;
}

/**
 * What the doctor learnt about processes in earlier samples of one database, keyed by
 * (PID, start time). One per watched database (an Inspector holds it).
 */
export class ProcessCache {
  readonly entries = new Map<number, CachedProcess>();
  /** The files `roles` refer to (paths and inodes): a replaced database invalidates them. */
  filesKey?: string;
  /**
   * Where there is no /proc: the last answer of lsof or Restart Manager, which cost a
   * process spawn each (PowerShell: a C# compile too), so the poll reuses it a while.
   */
  external?: { filesKey: string; at: number; sample: LockSample };

  /** How many processes are known to have the database's files open. */
  get openers(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.roles?.size) n++;
    return n;
  }
}

export interface TrackedFile {
  role: DbFileRole;
  path: string;
  st?: BigIntStats;
}

/** Longest stretch the fd scan keeps the event loop busy before it yields. */
const SCAN_SLICE_MS = 4;
/**
 * Reading /proc/PID/stat costs more than listing the process's fds (50–100 µs against
 * ~20 µs here: the kernel totals every thread's times for it), so an incremental walk
 * re-reads the start time of a process known to have none of the files open only this
 * often. A PID reused sooner than that by a process that opens the database and holds
 * no lock is missed until then; any lock it takes shows at once.
 */
const START_RECHECK_MS = 30_000;

/** The database and its companions at their real paths (SQLite resolves symlinks the same way). */
export async function trackFiles(dbPath: string): Promise<TrackedFile[] | undefined> {
  let real: string;
  try {
    real = await fsp.realpath(dbPath);
  } catch {
    return undefined;
  }
  const files: TrackedFile[] = ROLE_ORDER.map((role) => ({ role, path: role === 'db' ? real : `${real}-${role}` }));
  await Promise.all(files.map(async (f) => (f.st = await statOrUndefined(f.path))));
  return files[0].st?.isFile() ? files : undefined;
}

/** The files as paths and inodes: what a cached answer about them is valid for. */
export function filesKeyOf(files: readonly TrackedFile[]): string {
  return files.map((f) => `${f.path}:${f.st?.ino ?? '-'}`).join('|');
}

type Matcher = (fdPath: string) => TrackedFile | undefined;

function linkMatcher(files: readonly TrackedFile[]): Matcher {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const byBase = new Map(files.map((f) => [path.basename(f.path), f]));
  return (fdPath) => {
    let link: string;
    try {
      link = readlinkSync(fdPath);
    } catch {
      return undefined; // closed since readdir, or the process went away
    }
    const exact = byPath.get(link);
    if (exact) return exact;
    // Same file under another path (a container's mount namespace, a bind mount):
    // worth one stat when the name matches. "(deleted)" links never match by name.
    const candidate = byBase.get(path.basename(link));
    if (!candidate?.st) return undefined;
    const st = statSync(fdPath, { bigint: true, throwIfNoEntry: false });
    return st && st.ino === candidate.st.ino && st.dev === candidate.st.dev ? candidate : undefined;
  };
}

/** The database files one process has open; undefined when its fds cannot be read (another user's, or gone). */
function rolesOf(procRoot: string, pid: number, match: Matcher): Set<DbFileRole> | undefined {
  const dir = `${procRoot}/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(dir);
  } catch {
    return undefined; // EACCES (another user's process), ENOENT/ESRCH (it exited)
  }
  const roles = new Set<DbFileRole>();
  for (const fd of fds) {
    const f = match(`${dir}/${fd}`);
    if (f) roles.add(f.role);
  }
  return roles;
}

/** Field 22 of /proc/PID/stat; '' when unreadable (a fake procfs), undefined when the process is gone. */
function startTimeOf(procRoot: string, pid: number): string | undefined {
  const fields = procStatFields(pid, procRoot);
  if (fields) return startTicksOf(fields);
  return existsSync(`${procRoot}/${pid}`) ? '' : undefined;
}

export interface OpenFilesScan {
  /** PID → the database files it has open. */
  open: Map<number, Set<DbFileRole>>;
  note?: string;
}

/**
 * PID → the database files it has open, from /proc/PID/fd links, as deep as `mode` asks.
 * `lockState` (PID → the files it holds locks on) says which cached answers are stale.
 */
export async function scanOpenFiles(
  procRoot: string,
  files: readonly TrackedFile[],
  lockState: ReadonlyMap<number, string>,
  mode: ScanMode,
  cache: ProcessCache | undefined,
  budgetMs: number,
): Promise<OpenFilesScan> {
  const match = linkMatcher(files);
  const open = new Map<number, Set<DbFileRole>>();
  const filesKey = filesKeyOf(files);
  if (cache && cache.filesKey !== filesKey) {
    for (const e of cache.entries.values()) e.roles = undefined;
    cache.filesKey = filesKey;
  }

  /** One process: from the cache when it may be, else from its fds; updates the cache. */
  const visit = (pid: number, reuse: boolean): void => {
    const state = lockState.get(pid) ?? '';
    let entry = cache?.entries.get(pid);
    const now = performance.now();
    if (reuse && entry?.roles && entry.roles.size === 0 && entry.lockState === state && now - entry.startReadAt < START_RECHECK_MS) return;
    if (cache) {
      const start = startTimeOf(procRoot, pid);
      if (start === undefined) {
        cache.entries.delete(pid);
        entry = undefined;
        if (!lockState.has(pid)) return; // exited; a lock line of a gone PID still shows below
      } else if (!entry || entry.start !== start) {
        entry = { start, startReadAt: now };
        cache.entries.set(pid, entry);
      } else entry.startReadAt = now;
    }
    let roles = reuse && entry?.roles && entry.lockState === state ? entry.roles : undefined;
    if (!roles) {
      roles = rolesOf(procRoot, pid, match);
      if (entry) {
        entry.roles = roles ?? new Set();
        entry.lockState = state;
      }
    }
    if (roles?.size) open.set(pid, new Set(roles));
  };

  if (mode === 'lockers') {
    // Lock holders, and whoever an earlier walk saw with the files open while it still runs.
    const pids = new Set(lockState.keys());
    for (const [pid, e] of cache?.entries ?? []) if (e.roles?.size) pids.add(pid);
    for (const pid of pids) if (pid > 0) visit(pid, true);
    return { open };
  }

  let names: string[];
  try {
    names = await fsp.readdir(procRoot);
  } catch {
    return { open };
  }
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number);
  // Lock holders first: they matter most, and a walk cut short by its budget still has them.
  pids.sort((a, b) => Number(lockState.has(b)) - Number(lockState.has(a)));
  const seen = new Set(pids);
  if (cache) for (const pid of cache.entries.keys()) if (!seen.has(pid)) cache.entries.delete(pid);

  // Synchronous calls in short time slices: procfs answers in microseconds, while a
  // promise per fd costs ~3x more here (375 processes: 12 ms sync, 35 ms async) and
  // would queue thousands of jobs on libuv's 4 threads ahead of the SQLite queries
  // that share them. Yielding every few ms keeps the event loop responsive.
  const started = performance.now();
  let sliceStart = started;
  let done = 0;
  for (const pid of pids) {
    const now = performance.now();
    if (now - started > budgetMs) {
      // The cache keeps what this walk read; the next one starts where it matters.
      const left = pids.length - done;
      return {
        open,
        note: `The list of processes with the database open may be incomplete: looking at their open files stopped after ${Math.round(budgetMs)} ms with ${left} of ${pids.length} processes not yet looked at.`,
      };
    }
    if (now - sliceStart > SCAN_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    visit(pid, mode === 'incremental');
    done++;
  }
  return { open };
}
