// The lock monitor against real SQLite files and real processes (test/fixtures/actor.cjs):
// a held lock becomes one hold of the right length, sampling at 10 Hz costs a writer
// with no busy timeout nothing, the commit counters count a writer's commits, and a lock
// error written to the proxy's log names the process that held the lock then.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockMonitor } from '../../../../src/engine/monitor/lockMonitor';
import type { LockErrorEvent, LockHold } from '../../../../src/shared/monitorModel';
import { sleep, startActor, tempDir, traceWorkspace, waitFor } from '../../../support/helpers';

const monitors: LockMonitor[] = [];

function monitor(db: string, opts: ConstructorParameters<typeof LockMonitor>[1] = {}): LockMonitor {
  const m = new LockMonitor(db, opts);
  monitors.push(m);
  m.start();
  return m;
}

/** Until the monitor has read the commit counter once: the baseline later commits count from. */
function counterRead(m: LockMonitor): Promise<boolean> {
  return waitFor('the first counter reading', () => m.totals().wal !== undefined, 10_000);
}

describe('monitor: LockMonitor (real processes)', function () {
  this.timeout(60_000);

  afterEach(() => {
    for (const m of monitors.splice(0)) m.stop();
  });

  it('a child holding RESERVED for 3 s is one hold of 3 ± 0.3 s, blocking the proxy', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const m = monitor(db);
    const ended: LockHold[] = [];
    m.onHoldEnd = (h) => ended.push(h);
    const actor = await startActor('hold-write', db);
    await sleep(3000);
    await actor.stop();
    const hold = await waitFor('the RESERVED hold to end', () => ended.find((h) => h.pid === actor.pid && h.lock === 'RESERVED'));
    const ms = hold.end! - hold.start;
    assert.ok(Math.abs(ms - 3000) <= 300, `held ${ms} ms`);
    assert.equal(hold.holder, 'node actor.cjs');
    assert.equal(hold.kind, 'script');
    assert.equal(hold.blocksProxy, true);

    const snap = m.snapshot(60_000);
    const reserved = snap.holds.filter((h) => h.pid === actor.pid && h.lock === 'RESERVED');
    assert.equal(reserved.length, 1);
    assert.deepEqual(reserved[0], hold);
    assert.equal(snap.summary.sampleHz, 10);
    assert.equal(snap.summary.wal, false);
    const stats = snap.summary.stats.find((s) => s.pid === actor.pid && s.lock === 'RESERVED');
    assert.equal(stats?.count, 1);
    assert.equal(stats?.maxMs, ms);
    assert.equal(snap.summary.blockers[0]?.pid, actor.pid);
    assert.ok(snap.summary.proxyBlockedMs >= ms, `${snap.summary.proxyBlockedMs} ms blocked`);
    assert.match(snap.note, /10 times a second \(every 100 ms\).*less than 100 ms can be missed/);
  });

  for (const journalMode of ['delete', 'wal'] as const) {
    it(`${journalMode}: a writer with busy_timeout 0 sees no busy error while the monitor samples at 10 Hz, and every commit is counted`, async () => {
      const { db } = await traceWorkspace({ rows: 10, journalMode });
      const m = monitor(db, { intervalMs: 100 });
      // In WAL mode the last connection to close deletes the -shm and its counter with it: keep one open.
      const keeper = journalMode === 'wal' ? await startActor('open', db) : undefined;
      await counterRead(m);
      await sleep(1100);
      const writer = await startActor('writer', db, ['--rate', '100', '--busy-timeout', '0']);
      await sleep(4000);
      const summary = (await writer.stop())!;
      const before = m.totals().samples;
      await waitFor('2.5 s more of samples (two counter readings)', () => m.totals().samples >= before + 25, 10_000);
      await keeper?.stop();
      assert.equal(summary.busyErrors, 0, JSON.stringify(summary.otherErrors));
      assert.deepEqual(summary.otherErrors, []);
      assert.ok(summary.committed.length >= 20, `${summary.committed.length} commits`);
      assert.equal(m.totals().commits, summary.committed.length);
      assert.equal(m.totals().wal, journalMode === 'wal');
      assert.ok(m.summary(60_000).commitsPerSecond > 0);
      // The monitor itself never holds a lock: every hold it saw is a child's.
      assert.ok(
        m.snapshot(60_000).holds.every((h) => h.pid === writer.pid || h.pid === keeper?.pid),
        JSON.stringify(m.snapshot(60_000).holds),
      );
    });
  }

  it('links a lock error in the proxy’s log to the process that held the lock then (JSON and pino-pretty)', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const logDir = tempDir();
    // Created only after monitoring began, as a freshly redirected proxy output would be.
    const log = path.join(logDir, 'proxy.log');
    const m = monitor(db, { logPath: log });
    const errors: LockErrorEvent[] = [];
    m.onLockError = (e) => errors.push(e);
    await sleep(1200);
    const actor = await startActor('hold-write', db);
    await sleep(1500);
    const t1 = Date.now();
    fs.writeFileSync(
      log,
      JSON.stringify({ level: 50, time: t1, pid: 4242, msg: 'failed to store trace', err: { message: 'SQLITE_BUSY: database is locked' } }) + '\n',
    );
    await waitFor('the JSON error', () => errors.length >= 1);
    await sleep(1000);
    const t2 = new Date();
    const hms = t2.toISOString().slice(11, 19);
    fs.appendFileSync(
      log,
      [
        `[${hms} UTC] ERROR: database is locked`,
        '    reqId: "req-7"',
        '    err: {',
        '      "type": "SqliteError",',
        '      "message": "database is locked",',
        '      "code": "SQLITE_BUSY"',
        '    }',
        `[${hms} UTC] INFO: request completed`,
        '',
      ].join('\n'),
    );
    await waitFor('the pino-pretty error', () => errors.length >= 2);
    await sleep(1500);
    await actor.stop();

    assert.equal(errors.length, 2, JSON.stringify(errors));
    const [json, pretty] = errors;
    assert.equal(json.at, t1);
    assert.equal(json.text, 'failed to store trace: SQLITE_BUSY: database is locked');
    assert.equal(json.blamed[0]?.pid, actor.pid, JSON.stringify(json.blamed));
    assert.equal(json.blamed[0].lock, 'RESERVED');
    assert.equal(json.blamed[0].holder, 'node actor.cjs');
    assert.ok(Math.abs(json.blamed[0].heldMs - 1500) <= 400, `held ${json.blamed[0].heldMs} ms`);
    assert.equal(pretty.at, Math.floor(t2.getTime() / 1000) * 1000);
    assert.equal(pretty.text, `[${hms} UTC] ERROR: database is locked`);
    assert.equal(pretty.blamed[0]?.pid, actor.pid);
    assert.equal(pretty.blamed[0].lock, 'RESERVED');
    assert.equal(m.summary(60_000).lockErrors, 2);
    assert.equal(m.totals().lockErrors, 2);
    assert.deepEqual(
      m.snapshot(60_000).errors.map((e) => e.at),
      [json.at, pretty.at],
    );
  });

  it('setIntervalMs changes the rate, and a window states its coarsest rate; stop ends open holds, marked', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const m = monitor(db, { intervalMs: 100 });
    const ended: LockHold[] = [];
    m.onHoldEnd = (h) => ended.push(h);
    const actor = await startActor('hold-write', db);
    await waitFor('the hold', () => m.snapshot(10_000).holds.some((h) => h.pid === actor.pid && h.lock === 'RESERVED'));
    m.setIntervalMs(500);
    await sleep(1200);
    assert.equal(m.summary(60_000).sampleHz, 2);
    assert.match(m.snapshot(60_000).note, /every 500 ms/);
    m.stop();
    const cut = ended.find((h) => h.pid === actor.pid && h.lock === 'RESERVED');
    assert.equal(cut?.stoppedWhileHeld, true);
    await actor.stop();
  });
});
