// What the lock monitor measures and sends: holds (who held which SQLite lock, from when
// to when), the proxy's lock errors linked to whoever held the blocking lock, commits per
// second, and hold-time percentiles. Declared in the protocol's room: the server's
// `tracedb/monitor` request, the Lock Monitor webview and the CLI's `--record` lines
// carry these shapes (docs/DESIGN.md § One typed protocol).
import type { HolderKind, SqliteLockName } from './model';

/** One process's hold of one SQLite lock, as sampling saw it. */
export interface LockHold {
  pid: number;
  /** The process's name as the doctor names it (`TraceForge proxy`, `python3 notebook.py`). */
  holder: string;
  kind: HolderKind;
  lock: SqliteLockName;
  /** Epoch ms of the first sample that saw it held. */
  start: number;
  /** Epoch ms of the first sample that saw it gone; absent while still held. */
  end?: number;
  /**
   * Epoch ms of the last sample that saw it held. `lastSeen - start` is what sampling proves
   * (0 for a hold seen once: anything from a moment to two intervals); `end - start` is
   * the estimate the statistics use.
   */
  lastSeen?: number;
  /** The lock blocks the proxy's commits (and the holder is not the proxy). */
  blocksProxy: boolean;
  /** Sampling stopped while it was still held: `end` is when sampling stopped, not a release. */
  stoppedWhileHeld?: boolean;
}

/** A "database is locked" event in the proxy's log, and who held the blocking lock then. */
export interface LockErrorEvent {
  /** Epoch ms the log gives the event. */
  at: number;
  /** The event's first line, shortened. */
  text: string;
  /** Holds of a blocking lock by another process overlapping the moment of the error. */
  blamed: { pid: number; holder: string; lock: SqliteLockName; heldMs: number }[];
}

/** Percentiles of hold times for one holder and lock, over the window. */
export interface HoldStats {
  holder: string;
  pid: number;
  lock: SqliteLockName;
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
}

export interface MonitorSummary {
  /** Sampling rate of the figures, in samples per second. Holds shorter than 1/rate can be missed. */
  sampleHz: number;
  windowMs: number;
  /** Epoch ms of the window's start and end. */
  from: number;
  to: number;
  /** Time another process held a lock that blocks the proxy's commits (its potential wait), in ms. */
  proxyBlockedMs: number;
  /** Share (0..1) of the window the write lock (RESERVED and up, or WAL_WRITE) was held by anyone. */
  writeLockUtilisation: number;
  /** Commits per second over the window (header change counter, or the WAL index's change counter). */
  commitsPerSecond: number;
  /** Lock errors in the proxy's log during the window. */
  lockErrors: number;
  /** The longest write-lock hold of the proxy itself in the window, in ms. */
  proxyLongestWriteMs: number;
  /** Other processes that blocked the proxy in the window, most blocking time first. */
  blockers: { pid: number; holder: string; blockedMs: number; holds: number; locks?: SqliteLockName[] }[];
  stats: HoldStats[];
  /** The journal mode the file header gave at the end of the window (absent until it was read). */
  wal?: boolean;
}

/** The Lock Monitor's view: the last minutes in detail. */
export interface MonitorSnapshot {
  summary: MonitorSummary;
  holds: LockHold[];
  errors: LockErrorEvent[];
  /** Commits per second, one point per second: [epoch ms, commits]. */
  commits: [number, number][];
  /** Said to the user with the figures: what sampling can miss. */
  note: string;
}
