// The WAL-mode copy: SQLite's backup API in small steps, all inside one read
// transaction. That snapshot blocks nobody (the proxy commits into the -wal meanwhile),
// so the steps can be small, for progress and cancellation; and since no step opens a
// read transaction of its own, a commit in between never restarts the copy. On a
// node:sqlite without backup() the copy is one VACUUM INTO: one snapshot as well (sqlite/backup.ts).
import { DoctorError } from '../errors';
import { copyNeedsReadTransaction, copySnapshot } from '../sqlite/backup';
import { readTransaction } from '../sqlite/readTransaction';
import { DEFAULT_LOCK_WAIT_MS, type BackupOptions } from './backupOptions';

/** Steps inside the one read transaction: progress and cancellation every few MB, no restarts. */
const STEP_PAGES = 4096;

const CANCELLED = 'The backup was cancelled; no backup file was written.';

/** WAL mode: small steps inside one read transaction (one snapshot); the proxy never waits. */
export async function copyFromSnapshot(dbPath: string, dest: string, opts: BackupOptions, label: string): Promise<number> {
  const steps = copyNeedsReadTransaction();
  return readTransaction(dbPath, { busyTimeoutMs: opts.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS, oneTransaction: steps }, async (src) => {
    // Opens the snapshot the steps below share (a bare BEGIN takes no lock yet).
    if (steps) await src.get('SELECT 1 FROM sqlite_master LIMIT 1');
    if (opts.signal?.aborted) throw new DoctorError(CANCELLED);
    let lastRemaining = Infinity;
    return copySnapshot(src, dest, STEP_PAGES, (remaining, pageCount) => {
      if (remaining > 0 && opts.signal?.aborted) throw new DoctorError(CANCELLED);
      // Cannot happen inside one read transaction; if it ever does, the copy is not one pass.
      if (remaining > lastRemaining) throw new DoctorError('The backup restarted although it ran in one read transaction.');
      lastRemaining = remaining;
      if (pageCount > 0) {
        const percent = Math.round(((pageCount - remaining) / pageCount) * 100);
        opts.onProgress?.({ message: `${label} ${percent}%`, percent });
      }
    });
  });
}
