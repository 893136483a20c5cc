// The database's companion files: -wal, -shm, and a rollback -journal that may be hot.
//
// SQLite names them after the database's real path (it resolves symlinks when it opens
// the file), so a database reached through a symlink has its companions beside the real
// file, not beside the link (issue 11: a hot journal there was missed).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { sweepStaleTemporaries } from '../repair/temporaries';
import { withFileGate } from '../sqlite/fileGate';
import { openRegularFile } from '../sqlite/header';
import type { DbFiles, FileStat } from '../../shared/model';

// First 8 bytes of a rollback journal with a valid header (sqlite.org/fileformat.html § 4.1).
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/** The file SQLite opens for `dbPath`: symlinks resolved; the path as given when it does not resolve. */
export async function realDbPath(dbPath: string): Promise<string> {
  const abs = path.resolve(dbPath);
  return fs.realpath(abs).catch(() => abs);
}

/** Companion names of an already resolved database path (see realDbPath). */
export function companionPaths(realPath: string): { wal: string; shm: string; journal: string } {
  return { wal: `${realPath}-wal`, shm: `${realPath}-shm`, journal: `${realPath}-journal` };
}

export async function statFile(path: string): Promise<FileStat> {
  try {
    const st = await fs.stat(path);
    return { exists: true, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return { exists: false, size: 0, mtimeMs: 0 };
  }
}

export async function statDbFiles(dbPath: string): Promise<DbFiles> {
  const real = await realDbPath(dbPath);
  const p = companionPaths(real);
  // Every check, passive or full, also clears what a killed backup or integrity check
  // left behind (throttled; never throws).
  const [db, wal, shm, journal] = await Promise.all([statFile(dbPath), statFile(p.wal), statFile(p.shm), statFile(p.journal), sweepStaleTemporaries(dbPath)]);
  return { db, wal, shm, journal };
}

/**
 * A journal is hot when it has a valid header and nobody holds RESERVED on the
 * database: a live writer's journal looks the same, but that writer holds the lock.
 * (journal_mode=PERSIST zeroes the header on commit, TRUNCATE empties the file.)
 */
export async function journalLooksHot(dbPath: string, writerHoldsReserved: boolean): Promise<boolean> {
  if (writerHoldsReserved) return false;
  const { journal } = companionPaths(await realDbPath(dbPath));
  // Shares the database's gate (fileGate.ts): closing this descriptor must not land inside a read.
  return withFileGate(journal, async () => {
    let fh: fs.FileHandle | undefined;
    try {
      fh = await openRegularFile(journal);
      const buf = Buffer.alloc(JOURNAL_MAGIC.length);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return bytesRead === JOURNAL_MAGIC.length && buf.equals(JOURNAL_MAGIC);
    } catch {
      return false;
    } finally {
      await fh?.close();
    }
  }).catch(() => false);
}
