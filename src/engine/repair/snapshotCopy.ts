// The WAL-mode copy: SQLite's backup API in small steps, all inside one read
// transaction. That snapshot blocks nobody (the proxy commits into the -wal meanwhile),
// so the steps can be small, for progress and cancellation; and since no step opens a
// read transaction of its own, a commit in between never restarts the copy.
import { DoctorError } from '../errors';
import { finishBackup, startBackup, stepBackup, type SqliteBackup } from '../sqlite/connection';
import { readTransaction } from '../sqlite/readTransaction';
import { DEFAULT_LOCK_WAIT_MS, type BackupOptions } from './backupOptions';

/** Steps inside the one read transaction: progress and cancellation every few MB, no restarts. */
const STEP_PAGES = 4096;

/** WAL mode: small steps inside one read transaction (one snapshot); the proxy never waits. */
export async function copyFromSnapshot(dbPath: string, dest: string, opts: BackupOptions, label: string): Promise<number> {
  return readTransaction(dbPath, { busyTimeoutMs: opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS }, async (src) => {
    // Opens the snapshot the steps below share (a bare BEGIN takes no lock yet).
    await src.get('SELECT 1 FROM sqlite_master LIMIT 1');
    return stepThrough(await startBackup(src, dest), opts, label);
  });
}

async function stepThrough(b: SqliteBackup, opts: BackupOptions, label: string): Promise<number> {
  // Busy or locked would mean the snapshot moved; fail instead of retrying into a restart.
  b.retryErrors = [];
  let lastRemaining = Infinity;
  try {
    while (!b.completed) {
      if (opts.signal?.aborted) throw new DoctorError('The backup was cancelled; no backup file was written.');
      await stepBackup(b, STEP_PAGES);
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
    await finishBackup(b);
  }
}
