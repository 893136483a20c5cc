// Every custom message between the extension host (client) and the doctor server,
// declared once with its types. Both sides import these constants; no method name
// is ever spelled at a call site. Depends only on the LSP protocol package and its sibling model files.
import { NotificationType, RequestType, type TextEdit, type WorkDoneProgressParams } from 'vscode-languageserver-protocol';
import type { BackupResult, CheckpointResult, ConcurrencyResult, EnableWalResult, HealthReport, IntegrityResult, LockSample } from './model';
import type { MonitorSnapshot } from './monitorModel';
import type { DbCandidate, KillResult, ProxyLaunch, StopProxyResult } from './proxyModel';
import type { TraceDetail, TraceField, TraceFieldName, TraceFilter, TracePage, TracePageParams } from './traceModel';

// The types on the wire are declared in this folder (model.ts, proxyModel.ts, traceModel.ts),
// never borrowed from the engine: a refactor there cannot change what crosses the pipe.
export type * from './model';
export type * from './proxyModel';
export type * from './traceModel';
export type * from './monitorModel';

/** One database the server keeps an eye on: a workspace folder's trace DB. */
export interface WatchedDatabase {
  /** Workspace folder URI, as the client knows it (for multi-root). */
  folderUri: string;
  /** Absolute path of the trace DB. */
  dbPath: string;
  /** Absolute path of the proxy's error log, if configured. */
  logPath?: string;
}

// client → server: replace the set of watched databases (on start, folder or setting change).
export interface WatchParams {
  databases: WatchedDatabase[];
  /**
   * How often the server reads /proc/locks and the files' stats (cheap), and runs a
   * passive check while something is wrong or someone looks, in ms (tracedb.pollIntervalMs).
   */
  pollIntervalMs: number;
  /** A passive check while the database is healthy and quiet, in ms (tracedb.poll.idleIntervalMs); its default when absent. */
  idleIntervalMs?: number;
  /** The storage-code lint's minimum busy timeout (tracedb.lint.minBusyTimeoutMs). */
  minBusyTimeoutMs?: number;
}
export const watch = new RequestType<WatchParams, void, void>('tracedb/watch');

// client → server: what the user is looking at, so the poll does only work someone sees.
// Applies to every watched database; a field left out keeps its value.
export interface WatchInterestParams {
  /**
   * The Health view shows who has the database open (its Processes section): the poll
   * then keeps that list fresh by walking /proc/PID/fd (incrementally) at the fast rate.
   * Otherwise it names only lock holders and the processes seen before. Default false.
   */
  names?: boolean;
  /**
   * A trace explorer is open: send dataChanged (at most every 3 s). false: none.
   * Never sent: dataChanged goes out anyway, at most every 3 s.
   */
  data?: boolean;
  /**
   * The databases (dbPath) a Lock Monitor shows right now: their lock monitors sample at
   * 10 Hz; every other watched database's samples at the poll rate (pollIntervalMs).
   * Replaces the previous list.
   */
  monitor?: string[];
}
export const watchInterest = new RequestType<WatchInterestParams, void, void>('tracedb/watchInterest');

// client → server: the trace databases a workspace folder's proxy may use, best first
// (the file a running proxy has open, TRACEFORGE_SQLITE_PATH, packages/proxy/.ai-tests, …).
export interface DiscoverParams {
  /** Workspace folder path. */
  root: string;
}
export const discover = new RequestType<DiscoverParams, DbCandidate[], void>('tracedb/discover');

// client → server: the command that restarts the proxy writing `dbPath`, read from its
// package.json, with the running proxy's TRACEFORGE_* environment to keep.
export interface ProxyLaunchParams {
  root: string;
  dbPath: string;
  /** tracedb.proxy.startCommand, when set. */
  custom?: string;
  /** Tee the proxy's output into <proxy dir>/logs/proxy.log. */
  keepLog?: boolean;
}
export const proxyLaunch = new RequestType<ProxyLaunchParams, ProxyLaunch, void>('tracedb/proxyLaunch');

// client → server: inspect one database now.
export interface HealthParams {
  dbPath: string;
  logPath?: string;
  /** 'full' adds short read-only SQL (on a user's action); 'passive' is the poll's depth. */
  mode: 'passive' | 'full';
  countExact?: boolean;
  integrity?: boolean;
}
export const health = new RequestType<HealthParams, HealthReport, void>('tracedb/health');

// client → server: switch to WAL (progress through the request's workDoneToken).
export interface EnableWalParams extends WorkDoneProgressParams {
  dbPath: string;
  timeoutMs?: number;
  backup?: boolean;
  force?: boolean;
}
export const enableWal = new RequestType<EnableWalParams, EnableWalResult, void>('tracedb/enableWal');

// client → server
export interface CheckpointParams {
  dbPath: string;
  mode: 'PASSIVE' | 'TRUNCATE';
}
export const checkpoint = new RequestType<CheckpointParams, CheckpointResult, void>('tracedb/checkpoint');

