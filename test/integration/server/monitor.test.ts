// The lock monitor through the doctor server over real IPC: every watched database is
// sampled, a Lock Monitor's watchInterest raises the rate to 10 Hz, `tracedb/monitor`
// answers with a real child process's hold of RESERVED, and the health reports carry the
// monitor's figures and findings.
import * as assert from 'node:assert/strict';
import * as proto from '../../../src/shared/protocol';
import { sleep, startActor, traceWorkspace, waitFor } from '../../support/helpers';
import { startServer, type Server } from '../../support/serverHarness';

describe('lock monitor through the doctor server over IPC', function () {
  let server: Server;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.close();
  });

  async function watched(pollIntervalMs: number): Promise<{ root: string; db: string }> {
    const w = await traceWorkspace({ rows: 10 });
    await server.conn.sendRequest(proto.watch, { databases: [{ folderUri: `file://${w.root}`, dbPath: w.db }], pollIntervalMs });
    return w;
  }

  it('answers tracedb/monitor with the hold of a child process holding RESERVED, and the reports carry the figures and findings', async () => {
    const { db } = await watched(300);
    const actor = await startActor('hold-write', db);
    const snap = await waitFor(
      'the hold in the snapshot',
      async () => {
        const s = await server.conn.sendRequest(proto.monitor, { dbPath: db, windowMs: 60_000 });
        return s.holds.some((h) => h.pid === actor.pid && h.lock === 'RESERVED' && h.end === undefined) && s;
      },
      10_000,
      200,
    );
    const hold = snap.holds.find((h) => h.pid === actor.pid && h.lock === 'RESERVED')!;
    assert.equal(hold.holder, 'node actor.cjs');
    assert.equal(hold.blocksProxy, true, 'an open write transaction keeps the proxy from committing');
    assert.ok(Math.abs(snap.summary.sampleHz - 1000 / 300) < 0.01, `sampled at the poll rate, not ${snap.summary.sampleHz} Hz`);
    assert.match(snap.note, /can be missed/);

    // Held for over two seconds: contention, named in the pushed report beside the monitor's figures.
    const latest = () => server.changes.filter((c) => c.dbPath === db).at(-1)?.report;
    const report = await waitFor('lock-contention in a pushed report', () => latest()?.findings.some((f) => f.code === 'lock-contention') && latest(), 10_000);
    const contention = report.findings.find((f) => f.code === 'lock-contention')!;
    assert.deepEqual(contention.pids, [actor.pid]);
    assert.ok(report.monitor, 'the report carries the monitor summary');
    assert.equal(report.monitor.blockers[0].pid, actor.pid);
    assert.equal(report.monitor.windowMs <= 5 * 60_000, true);
    assert.equal(report.healthy, false);
    const severities = report.findings.map((f) => ['error', 'warning', 'info'].indexOf(f.severity));
    assert.deepEqual(
      severities,
      [...severities].sort((a, b) => a - b),
      'findings stay worst first',
    );

    await actor.stop();
    await waitFor(
      'the hold ended',
      async () => {
        const s = await server.conn.sendRequest(proto.monitor, { dbPath: db, windowMs: 60_000 });
        return s.holds.find((h) => h.pid === actor.pid && h.lock === 'RESERVED')?.end !== undefined;
      },
      10_000,
      200,
    );
  });

  it('watchInterest { monitor } raises the sampling rate to 10 Hz while a Lock Monitor shows the database, and lowers it after', async () => {
    const { db } = await watched(1000);
    const hz = async () => (await server.conn.sendRequest(proto.monitor, { dbPath: db, windowMs: 1000 })).summary.sampleHz;
    await sleep(300);
    assert.equal(await hz(), 1);

    await server.conn.sendRequest(proto.watchInterest, { monitor: [db] });
    await waitFor('10 Hz', async () => (await hz()) === 10, 5000, 200);
    // Another interest (the Health view's) leaves the monitor's as it was.
    await server.conn.sendRequest(proto.watchInterest, { names: true });
    await sleep(1200);
    assert.equal(await hz(), 10);

    await server.conn.sendRequest(proto.watchInterest, { monitor: [] });
    await sleep(1200);
    assert.equal(await hz(), 1);
  });

  it('refuses, for the user, a database it does not watch', async () => {
    const { db } = await traceWorkspace({ rows: 1 });
    await assert.rejects(server.conn.sendRequest(proto.monitor, { dbPath: db, windowMs: 60_000 }), (e: { code: number; message: string }) => {
      assert.equal(e.code, proto.USER_FACING_ERROR);
      assert.match(e.message, /not a database the doctor watches/);
      return true;
    });
  });
});
