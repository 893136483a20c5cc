// What the explorer keeps across reloads in the webview state (vscode.setState), read
// back defensively: the state may come from an older version of the page.
import type { SortDir, TraceFilter, TraceSort } from '../../src/shared/protocol';

export interface SavedState {
  /** Read by the host's serializer to reopen this panel on its DB after a reload. */
  panelDbPath?: string;
  filter: TraceFilter;
  sort: TraceSort;
  dir: SortDir;
  selectedId?: string;
  widths?: number[];
}

export const SORTS: readonly TraceSort[] = ['time', 'latency', 'tokens'];

export function readSaved(raw: unknown): SavedState {
  const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<SavedState>;
  return {
    panelDbPath: typeof s.panelDbPath === 'string' ? s.panelDbPath : undefined,
    filter: typeof s.filter === 'object' && s.filter !== null ? s.filter : {},
    sort: SORTS.includes(s.sort as TraceSort) ? (s.sort as TraceSort) : 'time',
    dir: s.dir === 'asc' ? 'asc' : 'desc',
    selectedId: typeof s.selectedId === 'string' ? s.selectedId : undefined,
    widths: Array.isArray(s.widths) ? s.widths.filter((w): w is number => typeof w === 'number') : undefined,
  };
}
