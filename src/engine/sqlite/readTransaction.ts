// The doctor's reads of the user's database: a fresh read-only connection, opened inside
// the file's gate (fileGate.ts), whose read transaction always ends, so a lock taken by
// a read lives exactly as long as the statements that need it (docs/DESIGN.md, "Rules", 1).
import { withFileGate } from './fileGate';
import { withConnection, type Connection } from './connection';

export interface ReadTransactionOptions {
  /** How long a statement waits for SHARED behind a commit in flight. */
  busyTimeoutMs: number;
  /**
   * One read transaction around everything `fn` runs (a consistent snapshot), the default;
   * false: every statement is its own transaction, so on a rollback-journal database SHARED
   * is dropped between statements instead of held across them. A function decides inside
   * the gate, before the connection opens: a descriptor it opens on the file (the header)
   * is then closed before the connection takes any lock.
   */
  oneTransaction?: boolean | (() => Promise<boolean>);
}

/** Runs `fn` on a fresh read-only connection to `dbPath`; its second argument says whether it runs inside one transaction. */
export function readTransaction<T>(dbPath: string, opts: ReadTransactionOptions, fn: (c: Connection, oneTransaction: boolean) => Promise<T>): Promise<T> {
  return withFileGate(dbPath, async () => {
    const one = typeof opts.oneTransaction === 'function' ? await opts.oneTransaction() : opts.oneTransaction !== false;
    return withConnection(dbPath, { readonly: true, busyTimeoutMs: opts.busyTimeoutMs }, async (c) => {
      // A bare BEGIN takes no lock: the first read does, and COMMIT drops it.
      if (one) await c.exec('BEGIN');
      try {
        return await fn(c, one);
      } finally {
        if (one) await c.exec('COMMIT').catch(() => undefined);
      }
    });
  });
}
