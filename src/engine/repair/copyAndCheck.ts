// One consistent copy of the database, quick_checked: what a backup keeps and what the
// integrity check on a rollback-journal database looks at (docs/DESIGN.md, "Rules", 2,
// the physics of backups).
//
// One pass, always. SQLite restarts a backup whenever another connection commits
// between two steps that each open their own read transaction, so a copy in small
// steps never finishes under a busy proxy (issue 9: 770 MB, a writer at 50/s, failed
// after one restart). So the copy sees one snapshot from start to end:
// - WAL mode: our source connection opens ONE read transaction and every step runs
//   inside it (snapshotCopy.ts). That snapshot blocks nobody, so the proxy never waits.
// - Rollback mode: the read transaction is a SHARED lock, and the proxy's commits wait
//   behind it for the whole copy (sharedCopy.ts). That is only safe while the copy is
//   well within the proxy's busy timeout, so the pause is estimated from the file size
//   first and a copy that would take too long is refused with what to do instead. The
//   copy is fsynced after the lock is gone: fsyncing the whole file while SHARED is still
//   held cost 0.9 s of a 3.2 s pause for 887 MiB.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DoctorError } from '../errors';
import { withFileGate } from '../sqlite/fileGate';
import { readHeader } from '../sqlite/header';
import { sqliteCode, withConnection } from '../sqlite/connection';
import { formatMiB, formatSeconds } from '../../shared/labels';
import { removeDbFiles } from './backupFiles';
import type { BackupOptions } from './backupOptions';
import { ensureSpace, freeBytes, isDiskFull } from './diskSpace';
import { copyUnderShared } from './sharedCopy';
import { copyFromSnapshot } from './snapshotCopy';

/**
 * One-pass copy throughput on this machine kind (2-core VM, local disk, warm page
 * cache), measured with the rollback-mode copy (sharedCopy.ts, the step that holds SHARED):
 * idle machine, 887 MiB in 2.06 / 2.09 / 2.41 s and 757 MiB in 1.78 / 2.01 s
 * (370–430 MiB/s); with other jobs running (load average 3.7 on 2 cores), 757 MiB in
 * 2.72 / 2.73 / 3.27 / 3.35 / 3.53 s (215–280 MiB/s). docs/DESIGN.md: 770 MB in 2.2 s.
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

/** How long a one-pass copy of a rollback-journal DB of this size holds the proxy's commits. */
export function estimatePauseMs(sizeBytes: number): number {
  return Math.ceil(sizeBytes / ONE_PASS_BYTES_PER_MS);
}

export interface CopyOptions extends BackupOptions {
  /** What the copy is for, after "Cannot " in errors: "back up", "check". */
  verb: string;
}

export interface CopyOutcome {
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
export async function copyAndCheck(dbPath: string, dest: string, opts: CopyOptions): Promise<CopyOutcome> {
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
      `${cannot} now: copying ${name} (${formatMiB(size)}) would pause the proxy's writes for about ${formatSeconds(estimatedPauseMs)}: ` +
        `in rollback-journal mode a consistent copy holds a read lock for the whole copy, and more than ${formatSeconds(maxPauseMs)} risks "database is locked" in the proxy. ` +
        `Enable WAL first (it needs no backup and takes an instant), then try again: from a WAL snapshot the proxy is never paused. ` +
        `Or stop the proxy, try again, and start it again.`,
    );
  }
  if (opts.signal?.aborted) throw new DoctorError(`${cannot}: cancelled before it started.`);

  // The copy holds every page of the database plus, from a WAL snapshot, the WAL's newer pages.
  const walSize = wal ? ((await fs.stat(`${await fs.realpath(dbPath)}-wal`).catch(() => undefined))?.size ?? 0) : 0;
  await ensureSpace(path.dirname(dest), size + walSize, cannot);

  try {
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await removeDbFiles(dest);
    const doing = opts.verb === 'back up' ? 'Backing up' : 'Copying';
    const label = wal ? `${doing} (WAL snapshot, the proxy is not paused)…` : `${doing} (the proxy's writes wait, about ${formatSeconds(estimatedPauseMs)})…`;
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
        `${cannot}: the disk filled up during the copy (not enough space: ${free ? `${formatMiB(free.free)} free on ${free.mount}` : 'no space left'}); the partial copy was removed and the database is untouched. Free some space, then try again.`,
      );
    }
    if (e instanceof DoctorError) throw e;
    throw new DoctorError(`${cannot}: the copy failed: ${(e as Error).message}. The database is untouched.`);
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
