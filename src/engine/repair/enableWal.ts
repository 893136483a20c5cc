// RUNBOOK-002 option 1, made safe under load (docs/DESIGN.md § Rules 3).
//
// `PRAGMA journal_mode=WAL` needs an exclusive lock for an instant. With the proxy
// committing all the time it fails at once with SQLITE_BUSY even with a busy timeout:
// SQLite skips the busy handler when waiting could deadlock (upgrading a read lock).
// What works: retry the statement on a fresh connection after a short random pause,
// so the attempt lands between two of the proxy's commits. Nothing is rewritten but
// the header bytes 18-19, so no committed row can be lost.
//
// Backup policy: switch first, back up after. The switch rewrites no content, so it
// needs no backup to be undone, and it must not wait for one: in rollback mode a
// consistent copy pauses the proxy for the whole copy (too long on a big DB) and a
// stepped copy restarts on every commit and never finishes (issue 9). Once in WAL
// mode, a backup reads a snapshot that never blocks the proxy. A failed backup after
// the switch is reported (`backupError`) but the switch stands.
import * as path from 'node:path';
import { backupDatabase } from './backup';
import { DoctorError } from '../errors';
import { withFileGate } from '../sqlite/fileGate';
import { filesystemOf } from '../diagnose/filesystem';
import { readHeader } from '../sqlite/header';
import { normaliseJournalMode } from '../diagnose/inspect';
import { sampleLocks } from '../locks/sampleLocks';
import { recordWalSwitch } from './walMarker';
import { isBusy, withConnection } from '../sqlite/connection';
import type { EnableWalResult, Holder, JournalMode, ProgressEvent } from '../../shared/model';

export interface EnableWalOptions {
  /** How long to keep retrying under load; default 5000 ms. */
  timeoutMs?: number;
  /** Back up after switching, from a WAL snapshot (into `<db folder>/backups/`). */
  backup?: boolean;
  /** Enable WAL even on a filesystem where it is unsafe. */
  force?: boolean;
  onProgress?: (e: ProgressEvent) => void;
  /** For cancellation from the UI: checked between attempts and between backup steps. */
  signal?: AbortSignal;
}

const MIN_PAUSE_MS = 2;
const MAX_PAUSE_MS = 20;

/** The backup the user asked for, from a WAL snapshot: the proxy keeps writing meanwhile. */
async function backupAfterSwitch(dbPath: string, opts: EnableWalOptions): Promise<{ backupPath?: string; backupError?: string }> {
  // backupDatabase reports its own stage: 'Backing up (WAL snapshot, the proxy is not paused)… N%'.
  try {
    const r = await backupDatabase(dbPath, { onProgress: opts.onProgress, signal: opts.signal });
    return { backupPath: r.path };
  } catch (e) {
    return { backupError: (e as Error).message };
  }
}

/** A fresh connection's answer: the mode any new connection (the proxy's next one) gets. */
export async function readJournalMode(dbPath: string): Promise<JournalMode> {
  return withFileGate(dbPath, () =>
    withConnection(dbPath, { readonly: true, busyTimeoutMs: 1000 }, async (c) =>
      normaliseJournalMode((await c.get<{ journal_mode: string }>('PRAGMA journal_mode'))?.journal_mode),
    ),
  );
}

