// One copy of what a connection sees, on either engine (docs/DESIGN.md, "Rules", 2, the
// physics of backups):
// - native: node-sqlite3's backup object, stepped by hand (nativeBackup.ts);
// - node:sqlite ≥ 22.16 / 23.8: its backup(), which steps on libuv's thread pool;
// - older node:sqlite: VACUUM INTO, one statement, so one read transaction of its own.
// The first two copy inside the caller's read transaction, so every step sees the same
// snapshot and a commit in between never restarts the copy. VACUUM INTO cannot run inside
// a transaction ("cannot VACUUM from within a transaction"), but as one statement it is
// one snapshot all the same; it blocks the event loop for the whole copy and cannot report
// progress or be cancelled, which is the price of a Node without backup().
import * as fs from 'node:fs/promises';
import { DoctorError } from '../errors';
import { loadedBackend } from './backend';
import type { Connection } from './connection';
import { finishBackup, startBackup, stepBackup } from './nativeBackup';
import { toSqliteError } from './sqliteErrors';

/**
 * Called after each step with the pages still to copy and the total; it is also called once
 * with 0 remaining when the copy is complete. Throwing stops the copy with that error.
 */
export type OnBackupStep = (remaining: number, pageCount: number) => void;

/**
 * Whether copySnapshot runs inside the caller's read transaction (the backup API) or outside
 * any (VACUUM INTO). Asked before the connection opens: readTransaction decides then.
 */
export function copyNeedsReadTransaction(): boolean {
  const b = loadedBackend();
  return !('node' in b) || typeof b.node.backup === 'function';
}

/**
 * Copies the database `source` has open into the file `destPath`, `stepPages` pages a step
 * (-1: all in one step); returns the pages copied. A busy or locked step fails the copy
 * instead of being retried: inside one read transaction it would mean the snapshot moved.
 */
export async function copySnapshot(source: Connection, destPath: string, stepPages: number, onStep: OnBackupStep): Promise<number> {
  const d = source.driver;
  if (d.name === 'native') {
    const b = await startBackup(d.db, destPath);
    b.retryErrors = [];
    try {
      while (!b.completed) {
        await stepBackup(b, stepPages);
        if (b.failed) throw new DoctorError('SQLite reported the backup as failed.');
        onStep(b.remaining, b.pageCount);
      }
      return b.pageCount;
    } finally {
      await finishBackup(b);
    }
  }
  if (typeof d.module.backup === 'function') {
    // node:sqlite retries a busy step by itself; inside our read transaction there is none
    // on the source, and nobody else has the new copy open.
    const pages = await d.module
      .backup(d.db, destPath, { rate: stepPages, progress: ({ remainingPages, totalPages }) => onStep(remainingPages, totalPages) })
      .catch((e: unknown) => {
        throw toSqliteError(e);
      });
    onStep(0, pages);
    return pages;
  }
  await source.run('VACUUM INTO ?', [destPath]);
  const ps = await source.get<{ page_size: number }>('PRAGMA page_size');
  const pages = Math.round((await fs.stat(destPath)).size / (ps?.page_size || 4096));
  onStep(0, pages);
  return pages;
}
