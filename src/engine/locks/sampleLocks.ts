// Who holds which SQLite lock on the trace database, and who has it open.
//
// Linux: /proc/locks names every POSIX lock by PID and inode, and /proc/PID/fd
// links name every open file, so we can tell the user "PID 4242 (sqlite3 shell)
// holds RESERVED" without opening the database or spawning anything. Elsewhere
// we fall back to lsof, which shows who has the files open but not the locks.
// Nothing here opens a descriptor on the database: closing any descriptor of a
// file drops all of this process's POSIX locks on it (see fileGate.ts).
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readdirSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { procStatFields, startTicksOf } from './procStat';
import { classifyHolder, holdsSocket, listeningInodes, proxyPortFor, type HolderClass } from './processNames';
import type { DbFileRole, HeldLock, Holder, LockedFile, LockSample, SqliteLockName } from '../../shared/model';

// kill.ts names a PID the sample missed with the same rules.
export { classifyHolder, type HolderClass };

// ---------------------------------------------------------------- /proc/locks

export type ProcLockKind = 'POSIX' | 'OFDLCK' | 'FLOCK' | 'LEASE' | 'DELEG' | (string & {});

/** One line of /proc/locks. */
export interface ProcLockLine {
  id: number;
  /** A blocked request (`->`): the process waits for this lock, it does not hold it. */
  waiting: boolean;
  kind: ProcLockKind;
  type: 'read' | 'write';
  /** As the kernel shows it in our PID namespace; 0 or -1 when it cannot (other namespace, some OFD locks). */
  pid: number;
  major: number;
  minor: number;
  /** bigint: overlay and btrfs inode numbers can exceed 2^53. */
  inode: bigint;
  start: number;
  /** Inclusive; Infinity for `EOF`. */
  end: number;
}

// "12: -> POSIX  ADVISORY  WRITE 2561 fe:00:2146450 1073741825 EOF". Deeper waiters
// only get more leading spaces, so one pattern covers every nesting level.
const PROC_LOCK_LINE =
  /^(\d+):\s*((?:->\s*)+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-fA-F]+):([0-9a-fA-F]+):(\d+)\s+(\d+)\s+(\d+|EOF)\s*$/;

export function parseProcLocks(text: string): ProcLockLine[] {
  const out: ProcLockLine[] = [];
  for (const line of text.split('\n')) {
    const m = PROC_LOCK_LINE.exec(line);
    if (!m) continue; // "<none>" devices, lease states we do not model, blank lines
    const type = m[4] === 'READ' ? 'read' : m[4] === 'WRITE' ? 'write' : undefined;
    if (!type) continue; // UNLCK / NONE: a lease being broken, not a lock anyone holds
    out.push({
      id: Number(m[1]),
      waiting: m[2] !== undefined,
      kind: m[3],
      type,
      pid: Number(m[5]),
      major: parseInt(m[6], 16),
      minor: parseInt(m[7], 16),
      inode: BigInt(m[8]),
      start: Number(m[9]),
      end: m[10] === 'EOF' ? Infinity : Number(m[10]),
    });
  }
  return out;
}

// ---------------------------------------------------------------- decoding

// The unix VFS lock bytes (sqlite os_unix.c / os.h): they sit at 1 GiB so that they
// never overlap real data in a database smaller than that.
const PENDING_BYTE = 0x40000000;
const RESERVED_BYTE = PENDING_BYTE + 1;
const SHARED_FIRST = PENDING_BYTE + 2;
const SHARED_LAST = SHARED_FIRST + 510 - 1;
// -shm: UNIX_SHM_BASE = 120, then the WAL's 8 lock slots, then the DMS byte.
const SHM_WRITE = 120;
const SHM_CKPT = 121;
const SHM_RECOVER = 122;
const SHM_READ_FIRST = 123;
const SHM_READ_LAST = 127;
const SHM_DMS = 128;

export interface LockRange {
  type: 'read' | 'write';
  start: number;
  end: number;
}

export interface DecodedLock {
  lock: SqliteLockName;
  type: 'read' | 'write';
}

/**
 * SQLite lock names covered by one kernel lock. The kernel merges adjacent ranges of
 * one type from one process (an EXCLUSIVE writer shows as a single WRITE from
 * PENDING to the end of the SHARED range), so every region the range touches counts.
 */
