// Keeps one database under passive watch and reports when its health changes, at a
// cost that does not grow with the machine (docs/DESIGN.md § Rules 6 "Quiet when healthy").
//
// Two depths of looking:
// - the probe, every pollIntervalMs: /proc/locks (one small file) and stats of the DB,
//   -wal, -shm and -journal. Microseconds. It answers "did anything change that matters":
//   a file appeared or went, a lock is held by someone other than the proxy committing,
//   a journal stays without a writer, and it notices commits for the explorer.
// - the passive check (Inspector.check, never a SQLite connection on a rollback-journal
//   DB, § Rules 1): when the probe says so, and otherwise every idleIntervalMs while the
//   DB is quiet, every pollIntervalMs while something is wrong or the user looks at the
//   processes. It walks /proc/*/fd only when names are wanted, and then incrementally.
//
// Beside them, a lock monitor (/proc/locks only, never a SQLite lock) samples all the
// time: at the poll rate, and ten times a second while a Lock Monitor shows this database.
// Its last five minutes ride along in every report this watcher sends (figures and
// findings), but never make it send one: only a change of findings counts (fingerprint).
//
// fs.watch on the folder only when the probe is set slower than a second, and then one
// event at a time: a proxy committing 20 times a second sends a hundred-odd events a
// second, and listening to them cost the server more than everything else together
// (rollback DB, writer at 20/s: 1.8–2.0% of a core with the watch, 0.3–0.5% without).
import { Inspector, LockMonitor, MONITOR_DEFAULT_INTERVAL_MS, commitFingerprint, decodeSqliteLocks, parseProcLocks, type ScanMode } from '../engine';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HealthReport, HeldLock, LockedFile } from '../shared/model';
import type { WatchedDatabase } from '../shared/protocol';
import { MONITOR_SUMMARY_MS, withMonitor } from './monitorReport';

/** Change notifications for one database are at least this far apart. */
const NOTIFY_GAP_MS = 1000;
/** dataChanged (the explorer fetches what is new) at most this often. */
const DATA_GAP_MS = 3000;
/** File events wake the probe at most this often; the timer covers the rest. */
const EVENT_GAP_MS = 1000;

export interface WatchRates {
  /** The probe, and the passive check while something is wrong or the user looks. */
  pollIntervalMs: number;
  /** The passive check while the database is quiet. */
  idleIntervalMs: number;
}

export interface WatchInterest {
  /** Someone looks at who has the DB open: keep that list fresh (walks /proc/*\/fd, incrementally). */
  names: boolean;
  /** Send dataChanged; undefined: the client never said, so send it anyway (at most every 3 s). */
  data?: boolean;
  /** A Lock Monitor shows this database: its lock monitor samples at 10 Hz, not at the poll rate. */
  monitor?: boolean;
}

export interface DbWatcherEvents {
  onChange(target: WatchedDatabase, report: HealthReport): void;
  onError(target: WatchedDatabase, error: unknown): void;
  /** Someone committed: the DB or -wal file was written since the last look. */
  onData?(target: WatchedDatabase): void;
}

/** What the probe saw. */
interface Probe {
  /** Which files exist, and which inode the DB and -shm are: a change asks for a check. */
  structure: string;
  /** Sizes and mtimes of the DB and -wal: changes with every commit. */
  data: string;
  /** Held or wanted SQLite locks as `pid|file|lock|w`, normal WAL locks left out. */
  locks: Set<string>;
  /** -journal exists while nobody holds a write lock on the DB: a hot journal, or a commit in between. */
  lonelyJournal: boolean;
}

export class DbWatcher {
  readonly inspector: Inspector;
  /** Who held which lock, from when to when: sampled from /proc/locks, never a lock of its own. */
  readonly monitor: LockMonitor;
  private timer?: NodeJS.Timeout;
  private fsWatcher?: fs.FSWatcher;
  private busy = false;
  private forced = false;
  private disposed = false;
  private lastProbeAt = 0;
  private lastCheckAt = 0;
  private previousProbe?: Probe;
  /** The probe's view when the last check ran: the check already accounts for it. */
  private checkedStructure?: string;
  private checkedLocks?: string;
  private lonelyJournalBefore = false;
  private checkedLonelyJournal = false;
  private walked = false;
  /** The DB's real path, once it exists (a symlinked DB has its -wal beside the target). */
  private realDbPath?: string;
  private dataMark?: string;
  private dataSentAt = 0;
  private dataTimer?: NodeJS.Timeout;
  private sentFingerprint?: string;
  private sentAt = 0;
  private notifyTimer?: NodeJS.Timeout;
  private interest: WatchInterest = { names: false };
  last?: HealthReport;

