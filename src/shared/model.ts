// The engine's vocabulary: what an inspection reports and what a repair returns.
// Plain data only (JSON-safe), because the server sends these objects over LSP
// and the CLI prints them with --json.
import type { MonitorSummary } from './monitorModel';

export type JournalMode = 'delete' | 'truncate' | 'persist' | 'memory' | 'wal' | 'off' | 'unknown';

export type Severity = 'error' | 'warning' | 'info';

/** The runbook fixes (and our extra ones) a finding can point to. */
export type FixId =
  | 'enableWal'
  | 'increaseTimeout'
  | 'killBlocker'
  | 'restartProxy'
  | 'checkpoint'
  | 'backup'
  | 'longTermFix'
  | 'openLog'
  | 'integrityCheck'
  | 'showHolders'
  | 'chooseDatabase';

/** Stable codes: the UI, the CLI's --json and tests key on these; never rename one. */
export type FindingCode =
  | 'missing'
  | 'is-directory'
  | 'permission-denied'
  | 'not-a-database'
  | 'truncated'
  | 'corrupt'
  | 'unreadable'
  | 'no-traces-table'
  | 'not-wal'
  | 'hot-journal'
  | 'lock-held'
  | 'stuck-writer'
  | 'long-reader'
  | 'lock-errors-in-log'
  | 'wal-large'
  | 'unsafe-fs'
  | 'integrity-failed'
  /** The integrity check could not run (hot journal, disk full, a lock): nothing is known, nothing failed. */
  | 'integrity-not-run'
  /** The lock monitor saw the proxy itself hold the write lock for long: big or slow transactions. */
  | 'long-transaction'
  /** The lock monitor saw another process block the proxy's commits, repeatedly. */
  | 'lock-contention'
  /** The lock monitor saw the write lock held most of the time at the current load. */
  | 'write-saturation'
  /** No SQLite engine loads in the doctor's process: only header-level health (no SQL reads, no repairs). */
  | 'no-sqlite-engine';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** One line, for a tree node or a status bar tooltip. */
  title: string;
  /** What is wrong and what to do next. */
  message: string;
  fixes: FixId[];
  /** Processes the finding is about (lock holders), if any. */
  pids?: number[];
}

// ---------------------------------------------------------------- file level

/** The 100-byte SQLite file header (https://www.sqlite.org/fileformat.html#the_database_header). */
export interface DbHeader {
  pageSize: number;
  /** Byte 18: 1 legacy (rollback journal), 2 WAL. */
  writeVersion: number;
  /** Byte 19: 1 legacy, 2 WAL. */
  readVersion: number;
  wal: boolean;
  fileChangeCounter: number;
  /** In-header database size in pages; only trustworthy when `pageCountValid`. */
  pageCount: number;
  pageCountValid: boolean;
  freelistPages: number;
  schemaCookie: number;
  schemaFormat: number;
  textEncoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'unknown';
  userVersion: number;
  applicationId: number;
  /** SQLITE_VERSION_NUMBER of the library that last wrote the file. */
  sqliteVersionNumber: number;
}

export interface FileStat {
  exists: boolean;
  size: number;
  mtimeMs: number;
}

export interface JournalFileStat extends FileStat {
  /**
   * A hot journal is one a crashed writer left behind: SQLite will roll it back
   * on the next open. undefined when it cannot be told (no journal, or no lock view).
   */
  hot?: boolean;
}

export interface DbFiles {
  db: FileStat;
  wal: FileStat;
  shm: FileStat;
  journal: JournalFileStat;
}

export interface FsInfo {
  mountPoint: string;
  fsType: string;
  device: string;
  /** WAL needs shared memory between processes: network and some FUSE filesystems break it. */
  unsafeForWal: boolean;
  reason?: string;
}

// ---------------------------------------------------------------- locks

/** SQLite's own lock names, decoded from byte ranges (see docs/DESIGN.md § Who holds the lock). */
export type SqliteLockName =
  | 'SHARED'
  | 'RESERVED'
  | 'PENDING'
  | 'EXCLUSIVE'
  | 'WAL_WRITE'
  | 'CHECKPOINT'
  | 'RECOVER'
  | 'WAL_READ'
  /** Read lock on -shm byte 128 (the "DMS" byte): a connection has the WAL open. */
  | 'WAL_OPEN';

export type LockedFile = 'db' | 'shm';

