// `npm start` (for now): builds a demo workspace that looks like a TraceForge repo with
// the runbook's problem, a trace DB in rollback-journal mode and lock errors in the
// proxy log, and runs the doctor's CLI on it. The VS Code launch replaces this later.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { createTraceDb } = require('../test/fixtures/traceforge.cjs');

const ws = path.join(repo, '.demo', 'workspace');
const db = path.join(ws, '.ai-tests', 'traces.db');
const log = path.join(ws, 'packages', 'proxy', 'logs', 'error.log');

fs.rmSync(ws, { recursive: true, force: true });
fs.mkdirSync(path.dirname(db), { recursive: true });
fs.mkdirSync(path.dirname(log), { recursive: true });
await createTraceDb(db, { rows: 2000, journalMode: 'delete' });
const now = Date.now();
const lines = [];
for (let i = 0; i < 40; i++) {
  const t = now - (40 - i) * 90_000;
  lines.push(JSON.stringify({ level: 30, time: t, msg: 'stored trace' }));
  if (i % 3 === 0) lines.push(JSON.stringify({ level: 50, time: t + 10, msg: 'failed to store trace', err: { message: 'SQLITE_BUSY: database is locked' } }));
}
fs.writeFileSync(log, lines.join('\n') + '\n');

console.log(`Demo workspace: ${ws}\n`);
const cli = path.join(repo, 'dist', 'cli.js');
const r = spawnSync(process.execPath, [cli, 'check'], { cwd: ws, stdio: 'inherit' });
console.log(`\n(tracedb-doctor check exited ${r.status}: 0 healthy, 1 problems, 2 could not inspect)`);
console.log(`Try the fix:   node ${path.relative(process.cwd(), cli)} enable-wal ${path.relative(process.cwd(), db)} --backup`);
