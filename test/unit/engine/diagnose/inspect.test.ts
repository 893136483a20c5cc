import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect, Inspector } from '../../../../src/engine/diagnose/inspect';
import { parseHeader } from '../../../../src/engine/sqlite/header';
import { createTraceDb, openFixtureDb, snapshotDir, startActor, tempDir, traceWorkspace } from '../../../support/helpers';

function codes(r: { findings: { code: string }[] }): string[] {
  return r.findings.map((f) => f.code);
}

describe('inspect: the runbook diagnosis on real databases', () => {
  it('reads a rollback-journal DB: not WAL, trace estimate, schema, no locks', async () => {
    const { db } = await traceWorkspace({ rows: 120 });
    const r = await inspect(db, { mode: 'full' });
    assert.equal(r.reachable, true);
    assert.equal(r.journalMode, 'delete');
    assert.equal(r.journalModeSource, 'pragma');
    assert.deepEqual(r.traceCount, { value: 120, estimate: true, source: 'max-rowid' });
    assert.ok(r.schema?.hasTraces && r.schema.hasFts);
    assert.ok(r.schema?.traceColumns.includes('session_id'));
    assert.equal(r.header?.wal, false);
    assert.ok(r.header.pageCount > 0);
    assert.deepEqual(codes(r), ['not-wal']);
    assert.equal(r.healthy, false);
    const notWal = r.findings[0];
    assert.equal(notWal.fixes[0], 'enableWal');
    assert.match(notWal.message, /Enable WAL/);
    assert.equal(r.locks.length, 0);
  });

  it('reports a WAL DB as healthy, and counts exactly only on request', async () => {
    const { db } = await traceWorkspace({ rows: 75, journalMode: 'wal' });
    const r = await inspect(db, { mode: 'full' });
    assert.equal(r.journalMode, 'wal');
    assert.equal(r.healthy, true, JSON.stringify(r.findings));
    assert.equal(r.traceCount?.estimate, true);
    const exact = await inspect(db, { mode: 'full', countExact: true });
    assert.deepEqual(exact.traceCount, { value: 75, estimate: false, source: 'count' });
  });

  it('passive mode on a rollback DB reads the header only: mode from bytes 18-19, no SQL', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const r = await inspect(db, { mode: 'passive' });
    assert.equal(r.journalMode, 'delete');
    assert.equal(r.journalModeSource, 'header');
    assert.equal(r.schema, undefined);
    assert.equal(r.traceCount, undefined);
    assert.deepEqual(codes(r), ['not-wal']);
  });

  it('adapts to an older schema without session columns or FTS', async () => {
    const { db } = await traceWorkspace({ rows: 30, legacy: true });
    const r = await inspect(db, { mode: 'full', countExact: true });
    assert.equal(r.schema?.hasFts, false);
    assert.ok(!r.schema?.traceColumns.includes('session_id'));
    assert.equal(r.traceCount?.value, 30);
  });

  it('flags a database without a traces table', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'other.db');
    const c = await openFixtureDb(db);
    await c.exec('CREATE TABLE t(x); PRAGMA journal_mode=WAL;');
    await c.close();
    const r = await inspect(db, { mode: 'full' });
    assert.ok(codes(r).includes('no-traces-table'));
    assert.equal(r.traceCount, undefined);
  });

  it('finds a hot journal left by a writer killed mid-transaction, without rolling it back', async () => {
    const { db } = await traceWorkspace({ rows: 20 });
    const actor = await startActor('hold-spill', db);
    actor.child.kill('SIGKILL');
    await new Promise((r) => actor.child.once('exit', r));
    assert.ok(fs.existsSync(`${db}-journal`), 'a killed writer leaves its journal');
    const before = snapshotDir(path.dirname(db));
    const r = await inspect(db, { mode: 'full' });
    assert.ok(codes(r).includes('hot-journal'), codes(r).join());
    assert.equal(r.files.journal.hot, true);
    assert.deepEqual(snapshotDir(path.dirname(db)), before, 'looking must not roll the journal back');
    assert.ok(r.findings.find((f) => f.code === 'hot-journal')!.fixes.includes('backup'));
    // SQLite's own recovery (the next writer) rolls the half-written transaction back.
    const c = await openFixtureDb(db);
    assert.equal((await c.get('SELECT count(*) AS n FROM traces')).n, 20);
    await c.close();
    assert.equal((await inspect(db, { mode: 'full' })).files.journal.exists, false);
  });

  it('a journal with a zeroed header (a writer killed before it synced) is not hot, as SQLite sees it', async () => {
    const { db } = await traceWorkspace({ rows: 20 });
    const actor = await startActor('hold-write', db);
    actor.child.kill('SIGKILL');
    await new Promise((r) => actor.child.once('exit', r));
    assert.ok(fs.existsSync(`${db}-journal`));
    const r = await inspect(db, { mode: 'passive' });
    assert.equal(r.files.journal.hot, false);
  });

  it("a live writer's journal is not hot", async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const actor = await startActor('hold-write', db);
    const r = await inspect(db, { mode: 'passive' });
    assert.equal(r.files.journal.exists, true);
    assert.equal(r.files.journal.hot, false);
    assert.ok(!codes(r).includes('hot-journal'));
    await actor.stop();
  });

  it('names a stuck writer by PID after two samples a second apart', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const actor = await startActor('hold-write', db);
    const inspector = new Inspector(db, { stuckAfterMs: 300 });
    const first = await inspector.check({ mode: 'passive' });
    assert.ok(codes(first).includes('lock-held'), codes(first).join());
    assert.ok(!codes(first).includes('stuck-writer'));
    await new Promise((r) => setTimeout(r, 400));
    const second = await inspector.check({ mode: 'passive' });
    const stuck = second.findings.find((f) => f.code === 'stuck-writer');
    assert.ok(stuck, codes(second).join());
    assert.deepEqual(stuck.pids, [actor.pid]);
    assert.match(stuck.message, new RegExp(`PID ${actor.pid}`));
    assert.equal(second.healthy, false);
    await actor.stop();
    const third = await inspector.check({ mode: 'passive' });
    assert.ok(!codes(third).includes('stuck-writer'));
    assert.equal(third.locks.length, 0);
  });

  it('a proxy committing all the time is never reported stuck, though each look may catch a lock', async () => {
    const { db } = await traceWorkspace({ rows: 50 });
    const writer = await startActor('writer', db, ['--rate', '400', '--busy-timeout', '5000']);
    const inspector = new Inspector(db, { stuckAfterMs: 100 });
    let sawLock = 0;
    for (let i = 0; i < 40; i++) {
      const r = await inspector.check({ mode: 'passive' });
      if (r.locks.some((l) => l.pid === writer.pid && l.lock !== 'WAL_OPEN')) sawLock++;
      assert.ok(!codes(r).includes('stuck-writer'), `look ${i}: ${JSON.stringify(r.locks)}`);
      await new Promise((res) => setTimeout(res, 120));
    }
    await writer.stop();
    assert.ok(sawLock > 0, 'the looks did catch the writer holding a lock at times');
  });

  it('an inspector that watched WAL being enabled stops warning about the lock errors from before', async () => {
    const { root, db } = await traceWorkspace({ rows: 5 });
    const logPath = path.join(root, 'error.log');
    const line = JSON.stringify({ level: 50, time: Date.now(), msg: 'failed', err: { message: 'database is locked' } }) + '\n';
    fs.writeFileSync(logPath, line.repeat(3));
    const inspector = new Inspector(db, { logPath });
    const before = await inspector.check({ mode: 'passive' });
    assert.equal(before.findings.find((f) => f.code === 'lock-errors-in-log')?.severity, 'warning');
    const c = await openFixtureDb(db);
    await c.exec('PRAGMA journal_mode=WAL');
    await c.close();
    const after = await inspector.check({ mode: 'passive' });
    assert.equal(after.findings.find((f) => f.code === 'lock-errors-in-log')?.severity, 'info');
    assert.equal(after.healthy, true);
    fs.appendFileSync(logPath, line);
    const again = await inspector.check({ mode: 'passive' });
    assert.equal(again.findings.find((f) => f.code === 'lock-errors-in-log')?.severity, 'warning');
  });

  it('in full mode, reads blocked by an EXCLUSIVE lock end quickly with a clear reason', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const actor = await startActor('hold-exclusive', db);
    const started = Date.now();
    const r = await inspect(db, { mode: 'full', busyTimeoutMs: 100 });
    assert.ok(Date.now() - started < 5000);
    assert.equal(r.reachable, false);
    assert.equal(r.unreachableReason, 'lock-held');
    assert.ok(r.locks.some((l) => l.pid === actor.pid && l.lock === 'EXCLUSIVE'));
    await actor.stop();
  });
});

