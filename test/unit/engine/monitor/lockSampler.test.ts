// The sampler on a stand-in procfs (a folder with a `locks` file): it keeps only the
// lines of the database's and its -shm's inodes, decodes them, believes a line on another
// device only from a process that has the file open, and reads a lock table of any size.
// The commit series on synthetic readings: resets of the counters it reads.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitSeries, type CounterReading } from '../../../../src/engine/monitor/commitCounter';
import { LockSampler } from '../../../../src/engine/monitor/lockSampler';
import { splitDev } from '../../../../src/engine/locks/lockBytes';
import { tempDir } from '../../../support/helpers';

const RESERVED = 1073741825;
const SHARED_FIRST = 1073741826;
const SHARED_LAST = 1073742335;

function files(): { dir: string; db: string; procRoot: string; dev: string; ino: bigint; shmIno: bigint } {
  const dir = tempDir();
  const db = path.join(dir, 'traces.db');
  fs.writeFileSync(db, 'not opened by anyone');
  fs.writeFileSync(`${db}-shm`, '');
  const st = fs.statSync(db, { bigint: true });
  const { major, minor } = splitDev(st.dev);
  const procRoot = path.join(dir, 'proc');
  fs.mkdirSync(procRoot);
  return {
    dir,
    db,
    procRoot,
    dev: `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`,
    ino: st.ino,
    shmIno: fs.statSync(`${db}-shm`, { bigint: true }).ino,
  };
}

describe('monitor: lock sampler', () => {
  it('keeps the lines of the database and its -shm, decoded; skips other inodes and blocked requests', () => {
    const f = files();
    fs.writeFileSync(
      path.join(f.procRoot, 'locks'),
      [
        `1: POSIX  ADVISORY  WRITE 501 ${f.dev}:${f.ino} ${RESERVED} ${RESERVED}`,
        `2: POSIX  ADVISORY  READ 501 ${f.dev}:${f.ino} ${SHARED_FIRST} ${SHARED_LAST}`,
        `2: -> POSIX  ADVISORY  WRITE 502 ${f.dev}:${f.ino} ${SHARED_FIRST} ${SHARED_LAST}`,
        `3: POSIX  ADVISORY  WRITE 503 ${f.dev}:${f.shmIno} 120 120`,
        `4: POSIX  ADVISORY  READ 503 ${f.dev}:${f.shmIno} 128 128`,
        `5: POSIX  ADVISORY  WRITE 504 ${f.dev}:${f.ino}1 ${RESERVED} ${RESERVED}`,
        `6: FLOCK  ADVISORY  WRITE 505 ${f.dev}:99 0 EOF`,
        '',
      ].join('\n'),
    );
    const s = new LockSampler(f.db, f.procRoot);
    const view = s.sample(1000);
    s.close();
    assert.equal(view.visible, true);
    assert.deepEqual(view.locks.map((l) => `${l.pid} ${l.file} ${l.lock}`).sort(), [
      '501 db RESERVED',
      '501 db SHARED',
      '503 shm WAL_OPEN',
      '503 shm WAL_WRITE',
    ]);
  });

  it('a line on another device (overlayfs) counts only for a process with the file open', () => {
    const f = files();
    fs.writeFileSync(
      path.join(f.procRoot, 'locks'),
      [`1: POSIX  ADVISORY  WRITE 601 ab:cd:${f.ino} ${RESERVED} ${RESERVED}`, `2: POSIX  ADVISORY  WRITE 602 ab:cd:${f.ino} ${RESERVED} ${RESERVED}`, ''].join(
        '\n',
      ),
    );
    fs.mkdirSync(path.join(f.procRoot, '601', 'fd'), { recursive: true });
    fs.symlinkSync(fs.realpathSync(f.db), path.join(f.procRoot, '601', 'fd', '7'));
    const s = new LockSampler(f.db, f.procRoot);
    assert.deepEqual(
      s.sample(0).locks.map((l) => l.pid),
      [601],
    );
    s.close();
  });

  it('reads a lock table larger than its first buffer whole', () => {
    const f = files();
    const filler = Array.from({ length: 4000 }, (_, i) => `${i + 10}: POSIX  ADVISORY  READ ${i + 10} ${f.dev}:12345 0 EOF`);
    fs.writeFileSync(path.join(f.procRoot, 'locks'), [...filler, `9999: POSIX  ADVISORY  WRITE 701 ${f.dev}:${f.ino} ${RESERVED} ${RESERVED}`, ''].join('\n'));
    assert.ok(fs.statSync(path.join(f.procRoot, 'locks')).size > 64 * 1024);
    const s = new LockSampler(f.db, f.procRoot);
    assert.deepEqual(
      s.sample(0).locks.map((l) => `${l.pid} ${l.lock}`),
      ['701 RESERVED'],
    );
    s.close();
  });

  it('no /proc/locks: nothing visible, no error; no database: nothing held', () => {
    const f = files();
    const s = new LockSampler(f.db, path.join(f.dir, 'nowhere'));
    assert.deepEqual(s.sample(0), { at: 0, locks: [], visible: false });
    fs.writeFileSync(path.join(f.procRoot, 'locks'), '');
    const gone = new LockSampler(path.join(f.dir, 'missing.db'), f.procRoot);
    assert.deepEqual(gone.sample(0), { at: 0, locks: [], visible: true });
  });
});

describe('monitor: commit series', () => {
  const r = (at: number, counter: number | undefined, source: string | undefined, wal = false): CounterReading => ({
    at,
    wal,
    walBytes: 0,
    ...(counter !== undefined ? { counter } : {}),
    ...(source !== undefined ? { source } : {}),
  });

  it('counts the differences of one counter, one point per reading', () => {
    const c = new CommitSeries(60_000);
    [r(1000, 7, 'db:1'), r(2000, 12, 'db:1'), r(3000, 12, 'db:1'), r(4000, 40, 'db:1')].forEach((x) => c.add(x));
    assert.equal(c.total, 33);
    assert.deepEqual(c.between(0, 10_000), [
      [2000, 5],
      [3000, 0],
      [4000, 28],
    ]);
  });

  it('a fresh or rebuilt -shm counts from 0; a switch of file or mode gives no baseline', () => {
    const c = new CommitSeries(60_000);
    c.add(r(1000, 500, 'db:1'));
    c.add(r(2000, 3, 'shm:9', true)); // switched to WAL: 3 commits may be after the switch, or not
    assert.equal(c.total, 0);
    c.add(r(3000, 10, 'shm:9', true));
    c.add(r(4000, undefined, undefined, true)); // last connection closed: no -shm
    c.add(r(5000, 4, 'shm:11', true)); // the next one built a new -shm from 0
    c.add(r(6000, 2, 'shm:11', true)); // rebuilt in place (recovery), from 0 again
    assert.equal(c.total, 7 + 4 + 2);
    assert.equal(c.wal, true);
  });

  it('keeps points no older than its history', () => {
    const c = new CommitSeries(5000);
    for (let i = 0; i <= 20; i++) c.add(r(i * 1000, i, 'db:1'));
    assert.deepEqual(
      c.between(0, Infinity).map((p) => p[0]),
      [15_000, 16_000, 17_000, 18_000, 19_000, 20_000],
    );
  });
});
