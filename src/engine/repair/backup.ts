// Online backup through SQLite's backup API: a consistent copy taken while the proxy
// keeps writing (DESIGN.md § Rules 2, the physics of backups).
//
// One pass, always. SQLite restarts a backup whenever another connection commits
// between two steps that each open their own read transaction, so a copy in small
// steps never finishes under a busy proxy (issue 9: 770 MB, a writer at 50/s, failed
// after one restart). So the copy sees one snapshot from start to end:
// - WAL mode: our source connection opens ONE read transaction and every step runs
//   inside it. That snapshot blocks nobody (the proxy commits into the -wal
//   meanwhile), so the steps can be small, for progress and cancellation.
// - Rollback mode: the read transaction is a SHARED lock, and the proxy's commits wait
//   behind it for the whole copy. That is only safe while the copy is well within the
//   proxy's busy timeout, so the pause is estimated from the file size first and a
//   copy that would take too long is refused with what to do instead. The copy runs
//   the other way round (into our connection on the copy, from the file) so that the
//   copy's connection can do without fsync: otherwise the copy's final commit fsyncs
//   the whole file while SHARED is still held (measured: 0.9 s of a 3.2 s pause for
//   887 MiB). The copy is fsynced after the lock is gone.
// The copy is written under a hidden temporary name (with the writer's PID, so a later
// run can clear a killed run's leftovers), quick_checked and fsynced, then renamed:
// nothing half-written or unchecked ever looks like a backup. Before copying, the free
// space is checked; after a backup, older backups beyond the newest few are removed.
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DoctorError } from '../errors';
import { withFileGate } from '../sqlite/fileGate';
import { filesystemOf } from '../diagnose/filesystem';
import { readHeader } from '../sqlite/header';
import { isBusy, sqliteCode, startBackup, startBackupInto, withConnection, type SqliteBackup } from '../sqlite/connection';
import type { BackupResult, ProgressEvent } from '../../shared/model';

export interface BackupOptions {
  /** Destination file; default `<db folder>/backups/<name>-<UTC stamp>.db`. */
  out?: string;
  onProgress?: (e: ProgressEvent) => void;
  /** Checked between copy steps; cancelling ends the read transaction (and the proxy's pause) at once. */
  signal?: AbortSignal;
  /**
   * How long to wait for the read lock to start the copy. In rollback mode the proxy
   * holds EXCLUSIVE for the instant of each commit; a one-pass copy must not fail just
   * because one was in flight. Default 2000 ms.
   */
  busyTimeoutMs?: number;
  /** Rollback mode: the longest estimated pause of the proxy's commits accepted; default 3500 ms. */
  maxPauseMs?: number;
  /** Rollback mode: copy even when the estimated pause exceeds `maxPauseMs`. */
  force?: boolean;
  /** Default-named backups of this database to keep (the new one included); older ones are deleted after a successful backup. Default 5. */
  keep?: number;
}

/**
 * One-pass copy throughput on this machine kind (2-core VM, local disk, warm page
 * cache), measured with the rollback-mode copy below (the step that holds SHARED):
 * idle machine, 887 MiB in 2.06 / 2.09 / 2.41 s and 757 MiB in 1.78 / 2.01 s
 * (370–430 MiB/s); with other jobs running (load average 3.7 on 2 cores), 757 MiB in
 * 2.72 / 2.73 / 3.27 / 3.35 / 3.53 s (215–280 MiB/s). DESIGN.md: 770 MB in 2.2 s.
 * The estimate takes 250 MiB/s, a busy machine's figure: an idle one only finishes sooner.
 * Those figures are SQLite's page-by-page copy; `cp` under SHARED (copyUnderShared, Linux
 * and macOS) measured 757 MiB in 0.62 s and 1.62 s here, but a cold page cache reads from
 * disk, so the estimate stays at the slower figure.
 */
const ONE_PASS_BYTES_PER_MS = (250 * 1024 * 1024) / 1000;
/**
 * The proxy's busy timeout is 5 s; at this estimate a loaded machine measured up to
 * 1.17× longer (4.1 s), which still leaves the commit in flight time to finish.
 */
