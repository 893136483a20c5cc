// The SQLite engine behind every connection: which one is chosen, what each says when a lock
// is held, what works without any (header-level health) and what fails with a clear message.
// The cases that need node:sqlite exist only on a Node that has it: on this machine's Node 20
// they are not declared (not skipped), and `npm run test:unit:node-sqlite` (Node 24, part of
// `npm test`) runs the same file with them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifySqlError, inspect } from '../../../../src/engine/diagnose/inspect';
import { DoctorError } from '../../../../src/engine/errors';
import { backupDatabase } from '../../../../src/engine/repair/backup';
import { chooseBackend, FORCE_ENV, requireNodeSqlite, setBackendForTests, sqliteBackendInfo, type LoadedBackend } from '../../../../src/engine/sqlite/backend';
import { copySnapshot } from '../../../../src/engine/sqlite/backup';
import { isBusy, openConnection, sqliteCode, withConnection } from '../../../../src/engine/sqlite/connection';
import type { NativeSqlite } from '../../../../src/engine/sqlite/nativeConnection';
import type { NodeSqlite } from '../../../../src/engine/sqlite/nodeConnection';
import { readTransaction } from '../../../../src/engine/sqlite/readTransaction';
import { toSqliteError } from '../../../../src/engine/sqlite/sqliteErrors';
import { listTraces } from '../../../../src/engine/traces/listTraces';
import { formatReport } from '../../../../src/shared/reportText';
import { openFixtureDb, startActor, tempDir, traceWorkspace } from '../../../support/helpers';

