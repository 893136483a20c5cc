// The lock monitor: who held which SQLite lock on the trace database, from when to when,
// sampled ten times a second from /proc/locks while someone watches (the Lock Monitor
// view, `tracedb-doctor monitor`), plus commits per second from the file headers and the
// proxy's lock errors linked to whoever held the blocking lock at that moment.
//
// It never opens a SQLite connection and never takes a lock: /proc/locks, stat, and a
// pread of the first bytes of the database and its -shm once a second (docs/DESIGN.md,
// "Rules", 1 and 6: the doctor must not cause the error it diagnoses, and watching costs
// at most 1% of one core).
import * as path from 'node:path';
import type { HolderClass } from '../locks/processNames';
import { LogTail } from '../log/logTail';
import type { LogLockEvent } from '../log/logEvents';
import { CommitSeries, readCounters } from './commitCounter';
import { blame, eventText } from './errorLink';
import { HolderNames } from './holderNames';
import { summarize } from './holdStats';
import { DEFAULT_HISTORY_MS, HoldTracker } from './holdTracker';
import { LockSampler, type SampledLock } from './lockSampler';
import type { LockErrorEvent, LockHold, MonitorSnapshot, MonitorSummary } from '../../shared/monitorModel';

export interface LockMonitorOptions {
  /** Time between samples; default 100 ms (10 Hz). */
  intervalMs?: number;
  /** The proxy's log, whose lock errors are linked to the holders of the moment. */
  logPath?: string;
  /** How far back holds, errors and commits are kept; default one hour. */
  historyMs?: number;
  /** Where procfs is mounted (tests). */
  procRoot?: string;
}

/** What the metrics endpoint reads between scrapes: running totals and the latest file facts. */
export interface MonitorTotals {
  /** Commits counted since monitoring began. */
  commits: number;
  /** Time some other process held a lock that blocks the proxy's commits, since monitoring began. */
  proxyBlockedMs: number;
  /** Lock-error events read from the proxy's log since monitoring began. */
  lockErrors: number;
  /** The header's journal mode; undefined until read. */
  wal?: boolean;
  walBytes: number;
  samples: number;
  sampleHz: number;
}

export const DEFAULT_INTERVAL_MS = 100;
const MIN_INTERVAL_MS = 10;
/** The counters and the log are read this often at most: once a second is all a per-second series needs. */
const SLOW_EVERY_MS = 1000;
const MAX_ERRORS = 2000;

export class LockMonitor {
  /** Called when a hold ends (or sampling stops while it is held), e.g. for `--record`. */
  onHoldEnd?: (h: LockHold) => void;
  /** Called for each lock error the proxy logs while monitoring, with who held the blocking lock. */
  onLockError?: (e: LockErrorEvent) => void;

  readonly dbPath: string;
  private intervalMs: number;
  private readonly historyMs: number;
  private readonly sampler: LockSampler;
  private readonly names: HolderNames;
  private readonly tracker: HoldTracker;
  private readonly commits: CommitSeries;
  private readonly log?: LogTail;
  private errors: LockErrorEvent[] = [];
  private lockErrorsTotal = 0;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  /** Bumped by stop(): a sample still naming processes then must not open holds afterwards. */
  private generation = 0;
  private slowBusy = false;
  private slowAt = -Infinity;
  private previousPids = new Set<number>();
  private firstSampleAt: number | undefined;
  private samples = 0;
  private visible = true;
  /** Intervals in force, with when they began: a window's figures are as fine as its coarsest rate. */
  private rates: [number, number][] = [];

