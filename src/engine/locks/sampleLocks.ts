// Who holds which SQLite lock on the trace database, and who has it open.
//
// Linux: /proc/locks names every POSIX lock by PID and inode, and /proc/PID/fd
// links name every open file, so we can tell the user "PID 4242 (sqlite3 shell)
// holds RESERVED" without opening the database or spawning anything. Elsewhere
// (lockViewPlan.ts decides) lsof or, on Windows, Restart Manager shows who has the
// files open but not the locks, and the sample's note says so.
// Nothing here opens a descriptor on the database: closing any descriptor of a
// file drops all of this process's POSIX locks on it (see fileGate.ts).
import type { BigIntStats } from 'node:fs';
import type { CommandRunner } from './commandRunner';
import { systemToolFinder, type ToolFinder } from './findTool';
import { decodeSqliteLocks, LOCK_ORDER, markBlockers, splitDev, walInUse } from './lockBytes';
import { hasLinuxProcLocks, planLockView, type LockViewAbilities, type LockViewPlan } from './lockViewPlan';
import { sampleFromLsof } from './lsof';
import { filesKeyOf, ROLE_ORDER, scanOpenFiles, trackFiles, type OpenFilesScan, type ProcessCache, type ScanMode, type TrackedFile } from './openFiles';
import { parseProcLocks, type ProcLockLine } from './procLocks';
import { processInfo } from './processInfo';
import { classifyHolder, type HolderClass } from './processNames';
import { holdsSocket, listeningInodes, proxyPortFor } from './proxyPort';
import { sampleFromRestartManager } from './restartManager';
import { mapLimit } from '../util/mapLimit';
import { readText } from '../util/tryFs';
import type { DbFileRole, HeldLock, Holder, LockedFile, LockSample } from '../../shared/model';

export interface SampleLocksOptions {
  /** The last sample: locks seen in both keep their first `since`, which is how a stuck one shows. */
  previous?: LockSample;
  /** How long a lock must stay held to count as stuck. Default 1000 ms. */
  stuckAfterMs?: number;
  /** Where procfs is mounted; tests point it at an empty folder to force the fallback. */
  procRoot?: string;
  /** The lsof binary for the fallback. */
  lsofPath?: string;
  /** The platform whose way of seeing holders to use; default process.platform (tests replay others'). */
  platform?: NodeJS.Platform;
  /** Runs lsof, ps and PowerShell; tests pass one that replays recorded output. */
  runner?: CommandRunner;
  /** Whether lsof / powershell.exe is installed; default: looked for on PATH (and lsof's usual folders). */
  findTool?: ToolFinder;
  /** The proxy's port; default: `proxy_port` in the proxy's `.ai-tests/config.yaml`, else 8787. */
  proxyPort?: number;
  /**
   * How to find who has the files open (docs/DESIGN.md, "Rules", 6: walking every process's
   * fds is the expensive part, and its cost grows with the machine):
   * - 'full' (default): read every /proc/PID/fd, as a user's check or Show Holders wants;
   * - 'incremental': walk, but reuse what `cache` knows of a process (same PID, same
   *   start time, same lock state) and read only new processes and changed lock holders;
   * - 'lockers': no walk: only the PIDs in /proc/locks (their own fd and cmdline) and the
   *   processes `cache` already knows to have the files open, if they still run.
   */
  scan?: ScanMode;
  /** What earlier samples learnt about processes; makes 'incremental' and 'lockers' cheap. */
  cache?: ProcessCache;
  /** Wall time a walk may take before it stops and says so in `note`. */
  scanBudgetMs?: number;
}

/**
 * How long a walk may take. A user's check waits for it, so it gets long enough for
 * thousands of processes (4,000 × 60 fds took 1.45 s here); the poll's incremental walk
 * stops much sooner and carries on next time, since the cache keeps what it read.
 */
