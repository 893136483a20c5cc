// Issue 11: the doctor must not hurt the data it guards. Each test here failed before
// its fix: a check that could not run reported as corruption, a checkpoint that stalled
// the proxy, debris that looked like a backup, a symlinked DB's hot journal missed, and
// a log read that dropped the doctor's own locks.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backupDatabase } from '../../../src/engine/repair/backup';
import { pidNamespace, STALE_TEMP_MS, sweepStaleTemporaries } from '../../../src/engine/repair/temporaries';
import { checkpoint } from '../../../src/engine/repair/checkpoint';
import { withFileGate } from '../../../src/engine/sqlite/fileGate';
import { inspect } from '../../../src/engine/diagnose/inspect';
import { integrityCheck } from '../../../src/engine/repair/integrity';
import { sampleLocks } from '../../../src/engine/locks/sampleLocks';
import { LogTail } from '../../../src/engine/log/logTail';
import { setSqlTraceHook, withConnection } from '../../../src/engine/sqlite/connection';
import { sha256, sleep, startActor, tempDir, traceWorkspace } from '../../support/helpers';

/** A real database with a real hot journal: a writer that spilled into the file, then SIGKILLed. */
async function withHotJournal(db: string): Promise<void> {
  const a = await startActor('hold-spill', db);
  a.child.kill('SIGKILL');
  await new Promise((r) => a.child.once('exit', r));
  assert.ok(fs.statSync(`${db}-journal`).size > 0, 'the killed writer left its journal');
}

