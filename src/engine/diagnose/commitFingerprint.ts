// Whether anyone committed since the last look, from file stats alone (no lock, no
// SQLite connection): every commit writes the database file (rollback journal) or the
// -wal (WAL mode), which changes that file's size or mtime.
import { realDbPath, statFile } from './dbFiles';

/** The stat fields the fingerprint reads; bigint stats work as well as plain ones. */
export interface FileStamp {
  size: number | bigint;
  mtimeMs: number | bigint;
}

/**
 * Changes whenever anyone commits: compare two fingerprints of the same database, taken
 * with the same kind of stats. `undefined`: the file does not exist.
 */
export function commitFingerprint(db: FileStamp | undefined, wal: FileStamp | undefined): string {
  const part = (st: FileStamp | undefined) => (st ? `${st.mtimeMs}:${st.size}` : '-');
  return `${part(db)} ${part(wal)}`;
}

/** The fingerprint from fresh stats of the database and its -wal. */
export async function commitFingerprintOf(dbPath: string): Promise<string> {
  // Companions sit beside the real file, not beside a symlink to it.
  const real = await realDbPath(dbPath);
  const [db, wal] = await Promise.all([statFile(real), statFile(`${real}-wal`)]);
  return commitFingerprint(db.exists ? db : undefined, wal.exists ? wal : undefined);
}
