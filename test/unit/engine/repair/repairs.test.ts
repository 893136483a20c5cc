import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backupDatabase } from '../../../../src/engine/repair/backup';
import { defaultBackupPath } from '../../../../src/engine/repair/backupFiles';
import { checkpoint } from '../../../../src/engine/repair/checkpoint';
import { enableWal, readJournalMode } from '../../../../src/engine/repair/enableWal';
import { DoctorError } from '../../../../src/engine/errors';
import { integrityCheck } from '../../../../src/engine/repair/integrity';
import { openFixtureDb, sha256, sleep, snapshotDir, startActor, tempDir, traceWorkspace } from '../../../support/helpers';

async function ids(db: string): Promise<Set<string>> {
  const c = await openFixtureDb(db);
  const rows = await c.all('SELECT id FROM traces');
  await c.close();
  return new Set(rows.map((r) => String(r.id)));
}

describe('enable WAL', () => {
  it('switches a rollback DB and verifies it from a fresh connection', async () => {
    const { db } = await traceWorkspace({ rows: 40 });
    const r = await enableWal(db);
    assert.equal(r.ok, true, r.message);
    assert.equal(r.journalMode, 'wal');
    assert.equal(r.previousMode, 'delete');
    assert.equal(await readJournalMode(db), 'wal');
    assert.equal(fs.readFileSync(db)[18], 2, 'header byte 18 says WAL');
    assert.equal((await ids(db)).size, 40);
  });

  it('under a live writer at 200 traces/s: switches, loses no committed row, causes no busy error', async () => {
    const { db } = await traceWorkspace({ rows: 2000 });
    const before = await ids(db);
    const writer = await startActor('writer', db, ['--rate', '200', '--busy-timeout', '5000']);
    await sleep(500);
    const r = await enableWal(db, { timeoutMs: 10000 });
    await sleep(500);
    const summary = (await writer.stop())!;
    assert.equal(r.ok, true, r.message);
    assert.equal(await readJournalMode(db), 'wal');
    const after = await ids(db);
    for (const id of before) assert.ok(after.has(id), `pre-existing row ${id} lost`);
    for (const id of summary.committed) assert.ok(after.has(id), `committed row ${id} lost`);
    assert.equal(after.size, before.size + summary.committed.length);
    assert.equal(summary.busyErrors, 0);
    assert.ok(summary.committed.length > 100);
  });

  it('is a no-op on a WAL DB', async () => {
    const { db } = await traceWorkspace({ rows: 5, journalMode: 'wal' });
    const r = await enableWal(db);
    assert.equal(r.ok, true);
    assert.equal(r.alreadyWal, true);
    assert.equal(r.attempts, 0);
  });

  it('gives up within its timeout and names the process holding the lock', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const holder = await startActor('hold-read', db);
    const started = Date.now();
    const r = await enableWal(db, { timeoutMs: 600 });
    assert.ok(Date.now() - started < 5000);
    assert.equal(r.ok, false);
    assert.equal(r.journalMode, 'delete');
    assert.ok(r.attempts > 3, `retried ${r.attempts} times`);
    assert.deepEqual(
      r.blockers.map((b) => b.pid),
      [holder.pid],
    );
    assert.match(r.message, new RegExp(`PID ${holder.pid}.*SHARED`));
    await holder.stop();
    const again = await enableWal(db, { timeoutMs: 2000 });
    assert.equal(again.ok, true);
  });

  it('when asked, switches first and then backs up from a WAL snapshot', async () => {
    const { db } = await traceWorkspace({ rows: 25 });
    const events: string[] = [];
    const r = await enableWal(db, { backup: true, onProgress: (e) => events.push(e.message) });
    assert.equal(r.ok, true, r.message);
    assert.ok(r.backupPath && fs.existsSync(r.backupPath));
    assert.equal(r.backupError, undefined);
    assert.equal(path.dirname(r.backupPath), path.join(path.dirname(db), 'backups'));
    assert.deepEqual(fs.readdirSync(path.dirname(r.backupPath)), [path.basename(r.backupPath)], 'no temporary file left');
    // Taken after the switch: the copy is a WAL database too.
    assert.equal(fs.readFileSync(r.backupPath)[18], 2);
    assert.equal((await ids(r.backupPath)).size, 25);
    const switching = events.indexOf('Switching to WAL…');
    const backingUp = events.findIndex((m) => m.startsWith('Backing up (WAL snapshot, the proxy is not paused)…'));
    assert.ok(switching >= 0 && backingUp > switching, events.join(' | '));
  });

  it('keeps WAL on and says so when the backup after the switch fails', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    // A file where the backups folder should be: mkdir fails.
    fs.writeFileSync(path.join(path.dirname(db), 'backups'), 'not a folder');
    const r = await enableWal(db, { backup: true });
    assert.equal(r.ok, true, r.message);
    assert.equal(r.journalMode, 'wal');
    assert.equal(r.backupPath, undefined);
    assert.ok(r.backupError, 'backupError is set');
    assert.match(r.message, /backup after the switch failed/);
    assert.equal(await readJournalMode(db), 'wal');
  });

  it('stops retrying when cancelled, and leaves the database unchanged', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const holder = await startActor('hold-read', db);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(enableWal(db, { timeoutMs: 10000, signal: ac.signal }), /cancelled/);
    await holder.stop();
    assert.equal(await readJournalMode(db), 'delete');
  });

  it('refuses bad input with a clear message and leaves it unchanged', async () => {
    const dir = tempDir();
    const notDb = path.join(dir, 'traces.db');
    fs.writeFileSync(notDb, 'hello, not a database');
    const before = snapshotDir(dir);
    await assert.rejects(enableWal(notDb), (e: Error) => e instanceof DoctorError && /not a healthy SQLite database/.test(e.message));
    await assert.rejects(enableWal(path.join(dir, 'missing.db')), /no database/);
    assert.deepEqual(snapshotDir(dir), before);
  });
});

