// The lock monitor's last minutes in one line, for the health tree's Locks section and
// the status bar's tooltip: "Last 5 min @1 Hz: proxy blocked 6.2 s by PID 21898 (python3
// notebook.py); write lock 12% busy; 38 commits/s". No `vscode` import: plain mocha tests
// cover it.
import type { MonitorSummary } from '../../shared/monitorModel';

/** Blocking this long in the window is worth a line in the status bar's tooltip. */
export const NOTABLE_BLOCKED_MS = 500;
/** So is the write lock taken this share of the time, or the proxy holding it this long in one go. */
export const NOTABLE_UTILISATION = 0.5;
export const NOTABLE_WRITE_MS = 1000;

function secs(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function hz(rate: number): string {
  return `${Number.isInteger(rate) ? rate : rate.toFixed(1)} Hz`;
}

function perSecond(n: number): string {
  return n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1);
}

/** "Last 5 min @1 Hz": the window and the rate its figures were sampled at. */
export function monitorHeading(s: MonitorSummary): string {
  const window = s.windowMs >= 60_000 ? `${Math.round(s.windowMs / 60_000)} min` : `${Math.round(s.windowMs / 1000)} s`;
  return `Last ${window} @${hz(s.sampleHz)}`;
}

/** "proxy blocked 6.2 s by PID 21898 (python3 notebook.py); write lock 12% busy; 38 commits/s". */
export function monitorFigures(s: MonitorSummary): string {
  const parts: string[] = [];
  const top = s.blockers[0];
  if (s.proxyBlockedMs > 0 && top) {
    const others = s.blockers.length - 1;
    parts.push(`proxy blocked ${secs(s.proxyBlockedMs)} by PID ${top.pid} (${top.holder})${others ? ` and ${others} other${others === 1 ? '' : 's'}` : ''}`);
  } else parts.push('proxy never blocked');
  parts.push(`write lock ${Math.round(s.writeLockUtilisation * 100)}% busy`);
  parts.push(`${perSecond(s.commitsPerSecond)} commits/s`);
  if (s.lockErrors > 0) parts.push(`${s.lockErrors} lock error${s.lockErrors === 1 ? '' : 's'}`);
  if (s.proxyLongestWriteMs >= NOTABLE_WRITE_MS) parts.push(`proxy held the write lock up to ${secs(s.proxyLongestWriteMs)}`);
  return parts.join('; ');
}

export function monitorLine(s: MonitorSummary): string {
  return `${monitorHeading(s)}: ${monitorFigures(s)}`;
}

/** What sampling can miss, said beside the figures. */
export function samplingNote(s: MonitorSummary): string {
  return `Sampled ${hz(s.sampleHz)} from /proc/locks: holds shorter than ${Math.round(1000 / s.sampleHz)} ms can be missed.`;
}

/** Something the user would want to know without opening the tree: blocking, lock errors, a busy or long-held write lock. */
export function monitorNotable(s: MonitorSummary): boolean {
  return (
    s.proxyBlockedMs >= NOTABLE_BLOCKED_MS || s.lockErrors > 0 || s.writeLockUtilisation >= NOTABLE_UTILISATION || s.proxyLongestWriteMs >= NOTABLE_WRITE_MS
  );
}
