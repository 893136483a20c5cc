// A folder laid out like the real TraceForge (test/fixtures/traceforgeRepo.cjs, shared/
// TRACEFORGE.md) with RUNBOOK-002's problem: the proxy package's trace DB
// packages/proxy/.ai-tests/traces.db in rollback-journal mode, its `start` (`node
// dist/index.js`, run in packages/proxy) running the stand-in proxy, so the doctor names it
// "TraceForge proxy"; the proxy's stdout kept in packages/proxy/logs/proxy.log with past
// "database is locked" events; storage code without the pragmas, which type-checks on its
// own (tsconfig, src/types.ts, a declaration for better-sqlite3: nothing to install); and
// a `test` script for Run Verification that passes once the DB is in WAL mode.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { REPO } from './toolchain.mjs';

const require = createRequire(import.meta.url);
const { createTraceDb } = require('../../test/fixtures/traceforge.cjs');
const { writeTraceforgeRepo } = require('../../test/fixtures/traceforgeRepo.cjs');
const { prettyEvent, requestFields, sqliteBusy } = require('./pinoPretty.cjs');

const STAND_IN = path.join(REPO, 'scripts', 'lib', 'standInProxy.cjs');

const STORAGE_TS = `import Database from 'better-sqlite3';
import type { Trace } from './types';

// Opens the trace store. (RUNBOOK-002: no journal_mode, busy_timeout or synchronous set here.)
export class SqliteStorage {
  private db: Database.Database;

  constructor(dbPath: string) {
    this.db = new Database(dbPath);
  }

  save(trace: Trace): void {
    this.db.prepare('INSERT INTO traces (id, timestamp, endpoint, request, response, metadata) VALUES (?, ?, ?, ?, ?, ?)')
      .run(trace.id, trace.timestamp, trace.endpoint, trace.request, trace.response, trace.metadata);
  }

  close(): void {
    this.db.close();
  }
}
`;

const TYPES_TS = `// A stored trace: one row of the traces table (JSON columns as text).
export interface Trace {
  id: string;
  timestamp: string;
  endpoint: string;
  request: string;
  response: string | null;
  metadata: string;
  session_id?: string | null;
  step_index?: number | null;
}
`;

const INDEX_TS = `// The proxy's entry point. (In this demo, dist/index.js runs Trace DB Doctor's stand-in proxy.)
import { SqliteStorage } from './storage-sqlite';

export function openStorage(dbPath = '.ai-tests/traces.db'): SqliteStorage {
  return new SqliteStorage(dbPath);
}
`;

// The part of better-sqlite3's API the storage code uses (the demo installs no packages).
const BETTER_SQLITE3_D_TS = `// Minimal typings for better-sqlite3 (the subset of @types/better-sqlite3 this package uses).
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
    }
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      /** Busy timeout in milliseconds (default 5000). */
      timeout?: number;
    }
    interface Database {
      readonly name: string;
      readonly open: boolean;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      prepare(source: string): Statement;
      exec(source: string): this;
      close(): this;
    }
  }
  const Database: {
    new (filename?: string, options?: Database.Options): Database.Database;
    (filename?: string, options?: Database.Options): Database.Database;
  };
  export = Database;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2022'],
    types: [],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['src/**/*.ts', 'types/**/*.d.ts'],
};

// package.json says "type": "module"; the stand-in is CommonJS, loaded by absolute path.
const DIST_INDEX = `// Demo build of the TraceForge proxy: runs Trace DB Doctor's stand-in proxy, which stores
// 20 traces/s in .ai-tests/traces.db (or $TRACEFORGE_SQLITE_PATH) and logs like pino-pretty.
//   node dist/index.js [--rate N] [--busy-timeout MS]
import { createRequire } from 'node:module';