const FULL_SCAN_BUDGET_MS = 5000;
const INCREMENTAL_SCAN_BUDGET_MS = 250;
/**
 * Holders' /proc/PID/{cmdline,cwd} reads in flight at once: libuv has 4 threads, and
 * SQLite queries for the explorer need them too (docs/DESIGN.md: a user's request never
 * waits behind the poll).
 */
const INFO_CONCURRENCY = 2;
/**
 * How long the poll reuses an answer from lsof or Restart Manager (a process spawn each;
 * PowerShell also compiles its C# every run): while someone looks at the holders
 * ('incremental'), and while nobody does ('lockers'). A user's check ('full') always
 * asks afresh.
 */
const EXTERNAL_REUSE_MS: Record<ScanMode, number> = { full: 0, incremental: 10_000, lockers: 60_000 };

function lockKey(l: Pick<HeldLock, 'pid' | 'file' | 'lock' | 'waiting'>): string {
  return `${l.pid}|${l.file}|${l.lock}|${l.waiting ? 'w' : 'h'}`;
}

function sortLocks(locks: HeldLock[]): HeldLock[] {
  return locks.sort(
    (a, b) =>
      a.pid - b.pid ||
      ROLE_ORDER.indexOf(a.file) - ROLE_ORDER.indexOf(b.file) ||
      LOCK_ORDER.indexOf(a.lock) - LOCK_ORDER.indexOf(b.lock) ||
      Number(a.waiting) - Number(b.waiting),
  );
}

/** The HeldLocks on our db and -shm inodes, with `since` carried over and `stuck` decided. */
function heldLocks(
  lines: readonly ProcLockLine[],
  files: readonly TrackedFile[],
  openFiles: ReadonlyMap<number, ReadonlySet<DbFileRole>>,
  takenAt: number,
  opts: SampleLocksOptions,
): HeldLock[] {
  const targets = files
    .filter((f): f is TrackedFile & { role: LockedFile; st: BigIntStats } => (f.role === 'db' || f.role === 'shm') && f.st !== undefined)
    .map((f) => ({ ...f, dev: splitDev(f.st.dev) }));
  const found = new Map<string, HeldLock>();
  for (const line of lines) {
    const target = targets.find((t) => t.st.ino === line.inode);
    if (!target) continue;
    const sameDev = target.dev.major === line.major && target.dev.minor === line.minor;
    // overlayfs reports the upper layer's device in /proc/locks but its own in stat;
    // an inode number alone could be any file on any disk, so demand the open fd.
    if (!sameDev && !openFiles.get(line.pid)?.has(target.role)) continue;
    for (const d of decodeSqliteLocks(line, target.role)) {
      const l: HeldLock = { pid: line.pid, lock: d.lock, file: target.role, type: d.type, waiting: line.waiting, since: takenAt, stuck: false };
      const prev = found.get(lockKey(l));
      if (!prev || (prev.type === 'read' && l.type === 'write')) found.set(lockKey(l), l);
    }
  }

  const before = new Map((opts.previous?.locks ?? []).map((l) => [lockKey(l), l]));
  const stuckAfter = opts.stuckAfterMs ?? 1000;
  // In WAL mode every connection keeps SHARED on the database file for as long as it
  // has the WAL open (seen here on idle connections): as normal as WAL_OPEN itself.
  const walPids = new Set([...found.values()].filter((l) => l.lock === 'WAL_OPEN' && !l.waiting).map((l) => l.pid));
  for (const l of found.values()) {
    const prev = before.get(lockKey(l));
    if (prev) l.since = Math.min(prev.since, l.since);
    const normal = l.lock === 'WAL_OPEN' || (l.lock === 'SHARED' && walPids.has(l.pid));
    l.stuck = prev !== undefined && !l.waiting && !normal && takenAt - l.since >= stuckAfter;
  }
  return sortLocks([...found.values()]);
}

