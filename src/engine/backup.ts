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
// The copy is written under a hidden temporary name, quick_checked and fsynced, then
// renamed: nothing half-written or unchecked ever looks like a backup.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DoctorError } from './errors';
import { withFileGate } from './fileGate';
import { readHeader } from './header';
import { isBusy, startBackup, startBackupInto, withConnection, type SqliteBackup } from './sqlite';
import type { BackupResult, ProgressEvent } from './types';

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
}

/**
 * One-pass copy throughput on this machine kind (2-core VM, local disk, warm page
 * cache), measured with the rollback-mode copy below (the step that holds SHARED):
 * idle machine, 887 MiB in 2.06 / 2.09 / 2.41 s and 757 MiB in 1.78 / 2.01 s
 * (370–430 MiB/s); with other jobs running (load average 3.7 on 2 cores), 757 MiB in
 * 2.72 / 2.73 / 3.27 / 3.35 / 3.53 s (215–280 MiB/s). DESIGN.md: 770 MB in 2.2 s.
 * The estimate takes 250 MiB/s, a busy machine's figure: an idle one only finishes sooner.
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

export function defaultBackupPath(dbPath: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = path.basename(dbPath).replace(/\.(db|sqlite3?)$/i, '');
  return path.join(path.dirname(dbPath), 'backups', `${base}-${stamp}.db`);
}

/** The hidden name the copy has until it is complete and checked. */
export function partialPathOf(out: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.partial`);
}

/** How long a one-pass copy of a rollback-journal DB of this size holds the proxy's commits. */
export function estimatePauseMs(sizeBytes: number): number {
  return Math.ceil(sizeBytes / ONE_PASS_BYTES_PER_MS);
}

export async function backupDatabase(dbPath: string, opts: BackupOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  dbPath = path.resolve(dbPath);
  const name = path.basename(dbPath);
  const out = path.resolve(opts.out ?? defaultBackupPath(dbPath));
  const partial = partialPathOf(out);
  const { head, size, ino } = await withFileGate(dbPath, async () => {
    const st = await fs.stat(dbPath);
    return { head: await readHeader(dbPath), size: st.size, ino: st.ino };
  }).catch(
    (e: NodeJS.ErrnoException) => {
      throw new DoctorError(`Cannot back up ${dbPath}: ${e.code === 'ENOENT' ? 'no such file' : e.message}.`);
    },
  );
  if (!head.header) throw new DoctorError(`Cannot back up ${dbPath}: it is not a readable SQLite database (${head.problem.kind}).`);
  if (await exists(out)) throw new DoctorError(`The backup file ${out} already exists; choose another name.`);
  const wal = head.header.wal;

  const estimatedPauseMs = wal ? 0 : estimatePauseMs(size);
  const maxPauseMs = opts.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
  if (!wal && estimatedPauseMs > maxPauseMs && !opts.force) {
    throw new DoctorError(
      `Backing up ${name} (${mib(size)}) now would pause the proxy's writes for about ${seconds(estimatedPauseMs)}: ` +
        `in rollback-journal mode a consistent copy holds a read lock for the whole copy, and more than ${seconds(maxPauseMs)} risks "database is locked" in the proxy. ` +
        `Enable WAL first (it needs no backup and takes an instant), then back up: from a WAL snapshot the proxy is never paused. ` +
        `Or stop the proxy, back up, and start it again.`,
    );
  }
  if (opts.signal?.aborted) throw new DoctorError(`The backup of ${name} was cancelled before it started.`);

  await fs.mkdir(path.dirname(out), { recursive: true });
  // A leftover from a crashed run holds nothing anyone wants; the backup API would copy over it anyway.
  await fs.rm(partial, { force: true });
  const label = wal ? 'Backing up (WAL snapshot, the proxy is not paused)…' : `Backing up (the proxy's writes wait, about ${seconds(estimatedPauseMs)})…`;
  opts.onProgress?.({ message: label, percent: 0 });

  let pages = 0;
  let pauseMs = 0;
  try {
    if (wal) pages = await copyFromSnapshot(dbPath, partial, opts, label);
    else {
      ({ pages, pauseMs } = await copyUnderShared(dbPath, partial, opts));
      const now = await fs.stat(dbPath).catch(() => undefined);
      if (now?.ino !== ino) throw new DoctorError(`${name} was replaced or deleted while it was copied; no backup was kept.`);
      opts.onProgress?.({ message: `${label} 100%`, percent: 100 });
    }
    opts.onProgress?.({ message: 'Checking the copy (quick_check)…', percent: 100 });
    await checkCopy(partial);
    await fsyncFile(partial);
    if (await exists(out)) throw new DoctorError(`The backup file ${out} appeared while the copy ran; the copy was not moved over it.`);
    await fs.rename(partial, out);
    await fsyncDir(path.dirname(out));
  } catch (e) {
    await removeDbFiles(partial);
    if (e instanceof DoctorError) throw e;
    throw new DoctorError(`The backup of ${dbPath} failed: ${(e as Error).message}.`);
  }
  const st = await fs.stat(out);
  const durationMs = Math.round(performance.now() - started);
  return {
    ok: true,
    path: out,
    bytes: st.size,
    pages,
    durationMs,
    mode: wal ? 'wal-snapshot' : 'rollback-shared',
    pauseMs,
    estimatedPauseMs,
    message: wal
      ? `Backed up ${name} to ${out} (${mib(st.size)}, checked, ${seconds(durationMs)}; from a WAL snapshot, the proxy was not paused).`
      : `Backed up ${name} to ${out} (${mib(st.size)}, checked, ${seconds(durationMs)}; the proxy's writes waited up to ${seconds(pauseMs)}).`,
  };
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
async function copyUnderShared(dbPath: string, dest: string, opts: BackupOptions): Promise<{ pages: number; pauseMs: number }> {
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

/** quick_check on the copy: nobody else has it open, so it may take its time. */
async function checkCopy(copy: string): Promise<void> {
  // Read-write: a copy of a WAL database is a WAL database, and a read-only connection
  // could not create its -shm. Nothing is written.
  const rows = await withFileGate(copy, () =>
    withConnection(copy, { readonly: false, busyTimeoutMs: 0 }, (c) => c.all<{ quick_check: string }>('PRAGMA quick_check(20)')),
  );
  const messages = rows.map((r) => r.quick_check);
  if (!(messages.length === 1 && messages[0] === 'ok')) {
    throw new DoctorError(`The copy failed quick_check (${messages.slice(0, 3).join('; ')}); no backup was kept. Run Check Health with the integrity check on the database.`);
  }
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

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
