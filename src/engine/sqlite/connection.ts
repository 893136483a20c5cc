// Every connection the doctor opens goes through here, so the flags (read-only, never
// create) and busy timeouts are chosen once, whichever engine runs them (backend.ts):
// the native addon @vscode/sqlite3 (nativeConnection.ts) or Node's node:sqlite
// (nodeConnection.ts). Both keep the same promise interface and error shape.
import type * as sqlite3 from '@vscode/sqlite3';
import { loadedBackend, noSqliteError } from './backend';
import { openNative } from './nativeConnection';
import { openNode, type NodeDatabase, type NodeSqlite } from './nodeConnection';

export { isBusy, sqliteCode } from './sqliteErrors';

export interface OpenOptions {
  readonly: boolean;
  /** ms SQLite's busy handler waits for a lock; node-sqlite3 would otherwise default to 1000, node:sqlite to 0. */
  busyTimeoutMs: number;
  /** Create the file if missing: only for files the doctor makes itself (a backup's copy), never the user's DB. */
  create?: boolean;
}

/** The engine under a connection and its own handle, for what the common interface does not cover (backups). */
export type Driver = { name: 'native'; db: sqlite3.Database } | { name: 'node:sqlite'; db: NodeDatabase; module: NodeSqlite };

export interface Connection {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Runs one statement with parameters, for its effect (an INSERT). */
  run(sql: string, params?: unknown[]): Promise<void>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  readonly driver: Driver;
  /** node-sqlite3's Database. Native only: on node:sqlite reading it throws (use run). */
  readonly raw: sqlite3.Database;
}

let traceHook: ((sql: string) => void) | undefined;

/**
 * Sees every statement the engine runs, with its parameters expanded (the benchmark replays
 * them in the sqlite3 CLI). A connection keeps the hook it was opened with.
 */
export function setSqlTraceHook(hook: ((sql: string) => void) | undefined): void {
  traceHook = hook;
}

export function openConnection(path: string, opts: OpenOptions): Promise<Connection> {
  const backend = loadedBackend();
  // Never create the user's database: a doctor that creates an empty traces.db where the
  // proxy expects none would hide the real problem (wrong path) behind a new one.
  if ('native' in backend) return openNative(backend.native, path, opts, traceHook);
  if ('node' in backend) return openNode(backend.node, path, opts, traceHook);
  return Promise.reject(noSqliteError(backend.info));
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
