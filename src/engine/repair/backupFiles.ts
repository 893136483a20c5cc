// Where backups live and what they are called, and how a copy is removed with its companions.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** A UTC stamp for a file name, e.g. 20240102T030405Z: sorts as the time it was taken. */
export function stampOf(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** The database's file name without its extension: the start of its backups' names. */
export function baseOf(dbPath: string): string {
  return path.basename(dbPath).replace(/\.(db|sqlite3?)$/i, '');
}

/** `<db folder>/backups`: where backups and the doctor's temporary copies live. */
export function backupsDirOf(dbPath: string): string {
  return path.join(path.dirname(path.resolve(dbPath)), 'backups');
}

export function defaultBackupPath(dbPath: string, now = new Date()): string {
  return path.join(backupsDirOf(dbPath), `${baseOf(dbPath)}-${stampOf(now)}.db`);
}

/** A copy and its own -journal, -wal and -shm. */
export async function removeDbFiles(p: string): Promise<void> {
  await Promise.all(['', '-journal', '-wal', '-shm'].map((s) => fs.rm(`${p}${s}`, { force: true })));
}
