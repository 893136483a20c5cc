// Turns what an inspection saw into findings: a stable code, a severity, and a message
// that says what to do next, with the runbook fixes that apply. Pure, so every rule
// is tested without a database.
import * as path from 'node:path';
import type {
  DbFiles,
  Finding,
  FindingCode,
  FixId,
  FsInfo,
  HeldLock,
  Holder,
  IntegrityResult,
  JournalMode,
  LogSummary,
  SchemaInfo,
  Severity,
} from './types';

/** A WAL this large means checkpoints are not keeping up (a long reader, or none ever ran). */
export const WAL_LARGE_BYTES = 64 * 1024 * 1024;
/** Lock errors this recent count as the current incident, older ones as history. */
export const RECENT_LOG_MS = 60 * 60 * 1000;

const WRITE_LOCKS = new Set(['RESERVED', 'PENDING', 'EXCLUSIVE', 'WAL_WRITE', 'CHECKPOINT', 'RECOVER']);

export interface FindingInput {
  path: string;
  files: DbFiles;
  /** Why the file could not be looked at, when it could not. */
  unreachable?: { code: FindingCode; detail: string };
  journalMode: JournalMode;
  fs?: FsInfo;
  schema?: SchemaInfo;
  hotJournal: boolean;
  locks: HeldLock[];
  holders: Holder[];
  log?: LogSummary;
  integrity?: IntegrityResult;
  /** Lock errors in the log when this inspector first saw the DB in WAL mode. */
  logErrorsBeforeWal?: number;
  now: number;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function worstSeverity(findings: Finding[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings) if (!worst || SEVERITY_RANK[f.severity] < SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

export function isHealthy(findings: Finding[]): boolean {
  return findings.every((f) => f.severity === 'info');
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function who(pids: number[], holders: Holder[]): string {
  return pids
    .map((pid) => {
      const h = holders.find((x) => x.pid === pid);
      return h ? `PID ${pid} (${h.label}: ${truncate(h.command, 80)})` : `PID ${pid}`;
    })
    .join(', ');
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function unreachableFinding(input: FindingInput, code: FindingCode, detail: string): Finding {
  const name = path.basename(input.path);
  const backups = path.join(path.dirname(input.path), 'backups');
  const make = (severity: Severity, title: string, message: string, fixes: FixId[]): Finding => ({ code, severity, title, message, fixes });
  switch (code) {
    case 'missing':
      return make('error', `${name} not found`, `There is no database at ${input.path}. Start the proxy once so it creates it, or point the setting tracedb.databasePath at the right file.`, ['chooseDatabase']);
    case 'is-directory':
      return make('error', `${name} is a folder`, `${input.path} is a directory, not a database file. Point tracedb.databasePath at the traces.db file inside it.`, ['chooseDatabase']);
    case 'permission-denied':
      return make('error', `No permission to read ${name}`, `Cannot read ${input.path}: permission denied (${detail}). Run VS Code as the user that runs the proxy, or give that user read access (chmod/chown).`, []);
    case 'not-a-database':
      return make('error', `${name} is not a SQLite database`, `${input.path} is not a SQLite database: ${detail}. Check tracedb.databasePath; if the proxy's file was overwritten, restore the newest copy from ${backups}.`, ['chooseDatabase']);
    case 'truncated':
      return make('error', `${name} is cut off`, `${input.path} is truncated: ${detail}. A disk that filled up or an interrupted copy does this. Stop the proxy, keep this file aside, and restore the newest copy from ${backups}.`, ['restartProxy']);
    case 'corrupt':
      return make('error', `${name} is corrupt`, `SQLite reports ${input.path} as corrupt: ${detail}. Stop the proxy, back up the file as it is, then run the integrity check; restore from ${backups} if it fails.`, ['backup', 'integrityCheck']);
    case 'lock-held':
      return make('error', `${name} is locked: reads time out`, `Reading ${input.path} timed out waiting for a lock (${detail}). ${input.locks.length ? 'See who holds it below; ' : ''}a process is keeping a transaction open.`, ['showHolders', 'killBlocker']);
    default:
      return make('error', `Cannot read ${name}`, `SQLite could not read ${input.path}: ${detail}. Open the output for details, then check the file's permissions and free disk space.`, []);
  }
}

export function deriveFindings(input: FindingInput): Finding[] {
  const out: Finding[] = [];
  const name = path.basename(input.path);

  if (input.unreachable) {
    out.push(unreachableFinding(input, input.unreachable.code, input.unreachable.detail));
    if (input.unreachable.code === 'missing' || input.unreachable.code === 'is-directory') return out;
  }

  if (input.fs?.unsafeForWal) {
    const inWal = input.journalMode === 'wal';
    out.push({
      code: 'unsafe-fs',
      severity: inWal ? 'error' : 'warning',
      title: `On ${input.fs.fsType}: WAL is unsafe here`,
      message: inWal
        ? `${name} is in WAL mode on ${input.fs.fsType} (${input.fs.mountPoint}): ${input.fs.reason}. This can corrupt it. Move the database to a local disk and point the proxy at it.`
        : `${name} lives on ${input.fs.fsType} (${input.fs.mountPoint}): ${input.fs.reason}. Move it to a local disk before enabling WAL; until then raise the busy timeout.`,
      fixes: inWal ? ['backup'] : ['increaseTimeout', 'longTermFix'],
    });
  }

  if (input.schema && !input.schema.hasTraces) {
    out.push({
      code: 'no-traces-table',
      severity: 'warning',
      title: 'No traces table',
      message: `${name} has no "traces" table (tables: ${input.schema.tables.join(', ') || 'none'}). Either the proxy has not written yet, or tracedb.databasePath points at another database.`,
      fixes: ['chooseDatabase'],
    });
  }

  const reachableHeader = !input.unreachable || input.unreachable.code === 'lock-held';
  if (reachableHeader && input.journalMode !== 'wal' && input.journalMode !== 'unknown') {
    out.push({
      code: 'not-wal',
      severity: 'warning',
      title: `Journal mode is ${input.journalMode}, not WAL`,
      message: `${name} uses a rollback journal (${input.journalMode}): while anyone reads, the proxy cannot commit, which is what "database is locked" means. Enable WAL so readers and the writer stop blocking each other (RUNBOOK-002 option 1), then apply the long-term fix in the proxy's storage code.`,
      fixes: ['enableWal', 'longTermFix', 'increaseTimeout'],
    });
  }

  if (input.hotJournal) {
    out.push({
      code: 'hot-journal',
      severity: 'warning',
      title: `Hot journal (${mib(input.files.journal.size)})`,
      message: `${name}-journal was left by a writer that stopped mid-transaction. The next connection that opens the database rolls it back; until then the last write is not visible. Back up, then restart the proxy so it recovers the database.`,
      fixes: ['backup', 'restartProxy'],
    });
  }

  const byPid = new Map<number, HeldLock[]>();
  for (const l of input.locks) {
    if (l.waiting) continue;
    const self = input.holders.find((h) => h.pid === l.pid)?.self;
    if (self) continue;
    byPid.set(l.pid, [...(byPid.get(l.pid) ?? []), l]);
  }
  const stuckWriters: number[] = [];
  const stuckReaders: number[] = [];
  const activeWriters: number[] = [];
  for (const [pid, all] of byPid) {
    // Every WAL connection keeps SHARED on the database file for as long as it is open:
    // beside WAL_OPEN it says nothing about a transaction.
    const locks = all.some((l) => l.lock === 'WAL_OPEN') ? all.filter((l) => l.lock !== 'SHARED') : all;
    if (locks.some((l) => l.stuck && WRITE_LOCKS.has(l.lock))) stuckWriters.push(pid);
    else if (locks.some((l) => l.stuck && (l.lock === 'SHARED' || l.lock === 'WAL_READ'))) stuckReaders.push(pid);
    else if (locks.some((l) => WRITE_LOCKS.has(l.lock) || l.lock === 'SHARED')) activeWriters.push(pid);
  }
  if (stuckWriters.length) {
    out.push({
      code: 'stuck-writer',
      severity: 'error',
      title: `Write lock held by ${stuckWriters.map((p) => `PID ${p}`).join(', ')}`,
      message: `${who(stuckWriters, input.holders)} has held a write lock on ${name} for over a second: an open transaction that is not committing. Every other writer waits and then fails with "database is locked". Finish or stop that process (Kill Blocking Process), then restart the proxy.`,
      fixes: ['showHolders', 'killBlocker', 'restartProxy'],
      pids: stuckWriters,
    });
  }
  if (stuckReaders.length) {
    const walMode = input.journalMode === 'wal';
    out.push({
      code: 'long-reader',
      severity: walMode ? 'warning' : 'error',
      title: `Long read transaction in ${stuckReaders.map((p) => `PID ${p}`).join(', ')}`,
      message: walMode
        ? `${who(stuckReaders, input.holders)} keeps a read transaction open: checkpoints cannot finish, so the -wal file keeps growing. Close that session (e.g. a sqlite3 shell left in BEGIN) or restart it.`
        : `${who(stuckReaders, input.holders)} keeps a read transaction open: in rollback-journal mode no one can commit until it ends, so the proxy fails with "database is locked". Close it, and enable WAL so readers never block the writer again.`,
      fixes: walMode ? ['showHolders', 'killBlocker', 'checkpoint'] : ['showHolders', 'killBlocker', 'enableWal'],
      pids: stuckReaders,
    });
  }
  if (activeWriters.length) {
    out.push({
      code: 'lock-held',
      severity: 'info',
      title: `Lock held now by ${activeWriters.map((p) => `PID ${p}`).join(', ')}`,
      message: `${who(activeWriters, input.holders)} holds a lock on ${name} right now. A commit takes milliseconds; if it is still held on the next check, it is reported as stuck.`,
      fixes: ['showHolders'],
      pids: activeWriters,
    });
  }

  if (input.journalMode === 'wal' && input.files.wal.size >= WAL_LARGE_BYTES) {
    out.push({
      code: 'wal-large',
      severity: 'warning',
      title: `Large WAL (${mib(input.files.wal.size)})`,
      message: `${name}-wal has grown to ${mib(input.files.wal.size)}: checkpoints are not keeping up, which slows every read. Run a checkpoint (TRUNCATE); if it reports busy, a long reader is in the way.`,
      fixes: ['checkpoint', 'showHolders'],
    });
  }

  const log = input.log;
  if (log?.exists && log.lockErrors > 0) {
    const lastMs = log.last ? Date.parse(log.last) : undefined;
    // Errors the doctor already counted before it saw the DB in WAL mode are the incident
    // WAL fixed; only new ones keep the warning up.
    const sinceWal = input.journalMode === 'wal' && input.logErrorsBeforeWal !== undefined ? log.lockErrors - input.logErrorsBeforeWal : undefined;
    const recent = sinceWal !== undefined ? sinceWal > 0 : lastMs === undefined || input.now - lastMs < RECENT_LOG_MS;
    const when = log.last ? `, last at ${log.last}` : '';
    const partial = log.complete ? '' : ` (in the last ${mib(log.scannedBytes)} of the log)`;
    out.push({
      code: 'lock-errors-in-log',
      severity: recent ? 'warning' : 'info',
      title: `${log.lockErrors} "database is locked" in the proxy log`,
      message: `The proxy logged "database is locked" ${log.lockErrors} time(s)${partial}${when}. ${
        input.journalMode === 'wal'
          ? recent
            ? 'The database is in WAL mode now; if errors keep coming, raise the busy timeout in the storage code and look for a stuck writer.'
            : sinceWal !== undefined
              ? 'None since the database is in WAL mode: WAL seems to have fixed it.'
              : 'None in the last hour: WAL mode seems to have fixed it.'
          : 'Enable WAL and raise the busy timeout to stop them.'
      }`,
      fixes: input.journalMode === 'wal' ? ['openLog', 'increaseTimeout'] : ['openLog', 'enableWal', 'increaseTimeout'],
    });
  }

  if (input.integrity && !input.integrity.ok) {
    out.push({
      code: 'integrity-failed',
      severity: 'error',
      title: 'Integrity check failed',
      message: `quick_check found problems in ${name}: ${input.integrity.messages.slice(0, 3).join('; ')}. Stop the proxy and restore from the newest backup in ${path.join(path.dirname(input.path), 'backups')}.`,
      fixes: ['backup'],
    });
  }

  return out.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}
