// The database's companion files: -wal, -shm, and a rollback -journal that may be hot.
import * as fs from 'node:fs/promises';
import { withFileGate } from './fileGate';
import type { DbFiles, FileStat } from './types';

// First 8 bytes of a rollback journal with a valid header (sqlite.org/fileformat.html § 4.1).
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

export function companionPaths(dbPath: string): { wal: string; shm: string; journal: string } {
  return { wal: `${dbPath}-wal`, shm: `${dbPath}-shm`, journal: `${dbPath}-journal` };
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
  const p = companionPaths(dbPath);
  const [db, wal, shm, journal] = await Promise.all([statFile(dbPath), statFile(p.wal), statFile(p.shm), statFile(p.journal)]);
  return { db, wal, shm, journal };
}

/**
 * A journal is hot when it has a valid header and nobody holds RESERVED on the
 * database: a live writer's journal looks the same, but that writer holds the lock.
 * (journal_mode=PERSIST zeroes the header on commit, TRUNCATE empties the file.)
 */
export async function journalLooksHot(dbPath: string, writerHoldsReserved: boolean): Promise<boolean> {
  if (writerHoldsReserved) return false;
  const { journal } = companionPaths(dbPath);
  return withFileGate(journal, async () => {
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(journal, 'r');
      const buf = Buffer.alloc(JOURNAL_MAGIC.length);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return bytesRead === JOURNAL_MAGIC.length && buf.equals(JOURNAL_MAGIC);
    } catch {
      return false;
    } finally {
      await fh?.close();
    }
  });
}
