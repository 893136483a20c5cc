// Lock holders: the /proc/locks parser and decoder on literal kernel text, which
// locks make a blocker, and sampleLocks against real child processes that hold
// real SQLite locks (test/fixtures/actor.cjs). Process names: processNames.test.ts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeSqliteLocks, markBlockers, splitDev, walInUse } from '../../../../src/engine/locks/lockBytes';
import { parseLsof } from '../../../../src/engine/locks/lsof';
import { ProcessCache } from '../../../../src/engine/locks/openFiles';
import { parseProcLocks, type ProcLockLine } from '../../../../src/engine/locks/procLocks';
import { sampleLocks } from '../../../../src/engine/locks/sampleLocks';
import { describeLock } from '../../../../src/shared/labels';
import type { HeldLock, Holder, LockSample, SqliteLockName } from '../../../../src/shared/model';
import { sleep, startActor, tempDir, traceWorkspace } from '../../../support/helpers';

const PENDING = 1073741824;

function holder(s: LockSample, pid: number): Holder {
  const h = s.holders.find((x) => x.pid === pid);
  assert.ok(h, `PID ${pid} not among holders: ${JSON.stringify(s.holders)}`);
  return h;
}

function locksOf(s: LockSample, pid: number): Pick<HeldLock, 'lock' | 'file' | 'type'>[] {
  return s.locks.filter((l) => l.pid === pid).map(({ lock, file, type }) => ({ lock, file, type }));
}

function lockOf(s: LockSample, pid: number, lock: SqliteLockName): HeldLock {
  const l = s.locks.find((x) => x.pid === pid && x.lock === lock);
  assert.ok(l, `PID ${pid} holds no ${lock}: ${JSON.stringify(s.locks)}`);
  return l;
}