export interface HeldLock {
  pid: number;
  lock: SqliteLockName;
  file: LockedFile;
  /** The POSIX lock type as the kernel lists it. */
  type: 'read' | 'write';
  /** True for a lock the process is waiting for (`->` in /proc/locks), not one it holds. */
  waiting: boolean;
  /** Epoch ms when this lock was first seen held (carried across samples). */
  since: number;
  /** Held across two samples at least `stuckAfterMs` apart. */
  stuck: boolean;
}

export type HolderKind =
  /** The proxy's entry point itself (tsx's node child, or `node dist/index.js`), or whoever serves its port. */
  | 'proxy'
  /** `tsx watch`, `pnpm … dev|start`, a `sh -c` between them: they start the proxy, they are not it. */
  | 'proxy-launcher'
  /** An interpreter running someone's script, REPL or notebook kernel (python3, node, deno, …). */
  | 'script'
  | 'sqlite3-shell'
  | 'db-browser'
  | 'editor'
  | 'test-runner'
  | 'doctor'
  | 'other';

export type DbFileRole = 'db' | 'wal' | 'shm' | 'journal';

export interface Holder {
  pid: number;
  /** /proc/PID/cmdline joined with spaces (or lsof's COMMAND). */
  command: string;
  kind: HolderKind;
  /** Human label, e.g. "TraceForge proxy", "python3 notebook.py", "sqlite3 shell". */
  label: string;
  /** Which of the database's files the process has open. */
  files: DbFileRole[];
  /** SQLite locks it holds right now (deduplicated). */
  locks: SqliteLockName[];
  /** This very process (the doctor server or CLI): never a kill target. */
  self: boolean;
  /**
   * Holds a lock that keeps the proxy from committing (see markBlockers in locks.ts).
   * Never the proxy, its launcher or the doctor. Absent when the platform shows no locks.
   */
  blocker?: boolean;
}

export interface LockSample {
  takenAt: number;
  /**
   * Where the view came from. Only 'proc' (Linux's /proc/locks) shows locks; 'lsof' (macOS,
   * the BSDs) and 'restart-manager' (Windows) show who has the files open, never a lock;
   * 'none' shows nothing. `note` says which, for the user.
   */
  source: 'proc' | 'lsof' | 'restart-manager' | 'none';
  locks: HeldLock[];
  holders: Holder[];
  /** What this platform could not see, for the user. */
  note?: string;
}

// ---------------------------------------------------------------- log

export interface LogHourCount {
  /** Start of the hour, ISO 8601 UTC (e.g. 2026-11-26T14:00:00.000Z). */
  hour: string;
  count: number;
}

export interface LogSummary {
  path: string;
  exists: boolean;
  /**
   * Lock-error events in the scanned part. An event is a line and the indented lines under
   * it (pino-pretty's `err: {…}` block, a stack trace), and counts once however many of its
   * lines say `database is locked` / SQLITE_BUSY; a pino JSON line is one event.
   */
  lockErrors: number;
  /**
   * ISO time of the earliest / latest such event that carried a time. pino-pretty's
   * date-less `[HH:MM:ss]` times are dated from the file's mtime, a day back per midnight.
   */
  first?: string;
  last?: string;
  perHour: LogHourCount[];
  totalBytes: number;
  scannedBytes: number;
  /** False when the scan stopped at its byte or time budget before the start of the file. */
  complete: boolean;
  /** Line number (1-based) of the first line of the first lock error, when the whole file was scanned. */
  firstLine?: number;
  /** What the scanned events mostly looked like (by their first line); absent when there were none. */
  format?: 'pino-json' | 'pino-pretty' | 'plain';
  error?: string;
}

// ---------------------------------------------------------------- report

export interface SchemaInfo {
  tables: string[];
  hasTraces: boolean;
  traceColumns: string[];
  hasFts: boolean;
  userVersion: number;
}

export interface TraceCount {
  value: number;
  /** True for the instant estimate (max(rowid) or sqlite_stat1), false for COUNT(*). */
  estimate: boolean;
  source: 'max-rowid' | 'stat1' | 'count';
}

export interface IntegrityResult {
  /** quick_check ran and said ok. */
  ok: boolean;
  /** quick_check ran (false: it could not, see notRunReason; that is not a failed check). */
  ran: boolean;
  /** Why it could not run, and what to do instead. */
  notRunReason?: string;
  /** quick_check's lines when it ran (['ok'] when healthy); empty when it did not run. */
  messages: string[];
  /** True when the check ran on a fresh backup copy so the live DB stayed unlocked. */
  onCopy: boolean;
  durationMs: number;
}