const DEFAULT_MAX_PAUSE_MS = 3500;
const DEFAULT_LOCK_WAIT_MS = 2000;
/** Between tries to start the rollback-mode copy: lands between two of the proxy's commits (DESIGN.md § Rules 3). */
const MIN_RETRY_MS = 2;
const MAX_RETRY_MS = 20;
/** Steps inside the one read transaction: progress and cancellation every few MB, no restarts. */
const STEP_PAGES = 4096;

/** Free space the copy must leave on the disk: the proxy's next commits need room for their journal or WAL. */
const HEADROOM_BYTES = 32 * 1024 * 1024;
/** Backups of one database kept by default; older ones go after each successful backup. */
export const DEFAULT_KEEP_BACKUPS = 5;
/**
 * A temporary from another PID namespace (a container sharing the folder), where this
 * process cannot tell whether its owner lives, is removed once nobody has written it
 * for this long. One from this namespace goes as soon as its owner is gone.
 */
export const STALE_TEMP_MS = 3 * 60 * 1000;
/** No copy runs this long: an owner PID still alive after it is a reused PID. */
const REUSED_PID_MS = 24 * 60 * 60 * 1000;
/** The passive poll sweeps at most this often per folder; a CLI run always sweeps. */
const SWEEP_EVERY_MS = 60 * 1000;

