// Plain text edits over a file's text: merging the edits of several fixes, and applying them.
import type { TextEditSpan } from './lintTypes';

/** Several fixes may insert at one point (two DBs in one statement block): keep them in order, once. */
export function mergeEdits(edits: TextEditSpan[]): TextEditSpan[] {
  const seen = new Set<string>();
  return edits
    .filter((e) => {
      const k = `${e.start}:${e.end}:${e.newText}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.start - b.start);
}

/** Applies non-overlapping edits (tests, the CLI). */
export function applyEdits(text: string, edits: TextEditSpan[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}
