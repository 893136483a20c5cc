// Old backups go after a new one succeeds, so the backups folder does not fill the disk.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { backupsDirOf, baseOf, removeDbFiles } from './backupFiles';

/** The newest `keep` default-named backups of this database stay (always `justMade`); older ones go. */
export async function rotateBackups(dbPath: string, justMade: string, keep: number): Promise<string[]> {
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
