// What the timeline shows, computed from a MonitorSnapshot: one lane per process, the
// holds as bars in their lane, the proxy's lock errors as markers naming who was blamed,
// and commits per second as a series. Pure (no DOM, no uPlot): chart.ts draws these,
// and the tests check them on synthetic snapshots.
import type { HolderKind, SqliteLockName } from '../../src/shared/model';
import type { LockErrorEvent, MonitorSnapshot } from '../../src/shared/monitorModel';
import { visible } from '../explorer/render';
import { clock, duration } from './format';

/** Weakest first: bars are drawn in this order, so a stronger lock shows over a weaker one. */
export const LOCK_ORDER: readonly SqliteLockName[] = [
  'SHARED',
  'WAL_READ',
  'RESERVED',
  'WAL_WRITE',
  'PENDING',
  'EXCLUSIVE',
  'CHECKPOINT',
  'RECOVER',
  'WAL_OPEN',
];

/** The CSS custom property (media/monitor.css) holding a lock's colour: `--lock-wal-write`. */
export function lockVar(lock: SqliteLockName): string {
  return `--lock-${lock.toLowerCase().replace(/_/g, '-')}`;
}

/** Locks that only read sit in the lower part of a lane, the ones that write in the upper part. */
const READ_LOCKS: ReadonlySet<SqliteLockName> = new Set(['SHARED', 'WAL_READ', 'WAL_OPEN']);

/** Where in its lane a lock's bar goes, as offsets from the lane's centre (a lane is 1 high). */
export function band(lock: SqliteLockName): [lo: number, hi: number] {
  return READ_LOCKS.has(lock) ? [-0.38, -0.08] : [-0.04, 0.38];
}

/** Lane labels on the axis are cut to this many characters; the table has them in full. */
export const AXIS_LABEL_MAX = 34;

export interface Lane {
  pid: number;
  holder: string;
  kind: HolderKind;
  /** "python3 notebook.py · PID 21898", control characters shown visibly. */
  label: string;
  /** The label cut to fit the axis. */
  axisLabel: string;
  /** Its value on the lane scale: the first lane is the top one. */
  y: number;
  /** Some hold of it blocked the proxy in the window. */
  blocker: boolean;
}

export interface Bar {
  pid: number;
  lock: SqliteLockName;
  /** Epoch ms, clipped to the window. */
  from: number;
  to: number;
  /** Still held when the snapshot was taken. */
  open: boolean;
  blocksProxy: boolean;
  /** Its extent on the lane scale. */
  lo: number;
  hi: number;
}

export interface Marker {
  at: number;
  /** "04:35:58 locked — PID 21898 python3 notebook.py held RESERVED 6.2 s". */
  label: string;
  /** "04:35:58 locked": what fits when the full label does not. */
  short: string;
  pids: number[];
}

export interface Timeline {
  from: number;
  to: number;
  lanes: Lane[];
  bars: Bar[];
  markers: Marker[];
}

const PROXY_KINDS: ReadonlySet<HolderKind> = new Set(['proxy', 'proxy-launcher']);

export function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function laneLabel(holder: string, pid: number): string {
  return `${visible(holder)} · PID ${pid}`;
}

/** One lane per process that held a lock in the window: the proxy's first, then by first hold. */
export function lanesOf(s: MonitorSnapshot): Lane[] {
  const byPid = new Map<number, { holder: string; kind: HolderKind; first: number; blocker: boolean }>();
  for (const h of s.holds) {
    const seen = byPid.get(h.pid);
    if (!seen) byPid.set(h.pid, { holder: h.holder, kind: h.kind, first: h.start, blocker: h.blocksProxy });
    else {
      seen.first = Math.min(seen.first, h.start);
      seen.blocker ||= h.blocksProxy;
    }
  }
  const ordered = [...byPid.entries()].sort(
    ([pa, a], [pb, b]) => Number(PROXY_KINDS.has(b.kind)) - Number(PROXY_KINDS.has(a.kind)) || a.first - b.first || pa - pb,
  );
  return ordered.map(([pid, p], i) => {
    const label = laneLabel(p.holder, pid);
    return { pid, holder: p.holder, kind: p.kind, label, axisLabel: cut(label, AXIS_LABEL_MAX), y: ordered.length - 1 - i, blocker: p.blocker };
  });
}

