// Room on the disk for a copy: refused before it starts when it would not fit, and a
// disk that filled up during it told apart from any other failure.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DoctorError } from '../errors';
import { filesystemOf } from '../diagnose/filesystem';
import { sqliteCode } from '../sqlite/connection';
import { formatMiB } from '../../shared/labels';

/** Free space the copy must leave on the disk: the proxy's next commits need room for their journal or WAL. */
const HEADROOM_BYTES = 32 * 1024 * 1024;

/** Free bytes for an unprivileged writer on the disk that holds `dir` (or its nearest existing parent). */
export async function freeBytes(dir: string): Promise<{ free: number; mount: string }> {
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
export async function ensureSpace(dir: string, copyBytes: number, cannot: string): Promise<void> {
  const need = copyBytes + HEADROOM_BYTES;
  const { free, mount } = await freeBytes(dir).catch(() => ({ free: Infinity, mount: dir }));
  if (free >= need) return;
  throw new DoctorError(
    `${cannot}: not enough space: need ${formatMiB(need, { roundUp: true })}, ${formatMiB(free)} free on ${mount} (a ${formatMiB(copyBytes)} copy in ${dir}, plus ${formatMiB(HEADROOM_BYTES)} left free so the proxy can keep writing). Nothing was written. Free some space (older backups are in ${dir}), then try again.`,
  );
}

export function isDiskFull(e: unknown): boolean {
  const code = sqliteCode(e) ?? (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || /SQLITE_FULL|database or disk is full|ENOSPC/.test(String((e as Error)?.message));
}
