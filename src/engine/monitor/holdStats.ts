// The figures of a window of holds: hold-time percentiles per holder and lock, the time
// the proxy could not commit because another process held a blocking lock, how much of
// the window the write lock was taken, and who blocked the proxy. Pure: the monitor's
// tests feed it synthetic holds.
import { LOCK_ORDER } from '../locks/lockBytes';
import { isWriteLock } from './holdTracker';
import type { HoldStats, LockErrorEvent, LockHold, MonitorSummary } from '../../shared/monitorModel';
import type { SqliteLockName } from '../../shared/model';

export interface SummaryInput {
  /** Holds overlapping [from, to]; an open one (no end) lasts until `to`. */
  holds: readonly LockHold[];
  errors: readonly LockErrorEvent[];
  /** [epoch ms, commits since the previous point]. */
  commits: readonly (readonly [number, number])[];
  from: number;
  to: number;
  sampleHz: number;
  wal?: boolean;
}

type Span = [number, number];

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** The spans merged where they overlap or touch, ascending. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].filter((s) => s[1] > s[0]).sort((a, b) => a[0] - b[0]);
  const out: Span[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function covered(spans: readonly Span[]): number {
  return mergeSpans(spans).reduce((n, [a, b]) => n + (b - a), 0);
}

export function summarize(input: SummaryInput): MonitorSummary {
  const { from, to } = input;
  const endOf = (h: LockHold) => h.end ?? to;
  const holds = input.holds.filter((h) => h.start <= to && endOf(h) >= from);
  const clip = (h: LockHold): Span => [Math.max(h.start, from), Math.min(endOf(h), to)];

  const groups = new Map<string, LockHold[]>();
  for (const h of holds) {
    const key = `${h.pid}|${h.lock}`;
    const g = groups.get(key);
    if (g) g.push(h);
    else groups.set(key, [h]);
  }
  const stats: HoldStats[] = [...groups.values()].map((g) => {
    // Whole hold lengths (a hold that began before the window still lasted that long); the total only counts the window.
    const d = g.map((h) => endOf(h) - h.start).sort((a, b) => a - b);
    return {
      holder: g[0].holder,
      pid: g[0].pid,
      lock: g[0].lock,
      count: g.length,
      p50Ms: percentile(d, 0.5),
      p95Ms: percentile(d, 0.95),
      p99Ms: percentile(d, 0.99),
      maxMs: d[d.length - 1],
      totalMs: covered(g.map(clip)),
    };
  });
  stats.sort((a, b) => b.totalMs - a.totalMs || a.pid - b.pid || LOCK_ORDER.indexOf(a.lock) - LOCK_ORDER.indexOf(b.lock));

  const blocking = holds.filter((h) => h.blocksProxy);
  const byPid = new Map<number, LockHold[]>();
  for (const h of blocking) {
    const g = byPid.get(h.pid);
    if (g) g.push(h);
    else byPid.set(h.pid, [h]);
  }
  const blockers = [...byPid.values()].map((g) => {
    const locks = new Set<SqliteLockName>(g.map((h) => h.lock));
    // Periods, not lock names: one transaction's SHARED, RESERVED and EXCLUSIVE are one blocking stretch.
    const periods = mergeSpans(g.map((h) => [h.start, endOf(h)]));
    return {
      pid: g[0].pid,
      holder: g[0].holder,
      blockedMs: covered(g.map(clip)),
      holds: periods.length,
      locks: LOCK_ORDER.filter((l) => locks.has(l)),
    };
  });
  blockers.sort((a, b) => b.blockedMs - a.blockedMs || a.pid - b.pid);

  const windowMs = Math.max(0, to - from);
  const proxyWrites = holds.filter((h) => h.kind === 'proxy' && isWriteLock(h.lock));
  const commits = input.commits.filter((p) => p[0] > from && p[0] <= to).reduce((n, p) => n + p[1], 0);
  return {
    sampleHz: input.sampleHz,
    windowMs,
    from,
    to,
    proxyBlockedMs: covered(blocking.map(clip)),
    writeLockUtilisation: windowMs > 0 ? covered(holds.filter((h) => isWriteLock(h.lock)).map(clip)) / windowMs : 0,
    commitsPerSecond: windowMs > 0 ? commits / (windowMs / 1000) : 0,
    lockErrors: input.errors.filter((e) => e.at >= from && e.at <= to).length,
    // What sampling proves, not the estimate: at the idle poll (1 Hz) one sighting of a
    // 5 ms commit would otherwise read as a one-second transaction.
    proxyLongestWriteMs: proxyWrites.reduce((m, h) => Math.max(m, Math.min(h.lastSeen ?? endOf(h), to) - h.start), 0),
    blockers,
    stats,
    ...(input.wal !== undefined ? { wal: input.wal } : {}),
  };
}
