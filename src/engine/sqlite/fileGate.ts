// One process must never open and close its own file descriptor on a database while
// it also has a SQLite connection to it: POSIX advisory locks belong to the process,
// and closing ANY descriptor of a file drops ALL of the process's locks on it
// (sqlite.org/howtocorrupt.html § 2.2). The doctor reads the raw header with a
// plain fd, so every touch of a database file in this process runs through this
// gate, one at a time per file.
//
// "Per file" means per inode, not per spelling: a symlink, a `..` path or a log path
// that happens to be the database (or its -shm, where WAL connections hold their locks)
// is the same file, and a gate keyed by the path string would let its descriptor be
// closed in the middle of another caller's read transaction. A companion (-shm, -wal,
// -journal) shares its database's gate for that reason.
//
// The gate also refuses what is not a regular file: SQLite opens a named pipe with a
// blocking open() that waits for a writer forever, pinning a libuv thread and this gate.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DoctorError } from '../errors';

const tails = new Map<string, Promise<unknown>>();

export class NotRegularFileError extends DoctorError {
  /** EISDIR for a directory (callers already word that case), ENOTREG for anything else. */
  readonly code: 'EISDIR' | 'ENOTREG';
  constructor(
    readonly filePath: string,
    readonly kind: string,
  ) {
    super(`${filePath} is ${kind}, not a database file; point the doctor at the traces.db file itself`);
    this.code = kind === 'a directory' ? 'EISDIR' : 'ENOTREG';
  }
}

/** What a non-regular file is, in words; undefined for a regular file. */
export function specialKindOf(st: {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const COMPANION = /^(.*)-(shm|wal|journal)$/;

/** The gate's key: the file's device and inode; the resolved path while it does not exist (or cannot be resolved). */
async function keyOf(file: string): Promise<string> {
  const abs = path.resolve(file);
  const real = await fs.realpath(abs).catch(() => undefined);
  // By its own name or, through a symlink, by its real one: a companion shares its database's key.
  for (const name of new Set([abs, real])) {
    const companion = name && COMPANION.exec(name);
    if (!companion) continue;
    const db = await fs.stat(companion[1], { bigint: true }).catch(() => undefined);
    if (db?.isFile()) return `ino:${db.dev}:${db.ino}`;
  }
  if (!real) return `path:${abs}`;
  const st = await fs.stat(real, { bigint: true }).catch(() => undefined);
  if (!st) return `path:${real}`;
  const kind = specialKindOf(st);
  if (kind) throw new NotRegularFileError(abs, kind);
  return `ino:${st.dev}:${st.ino}`;
}

export interface FileGateOptions {
  /** Let non-regular files through (the log reader handles pipes itself, without blocking). */
  anyFileType?: boolean;
}

export async function withFileGate<T>(file: string, fn: () => Promise<T>, opts: FileGateOptions = {}): Promise<T> {
  let key: string;
  try {
    key = await keyOf(file);
  } catch (e) {
    if (!(e instanceof NotRegularFileError) || !opts.anyFileType) throw e;
    key = `path:${path.resolve(file)}`;
  }
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