const fail = (message: string) => () => {
  throw new Error(message);
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realNative = () => require('@vscode/sqlite3') as NativeSqlite;
const realNode = ((): NodeSqlite | undefined => {
  try {
    return requireNodeSqlite();
  } catch {
    return undefined;
  }
})();
const NATIVE_MISSING = "Cannot find module '../build/Release/vscode-sqlite3.node'\nRequire stack:\n- lib/sqlite3-binding.js";

/** The engines the tests switch between; node:sqlite ones only where this Node has it. */
function engine(name: 'native' | 'node:sqlite' | 'node:sqlite without backup()' | 'none'): LoadedBackend {
  const nodeVersion = process.versions.node;
  if (name === 'native') return chooseBackend({ force: 'native', nodeVersion, loadNative: realNative, loadNode: fail('unused') });
  if (name === 'none')
    return chooseBackend({ nodeVersion: '20.20.2', loadNative: fail(NATIVE_MISSING), loadNode: fail('No such built-in module: node:sqlite') });
  const mod = realNode!;
  const loadNode = name === 'node:sqlite' ? () => mod : () => ({ DatabaseSync: mod.DatabaseSync });
  return chooseBackend({ force: 'node', nodeVersion, loadNative: realNative, loadNode });
}

const ALL_ENGINES = ['native', 'node:sqlite', 'node:sqlite without backup()'] as const;
const ENGINES = ALL_ENGINES.filter((name) => name === 'native' || realNode);

async function rowCount(db: string): Promise<number> {
  const c = await openFixtureDb(db);
  const r = await c.get('SELECT count(*) AS n FROM traces');
  await c.close();
  return Number(r.n);
}

describe('sqlite engine: choosing one', () => {
  const probe = { nodeVersion: '24.9.0', loadNative: () => ({ VERSION: '3.39.4' }) as NativeSqlite, loadNode: () => realNode ?? ({} as NodeSqlite) };

  it('takes the native module when it loads, and says nothing more', () => {
    assert.deepEqual(chooseBackend(probe).info, { name: 'native', version: '3.39.4', node: '24.9.0' });
  });

  it('falls back to node:sqlite when the native module does not load, and says why', () => {
    const b = chooseBackend({ ...probe, loadNative: fail(NATIVE_MISSING) });
    assert.equal(b.info.name, 'node:sqlite');
    assert.equal(b.info.reason, "the native module did not load: Cannot find module '../build/Release/vscode-sqlite3.node'");
  });

  it('TRACEDB_SQLITE_BACKEND forces one engine and never tries the other', () => {
    const node = chooseBackend({ ...probe, force: 'node', loadNative: fail('must not load') });
    assert.equal(node.info.name, 'node:sqlite');
    assert.equal(node.info.reason, `chosen by ${FORCE_ENV}=node`);
    const native = chooseBackend({ ...probe, force: 'native', loadNative: fail(NATIVE_MISSING), loadNode: fail('must not load') });
    assert.equal(native.info.name, 'none');
    assert.match(native.info.reason!, /native module did not load \(Cannot find module .*\) and TRACEDB_SQLITE_BACKEND=native rules out node:sqlite$/);
    assert.equal(chooseBackend({ ...probe, force: 'sqlite4' }).info.name, 'native', 'an unknown value picks as usual');
  });

  it('says which Node lacks node:sqlite and which has it only behind a flag', () => {
    const none = (nodeVersion: string) =>
      chooseBackend({ nodeVersion, loadNative: fail(NATIVE_MISSING), loadNode: fail('No such built-in module: node:sqlite') }).info.reason;
    assert.match(none('20.20.2')!, /and this Node \(v20\.20\.2\) has no node:sqlite$/);
    assert.match(none('22.10.0')!, /has node:sqlite only behind --experimental-sqlite$/);
    assert.match(none('24.9.0')!, /node:sqlite did not load in this Node \(v24\.9\.0\): No such built-in module/);
  });

  it('this process uses the engine TRACEDB_SQLITE_BACKEND asks for', () => {
    const info = sqliteBackendInfo();
    const forced = process.env[FORCE_ENV];
    if (forced === 'node') assert.equal(info.name, realNode ? 'node:sqlite' : 'none');
    else assert.equal(info.name, 'native', JSON.stringify(info));
    assert.equal(info.node, process.versions.node);
  });
});

describe('sqlite engine: errors in one shape', () => {
  it("maps node:sqlite's numbered errors to SQLite's names, extended codes by their primary one", () => {
    const raw = (errcode: number, message: string) => Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode, errstr: message });
    assert.equal(sqliteCode(raw(5, 'database is locked')), 'SQLITE_BUSY');
    assert.equal(sqliteCode(raw(517, 'database is locked')), 'SQLITE_BUSY');
    assert.equal(sqliteCode(raw(6, 'database table is locked')), 'SQLITE_LOCKED');
    assert.equal(sqliteCode(raw(26, 'file is not a database')), 'SQLITE_NOTADB');
    assert.ok(isBusy(raw(5, 'database is locked')) && isBusy(raw(6, 'x')) && isBusy(new Error('database is locked')));
    assert.ok(!isBusy(raw(11, 'database disk image is malformed')));
    const e = toSqliteError(raw(11, 'database disk image is malformed')) as Error & { code: string; errno: number };
    assert.deepEqual([e.code, e.errno, e.message], ['SQLITE_CORRUPT', 11, 'SQLITE_CORRUPT: database disk image is malformed']);
    assert.equal(classifySqlError(e).code, 'corrupt');
    const other = new TypeError('not an SQLite error');
    assert.equal(toSqliteError(other), other);
  });

  for (const name of (['native', 'node:sqlite'] as const).filter((n) => n === 'native' || realNode)) {
    it(`${name}: a reader behind an EXCLUSIVE lock waits its busy timeout, then fails busy`, async function () {
      const { db } = await traceWorkspace({ rows: 20 });
      const holder = await startActor('hold-exclusive', db);
      setBackendForTests(engine(name));
      try {
        const c = await openConnection(db, { readonly: true, busyTimeoutMs: 150 });
        const t0 = Date.now();
        const err = await c.get('SELECT count(*) FROM traces').then(
          () => undefined,
          (e: unknown) => e,
        );
        const waited = Date.now() - t0;
        await c.close();
        assert.ok(err, 'the read must fail while EXCLUSIVE is held');
        assert.equal(sqliteCode(err), 'SQLITE_BUSY');
        assert.ok(isBusy(err));
        assert.equal((err as Error).message, 'SQLITE_BUSY: database is locked');
        assert.equal(classifySqlError(err).code, 'lock-held');
        assert.ok(waited >= 100, `waited ${waited} ms for a 150 ms busy timeout`);
      } finally {
        setBackendForTests(undefined);
        await holder.stop();
      }
    });
  }
});

