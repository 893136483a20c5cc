// Samples → holds → figures, on synthetic samples: when a hold starts and ends, what
// counts as noise, which holds block the proxy, and the summary's percentiles, unions
// and utilisation. The same code against real processes: lockMonitor.test.ts.
import assert from 'node:assert/strict';
import { summarize, mergeSpans, percentile } from '../../../../src/engine/monitor/holdStats';
import { HoldTracker } from '../../../../src/engine/monitor/holdTracker';
import type { SampledLock } from '../../../../src/engine/monitor/lockSampler';
import type { HolderClass } from '../../../../src/engine/locks/processNames';
import type { LockHold } from '../../../../src/shared/monitorModel';
import type { LockedFile, SqliteLockName } from '../../../../src/shared/model';

const PROXY = 100;
const NOTEBOOK = 200;
const SHELL = 300;
const DOCTOR = 400;
const NAMES = new Map<number, HolderClass>([
  [DOCTOR, { kind: 'doctor', label: 'Trace DB Doctor (this process)', self: true }],
  [PROXY, { kind: 'proxy', label: 'TraceForge proxy', self: false }],
  [NOTEBOOK, { kind: 'script', label: 'python3 notebook.py', self: false }],
  [SHELL, { kind: 'sqlite3-shell', label: 'sqlite3 shell', self: false }],
]);
const nameOf = (pid: number) => NAMES.get(pid);

function lock(pid: number, name: SqliteLockName): SampledLock {
  const file: LockedFile = name.startsWith('WAL_') || name === 'CHECKPOINT' || name === 'RECOVER' ? 'shm' : 'db';
  return { pid, lock: name, file };
}

/** Feeds samples every 100 ms from t=0: each entry is what one sample saw. */
function track(samples: SampledLock[][], wal = false, t0 = 0): { tracker: HoldTracker; ended: LockHold[]; last: number } {
  const tracker = new HoldTracker();
  const ended: LockHold[] = [];
  tracker.onHoldEnd = (h) => ended.push({ ...h });
  samples.forEach((s, i) => tracker.update(t0 + i * 100, s, nameOf, wal));
  return { tracker, ended, last: t0 + (samples.length - 1) * 100 };
}

function hold(pid: number, name: SqliteLockName, start: number, end: number | undefined, over: Partial<LockHold> = {}): LockHold {
  const cls = NAMES.get(pid)!;
  const h: LockHold = { pid, holder: cls.label, kind: cls.kind, lock: name, start, blocksProxy: cls.kind !== 'proxy', ...over };
  if (end !== undefined) h.end = end;
  return h;
}

