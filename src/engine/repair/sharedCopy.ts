// The rollback-mode copy: one SHARED lock for the whole copy, so it is one consistent
// snapshot, while the proxy's commits wait behind it (copyAndCheck.ts estimates that
// pause first and refuses a copy that would take too long).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { DoctorError } from '../errors';
import { withFileGate } from '../sqlite/fileGate';
import { loadedBackend } from '../sqlite/backend';
import { copyNeedsReadTransaction, copySnapshot } from '../sqlite/backup';
import { isBusy, withConnection, type Connection } from '../sqlite/connection';
import { finishBackup, startBackupInto, stepBackup } from '../sqlite/nativeBackup';
import { readTransaction } from '../sqlite/readTransaction';
import { formatSeconds } from '../../shared/labels';
import { DEFAULT_LOCK_WAIT_MS, type BackupOptions } from './backupOptions';

/** Between tries to start the rollback-mode copy: lands between two of the proxy's commits (docs/DESIGN.md, "Rules", 3). */
const MIN_RETRY_MS = 2;
const MAX_RETRY_MS = 20;

/**
 * The rollback-mode copy: hold SHARED (no writer can change the file meanwhile: writing it
 * takes EXCLUSIVE) and let `cp` copy the file in the kernel (copy_file_range or a reflink),
 * several times faster than SQLite's page-by-page backup, so the proxy waits far less.
 * `cp` runs in a child process on purpose: the copy's own descriptor on the database, once
 * closed, would drop every POSIX lock this process holds on it, SHARED included. Where
 * there is no `cp` (Windows), SQLite's one-pass backup does the same job more slowly.
 */
export async function copyUnderShared(dbPath: string, dest: string, opts: BackupOptions): Promise<{ pages: number; pauseMs: number }> {
  if (process.platform === 'win32') return 'node' in loadedBackend() ? copyUnderNodeShared(dbPath, dest, opts) : backupUnderShared(dbPath, dest, opts);
  const lockWaitMs = opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS;
  const source = await fs.realpath(dbPath);
  return readTransaction(dbPath, { busyTimeoutMs: lockWaitMs }, async (c) => {
    if (opts.signal?.aborted) throw new DoctorError('The backup was cancelled; no backup file was written.');
    // The first read takes SHARED (waiting behind a commit in flight, up to lockWaitMs).
    const ps = await takeShared(c, lockWaitMs);
    await c.get('SELECT count(*) AS n FROM sqlite_master');
    const t0 = performance.now();
    await runCp(source, dest);
    const pauseMs = Math.round(performance.now() - t0);
    const size = (await fs.stat(dest)).size;
    return { pages: Math.round(size / (ps?.page_size || 4096)), pauseMs };
  });
}

/** A busy error as what the user reads: the copy could not take SHARED within the busy timeout. */
function lockedOut(e: unknown, lockWaitMs: number): unknown {
  if (!isBusy(e)) return e;
  return new DoctorError(
    `The proxy kept the database locked for ${formatSeconds(lockWaitMs)}, so the copy could not start. Enable WAL first, then back up: from a WAL snapshot nothing waits.`,
  );
}

/** The first read of a read transaction: it takes SHARED, waiting behind a commit in flight up to lockWaitMs. */
function takeShared(c: Connection, lockWaitMs: number): Promise<{ page_size: number } | undefined> {
  return c.get<{ page_size: number }>('PRAGMA page_size').catch((e: unknown) => {
    throw lockedOut(e, lockWaitMs);
  });
}

function runCp(source: string, dest: string): Promise<void> {
  const args = process.platform === 'linux' ? ['--reflink=auto', '--', source, dest] : ['--', source, dest];
  return new Promise((resolve, reject) => {
    execFile('cp', args, { timeout: 10 * 60 * 1000 }, (err, _out, stderr) => {
      if (!err) resolve();
      else
        reject(
          /No space left/i.test(String(stderr))
            ? Object.assign(new Error(String(stderr).trim()), { code: 'ENOSPC' })
            : new Error(`cp failed: ${String(stderr).trim() || err.message}`),
        );
    });
  });
}

/**
 * Without `cp`: one step(-1), i.e. one SHARED lock for the whole copy, into our own
 * connection on the copy with synchronous=OFF (the copy is fsynced after, unlocked).
 * The source side is node-sqlite3's own connection, which has no busy timeout: a try
 * that meets a commit in flight gets SQLITE_BUSY at once and nothing is copied, so it
 * is retried after a short random pause for up to `busyTimeoutMs`.
 */
async function backupUnderShared(dbPath: string, dest: string, opts: BackupOptions): Promise<{ pages: number; pauseMs: number }> {
  const lockWaitMs = opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS;
  return withFileGate(dbPath, () =>
    withConnection(dest, { readonly: false, create: true, busyTimeoutMs: 0 }, async (copy) => {
      // The copy is thrown away on any failure, so it needs neither a journal nor syncs while written.
      await copy.exec('PRAGMA synchronous=OFF; PRAGMA journal_mode=OFF;');
      const b = await startBackupInto(copy.raw, dbPath);
      try {
        const deadline = performance.now() + lockWaitMs;
        for (let tries = 1; ; tries++) {
          if (opts.signal?.aborted) throw new DoctorError('The backup was cancelled; no backup file was written.');
          const t0 = performance.now();
          try {
            await stepBackup(b, -1);
            if (!b.completed) throw new DoctorError('SQLite did not finish the one-pass copy.');
            return { pages: b.pageCount, pauseMs: Math.round(performance.now() - t0) };
          } catch (e) {
            if (!isBusy(e) || b.failed) throw e;
            if (performance.now() > deadline) {
              throw new DoctorError(
                `The proxy kept the database locked for ${formatSeconds(lockWaitMs)} (${tries} tries), so the copy could not start. Enable WAL first, then back up: from a WAL snapshot nothing waits.`,
              );
            }
          }
          await new Promise((r) => setTimeout(r, MIN_RETRY_MS + Math.random() * (MAX_RETRY_MS - MIN_RETRY_MS)));
        }
      } finally {
        await finishBackup(b);
      }
    }),
  );
}

/**
 * Without `cp`, on node:sqlite: its backup() in one step (or one VACUUM INTO) from our own
 * read-only connection, whose busy timeout waits out a commit in flight, so nothing needs
 * retrying. SHARED is held from the first read to the end of the copy, as above; node:sqlite
 * writes the copy with its default journal and syncs, so the pause is somewhat longer.
 */
async function copyUnderNodeShared(dbPath: string, dest: string, opts: BackupOptions): Promise<{ pages: number; pauseMs: number }> {
  const lockWaitMs = opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS;
  const inTransaction = copyNeedsReadTransaction();
  return readTransaction(dbPath, { busyTimeoutMs: lockWaitMs, oneTransaction: inTransaction }, async (c) => {
    if (opts.signal?.aborted) throw new DoctorError('The backup was cancelled; no backup file was written.');
    if (inTransaction) await takeShared(c, lockWaitMs);
    const t0 = performance.now();
    // VACUUM INTO takes SHARED itself, under the same busy timeout.
    const pages = await copySnapshot(c, dest, -1, () => undefined).catch((e: unknown) => {
      throw lockedOut(e, lockWaitMs);
    });
    return { pages, pauseMs: Math.round(performance.now() - t0) };
  });
}
