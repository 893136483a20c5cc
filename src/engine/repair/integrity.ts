// PRAGMA quick_check reads every page. On a rollback-journal database that would hold
// a SHARED lock for seconds and make the proxy fail, so there it runs on a fresh copy
// (backup.ts's one-pass copy, which quick_checks what it copied) instead of the live file.
//
// Only a quick_check that ran and listed problems is a failed check: its advice is to
// restore from a backup, which loses every row written since. A check that could not
// run (a hot journal waiting for recovery, a disk too full for the copy, a lock that
// would not let go) says why and what to do instead (issue 11).
import * as path from 'node:path';
import { checkOnCopy } from './backup';
import { journalLooksHot, realDbPath, statFile } from '../diagnose/dbFiles';
import { withFileGate } from '../sqlite/fileGate';
import { readHeader } from '../sqlite/header';
import { sampleLocks } from '../locks/sampleLocks';
import { isBusy, sqliteCode, withConnection } from '../sqlite/connection';
import type { IntegrityResult, ProgressEvent } from '../../shared/model';

export interface IntegrityOptions {
  busyTimeoutMs?: number;
  onProgress?: (e: ProgressEvent) => void;
}

export async function integrityCheck(dbPath: string, opts: IntegrityOptions = {}): Promise<IntegrityResult> {
  const started = performance.now();
  dbPath = path.resolve(dbPath);
  const name = path.basename(dbPath);
  const durationMs = () => Math.round(performance.now() - started);
  const verdict = (problems: string[], onCopy: boolean): IntegrityResult => ({
    ok: problems.length === 0,
    ran: true,
    messages: problems.length ? problems : ['ok'],
    onCopy,
    durationMs: durationMs(),
  });
  const notRun = (reason: string, onCopy: boolean): IntegrityResult => ({
    ok: false,
    ran: false,
    notRunReason: reason,
    messages: [],
    onCopy,
    durationMs: durationMs(),
  });

  let wal: boolean;
  try {
    const head = await withFileGate(dbPath, () => readHeader(dbPath));
    if (!head.header) return notRun(`${name} is not a readable SQLite database (${head.problem.kind}); run Check Health for details.`, false);
    wal = head.header.wal;
  } catch (e) {
    return notRun(`Cannot read ${dbPath}: ${(e as Error).message}.`, false);
  }

  if (!wal) {
    // Copying opens the database read-write, and the first reader rolls a hot journal
    // back: that recovery is the proxy's to run, not a side effect of a check.
    const real = await realDbPath(dbPath);
    if ((await statFile(`${real}-journal`)).size > 0) {
      const sample = await sampleLocks(dbPath);
      const reserved = sample.locks.some((l) => !l.waiting && (l.lock === 'RESERVED' || l.lock === 'PENDING' || l.lock === 'EXCLUSIVE'));
      if (await journalLooksHot(dbPath, reserved)) {
        return notRun(
          `${name} has a hot journal (${name}-journal, left by a writer that stopped mid-transaction) that the next connection rolls back; checking now would run that recovery. Back up, restart the proxy so it recovers the database, then run the check again.`,
          true,
        );
      }
    }
    opts.onProgress?.({ message: 'Copying the database so the check does not lock it…' });
    try {
      const { problems } = await checkOnCopy(dbPath, { onProgress: opts.onProgress, busyTimeoutMs: opts.busyTimeoutMs });
      return verdict(problems, true);
    } catch (e) {
      return notRun(`The copy to check could not be made. ${(e as Error).message}`, true);
    }
  }

  // WAL mode: a read snapshot blocks nobody, so the live file is checked.
  opts.onProgress?.({ message: 'Running quick_check…' });
  try {
    const rows = await withFileGate(dbPath, () =>
      withConnection(dbPath, { readonly: true, busyTimeoutMs: opts.busyTimeoutMs ?? 250 }, (c) => c.all<{ quick_check: string }>('PRAGMA quick_check(20)')),
    );
    const messages = rows.map((r) => r.quick_check);
    return verdict(messages.length === 1 && messages[0] === 'ok' ? [] : messages, false);
  } catch (e) {
    const code = sqliteCode(e);
    const message = String((e as Error).message);
    // SQLite itself calling the file corrupt is a verdict, not a check that could not run.
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return verdict([message], false);
    if (isBusy(e))
      return notRun(`quick_check could not get a read lock on ${name} (${message}): a process holds it; see who in Locks now, then try again.`, false);
    return notRun(`quick_check could not run on ${name}: ${message}. Nothing about the data is known from this; fix the cause and run it again.`, false);
  }
}