function stampOf(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function baseOf(dbPath: string): string {
  return path.basename(dbPath).replace(/\.(db|sqlite3?)$/i, '');
}

/** `<db folder>/backups`: where backups and the doctor's temporary copies live. */
export function backupsDirOf(dbPath: string): string {
  return path.join(path.dirname(path.resolve(dbPath)), 'backups');
}

export function defaultBackupPath(dbPath: string, now = new Date()): string {
  return path.join(backupsDirOf(dbPath), `${baseOf(dbPath)}-${stampOf(now)}.db`);
}

/**
 * The hidden name a copy has until it is complete and checked. The owner's PID (and its
 * PID namespace) is in the name, so a later run can tell the leftover of a killed run
 * from a copy in progress.
 */
export function partialPathOf(out: string, pid = process.pid): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.${pidNamespace()}-${pid}.partial`);
}

let ownNamespace: string | undefined;
/** This process's PID namespace (Linux), so a PID from another one is never taken for ours. */
export function pidNamespace(): string {
  if (ownNamespace === undefined) {
    try {
      ownNamespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? 'x';
    } catch {
      ownNamespace = 'x';
    }
  }
  return ownNamespace;
}

/** The integrity check's throwaway copy: the same temporary scheme, never renamed. */
export function checkCopyPath(dbPath: string, now = new Date()): string {
  return partialPathOf(path.join(backupsDirOf(dbPath), `${baseOf(dbPath)}-check-${stampOf(now)}.db`));
}

/** `.NAME.NS-PID.partial` and the copy's own -journal/-wal/-shm. */
const TEMP_RE = /^\..+\.(\w+)-(\d+)\.partial(?:-journal|-wal|-shm)?$/;
/** Before the PID was in the name (one release): `.NAME.partial`. */
const OLD_PARTIAL_RE = /^\..+\.db\.partial(?:-journal|-wal|-shm)?$/;
/** Older still: the integrity check's folder beside the database. */
const OLD_CHECK_DIR_RE = /^\.tracedb-check-/;

/** How long a one-pass copy of a rollback-journal DB of this size holds the proxy's commits. */
export function estimatePauseMs(sizeBytes: number): number {
  return Math.ceil(sizeBytes / ONE_PASS_BYTES_PER_MS);
}

interface CopyOptions extends BackupOptions {
  /** What the copy is for, after "Cannot " in errors: "back up", "check". */
  verb: string;
}

interface CopyOutcome {
  wal: boolean;
  pages: number;
  pauseMs: number;
  estimatedPauseMs: number;
  /** quick_check's findings on the copy; empty when it said ok. */
  problems: string[];
}

/**
 * Copies `dbPath` into `dest` (a temporary name) and runs quick_check on the copy.
 * Throws a DoctorError, with `dest` and its companions removed, when the copy could not
 * be made; a copy that quick_check faults is kept for the caller to judge.
 */
async function copyAndCheck(dbPath: string, dest: string, opts: CopyOptions): Promise<CopyOutcome> {
  const name = path.basename(dbPath);
  const cannot = `Cannot ${opts.verb} ${dbPath}`;
  const { head, size, ino } = await withFileGate(dbPath, async () => {
    const h = await readHeader(dbPath);
    const st = await fs.stat(dbPath);
    return { head: h, size: st.size, ino: st.ino };
  }).catch((e: Error) => {
    throw new DoctorError(`${cannot}: ${e.message}.`);
  });
  if (!head.header) throw new DoctorError(`${cannot}: it is not a readable SQLite database (${head.problem.kind}).`);
  const wal = head.header.wal;

  const estimatedPauseMs = wal ? 0 : estimatePauseMs(size);
  const maxPauseMs = opts.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
  if (!wal && estimatedPauseMs > maxPauseMs && !opts.force) {
    throw new DoctorError(
      `${cannot} now: copying ${name} (${mib(size)}) would pause the proxy's writes for about ${seconds(estimatedPauseMs)}: ` +
        `in rollback-journal mode a consistent copy holds a read lock for the whole copy, and more than ${seconds(maxPauseMs)} risks "database is locked" in the proxy. ` +
        `Enable WAL first (it needs no backup and takes an instant), then try again: from a WAL snapshot the proxy is never paused. ` +
        `Or stop the proxy, try again, and start it again.`,
    );
  }
  if (opts.signal?.aborted) throw new DoctorError(`${cannot}: cancelled before it started.`);

  // The copy holds every page of the database plus, from a WAL snapshot, the WAL's newer pages.
  const walSize = wal ? (await fs.stat(`${await fs.realpath(dbPath)}-wal`).catch(() => undefined))?.size ?? 0 : 0;
  await ensureSpace(path.dirname(dest), size + walSize, cannot);

  try {
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await removeDbFiles(dest);
    const doing = opts.verb === 'back up' ? 'Backing up' : 'Copying';
    const label = wal ? `${doing} (WAL snapshot, the proxy is not paused)…` : `${doing} (the proxy's writes wait, about ${seconds(estimatedPauseMs)})…`;
    opts.onProgress?.({ message: label, percent: 0 });
    let pages = 0;
    let pauseMs = 0;
    if (wal) pages = await copyFromSnapshot(dbPath, dest, opts, label);
    else {
      ({ pages, pauseMs } = await copyUnderShared(dbPath, dest, opts));
      const now = await fs.stat(dbPath).catch(() => undefined);
      if (now?.ino !== ino) throw new DoctorError(`${name} was replaced or deleted while it was copied; the copy was thrown away.`);
      opts.onProgress?.({ message: `${label} 100%`, percent: 100 });
    }
    opts.onProgress?.({ message: 'Checking the copy (quick_check)…', percent: 100 });
    return { wal, pages, pauseMs, estimatedPauseMs, problems: await quickCheckCopy(dest) };
  } catch (e) {
    await removeDbFiles(dest);
    if (isDiskFull(e)) {
      const free = await freeBytes(path.dirname(dest)).catch(() => undefined);
      throw new DoctorError(
        `${cannot}: the disk filled up during the copy (not enough space: ${free ? `${mib(free.free)} free on ${free.mount}` : 'no space left'}); the partial copy was removed and the database is untouched. Free some space, then try again.`,
      );
    }
    if (e instanceof DoctorError) throw e;
    throw new DoctorError(`${cannot}: the copy failed: ${(e as Error).message}. The database is untouched.`);
  }
}

