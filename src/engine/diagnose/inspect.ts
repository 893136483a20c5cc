// The runbook's diagnosis in one call: reachable or not and why, journal mode, files,
// filesystem, who holds which lock, the proxy log, and the findings that follow.
//
// Two depths (docs/DESIGN.md, "Rules", 1):
// - passive: what the server runs by itself every few seconds. File header, file
//   stats, /proc; on a rollback-journal database no SQLite connection at all, since
//   even a reader's SHARED lock makes a writer without busy timeout fail. On a WAL
//   database short read-only SQL is allowed: WAL readers do not block the writer.
// - full: on a user's request; adds short read-only SQL on any database.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { journalLooksHot, realDbPath, statDbFiles } from './dbFiles';
import { withFileGate } from '../sqlite/fileGate';
import { readTransaction } from '../sqlite/readTransaction';
import { filesystemOf } from './filesystem';
import { deriveFindings, isHealthy } from './findings';
import { readHeader, type HeaderProblem } from '../sqlite/header';
import { integrityCheck } from '../repair/integrity';
import { ProcessCache, type ScanMode } from '../locks/openFiles';
import { sampleLocks } from '../locks/sampleLocks';
import { LogTail } from '../log/logTail';
import { processStartMs } from '../locks/procStat';
import { countTraces } from '../traces/countTraces';
import { recordWalSwitch, walSwitch, walSwitchTime } from '../repair/walMarker';
import { isBusy, sqliteCode } from '../sqlite/connection';
import { noSqliteError, sqliteBackendInfo } from '../sqlite/backend';
import { commitFingerprintOf } from './commitFingerprint';
import type { DbHeader, FindingCode, HealthReport, InspectMode, IntegrityResult, JournalMode, LockSample, SchemaInfo, TraceCount } from '../../shared/model';

export interface InspectorOptions {
  /** The proxy's error log; omitted: no log section. */
  logPath?: string;
  /** A lock held across samples this far apart is stuck (docs/DESIGN.md: one second). */
  stuckAfterMs?: number;
  /** SQLite busy timeout for the doctor's own reads: short, so it never queues behind the proxy for long. */
  busyTimeoutMs?: number;
}

export interface CheckOptions {
  mode: InspectMode;
  /** Exact COUNT(*) instead of the instant estimate. */
  countExact?: boolean;
  /** Run quick_check (on a backup copy when not in WAL mode). */
  integrity?: boolean;
  /**
   * With no earlier sample to compare against, look at the locks again after
   * stuckAfterMs when the first look saw any, so a one-shot check (the CLI) can
   * still tell a stuck transaction from a commit in flight.
   */
  confirmStuck?: boolean;
  /**
   * How far to look for processes with the files open (locks.ts ScanMode). Default: a
   * full walk for a full check (a user asked) and for this inspector's first look; after
   * that, for a passive one, only the lock holders and the processes seen earlier, since
   * the poll must not cost more on a machine with more processes (docs/DESIGN.md, "Rules", 6).
   */
  scan?: ScanMode;
}

const DEFAULT_BUSY_TIMEOUT_MS = 250;
const RELEASED_BY_COMMIT = new Set(['SHARED', 'RESERVED', 'PENDING', 'EXCLUSIVE', 'WAL_WRITE']);
const DEFAULT_STUCK_MS = 1000;

interface SqlView {
  journalMode: JournalMode;
  schema: SchemaInfo;
  traceCount?: TraceCount;
}

type Unreachable = { code: FindingCode; detail: string };

/**
 * Inspects one database repeatedly, carrying the previous lock sample (for stuck
 * detection) and the log position (so each poll reads only what the proxy appended).
 */
export class Inspector {
  readonly dbPath: string;
  private previous?: LockSample;
  private previousMark?: string;
  /** Set when this inspector watched the DB go from a rollback journal to WAL. */
  private logErrorsBeforeWal?: number;
  private sawRollbackMode = false;
  private readonly logTail?: LogTail;
  private readonly processes = new ProcessCache();
  private readonly stuckAfterMs: number;
  private readonly busyTimeoutMs: number;

  constructor(dbPath: string, opts: InspectorOptions = {}) {
    this.dbPath = path.resolve(dbPath);
    this.logTail = opts.logPath ? new LogTail(path.resolve(opts.logPath)) : undefined;
    this.stuckAfterMs = opts.stuckAfterMs ?? DEFAULT_STUCK_MS;
    this.busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  }

