// Keeps one database under passive watch and reports when its health changes.
// Triggers: a timer (the poll) and fs.watch on the folder (the DB, -wal, -journal
// appearing, changing or going away). Both only schedule a passive check, which
// never opens a SQLite connection on a rollback-journal DB (DESIGN.md § Rules 1).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inspector } from '../engine/inspect';
import type { HealthReport } from '../engine/types';
import type { WatchedDatabase } from '../protocol';

const DEBOUNCE_MS = 150;

export interface DbWatcherEvents {
  onChange(target: WatchedDatabase, report: HealthReport): void;
  onError(target: WatchedDatabase, error: unknown): void;
  /** Someone committed: the DB or -wal file was written since the last look. */
  onData?(target: WatchedDatabase): void;
}

export class DbWatcher {
  readonly inspector: Inspector;
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private dueAt = 0;
  private fsWatcher?: fs.FSWatcher;
  private running?: Promise<void>;
  private again = false;
  private lastFingerprint?: string;
  private lastData?: string;
  private disposed = false;
  last?: HealthReport;

  constructor(
    readonly target: WatchedDatabase,
    private readonly pollIntervalMs: number,
    private readonly events: DbWatcherEvents,
  ) {
    this.inspector = new Inspector(target.dbPath, { logPath: target.logPath });
  }

  start(): void {
    this.timer = setInterval(() => this.schedule(), this.pollIntervalMs);
    this.watchFolder();
    this.schedule(0);
  }

  /**
   * Runs a passive check soon; a burst of file events collapses into one check. A check
   * already scheduled is never pushed back: a proxy committing 200 times a second
   * touches the files every few ms, and postponing would starve the check for good.
   */
  schedule(delay = DEBOUNCE_MS): void {
    if (this.disposed) return;
    const due = Date.now() + delay;
    if (this.debounce && this.dueAt <= due) return;
    clearTimeout(this.debounce);
    this.dueAt = due;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        const report = await this.inspector.check({ mode: 'passive' });
        this.publish(report);
      } catch (e) {
        this.events.onError(this.target, e);
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.again && !this.disposed) {
      this.again = false;
      this.schedule();
    }
  }

  /** Records a report (from the poll or a user's full check) and pushes it if it differs. */
  publish(report: HealthReport): void {
    if (this.disposed) return;
    this.last = report;
    const f = report.files;
    const data = `${f.db.mtimeMs}:${f.db.size}:${f.wal.mtimeMs}:${f.wal.size}`;
    if (this.lastData !== undefined && data !== this.lastData) this.events.onData?.(this.target);
    this.lastData = data;
    const fp = fingerprint(report);
    if (fp !== this.lastFingerprint) {
      this.lastFingerprint = fp;
      this.events.onChange(this.target, report);
    }
    // The folder may have been created since: start watching it.
    if (!this.fsWatcher) this.watchFolder();
  }

  private watchFolder(): void {
    const dir = path.dirname(this.target.dbPath);
    const base = path.basename(this.target.dbPath);
    try {
      this.fsWatcher = fs.watch(dir, { persistent: false }, (_event, file) => {
        if (!file || String(file).startsWith(base)) this.schedule();
      });
      this.fsWatcher.on('error', () => {
        this.fsWatcher?.close();
        this.fsWatcher = undefined;
      });
    } catch {
      // No folder yet (no .ai-tests): the poll notices when it appears.
      this.fsWatcher = undefined;
    }
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.fsWatcher?.close();
  }
}

/**
 * What counts as a change worth telling the UI: everything but timings. File sizes
 * are rounded so a proxy appending rows does not make every poll a "change".
 */
export function fingerprint(r: HealthReport): string {
  const kib = (n: number) => Math.round(n / 65536);
  return JSON.stringify({
    reachable: r.reachable,
    reason: r.unreachableReason,
    mode: r.journalMode,
    src: r.journalModeSource,
    files: [r.files.db.exists, r.files.wal.exists, kib(r.files.wal.size), r.files.shm.exists, r.files.journal.exists, r.files.journal.hot, kib(r.files.db.size)],
    count: r.traceCount?.value,
    locks: r.locks.map((l) => [l.pid, l.lock, l.file, l.waiting, l.stuck]),
    holders: r.holders.map((h) => [h.pid, h.files, h.locks]),
    log: r.log ? [r.log.lockErrors, r.log.last] : undefined,
    findings: r.findings.map((f) => [f.code, f.severity, f.pids]),
  });
}
