// Online backup: a consistent, checked copy taken while the proxy keeps writing
// (copyAndCheck.ts says how, without pausing the proxy in WAL mode).
//
// The copy is written under a hidden temporary name (with the writer's PID, so a later
// run can clear a killed run's leftovers; temporaries.ts), quick_checked and fsynced,
// then renamed: nothing half-written or unchecked ever looks like a backup. Before
// copying, the free space is checked; after a backup, older backups beyond the newest
// few are removed.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DoctorError } from '../errors';
import { formatMiB, formatSeconds } from '../../shared/labels';
import type { BackupResult } from '../../shared/model';
import { defaultBackupPath, removeDbFiles } from './backupFiles';
import type { BackupOptions } from './backupOptions';
import { copyAndCheck } from './copyAndCheck';
import { fsyncDir, fsyncFile } from './fsync';
import { rotateBackups } from './rotateBackups';
import { checkCopyPath, partialPathOf, sweepStaleTemporaries } from './temporaries';

/** Backups of one database kept by default; older ones go after each successful backup. */
export const DEFAULT_KEEP_BACKUPS = 5;

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
    // The check's connection is closed: this descriptor drops nobody's locks.
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
        ? `Backed up ${name} to ${out} (${formatMiB(st.size)}, checked, ${formatSeconds(durationMs)}; from a WAL snapshot, the proxy was not paused).`
        : `Backed up ${name} to ${out} (${formatMiB(st.size)}, checked, ${formatSeconds(durationMs)}; the proxy's writes waited up to ${formatSeconds(copy.pauseMs)}).`) +
      rotated,
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

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