  async check(opts: CheckOptions): Promise<HealthReport> {
    const started = performance.now();
    const dbPath = this.dbPath;
    let unreachable: Unreachable | undefined;
    let header: DbHeader | undefined;

    const statProblem = await statProblemOf(dbPath);
    if (statProblem) unreachable = statProblem;

    const [files, fsInfo] = await Promise.all([statDbFiles(dbPath), filesystemOf(dbPath)]);

    if (!unreachable) {
      const h = await readHeaderSettled(dbPath);
      if ('error' in h) unreachable = h.error;
      else header = h.header;
    }

    // A one-shot look (the CLI) is someone asking: it walks. Repeated passive looks name lock holders only.
    const scan = opts.scan ?? (opts.mode === 'full' || !this.previous ? 'full' : 'lockers');
    const sample = await this.sampleLocks(opts.confirmStuck === true, scan);
    const reservedHeld = sample.locks.some((l) => !l.waiting && (l.lock === 'RESERVED' || l.lock === 'EXCLUSIVE' || l.lock === 'PENDING'));
    const hotJournal = files.journal.exists && files.journal.size > 0 && !header?.wal ? await journalLooksHot(dbPath, reservedHeld) : false;
    if (files.journal.exists) files.journal.hot = hotJournal;

    let journalMode: JournalMode = header ? (header.wal ? 'wal' : 'delete') : 'unknown';
    let journalModeSource: HealthReport['journalModeSource'] = header ? 'header' : 'none';
    let schema: SchemaInfo | undefined;
    let traceCount: TraceCount | undefined;
    let integrity: IntegrityResult | undefined;

    // Without a SQLite engine in this process only the header-level look is possible.
    const sqliteBackend = sqliteBackendInfo();
    const noSqlite = sqliteBackend.name === 'none' ? noSqliteError(sqliteBackend).message : undefined;
    // A hot journal is rolled back by whoever opens the database next: that is the
    // proxy's recovery to run, not a side effect of looking.
    const sqlAllowed = header && !hotJournal && (opts.mode === 'full' || header.wal) && !noSqlite;
    if (sqlAllowed) {
      try {
        // An exact count scans the whole table: in rollback mode it must not hold SHARED for
        // that long, so it runs afterwards in short chunks (countTraces.ts).
        const chunked = opts.countExact === true && header?.wal === false;
        const view = await this.readSql(opts.countExact === true && !chunked);
        if (chunked && view.schema.hasTraces) view.traceCount = { value: await countTraces(dbPath), estimate: false, source: 'count' };
        journalMode = view.journalMode;
        journalModeSource = 'pragma';
        schema = view.schema;
        traceCount = view.traceCount;
      } catch (e) {
        unreachable = classifySqlError(e);
      }
    }
    if (opts.integrity && header && !unreachable) {
      integrity = noSqlite
        ? { ok: false, ran: false, notRunReason: `No SQLite engine is available here: ${sqliteBackend.reason}.`, messages: [], onCopy: false, durationMs: 0 }
        : await integrityCheck(dbPath, { busyTimeoutMs: this.busyTimeoutMs });
    }

    const log = this.logTail ? await this.logTail.update() : undefined;
    if (journalMode !== 'wal') this.logErrorsBeforeWal = undefined;
    else if (this.logErrorsBeforeWal === undefined && this.sawRollbackMode) {
      if (log) this.logErrorsBeforeWal = log.lockErrors;
      // Whoever switched it (the proxy's new code, a sqlite3 shell), the CLI and a later
      // server must date the switch the same way this inspector saw it.
      if ((await walSwitchTime(dbPath)) === undefined) await recordWalSwitch(dbPath);
    }
    if (journalMode !== 'wal' && journalMode !== 'unknown') this.sawRollbackMode = true;
    // The switch time only matters for lock errors in WAL mode: read it only then.
    const sw = journalMode === 'wal' && log && log.lockErrors > 0 ? await walSwitch(dbPath) : undefined;
    const findings = deriveFindings({
      path: dbPath,
      files,
      unreachable,
      journalMode,
      fs: fsInfo,
      schema,
      hotJournal,
      locks: sample.locks,
      holders: sample.holders,
      log,
      integrity,
      logErrorsBeforeWal: this.logErrorsBeforeWal,
      ...(sw ? { walSince: sw.at, ...(sw.runStartedAt !== undefined ? { walRunStartedAt: sw.runStartedAt } : {}) } : {}),
      ...(noSqlite && opts.mode === 'full' && header ? { noSqlite } : {}),
      now: Date.now(),
    });

    return {
      path: dbPath,
      checkedAt: new Date().toISOString(),
      mode: opts.mode,
      reachable: !unreachable,
      ...(unreachable ? { unreachableReason: unreachable.code } : {}),
      journalMode,
      journalModeSource,
      ...(header ? { header } : {}),
      files,
      ...(fsInfo ? { fs: fsInfo } : {}),
      ...(schema ? { schema } : {}),
      ...(traceCount ? { traceCount } : {}),
      ...(integrity ? { integrity } : {}),
      lockSource: sample.source,
      ...(sample.note ? { lockNote: sample.note } : {}),
      locks: sample.locks,
      holders: sample.holders,
      ...(log ? { log } : {}),
      sqliteBackend,
      findings,
      healthy: !unreachable && isHealthy(findings),
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  private async sampleLocks(confirm: boolean, scan: ScanMode): Promise<LockSample> {
    let sample = await this.sampleOnce(scan);
    if (confirm && sample.locks.some((l) => !l.waiting && l.lock !== 'WAL_OPEN' && !l.stuck)) {
      await new Promise((r) => setTimeout(r, this.stuckAfterMs));
      // The first look named everyone: the second only needs the lock holders.
      sample = await this.sampleOnce('lockers');
    }
    return sample;
  }

  /**
   * A lock seen in two samples is stuck only if it was held all along. Two samples can
   * also catch two different transactions of a proxy that commits all the time; but a
   * commit in between (the DB or -wal file was written) means every rollback-mode lock
   * and the WAL write lock were released for it, so those start afresh.
   */
  private async sampleOnce(scan: ScanMode): Promise<LockSample> {
    const sample = await sampleLocks(this.dbPath, { previous: this.previous, stuckAfterMs: this.stuckAfterMs, scan, cache: this.processes });
    const mark = await commitFingerprintOf(this.dbPath);
    if (this.previous && mark !== this.previousMark) {
      for (const l of sample.locks) {
        if (RELEASED_BY_COMMIT.has(l.lock) && l.since < sample.takenAt) {
          l.since = sample.takenAt;
          l.stuck = false;
        }
      }
    }
    await dateWriteLocksByJournal(this.dbPath, sample);
    this.previous = sample;
    this.previousMark = mark;
    return sample;
  }

  /** One short read transaction: its lock lives for the few statements inside it. */
  private readSql(countExact: boolean): Promise<SqlView> {
    return readTransaction(this.dbPath, { busyTimeoutMs: this.busyTimeoutMs }, async (c) => {
      const jm = await c.get<{ journal_mode: string }>('PRAGMA journal_mode');
      const tables = (await c.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name);
      const hasTraces = tables.includes('traces');
      const traceColumns = hasTraces ? (await c.all<{ name: string }>("SELECT name FROM pragma_table_info('traces')")).map((r) => r.name) : [];
      const uv = await c.get<{ user_version: number }>('PRAGMA user_version');
      let traceCount: TraceCount | undefined;
      if (hasTraces) {
        if (countExact) {
          const r = await c.get<{ n: number }>('SELECT count(*) AS n FROM traces');
          traceCount = { value: r?.n ?? 0, estimate: false, source: 'count' };
        } else {
          // max(rowid) walks one b-tree edge: instant at any size. It over-counts only deleted rows.
          const r = await c.get<{ n: number | null }>('SELECT max(rowid) AS n FROM traces');
          traceCount = { value: r?.n ?? 0, estimate: true, source: 'max-rowid' };
        }
      }
      return {
        journalMode: normaliseJournalMode(jm?.journal_mode),
        schema: { tables, hasTraces, traceColumns, hasFts: tables.includes('traces_fts'), userVersion: uv?.user_version ?? 0 },
        ...(traceCount ? { traceCount } : {}),
      };
    });
  }
}

/**
 * A rollback-journal write transaction creates `-journal` with its first change, so the
 * journal's birth time dates the write lock better than the doctor's first sight of it:
 * a one-shot check that sees RESERVED twice a second apart would otherwise say "held
 * 1 s" of a lock held for minutes. (TraceForge uses journal_mode DELETE, where the
 * journal lives exactly as long as the transaction; it never backdates past the process.)
 */
async function dateWriteLocksByJournal(dbPath: string, sample: LockSample): Promise<void> {
  // Only locks already known to be stuck: dating must never turn a busy proxy's
  // back-to-back transactions into a stuck one, only say how long a stuck one has lasted.
  const writers = sample.locks.filter(
    (l) => l.stuck && l.file === 'db' && !l.waiting && (l.lock === 'RESERVED' || l.lock === 'PENDING' || l.lock === 'EXCLUSIVE'),
  );
  if (!writers.length) return;
  const st = await fs.stat(`${await realDbPath(dbPath)}-journal`).catch(() => undefined);
  const born = st && st.size > 0 && st.birthtimeMs > 0 ? st.birthtimeMs : undefined;
  if (born === undefined || born > sample.takenAt) return;
  for (const pid of new Set(writers.map((l) => l.pid))) {
    const started = processStartMs(pid);
    const since = Math.max(born, started ?? born);
    for (const l of sample.locks) if (l.pid === pid && l.stuck && l.file === 'db' && since < l.since) l.since = since;
  }
}

/** One-shot inspection (the CLI, tests). */
export function inspect(dbPath: string, opts: CheckOptions & InspectorOptions): Promise<HealthReport> {
  return new Inspector(dbPath, opts).check(opts);
}

export function normaliseJournalMode(m: string | undefined): JournalMode {
  const v = (m ?? '').toLowerCase();
  return (['delete', 'truncate', 'persist', 'memory', 'wal', 'off'] as const).find((x) => x === v) ?? 'unknown';
}

async function statProblemOf(dbPath: string): Promise<Unreachable | undefined> {
  try {
    const st = await fs.stat(dbPath);
    if (st.isDirectory()) return { code: 'is-directory', detail: 'a directory' };
    if (!st.isFile()) return { code: 'not-a-database', detail: 'not a regular file' };
    return undefined;
  } catch (e) {
    return fsErrorToUnreachable(e);
  }
}

function fsErrorToUnreachable(e: unknown): Unreachable {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { code: 'missing', detail: 'no such file' };
  if (code === 'EACCES' || code === 'EPERM') return { code: 'permission-denied', detail: code };
  if (code === 'EISDIR') return { code: 'is-directory', detail: 'a directory' };
  return { code: 'unreadable', detail: (e as Error).message };
}

function headerProblemToUnreachable(p: HeaderProblem): Unreachable | undefined {
  switch (p.kind) {
    case 'empty':
      return { code: 'not-a-database', detail: 'the file is empty (0 bytes): SQLite would treat it as a new, empty database' };
    case 'not-a-database':
    case 'truncated':
    case 'corrupt':
      return { code: p.kind, detail: p.detail };
  }
}

/**
 * Reads the header; a size that disagrees with it is read once more a moment later,
 * since a commit in flight extends the file and rewrites page 1 in two steps.
 */
async function readHeaderSettled(dbPath: string): Promise<{ header: DbHeader } | { error: Unreachable }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await withFileGate(dbPath, () => readHeader(dbPath));
      if (r.header) return { header: r.header };
      if (r.problem.kind === 'truncated' && attempt < 2) {
        await new Promise((res) => setTimeout(res, 50));
        continue;
      }
      const u = headerProblemToUnreachable(r.problem);
      return { error: u ?? { code: 'unreadable', detail: 'unreadable header' } };
    } catch (e) {
      return { error: fsErrorToUnreachable(e) };
    }
  }
}

export function classifySqlError(e: unknown): Unreachable {
  const code = sqliteCode(e);
  const message = String((e as Error)?.message ?? e).replace(/^SQLITE_\w+: /, '');
  if (isBusy(e)) return { code: 'lock-held', detail: message };
  switch (code) {
    case 'SQLITE_NOTADB':
      return { code: 'not-a-database', detail: message };
    case 'SQLITE_CORRUPT':
      return { code: 'corrupt', detail: message };
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
    case 'SQLITE_CANTOPEN':
      return { code: 'permission-denied', detail: message };
    default:
      return { code: 'unreadable', detail: message };
  }
}