async function sampleFromProc(
  procRoot: string,
  dbPaths: readonly string[],
  files: readonly TrackedFile[],
  lines: readonly ProcLockLine[],
  scan: OpenFilesScan,
  takenAt: number,
  opts: SampleLocksOptions,
): Promise<LockSample> {
  const openFiles = scan.open;
  const locks = heldLocks(lines, files, openFiles, takenAt, opts);
  const pids = [...new Set([...openFiles.keys(), ...locks.map((l) => l.pid).filter((p) => p > 0)])];
  // A name read once stays right for the life of that process; a user's check reads afresh.
  const reuse = opts.cache && (opts.scan ?? 'full') !== 'full';
  const cached = (pid: number) => (reuse ? opts.cache?.entries.get(pid) : undefined);
  const infos = await mapLimit(pids, INFO_CONCURRENCY, async (pid) => cached(pid)?.info ?? processInfo(procRoot, pid));
  const classes = pids.map((pid, i) => cached(pid)?.cls ?? classifyHolder(pid, infos[i].argv, process.pid, infos[i].cwd));
  const unnamed = pids.map((pid) => cached(pid)?.cls === undefined);
  await nameByProxyPort(procRoot, dbPaths, pids, infos, classes, opts, unnamed);
  pids.forEach((pid, i) => {
    const e = opts.cache?.entries.get(pid);
    if (e) {
      e.info = infos[i];
      e.cls = classes[i];
    }
  });
  const holders = pids.map((pid, i): Holder => {
    const mine = locks.filter((l) => l.pid === pid);
    // Holding a lock on a file means having it open, even when the fd scan was denied.
    const roles = new Set<DbFileRole>([...(openFiles.get(pid) ?? []), ...mine.map((l) => l.file)]);
    const held = new Set(mine.filter((l) => !l.waiting).map((l) => l.lock));
    return {
      pid,
      command: infos[i].argv.join(' '),
      ...classes[i],
      files: ROLE_ORDER.filter((r) => roles.has(r)),
      locks: LOCK_ORDER.filter((l) => held.has(l)),
    };
  });
  const marked = markBlockers(holders, locks, walInUse(locks));
  return { takenAt, source: 'proc', locks, holders: marked.sort((a, b) => a.pid - b.pid), ...(scan.note ? { note: scan.note } : {}) };
}

/**
 * Renames as the proxy whoever serves the proxy's port among the holders no name
 * placed (script, other). Only those few holders' fds are read: walking every
 * process's sockets would cost what the fd scan costs, on every sample.
 */
async function nameByProxyPort(
  procRoot: string,
  dbPaths: readonly string[],
  pids: readonly number[],
  infos: readonly { argv: string[]; cwd?: string }[],
  classes: HolderClass[],
  opts: SampleLocksOptions,
  /** Which holders have no name from an earlier sample (that name already had this chance). */
  unnamed: readonly boolean[],
): Promise<void> {
  const unsure = pids.map((_, i) => i).filter((i) => unnamed[i] && (classes[i].kind === 'script' || classes[i].kind === 'other'));
  if (!unsure.length) return;
  const port = opts.proxyPort ?? (await proxyPortFor(dbPaths));
  const inodes = await listeningInodes(procRoot, port);
  if (!inodes.size) return;
  await Promise.all(
    unsure.map(async (i) => {
      if (await holdsSocket(procRoot, pids[i], inodes)) classes[i] = classifyHolder(pids[i], infos[i].argv, process.pid, infos[i].cwd, { proxyPort: port });
    }),
  );
}

/**
 * PID → the files (db, shm) it has lock lines on, by inode alone: a superset of what
 * heldLocks keeps, which is all the cache needs to notice that a process changed.
 */
function lockStateByPid(lines: readonly ProcLockLine[], files: readonly TrackedFile[]): Map<number, string> {
  const roles = new Map<number, Set<string>>();
  for (const f of files) {
    if ((f.role !== 'db' && f.role !== 'shm') || !f.st) continue;
    for (const l of lines) {
      if (l.inode !== f.st.ino || l.pid <= 0) continue;
      const r = roles.get(l.pid) ?? new Set();
      r.add(f.role);
      roles.set(l.pid, r);
    }
  }
  return new Map([...roles].map(([pid, r]) => [pid, [...r].sort().join(',')]));
}

