// The trace explorer's read path. Browsing must never hold the proxy up (docs/DESIGN.md,
// "Rules", 1): in WAL mode every read is one short read-only transaction (readers never
// block the writer there); on a rollback-journal DB every statement is its own
// transaction and reads a bounded number of rows, because SHARED is held for as long as
// a statement runs and the proxy's commit waits (or fails) for exactly that long.
import { DoctorError } from '../errors';
import { readHeader } from '../sqlite/header';
import { isBusy, type Connection } from '../sqlite/connection';
import { readTransaction } from '../sqlite/readTransaction';

/**
 * How long a query waits for SHARED behind a commit in flight. A waiting reader holds
 * nothing, so waiting costs the proxy nothing; and under load a commit's EXCLUSIVE phase
 * was seen to last over 500 ms (p99 572 ms beside a backup), which made a too-short wait
 * an error for the user ("locked right now") where patience was all it took.
 */
const BUSY_TIMEOUT_MS = 2000;

/** What the queries need to know about the database they run on. */
export interface Shape {
  columns: Set<string>;
  hasFts: boolean;
  /** From the file header: in WAL mode readers never block the writer, so queries need no bound. */
  wal: boolean;
}

async function shapeOf(c: Connection, wal: boolean): Promise<Shape> {
  // One statement: on a rollback DB each one is a separate SHARED lock.
  const cols = await c.all<{ name: string; fts: number }>(
    "SELECT name, (SELECT count(*) FROM sqlite_master WHERE name = 'traces_fts') AS fts FROM pragma_table_info('traces')",
  );
  if (!cols.length) throw new DoctorError('This database has no "traces" table: there is nothing to browse. Check tracedb.databasePath.');
  return { columns: new Set(cols.map((r) => r.name)), hasFts: cols[0].fts > 0, wal };
}

/** WAL or not from header bytes 18-19, read without a lock; anything unreadable counts as not WAL (the cautious side). */
async function headerSaysWal(dbPath: string): Promise<boolean> {
  try {
    return (await readHeader(dbPath)).header?.wal === true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` on a fresh read-only connection: in WAL mode inside one read transaction (a
 * consistent snapshot, free there); otherwise with every statement its own transaction,
 * so SHARED is dropped between statements instead of held across them.
 */
export async function readTraces<T>(dbPath: string, fn: (c: Connection, shape: Shape) => Promise<T>): Promise<T> {
  // The header is read inside the gate: its descriptor is closed before our connection opens.
  const opts = { busyTimeoutMs: BUSY_TIMEOUT_MS, oneTransaction: () => headerSaysWal(dbPath) };
  try {
    return await readTransaction(dbPath, opts, async (c, wal) => fn(c, await shapeOf(c, wal)));
  } catch (e) {
    if (e instanceof DoctorError) throw e;
    if (isBusy(e))
      throw new DoctorError(
        'The trace database is locked right now (a write transaction is open); try again in a moment, or see who holds it in the health view.',
      );
    throw e;
  }
}
