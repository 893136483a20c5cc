// SQLite's errors, whichever engine raised them. node-sqlite3 (native) names the code:
// `code: 'SQLITE_BUSY'`, message `SQLITE_BUSY: database is locked`. node:sqlite only
// numbers it: `code: 'ERR_SQLITE_ERROR'`, `errcode: 5` (or an extended code such as 517),
// `errstr`. The node:sqlite connection rewrites its errors into the native shape
// (toSqliteError), so every caller keys on one spelling; sqliteCode also reads a raw one.

/** SQLite's primary result codes (sqlite.org/rescode.html), by number. */
const PRIMARY_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR',
  2: 'SQLITE_INTERNAL',
  3: 'SQLITE_PERM',
  4: 'SQLITE_ABORT',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  9: 'SQLITE_INTERRUPT',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  12: 'SQLITE_NOTFOUND',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  16: 'SQLITE_EMPTY',
  17: 'SQLITE_SCHEMA',
  18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH',
  21: 'SQLITE_MISUSE',
  22: 'SQLITE_NOLFS',
  23: 'SQLITE_AUTH',
  24: 'SQLITE_FORMAT',
  25: 'SQLITE_RANGE',
  26: 'SQLITE_NOTADB',
  27: 'SQLITE_NOTICE',
  28: 'SQLITE_WARNING',
};

/** The name of a SQLite result code; an extended code (e.g. 517, SQLITE_BUSY_SNAPSHOT) by its primary one. */
export function sqliteCodeName(errcode: number): string | undefined {
  return PRIMARY_CODES[errcode & 0xff];
}

/** SQLite's error code, e.g. SQLITE_BUSY, from either engine's error. */
export function sqliteCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; errcode?: unknown } | null;
  if (err?.code === 'ERR_SQLITE_ERROR' && typeof err.errcode === 'number') return sqliteCodeName(err.errcode);
  return typeof err?.code === 'string' ? err.code : undefined;
}

export function isBusy(e: unknown): boolean {
  const code = sqliteCode(e);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /database (table )?is locked/i.test(String((e as Error)?.message));
}

/**
 * A node:sqlite error in node-sqlite3's shape (`code: 'SQLITE_BUSY'`, message
 * `SQLITE_BUSY: database is locked`, `errno: 5`), so classifySqlError, isBusy and the
 * messages the user reads are the same on both engines. Anything else passes through.
 */
export function toSqliteError(e: unknown): unknown {
  const err = e as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (err?.code !== 'ERR_SQLITE_ERROR' || typeof err.errcode !== 'number') return e;
  const name = sqliteCodeName(err.errcode) ?? 'SQLITE_ERROR';
  return Object.assign(new Error(`${name}: ${String(err.message)}`, { cause: e }), { code: name, errno: err.errcode });
}
