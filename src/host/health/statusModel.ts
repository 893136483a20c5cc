// What the status bar item shows, computed from health reports. No `vscode` import: plain
// mocha tests cover every rule here; StatusBar only copies the model into VS Code objects.
import * as path from 'node:path';
import type { HealthReport } from '../../shared/protocol';
import { monitorLine, monitorNotable } from '../monitor/summaryText';
import { candidateDescription, otherCandidates, type DbEntry } from './dbEntry';

export type StatusLevel = 'ok' | 'warning' | 'error';

export interface StatusModel {
  visible: boolean;
  level: StatusLevel;
  /** With codicons, e.g. `$(database) traces.db · WAL`. */
  text: string;
  /** Markdown lines for the tooltip. */
  tooltip: string[];
  /** The folder whose state the item shows (the worst one). */
  entry?: DbEntry;
}

const LEVEL_RANK: Record<StatusLevel, number> = { error: 0, warning: 1, ok: 2 };

/**
 * A lock stuck right now (held across two looks a second apart), or a DB that cannot be
 * read, is an error; not WAL is a warning. A lock seen once is the proxy committing,
 * which a busy proxy does in half of all looks: it shows in the tree, not as an alarm.
 */
export function statusLevel(r: HealthReport): StatusLevel {
  if (!r.reachable && r.unreachableReason !== 'missing') return 'error';
  if (r.findings.some((f) => f.severity === 'error')) return 'error';
  if (r.findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'ok';
}

function statusCause(r: HealthReport): string {
  const name = path.basename(r.path);
  const stuck = r.findings.find((f) => f.code === 'stuck-writer' || f.code === 'long-reader');
  if (stuck) return `${name}: locked by PID ${stuck.pids?.join(', ')}`;
  if (!r.reachable) return `${name}: ${r.unreachableReason?.replace(/-/g, ' ')}`;
  const err = r.findings.find((f) => f.severity === 'error');
  if (err) return `${name}: ${err.title}`;
  if (r.journalMode !== 'wal') return `${name}: not WAL`;
  const warn = r.findings.find((f) => f.severity === 'warning');
  return warn ? `${name}: ${warn.title}` : `${name} · WAL`;
}

/**
 * Plain text for the status tooltip, which is trusted markdown with command links: a
 * folder or file named `[x](command:tracedb.killBlocker)` must read as that name, not
 * become a link; `$(…)` must not become an icon; a newline must not start a block.
 */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]()<>#+\-.!|~$&:]/g, (c) => `\\${c}`);
}

export function statusModel(entries: DbEntry[]): StatusModel {
  // Hidden when no folder has a trace DB: a missing file is not worth a status item.
  const present = entries.filter((entry) => entry.report && entry.report.unreachableReason !== 'missing');
  if (!present.length) return { visible: false, level: 'ok', text: '', tooltip: [] };
  const worst = [...present].sort((a, b) => LEVEL_RANK[statusLevel(a.report!)] - LEVEL_RANK[statusLevel(b.report!)])[0];
  const r = worst.report!;
  const level = statusLevel(r);
  const icon = level === 'ok' ? '$(database)' : level === 'warning' ? '$(warning)' : '$(error)';
  const tooltip: string[] = [];
  for (const entry of present) {
    const er = entry.report!;
    // Names and titles come from the file system and the DB: escaped, never markup.
    const prefix = present.length > 1 ? `**${escapeMarkdown(entry.folderName)}**: ` : '';
    tooltip.push(
      `${prefix}${escapeMarkdown(statusCause(er))}${er.traceCount ? ` · ${er.traceCount.estimate ? '≈' : ''}${er.traceCount.value.toLocaleString('en-US')} traces` : ''}`,
    );
    for (const f of er.findings.filter((x) => x.severity !== 'info').slice(0, 4))
      tooltip.push(`- ${f.severity === 'error' ? '$(error)' : '$(warning)'} ${escapeMarkdown(f.title)}`);
    // The lock monitor's last minutes, only when they hold news: blocking, lock errors, a busy write lock.
    if (er.monitor && monitorNotable(er.monitor)) tooltip.push(`- $(pulse) ${escapeMarkdown(monitorLine(er.monitor))}`);
    const others = otherCandidates(entry);
    if (others.length)
      tooltip.push(`- $(search) Also found: ${others.map((c) => `${escapeMarkdown(c.dbPath)} (${escapeMarkdown(candidateDescription(c))})`).join(', ')}`);
  }
  return { visible: true, level, text: `${icon} ${statusCause(r)}`, tooltip, entry: worst };
}