describe('sqlite engine: copies on every engine', () => {
  afterEach(() => setBackendForTests(undefined));

  for (const name of ENGINES) {
    it(`${name}: never creates the database, backs up a WAL snapshot and a rollback DB, and stops when told`, async function () {
      setBackendForTests(engine(name));
      const dir = tempDir();
      const missing = path.join(dir, 'none.db');
      await assert.rejects(openConnection(missing, { readonly: false, busyTimeoutMs: 0 }), (e: unknown) => sqliteCode(e) === 'SQLITE_CANTOPEN');
      await assert.rejects(openConnection(missing, { readonly: true, busyTimeoutMs: 0 }), (e: unknown) => sqliteCode(e) === 'SQLITE_CANTOPEN');
      assert.ok(!fs.existsSync(missing), 'opening must not create the file');

      const wal = await traceWorkspace({ rows: 300, journalMode: 'wal' });
      const w = await backupDatabase(wal.db);
      assert.equal(w.mode, 'wal-snapshot');
      assert.equal(await rowCount(w.path), 300);
      const rollback = await traceWorkspace({ rows: 300 });
      const r = await backupDatabase(rollback.db);
      assert.equal(r.mode, 'rollback-shared');
      assert.equal(await rowCount(r.path), 300);

      // A step callback that throws ends the copy with its error (cancellation, a restart).
      const dest = path.join(dir, 'stopped.db');
      const stop = new DoctorError('stopped');
      const stopped = readTransaction(wal.db, { busyTimeoutMs: 100, oneTransaction: name !== 'node:sqlite without backup()' }, (c) =>
        copySnapshot(c, dest, 1, () => {
          throw stop;
        }),
      );
      await assert.rejects(stopped, (e: unknown) => e === stop);
    });

    it(`${name}: without cp (Windows) the rollback copy is still one pass under SHARED`, async function () {
      setBackendForTests(engine(name));
      const { db } = await traceWorkspace({ rows: 200 });
      const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
      Object.defineProperty(process, 'platform', { ...platform, value: 'win32' });
      try {
        const r = await backupDatabase(db);
        assert.equal(r.mode, 'rollback-shared');
        assert.equal(await rowCount(r.path), 200);
      } finally {
        Object.defineProperty(process, 'platform', platform);
      }
    });
  }
});

describe('sqlite engine: none at all', () => {
  before(() => setBackendForTests(engine('none')));
  after(() => setBackendForTests(undefined));

  it('a request that needs SQL fails with what is missing and what still works', async () => {
    const { db } = await traceWorkspace({ rows: 20, journalMode: 'wal' });
    const expect = (e: unknown) =>
      e instanceof DoctorError &&
      e.message.startsWith(
        "No SQLite engine is available here: the native module did not load (Cannot find module '../build/Release/vscode-sqlite3.node') and this Node (v20.20.2) has no node:sqlite. Header-level health still works",
      );
    await assert.rejects(
      withConnection(db, { readonly: true, busyTimeoutMs: 0 }, async () => undefined),
      expect,
    );
    await assert.rejects(listTraces(db), expect);
    await assert.rejects(backupDatabase(db), expect);
  });

  it('inspection still reports header-level health, and a full check says what it could not do', async () => {
    const { db } = await traceWorkspace({ rows: 20 });
    const passive = await inspect(db, { mode: 'passive' });
    assert.equal(passive.reachable, true);
    assert.equal(passive.journalMode, 'delete');
    assert.equal(passive.journalModeSource, 'header');
    assert.equal(passive.sqliteBackend?.name, 'none');
    assert.ok(passive.findings.some((f) => f.code === 'not-wal'));
    assert.ok(!passive.findings.some((f) => f.code === 'no-sqlite-engine'), 'the poll does not repeat it');

    const full = await inspect(db, { mode: 'full', integrity: true });
    assert.equal(full.reachable, true);
    assert.equal(full.traceCount, undefined);
    assert.equal(full.integrity?.ran, false);
    const finding = full.findings.find((f) => f.code === 'no-sqlite-engine');
    assert.equal(finding?.severity, 'info');
    assert.match(finding?.message ?? '', /^No SQLite engine is available here: /);
    assert.match(formatReport(full), /SQLite: none: the native module did not load/);
  });
});
