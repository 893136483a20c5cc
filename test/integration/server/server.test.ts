// The doctor server as the extension starts it: dist/server.js in its own process,
// spoken to over a real IPC JSON-RPC connection.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as proto from '../../../src/shared/protocol';
import { startActor, tempDir, traceWorkspace, waitFor } from '../../support/helpers';
import { startServer, type Server } from '../../support/serverHarness';

describe('doctor server over IPC', function () {
  let server: Server;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('answers a full health request', async () => {
    const { db } = await traceWorkspace({ rows: 12 });
    const r = await server.conn.sendRequest(proto.health, { dbPath: db, mode: 'full' });
    assert.equal(r.reachable, true);
    assert.equal(r.journalMode, 'delete');
    assert.equal(r.traceCount?.value, 12);
    assert.ok(r.findings.some((f) => f.code === 'not-wal'));
  });

  it('survives a corrupt database and keeps serving', async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'traces.db');
    const { db: good } = await traceWorkspace({ rows: 300 });
    const buf = fs.readFileSync(good);
    for (let i = 4096; i < buf.length; i++) buf[i] = (i * 7) & 0xff;
    fs.writeFileSync(bad, buf);
    const r = await server.conn.sendRequest(proto.health, { dbPath: bad, mode: 'full', integrity: true });
    assert.equal(r.reachable, false);
    assert.ok(r.findings.some((f) => f.severity === 'error'));
    const garbage = path.join(dir, 'garbage.db');
    fs.writeFileSync(garbage, Buffer.alloc(8192, 0xff));
    const r2 = await server.conn.sendRequest(proto.health, { dbPath: garbage, mode: 'full' });
    assert.equal(r2.unreachableReason, 'not-a-database');
    assert.equal(server.child.exitCode, null, 'server still running');
    const ok = await server.conn.sendRequest(proto.health, { dbPath: good, mode: 'full' });
    assert.equal(ok.reachable, true);
  });

  it('returns user-facing errors as such', async () => {
    const { db } = await traceWorkspace({ rows: 1 });
    await assert.rejects(server.conn.sendRequest(proto.checkpoint, { dbPath: db, mode: 'PASSIVE' }), (e: { code: number; message: string }) => {
      assert.equal(e.code, proto.USER_FACING_ERROR);
      assert.match(e.message, /not in WAL mode/);
      return true;
    });
  });

  it('watches a database and pushes healthChanged: a lock taken and released, WAL enabled, DB deleted and created', async () => {
    const { root, db } = await traceWorkspace({ rows: 10 });
    await server.conn.sendRequest(proto.watch, { databases: [{ folderUri: `file://${root}`, dbPath: db }], pollIntervalMs: 300 });
    const latest = () => server.changes.filter((c) => c.dbPath === db).at(-1)?.report;
    await waitFor('first report', () => latest()?.findings.some((f) => f.code === 'not-wal'));

    const actor = await startActor('hold-write', db);
    await waitFor('lock seen', () => latest()?.locks.some((l) => l.pid === actor.pid && l.lock === 'RESERVED'));
    await waitFor('stuck writer', () =>
      latest()
        ?.findings.find((f) => f.code === 'stuck-writer')
        ?.pids?.includes(actor.pid),
    );
    await actor.stop();
    await waitFor('lock cleared', () => latest() && latest()!.locks.length === 0);

    const r = await server.conn.sendRequest(proto.enableWal, { dbPath: db });
    assert.equal(r.ok, true, r.message);
    await waitFor('WAL reported', () => latest()?.journalMode === 'wal' && latest()?.healthy);

    fs.rmSync(db);
    for (const f of ['-wal', '-shm']) fs.rmSync(db + f, { force: true });
    await waitFor('deletion reported', () => latest()?.unreachableReason === 'missing');
    fs.copyFileSync(path.join(__dirname, '..', '..', 'fixtures', 'traceforge.cjs'), db);
    await waitFor('new file reported', () => latest()?.unreachableReason === 'not-a-database');
    assert.equal(server.child.exitCode, null);
  });

  it('keeps reporting while a proxy commits hundreds of times a second (file events never starve the poll)', async () => {
    const { root, db } = await traceWorkspace({ rows: 10 });
    const writer = await startActor('writer', db, ['--rate', '300', '--busy-timeout', '5000']);
    await server.conn.sendRequest(proto.watch, { databases: [{ folderUri: `file://${root}`, dbPath: db }], pollIntervalMs: 300 });
    const reports = () => server.changes.filter((c) => c.dbPath === db);
    await waitFor('first report under load', () => reports().length > 0, 3000);
    const fresh = await server.conn.sendRequest(proto.health, { dbPath: db, mode: 'passive' });
    assert.ok(fresh.findings.some((f) => f.code === 'not-wal'));
    await writer.stop();
    assert.ok(!reports().some((c) => c.report.findings.some((f) => f.code === 'stuck-writer')), 'no stuck writer from a busy proxy');
  });

  it('lists holders with their locks', async () => {
    const { db } = await traceWorkspace({ rows: 3 });
    const actor = await startActor('hold-read', db);
    const sample = await server.conn.sendRequest(proto.holders, { dbPath: db });
    const h = sample.holders.find((x) => x.pid === actor.pid);
    assert.ok(h, JSON.stringify(sample));
    assert.deepEqual(h.locks, ['SHARED']);
    await actor.stop();
  });
});