export type InspectMode = 'passive' | 'full';

/** Which SQLite engine the doctor's process reads the database with. */
export interface SqliteBackendInfo {
  /** 'native': the @vscode/sqlite3 addon; 'node:sqlite': the one built into Node; 'none': neither loads here. */
  name: 'native' | 'node:sqlite' | 'none';
  /** The SQLite library's version, e.g. 3.39.4. */
  version?: string;
  /** The Node version the doctor runs on (node:sqlite is part of it), e.g. 24.9.0. */
  node: string;
  /** Why the engine tried before this one is not in use (the native module's load error, a forced choice), or why none is. */
  reason?: string;
}

export interface HealthReport {
  path: string;
  checkedAt: string;
  mode: InspectMode;
  /** The database could be looked at (header readable and valid, and, in full mode, SQL reads worked). */
  reachable: boolean;
  /** When not reachable: the code of the finding that says why. */
  unreachableReason?: FindingCode;
  journalMode: JournalMode;
  /** 'header' in passive mode (bytes 18-19 only tell WAL or legacy), 'pragma' after a SQL read. */
  journalModeSource: 'header' | 'pragma' | 'none';
  header?: DbHeader;
  files: DbFiles;
  fs?: FsInfo;
  schema?: SchemaInfo;
  traceCount?: TraceCount;
  integrity?: IntegrityResult;
  lockSource: LockSample['source'];
  lockNote?: string;
  locks: HeldLock[];
  holders: Holder[];
  log?: LogSummary;
  /** The lock monitor's last minutes, when it has been sampling this database. */
  monitor?: MonitorSummary;
  /** The SQLite engine this check had (or did not have). */
  sqliteBackend?: SqliteBackendInfo;
  findings: Finding[];
  healthy: boolean;
  durationMs: number;
}

// ---------------------------------------------------------------- repairs

export interface EnableWalResult {
  ok: boolean;
  /** Mode read back from a fresh connection after the attempt. */
  journalMode: JournalMode;
  previousMode: JournalMode;
  attempts: number;
  durationMs: number;
  alreadyWal: boolean;
  /** The backup taken from a WAL snapshot right after the switch (when asked for). */
  backupPath?: string;
  /**
   * Why that backup failed. The switch stands (ok stays true): switching rewrote no
   * content, so nothing needed the backup; the user can back up again.
   */
  backupError?: string;
  /** When it gave up: the processes that kept the lock. */
  blockers: Holder[];
  message: string;
}

export interface CheckpointResult {
  ok: boolean;
  mode: 'PASSIVE' | 'TRUNCATE';
  /** sqlite's wal_checkpoint result: busy flag, WAL frames, frames checkpointed. */
  busy: boolean;
  walFrames: number;
  checkpointedFrames: number;
  walSizeBefore: number;
  walSizeAfter: number;
  /** When it could not finish: the processes whose read transactions pin the WAL (WAL_READ). */
  blockers: Holder[];
  message: string;
}

export interface BackupResult {
  ok: boolean;
  path: string;
  bytes: number;
  pages: number;
  durationMs: number;
  /**
   * 'wal-snapshot': copied from a WAL read snapshot, the proxy never waited.
   * 'rollback-shared': copied under one SHARED lock, the proxy's commits waited meanwhile.
   */
  mode: 'wal-snapshot' | 'rollback-shared';
  /** How long the proxy's commits were held off (the SHARED lock's lifetime); 0 from a WAL snapshot. */
  pauseMs: number;
  /** The pause predicted from the file size before starting (what the refusal threshold compares); 0 in WAL mode. */
  estimatedPauseMs: number;
  message: string;
}

/** Reported while a repair runs, for a progress notification. */
export interface ProgressEvent {
  message: string;
  /** 0..100 of the current stage when known (a stage restarts at 0, e.g. the backup after the switch). */
  percent?: number;
}

/** The verification step's concurrent writers on a copy of the database. */
export interface ConcurrencyResult {
  ok: boolean;
  writers: number;
  seconds: number;
  commits: number;
  busyErrors: number;
  commitsPerSecond: number;
  p99Ms: number;
  errors: string[];
  message: string;
}

/** What one writer process of the concurrency check prints when it is done. */
export interface WriterSummary {
  commits: number;
  busyErrors: number;
  otherErrors: string[];
  p50: number;
  p99: number;
}