export function decodeSqliteLocks(range: LockRange, file: LockedFile): DecodedLock[] {
  const hits = (lo: number, hi: number) => range.start <= hi && range.end >= lo;
  const write = range.type === 'write';
  const names: SqliteLockName[] = [];
  if (file === 'db') {
    // A READ on PENDING is unix VFS checking, for the moment it takes SHARED, that no
    // writer is pending: gone microseconds later, and no lock in SQLite's sense.
    if (write && hits(PENDING_BYTE, PENDING_BYTE)) names.push('PENDING');
    if (write && hits(RESERVED_BYTE, RESERVED_BYTE)) names.push('RESERVED');
    if (hits(SHARED_FIRST, SHARED_LAST)) names.push(write ? 'EXCLUSIVE' : 'SHARED');
  } else {
    // Read locks on 120-122 are rare (read-only shm, snapshots) but still block the
    // writer, checkpointer or recoverer, so they keep their slot's name.
    if (hits(SHM_WRITE, SHM_WRITE)) names.push('WAL_WRITE');
    if (hits(SHM_CKPT, SHM_CKPT)) names.push('CHECKPOINT');
    if (hits(SHM_RECOVER, SHM_RECOVER)) names.push('RECOVER');
    if (hits(SHM_READ_FIRST, SHM_READ_LAST)) names.push('WAL_READ');
    // A WRITE on the DMS byte is the first connection initialising (or recovering) the shm.
    if (hits(SHM_DMS, SHM_DMS)) names.push(write ? 'RECOVER' : 'WAL_OPEN');
  }
  return [...new Set(names)].map((lock) => ({ lock, type: range.type }));
}

const LOCK_ORDER: readonly SqliteLockName[] = [
  'EXCLUSIVE',
  'PENDING',
  'RESERVED',
  'SHARED',
  'WAL_WRITE',
  'CHECKPOINT',
  'RECOVER',
  'WAL_READ',
  'WAL_OPEN',
];

export { describeLock } from '../../shared/labels';

// ---------------------------------------------------------------- devices

/**
 * glibc's major()/minor() on a stat dev (the 64-bit encoding, so bigint). The masks
 * are 32-bit, as in glibc: an unbounded ~0xff would pull the major's high bits into
 * the minor.
 */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

// ---------------------------------------------------------------- sampling

export interface SampleLocksOptions {
  /** The last sample: locks seen in both keep their first `since`, which is how a stuck one shows. */
  previous?: LockSample;
  /** How long a lock must stay held to count as stuck. Default 1000 ms. */
  stuckAfterMs?: number;
  /** Where procfs is mounted; tests point it at an empty folder to force the fallback. */
  procRoot?: string;
  /** The lsof binary for the fallback. */
  lsofPath?: string;
  /** The proxy's port; default: `proxy_port` in the proxy's `.ai-tests/config.yaml`, else 8787. */
  proxyPort?: number;
  /**
   * How to find who has the files open (DESIGN.md § Rules 6: walking every process's
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

export type ScanMode = 'full' | 'incremental' | 'lockers';

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

  /** How many processes are known to have the database's files open. */
  get openers(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.roles?.size) n++;
    return n;
  }
}

interface TrackedFile {
  role: DbFileRole;
  path: string;
  st?: BigIntStats;
}

/** Longest stretch the fd scan keeps the event loop busy before it yields. */
const SCAN_SLICE_MS = 4;
/**
 * How long a walk may take. A user's check waits for it, so it gets long enough for
 * thousands of processes (4,000 × 60 fds took 1.45 s here); the poll's incremental walk
 * stops much sooner and carries on next time, since the cache keeps what it read.
 */
const FULL_SCAN_BUDGET_MS = 5000;
const INCREMENTAL_SCAN_BUDGET_MS = 250;
/**
 * Reading /proc/PID/stat costs more than listing the process's fds (50–100 µs against
 * ~20 µs here: the kernel totals every thread's times for it), so an incremental walk
 * re-reads the start time of a process known to have none of the files open only this
 * often. A PID reused sooner than that by a process that opens the database and holds
 * no lock is missed until then; any lock it takes shows at once.
 */
const START_RECHECK_MS = 30_000;
/**
 * Holders' /proc/PID/{cmdline,cwd} reads in flight at once: libuv has 4 threads, and
 * SQLite queries for the explorer need them too (DESIGN.md: a user's request never
 * waits behind the poll).
 */
