// A folder that looks like a TraceForge repo with RUNBOOK-002's problem: the trace DB in
// rollback-journal mode, a proxy package whose `start` runs a stand-in writer, its error
// log with past "database is locked" lines, and storage code without the pragmas.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { REPO } from './toolchain.mjs';

const require = createRequire(import.meta.url);
const { createTraceDb } = require('../../test/fixtures/traceforge.cjs');

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
}
`;

const STORAGE_TEST = `'use strict';
// Stand-in for the proxy's storage test: the DB must be in WAL mode with writers succeeding.
const sqlite3 = require(${JSON.stringify(path.join(REPO, 'node_modules', '@vscode', 'sqlite3'))});
const db = new sqlite3.Database(process.argv[2] || '../../.ai-tests/traces.db', sqlite3.OPEN_READONLY);
db.get('PRAGMA journal_mode', (err, row) => {
  if (err) { console.error('storage-sqlite: cannot open the DB:', err.message); process.exit(1); }
  console.log('storage-sqlite: journal_mode =', row.journal_mode);
  process.exit(row.journal_mode === 'wal' ? 0 : 1);
});
`;

export async function createDemoWorkspace(dir, { rows = 2000, journalMode = 'delete', rate = 20 } = {}) {
  fs.rmSync(dir, { recursive: true, force: true });
  const db = path.join(dir, '.ai-tests', 'traces.db');
  const proxy = path.join(dir, 'packages', 'proxy');
  const logFile = path.join(proxy, 'logs', 'error.log');
  fs.mkdirSync(path.dirname(db), { recursive: true });
  fs.mkdirSync(path.join(proxy, 'src'), { recursive: true });
  fs.mkdirSync(path.join(proxy, 'logs'), { recursive: true });
  await createTraceDb(db, { rows, journalMode });

  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'traceforge', private: true, packageManager: 'pnpm@9.8.0' }, null, 2));
  fs.writeFileSync(path.join(dir, 'pnpm-workspace.yaml'), 'packages:\n  - "packages/*"\n');
  const standIn = path.join(REPO, 'scripts', 'lib', 'standInProxy.cjs');
  fs.writeFileSync(
    path.join(proxy, 'package.json'),
    JSON.stringify(
      {
        name: '@traceforge/proxy',
        version: '0.0.0-demo',
        private: true,
        scripts: {
          start: `node ${JSON.stringify(standIn)} ../../.ai-tests/traces.db logs/error.log --rate ${rate}`,
          test: 'node src/storage-sqlite.test.cjs',
        },
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(path.join(proxy, 'src', 'storage-sqlite.ts'), STORAGE_TS);
  fs.writeFileSync(path.join(proxy, 'src', 'storage-sqlite.test.cjs'), STORAGE_TEST);
  const now = Date.now();
  const lines = [];
  for (let i = 0; i < 60; i++) {
    const time = now - (60 - i) * 60_000;
    if (i % 4 === 0) lines.push(JSON.stringify({ level: 50, time, pid: 4242, msg: 'failed to store trace', err: { message: 'SqliteError: database is locked', code: 'SQLITE_BUSY' } }));
    else lines.push(JSON.stringify({ level: 40, time, pid: 4242, msg: 'slow upstream response', durationMs: 2300 + i }));
  }
  fs.writeFileSync(logFile, lines.join('\n') + '\n');
  return { dir, db, logFile, proxyStart: { cmd: process.execPath, args: [standIn, db, logFile, '--rate', String(rate)] } };
}
