// node-sqlite3's backup object: SQLite's backup API step by step (sqlite3_backup_step),
// each step on libuv's thread pool. Native connections only (backup.ts picks).
import type * as sqlite3 from '@vscode/sqlite3';

// node-sqlite3's Backup object is not in its .d.ts.
export interface SqliteBackup {
  step(pages: number, cb: (err: Error | null) => void): void;
  finish(cb?: (err: Error | null) => void): void;
  readonly idle: boolean;
  readonly completed: boolean;
  readonly failed: boolean;
  readonly remaining: number;
  readonly pageCount: number;
  retryErrors: number[];
}

type RawBackupApi = {
  backup(file: string, destName: string, sourceName: string, filenameIsDest: boolean, cb: (err: Error | null) => void): SqliteBackup;
};

/** Copies from the open connection `source` into the file `destPath` (node-sqlite3 opens it). */
export function startBackup(source: sqlite3.Database, destPath: string): Promise<SqliteBackup> {
  return new Promise((resolve, reject) => {
    const b = (source as unknown as RawBackupApi).backup(destPath, 'main', 'main', true, (err) => (err ? reject(err) : resolve(b)));
  });
}

/**
 * Copies from the file `sourcePath` into the open connection `dest`. node-sqlite3 opens
 * the source with plain sqlite3_open (which would create a missing file), so callers
 * check the source exists first and that it is the same file afterwards.
 */
export function startBackupInto(dest: sqlite3.Database, sourcePath: string): Promise<SqliteBackup> {
  return new Promise((resolve, reject) => {
    const b = (dest as unknown as RawBackupApi).backup(sourcePath, 'main', 'main', false, (err) => (err ? reject(err) : resolve(b)));
  });
}

/** Copies up to `pages` pages (-1: all that remain) in one step. */
export function stepBackup(b: SqliteBackup, pages: number): Promise<void> {
  return new Promise((res, rej) => b.step(pages, (err) => (err ? rej(err) : res())));
}

/** Ends the backup and releases its hold on both files; never throws. */
export function finishBackup(b: SqliteBackup): Promise<void> {
  return new Promise<void>((r) => b.finish(() => r()));
}