  constructor(dbPath: string, opts: LockMonitorOptions = {}) {
    this.dbPath = path.resolve(dbPath);
    this.intervalMs = clampInterval(opts.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.historyMs = opts.historyMs ?? DEFAULT_HISTORY_MS;
    const procRoot = opts.procRoot ?? '/proc';
    this.sampler = new LockSampler(this.dbPath, procRoot);
    this.names = new HolderNames(this.dbPath, procRoot);
    this.tracker = new HoldTracker(this.historyMs);
    this.tracker.onHoldEnd = (h) => this.onHoldEnd?.({ ...h });
    this.commits = new CommitSeries(this.historyMs);
    if (opts.logPath) {
      this.log = new LogTail(path.resolve(opts.logPath));
      this.log.onLockEvent = (e) => this.lockError(e);
    }
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.rateFrom(Date.now());
    this.schedule();
    this.tick();
  }

  setIntervalMs(ms: number): void {
    const next = clampInterval(ms);
    if (next === this.intervalMs) return;
    this.intervalMs = next;
    if (!this.timer) return;
    this.rateFrom(Date.now());
    clearInterval(this.timer);
    this.schedule();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.generation++;
    this.tracker.stop(Date.now());
    this.previousPids = new Set();
    this.sampler.close();
  }

  summary(windowMs: number): MonitorSummary {
    const to = Date.now();
    const from = Math.max(to - Math.max(0, windowMs), this.firstSampleAt ?? to);
    return summarize({
      holds: this.tracker.between(from, to),
      errors: this.errors,
      commits: this.commits.between(from, to),
      from,
      to,
      sampleHz: this.sampleHzBetween(from, to),
      ...(this.commits.wal !== undefined ? { wal: this.commits.wal } : {}),
    });
  }

  snapshot(windowMs: number): MonitorSnapshot {
    const summary = this.summary(windowMs);
    const { from, to } = summary;
    return {
      summary,
      holds: this.tracker.between(from, to),
      errors: this.errors.filter((e) => e.at >= from && e.at <= to).map((e) => ({ ...e, blamed: e.blamed.map((b) => ({ ...b })) })),
      commits: this.commits.between(from, to),
      note: this.note(summary.sampleHz),
    };
  }

  totals(): MonitorTotals {
    return {
      commits: this.commits.total,
      proxyBlockedMs: this.tracker.blockedMsTotal,
      lockErrors: this.lockErrorsTotal,
      ...(this.commits.wal !== undefined ? { wal: this.commits.wal } : {}),
      walBytes: this.commits.walBytes,
      samples: this.samples,
      sampleHz: 1000 / this.intervalMs,
    };
  }

  /** Takes one sample now (and the once-a-second reads when due); for tests and the bench. */
  async sampleNow(): Promise<void> {
    if (!this.sampling) await this.sample();
  }

  // ---------------------------------------------------------------- sampling

  private schedule(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // Watching must never keep the server or the CLI alive by itself.
    this.timer.unref();
  }

  /** A tick that finds the last sample still running (naming processes) is skipped: samples never overlap. */
  private tick(): void {
    if (!this.sampling) void this.sample()?.catch(() => undefined);
  }

  /**
   * One sample. Synchronous unless a process is new and must be named first: at ten
   * samples a second, the usual sample allocates no promise at all.
   */
  private sample(): Promise<void> | undefined {
    const generation = this.generation;
    const at = Date.now();
    const view = this.sampler.sample(at);
    this.visible = view.visible;
    this.firstSampleAt ??= at;
    this.samples++;
    const pids: number[] = [];
    for (const l of view.locks) if (!pids.includes(l.pid)) pids.push(l.pid);
    if (pids.every((p) => this.previousPids.has(p))) {
      this.record(at, view.locks, pids, false);
      return undefined;
    }
    this.sampling = true;
    return this.names
      .name(pids, this.previousPids, at)
      .then(() => {
        if (generation === this.generation) this.record(at, view.locks, pids, true);
      })
      .finally(() => (this.sampling = false));
  }

  private record(at: number, locks: readonly SampledLock[], pids: readonly number[], fresh: boolean): void {
    // Without a new PID the set can only have shrunk.
    if (fresh || pids.length !== this.previousPids.size) this.previousPids = new Set(pids);
    // As walInUse (lockBytes.ts) decides it: any -shm lock means WAL. The header says so
    // too while no connection is open, and while one is opening (SHARED on the database first).
    const wal = this.commits.wal === true || locks.some((l) => l.file === 'shm');
    this.tracker.update(at, locks, (pid) => this.nameOf(pid), wal);
    if (at - this.slowAt >= SLOW_EVERY_MS && !this.slowBusy) {
      this.slowAt = at;
      this.slowBusy = true;
      void this.slow(at).finally(() => (this.slowBusy = false));
    }
  }

  private nameOf(pid: number): HolderClass | undefined {
    return this.names.get(pid);
  }

  /** The once-a-second part: the commit counter (a pread under the file gate) and the log. */
  private async slow(at: number): Promise<void> {
    const reading = await readCounters(this.dbPath, at).catch(() => undefined);
    if (reading) {
      const before = this.commits.wal;
      this.commits.add(reading);
      if (before !== undefined && before !== this.commits.wal) this.sampler.restatSoon();
    }
    if (this.log) await this.log.update().catch(() => undefined);
  }

  private lockError(e: LogLockEvent): void {
    // A line without a time was read within a second or so of being written.
    const at = e.time ?? Date.now();
    const event: LockErrorEvent = { at, text: eventText(e.text), blamed: blame(at, this.tracker.all(), Date.now()) };
    this.errors.push(event);
    this.lockErrorsTotal++;
    const cutoff = Date.now() - this.historyMs;
    if (this.errors.length > MAX_ERRORS || this.errors[0].at < cutoff) this.errors = this.errors.filter((x) => x.at >= cutoff).slice(-MAX_ERRORS);
    this.onLockError?.({ ...event, blamed: event.blamed.map((b) => ({ ...b })) });
  }

  /** Records the interval in force from `at`, forgetting rates that ended before the history's start. */
  private rateFrom(at: number): void {
    this.rates.push([at, this.intervalMs]);
    const cutoff = at - this.historyMs;
    while (this.rates.length > 1 && this.rates[1][0] < cutoff) this.rates.shift();
  }

  private sampleHzBetween(from: number, to: number): number {
    let coarsest = 0;
    for (let i = 0; i < this.rates.length; i++) {
      const [since, ms] = this.rates[i];
      const until = this.rates[i + 1]?.[0] ?? Infinity;
      if (since <= to && until >= from) coarsest = Math.max(coarsest, ms);
    }
    return 1000 / (coarsest || this.intervalMs);
  }

  private note(hz: number): string {
    const every = Math.round(1000 / hz);
    const base =
      `Sampled ${formatHz(hz)} times a second (every ${every} ms) from /proc/locks: a lock held for less than ${every} ms can be missed, ` +
      `and each start and end is known to within ${every} ms. Commits per second come from the file header's change counter (the WAL index's in WAL mode), read once a second.`;
    return this.visible ? base : `This system has no readable /proc/locks, so no lock can be seen. ${base}`;
  }
}

function clampInterval(ms: number): number {
  return Number.isFinite(ms) ? Math.max(MIN_INTERVAL_MS, Math.round(ms)) : DEFAULT_INTERVAL_MS;
}

function formatHz(hz: number): string {
  return Number.isInteger(hz) ? String(hz) : hz.toFixed(1);
}
