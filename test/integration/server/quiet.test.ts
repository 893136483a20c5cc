// "Quiet when healthy" (docs/DESIGN.md § Rules 6) against the server over real IPC: a proxy
// writing to a healthy DB is not a stream of health changes, while a lock held by another
// process still shows within 2 s and a stuck writer within 3 s (correctness bounds with
// slack; what it costs is measured by `npm run bench -- quiet`, not asserted here).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import * as proto from '../../../src/shared/protocol';
import { registerPragmaLint } from '../../../src/server/lint';
import { ACTOR, createTraceDb, sleep, startActor, tempDir, waitFor } from '../../support/helpers';
import { startServer, type Server } from '../../support/serverHarness';

/** A TraceForge-shaped folder whose writer runs as packages/proxy/dist/index.js, so the doctor names it the proxy. */
async function proxyWorkspace(journalMode: 'wal' | 'delete'): Promise<{ root: string; db: string; entry: string; proxyDir: string }> {
  const root = tempDir('tracedb-quiet-');
  const proxyDir = path.join(root, 'packages', 'proxy');
  fs.mkdirSync(path.join(proxyDir, '.ai-tests'), { recursive: true });
  fs.mkdirSync(path.join(proxyDir, 'dist'));
  const entry = path.join(proxyDir, 'dist', 'index.js');
  fs.writeFileSync(entry, `require(${JSON.stringify(ACTOR)});\n`);
  const db = path.join(proxyDir, '.ai-tests', 'traces.db');
  await createTraceDb(db, { rows: 20, journalMode });
  return { root, db, entry, proxyDir };
}

function startProxyWriter(entry: string, cwd: string, db: string, rate: number): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [entry, 'writer', db, '--rate', String(rate), '--busy-timeout', '5000'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`writer not ready: ${err}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      if (/^ready \d+$/m.test(out)) {
        clearTimeout(timer);
        resolve({
          pid: child.pid!,
          async stop() {
            child.stdin.end();
            await exited;
          },
        });
      }
    });
    void exited.then(() => reject(new Error(`writer exited before ready: ${err}`)));
  });
}

describe('quiet when healthy: the server over IPC', function () {
  let server: Server;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.close();
  });

  const forDb = (db: string) => server.changes.filter((c) => c.dbPath === db);

  it('a healthy DB with the proxy writing 20 traces/s sends at most a few notifications in 10 s', async () => {
    const { root, db, entry, proxyDir } = await proxyWorkspace('wal');
    const writer = await startProxyWriter(entry, proxyDir, db, 20);
    try {
      await server.conn.sendRequest(proto.watch, { databases: [{ folderUri: `file://${root}`, dbPath: db }], pollIntervalMs: 1000, idleIntervalMs: 30000 });
      const first = await waitFor('first report', () => forDb(db)[0]?.report);
      assert.equal(first.journalMode, 'wal');
      assert.ok(first.healthy, JSON.stringify(first.findings));
      const before = forDb(db).length;
      const data = server.data.length;
      await sleep(10_000);
      const after = forDb(db).slice(before);
      assert.ok(
        after.length <= 2,
        `healthChanged ${after.length} times: ${after.map((c) => c.report.findings.map((f) => f.code).join('+') || 'healthy').join(', ')}`,
      );
      assert.ok(after.every((c) => c.report.healthy));
      // The explorer still hears of new traces, coalesced: at most one every 3 s.
      const dataN = server.data.length - data;
      assert.ok(dataN >= 1 && dataN <= 4, `dataChanged ${dataN} times in 10 s`);
    } finally {
      await writer.stop();
    }
  });

  for (const journalMode of ['wal', 'delete'] as const) {
    it(`${journalMode === 'wal' ? 'WAL' : 'rollback journal'}: a lock held by another process shows within 2 s, a stuck writer within 3 s, from the quiet rate`, async () => {
      const { root, db } = await proxyWorkspace(journalMode);
      await server.conn.sendRequest(proto.watch, { databases: [{ folderUri: `file://${root}`, dbPath: db }], pollIntervalMs: 1000, idleIntervalMs: 30000 });
      await waitFor('first report', () => forDb(db).length > 0);
      // Past the first look: the watcher is at its quiet rate now.
      await sleep(2500);
      const actor = await startActor('hold-write', db);
      const t0 = Date.now();
      try {
        const lockSeen = await waitFor(
          'the lock in a healthChanged',
          () => forDb(db).find((c) => c.report.locks.some((l) => l.pid === actor.pid && !l.waiting)),
          2000,
          20,
        );
        const stuck = await waitFor(
          'the stuck writer in a healthChanged',
          () => forDb(db).find((c) => c.report.findings.some((f) => f.code === 'stuck-writer' && f.pids?.includes(actor.pid))),
          3000 - (Date.now() - t0),
          20,
        );
        assert.ok(
          lockSeen.report.holders.some((h) => h.pid === actor.pid),
          'the holder is named',
        );
        assert.equal(stuck.report.healthy, false);
      } finally {
        await actor.stop();
      }
      await waitFor('lock cleared', () =>
        forDb(db)
          .at(-1)
          ?.report.locks.every((l) => l.pid !== actor.pid),
      );
    });
  }

  it('watchInterest { names } has the poll name a process that merely has the DB open', async () => {
    const { root, db } = await proxyWorkspace('delete');
    await server.conn.sendRequest(proto.watch, { databases: [{ folderUri: `file://${root}`, dbPath: db }], pollIntervalMs: 500, idleIntervalMs: 30000 });
    await waitFor('first report', () => forDb(db).length > 0);
    // Opened after the first walk, holding no lock (rollback mode, idle): only a walk finds it.
    const idle = await startActor('open', db);
    try {
      await sleep(1500);
      assert.ok(!forDb(db).some((c) => c.report.holders.some((h) => h.pid === idle.pid)), 'not walked for while nobody looks');
      await server.conn.sendRequest(proto.watchInterest, { names: true });
      await waitFor('named once the processes are shown', () => forDb(db).some((c) => c.report.holders.some((h) => h.pid === idle.pid)), 5000);
    } finally {
      await idle.stop();
      await server.conn.sendRequest(proto.watchInterest, { names: false });
    }
  });
});

describe('storage lint workspace scan', () => {
  /** Enough of an LSP connection for registerPragmaLint: every registration is a no-op. */
  function fakeConnection(): Connection {
    const noop = () => ({ dispose() {} });
    return new Proxy({} as Connection, {
      get: (_t, key) => (key === 'console' ? { log: noop, warn: noop, error: noop, info: noop } : key === 'sendDiagnostics' ? async () => undefined : noop),
    });
  }

  it('checks its file cap and time budget per file, even inside one huge folder', async () => {
    const root = tempDir('tracedb-bigfolder-');
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(root, `f${i}.ts`), 'export const x = 1;\n');
    const lint = registerPragmaLint(fakeConnection(), { minBusyTimeoutMs: () => 5000 });
    const capped = await lint.scanWorkspace([root], { budgetMs: 60_000, maxFiles: 500 });
    assert.deepEqual([capped.files, capped.complete], [500, false]);
    const timed = await lint.scanWorkspace([root], { budgetMs: 0, maxFiles: 100_000 });
    assert.equal(timed.complete, false);
    assert.ok(timed.files < 3000, `${timed.files} files after a 0 ms budget`);
  });
});