createRequire(import.meta.url)(${JSON.stringify(STAND_IN)});
`;

// Run Verification's `pnpm --filter @traceforge/proxy test storage-sqlite`: pnpm appends
// the filter word, so arguments are test names, not paths.
const STORAGE_TEST = `'use strict';
// Stand-in for the proxy's storage test (vitest run storage-sqlite): the DB must be in WAL
// mode, and a write must get through while the proxy writes.
const sqlite3 = require(${JSON.stringify(path.join(REPO, 'node_modules', '@vscode', 'sqlite3'))});
const dbPath = process.env.TRACEFORGE_SQLITE_PATH || '.ai-tests/traces.db';
const t0 = Date.now();
const fail = (name, why) => {
  console.log(\` ✗ storage-sqlite > \${name}\\n   \${why}\`);
  console.log(\`\\n Test Files  1 failed (1)\\n      Tests  1 failed\`);
  process.exit(1);
};
console.log(\`\\n RUN  storage-sqlite (\${dbPath})\\n\`);
const db = new sqlite3.Database(dbPath, sqlite3.OPEN_READWRITE, (err) => {
  if (err) fail('opens the database', err.message);
  db.configure('busyTimeout', 5000);
  db.get('PRAGMA journal_mode', (err, row) => {
    if (err) fail('journal_mode is wal', err.message);
    if (row.journal_mode !== 'wal') fail('journal_mode is wal', \`expected 'wal', got '\${row.journal_mode}' (RUNBOOK-002: Enable WAL)\`);
    console.log(' ✓ storage-sqlite > journal_mode is wal');
    db.exec('BEGIN IMMEDIATE; ROLLBACK;', (err) => {
      if (err) fail('a write gets through while the proxy writes', err.message);
      console.log(' ✓ storage-sqlite > a write gets through while the proxy writes');
      db.close(() => {
        console.log(\`\\n Test Files  1 passed (1)\\n      Tests  2 passed (2)\\n   Duration  \${Date.now() - t0} ms\`);
        process.exit(0);
      });
    });
  });
});
`;

const MIN = 60_000;

/**
 * The proxy's log as it would be after a morning of RUNBOOK-002: requests, lock errors an
 * hour and more ago (history) and two in the last minutes, in pino-pretty's format, in
 * time order (the doctor dates the date-less times back from the file's mtime).
 */
function seedLog(proxyDir, now) {
  const events = [];
  let req = 0;
  const request = (at, url, lockError) => {
    const reqId = `req-${(++req).toString(36)}`;
    events.push(prettyEvent(30, 'incoming request', requestFields(reqId, url, 51000 + req), at));
    if (lockError) {
      events.push(prettyEvent(50, 'database is locked', { reqId, err: sqliteBusy(proxyDir) }, at + 5003));
      events.push(prettyEvent(30, 'request completed', { reqId, res: { statusCode: 500 }, responseTime: 10011.6 }, at + 10012));
    } else {
      events.push(prettyEvent(30, 'request completed', { reqId, res: { statusCode: 200 }, responseTime: 412.3 + req }, at + 412));
    }
  };
  const start = now - 200 * MIN;
  events.push(prettyEvent(30, 'Server listening at http://127.0.0.1:8787', {}, start));
  const schedule = [
    [195, false],
    [190, false],
    [186, true],
    [185, false],
    [160, false],
    [131, true],
    [130, true],
    [129, false],
    [110, false],
    [92, true],
    [90, false],
    [64, false],
    [40, false],
    [22, false],
    [4, true],
    [3, false],
    [0.8, true],
  ];
  for (const [minutesAgo, lock] of schedule) request(now - minutesAgo * MIN, lock ? '/v1/chat/completions' : '/v1/messages', lock);
  const logFile = path.join(proxyDir, 'logs', 'proxy.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, events.join(''));
  return logFile;
}

export async function createDemoWorkspace(dir, { rows = 2000, journalMode = 'delete' } = {}) {
  fs.rmSync(dir, { recursive: true, force: true });
  const repo = writeTraceforgeRepo(dir, {
    built: true,
    scripts: {
      dev: 'node --watch dist/index.js',
      start: 'node dist/index.js',
      build: 'echo "demo: dist/index.js is prebuilt (it runs Trace DB Doctor\'s stand-in proxy)"',
      test: 'node src/storage-sqlite.test.cjs',
    },
    storageCode: STORAGE_TS,
    distIndex: DIST_INDEX,
    files: {
      'packages/proxy/src/index.ts': INDEX_TS,
      'packages/proxy/src/types.ts': TYPES_TS,
      'packages/proxy/src/storage-sqlite.test.cjs': STORAGE_TEST,
      'packages/proxy/types/better-sqlite3.d.ts': BETTER_SQLITE3_D_TS,
      'packages/proxy/tsconfig.json': JSON.stringify(TSCONFIG, null, 2) + '\n',
    },
  });
  // pnpm warns "node_modules missing, did you mean to install?" before each script otherwise.
  fs.mkdirSync(path.join(repo.proxyDir, 'node_modules'), { recursive: true });
  await createTraceDb(repo.db, { rows, journalMode });
  const logFile = seedLog(repo.proxyDir, Date.now());
  return { dir, proxyDir: repo.proxyDir, db: repo.db, logFile };
}