const INFO_CONCURRENCY = 2;
const LSOF_TIMEOUT_MS = 10_000;
const ROLE_ORDER: readonly DbFileRole[] = ['db', 'wal', 'shm', 'journal'];

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function statOrUndefined(p: string): Promise<BigIntStats | undefined> {
  try {
    return await fsp.stat(p, { bigint: true });
  } catch {
    return undefined;
  }
}

/** The database and its companions at their real paths (SQLite resolves symlinks the same way). */
async function trackFiles(dbPath: string): Promise<TrackedFile[] | undefined> {
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

interface OpenFilesScan {
  /** PID → the database files it has open. */
  open: Map<number, Set<DbFileRole>>;
  note?: string;
}

/**
 * PID → the database files it has open, from /proc/PID/fd links, as deep as `mode` asks.
 * `lockState` (PID → the files it holds locks on) says which cached answers are stale.
 */
async function scanOpenFiles(
  procRoot: string,
  files: readonly TrackedFile[],
  lockState: ReadonlyMap<number, string>,
  mode: ScanMode,
  cache: ProcessCache | undefined,
  budgetMs: number,
): Promise<OpenFilesScan> {
  const match = linkMatcher(files);
  const open = new Map<number, Set<DbFileRole>>();
  const filesKey = files.map((f) => `${f.path}:${f.st?.ino ?? '-'}`).join('|');
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

async function readText(p: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

interface ProcessInfo {
  argv: string[];
  cwd?: string;
}

async function processInfo(procRoot: string, pid: number): Promise<ProcessInfo> {
  const [cmdline, cwd] = await Promise.all([
    readText(`${procRoot}/${pid}/cmdline`),
    fsp.readlink(`${procRoot}/${pid}/cwd`).catch(() => undefined),
  ]);
  let argv = (cmdline ?? '').split('\0');
  while (argv.length && argv[argv.length - 1] === '') argv.pop();
  if (!argv.length) {
    // Kernel threads and zombies have an empty cmdline; comm still names them.
    const comm = (await readText(`${procRoot}/${pid}/comm`))?.trim();
    argv = comm ? [comm] : [];
  }
  return { argv, ...(cwd ? { cwd } : {}) };
}

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

// ---------------------------------------------------------------- the blocker

/**
 * WAL or rollback journal, from the locks alone: every WAL connection keeps WAL_OPEN
 * on the -shm, and a rollback-journal database has no -shm locks at all. Reading the
 * header instead would mean opening the database, and closing that descriptor drops
 * this process's own POSIX locks on it (see fileGate.ts).
 */
export function walInUse(locks: readonly HeldLock[]): boolean {
  return locks.some((l) => l.file === 'shm');
}

/** Whether a held lock keeps the proxy from committing its next trace. */
export function blocksCommit(l: HeldLock, wal: boolean): boolean {
  if (l.waiting) return false;
  if (l.file === 'db') {
    // In WAL mode every open connection keeps SHARED: only in rollback mode does a
    // reader stop the writer (it cannot take EXCLUSIVE to commit).
    return l.lock === 'RESERVED' || l.lock === 'PENDING' || l.lock === 'EXCLUSIVE' || (l.lock === 'SHARED' && !wal);
  }
  // WAL_WRITE is the one writer slot. A checkpoint alone (CHECKPOINT) does not stop
  // commits; FULL/RESTART/TRUNCATE checkpoints that do also take WAL_WRITE.
  return l.lock === 'WAL_WRITE';
}

/**
 * The holders with `blocker` decided: another process holding a lock that stops
 * the proxy's commits. The proxy, its launcher and the doctor never are: they are
 * not what the user should stop to unblock the proxy.
 */
export function markBlockers(holders: readonly Holder[], locks: readonly HeldLock[], wal: boolean): Holder[] {
  const blocking = new Set(locks.filter((l) => blocksCommit(l, wal)).map((l) => l.pid));
  return holders.map((h) => ({
    ...h,
    blocker: blocking.has(h.pid) && !h.self && h.kind !== 'doctor' && h.kind !== 'proxy' && h.kind !== 'proxy-launcher',
  }));
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

/** lsof -F output: `p` starts a process, `c` its command, `n` a file name. */
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

interface RunResult {
  stdout: string;
  missing: boolean;
  timedOut: boolean;
}

function run(file: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: LSOF_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      // lsof exits 1 when a file is open nowhere, which is an answer, not a failure.
      const code = (err as NodeJS.ErrnoException | null)?.code;
      const killed = (err as { killed?: boolean } | null)?.killed === true;
      resolve({ stdout: String(stdout ?? ''), missing: code === 'ENOENT' || code === 'EACCES', timedOut: killed });
    });
  });
}

