// A health report with the lock monitor's last minutes added: its summary, and its
// findings among the inspector's, worst first, with `healthy` derived as the inspector
// derives it (reachable, and no finding worse than info: isHealthy in findings.ts). Pure.
import { monitorFindings } from '../engine';
import type { FindingCode, HealthReport, Severity } from '../shared/model';
import type { MonitorSummary } from '../shared/monitorModel';

/** The lock monitor's figures in a health report cover this much of the past. */
export const MONITOR_SUMMARY_MS = 5 * 60_000;

const MONITOR_CODES: ReadonlySet<FindingCode> = new Set(['long-transaction', 'lock-contention', 'write-saturation']);
const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Idempotent: a report that already carries the monitor's findings has them replaced. */
export function withMonitor(r: HealthReport, monitor: MonitorSummary): HealthReport {
  const findings = [...r.findings.filter((f) => !MONITOR_CODES.has(f.code)), ...monitorFindings(monitor)];
  // A stable sort: the inspector's order holds within each severity.
  findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  return { ...r, monitor, findings, healthy: r.reachable && findings.every((f) => f.severity === 'info') };
}
