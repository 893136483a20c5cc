// tracedb-doctor as a user runs it: dist/cli.js in a child process.
import * as assert from 'node:assert/strict';
import { spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from '../../src/cli';
import { isRoot, REPO, snapshotDir, startActor, tempDir, traceWorkspace } from './helpers';

const CLI = path.join(REPO, 'dist', 'cli.js');

function cli(args: string[], opts: SpawnOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('CLI tracedb-doctor', () => {
  it('check: exit 1 and the runbook sections for a non-WAL DB; defaults to .ai-tests/traces.db', async () => {
    const { root } = await traceWorkspace({ rows: 10 });
    const r = await cli(['check'], { cwd: root });
    assert.equal(r.code, 1, r.stderr);
    for (const section of ['Database', 'Files', 'Locks and processes', 'Findings']) assert.match(r.stdout, new RegExp(`^${section}$`, 'm'));
    assert.match(r.stdout, /Journal mode: delete/);
    assert.match(r.stdout, /not-wal/);
    assert.match(r.stdout, /Enable WAL/);
  });

  it('check --json: the documented fields', async () => {
    const { root, db } = await traceWorkspace({ rows: 10 });
    const logDir = path.join(root, 'packages', 'proxy', 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    const t = Date.parse('2026-11-26T10:15:00Z');
    fs.writeFileSync(
      path.join(logDir, 'error.log'),
      [
        JSON.stringify({ level: 50, time: t, msg: 'failed to store trace', err: { message: 'SQLITE_BUSY: database is locked' } }),
        JSON.stringify({ level: 30, time: t + 1000, msg: 'stored trace' }),
        JSON.stringify({ level: 50, time: t + 60000, msg: 'failed', err: { message: 'database is locked' } }),
      ].join('\n') + '\n',
    );
    const holder = await startActor('open', db);
    const r = await cli(['check', db, '--json']);
    await holder.stop();
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.path, db);
    assert.equal(j.reachable, true);
    assert.equal(j.journalMode, 'delete');
    assert.equal(j.healthy, false);
    assert.ok(j.findings.every((f: { code: string; severity: string; message: string }) => f.code && f.severity && f.message));
    assert.ok(j.holders.some((h: { pid: number; command: string }) => h.pid === holder.pid && /actor\.cjs/.test(h.command)));
    assert.ok(Array.isArray(j.locks));
    assert.deepEqual(j.traceCount, { value: 10, estimate: true, source: 'max-rowid' });
    assert.equal(j.log.lockErrors, 2);
    assert.equal(j.log.first, '2026-11-26T10:15:00.000Z');
    assert.equal(j.log.last, '2026-11-26T10:16:00.000Z');
  });

  it('check --passive --count: passive never counts (no SQL on a rollback DB)', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const r = await cli(['check', db, '--json', '--passive']);
    const j = JSON.parse(r.stdout);
    assert.equal(j.mode, 'passive');
    assert.equal(j.traceCount, undefined);
    const exact = JSON.parse((await cli(['check', db, '--json', '--count'])).stdout);
    assert.deepEqual(exact.traceCount, { value: 10, estimate: false, source: 'count' });
  });

  it('check: exit 0 on a healthy WAL DB', async () => {
    const { db } = await traceWorkspace({ rows: 3, journalMode: 'wal' });
    const r = await cli(['check', db]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /HEALTHY/);
  });

  it('check: exit 2 with the reason on stderr when it cannot inspect, file untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'traces.db');
    fs.writeFileSync(file, 'not sqlite at all');
    const before = snapshotDir(dir);
    const r = await cli(['check', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a SQLite database/);
    assert.deepEqual(snapshotDir(dir), before);
    const missing = await cli(['check', path.join(dir, 'nope.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no database at/);
  });

  it('check: permission denied is named (run as an unprivileged user when root)', async () => {
    const { db } = await traceWorkspace({ rows: 3 });
    fs.chmodSync(db, 0o600);
    const opts: SpawnOptions = isRoot ? { uid: 65534, gid: 65534 } : {};
    if (!isRoot) fs.chmodSync(db, 0);
    // The folders must be traversable by that user; the file itself is not readable.
    for (let d = path.dirname(db); d !== path.dirname(d) && d.startsWith(path.dirname(path.dirname(db))); d = path.dirname(d)) fs.chmodSync(d, 0o755);
    const before = snapshotDir(path.dirname(db));
    const r = await cli(['check', db], opts);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /permission denied/);
    assert.deepEqual(snapshotDir(path.dirname(db)), before);
  });

  it('enable-wal: exit 0 once a fresh connection reads wal; --backup keeps a copy', async () => {
    const { db } = await traceWorkspace({ rows: 8 });
    const r = await cli(['enable-wal', db, '--backup']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /now in WAL mode/);
    assert.match(r.stdout, /Backup: .*backups/);
    const check = JSON.parse((await cli(['check', db, '--json'])).stdout);
    assert.equal(check.journalMode, 'wal');
  });

  it('enable-wal: exit 1 naming the blocker when a reader holds the lock', async () => {
    const { db } = await traceWorkspace({ rows: 8 });
    const reader = await startActor('hold-read', db);
    const r = await cli(['enable-wal', db, '--timeout', '500']);
    await reader.stop();
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`blocker: PID ${reader.pid}`));
  });

  it('holders --json, checkpoint --truncate, backup --out', async () => {
    const { db } = await traceWorkspace({ rows: 8, journalMode: 'wal' });
    const holder = await startActor('hold-read', db);
    const h = JSON.parse((await cli(['holders', db, '--json'])).stdout);
    assert.ok(h.holders.some((x: { pid: number; locks: string[] }) => x.pid === holder.pid && x.locks.includes('WAL_READ')));
    await holder.stop();
    const c = await cli(['checkpoint', db, '--truncate']);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    const out = path.join(tempDir(), 'copy.db');
    const b = await cli(['backup', db, '--out', out]);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(fs.statSync(out).size > 0);
  });

  it('rejects unknown commands and options with usage, exit 2', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.match(r.stderr, /Usage: tracedb-doctor/);
    assert.throws(() => parseArgs(['check', '--jsn']), /unknown option --jsn/);
    assert.throws(() => parseArgs(['enable-wal', '--timeout']), /needs a value/);
  });
});