describe('monitor: holds', () => {
  describe('HoldTracker', () => {
    it('a hold starts at the first sample that saw it and ends at the first that saw it gone', () => {
      const r = lock(NOTEBOOK, 'RESERVED');
      const { tracker, ended } = track([[], [r], [r], [r], []]);
      assert.deepEqual(ended, [
        { pid: NOTEBOOK, holder: 'python3 notebook.py', kind: 'script', lock: 'RESERVED', start: 100, lastSeen: 300, end: 400, blocksProxy: true },
      ]);
      assert.equal(tracker.all().length, 1);
    });

    it('keeps a hold open while it is held, and ends it marked when sampling stops', () => {
      const r = lock(NOTEBOOK, 'RESERVED');
      const { tracker, ended } = track([[r], [r]]);
      assert.equal(ended.length, 0);
      assert.equal(tracker.between(0, 1000)[0].end, undefined);
      tracker.stop(250);
      assert.deepEqual(
        ended.map((h) => [h.start, h.end, h.stoppedWhileHeld]),
        [[0, 250, true]],
      );
    });

    it('one hold per process and lock: a lock taken again is a new hold', () => {
      const r = lock(NOTEBOOK, 'RESERVED');
      const { ended } = track([[r], [], [r], []]);
      assert.deepEqual(
        ended.map((h) => [h.start, h.end]),
        [
          [0, 100],
          [200, 300],
        ],
      );
    });

    it('drops what says nothing about waiting: WAL_OPEN, SHARED in WAL mode, the proxy’s own WAL read marks', () => {
      const wal = [
        lock(PROXY, 'WAL_OPEN'),
        lock(PROXY, 'SHARED'),
        lock(PROXY, 'WAL_READ'),
        lock(PROXY, 'WAL_WRITE'),
        lock(NOTEBOOK, 'WAL_READ'),
        lock(NOTEBOOK, 'SHARED'),
      ];
      const { tracker } = track([wal], true);
      assert.deepEqual(
        tracker.all().map((h) => `${h.pid}:${h.lock}`),
        [`${PROXY}:WAL_WRITE`, `${NOTEBOOK}:WAL_READ`],
      );
      // In rollback mode a reader's SHARED is exactly what stops the proxy.
      const { tracker: rollback } = track([[lock(NOTEBOOK, 'SHARED')]], false);
      assert.deepEqual(
        rollback.all().map((h) => [h.lock, h.blocksProxy]),
        [['SHARED', true]],
      );
    });

    it("the doctor's own holds (a check, a backup) never count as blocking the proxy", () => {
      const { tracker } = track([[lock(DOCTOR, 'SHARED'), lock(NOTEBOOK, 'SHARED')]], false);
      assert.deepEqual(Object.fromEntries(tracker.all().map((h) => [h.pid, h.blocksProxy])), { [NOTEBOOK]: true, [DOCTOR]: false });
    });

    it('blocksProxy follows blocksCommit, and is never true for the proxy itself', () => {
      const { tracker: rollback } = track([[lock(PROXY, 'RESERVED'), lock(SHELL, 'PENDING'), lock(NOTEBOOK, 'EXCLUSIVE')]], false);
      assert.deepEqual(
        rollback.all().map((h) => [h.pid, h.lock, h.blocksProxy]),
        [
          [PROXY, 'RESERVED', false],
          [SHELL, 'PENDING', true],
          [NOTEBOOK, 'EXCLUSIVE', true],
        ],
      );
      const { tracker: wal } = track([[lock(NOTEBOOK, 'WAL_WRITE'), lock(SHELL, 'WAL_READ'), lock(SHELL, 'CHECKPOINT')]], true);
      assert.deepEqual(
        wal.all().map((h) => [h.lock, h.blocksProxy]),
        [
          ['WAL_WRITE', true],
          ['WAL_READ', false],
          ['CHECKPOINT', false],
        ],
      );
    });

    it('counts the proxy’s blocked time sample to sample, as the holds themselves', () => {
      const r = lock(NOTEBOOK, 'RESERVED');
      const own = lock(PROXY, 'RESERVED');
      const { tracker } = track([[], [r], [r, lock(SHELL, 'SHARED')], [r], [], [own], []]);
      assert.equal(tracker.blockedMsTotal, 300);
    });

    it('keeps at most the history it is given, by age and by count, and never drops an open hold', () => {
      const tracker = new HoldTracker(1000, 10);
      const keep = lock(SHELL, 'RESERVED');
      for (let i = 0; i < 100; i++) tracker.update(i * 100, i % 2 ? [keep] : [keep, lock(NOTEBOOK, 'SHARED')], nameOf, false);
      const all = tracker.all();
      assert.ok(all.length <= 11, `${all.length} holds kept`);
      assert.ok(
        all.some((h) => h.pid === SHELL && h.start === 0 && h.end === undefined),
        'the open hold from t=0 is kept',
      );
      assert.ok(all.filter((h) => h.end !== undefined).every((h) => h.end! >= 9900 - 1000));
    });
  });

  describe('summarize', () => {
    it('percentiles per holder and lock; the total counts only the window', () => {
      const holds = [100, 200, 300, 400, 5000].map((d, i) => hold(NOTEBOOK, 'RESERVED', 10_000 * (i + 1), 10_000 * (i + 1) + d));
      holds.push(hold(NOTEBOOK, 'RESERVED', 0, 2000));
      const s = summarize({ holds, errors: [], commits: [], from: 1000, to: 60_000, sampleHz: 10 });
      assert.deepEqual(s.stats, [
        { holder: 'python3 notebook.py', pid: NOTEBOOK, lock: 'RESERVED', count: 6, p50Ms: 300, p95Ms: 5000, p99Ms: 5000, maxMs: 5000, totalMs: 7000 },
      ]);
      assert.equal(s.sampleHz, 10);
      assert.equal(s.windowMs, 59_000);
    });

    it('the proxy’s potential wait is the union of blocking holds; utilisation the union of write-lock holds', () => {
      const holds = [
        hold(NOTEBOOK, 'RESERVED', 1000, 4000),
        hold(NOTEBOOK, 'SHARED', 1000, 4000),
        hold(SHELL, 'SHARED', 3000, 6000),
        hold(PROXY, 'RESERVED', 7000, 9500),
        hold(PROXY, 'WAL_READ', 7000, 9500, { blocksProxy: false }),
        // Still open: lasts until `to`.
        hold(SHELL, 'PENDING', 9000, undefined),
      ];
      const s = summarize({ holds, errors: [], commits: [], from: 0, to: 10_000, sampleHz: 10 });
      assert.equal(s.proxyBlockedMs, 3000 + 2000 + 1000); // 1–4 s, 4–6 s, 9–10 s
      assert.equal(s.writeLockUtilisation, (3000 + 3000) / 10_000); // notebook 1–4 s, proxy 7–10 s (shell's PENDING inside it)
      assert.equal(s.proxyLongestWriteMs, 2500);
      // At the idle poll (1 Hz) a 5 ms commit seen by one sample is a hold from that sample to
      // the next: the proof of a long transaction is two sightings, not one.
      const once = summarize({ holds: [hold(PROXY, 'RESERVED', 1000, 2000, { lastSeen: 1000 })], errors: [], commits: [], from: 0, to: 10_000, sampleHz: 1 });
      assert.equal(once.proxyLongestWriteMs, 0);
      const twice = summarize({ holds: [hold(PROXY, 'RESERVED', 1000, 3000, { lastSeen: 2000 })], errors: [], commits: [], from: 0, to: 10_000, sampleHz: 1 });
      assert.equal(twice.proxyLongestWriteMs, 1000);
      assert.deepEqual(
        s.blockers,
        [
          { pid: NOTEBOOK, holder: 'python3 notebook.py', blockedMs: 3000, holds: 1, locks: ['RESERVED', 'SHARED'] },
          { pid: SHELL, holder: 'sqlite3 shell', blockedMs: 4000, holds: 2, locks: ['PENDING', 'SHARED'] },
        ].sort((a, b) => b.blockedMs - a.blockedMs),
      );
    });

    it('commits per second and lock errors over the window', () => {
      const s = summarize({
        holds: [],
        errors: [
          { at: 500, text: 'before', blamed: [] },
          { at: 5000, text: 'in', blamed: [] },
        ],
        commits: [
          [1000, 10],
          [2000, 20],
          [3000, 30],
          [11_000, 99],
        ],
        from: 1000,
        to: 11_000,
        sampleHz: 10,
        wal: true,
      });
      assert.equal(s.commitsPerSecond, (20 + 30 + 99) / 10);
      assert.equal(s.lockErrors, 1);
      assert.equal(s.wal, true);
    });

    it('an empty window is all zeros, not NaN', () => {
      const s = summarize({ holds: [], errors: [], commits: [], from: 5, to: 5, sampleHz: 10 });
      assert.deepEqual([s.windowMs, s.proxyBlockedMs, s.writeLockUtilisation, s.commitsPerSecond, s.proxyLongestWriteMs], [0, 0, 0, 0, 0]);
    });
  });

  describe('helpers', () => {
    it('percentile is nearest-rank', () => {
      const v = Array.from({ length: 100 }, (_, i) => i + 1);
      assert.deepEqual([percentile(v, 0.5), percentile(v, 0.95), percentile(v, 0.99), percentile(v, 1), percentile([], 0.5)], [50, 95, 99, 100, 0]);
    });

    it('mergeSpans joins overlapping and touching spans', () => {
      assert.deepEqual(
        mergeSpans([
          [5, 7],
          [1, 3],
          [3, 4],
          [6, 9],
          [10, 10],
        ]),
        [
          [1, 4],
          [5, 9],
        ],
      );
    });
  });
});
