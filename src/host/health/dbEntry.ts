// The host's core model: one workspace folder's watched trace database, what was found
// around it, and its latest health report. No `vscode` import, like the models built on it.
import type { DbCandidate, HealthReport } from '../../shared/protocol';

export interface DbEntry {
  folderUri: string;
  folderName: string;
  dbPath: string;
  logPath?: string;
  /** False when no log file exists: the proxy logs to stdout. */
  logExists?: boolean;
  /** Every trace DB found for the folder, best first. */
  candidates?: DbCandidate[];
  chosenBy?: 'setting' | 'remembered' | 'discovered';
  report?: HealthReport;
}

const SOURCE_TEXT: Record<DbCandidate['source'], string> = {
  'proxy-open': 'open by the running proxy',
  env: 'TRACEFORGE_SQLITE_PATH',
  'proxy-dir': "the proxy's folder (packages/proxy)",
  root: 'the repository root',
  found: 'found in the workspace',
};

/** One line on where a candidate DB comes from and whether it is there. */
export function candidateDescription(c: DbCandidate): string {
  const parts = [c.openByProxy.length ? `open by the proxy (PID ${c.openByProxy.join(', ')})` : SOURCE_TEXT[c.source]];
  if (!c.exists) parts.push('not created yet');
  return parts.join(' · ');
}

/** The other databases found for the folder that exist: the ones it could watch instead. */
export function otherCandidates(entry: DbEntry): DbCandidate[] {
  return (entry.candidates ?? []).filter((c) => c.exists && c.dbPath !== entry.dbPath);
}
