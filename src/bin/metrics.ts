// The lock monitor as Prometheus metrics, for `tracedb-doctor monitor --listen`. A
// registry of its own (not prom-client's global one): only these metrics, nothing a
// library registered on import. Totals are read from the monitor at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MonitorTotals } from '../engine';
import type { LockHold } from '../shared/monitorModel';

/** Seconds: from a commit that got unlucky with a sample to a notebook left open over lunch. */
export const HOLD_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface MetricsSource {
  totals(): MonitorTotals;
  /** The passive health check's verdict; undefined before the first one. */
  healthy(): boolean | undefined;
  /** The passive health check's journal mode, for before the monitor read the header itself. */
  wal(): boolean | undefined;
}

export class MonitorMetrics {
  readonly registry = new Registry();
  private readonly held: Histogram<'lock' | 'holder'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    this.held = new Histogram({
      name: 'tracedb_lock_held_seconds',
      help: 'How long a process held a SQLite lock on the trace database, per hold, as sampled from /proc/locks (see tracedb_monitor_sample_rate_hz: shorter holds can be missed).',
      labelNames: ['lock', 'holder'],
      buckets: HOLD_BUCKETS,
      registers,
    });
    // Counters that mirror the monitor's running totals: each scrape adds what grew since the last.
    const mirror = (name: string, help: string, read: (t: MonitorTotals) => number) => {
      let seen = 0;
      const c: Counter = new Counter({
        name,
        help,
        registers,
        collect() {
          const now = read(source.totals());
          if (now > seen) c.inc(now - seen);
          seen = Math.max(seen, now);
        },
      });
    };
    mirror(
      'tracedb_proxy_blocked_seconds_total',
      "Time another process held a lock that blocks the proxy's commits (the proxy's potential wait), as sampled.",
      (t) => t.proxyBlockedMs / 1000,
    );
    mirror(
      'tracedb_lock_errors_total',
      "Lock-error events ('database is locked', SQLITE_BUSY) in the proxy's log since monitoring began.",
      (t) => t.lockErrors,
    );
    mirror('tracedb_commits_total', "Commits since monitoring began (the header's change counter, or the WAL index's in WAL mode).", (t) => t.commits);
    const gauge = (name: string, help: string, read: () => number | undefined) => {
      const g: Gauge = new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = read();
          if (v !== undefined) g.set(v);
        },
      });
    };
    gauge('tracedb_wal_bytes', 'Size of the -wal file in bytes (0 when there is none).', () => source.totals().walBytes);
    gauge('tracedb_journal_mode_wal', 'Whether the database is in WAL mode (1) or uses a rollback journal (0), from its file header.', () => {
      const wal = source.totals().wal ?? source.wal();
      return wal === undefined ? undefined : Number(wal);
    });
    gauge('tracedb_healthy', "The doctor's passive health check (file header, /proc; no SQLite connection on a non-WAL database): 1 healthy, 0 not.", () => {
      const h = source.healthy();
      return h === undefined ? undefined : Number(h);
    });
    gauge('tracedb_monitor_sample_rate_hz', 'How many times a second /proc/locks is sampled.', () => source.totals().sampleHz);
  }

  observeHold(h: LockHold): void {
    if (h.end === undefined || h.stoppedWhileHeld) return;
    this.held.observe({ lock: h.lock, holder: h.holder }, (h.end - h.start) / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
