// What the lock monitor's figures mean for the user, as findings beside the health
// check's: the proxy's own transactions hold the write lock long (RUNBOOK-002's "review
// transaction size"), another process keeps blocking it, or the write lock is busy most
// of the time (the runbook's last resort: PostgreSQL for very high load). Every message
// carries the measured figures and the sampling rate they were measured at. Pure.
import type { Finding, FixId } from '../../shared/model';
import type { MonitorSummary } from '../../shared/monitorModel';

/** The proxy holding the write lock this long in one go is a big or slow transaction. */
export const LONG_TRANSACTION_MS = 1000;
/** Another process blocking the proxy this often, or this long in total, is contention worth a finding. */
export const CONTENTION_HOLDS = 3;
export const CONTENTION_MS = 2000;
/** The write lock taken this share of a window... */
export const SATURATION_SHARE = 0.8;
/** ...of at least this length: a short burst of writes is not a saturated database. */
export const SATURATION_MIN_WINDOW_MS = 30_000;

function secs(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function span(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

function rate(s: MonitorSummary): string {
  const every = Math.round(1000 / s.sampleHz);
  return `sampled ${Number.isInteger(s.sampleHz) ? s.sampleHz : s.sampleHz.toFixed(1)} times a second; holds shorter than ${every} ms can be missed`;
}

/**
 * Findings from the last minutes of sampling. Long transactions and contention are history
 * and advice, so they are `info`: they show in the tree and the report but never hold the
 * status bar on a warning after the cause is gone (a blocker holding a lock right now is
 * the inspector's `lock-held` / `stuck-writer`, and lock errors are `lock-errors-in-log`).
 * Saturation is the state of the current load, so it is a warning.
 */
export function monitorFindings(s: MonitorSummary): Finding[] {
  const out: Finding[] = [];
  const last = `in the last ${span(s.windowMs)}`;

  if (s.proxyLongestWriteMs >= LONG_TRANSACTION_MS) {
    out.push({
      code: 'long-transaction',
      severity: 'info',
      title: `The proxy held the write lock for ${secs(s.proxyLongestWriteMs)}`,
      message:
        `${last[0].toUpperCase()}${last.slice(1)} the proxy itself held the write lock for up to ${secs(s.proxyLongestWriteMs)} in one go (${rate(s)}). ` +
        `Every other writer, and in rollback-journal mode every reader, waits that long. A big or slow transaction does this: ` +
        `review transaction size and break up large transactions (RUNBOOK-002, Escalation), and keep slow work (network calls, parsing) outside them.`,
      fixes: [],
    });
  }

  const contenders = s.blockers.filter((b) => b.holds >= CONTENTION_HOLDS || b.blockedMs >= CONTENTION_MS);
  if (contenders.length) {
    const top = contenders[0];
    const named = contenders
      .slice(0, 3)
      .map(
        (b) =>
          `PID ${b.pid} (${b.holder}) held ${b.locks?.length ? b.locks.join('/') : 'a blocking lock'} ${b.holds} time${b.holds === 1 ? '' : 's'}, ${secs(b.blockedMs)} in all`,
      )
      .join('; ');
    const more = contenders.length > 3 ? `; ${contenders.length - 3} more` : '';
    const errors = s.lockErrors > 0 ? ` The proxy logged ${s.lockErrors} lock error${s.lockErrors === 1 ? '' : 's'} meanwhile.` : '';
    const readers = s.wal === false && contenders.some((b) => b.locks?.includes('SHARED'));
    const fixes: FixId[] = ['showHolders', 'killBlocker'];
    if (s.wal === false) fixes.unshift('enableWal');
    out.push({
      code: 'lock-contention',
      severity: 'info',
      title: `PID ${top.pid} (${top.holder}) blocked the proxy for ${secs(top.blockedMs)}`,
      message:
        `${last[0].toUpperCase()}${last.slice(1)} other processes kept the proxy from committing for ${secs(s.proxyBlockedMs)}: ${named}${more} (${rate(s)}).${errors} ` +
        (readers
          ? 'In rollback-journal mode even a reader stops the proxy from committing: enable WAL so readers no longer block it, and keep transactions in scripts and notebooks short. '
          : 'Keep transactions in scripts, notebooks and shells short (commit or roll back promptly), or stop the process. ') +
        `Stop it only if it is yours to stop.`,
      fixes,
      pids: contenders.map((b) => b.pid),
    });
  }

  if (s.windowMs >= SATURATION_MIN_WINDOW_MS && s.writeLockUtilisation >= SATURATION_SHARE) {
    const pct = Math.round(s.writeLockUtilisation * 100);
    const walHint = s.wal === false ? ' Enable WAL first: its commits are shorter, and readers stop competing with the writer.' : '';
    out.push({
      code: 'write-saturation',
      severity: 'warning',
      title: `The write lock was held ${pct}% of the time`,
      message:
        `${last[0].toUpperCase()}${last.slice(1)} the write lock (RESERVED and up, or the WAL write lock) was held ${pct}% of the time, ` +
        `at ${s.commitsPerSecond.toFixed(1)} commits/s (${rate(s)}): at this load the database is close to the most it can write, and every ` +
        `further writer waits.${walHint} Batch several traces per transaction and keep transactions short; if the load is meant to grow, ` +
        `consider PostgreSQL for very high load (RUNBOOK-002, Escalation).`,
      fixes: s.wal === false ? ['enableWal'] : [],
    });
  }
  return out;
}
