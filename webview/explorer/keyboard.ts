// The explorer's keys: / to search, Escape back to the list or to close the detail, and
// on the list arrows, j/k, PageUp/PageDown, Home and Enter. Keys typed into a control,
// on a button or inside the detail keep their own meaning.
import type { DetailPane } from './detailPane';
import type { Toolbar } from './toolbar';
import type { TraceList } from './traceList';

export interface KeyTargets {
  toolbar: Toolbar;
  list: TraceList;
  detail: DetailPane;
}

export function bindKeyboard(d: Document, { toolbar, list, detail }: KeyTargets): void {
  d.addEventListener('keydown', (e) => {
    const target = e.target as Element | null;
    const tag = target?.tagName ?? '';
    const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA';
    if (e.key === '/' && !typing) {
      e.preventDefault();
      toolbar.focusSearch();
      return;
    }
    if (typing) {
      if (e.key === 'Escape') list.grid.focus();
      return;
    }
    if (e.key === 'Escape' && detail.isOpen) {
      detail.close();
      return;
    }
    if (tag === 'BUTTON' || tag === 'SUMMARY' || (target && detail.element.contains(target))) return;
    const page = list.pageSize();
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, j: 1, k: -1 };
    if (e.key in moves) {
      e.preventDefault();
      list.move(moves[e.key]);
    } else if (e.key === 'Home') {
      e.preventDefault();
      list.select(0);
    } else if (e.key === 'Enter' && list.selected >= 0) {
      e.preventDefault();
      if (!detail.isOpen) void detail.show(list.rows[list.selected].id);
      detail.element.focus();
    }
  });
}
