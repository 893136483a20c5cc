// A connection through Node's built-in node:sqlite (DatabaseSync), the fallback where the
// native addon does not load (backend.ts).
//
// node:sqlite is synchronous: each statement blocks the server's event loop while it runs,
// busy wait included. Acceptable for a fallback because the engine's reads are bounded
// (keyset pages, max(rowid) estimates, chunked counts) and wait behind a lock for a short
// busy timeout only; copies go through node:sqlite's asynchronous backup() (backup.ts).
// What stays long on this engine, and holds up other requests meanwhile: quick_check in
// place on a WAL database, a checkpoint waiting out its timeout, the rollback-mode copy
// waiting for SHARED (up to its lock wait), VACUUM INTO where there is no backup().
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Connection, OpenOptions } from './connection';
import { toSqliteError } from './sqliteErrors';

// What we use of node:sqlite (the project's @types/node predates it).
export interface NodeStatement {
  all(...params: unknown[]): Record<string, unknown>[];
  get(...params: unknown[]): Record<string, unknown> | undefined;
  run(...params: unknown[]): unknown;
  setReadBigInts(enabled: boolean): void;
  readonly expandedSQL: string;
}

export interface NodeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NodeStatement;
  close(): void;
}

export interface NodeBackupOptions {
  rate?: number;
  progress?: (p: { totalPages: number; remainingPages: number }) => void;
}

export interface NodeSqlite {
  DatabaseSync: new (
    path: string,
    opts?: { readOnly?: boolean; enableForeignKeyConstraints?: boolean; enableDoubleQuotedStringLiterals?: boolean },
  ) => NodeDatabase;
  /** Node ≥ 22.16 / 23.8. */
  backup?: (source: NodeDatabase, destPath: string, opts?: NodeBackupOptions) => Promise<number>;
}

/**
 * node:sqlite opens read-write files with SQLITE_OPEN_CREATE and offers no way to leave it
 * out. Where it also sets SQLITE_OPEN_URI (22.16+, 23.10+, 24+) a `file:` URI with
 * `mode=rw` opens without creating; on older versions only the existence check before it holds.
 */
function openUriWorks(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 10) || (major === 22 && minor >= 16);
}

function cantOpen(): Error {
  return Object.assign(new Error('SQLITE_CANTOPEN: unable to open database file'), { code: 'SQLITE_CANTOPEN', errno: 14 });
}

export async function openNode(mod: NodeSqlite, path: string, opts: OpenOptions, trace: ((sql: string) => void) | undefined): Promise<Connection> {
  let location = path;
  if (!opts.readonly && !opts.create) {
    // The same answer native SQLite gives a missing file without OPEN_CREATE.
    if (!fs.statSync(path, { throwIfNoEntry: false })) throw cantOpen();
    if (openUriWorks()) location = `${pathToFileURL(path).href}?mode=rw`;
  }
  let db: NodeDatabase | undefined;
  try {
    // SQLite's own defaults, which node-sqlite3 keeps and node:sqlite changes.
    db = new mod.DatabaseSync(location, { readOnly: opts.readonly, enableForeignKeyConstraints: false, enableDoubleQuotedStringLiterals: true });
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
    return wrap(mod, db, trace);
  } catch (e) {
    db?.close();
    throw toSqliteError(e);
  }
}

/** node-sqlite3 binds what node:sqlite refuses (booleans, undefined, Dates), and whole numbers as integers. */
function bindable(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  return v;
}

/** Rows as node-sqlite3 returns them: plain objects, BLOBs as Buffers, integers as (possibly lossy) numbers. */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (v instanceof Uint8Array) out[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    else if (typeof v === 'bigint') out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

function wrap(mod: NodeSqlite, db: NodeDatabase, trace: ((sql: string) => void) | undefined): Connection {
  let closed = false;
  /** Prepares, runs and traces one statement; every SQLite error leaves in node-sqlite3's shape. */
  const run = <T>(sql: string, params: unknown[], how: (s: NodeStatement, p: unknown[]) => T): T => {
    try {
      const s = db.prepare(sql);
      const p = params.map(bindable);
      let out: T;
      try {
        out = how(s, p);
      } catch (e) {
        // An integer beyond 2^53 in a row: read it as BigInt, then lossy, as node-sqlite3 does.
        if ((e as { code?: unknown }).code !== 'ERR_OUT_OF_RANGE') throw e;
        s.setReadBigInts(true);
        out = how(s, p);
      }
      trace?.(s.expandedSQL);
      return out;
    } catch (e) {
      throw toSqliteError(e);
    }
  };
  return {
    driver: { name: 'node:sqlite', db, module: mod },
    get raw(): never {
      throw new Error('node:sqlite has no node-sqlite3 Database; use Connection.run');
    },
    all: async <T>(sql: string, params: unknown[] = []) => run(sql, params, (s, p) => s.all(...p).map(plainRow)) as T[],
    get: async <T>(sql: string, params: unknown[] = []) =>
      run(sql, params, (s, p) => {
        const row = s.get(...p);
        return row && plainRow(row);
      }) as T | undefined,
    run: async (sql, params = []) => {
      run(sql, params, (s, p) => s.run(...p));
    },
    exec: async (sql) => {
      try {
        db.exec(sql);
      } catch (e) {
        throw toSqliteError(e);
      }
      trace?.(sql);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        db.close();
      } catch (e) {
        throw toSqliteError(e);
      }
    },
  };
}