  constructor(
    readonly target: WatchedDatabase,
    private rates: WatchRates,
    private readonly events: DbWatcherEvents,
  ) {
    this.inspector = new Inspector(target.dbPath, { logPath: target.logPath });
    this.monitor = new LockMonitor(target.dbPath, { intervalMs: this.monitorIntervalMs(), ...(target.logPath ? { logPath: target.logPath } : {}) });
  }

  start(): void {
    this.monitor.start();
    this.watchFolder();
    this.schedule(0);
  }

  setRates(rates: WatchRates): void {
    const faster = rates.pollIntervalMs < this.rates.pollIntervalMs;
    this.rates = rates;
    this.monitor.setIntervalMs(this.monitorIntervalMs());
    if (rates.pollIntervalMs <= EVENT_GAP_MS) this.unwatchFolder();
    if (faster) this.wake(0);
  }

  setInterest(interest: WatchInterest): void {
    const namesNow = interest.names && !this.interest.names;
    this.interest = interest;
    this.monitor.setIntervalMs(this.monitorIntervalMs());
    // The processes list was just opened: fill it now, not at the next quiet check.
    if (namesNow) this.schedule(0);
  }

  /** Ten times a second while someone watches the timeline; otherwise as often as the probe looks. */
  private monitorIntervalMs(): number {
    return this.interest.monitor ? MONITOR_DEFAULT_INTERVAL_MS : this.rates.pollIntervalMs;
  }

  /** Runs a passive check soon, whatever the probe would say (after a repair, a new interest). */
  schedule(delay = 0): void {
    if (this.disposed) return;
    this.forced = true;
    this.wake(delay);
  }