export async function backupDatabase(dbPath: string, opts: BackupOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  dbPath = path.resolve(dbPath);
  const name = path.basename(dbPath);
  const out = path.resolve(opts.out ?? defaultBackupPath(dbPath));
  const partial = partialPathOf(out);
  const keep = opts.keep ?? DEFAULT_KEEP_BACKUPS;
  if (!(Number.isInteger(keep) && keep >= 1)) throw new DoctorError(`Keep at least one backup (asked to keep ${keep}).`);
  await sweepStaleTemporaries(dbPath, { force: true });
  if (await exists(out)) throw new DoctorError(`The backup file ${out} already exists; choose another name.`);

  const copy = await copyAndCheck(dbPath, partial, { ...opts, verb: 'back up' });
  try {
    if (copy.problems.length) {
      throw new DoctorError(
        `The copy failed quick_check (${copy.problems.slice(0, 3).join('; ')}); no backup was kept. Run Check Health with the integrity check on the database.`,
      );
    }
    await fsyncFile(partial);
    if (await exists(out)) throw new DoctorError(`The backup file ${out} appeared while the copy ran; the copy was not moved over it.`);
    await fs.rename(partial, out);
    await fsyncDir(path.dirname(out));
  } catch (e) {
    await removeDbFiles(partial);
    if (e instanceof DoctorError) throw e;
    throw new DoctorError(`The backup of ${dbPath} failed: ${(e as Error).message}.`);
  }
  const removed = await rotateBackups(dbPath, out, keep);
  const st = await fs.stat(out);
  const durationMs = Math.round(performance.now() - started);
  const rotated = removed.length ? ` Removed ${removed.length} older backup${removed.length === 1 ? '' : 's'} (keeping the newest ${keep}).` : '';
  return {
    ok: true,
    path: out,
    bytes: st.size,
    pages: copy.pages,
    durationMs,
    mode: copy.wal ? 'wal-snapshot' : 'rollback-shared',
    pauseMs: copy.pauseMs,
    estimatedPauseMs: copy.estimatedPauseMs,
    message:
      (copy.wal
        ? `Backed up ${name} to ${out} (${mib(st.size)}, checked, ${seconds(durationMs)}; from a WAL snapshot, the proxy was not paused).`
        : `Backed up ${name} to ${out} (${mib(st.size)}, checked, ${seconds(durationMs)}; the proxy's writes waited up to ${seconds(copy.pauseMs)}).`) + rotated,
  };
}

/**
 * Copies the database into a throwaway temporary (backups/, same scheme as a backup's)
 * and quick_checks it: the integrity check on a rollback-journal database, so the live
 * file is locked only for the copy. Returns quick_check's findings (empty: ok); throws
 * a DoctorError when the copy could not be made. The temporary is always removed.
 */
export async function checkOnCopy(dbPath: string, opts: BackupOptions = {}): Promise<{ problems: string[] }> {
  dbPath = path.resolve(dbPath);
  await sweepStaleTemporaries(dbPath, { force: true });
  const tmp = checkCopyPath(dbPath);
  const hadDir = await exists(path.dirname(tmp));
  try {
    const { problems } = await copyAndCheck(dbPath, tmp, { ...opts, verb: 'check' });
    return { problems };
  } finally {
    await removeDbFiles(tmp);
    // A check leaves the folder as it found it (rmdir removes only an empty one).
    if (!hadDir) await fs.rmdir(path.dirname(tmp)).catch(() => undefined);
  }
}

/** The newest `keep` default-named backups of this database stay (always `justMade`); older ones go. */
async function rotateBackups(dbPath: string, justMade: string, keep: number): Promise<string[]> {
  const dir = backupsDirOf(dbPath);
  if (path.dirname(justMade) !== dir) return [];
  const re = new RegExp(`^${escapeRe(baseOf(dbPath))}-\\d{8}T\\d{6}Z\\.db$`);
  if (!re.test(path.basename(justMade))) return [];
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => re.test(n));
  // The UTC stamp in the name sorts as the time it was taken.
  names.sort().reverse();
  const just = path.basename(justMade);
  const kept = new Set([just, ...names.filter((n) => n !== just).slice(0, keep - 1)]);
  const old = names.filter((n) => !kept.has(n));
  for (const n of old) await removeDbFiles(path.join(dir, n));
  return old;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const lastSweep = new Map<string, number>();

