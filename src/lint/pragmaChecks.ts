// RUNBOOK-002's long-term fix as checks: each connection in WAL mode, with a busy timeout of
// at least the configured minimum, and synchronous = NORMAL.
import type ts from 'typescript';
import type { OpenedDb } from './connectionSites';
import { DEFAULT_TIMEOUT } from './drivers';
import type { LintFinding } from './lintTypes';

export function checkPragmas(sf: ts.SourceFile, dbs: OpenedDb[], min: number): LintFinding[] {
  const findings: LintFinding[] = [];
  dbs.forEach((db, i) => {
    const at = { start: db.call.getStart(sf), end: db.call.getEnd(), db: i };
    const mode = db.journalMode?.value.toLowerCase();
    if (!db.journalMode) {
      findings.push({
        ...at,
        code: 'no-wal',
        severity: 'warning',
        message: `${db.receiver} is opened without journal_mode = WAL: in the default rollback journal every reader blocks the writer ("database is locked"). Set it right after opening (RUNBOOK-002 long-term fix).`,
      });
    } else if (mode !== 'wal') {
      const l = db.journalMode.literal!;
      findings.push({
        start: l.start,
        end: l.end,
        db: i,
        code: 'journal-mode-not-wal',
        severity: 'warning',
        message: `journal_mode is set to ${db.journalMode.value}, not WAL: readers and the writer will block each other. Use journal_mode = WAL (RUNBOOK-002).`,
      });
    }
    const timeout = db.busyTimeout ? Number(db.busyTimeout.value) : undefined;
    if (timeout === undefined && !db.opaque) {
      const dflt = DEFAULT_TIMEOUT[db.driver];
      findings.push({
        ...at,
        code: 'no-busy-timeout',
        severity: dflt >= min ? 'information' : 'warning',
        message:
          db.driver === 'better-sqlite3'
            ? `No busy timeout set: better-sqlite3 already waits ${dflt} ms by default; setting busy_timeout = ${min} explicitly documents it (RUNBOOK-002).`
            : `No busy timeout set: ${db.driver === 'sqlite3' ? 'node-sqlite3 waits only 1000 ms by default' : 'node:sqlite does not wait at all by default'}, so a concurrent write fails with "database is locked". Set busy_timeout = ${min} (RUNBOOK-002 option 2).`,
      });
    } else if (timeout !== undefined && Number.isFinite(timeout) && timeout < min) {
      findings.push({
        ...at,
        code: 'busy-timeout-low',
        severity: 'warning',
        message: `The busy timeout is ${timeout} ms, below ${min} ms: writes give up with "database is locked" under load. Raise it to ${min} (RUNBOOK-002 option 2).`,
      });
    }
    const sync = db.synchronous?.value.toUpperCase();
    if ((mode === 'wal' || !db.journalMode) && sync !== 'NORMAL' && sync !== '1') {
      findings.push({
        ...at,
        code: 'synchronous-not-normal',
        severity: 'information',
        message: `In WAL mode synchronous = NORMAL is safe (no corruption on crash) and much faster than the default FULL; set it after enabling WAL (RUNBOOK-002 long-term fix).`,
      });
    }
  });
  return findings;
}