/** Every hold as a bar in its process's lane, clipped to the window, weakest lock first. */
export function barsOf(s: MonitorSnapshot, lanes: readonly Lane[]): Bar[] {
  const { from, to } = s.summary;
  const yOf = new Map(lanes.map((l) => [l.pid, l.y]));
  const bars: Bar[] = [];
  for (const h of s.holds) {
    const y = yOf.get(h.pid);
    if (y === undefined) continue;
    const start = Math.max(h.start, from);
    const end = Math.min(h.end ?? to, to);
    if (end < start) continue;
    const [lo, hi] = band(h.lock);
    bars.push({ pid: h.pid, lock: h.lock, from: start, to: end, open: h.end === undefined, blocksProxy: h.blocksProxy, lo: y + lo, hi: y + hi });
  }
  return bars.sort((a, b) => LOCK_ORDER.indexOf(a.lock) - LOCK_ORDER.indexOf(b.lock) || a.from - b.from);
}

/** Who a lock error blames, in a line: "PID 21898 python3 notebook.py held RESERVED 6.2 s". */
export function blameText(e: LockErrorEvent): string {
  if (!e.blamed.length) return 'no other process held a blocking lock (as sampled)';
  const [first, ...rest] = e.blamed;
  const more = rest.length ? ` (+${rest.length} more)` : '';
  return `PID ${first.pid} ${visible(first.holder)} held ${first.lock} ${duration(first.heldMs)}${more}`;
}

export function errorLabel(e: LockErrorEvent): string {
  return `${clock(e.at)} locked — ${blameText(e)}`;
}

/** The proxy's lock errors in the window, oldest first. */
export function markersOf(s: MonitorSnapshot): Marker[] {
  const { from, to } = s.summary;
  return s.errors
    .filter((e) => e.at >= from && e.at <= to)
    .sort((a, b) => a.at - b.at)
    .map((e) => ({ at: e.at, label: errorLabel(e), short: `${clock(e.at)} locked`, pids: e.blamed.map((b) => b.pid) }));
}

export function timelineOf(s: MonitorSnapshot): Timeline {
  const lanes = lanesOf(s);
  return { from: s.summary.from, to: s.summary.to, lanes, bars: barsOf(s, lanes), markers: markersOf(s) };
}

/**
 * Commits per second as uPlot data: x in seconds (uPlot's time unit), the window's ends
 * always present (empty) so the x axis spans the window even before the first commit.
 */
export function commitData(s: MonitorSnapshot): [number[], (number | null)[]] {
  const { from, to } = s.summary;
  const points = s.commits.filter(([at]) => at > from && at < to).sort((a, b) => a[0] - b[0]);
  return [
    [from / 1000, ...points.map(([at]) => at / 1000), to / 1000],
    [null, ...points.map(([, n]) => n), null],
  ];
}

/** The chart in words, for its aria-label: what a screen reader says instead of the picture. */
export function chartSummary(s: MonitorSnapshot, t: Timeline): string {
  const lanes = t.lanes.length
    ? `${t.lanes.length} process${t.lanes.length === 1 ? '' : 'es'} held locks: ${t.lanes.map((l) => `${l.label}${l.blocker ? ' (blocked the proxy)' : ''}`).join('; ')}.`
    : 'No process held a lock.';
  const errors = t.markers.length
    ? ` ${t.markers.length} lock error${t.markers.length === 1 ? '' : 's'}, the last: ${t.markers[t.markers.length - 1].label}.`
    : '';
  return `Lock timeline, ${clock(t.from)} to ${clock(t.to)}. ${lanes}${errors} ${s.summary.commitsPerSecond.toFixed(1)} commits per second.`;
}