describe('checkpoint', () => {
  it('TRUNCATE moves the WAL into the DB and empties the -wal file', async () => {
    const { db } = await traceWorkspace({ rows: 10, journalMode: 'wal' });
    // An idle connection keeps the WAL from being checkpointed away on close.
    const keeper = await startActor('open', db);
    const writer = await startActor('writer', db, ['--rate', '500']);
    await sleep(600);
    const summary = (await writer.stop())!;
    assert.ok(fs.statSync(`${db}-wal`).size > 0);
    const r = await checkpoint(db, 'TRUNCATE');
    assert.equal(r.ok, true, r.message);
    assert.ok(r.walFrames === 0 || r.checkpointedFrames === r.walFrames);
    assert.ok(r.walSizeBefore > 0);
    assert.equal(r.walSizeAfter, 0);
    assert.equal((await ids(db)).size, 10 + summary.committed.length);
    await keeper.stop();
  });

  it('PASSIVE reports busy when a reader pins the WAL, and says who to look for', async () => {
    const { db } = await traceWorkspace({ rows: 10, journalMode: 'wal' });
    const reader = await startActor('hold-read', db);
    const writer = await startActor('writer', db, ['--rate', '500']);
    await sleep(400);
    await writer.stop();
    const r = await checkpoint(db, 'PASSIVE');
    assert.ok(r.walFrames > 0);
    assert.ok(r.checkpointedFrames < r.walFrames, JSON.stringify(r));
    await reader.stop();
  });

  it('refuses a rollback-journal DB', async () => {
    const { db } = await traceWorkspace({ rows: 1 });
    await assert.rejects(checkpoint(db), /not in WAL mode/);
  });
});

