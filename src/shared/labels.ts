// The words users see for SQLite locks and for the runbook's fixes, in one place.
// No I/O: the extension host's UI imports this too, without pulling in the engine.
import type { FixId, SqliteLockName } from './model';

const LOCK_TEXT: Record<SqliteLockName, string> = {
  SHARED: 'reading the database: in rollback-journal mode no writer can commit meanwhile (in WAL mode every open connection holds it)',
  RESERVED: 'a write transaction is open (writer has not committed yet)',
  PENDING: 'a writer is waiting for readers to finish so it can commit; no new reader may start',
  EXCLUSIVE: 'committing now: writing the database file; nobody else can read or write',
  WAL_WRITE: 'the WAL writer: a write transaction is open (writer has not committed yet); other writers wait',
  CHECKPOINT: 'a checkpoint is copying the WAL back into the database file',
  RECOVER: 'rebuilding the WAL index (-shm) after a crash or on first open',
  WAL_READ: 'a read transaction pins a WAL snapshot: checkpoints cannot reset the WAL while it lasts',
  WAL_OPEN: 'has the database open in WAL mode (normal for every connection)',
};

/** One plain-English line per lock, for tooltips. */
export function describeLock(l: SqliteLockName): string {
  return LOCK_TEXT[l];
}

export const FIX_TITLES: Record<FixId, string> = {
  enableWal: 'Enable WAL',
  increaseTimeout: 'Increase Busy Timeout in Code',
  killBlocker: 'Kill Blocking Process',
  restartProxy: 'Restart Proxy',
  checkpoint: 'Checkpoint WAL',
  backup: 'Back Up Database',
  longTermFix: 'Apply Long-term Fix',
  openLog: 'Open Log',
  integrityCheck: 'Run Integrity Check',
  showHolders: 'Show Processes Holding the Database',
  chooseDatabase: 'Choose Database',
};

/** A codicon per fix, so every row of the fix picker carries one. */
export const FIX_ICONS: Record<FixId, string> = {
  enableWal: 'zap',
  increaseTimeout: 'watch',
  killBlocker: 'close',
  restartProxy: 'debug-restart',
  checkpoint: 'archive',
  backup: 'save-as',
  longTermFix: 'wrench',
  openLog: 'output',
  integrityCheck: 'verified',
  showHolders: 'list-tree',
  chooseDatabase: 'folder-opened',
};

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** A size in the unit that reads best: "512 B", "11.3 KiB", "4.0 MiB", "1.50 GiB". */
export function formatBytes(n: number): string {
  if (n < KIB) return `${n} B`;
  if (n < MIB) return `${(n / KIB).toFixed(1)} KiB`;
  if (n < GIB) return formatMiB(n);
  return `${(n / GIB).toFixed(2)} GiB`;
}

/**
 * A size in MiB whatever its size ("0.3 MiB", "887.0 MiB"): for sentences that set sizes
 * side by side (a copy, the free space, the room left), where one unit keeps them
 * comparable. `roundUp`: whole MiB rounded up, for space needed, never understated.
 */
export function formatMiB(n: number, opts: { roundUp?: boolean } = {}): string {
  return opts.roundUp ? `${Math.ceil(n / MIB)} MiB` : `${(n / MIB).toFixed(1)} MiB`;
}

/** "just now", "12 min ago", "3 h ago", "2 days ago": how long ago an epoch-ms time was. */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** What a process is doing, in words, from the SQLite locks it holds (names stay in tooltips). */
export function activityOf(locks: readonly SqliteLockName[]): string {
  const has = (l: SqliteLockName) => locks.includes(l);
  if (has('EXCLUSIVE')) return 'committing';
  if (has('PENDING')) return 'waiting to commit';
  if (has('RESERVED') || has('WAL_WRITE')) return 'writing (transaction open)';
  if (has('CHECKPOINT')) return 'checkpointing';
  if (has('RECOVER')) return 'recovering';
  if (has('WAL_READ') || (has('SHARED') && !has('WAL_OPEN'))) return 'reading';
  if (has('WAL_OPEN') || has('SHARED')) return 'connected';
  return 'file open';
}

/** A short duration to the tenth of a second, as a copy or a pause is measured: "2.1 s". */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A duration for a lock held: "6 s", "4 min", "2 h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
