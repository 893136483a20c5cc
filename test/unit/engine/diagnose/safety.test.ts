// The doctor must never cause the error it diagnoses (docs/DESIGN.md § Rules 1).
// A real writer process commits traces like the proxy while the doctor looks.
import * as assert from 'node:assert/strict';
import { Inspector } from '../../../../src/engine/diagnose/inspect';
import { openFixtureDb, sleep, startActor, traceWorkspace } from '../../../support/helpers';

/**
 * Runs `look` back to back while a writer commits, for at least `ms` and at least
 * `minLooks` looks (a loaded machine takes longer, it does not look less); returns the
 * writer's summary and how often it looked.
 */
async function whileWriting(db: string, writerArgs: string[], ms: number, look: () => Promise<unknown>, minLooks = 40) {
  const writer = await startActor('writer', db, ['--rate', '200', ...writerArgs]);
  let looks = 0;
  const until = Date.now() + ms;
  while (Date.now() < until || looks < minLooks) {
    await look();
    looks++;
    await sleep(20);
  }
  const summary = (await writer.stop())!;
  return { summary, looks };
}

describe('safety: inspecting never makes the proxy fail', () => {
  it("control: the runbook's own COUNT(*) check does make a writer without busy timeout fail", async () => {
    // Proves the writer below is sensitive: if this ever stops failing, the tests
    // that assert zero errors would prove nothing.
    const { db } = await traceWorkspace({ rows: 3000 });
    const { summary } = await whileWriting(db, ['--busy-timeout', '0'], 3000, async () => {
      const c = await openFixtureDb(db);
      await c.get('SELECT COUNT(*) FROM traces');
      await c.close();
    });
    assert.ok(summary.busyErrors > 0, `expected busy errors from the naive check, got ${JSON.stringify({ ...summary, committed: summary.committed.length })}`);
  });

  it('the passive poll causes no busy error in a writer with NO busy timeout', async () => {
    const { root, db } = await traceWorkspace({ rows: 3000 });
    const inspector = new Inspector(db, { logPath: `${root}/packages/proxy/logs/error.log` });
    const { summary, looks } = await whileWriting(db, ['--busy-timeout', '0'], 3000, () => inspector.check({ mode: 'passive' }));
    assert.ok(looks > 30, `the doctor looked ${looks} times`);
    assert.ok(summary.committed.length > 300, `writer committed ${summary.committed.length}`);
    assert.equal(summary.busyErrors, 0);
    assert.deepEqual(summary.otherErrors, []);
  });

  it('full inspection causes no busy error in a writer with a 5 s busy timeout', async () => {
    const { db } = await traceWorkspace({ rows: 3000 });
    const inspector = new Inspector(db);
    const { summary, looks } = await whileWriting(db, ['--busy-timeout', '5000'], 3000, () => inspector.check({ mode: 'full' }));
    assert.ok(looks > 20, `the doctor looked ${looks} times`);
    assert.equal(summary.busyErrors, 0);
    assert.deepEqual(summary.otherErrors, []);
  });

  it('in WAL mode the passive poll reads SQL and still causes no busy error without busy timeout', async () => {
    const { db } = await traceWorkspace({ rows: 3000, journalMode: 'wal' });
    const inspector = new Inspector(db);
    let counted = 0;
    const { summary } = await whileWriting(db, ['--busy-timeout', '0'], 2500, async () => {
      const r = await inspector.check({ mode: 'passive' });
      if (r.traceCount) counted++;
    });
    assert.ok(counted > 10, 'WAL passive checks include the trace estimate');
    assert.equal(summary.busyErrors, 0);
  });
});