describe('backup', () => {
  it('copies a DB consistently while the proxy writes, into backups/', async () => {
    const { db } = await traceWorkspace({ rows: 3000 });
    const writer = await startActor('writer', db, ['--rate', '200', '--busy-timeout', '5000']);
    const r = await backupDatabase(db);
    const summary = (await writer.stop())!;
    assert.equal(r.ok, true);
    assert.equal(path.dirname(r.path), path.join(path.dirname(db), 'backups'));
    const copied = await ids(r.path);
    assert.ok(copied.size >= 3000, `backup has ${copied.size}`);
    assert.equal(summary.busyErrors, 0);
    const integrity = await integrityCheck(r.path);
    assert.equal(integrity.ok, true, integrity.messages.join());
  });

  it('writes under a hidden temporary name and leaves nothing behind when it fails', async () => {
    const { db } = await traceWorkspace({ rows: 50 });
    const dir = tempDir();
    const out = path.join(dir, 'b.db');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(backupDatabase(db, { out, signal: ac.signal }), /cancelled/);
    assert.deepEqual(fs.readdirSync(dir), []);
    const r = await backupDatabase(db, { out });
    assert.equal(r.mode, 'rollback-shared');
    assert.ok(r.estimatedPauseMs >= 0 && r.pauseMs >= 0);
    assert.deepEqual(fs.readdirSync(dir), ['b.db']);
  });

  it('refuses a rollback-mode copy that would pause the proxy too long, unless forced', async () => {
    const { db } = await traceWorkspace({ rows: 50 });
    const dir = tempDir();
    await assert.rejects(backupDatabase(db, { out: path.join(dir, 'a.db'), maxPauseMs: 0 }), /pause the proxy's writes for about .*Enable WAL first/);
    assert.deepEqual(fs.readdirSync(dir), []);
    const r = await backupDatabase(db, { out: path.join(dir, 'a.db'), maxPauseMs: 0, force: true });
    assert.equal(r.ok, true);
  });

  it('never overwrites an existing file', async () => {
    const { db } = await traceWorkspace({ rows: 1 });
    const out = path.join(tempDir(), 'b.db');
    fs.writeFileSync(out, 'keep me');
    await assert.rejects(backupDatabase(db, { out }), /already exists/);
    assert.equal(fs.readFileSync(out, 'utf8'), 'keep me');
  });

  it('names backups by UTC time', () => {
    assert.equal(defaultBackupPath('/w/.ai-tests/traces.db', new Date('2026-11-26T10:20:30.456Z')), '/w/.ai-tests/backups/traces-20261126T102030Z.db');
  });
});

describe('integrity check', () => {
  it('runs on a copy for a rollback DB (the live file is not locked or changed) and reports ok', async () => {
    const { db } = await traceWorkspace({ rows: 200 });
    const hash = sha256(db);
    const r = await integrityCheck(db);
    assert.equal(r.ok, true, r.messages.join());
    assert.equal(r.onCopy, true);
    assert.equal(sha256(db), hash);
    assert.deepEqual(fs.readdirSync(path.dirname(db)).sort(), ['traces.db']);
  });

  it('runs in place on a WAL DB', async () => {
    const { db } = await traceWorkspace({ rows: 20, journalMode: 'wal' });
    const r = await integrityCheck(db);
    assert.equal(r.ok, true);
    assert.equal(r.onCopy, false);
  });

  it('finds damage inside a table', async () => {
    const { db } = await traceWorkspace({ rows: 2000, journalMode: 'wal' });
    const buf = fs.readFileSync(db);
    const pageSize = buf.readUInt16BE(16);
    // Garble the middle of the file (leaf pages of traces), keep page 1 (schema) intact.
    const start = pageSize * Math.floor(buf.length / pageSize / 2);
    for (let i = start; i < start + pageSize * 4; i++) buf[i] = 0x5a;
    fs.writeFileSync(db, buf);
    const r = await integrityCheck(db);
    assert.equal(r.ok, false);
    assert.ok(r.messages.length > 0 && r.messages[0] !== 'ok');
  });
});