// client → server
export interface BackupParams extends WorkDoneProgressParams {
  dbPath: string;
  /** Default: `<db folder>/backups/<name>-<stamp>.db`. */
  out?: string;
}
export const backup = new RequestType<BackupParams, BackupResult, void>('tracedb/backup');

// client → server
export interface IntegrityParams extends WorkDoneProgressParams {
  dbPath: string;
}
export const integrity = new RequestType<IntegrityParams, IntegrityResult, void>('tracedb/integrity');

// client → server: who has the database open and which locks they hold, now.
export interface HoldersParams {
  dbPath: string;
}
export const holders = new RequestType<HoldersParams, LockSample, void>('tracedb/holders');

// client → server: stop a process that holds the database (docs/DESIGN.md § Rules 4).
export interface KillParams {
  dbPath: string;
  pid: number;
  signal: 'SIGTERM' | 'SIGKILL';
  /** The extension host and VS Code processes: never killed, whatever the user picks. */
  protectedPids: number[];
}
export const kill = new RequestType<KillParams, KillResult, void>('tracedb/kill');

// client → server: Restart Proxy's first half: SIGTERM to the proxy processes that have
// the DB open and to their launchers (tsx watch, pnpm), then wait for them to exit.
export interface StopProxyParams {
  dbPath: string;
  protectedPids: number[];
}
export const stopProxy = new RequestType<StopProxyParams, StopProxyResult, void>('tracedb/stopProxy');

// client → server: a markdown report of a full check, for a teammate or an issue.
export interface ReportParams {
  dbPath: string;
  logPath?: string;
}
export interface ReportResult {
  markdown: string;
  report: HealthReport;
}
export const report = new RequestType<ReportParams, ReportResult, void>('tracedb/report');

// client → server: the runbook's concurrent-write verification, on a copy of the DB.
export interface ConcurrencyParams extends WorkDoneProgressParams {
  dbPath: string;
  writers?: number;
  seconds?: number;
}
export const verifyConcurrency = new RequestType<ConcurrencyParams, ConcurrencyResult, void>('tracedb/verifyConcurrency');

// ---------------------------------------------------------------- lock monitor (client → server)

// The lock monitor's last `windowMs` of a watched database: holds, lock errors with their
// blame, commits per second, and the figures. Refused (user-facing) for a database not watched.
export interface MonitorParams {
  dbPath: string;
  /** How far back, in ms; the server clamps it to what it keeps (an hour). */
  windowMs: number;
}
export const monitor = new RequestType<MonitorParams, MonitorSnapshot, void>('tracedb/monitor');

// ---------------------------------------------------------------- trace explorer (client → server)

export interface TracesParams extends TracePageParams {
  dbPath: string;
}
export const traces = new RequestType<TracesParams, TracePage, void>('tracedb/traces');

export interface TraceParams {
  dbPath: string;
  id: string;
}
export const trace = new RequestType<TraceParams, TraceDetail | null, void>('tracedb/trace');

export interface TraceFieldParams {
  dbPath: string;
  id: string;
  field: TraceFieldName;
}
export const traceField = new RequestType<TraceFieldParams, TraceField | null, void>('tracedb/traceField');

export interface TraceCountParams {
  dbPath: string;
  filter: TraceFilter;
}
export const traceCount = new RequestType<TraceCountParams, number, void>('tracedb/traceCount');

export interface FilterChoices {
  models: string[];
  endpoints: string[];
  hasFts: boolean;
  hasSessions: boolean;
}
export const filterChoices = new RequestType<{ dbPath: string }, FilterChoices, void>('tracedb/filterChoices');

// ---------------------------------------------------------------- storage-code lint (client → server)

/** The RUNBOOK-002 long-term fix (or only the busy timeout) for one file, as edits the client applies. */
export interface StorageFixParams {
  uri: string;
  only?: 'busyTimeout';
}
export interface StorageFixResult {
  edits: TextEdit[];
  /** How many findings the file had before the fix. */
  findings: number;
}
export const storageFixEdits = new RequestType<StorageFixParams, StorageFixResult, void>('tracedb/storageFixEdits');

// server → client: a watched database's content changed (someone committed); the explorer fetches
// what is new. At most every 3 s, and not at all after watchInterest { data: false }.
export interface DataChangedParams {
  dbPath: string;
}
export const dataChanged = new NotificationType<DataChangedParams>('tracedb/dataChanged');

// server → client: a watched database's passive health changed (pushed, never polled): a change
// of state, not of sizes or counts, and at most once a second per database.
export interface HealthChangedParams {
  folderUri: string;
  dbPath: string;
  report: HealthReport;
}
export const healthChanged = new NotificationType<HealthChangedParams>('tracedb/healthChanged');

/**
 * Errors the server returns with a message written for the user (DoctorError).
 * Other codes are bugs: the client shows them with "Open Output".
 */
export const USER_FACING_ERROR = -32001;
