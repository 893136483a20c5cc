// The monitor's findings from summaries: each appears at its threshold and not below it,
// names the process and carries the measured figures and the sampling rate.
import assert from 'node:assert/strict';
import { monitorFindings } from '../../../../src/engine/monitor/monitorFindings';
import type { MonitorSummary } from '../../../../src/shared/monitorModel';

function summary(over: Partial<MonitorSummary> = {}): MonitorSummary {
  return {
    sampleHz: 10,
    windowMs: 300_000,
    from: 0,
    to: 300_000,
    proxyBlockedMs: 0,
    writeLockUtilisation: 0.05,
    commitsPerSecond: 20,
    lockErrors: 0,
    proxyLongestWriteMs: 40,
    blockers: [],
    stats: [],
    wal: false,
    ...over,
  };
}

const codes = (s: MonitorSummary) => monitorFindings(s).map((f) => f.code);

describe('monitor: findings', () => {
  it('a quiet window has none', () => {
    assert.deepEqual(codes(summary()), []);
  });

  it('long-transaction: the proxy itself held the write lock for a second or more', () => {
    assert.deepEqual(codes(summary({ proxyLongestWriteMs: 999 })), []);
    const [f] = monitorFindings(summary({ proxyLongestWriteMs: 2400 }));
    assert.equal(f.code, 'long-transaction');
    assert.equal(f.severity, 'info', 'history and advice: it never holds the status bar on a warning');
    assert.match(f.title, /2\.4 s/);
    assert.match(f.message, /review transaction size/);
    assert.match(f.message, /sampled 10 times a second; holds shorter than 100 ms can be missed/);
  });

  it('lock-contention: another process blocked the proxy 3 times or 2 s; names it and the errors the proxy logged meanwhile', () => {
    const blocker = { pid: 21898, holder: 'python3 notebook.py', blockedMs: 1500, holds: 2, locks: ['RESERVED' as const] };
    assert.deepEqual(codes(summary({ blockers: [blocker] })), []);
    assert.deepEqual(codes(summary({ blockers: [{ ...blocker, holds: 3 }] })), ['lock-contention']);
    const [f] = monitorFindings(summary({ blockers: [{ ...blocker, blockedMs: 6200 }], proxyBlockedMs: 6200, lockErrors: 2 }));
    assert.equal(f.code, 'lock-contention');
    assert.equal(f.severity, 'info', 'history: the live blocker is lock-held, the errors lock-errors-in-log');
    assert.deepEqual(f.pids, [21898]);
    assert.match(f.title, /PID 21898 \(python3 notebook\.py\) blocked the proxy for 6\.2 s/);
    assert.match(f.message, /held RESERVED 2 times, 6\.2 s in all/);
    assert.match(f.message, /logged 2 lock errors/);
    assert.deepEqual(f.fixes, ['enableWal', 'showHolders', 'killBlocker']);
    // In WAL mode enabling WAL is no fix.
    assert.deepEqual(monitorFindings(summary({ wal: true, blockers: [{ ...blocker, holds: 5 }] }))[0].fixes, ['showHolders', 'killBlocker']);
  });

  it('write-saturation: 80% of a window of at least 30 s, with the figures and the runbook’s PostgreSQL advice', () => {
    assert.deepEqual(codes(summary({ writeLockUtilisation: 0.79 })), []);
    assert.deepEqual(codes(summary({ writeLockUtilisation: 0.95, windowMs: 29_000 })), []);
    const [f] = monitorFindings(summary({ writeLockUtilisation: 0.86, commitsPerSecond: 180.4, wal: true }));
    assert.equal(f.code, 'write-saturation');
    assert.match(f.title, /86%/);
    assert.match(f.message, /180\.4 commits\/s/);
    assert.match(f.message, /PostgreSQL/);
    assert.match(f.message, /in the last 5 min/i);
  });
});