/**
 * Who holds which lock on `dbPath` and its -shm, and who has any of its files open.
 * Never throws for a missing database: the sample is just empty.
 */
export async function sampleLocks(dbPath: string, opts: SampleLocksOptions = {}): Promise<LockSample> {
  const takenAt = Date.now();
  const procRoot = opts.procRoot ?? '/proc';
  const platform = opts.platform ?? process.platform;
  // Only a Linux kernel's /proc/locks has PIDs and inodes in this format.
  const [files, locksText] = await Promise.all([trackFiles(dbPath), hasLinuxProcLocks(platform) ? readText(`${procRoot}/locks`) : undefined]);
  if (!files) return { takenAt, source: locksText === undefined ? 'none' : 'proc', locks: [], holders: [] };
  if (locksText === undefined) return sampleElsewhere(dbPath, files, takenAt, platform, opts);
  const lines = parseProcLocks(locksText);
  const mode = opts.scan ?? 'full';
  const budget = opts.scanBudgetMs ?? (mode === 'full' ? FULL_SCAN_BUDGET_MS : INCREMENTAL_SCAN_BUDGET_MS);
  const scan = await scanOpenFiles(procRoot, files, lockStateByPid(lines, files), mode, opts.cache, budget);
  // The path as given first: a symlinked database's .ai-tests is where the user put it.
  return sampleFromProc(procRoot, [dbPath, files[0].path], files, lines, scan, takenAt, opts);
}

/** Without /proc/locks: lsof or Restart Manager, as the plan for this platform says, or a note that nothing can be seen. */
async function sampleElsewhere(
  dbPath: string,
  files: readonly TrackedFile[],
  takenAt: number,
  platform: NodeJS.Platform,
  opts: SampleLocksOptions,
): Promise<LockSample> {
  const findTool = opts.findTool ?? systemToolFinder(opts.lsofPath);
  const lsofPath = findTool('lsof');
  const powershellPath = platform === 'win32' ? findTool('powershell') : undefined;
  const abilities: LockViewAbilities = { platform, procfs: false, lsof: lsofPath !== undefined, powershell: powershellPath !== undefined };
  const plan = planLockView(abilities);
  if (plan.method === 'none' || plan.method === 'proc') return { takenAt, source: 'none', locks: [], holders: [], ...(plan.note ? { note: plan.note } : {}) };

  const cache = opts.cache;
  const key = filesKeyOf(files);
  const reuseMs = EXTERNAL_REUSE_MS[opts.scan ?? 'full'];
  const kept = cache?.external;
  if (kept && kept.filesKey === key && takenAt - kept.at < reuseMs) {
    const age = Math.round((takenAt - kept.at) / 1000);
    // A copy: callers adjust the samples they are given.
    const copy = structuredClone(kept.sample);
    return { ...copy, takenAt, note: `${copy.note ?? ''} (As seen ${age} s ago: asking again costs too much to do on every poll.)`.trim() };
  }
  const common = { runner: opts.runner, dbPaths: [dbPath, files[0].path], proxyPort: opts.proxyPort, note: plan.note ?? '' };
  const sample =
    plan.method === 'restart-manager'
      ? await sampleFromRestartManager(files, takenAt, { ...common, powershellPath: powershellPath! })
      : await sampleFromLsof(files, takenAt, { ...common, lsofPath: lsofPath!, missingNote: missingNote(plan, abilities) });
  if (cache) cache.external = { filesKey: key, at: takenAt, sample };
  return sample;
}

/** What to say when the tool the plan chose does not run after all (removed, not executable). */
function missingNote(plan: LockViewPlan, abilities: LockViewAbilities): string {
  return planLockView({ ...abilities, lsof: false }).note ?? plan.note ?? '';
}