/** A PID that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid;
}

function backdate(p: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  fs.utimesSync(p, t, t);
}

describe('integrity check: could not run is not corruption (issue 11.1)', () => {
  it('on a hot journal: reports integrity-not-run with what to do, never integrity-failed, and leaves the journal alone', async () => {
    const { db } = await traceWorkspace({ rows: 50 });
    await withHotJournal(db);
    const dbHash = sha256(db);
    const journalHash = sha256(`${db}-journal`);
    const r = await integrityCheck(db);
    assert.equal(r.ran, false, JSON.stringify(r));
    assert.equal(r.ok, false);
    assert.match(r.notRunReason ?? '', /hot journal.*restart the proxy/i);
    // The check did not run the proxy's recovery (before the fix its copy rolled the journal back).
    assert.equal(sha256(db), dbHash);
    assert.equal(sha256(`${db}-journal`), journalHash);

    const report = await inspect(db, { mode: 'full', integrity: true });
    const codes = report.findings.map((f) => f.code);
    assert.ok(codes.includes('integrity-not-run'), codes.join());
    assert.ok(!codes.includes('integrity-failed'), codes.join());
    assert.ok(codes.includes('hot-journal'), codes.join());
    const f = report.findings.find((x) => x.code === 'integrity-not-run')!;
    assert.equal(f.severity, 'warning');
    assert.doesNotMatch(f.message, /restore from the newest backup/);
  });

  it('on a rollback DB runs quick_check once (the copy is checked by the copy step, not again)', async () => {
    const { db } = await traceWorkspace({ rows: 100 });
    const seen: string[] = [];
    setSqlTraceHook((sql) => seen.push(sql));
    try {
      const r = await integrityCheck(db);
      assert.equal(r.ok, true, JSON.stringify(r));
    } finally {
      setSqlTraceHook(undefined);
    }
    assert.equal(seen.filter((s) => /quick_check/i.test(s)).length, 1, seen.join(' | '));
  });

  it('a quick_check that ran and found damage is still integrity-failed', async () => {
    const { db } = await traceWorkspace({ rows: 2000 });
    const buf = fs.readFileSync(db);
    const pageSize = buf.readUInt16BE(16);
    const start = pageSize * Math.floor(buf.length / pageSize / 2);
    for (let i = start; i < start + pageSize * 4; i++) buf[i] = 0x5a;
    fs.writeFileSync(db, buf);
    const r = await integrityCheck(db);
    assert.equal(r.ran, true, JSON.stringify(r));
    assert.equal(r.ok, false);
    const report = await inspect(db, { mode: 'passive', integrity: true });
    assert.ok(report.findings.some((f) => f.code === 'integrity-failed'));
  });
});

describe('checkpoint never stalls the proxy (issue 11.3)', () => {
  it('TRUNCATE beside a long reader: no commit over a second, no busy error, and the reader is named', async function () {
    this.timeout(60000);
    const { db } = await traceWorkspace({ rows: 50, journalMode: 'wal' });
    const reader = await startActor('hold-read', db);
    const writer = await startActor('writer', db, ['--rate', '100', '--busy-timeout', '300']);
    const results = [];
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      results.push(await checkpoint(db, 'TRUNCATE'));
    }
    await sleep(300);
    const summary = (await writer.stop())!;
    await reader.stop();
    assert.equal(summary.busyErrors, 0, JSON.stringify({ ...summary, committed: summary.committed.length }));
    assert.ok(summary.max < 1000, `slowest commit ${summary.max.toFixed(0)} ms`);
    for (const r of results) {
      assert.equal(r.ok, false, r.message);
      assert.match(r.message, new RegExp(`PID ${reader.pid}\\b`));
      assert.ok(r.blockers.some((b) => b.pid === reader.pid));
    }
  });

  it('TRUNCATE with no reader resets the -wal while the proxy writes', async () => {
    const { db } = await traceWorkspace({ rows: 10, journalMode: 'wal' });
    const keeper = await startActor('open', db);
    const writer = await startActor('writer', db, ['--rate', '50', '--busy-timeout', '300']);
    await sleep(500);
    const r = await checkpoint(db, 'TRUNCATE');
    const summary = (await writer.stop())!;
    await keeper.stop();
    assert.equal(summary.busyErrors, 0);
    // The writer may have committed again right after the reset; the reset itself happened.
    assert.equal(r.ok, true, r.message);
    assert.ok(r.walSizeAfter < r.walSizeBefore, r.message);
  });
});

describe('temporaries and rotation (issue 11.4)', () => {
  it('keeps the newest N backups after a successful backup, never the one just made', async () => {
    const { db } = await traceWorkspace({ rows: 20 });
    const dir = path.join(path.dirname(db), 'backups');
    const first = await backupDatabase(db);
    const names = [
      'traces-20200101T000001Z.db',
      'traces-20200101T000002Z.db',
      'traces-20200101T000003Z.db',
      'traces-29991231T235959Z.db',
      'other-20200101T000000Z.db',
      'mine.db',
    ];
    for (const n of names) fs.copyFileSync(first.path, path.join(dir, n));
    fs.writeFileSync(path.join(dir, 'traces-20200101T000001Z.db-journal'), '');
    await sleep(1100); // a new name: stamps have one-second resolution
    const r = await backupDatabase(db, { keep: 3 });
    const left = fs.readdirSync(dir).sort();
    // Kept: the new one and the two next newest by stamp (including one dated in the future).
    assert.deepEqual(left, ['mine.db', 'other-20200101T000000Z.db', path.basename(first.path), path.basename(r.path), 'traces-29991231T235959Z.db'].sort());
    assert.match(r.message, /Removed 3 older backups \(keeping the newest 3\)/);
    await sleep(1100);
    const only = await backupDatabase(db, { keep: 1 });
    assert.ok(fs.existsSync(only.path), 'the backup just made survives, whatever other names say');
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.startsWith('traces-')),
      [path.basename(only.path)],
    );
    await assert.rejects(backupDatabase(db, { keep: 0 }), /Keep at least one backup/);
  });

  it("the next check removes a dead run's temporaries, and nothing else", async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const dir = path.join(path.dirname(db), 'backups');
    fs.mkdirSync(dir);
    const ns = pidNamespace();
    assert.notEqual(ns, 'x', 'this machine shows PID namespaces');
    const dead = deadPid();
    const live = await startActor('open', db);
    const files = {
      dead: `.traces-20260101T000000Z.db.${ns}-${dead}.partial`,
      deadJournal: `.traces-20260101T000000Z.db.${ns}-${dead}.partial-journal`,
      deadCheck: `.traces-check-20260101T000000Z.db.${ns}-${dead}.partial`,
      live: `.traces-20260101T000002Z.db.${ns}-${live.pid}.partial`,
      // Another PID namespace (a container): its owner cannot be seen, so only age tells.
      foreignFresh: `.traces-20260101T000003Z.db.1-${dead}.partial`,
      foreignOld: `.traces-20260101T000004Z.db.1-${dead}.partial`,
      oldScheme: '.traces-20250101T000000Z.db.partial',
      oldSchemeFresh: '.traces-20250101T000001Z.db.partial',
      backup: 'traces-20200101T000000Z.db',
    };
    for (const n of Object.values(files)) fs.writeFileSync(path.join(dir, n), 'x');
    for (const n of [files.foreignOld, files.oldScheme, files.backup]) backdate(path.join(dir, n), STALE_TEMP_MS + 60000);
    const beside = path.join(path.dirname(db), '.tracedb-check-abc');
    fs.mkdirSync(beside);
    fs.writeFileSync(path.join(beside, 'copy.db'), 'x');
    backdate(path.join(beside, 'copy.db'), STALE_TEMP_MS + 60000);
    backdate(beside, STALE_TEMP_MS + 60000);

    await inspect(db, { mode: 'passive' });
    assert.deepEqual(fs.readdirSync(dir).sort(), [files.backup, files.live, files.foreignFresh, files.oldSchemeFresh].sort());
    assert.equal(fs.existsSync(beside), false);
    await live.stop();
    // Once its owner is gone, the live one's copy goes too.
    const removed = await sweepStaleTemporaries(db, { force: true });
    assert.deepEqual(
      removed.map((p) => path.basename(p)),
      [files.live],
    );
  });
});

describe('a symlinked DB path (issue 11.6)', () => {
  it('finds the hot journal beside the real file: hot-journal, not unreadable', async () => {
    const { db } = await traceWorkspace({ rows: 50 });
    await withHotJournal(db);
    const elsewhere = tempDir();
    const link = path.join(elsewhere, 'traces.db');
    fs.symlinkSync(db, link);
    const before = sha256(db);
    const report = await inspect(link, { mode: 'full' });
    const codes = report.findings.map((f) => f.code);
    assert.ok(codes.includes('hot-journal'), codes.join());
    assert.ok(!codes.includes('unreadable'), codes.join());
    assert.equal(report.files.journal.exists, true);
    assert.equal(report.files.journal.hot, true);
    assert.equal(sha256(db), before, 'looking did not recover it');
  });
});

describe('the file gate (issue 11.7)', () => {
  /** Reads `log` with a LogTail while this process holds a read transaction on `db` through the gate. */
  async function readLogDuringTransaction(db: string, log: string, lock: 'SHARED' | 'WAL_READ') {
    const tail = new LogTail(log);
    let logRead = false;
    let pending: Promise<unknown> | undefined;
    const during = await withFileGate(db, () =>
      withConnection(db, { readonly: true, busyTimeoutMs: 250 }, async (c) => {
        await c.exec('BEGIN');
        await c.get('SELECT count(*) AS n FROM traces');
        pending = tail.update().then(() => (logRead = true));
        // Without the gate the log reader opens and closes the file now, dropping this
        // process's POSIX locks on it (closing any descriptor of a file does).
        await sleep(400);
        const sample = await sampleLocks(db);
        const held = sample.locks.some((l) => l.pid === process.pid && l.lock === lock);
        await c.exec('COMMIT');
        return { held, logRead };
      }),
    );
    await pending;
    assert.deepEqual(during, { held: true, logRead: false });
    assert.equal(logRead, true, 'the log was read once the transaction ended');
  }

  it('a log path that IS the database waits for the read transaction: the doctor keeps its SHARED lock', async () => {
    const { db } = await traceWorkspace({ rows: 50 });
    await readLogDuringTransaction(db, db, 'SHARED');
  });

  it('a log path that is the -shm (by another spelling) waits too: the WAL read lock stays', async () => {
    const { db } = await traceWorkspace({ rows: 50, journalMode: 'wal' });
    const keeper = await startActor('open', db); // keeps the -shm in place between connections
    const link = path.join(tempDir(), 'proxy.log');
    fs.symlinkSync(`${db}-shm`, link);
    await readLogDuringTransaction(db, link, 'WAL_READ');
    await keeper.stop();
  });

  it('keys by inode: the same file through a symlink waits its turn', async () => {
    const { db } = await traceWorkspace({ rows: 1 });
    const link = path.join(tempDir(), 'link.db');
    fs.symlinkSync(db, link);
    const order: string[] = [];
    const a = withFileGate(db, async () => {
      order.push('a start');
      await sleep(200);
      order.push('a end');
    });
    await sleep(20);
    const b = withFileGate(link, async () => {
      order.push('b');
    });
    const c = withFileGate(`${link}-shm`, async () => {
      order.push('shm');
    });
    await Promise.all([a, b, c]);
    assert.deepEqual(order.slice(0, 2), ['a start', 'a end']);
  });
});
