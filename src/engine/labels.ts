// The words users see for SQLite locks and for the runbook's fixes, in one place.
// No I/O: the extension host's UI imports this too, without pulling in the engine.
import type { FixId, SqliteLockName } from './types';

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

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