  /** The probe runs after `delay` unless it is already due sooner. */
  private wake(delay: number): void {
    if (this.disposed || this.busy) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    if (this.disposed || this.busy) return;
    this.busy = true;
    try {
      const probe = await probeFiles(this.realDbPath ?? this.target.dbPath);
      this.lastProbeAt = Date.now();
      this.noteData(probe);
      const locks = this.lockKey(probe);
      const why = this.reasonToCheck(probe, locks);
      this.previousProbe = probe;
      this.lonelyJournalBefore = probe.lonelyJournal;
      if (why) await this.check(probe, locks);
    } catch (e) {
      this.events.onError(this.target, e);
    } finally {
      this.busy = false;
      if (!this.disposed) {
        if (!this.fsWatcher) this.watchFolder();
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.tick(), this.forced ? 0 : this.rates.pollIntervalMs);
      }
    }
  }

  private async check(probe: Probe, locks: string): Promise<void> {
    this.forced = false;
    this.lastCheckAt = Date.now();
    this.checkedStructure = probe.structure;
    this.checkedLocks = locks;
    this.checkedLonelyJournal = probe.lonelyJournal;
    // A first walk names whoever has the DB open before anyone asks; later checks name
    // lock holders only, unless someone is looking at the processes.
    const scan: ScanMode = !this.walked ? 'full' : this.interest.names ? 'incremental' : 'lockers';
    const report = await this.inspector.check({ mode: 'passive', scan });
    this.walked = true;
    this.realDbPath = report.files.db.exists ? await fs.promises.realpath(this.target.dbPath).catch(() => undefined) : undefined;
    this.publish(report);
  }

  /** Why a passive check should run now, or undefined to stay quiet. */
  private reasonToCheck(p: Probe, locks: string): string | undefined {
    if (this.forced) return 'asked';
    if (!this.last) return 'first look';
    if (p.structure !== this.checkedStructure) return 'files changed';
    if (locks !== this.checkedLocks) return 'locks changed';
    // A commit has its journal for milliseconds; one that stays across two probes with no
    // writer is worth one look (a hot journal), not one a second (journal_mode PERSIST keeps it).
    if (p.lonelyJournal && this.lonelyJournalBefore && !this.checkedLonelyJournal) return 'journal without a writer';
    const every = this.active(locks) ? this.rates.pollIntervalMs : this.rates.idleIntervalMs;
    // Timers fire late, never early; a few ms of slack keeps a 1 s cadence at 1 s.
    if (Date.now() - this.lastCheckAt >= every - 20) return 'timer';
    return undefined;
  }

  /**
   * The probe's locks minus the proxy's momentary ones, as one comparable string: a lock
   * of the proxy counts only when the previous probe saw it too (it may be stuck; the
   * check decides). Call before this probe becomes the previous one.
   */
  private lockKey(p: Probe): string {
    const proxies = this.proxyPids();
    const out: string[] = [];
    for (const k of p.locks) {
      const pid = Number(k.slice(0, k.indexOf('|')));
      if (proxies.has(pid) && !this.previousProbe?.locks.has(k)) continue;
      out.push(k);
    }
    return out.sort().join(' ');
  }

  /** Something is wrong, or someone looks: check at the fast rate. */
  private active(locks: string): boolean {
    if (this.interest.names) return true;
    if (locks) return true; // a lock held by another process right now
    const r = this.last;
    if (!r) return true;
    if (r.unreachableReason === 'lock-held') return true;
    if (r.locks.some((l) => l.stuck)) return true;
    return r.findings.some(
      (f) => f.code === 'stuck-writer' || f.code === 'long-reader' || f.code === 'lock-held' || (f.code === 'lock-errors-in-log' && f.severity !== 'info'),
    );
  }

  private proxyPids(): Set<number> {
    return new Set((this.last?.holders ?? []).filter((h) => h.kind === 'proxy').map((h) => h.pid));
  }

  private noteData(p: Probe): void {
    const changed = this.dataMark !== undefined && p.data !== this.dataMark;
    this.dataMark = p.data;
    if (!changed || this.interest.data === false || !this.events.onData) return;
    const wait = this.dataSentAt + DATA_GAP_MS - Date.now();
    if (wait <= 0) this.sendData();
    else this.dataTimer ??= setTimeout(() => this.sendData(), wait);
  }

  private sendData(): void {
    clearTimeout(this.dataTimer);
    this.dataTimer = undefined;
    if (this.disposed || this.interest.data === false) return;
    this.dataSentAt = Date.now();
    this.events.onData?.(this.target);
  }

  /**
   * Records a report (from the poll or a user's full check), with the lock monitor's
   * figures and findings added, and pushes it when its state differs from what the client
   * last got, at most once a second: a proxy committing 200 times a second is not 200
   * health changes. Returns the report as recorded.
   */
  publish(raw: HealthReport): HealthReport {
    if (this.disposed) return raw;
    const report = this.monitor.running ? withMonitor(raw, this.monitor.summary(MONITOR_SUMMARY_MS)) : raw;
    this.last = report;
    if (fingerprint(report) === this.sentFingerprint) return report;
    const wait = this.sentAt + NOTIFY_GAP_MS - Date.now();
    if (wait <= 0) this.flush();
    else this.notifyTimer ??= setTimeout(() => this.flush(), wait);
    return report;
  }

  private flush(): void {
    clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    const r = this.last;
    if (this.disposed || !r) return;
    const fp = fingerprint(r);
    if (fp === this.sentFingerprint) return;
    this.sentFingerprint = fp;
    this.sentAt = Date.now();
    this.events.onChange(this.target, r);
  }

  private watchFolder(): void {
    // At the default rate the probe already looks every second, and a busy writer's
    // events (several per commit) cost more than the probe they would replace.
    if (this.rates.pollIntervalMs <= EVENT_GAP_MS) return;
    const dir = path.dirname(this.target.dbPath);
    const base = path.basename(this.target.dbPath);
    try {
      this.fsWatcher = fs.watch(dir, { persistent: false }, (_event, file) => {
        if (file && !String(file).startsWith(base)) return;
        // One event is enough: stop listening until the probe has run (tick re-arms),
        // since a busy writer sends several per commit and each one costs a callback.
        this.unwatchFolder();
        this.wake(Math.max(0, this.lastProbeAt + EVENT_GAP_MS - Date.now()));
      });
      this.fsWatcher.on('error', () => this.unwatchFolder());
    } catch {
      // No folder yet (no .ai-tests): the probe notices when the DB appears.
      this.fsWatcher = undefined;
    }
  }

  private unwatchFolder(): void {
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.monitor.stop();
    clearTimeout(this.timer);
    clearTimeout(this.notifyTimer);
    clearTimeout(this.dataTimer);
    this.fsWatcher?.close();
  }
}