describe('inspect: bad input gets a clear message and the file stays byte-for-byte the same', () => {
  async function expectUnreachable(file: string, code: string, message: RegExp): Promise<void> {
    const dir = path.dirname(file);
    const before = snapshotDir(dir);
    for (const mode of ['passive', 'full'] as const) {
      const r = await inspect(file, { mode, integrity: mode === 'full' });
      assert.equal(r.reachable, false, `${mode}: ${JSON.stringify(r.findings)}`);
      assert.equal(r.unreachableReason, code, mode);
      const f = r.findings.find((x) => x.code === code);
      assert.ok(f, `${mode}: finding ${code}`);
      assert.equal(f.severity, 'error');
      assert.match(f.message, message);
    }
    assert.deepEqual(snapshotDir(dir), before);
  }

  it('a missing file', async () => {
    await expectUnreachable(path.join(tempDir(), 'traces.db'), 'missing', /no database at .*tracedb\.databasePath/);
  });

  it('a directory', async () => {
    const dir = path.join(tempDir(), 'traces.db');
    fs.mkdirSync(dir);
    const r = await inspect(dir, { mode: 'full' });
    assert.equal(r.unreachableReason, 'is-directory');
    assert.match(r.findings[0].message, /directory/);
  });

  it('a text file that is not a database', async () => {
    const file = path.join(tempDir(), 'traces.db');
    fs.writeFileSync(file, 'this is a log file, not a database\n'.repeat(200));
    await expectUnreachable(file, 'not-a-database', /not a SQLite database/);
  });

  it('an empty file', async () => {
    const file = path.join(tempDir(), 'traces.db');
    fs.writeFileSync(file, '');
    await expectUnreachable(file, 'not-a-database', /empty/);
  });

  it('a truncated file', async () => {
    const { db } = await traceWorkspace({ rows: 300 });
    const full = fs.readFileSync(db);
    fs.writeFileSync(db, full.subarray(0, Math.floor(full.length / 2) + 100));
    await expectUnreachable(db, 'truncated', /truncated.*restore/s);
  });

  it('a file cut inside the header', async () => {
    const { db } = await traceWorkspace({ rows: 3 });
    fs.writeFileSync(db, fs.readFileSync(db).subarray(0, 60));
    await expectUnreachable(db, 'truncated', /only 60 bytes/);
  });

  it('a corrupt file (valid header, garbled pages)', async () => {
    const { db } = await traceWorkspace({ rows: 300 });
    const buf = fs.readFileSync(db);
    const pageSize = parseHeader(buf).header!.pageSize;
    for (let i = pageSize; i < buf.length; i++) buf[i] = (i * 131) & 0xff;
    fs.writeFileSync(db, buf);
    const before = snapshotDir(path.dirname(db));
    const r = await inspect(db, { mode: 'full' });
    assert.equal(r.reachable, false);
    assert.ok(['corrupt', 'not-a-database'].includes(r.unreachableReason!), r.unreachableReason);
    assert.match(r.findings.find((f) => f.code === r.unreachableReason)!.message, /corrupt|not a SQLite/);
    assert.deepEqual(snapshotDir(path.dirname(db)), before);
  });
});

describe('inspect: created DBs for other tests stay valid', () => {
  it('createTraceDb writes the rows it was asked for', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'x.db');
    await createTraceDb(db, { rows: 7 });
    const c = await openFixtureDb(db);
    const row = await c.get('SELECT count(*) AS n FROM traces');
    await c.close();
    assert.equal(row.n, 7);
  });
});
