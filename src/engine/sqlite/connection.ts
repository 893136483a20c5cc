// A small promise layer over @vscode/sqlite3. Every connection the doctor opens goes
// through here, so the flags (read-only, never create) and busy timeouts are chosen once.
import * as sqlite3 from '@vscode/sqlite3';

export interface OpenOptions {
  readonly: boolean;
  /** ms SQLite's busy handler waits for a lock; node-sqlite3 would otherwise default to 1000. */
  busyTimeoutMs: number;
  /** Create the file if missing: only for files the doctor makes itself (a backup's copy), never the user's DB. */
  create?: boolean;
}

export interface Connection {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T | undefined>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  readonly raw: sqlite3.Database;
}

/** SQLite's error code, e.g. SQLITE_BUSY, from a node-sqlite3 error. */
export function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isBusy(e: unknown): boolean {
  const code = sqliteCode(e);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /database (table )?is locked/i.test(String((e as Error)?.message));
}

let traceHook: ((sql: string) => void) | undefined;

/** Sees every statement the engine runs, with its parameters expanded (the benchmark replays them in the sqlite3 CLI). */
export function setSqlTraceHook(hook: ((sql: string) => void) | undefined): void {
  traceHook = hook;
}

export function openConnection(path: string, opts: OpenOptions): Promise<Connection> {
  // Never OPEN_CREATE: a doctor that creates an empty traces.db where the proxy expects
  // none would hide the real problem (wrong path) behind a new one.
  const flags = opts.readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | (opts.create ? sqlite3.OPEN_CREATE : 0);
  return new Promise((resolve, reject) => {
    const db: sqlite3.Database = new sqlite3.Database(path, flags, (err) => {
      if (err) {
        reject(err);
        return;
      }
      db.configure('busyTimeout', opts.busyTimeoutMs);
      if (traceHook) db.on('trace', traceHook);
      resolve(wrap(db));
    });
  });
}

function wrap(db: sqlite3.Database): Connection {
  let closed: Promise<void> | undefined;
  return {
    raw: db,
    all: (sql, params = []) => new Promise((res, rej) => db.all(sql, params, (e: Error | null, rows: unknown[]) => (e ? rej(e) : res(rows as never)))),
    get: (sql, params = []) => new Promise((res, rej) => db.get(sql, params, (e: Error | null, row: unknown) => (e ? rej(e) : res(row as never)))),
    exec: (sql) => new Promise((res, rej) => db.exec(sql, (e: Error | null) => (e ? rej(e) : res()))),
    close: () => (closed ??= new Promise((res, rej) => db.close((e: Error | null) => (e ? rej(e) : res())))),
  };
}

/** Opens, runs `fn`, and always closes: a connection left open would keep its locks. */
export async function withConnection<T>(path: string, opts: OpenOptions, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await openConnection(path, opts);
  try {
    return await fn(c);
  } finally {
    await c.close().catch(() => undefined);
  }
}

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
export function startBackup(source: Connection, destPath: string): Promise<SqliteBackup> {
  return new Promise((resolve, reject) => {
    const b = (source.raw as unknown as RawBackupApi).backup(destPath, 'main', 'main', true, (err) => (err ? reject(err) : resolve(b)));
  });
}

/**
 * Copies from the file `sourcePath` into the open connection `dest`. node-sqlite3 opens
 * the source with plain sqlite3_open (which would create a missing file), so callers
 * check the source exists first and that it is the same file afterwards.
 */
export function startBackupInto(dest: Connection, sourcePath: string): Promise<SqliteBackup> {
  return new Promise((resolve, reject) => {
    const b = (dest.raw as unknown as RawBackupApi).backup(sourcePath, 'main', 'main', false, (err) => (err ? reject(err) : resolve(b)));
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
