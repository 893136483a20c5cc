// The fixes that apply to the current findings, as the fix picker offers them. Every
// FixId has a command (fixCommand in src/shared/commandIds.ts would not compile otherwise).
// No `vscode` import: plain mocha tests cover every rule here.
import { FIX_ICONS, FIX_TITLES } from '../../shared/labels';
import type { Finding, FixId } from '../../shared/protocol';
import type { DbEntry } from './dbEntry';

export interface FixChoice {
  fix: FixId;
  title: string;
  /** A codicon id. */
  icon: string;
  /** The finding it answers (the picker's separator): its title, with the folder in multi-root. */
  reason: string;
  entry: DbEntry;
}

/**
 * The fixes that apply to the current findings, most urgent finding first, Enable WAL
 * first of all. Each fix once per folder, under the first finding that asks for it;
 * never Enable WAL for a database already in WAL mode.
 */
export function fixChoices(entries: DbEntry[]): FixChoice[] {
  const out: FixChoice[] = [];
  const seen = new Set<string>();
  const multi = entries.length > 1;
  const add = (fix: FixId, f: Finding, entry: DbEntry) => {
    const key = `${entry.folderUri}|${fix}`;
    if (seen.has(key)) return;
    if (fix === 'enableWal' && entry.report?.journalMode === 'wal') return;
    seen.add(key);
    out.push({ fix, title: FIX_TITLES[fix], icon: FIX_ICONS[fix], reason: `${multi ? `${entry.folderName}: ` : ''}${f.title}`, entry });
  };
  for (const entry of entries) {
    const findings = entry.report?.findings ?? [];
    const notWal = findings.find((f) => f.code === 'not-wal');
    if (notWal) add('enableWal', notWal, entry);
    for (const f of findings) for (const fix of f.fixes) add(fix, f, entry);
  }
  return out;
}