export async function enableWal(dbPath: string, opts: EnableWalOptions = {}): Promise<EnableWalResult> {
  const started = performance.now();
  const startedAt = Date.now();
  dbPath = path.resolve(dbPath);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const name = path.basename(dbPath);

  const head = await withFileGate(dbPath, () => readHeader(dbPath)).catch((e: NodeJS.ErrnoException) => {
    throw new DoctorError(
      e.code === 'ENOENT'
        ? `There is no database at ${dbPath}.`
        : e.code === 'EISDIR'
          ? `${dbPath} is a directory, not a database.`
          : `Cannot read ${dbPath}: ${e.message}.`,
    );
  });
  if (!head.header)
    throw new DoctorError(`${dbPath} is not a healthy SQLite database (${head.problem.kind}); WAL was not enabled. Run Check Health for details.`);

  const base = { attempts: 0, blockers: [] as Holder[] };
  if (head.header.wal) {
    const mode = await readJournalMode(dbPath);
    return {
      ...base,
      ok: mode === 'wal',
      journalMode: mode,
      previousMode: 'wal',
      alreadyWal: true,
      durationMs: Math.round(performance.now() - started),
      message: `${name} is already in WAL mode.`,
    };
  }

  const fsInfo = await filesystemOf(dbPath);
  if (fsInfo?.unsafeForWal && !opts.force) {
    throw new DoctorError(
      `WAL was not enabled: ${name} is on ${fsInfo.fsType} (${fsInfo.mountPoint}), where ${fsInfo.reason}. Move the database to a local disk, or force it if you know all its users are on this machine.`,
    );
  }

  opts.onProgress?.({ message: 'Switching to WAL…' });
  let attempts = 0;
  let lastError = '';
  let switched = false;
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (opts.signal?.aborted) throw new DoctorError('Enable WAL was cancelled; the database is unchanged.');
    attempts++;
    try {
      const mode = await withFileGate(dbPath, () =>
        withConnection(dbPath, { readonly: false, busyTimeoutMs: 0 }, async (c) =>
          normaliseJournalMode((await c.get<{ journal_mode: string }>('PRAGMA journal_mode=WAL'))?.journal_mode),
        ),
      );
      if (mode === 'wal') {
        switched = true;
        break;
      }
      // SQLite answers with the old mode when it could not switch without an error.
      lastError = `SQLite kept journal mode ${mode}`;
    } catch (e) {
      if (!isBusy(e)) throw new DoctorError(`Enabling WAL on ${name} failed: ${(e as Error).message}. The database is unchanged.`);
      lastError = 'database is locked';
    }
    if (attempts % 10 === 0) opts.onProgress?.({ message: `Waiting for a gap between the proxy's commits (attempt ${attempts})…` });
    await new Promise((r) => setTimeout(r, MIN_PAUSE_MS + Math.random() * (MAX_PAUSE_MS - MIN_PAUSE_MS)));
  }

  const journalMode = await readJournalMode(dbPath).catch((): JournalMode => 'unknown');
  const durationMs = Math.round(performance.now() - started);
  if (switched && journalMode === 'wal') {
    // Dates the switch for every later look (CLI or server): lock errors logged before it are history.
    await recordWalSwitch(dbPath, Date.now(), startedAt);
    const switchedMsg = `${name} is now in WAL mode (verified from a fresh connection; ${attempts} attempt${attempts === 1 ? '' : 's'}, ${durationMs} ms).`;
    const backup = opts.backup ? await backupAfterSwitch(dbPath, opts) : {};
    return {
      ...base,
      ok: true,
      attempts,
      journalMode,
      previousMode: 'delete',
      alreadyWal: false,
      durationMs: Math.round(performance.now() - started),
      ...backup,
      message: backup.backupError
        ? `${switchedMsg} The backup after the switch failed: ${backup.backupError} WAL mode is on regardless; run Back Up Database to try again.`
        : switchedMsg,
    };
  }

  const sample = await sampleLocks(dbPath);
  // The switch needs every other connection to let go for an instant. A process other than
  // the proxy that holds a lock is the one to stop; the proxy itself only needs a restart.
  const holding = sample.holders.filter((h) => !h.self && h.locks.length > 0);
  const blockers = holding.filter((h) => h.kind !== 'proxy' && h.kind !== 'proxy-launcher').sort((a, b) => Number(!!b.blocker) - Number(!!a.blocker));
  const proxies = holding.filter((h) => h.kind === 'proxy');
  const named = blockers.length
    ? ` Holding it: ${blockers.map((b) => `PID ${b.pid} (${b.label}, ${b.locks.join('+')})`).join(', ')}. Stop that process (Kill Blocking Process), then try again.`
    : proxies.length
      ? ` Only the proxy holds it (PID ${proxies.map((p) => p.pid).join(', ')}): it is committing back to back. Try again, or restart the proxy.`
      : ' No process holds a lock right now: the proxy is committing back to back. Try again, or restart the proxy.';
  return {
    ...base,
    ok: false,
    attempts,
    journalMode,
    previousMode: 'delete',
    alreadyWal: false,
    durationMs,
    blockers,
    message: `Could not switch ${name} to WAL within ${Math.round(timeoutMs / 1000)} s (${attempts} attempts, last: ${lastError}).${named}`,
  };
}