/** Full command lines from ps, since lsof only gives the (truncated) process name. */
async function psCommands(pids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (!pids.length) return out;
  const { stdout } = await run('ps', ['-o', 'pid=,args=', '-p', pids.join(',')]);
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

/** Working folders from lsof: `node dist/index.js` is the proxy only in packages/proxy. */
async function lsofCwds(lsofPath: string, pids: readonly number[]): Promise<Map<number, string>> {
  if (!pids.length) return new Map();
  const { stdout } = await run(lsofPath, ['-w', '-a', '-d', 'cwd', '-F', 'pn', '-p', pids.join(',')]);
  return new Map(parseLsof(stdout).flatMap((p) => (p.names[0] ? [[p.pid, p.names[0]] as const] : [])));
}

async function sampleFromLsof(files: readonly TrackedFile[], takenAt: number, lsofPath: string): Promise<LockSample> {
  const existing = files.filter((f) => f.st);
  const { stdout, missing, timedOut } = await run(lsofPath, ['-w', '-F', 'pcn', '--', ...existing.map((f) => f.path)]);
  if (missing) {
    return {
      takenAt,
      source: 'none',
      locks: [],
      holders: [],
      note: 'This system has neither /proc/locks nor lsof, so the doctor cannot see which processes have the database open or hold its locks.',
    };
  }
  const procs = parseLsof(stdout).filter((p) => p.pid > 0);
  const pids = [...new Set(procs.map((p) => p.pid))];
  const [commands, cwds] = await Promise.all([psCommands(pids), lsofCwds(lsofPath, pids)]);
  const byPid = new Map<number, Holder>();
  for (const p of procs) {
    const roles = new Set<DbFileRole>();
    for (const name of p.names) {
      // lsof was asked about these files only; its spelling of the path can differ (/private/tmp).
      const f = existing.find((e) => e.path === name) ?? [...existing].reverse().find((e) => name.endsWith(path.basename(e.path)));
      roles.add(f?.role ?? 'db');
    }
    const command = commands.get(p.pid) ?? p.command;
    const prev = byPid.get(p.pid);
    for (const r of prev?.files ?? []) roles.add(r);
    byPid.set(p.pid, {
      pid: p.pid,
      command,
      ...classifyHolder(p.pid, command.split(' '), process.pid, cwds.get(p.pid)),
      files: ROLE_ORDER.filter((r) => roles.has(r)),
      locks: [],
    });
  }
  return {
    takenAt,
    source: 'lsof',
    locks: [],
    holders: [...byPid.values()].sort((a, b) => a.pid - b.pid),
    note: timedOut
      ? `lsof did not answer within ${LSOF_TIMEOUT_MS / 1000} s, so the list of processes with the database open may be incomplete; this platform does not show which SQLite lock a process holds (no /proc/locks).`
      : 'This platform does not show which SQLite lock a process holds (no /proc/locks): listed are the processes that have the database open, from lsof.',
  };
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
  const [files, locksText] = await Promise.all([trackFiles(dbPath), readText(`${procRoot}/locks`)]);
  if (!files) return { takenAt, source: locksText === undefined ? 'none' : 'proc', locks: [], holders: [] };
  if (locksText === undefined) return sampleFromLsof(files, takenAt, opts.lsofPath ?? 'lsof');
  const lines = parseProcLocks(locksText);
  const mode = opts.scan ?? 'full';
  const budget = opts.scanBudgetMs ?? (mode === 'full' ? FULL_SCAN_BUDGET_MS : INCREMENTAL_SCAN_BUDGET_MS);
  const scan = await scanOpenFiles(procRoot, files, lockStateByPid(lines, files), mode, opts.cache, budget);
  // The path as given first: a symlinked database's .ai-tests is where the user put it.
  return sampleFromProc(procRoot, [dbPath, files[0].path], files, lines, scan, takenAt, opts);
}