/**
 * Removes what a killed or failed backup or integrity check left: temporaries whose
 * owner is gone (see STALE_TEMP_MS for owners this process cannot see), and the older
 * schemes' leftovers once nobody has written them for STALE_TEMP_MS. Never a finished backup, never another live process's copy.
 * Never throws: cleaning up must not fail the check or repair that does it.
 */
export async function sweepStaleTemporaries(dbPath: string, opts: { force?: boolean; now?: number } = {}): Promise<string[]> {
  const removed: string[] = [];
  try {
    const now = opts.now ?? Date.now();
    const abs = path.resolve(dbPath);
    const real = await fs.realpath(abs).catch(() => abs);
    const dirs = [...new Set([path.dirname(abs), path.dirname(real)])];
    for (const dbDir of dirs) {
      if (!opts.force && now - (lastSweep.get(dbDir) ?? -Infinity) < SWEEP_EVERY_MS) continue;
      lastSweep.set(dbDir, now);
      const olderThan = (p: string, ms: number) => fs.stat(p).then((st) => now - st.mtimeMs >= ms, () => false);
      const backups = path.join(dbDir, 'backups');
      for (const n of await fs.readdir(backups).catch(() => [] as string[])) {
        const p = path.join(backups, n);
        const m = TEMP_RE.exec(n);
        let stale = false;
        if (m) {
          const ours = m[1] === pidNamespace() && m[1] !== 'x';
          if (!ours) stale = await olderThan(p, STALE_TEMP_MS);
          else stale = !isAlive(Number(m[2])) || (await olderThan(p, REUSED_PID_MS));
        } else if (OLD_PARTIAL_RE.test(n)) stale = await olderThan(p, STALE_TEMP_MS);
        if (stale && (await fs.rm(p, { force: true }).then(() => true, () => false))) removed.push(p);
      }
      for (const n of await fs.readdir(dbDir).catch(() => [] as string[])) {
        if (!OLD_CHECK_DIR_RE.test(n)) continue;
        const p = path.join(dbDir, n);
        const inside = await fs.readdir(p).catch(() => [] as string[]);
        const ages = await Promise.all([p, ...inside.map((x) => path.join(p, x))].map((x) => olderThan(x, STALE_TEMP_MS)));
        if (ages.every(Boolean) && (await fs.rm(p, { recursive: true, force: true }).then(() => true, () => false))) removed.push(p);
      }
    }
  } catch {
    // best effort: the next run tries again
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Free bytes for an unprivileged writer on the disk that holds `dir` (or its nearest existing parent). */
async function freeBytes(dir: string): Promise<{ free: number; mount: string }> {
  let d = path.resolve(dir);
  for (;;) {
    const st = await fs.statfs(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT' || path.dirname(d) === d) throw e;
      return undefined;
    });
    if (st) {
      const mount = (await filesystemOf(d))?.mountPoint ?? d;
      return { free: st.bavail * st.bsize, mount };
    }
    d = path.dirname(d);
  }
}

/** Refuses before copying when the copy would not fit (and leave the proxy room to write). */
async function ensureSpace(dir: string, copyBytes: number, cannot: string): Promise<void> {
  const need = copyBytes + HEADROOM_BYTES;
  const { free, mount } = await freeBytes(dir).catch(() => ({ free: Infinity, mount: dir }));
  if (free >= need) return;
  throw new DoctorError(
    `${cannot}: not enough space: need ${mibCeil(need)}, ${mib(free)} free on ${mount} (a ${mib(copyBytes)} copy in ${dir}, plus ${mib(HEADROOM_BYTES)} left free so the proxy can keep writing). Nothing was written. Free some space (older backups are in ${dir}), then try again.`,
  );
}

function isDiskFull(e: unknown): boolean {
  const code = sqliteCode(e) ?? (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || /SQLITE_FULL|database or disk is full|ENOSPC/.test(String((e as Error)?.message));
}

/** WAL mode: small steps inside one read transaction (one snapshot); the proxy never waits. */
async function copyFromSnapshot(dbPath: string, dest: string, opts: BackupOptions, label: string): Promise<number> {
  return withFileGate(dbPath, () =>
    withConnection(dbPath, { readonly: true, busyTimeoutMs: opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS }, async (src) => {
      await src.exec('BEGIN');
      try {
        // Opens the snapshot the steps below share (a bare BEGIN takes no lock yet).
        await src.get('SELECT 1 FROM sqlite_master LIMIT 1');
        return await stepThrough(await startBackup(src, dest), opts, label);
      } finally {
        await src.exec('COMMIT').catch(() => undefined);
      }
    }),
  );
}

/**
 * Rollback mode: one step(-1), i.e. one SHARED lock for the whole copy, into our own
 * connection on the copy with synchronous=OFF (the copy is fsynced after, unlocked).
 * The source side is node-sqlite3's own connection, which has no busy timeout: a try
 * that meets a commit in flight gets SQLITE_BUSY at once and nothing is copied, so it
 * is retried after a short random pause for up to `busyTimeoutMs`.
 */
/**
 * The rollback-mode copy: hold SHARED (no writer can change the file meanwhile: writing it
 * takes EXCLUSIVE) and let `cp` copy the file in the kernel (copy_file_range or a reflink),
 * several times faster than SQLite's page-by-page backup, so the proxy waits far less.
 * `cp` runs in a child process on purpose: the copy's own descriptor on the database, once
 * closed, would drop every POSIX lock this process holds on it, SHARED included. Where
 * there is no `cp` (Windows), SQLite's one-pass backup does the same job more slowly.
 */
async function copyUnderShared(dbPath: string, dest: string, opts: BackupOptions): Promise<{ pages: number; pauseMs: number }> {
  if (process.platform === 'win32') return backupUnderShared(dbPath, dest, opts);
  const lockWaitMs = opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS;
  const source = await fs.realpath(dbPath);
  return withFileGate(dbPath, () =>
    withConnection(dbPath, { readonly: true, busyTimeoutMs: lockWaitMs }, async (c) => {
      if (opts.signal?.aborted) throw new DoctorError('The backup was cancelled; no backup file was written.');
      await c.exec('BEGIN');
      try {
        // The first read takes SHARED (waiting behind a commit in flight, up to lockWaitMs).
        const ps = await c.get<{ page_size: number }>('PRAGMA page_size').catch((e: unknown) => {
          if (isBusy(e)) {
            throw new DoctorError(`The proxy kept the database locked for ${seconds(lockWaitMs)}, so the copy could not start. Enable WAL first, then back up: from a WAL snapshot nothing waits.`);
          }
          throw e;
        });
        await c.get('SELECT count(*) AS n FROM sqlite_master');
        const t0 = performance.now();
        await runCp(source, dest);
        const pauseMs = Math.round(performance.now() - t0);
        const size = (await fs.stat(dest)).size;
        return { pages: Math.round(size / (ps?.page_size || 4096)), pauseMs };
      } finally {
        await c.exec('COMMIT').catch(() => undefined);
      }
    }),
  );
}

function runCp(source: string, dest: string): Promise<void> {
  const args = process.platform === 'linux' ? ['--reflink=auto', '--', source, dest] : ['--', source, dest];
  return new Promise((resolve, reject) => {
    execFile('cp', args, { timeout: 10 * 60 * 1000 }, (err, _out, stderr) => {
      if (!err) resolve();
      else reject(/No space left/i.test(String(stderr)) ? Object.assign(new Error(String(stderr).trim()), { code: 'ENOSPC' }) : new Error(`cp failed: ${String(stderr).trim() || err.message}`));
    });
  });
}

async function backupUnderShared(dbPath: string, dest: string, opts: BackupOptions): Promise<{ pages: number; pauseMs: number }> {
  const lockWaitMs = opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS;
  return withFileGate(dbPath, () =>
    withConnection(dest, { readonly: false, create: true, busyTimeoutMs: 0 }, async (copy) => {
      // The copy is thrown away on any failure, so it needs neither a journal nor syncs while written.
      await copy.exec('PRAGMA synchronous=OFF; PRAGMA journal_mode=OFF;');
      const b = await startBackupInto(copy, dbPath);
      try {
        const deadline = performance.now() + lockWaitMs;
        for (let tries = 1; ; tries++) {
          if (opts.signal?.aborted) throw new DoctorError('The backup was cancelled; no backup file was written.');
          const t0 = performance.now();
          try {
            await step(b, -1);
            if (!b.completed) throw new DoctorError('SQLite did not finish the one-pass copy.');
            return { pages: b.pageCount, pauseMs: Math.round(performance.now() - t0) };
          } catch (e) {
            if (!isBusy(e) || b.failed) throw e;
            if (performance.now() > deadline) {
              throw new DoctorError(
                `The proxy kept the database locked for ${seconds(lockWaitMs)} (${tries} tries), so the copy could not start. Enable WAL first, then back up: from a WAL snapshot nothing waits.`,
              );
            }
          }
          await new Promise((r) => setTimeout(r, MIN_RETRY_MS + Math.random() * (MAX_RETRY_MS - MIN_RETRY_MS)));
        }
      } finally {
        await new Promise<void>((r) => b.finish(() => r()));
      }
    }),
  );
}

async function stepThrough(b: SqliteBackup, opts: BackupOptions, label: string): Promise<number> {
  // Busy or locked would mean the snapshot moved; fail instead of retrying into a restart.
  b.retryErrors = [];
  let lastRemaining = Infinity;
  try {
    while (!b.completed) {
      if (opts.signal?.aborted) throw new DoctorError('The backup was cancelled; no backup file was written.');
      await step(b, STEP_PAGES);
      if (b.failed) throw new DoctorError('SQLite reported the backup as failed.');
      // Cannot happen inside one read transaction; if it ever does, the copy is not one pass.
      if (b.remaining > lastRemaining) throw new DoctorError('The backup restarted although it ran in one read transaction.');
      lastRemaining = b.remaining;
      if (b.pageCount > 0) {
        const percent = Math.round(((b.pageCount - b.remaining) / b.pageCount) * 100);
        opts.onProgress?.({ message: `${label} ${percent}%`, percent });
      }
    }
    return b.pageCount;
  } finally {
    await new Promise<void>((r) => b.finish(() => r()));
  }
}

/** quick_check on the copy: nobody else has it open, so it may take its time. Returns its problems; none when ok. */
async function quickCheckCopy(copy: string): Promise<string[]> {
  // Read-write: a copy of a WAL database is a WAL database, and a read-only connection
  // could not create its -shm. Nothing is written.
  const rows = await withFileGate(copy, () =>
    withConnection(copy, { readonly: false, busyTimeoutMs: 0 }, (c) => c.all<{ quick_check: string }>('PRAGMA quick_check(20)')),
  ).catch((e: unknown) => {
    // A copy SQLite calls corrupt is a verdict about the data, not a failure to check.
    const code = sqliteCode(e);
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return [{ quick_check: String((e as Error).message) }];
    throw e;
  });
  const messages = rows.map((r) => r.quick_check);
  return messages.length === 1 && messages[0] === 'ok' ? [] : messages;
}

function step(b: SqliteBackup, pages: number): Promise<void> {
  return new Promise((res, rej) => b.step(pages, (err) => (err ? rej(err) : res())));
}

async function fsyncFile(p: string): Promise<void> {
  // The check's connection is closed: this descriptor drops nobody's locks.
  const fh = await fs.open(p, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes the rename itself durable; some filesystems cannot open a directory, then it is best effort. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}

async function removeDbFiles(p: string): Promise<void> {
  await Promise.all(['', '-journal', '-wal', '-shm'].map((s) => fs.rm(`${p}${s}`, { force: true })));
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function mibCeil(n: number): string {
  return `${Math.ceil(n / 1024 / 1024)} MiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
