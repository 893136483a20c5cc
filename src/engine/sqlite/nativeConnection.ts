// A connection through the native addon @vscode/sqlite3 (node-sqlite3): asynchronous,
// every statement runs on libuv's thread pool. backend.ts loads the module, guarded.
import type * as sqlite3 from '@vscode/sqlite3';
import type { Connection, OpenOptions } from './connection';

export type NativeSqlite = typeof sqlite3;

export function openNative(mod: NativeSqlite, path: string, opts: OpenOptions, trace: ((sql: string) => void) | undefined): Promise<Connection> {
  // Never OPEN_CREATE unless asked (connection.ts).
  const flags = opts.readonly ? mod.OPEN_READONLY : mod.OPEN_READWRITE | (opts.create ? mod.OPEN_CREATE : 0);
  return new Promise((resolve, reject) => {
    const db: sqlite3.Database = new mod.Database(path, flags, (err) => {
      if (err) {
        reject(err);
        return;
      }
      db.configure('busyTimeout', opts.busyTimeoutMs);
      if (trace) db.on('trace', trace);
      resolve(wrap(db));
    });
  });
}

function wrap(db: sqlite3.Database): Connection {
  let closed: Promise<void> | undefined;
  return {
    driver: { name: 'native', db },
    raw: db,
    all: (sql, params = []) => new Promise((res, rej) => db.all(sql, params, (e: Error | null, rows: unknown[]) => (e ? rej(e) : res(rows as never)))),
    get: (sql, params = []) => new Promise((res, rej) => db.get(sql, params, (e: Error | null, row: unknown) => (e ? rej(e) : res(row as never)))),
    run: (sql, params = []) => new Promise((res, rej) => db.run(sql, params, (e: Error | null) => (e ? rej(e) : res()))),
    exec: (sql) => new Promise((res, rej) => db.exec(sql, (e: Error | null) => (e ? rej(e) : res()))),
    close: () => (closed ??= new Promise((res, rej) => db.close((e: Error | null) => (e ? rej(e) : res())))),
  };
}