describe('locks', () => {
  describe('parseProcLocks', () => {
    it('reads POSIX lines: hex device, decimal inode, byte range', () => {
      const lines = parseProcLocks(
        ['1: POSIX  ADVISORY  WRITE 2561 fe:00:2146450 1073741825 1073741825', '2: POSIX  ADVISORY  READ 2561 fe:00:2146450 1073741826 1073742335', ''].join(
          '\n',
        ),
      );
      assert.deepEqual(lines, [
        { id: 1, waiting: false, kind: 'POSIX', type: 'write', pid: 2561, major: 0xfe, minor: 0, inode: 2146450n, start: 1073741825, end: 1073741825 },
        { id: 2, waiting: false, kind: 'POSIX', type: 'read', pid: 2561, major: 0xfe, minor: 0, inode: 2146450n, start: 1073741826, end: 1073742335 },
      ] satisfies ProcLockLine[]);
    });

    it('marks blocked requests (->) as waiting, at any nesting depth', () => {
      const lines = parseProcLocks(
        [
          '3: POSIX  ADVISORY  WRITE 2561 fe:00:2146450 1073741824 1073741824',
          '3: -> POSIX  ADVISORY  WRITE 2600 fe:00:2146450 1073741824 1073741824',
          '3:  -> POSIX  ADVISORY  READ 2601 fe:00:2146450 1073741824 1073741824',
        ].join('\n'),
      );
      assert.deepEqual(
        lines.map((l) => [l.id, l.pid, l.waiting, l.type]),
        [
          [3, 2561, false, 'write'],
          [3, 2600, true, 'write'],
          [3, 2601, true, 'read'],
        ],
      );
    });

    it('keeps OFDLCK and FLOCK kinds, reads EOF as Infinity, and big inodes exactly', () => {
      const [ofd, flock, big] = parseProcLocks(
        [
          '4: OFDLCK ADVISORY  READ -1 00:1a:77 0 EOF',
          '5: FLOCK  ADVISORY  WRITE 812 fd:01:1048583 0 EOF',
          '6: POSIX  ADVISORY  READ 900 00:2b:18446744073709551557 128 128',
        ].join('\n'),
      );
      assert.equal(ofd.kind, 'OFDLCK');
      assert.equal(ofd.pid, -1);
      assert.equal(ofd.minor, 0x1a);
      assert.equal(ofd.end, Infinity);
      assert.equal(flock.kind, 'FLOCK');
      assert.deepEqual([flock.major, flock.minor, flock.inode], [0xfd, 1, 1048583n]);
      assert.equal(big.inode, 18446744073709551557n);
    });

    it('skips lines it cannot attribute to a held or wanted lock', () => {
      const lines = parseProcLocks(
        [
          'garbage',
          '7: LEASE  BREAKING  UNLCK 77 fe:00:12 0 EOF',
          '8: POSIX  ADVISORY  WRITE 77 <none> 0 EOF',
          '9: LEASE  ACTIVE    READ 78 fe:00:13 0 EOF',
        ].join('\n'),
      );
      assert.deepEqual(
        lines.map((l) => [l.id, l.kind, l.type]),
        [[9, 'LEASE', 'read']],
      );
    });
  });

  describe('decodeSqliteLocks', () => {
    const db = (type: 'read' | 'write', start: number, end = start) => decodeSqliteLocks({ type, start, end }, 'db').map((d) => d.lock);
    const shm = (type: 'read' | 'write', start: number, end = start) => decodeSqliteLocks({ type, start, end }, 'shm').map((d) => d.lock);

    it('names each database lock byte', () => {
      assert.deepEqual(db('write', PENDING), ['PENDING']);
      assert.deepEqual(db('write', PENDING + 1), ['RESERVED']);
      assert.deepEqual(db('read', PENDING + 2, PENDING + 511), ['SHARED']);
      assert.deepEqual(db('write', PENDING + 2, PENDING + 511), ['EXCLUSIVE']);
    });

    it('ignores the transient READ on PENDING and locks outside the lock bytes', () => {
      assert.deepEqual(db('read', PENDING), []);
      assert.deepEqual(db('write', 0, 4095), []);
      assert.deepEqual(db('read', PENDING + 512, Infinity), []);
    });

    it('decodes every region a merged range covers', () => {
      // An EXCLUSIVE writer: the kernel merges PENDING, RESERVED and the SHARED range.
      assert.deepEqual(db('write', PENDING, PENDING + 511), ['PENDING', 'RESERVED', 'EXCLUSIVE']);
      assert.deepEqual(db('write', PENDING + 1, PENDING + 511), ['RESERVED', 'EXCLUSIVE']);
      assert.deepEqual(db('write', 0, Infinity), ['PENDING', 'RESERVED', 'EXCLUSIVE']);
      assert.deepEqual(db('read', PENDING + 300, PENDING + 300), ['SHARED']);
    });

    it('names each -shm lock byte', () => {
      assert.deepEqual(shm('write', 120), ['WAL_WRITE']);
      assert.deepEqual(shm('write', 121), ['CHECKPOINT']);
      assert.deepEqual(shm('write', 122), ['RECOVER']);
      for (let b = 123; b <= 127; b++) {
        assert.deepEqual(shm('read', b), ['WAL_READ']);
        assert.deepEqual(shm('write', b), ['WAL_READ']);
      }
      assert.deepEqual(shm('read', 128), ['WAL_OPEN']);
      assert.deepEqual(shm('write', 128), ['RECOVER']);
      assert.deepEqual(shm('read', 0, 119), []);
      assert.deepEqual(shm('write', 129, Infinity), []);
    });

    it('decodes merged -shm ranges once per lock name', () => {
      assert.deepEqual(shm('write', 120, 122), ['WAL_WRITE', 'CHECKPOINT', 'RECOVER']);
      assert.deepEqual(shm('read', 123, 128), ['WAL_READ', 'WAL_OPEN']);
      assert.deepEqual(shm('write', 0, Infinity), ['WAL_WRITE', 'CHECKPOINT', 'RECOVER', 'WAL_READ']);
      assert.deepEqual(decodeSqliteLocks({ type: 'write', start: 123, end: 127 }, 'shm'), [{ lock: 'WAL_READ', type: 'write' }]);
    });
  });

  describe('splitDev', () => {
    it('splits a stat dev the way glibc major()/minor() do', () => {
      assert.deepEqual(splitDev(0xfe00n), { major: 0xfe, minor: 0 });
      // glibc makedev(0x1234, 0x56789): (maj & 0xfff) << 8 | (maj & ~0xfff) << 32 | (min & 0xff) | (min & ~0xff) << 12.
      const dev = (0x234n << 8n) | (0x1000n << 32n) | 0x89n | (0x56700n << 12n);
      assert.deepEqual(splitDev(dev), { major: 0x1234, minor: 0x56789 });
    });
  });

  describe('markBlockers', () => {
    const lock = (pid: number, lock: SqliteLockName, file: 'db' | 'shm' = 'db', extra: Partial<HeldLock> = {}): HeldLock => ({
      pid,
      lock,
      file,
      type: lock === 'SHARED' || lock === 'WAL_READ' || lock === 'WAL_OPEN' ? 'read' : 'write',
      waiting: false,
      since: 0,
      stuck: false,
      ...extra,
    });
    const h = (pid: number, kind: Holder['kind'], self = false): Holder => ({ pid, command: '', kind, label: kind, self, files: ['db'], locks: [] });
    const blockers = (holders: Holder[], locks: HeldLock[], wal: boolean) =>
      markBlockers(holders, locks, wal)
        .filter((x) => x.blocker)
        .map((x) => x.pid);

    it('names writers in either mode, readers only in rollback mode', () => {
      const holders = [h(1, 'script'), h(2, 'sqlite3-shell'), h(3, 'editor'), h(4, 'other')];
      for (const wal of [false, true]) {
        assert.deepEqual(blockers(holders, [lock(1, 'RESERVED')], wal), [1]);
        assert.deepEqual(blockers(holders, [lock(2, 'PENDING')], wal), [2]);
        assert.deepEqual(blockers(holders, [lock(3, 'EXCLUSIVE')], wal), [3]);
      }
      assert.deepEqual(blockers(holders, [lock(4, 'SHARED')], false), [4]);
      assert.deepEqual(blockers(holders, [lock(4, 'SHARED'), lock(4, 'WAL_OPEN', 'shm')], true), []);
    });

    it('in WAL mode names the WAL writer, not readers, checkpointers or idle connections', () => {
      const holders = [h(1, 'script'), h(2, 'script'), h(3, 'script')];
      const locks = [lock(1, 'WAL_WRITE', 'shm'), lock(2, 'WAL_READ', 'shm'), lock(2, 'WAL_OPEN', 'shm'), lock(3, 'CHECKPOINT', 'shm')];
      assert.deepEqual(blockers(holders, locks, true), [1]);
    });

    it('never names the proxy, its launcher or the doctor, nor a lock still waited for', () => {
      const holders = [h(1, 'proxy'), h(2, 'proxy-launcher'), h(3, 'doctor', true), h(4, 'script')];
      const locks = [lock(1, 'RESERVED'), lock(2, 'RESERVED'), lock(3, 'SHARED'), lock(4, 'PENDING', 'db', { waiting: true })];
      const marked = markBlockers(holders, locks, false);
      assert.deepEqual(
        marked.map((x) => x.blocker),
        [false, false, false, false],
      );
    });

    it('reads WAL mode from the -shm locks alone', () => {
      assert.equal(walInUse([lock(1, 'SHARED')]), false);
      assert.equal(walInUse([lock(1, 'SHARED'), lock(1, 'WAL_OPEN', 'shm')]), true);
      assert.equal(walInUse([]), false);
    });
  });

  describe('describeLock', () => {
    it('gives every lock its own plain sentence', () => {
      const all: SqliteLockName[] = ['SHARED', 'RESERVED', 'PENDING', 'EXCLUSIVE', 'WAL_WRITE', 'CHECKPOINT', 'RECOVER', 'WAL_READ', 'WAL_OPEN'];
      const texts = all.map(describeLock);
      assert.equal(new Set(texts).size, all.length);
      for (const t of texts) assert.match(t, /^[a-z].{20,}$/);
      assert.match(describeLock('RESERVED'), /write transaction is open/);
      assert.match(describeLock('WAL_OPEN'), /normal/);
    });
  });

  describe('parseLsof', () => {
    it('groups file names under their process', () => {
      const out = parseLsof(
        ['p123', 'cnode', 'f12', 'n/tmp/a/traces.db', 'f13', 'n/tmp/a/traces.db-journal', 'p456', 'csqlite3', 'f3', 'n/tmp/a/traces.db', ''].join('\n'),
      );
      assert.deepEqual(out, [
        { pid: 123, command: 'node', names: ['/tmp/a/traces.db', '/tmp/a/traces.db-journal'] },
        { pid: 456, command: 'sqlite3', names: ['/tmp/a/traces.db'] },
      ]);
    });
  });

  describe('sampleLocks on real processes (rollback journal)', () => {
    it('names RESERVED + SHARED for a writer in BEGIN IMMEDIATE, with its PID and files', async () => {
      const { db } = await traceWorkspace();
      const actor = await startActor('hold-write', db);
      const s = await sampleLocks(db);
      assert.equal(s.source, 'proc');
      assert.equal(s.note, undefined);
      assert.deepEqual(locksOf(s, actor.pid), [
        { lock: 'RESERVED', file: 'db', type: 'write' },
        { lock: 'SHARED', file: 'db', type: 'read' },
      ]);
      const h = holder(s, actor.pid);
      assert.deepEqual(h.locks, ['RESERVED', 'SHARED']);
      assert.deepEqual(h.files, ['db', 'journal']);
      // Named by its executable and script, not "node process" as before.
      assert.equal(h.kind, 'script');
      assert.equal(h.label, 'node actor.cjs');
      assert.equal(h.self, false);
      assert.equal(h.blocker, true);
      assert.match(h.command, /actor\.cjs hold-write /);
      assert.ok(s.locks.every((l) => !l.stuck && !l.waiting && l.since === s.takenAt));
      await actor.stop();
    });

    it('decodes the kernel-merged EXCLUSIVE range into PENDING + RESERVED + EXCLUSIVE', async () => {
      const { db } = await traceWorkspace();
      const actor = await startActor('hold-exclusive', db);
      const s = await sampleLocks(db);
      assert.deepEqual(holder(s, actor.pid).locks, ['EXCLUSIVE', 'PENDING', 'RESERVED']);
      assert.ok(locksOf(s, actor.pid).every((l) => l.type === 'write' && l.file === 'db'));
      await actor.stop();
    });

    it('names SHARED for a reader, and clears it once the reader stops', async () => {
      const { db } = await traceWorkspace();
      const actor = await startActor('hold-read', db);
      const s = await sampleLocks(db);
      assert.deepEqual(locksOf(s, actor.pid), [{ lock: 'SHARED', file: 'db', type: 'read' }]);
      // In rollback mode a reader keeps the proxy from committing.
      assert.equal(holder(s, actor.pid).blocker, true);
      await actor.stop();
      const after = await sampleLocks(db);
      assert.deepEqual(after.locks, []);
      assert.equal(
        after.holders.some((h) => h.pid === actor.pid),
        false,
      );
    });

    it('lists an idle connection from /proc/PID/fd with no lock', async () => {
      const { db } = await traceWorkspace();
      const actor = await startActor('open', db);
      const s = await sampleLocks(db);
      assert.deepEqual(locksOf(s, actor.pid), []);
      const h = holder(s, actor.pid);
      assert.deepEqual(h.files, ['db']);
      assert.deepEqual(h.locks, []);
      assert.equal(h.blocker, false);
      await actor.stop();
    });

    it('finds holders through a symlink to the database', async () => {
      const { db } = await traceWorkspace();
      const link = path.join(tempDir(), 'link.db');
      fs.symlinkSync(db, link);
      const actor = await startActor('hold-read', db);
      const s = await sampleLocks(link);
      assert.deepEqual(holder(s, actor.pid).locks, ['SHARED']);
      await actor.stop();
    });

    it('marks this very process as the doctor when it has the file open', async () => {
      const { db } = await traceWorkspace();
      // This process holds no SQLite connection to db, so a plain fd cannot drop any lock.
      const fd = fs.openSync(db, 'r');
      try {
        const s = await sampleLocks(db);
        const me = holder(s, process.pid);
        assert.equal(me.self, true);
        assert.equal(me.kind, 'doctor');
        assert.deepEqual(me.files, ['db']);
      } finally {
        fs.closeSync(fd);
      }
      const after = await sampleLocks(db);
      assert.equal(
        after.holders.some((h) => h.pid === process.pid),
        false,
      );
    });

    it('calls a lock held across samples ≥ 1 s apart stuck, and a fresh one not', async () => {
      const { db } = await traceWorkspace();
      const writer = await startActor('hold-write', db);
      const first = await sampleLocks(db);
      await sleep(1100);
      // A new reader can still take SHARED next to RESERVED (only PENDING keeps readers out).
      const reader = await startActor('hold-read', db);
      const second = await sampleLocks(db, { previous: first });
      const reserved = lockOf(second, writer.pid, 'RESERVED');
      assert.equal(reserved.stuck, true);
      assert.equal(reserved.since, lockOf(first, writer.pid, 'RESERVED').since);
      assert.ok(second.takenAt - reserved.since >= 1000);
      assert.equal(lockOf(second, writer.pid, 'SHARED').stuck, true);
      const fresh = lockOf(second, reader.pid, 'SHARED');
      assert.equal(fresh.stuck, false);
      assert.equal(fresh.since, second.takenAt);
      // The same two samples with a longer threshold: not stuck yet.
      const patient = await sampleLocks(db, { previous: first, stuckAfterMs: 60_000 });
      assert.equal(lockOf(patient, writer.pid, 'RESERVED').stuck, false);
      await Promise.all([writer.stop(), reader.stop()]);
    });
  });

  describe('sampleLocks on real processes (WAL)', () => {
    it('names WAL_WRITE + WAL_READ + WAL_OPEN on -shm and SHARED on the database for a writer', async () => {
      const { db } = await traceWorkspace({ journalMode: 'wal' });
      const actor = await startActor('hold-write', db);
      const s = await sampleLocks(db);
      assert.deepEqual(locksOf(s, actor.pid), [
        { lock: 'SHARED', file: 'db', type: 'read' },
        { lock: 'WAL_WRITE', file: 'shm', type: 'write' },
        { lock: 'WAL_READ', file: 'shm', type: 'read' },
        { lock: 'WAL_OPEN', file: 'shm', type: 'read' },
      ]);
      assert.deepEqual(holder(s, actor.pid).files, ['db', 'wal', 'shm']);
      assert.equal(holder(s, actor.pid).blocker, true);
      await actor.stop();
    });

    it('shows an idle WAL connection by its WAL_OPEN lock', async () => {
      const { db } = await traceWorkspace({ journalMode: 'wal' });
      const actor = await startActor('open', db);
      const s = await sampleLocks(db);
      assert.deepEqual(holder(s, actor.pid).locks, ['SHARED', 'WAL_OPEN']);
      // The SHARED every WAL connection keeps blocks nobody.
      assert.equal(holder(s, actor.pid).blocker, false);
      await actor.stop();
    });

    it('never calls WAL_OPEN (or the SHARED every WAL connection keeps) stuck, but does a held WAL_WRITE', async () => {
      const { db } = await traceWorkspace({ journalMode: 'wal' });
      const writer = await startActor('hold-write', db);
      const first = await sampleLocks(db);
      await sleep(1100);
      const second = await sampleLocks(db, { previous: first });
      assert.equal(lockOf(second, writer.pid, 'WAL_WRITE').stuck, true);
      assert.equal(lockOf(second, writer.pid, 'WAL_READ').stuck, true);
      assert.equal(lockOf(second, writer.pid, 'WAL_OPEN').stuck, false);
      assert.equal(lockOf(second, writer.pid, 'SHARED').stuck, false);
      await writer.stop();
    });
  });

  describe('sampleLocks edge cases', () => {
    it('returns an empty sample for a missing database or a directory', async () => {
      const dir = tempDir();
      for (const p of [path.join(dir, 'nope.db'), dir]) {
        const s = await sampleLocks(p);
        assert.deepEqual([s.locks, s.holders], [[], []]);
        assert.equal(typeof s.takenAt, 'number');
      }
    });

    describe('with a fake procfs', () => {
      const PID = 9_999_991;
      async function fakeProc(db: string, lines: (ino: bigint, dev: string) => string[], fdTarget?: string): Promise<string> {
        const st = fs.statSync(db, { bigint: true });
        const { major, minor } = splitDev(st.dev);
        const dev = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
        const root = tempDir('fakeproc-');
        fs.writeFileSync(path.join(root, 'locks'), lines(st.ino, dev).join('\n') + '\n');
        fs.mkdirSync(path.join(root, String(PID)));
        fs.writeFileSync(path.join(root, String(PID), 'cmdline'), 'sqlite3\0traces.db\0');
        if (fdTarget) {
          fs.mkdirSync(path.join(root, String(PID), 'fd'));
          fs.symlinkSync(fdTarget, path.join(root, String(PID), 'fd', '3'));
        }
        return root;
      }

      it('lists a lock holder whose fds it cannot read, from the lock line alone', async () => {
        const { db } = await traceWorkspace();
        const procRoot = await fakeProc(db, (ino, dev) => [`1: POSIX  ADVISORY  WRITE ${PID} ${dev}:${ino} 1073741825 1073741825`]);
        const s = await sampleLocks(db, { procRoot });
        assert.deepEqual(s.holders, [
          {
            pid: PID,
            command: 'sqlite3 traces.db',
            kind: 'sqlite3-shell',
            label: 'sqlite3 shell',
            self: false,
            files: ['db'],
            locks: ['RESERVED'],
            blocker: true,
          },
        ]);
      });

      it('accepts an inode match on another device only when that PID has the file open', async () => {
        const { db } = await traceWorkspace();
        const line = (ino: bigint) => [`1: POSIX  ADVISORY  READ ${PID} 99:07:${ino} 1073741826 1073742335`];
        const without = await sampleLocks(db, { procRoot: await fakeProc(db, line) });
        assert.deepEqual(without.locks, []);
        const withFd = await sampleLocks(db, { procRoot: await fakeProc(db, line, fs.realpathSync(db)) });
        assert.deepEqual(locksOf(withFd, PID), [{ lock: 'SHARED', file: 'db', type: 'read' }]);
        assert.deepEqual(holder(withFd, PID).files, ['db']);
      });

      it('reports a waiting lock without counting it as held or stuck', async () => {
        const { db } = await traceWorkspace();
        const procRoot = await fakeProc(db, (ino, dev) => [`2: -> POSIX  ADVISORY  WRITE ${PID} ${dev}:${ino} 1073741824 1073741824`]);
        const first = await sampleLocks(db, { procRoot });
        const second = await sampleLocks(db, { procRoot, previous: first, stuckAfterMs: 0 });
        assert.deepEqual(
          second.locks.map((l) => [l.lock, l.waiting, l.stuck]),
          [['PENDING', true, false]],
        );
        assert.deepEqual(holder(second, PID).locks, []);
      });

      describe('scan depth and the process cache', () => {
        const OPENER = 9_999_992;
        /** PID (lock holder) and OPENER (the DB open, no lock), each with an fd on the DB. */
        async function twoProcs(db: string): Promise<string> {
          const procRoot = await fakeProc(db, (ino, dev) => [`1: POSIX  ADVISORY  READ ${PID} ${dev}:${ino} 1073741826 1073742335`], fs.realpathSync(db));
          fs.mkdirSync(path.join(procRoot, String(OPENER), 'fd'), { recursive: true });
          fs.writeFileSync(path.join(procRoot, String(OPENER), 'cmdline'), 'python3\0notebook.py\0');
          fs.writeFileSync(path.join(procRoot, String(OPENER), 'stat'), `${OPENER} (python3) S ${'1 '.repeat(18)}4242 0\n`);
          fs.symlinkSync(fs.realpathSync(db), path.join(procRoot, String(OPENER), 'fd', '3'));
          return procRoot;
        }
        const pids = (s: LockSample) => s.holders.map((h) => h.pid);

        it("'lockers' reads only the lock holders' fds; a full walk finds everyone", async () => {
          const { db } = await traceWorkspace();
          const procRoot = await twoProcs(db);
          assert.deepEqual(pids(await sampleLocks(db, { procRoot, scan: 'lockers' })), [PID]);
          assert.deepEqual(pids(await sampleLocks(db, { procRoot })), [PID, OPENER]);
        });

        it('keeps naming a process an earlier walk saw with the DB open while it runs, and forgets it once it is gone', async () => {
          const { db } = await traceWorkspace();
          const procRoot = await twoProcs(db);
          const cache = new ProcessCache();
          await sampleLocks(db, { procRoot, scan: 'full', cache });
          assert.equal(cache.openers, 2);
          const later = await sampleLocks(db, { procRoot, scan: 'lockers', cache });
          assert.deepEqual(pids(later), [PID, OPENER]);
          assert.equal(holder(later, OPENER).command, 'python3 notebook.py');
          fs.rmSync(path.join(procRoot, String(OPENER)), { recursive: true });
          assert.deepEqual(pids(await sampleLocks(db, { procRoot, scan: 'lockers', cache })), [PID]);
        });

        it('an incremental walk re-reads a process only when it is new, restarted (start time) or its locks changed', async () => {
          const { db } = await traceWorkspace();
          const procRoot = await twoProcs(db);
          const cache = new ProcessCache();
          await sampleLocks(db, { procRoot, scan: 'full', cache });
          // OPENER closes the DB: the cache still says open (no lock change, same process)…
          fs.rmSync(path.join(procRoot, String(OPENER), 'fd', '3'));
          assert.deepEqual(pids(await sampleLocks(db, { procRoot, scan: 'incremental', cache })), [PID, OPENER]);
          // …until the PID belongs to another process (a new start time), or a full walk looks again.
          fs.writeFileSync(path.join(procRoot, String(OPENER), 'stat'), `${OPENER} (python3) S ${'1 '.repeat(18)}9999 0\n`);
          assert.deepEqual(pids(await sampleLocks(db, { procRoot, scan: 'incremental', cache })), [PID]);
          fs.symlinkSync(fs.realpathSync(db), path.join(procRoot, String(OPENER), 'fd', '3'));
          assert.deepEqual(pids(await sampleLocks(db, { procRoot, scan: 'full', cache })), [PID, OPENER]);
        });

        it('says so when a walk stops at its time budget, lock holders first', async () => {
          const { db } = await traceWorkspace();
          const procRoot = await twoProcs(db);
          const s = await sampleLocks(db, { procRoot, scan: 'incremental', cache: new ProcessCache(), scanBudgetMs: 0 });
          assert.match(s.note ?? '', /may be incomplete: looking at their open files stopped after 0 ms/);
          assert.ok(pids(s).includes(PID), 'the lock holder is named from its lock line');
        });
      });

      it('falls back to lsof without /proc/locks and finds a real holder', async () => {
        const { db } = await traceWorkspace();
        const actor = await startActor('open', db);
        const s = await sampleLocks(db, { procRoot: tempDir('noproc-') });
        assert.equal(s.source, 'lsof');
        assert.match(s.note ?? '', /lock/);
        assert.deepEqual(s.locks, []);
        const h = holder(s, actor.pid);
        assert.deepEqual(h.files, ['db']);
        assert.deepEqual(h.locks, []);
        assert.match(h.command, /actor\.cjs open /);
        // No lock view, so no verdict on who blocks.
        assert.equal(h.blocker, undefined);
        await actor.stop();
      });

      it('says it sees nothing when lsof is missing too', async () => {
        const { db } = await traceWorkspace();
        const s = await sampleLocks(db, { procRoot: tempDir('noproc-'), lsofPath: '/nonexistent/lsof' });
        assert.equal(s.source, 'none');
        assert.match(s.note ?? '', /neither \/proc\/locks nor lsof/);
        assert.deepEqual([s.locks, s.holders], [[], []]);
      });
    });
  });
});
