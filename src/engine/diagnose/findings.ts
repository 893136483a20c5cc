// Turns what an inspection saw into findings: a stable code, a severity, and a message
// that says what to do next, with the runbook fixes that apply. Pure, so every rule
// is tested without a database.
import * as path from 'node:path';
import { ago, formatBytes } from '../../shared/labels';
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
} from '../../shared/model';

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
  /** Epoch ms of the switch to WAL, when the doctor did it or saw it (walMarker.ts). */
  walSince?: number;
  /** Start of the doctor's Enable WAL run that made that switch. */
  walRunStartedAt?: number;
  /** A full check that had no SQLite engine: what it could not do, and why (backend.ts). */
  noSqlite?: string;
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
      return make(
        'error',
        `${name} not found`,
        `There is no database at ${input.path}. Start the proxy once so it creates it, or point the setting tracedb.databasePath at the right file.`,
        ['chooseDatabase'],
      );
    case 'is-directory':
      return make(
        'error',
        `${name} is a folder`,
        `${input.path} is a directory, not a database file. Point tracedb.databasePath at the traces.db file inside it.`,
        ['chooseDatabase'],
      );
    case 'permission-denied':
      return make(
        'error',
        `No permission to read ${name}`,
        `Cannot read ${input.path}: permission denied (${detail}). Run VS Code as the user that runs the proxy, or give that user read access (chmod/chown).`,
        [],
      );
    case 'not-a-database':
      return make(
        'error',
        `${name} is not a SQLite database`,
        `${input.path} is not a SQLite database: ${detail}. Check tracedb.databasePath; if the proxy's file was overwritten, restore the newest copy from ${backups}.`,
        ['chooseDatabase'],
      );
    case 'truncated':
      return make(
        'error',
        `${name} is cut off`,
        `${input.path} is truncated: ${detail}. A disk that filled up or an interrupted copy does this. Stop the proxy, keep this file aside, and restore the newest copy from ${backups}.`,
        ['restartProxy'],
      );
    case 'corrupt':
      return make(
        'error',
        `${name} is corrupt`,
        `SQLite reports ${input.path} as corrupt: ${detail}. Stop the proxy, back up the file as it is, then run the integrity check; restore from ${backups} if it fails.`,
        ['backup', 'integrityCheck'],
      );
    case 'lock-held':
      return make(
        'error',
        `${name} is locked: reads time out`,
        `Reading ${input.path} timed out waiting for a lock (${detail}). ${input.locks.length ? 'See who holds it below; ' : ''}a process is keeping a transaction open.`,
        ['showHolders', 'killBlocker'],
      );
    default:
      return make(
        'error',
        `Cannot read ${name}`,
        `SQLite could not read ${input.path}: ${detail}. Open the output for details, then check the file's permissions and free disk space.`,
        [],
      );
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
      title: `Hot journal (${formatBytes(input.files.journal.size)})`,
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
    // The proxy's own commit locks come and go many times a second: not news until stuck.
    else if (locks.some((l) => WRITE_LOCKS.has(l.lock) || l.lock === 'SHARED') && input.holders.find((h) => h.pid === pid)?.kind !== 'proxy')
      activeWriters.push(pid);
  }
  if (stuckWriters.length) {
    const heldFor = (pid: number) => {
      const since = Math.min(...(byPid.get(pid) ?? []).filter((l) => l.stuck).map((l) => l.since));
      return Number.isFinite(since) ? ` for ${Math.max(1, Math.round((input.now - since) / 1000))} s` : '';
    };
    const lockOf = (pid: number) => [...new Set((byPid.get(pid) ?? []).filter((l) => l.stuck && WRITE_LOCKS.has(l.lock)).map((l) => l.lock))].join('+');
    const kindOf = (pid: number) => input.holders.find((h) => h.pid === pid)?.kind;
    const proxies = stuckWriters.filter((p) => kindOf(p) === 'proxy');
    const others = stuckWriters.filter((p) => kindOf(p) !== 'proxy');
    if (others.length) {
      // Naming the wrong process is the most dangerous thing the doctor can do: the one
      // to stop is the blocker, never the proxy it blocks.
      out.push({
        code: 'stuck-writer',
        severity: 'error',
        title: `Blocked by ${others.map((p) => `PID ${p} (${input.holders.find((h) => h.pid === p)?.label ?? 'unknown process'})`).join(', ')}`,
        message: `${others.map((p) => `${who([p], input.holders)} has held ${lockOf(p)} on ${name}${heldFor(p)}`).join('; ')}: an open write transaction that is not committing. The proxy cannot commit meanwhile; after its busy timeout it fails with "database is locked". Finish that transaction in that process, or stop it (Kill Blocking Process: its uncommitted changes are rolled back, committed rows stay).`,
        fixes: ['killBlocker', 'showHolders'],
        pids: others,
      });
    }
    if (proxies.length) {
      out.push({
        code: 'stuck-writer',
        severity: 'error',
        title: `The proxy holds the write lock (PID ${proxies.join(', ')})`,
        message: `${who(proxies, input.holders)} has held ${proxies.map(lockOf).join(', ')} on ${name}${heldFor(proxies[0])}: a long or stuck transaction in the proxy itself. Other writers wait and fail. Restart the proxy; if it recurs, review its transaction size (RUNBOOK-002 escalation).`,
        fixes: ['restartProxy', 'showHolders'],
        pids: proxies,
      });
    }
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
      title: `Large WAL (${formatBytes(input.files.wal.size)})`,
      message: `${name}-wal has grown to ${formatBytes(input.files.wal.size)}: checkpoints are not keeping up, which slows every read. Run Checkpoint WAL (TRUNCATE): it never makes the proxy wait, and if a long read transaction keeps the WAL pinned it names that process.`,
      fixes: ['checkpoint', 'showHolders'],
    });
  }

  const log = input.log;
  if (log?.exists && log.lockErrors > 0) out.push(logFinding(input, log));

  if (input.noSqlite) {
    // Not the database's fault: it checks healthy on what the header and /proc show.
    out.push({
      code: 'no-sqlite-engine',
      severity: 'info',
      title: 'No SQLite engine here: header-level health only',
      message: input.noSqlite,
      fixes: [],
    });
  }

  if (input.integrity?.ran === false) {
    out.push({
      code: 'integrity-not-run',
      severity: 'warning',
      title: 'Integrity check could not run',
      message: `The integrity check of ${name} did not run, so nothing is known about the data (this is not a failed check): ${input.integrity.notRunReason ?? 'no reason given'}`,
      fixes: ['integrityCheck'],
    });
  } else if (input.integrity && !input.integrity.ok) {
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

/**
 * Lock errors in the proxy's log. Recent ones (the last hour, and after the switch to WAL
 * when that is known) are the incident: a warning. Older ones are history, reported as
 * information ("last seen 3 h ago") so a healthy DB checks healthy.
 */
function logFinding(input: FindingInput, log: LogSummary): Finding {
  const wal = input.journalMode === 'wal';
  const lastMs = log.last ? Date.parse(log.last) : undefined;
  const fresh = lastMs !== undefined && input.now - lastMs < RECENT_LOG_MS;
  // Errors the doctor counted before it saw the DB in WAL mode are the incident WAL fixed.
  const sinceWal = wal && input.logErrorsBeforeWal !== undefined ? log.lockErrors - input.logErrorsBeforeWal : undefined;
  const afterSwitch = wal && input.walSince !== undefined && lastMs !== undefined ? lastMs > input.walSince : undefined;
  let recent: boolean;
  if (sinceWal !== undefined) recent = sinceWal > 0;
  else if (afterSwitch !== undefined) recent = afterSwitch && fresh;
  else recent = lastMs === undefined ? !wal : fresh;

  const events = `${log.lockErrors} "database is locked" event${log.lockErrors === 1 ? '' : 's'}`;
  const seen = lastMs !== undefined ? `last seen ${ago(lastMs, input.now)}` : 'no time in the log';
  const partial = log.complete ? '' : ` (in the last ${formatBytes(log.scannedBytes)} of the log)`;
  const when = log.last ? ` The last one was at ${log.last}.` : '';
  let advice: string;
  if (!wal) advice = 'Enable WAL and keep the 5 s busy timeout to stop them.';
  else if (recent)
    advice = 'The database is in WAL mode, yet they continue: look for a process holding the write lock (Locks now) and for long transactions in the proxy.';
  else if (afterSwitch === false && input.walRunStartedAt !== undefined && lastMs !== undefined && lastMs >= input.walRunStartedAt - 1000) {
    // Honest about our own part: the switch needs the lock for milliseconds, which a writer
    // with no busy timeout cannot wait for. Never "none since" for errors the run caused.
    advice =
      "The last of them was logged while Enable WAL was switching: a writer with no busy timeout fails even on the switch's lock of a few milliseconds (the proxy's usual 5 s timeout waits it out). None since the switch.";
  } else if (sinceWal !== undefined || afterSwitch === false) advice = 'None since the database was switched to WAL: WAL fixed them.';
  else advice = 'None in the last hour: history, not a current problem.';
  return {
    code: 'lock-errors-in-log',
    severity: recent ? 'warning' : 'info',
    title: recent ? `${events} in the proxy log, ${seen}` : `Past lock errors in the log (${seen})`,
    message: `The proxy logged ${events}${partial}.${when} ${advice}`,
    fixes: wal ? ['openLog', 'showHolders'] : ['openLog', 'enableWal', 'increaseTimeout'],
  };
}