async function statOf(p: string): Promise<fs.BigIntStats | undefined> {
  try {
    return await fs.promises.stat(p, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * The probe: one folder listing, a stat per file that exists, /proc/locks; nothing
 * that grows with the machine. Locks are matched by inode alone (the check confirms
 * the device); SQLite's normal WAL locks (WAL_OPEN, and the SHARED every WAL connection
 * keeps) are left out. `dbPath` is the real path: SQLite puts -wal and -shm beside it.
 */
async function probeFiles(dbPath: string): Promise<Probe> {
  const base = path.basename(dbPath);
  // Listing first, so files that do not exist cost no failed stat (each one an Error with a stack).
  const names = new Set(await fs.promises.readdir(path.dirname(dbPath)).catch(() => [] as string[]));
  const statIf = (suffix: string) => (names.has(base + suffix) ? statOf(dbPath + suffix) : Promise.resolve(undefined));
  const [db, wal, shm, journal] = await Promise.all([statIf(''), statIf('-wal'), statIf('-shm'), statIf('-journal')]);
  let locksText = '';
  try {
    // procfs answers from memory: a synchronous read is cheaper than four thread-pool round trips.
    locksText = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    // not Linux: the probe still sees the files; the check says what it cannot see
  }
  const structure = [db ? `${db.dev}:${db.ino}:${db.isFile()}` : '-', wal ? 'wal' : '-', shm ? `shm:${shm.ino}` : '-'].join(' ');
  const data = commitFingerprint(db, wal);

  const found: { pid: number; file: LockedFile; lock: HeldLock['lock']; waiting: boolean }[] = [];
  const targets: [LockedFile, fs.BigIntStats | undefined][] = [
    ['db', db],
    ['shm', shm],
  ];
  if (locksText && db) {
    for (const line of parseProcLocks(locksText)) {
      for (const [file, st] of targets) {
        if (!st || st.ino !== line.inode || line.pid === process.pid) continue;
        for (const d of decodeSqliteLocks(line, file)) found.push({ pid: line.pid, file, lock: d.lock, waiting: line.waiting });
      }
    }
  }
  const walOpen = new Set(found.filter((l) => l.lock === 'WAL_OPEN' && !l.waiting).map((l) => l.pid));
  const locks = new Set<string>();
  let writeLock = false;
  for (const l of found) {
    if (l.lock === 'WAL_OPEN' || (l.lock === 'SHARED' && l.file === 'db' && walOpen.has(l.pid))) continue;
    if (l.file === 'db' && !l.waiting && l.lock !== 'SHARED') writeLock = true;
    locks.add(`${l.pid}|${l.file}|${l.lock}|${l.waiting ? 'w' : 'h'}`);
  }
  return { structure, data, locks, lonelyJournal: journal !== undefined && journal.size > 0n && !writeLock };
}

/**
 * What counts as a change worth telling the UI. Not what changes with every commit:
 * file sizes and mtimes, the trace count, the -journal a rollback-mode commit has for
 * milliseconds, the proxy's own momentary locks (not stuck), nor the doctor's own.
 */
export function fingerprint(r: HealthReport): string {
  const proxies = new Set(r.holders.filter((h) => h.kind === 'proxy').map((h) => h.pid));
  const self = new Set(r.holders.filter((h) => h.self).map((h) => h.pid));
  const news = (l: HeldLock) => !self.has(l.pid) && (l.stuck || !proxies.has(l.pid));
  return JSON.stringify({
    reachable: r.reachable,
    reason: r.unreachableReason,
    mode: r.journalMode,
    src: r.journalModeSource,
    files: [r.files.db.exists, r.files.wal.exists, r.files.shm.exists, r.files.journal.hot === true],
    lockSource: r.lockSource,
    locks: r.locks.filter(news).map((l) => [l.pid, l.lock, l.file, l.waiting, l.stuck]),
    holders: r.holders
      .filter((h) => !h.self)
      .map((h) => (proxies.has(h.pid) ? [h.pid, h.kind] : [h.pid, h.kind, h.files.filter((f) => f !== 'journal'), h.locks])),
    log: r.log ? [r.log.exists, r.log.lockErrors, r.log.last] : undefined,
    findings: r.findings.map((f) => [f.code, f.severity, f.pids]),
  });
}
