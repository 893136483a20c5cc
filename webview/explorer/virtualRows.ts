// The list's rows, virtualised: a spacer as tall as every row kept, and only the rows in
// view (and a few around them) as elements, so a list of thousands keeps a few dozen
// nodes. Below the rows: the list's state when it is not simply rows (loading, empty, an
// error that stays) or "Load more".
import type { TraceRow } from '../../src/shared/protocol';
import { COLUMNS } from './columns';
import { formatTime, h, highlight, rowCells, searchTerms } from './render';

export const ROW_HEIGHT = 24;

export type ListStatus = 'idle' | 'loading' | 'loaded' | 'empty' | 'error';

export interface RowsState {
  rows: readonly TraceRow[];
  selected: number;
  /** Rows dropped above the first one kept: the rows' aria-rowindex counts them. */
  dropped: number;
  status: ListStatus;
  error?: string;
  hasMore: boolean;
  /** A query is in flight: "Load more" says "Loading…". */
  busy: boolean;
  filtered: boolean;
  search?: string;
  /** Highlight only at word starts, as the full-text index matches. */
  wordStart: boolean;
}

export interface RowsActions {
  /** The pointer went down on row `index`, whose id is `id` as the user saw it. */
  pick(index: number, id: string): void;
  loadMore(): void;
  scrolled(): void;
}

export class VirtualRows {
  readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly layer: HTMLElement;

  constructor(
    private readonly d: Document,
    actions: RowsActions,
  ) {
    this.layer = h(d, 'div', 'rows');
    this.layer.setAttribute('role', 'rowgroup');
    this.spacer = h(d, 'div', 'spacer', this.layer);
    this.spacer.setAttribute('role', 'presentation');
    this.viewport = h(d, 'div', 'viewport', this.spacer);
    this.viewport.setAttribute('role', 'presentation');

    this.layer.addEventListener('pointerdown', (e) => {
      if (e.button > 0) return;
      const row = (e.target as Element).closest?.<HTMLElement>('.row[data-index]');
      const id = row?.dataset.id;
      // The id comes from the row under the pointer, read now; nothing changes the list
      // before the detail request goes out.
      if (row && id) actions.pick(Number(row.dataset.index), id);
    });
    this.layer.addEventListener('click', (e) => {
      if ((e.target as Element).closest?.('button.load-more')) actions.loadMore();
    });
    this.viewport.addEventListener('scroll', () => actions.scrolled());
  }

  /** Renders the rows in view; returns the element id of the selected row when it is one of them. */
  render(s: RowsState): string | undefined {
    const message = this.statusMessage(s);
    const tail = message ? 3 : s.hasMore ? 1 : 0;
    this.spacer.style.height = `${(s.rows.length + tail) * ROW_HEIGHT}px`;
    const top = this.scrollTop;
    const height = this.viewport.clientHeight || 20 * ROW_HEIGHT;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - 5);
    const end = Math.min(s.rows.length, first + Math.ceil(height / ROW_HEIGHT) + 10);
    const terms = searchTerms(s.search);
    const nodes: HTMLElement[] = [];
    for (let i = first; i < end; i++) nodes.push(this.rowElement(s, i, terms));
    if (message) nodes.push(message);
    else if (s.hasMore && end >= s.rows.length) nodes.push(this.moreRow(s));
    this.layer.replaceChildren(...nodes);
    const sel = s.selected >= 0 ? `trace-row-${s.selected}` : '';
    return sel && nodes.some((n) => n.id === sel) ? sel : undefined;
  }

  get scrollTop(): number {
    return this.viewport.scrollTop || 0;
  }

  /** Moves the view by `rows` rows: rows added or dropped above stay where the user reads them. */
  shift(rows: number): void {
    this.viewport.scrollTop = this.scrollTop + rows * ROW_HEIGHT;
  }

  /** The first row in view. */
  firstVisible(): number {
    return Math.floor(this.scrollTop / ROW_HEIGHT);
  }

  /** Within `rows` rows of the end of `total`. */
  nearEnd(total: number, rows: number): boolean {
    return this.scrollTop + (this.viewport.clientHeight || 0) > (total - rows) * ROW_HEIGHT;
  }

  /** Within `rows` rows of the top. */
  nearTop(rows: number): boolean {
    return this.scrollTop < rows * ROW_HEIGHT;
  }

  /** Scrolls just enough to show row i. */
  reveal(i: number): void {
    const top = i * ROW_HEIGHT;
    const vp = this.viewport;
    const height = vp.clientHeight || 0;
    if (top < this.scrollTop) vp.scrollTop = top;
    else if (height && top + ROW_HEIGHT > vp.scrollTop + height) vp.scrollTop = top + ROW_HEIGHT - height;
  }

  /** Rows in a page, for PageUp and PageDown. */
  pageSize(): number {
    return Math.max(1, Math.floor((this.viewport.clientHeight || 0) / ROW_HEIGHT) - 1);
  }

  private rowElement(s: RowsState, i: number, terms: string[]): HTMLElement {
    const r = s.rows[i];
    const d = this.d;
    const cells = rowCells(r).map((text, j) => {
      const c = COLUMNS[j];
      const cell = j === COLUMNS.length - 1 ? h(d, 'span', `col ${c.cls}`, ...highlight(d, text, terms, s.wordStart)) : h(d, 'span', `col ${c.cls}`, text);
      cell.setAttribute('role', 'gridcell');
      if (j === 0) cell.title = formatTime(r.timestamp);
      else if (text.length > 12) cell.title = text;
      return cell;
    });
    const row = h(d, 'div', `row${i === s.selected ? ' selected' : ''}${r.status === 'error' ? ' error' : ''}`, ...cells);
    row.id = `trace-row-${i}`;
    row.style.top = `${i * ROW_HEIGHT}px`;
    row.setAttribute('role', 'row');
    row.setAttribute('aria-rowindex', String(s.dropped + i + 2));
    row.setAttribute('aria-selected', String(i === s.selected));
    row.dataset.index = String(i);
    row.dataset.id = r.id;
    return row;
  }

  /** The list's state when it is not simply rows: loading, empty, or an error that stays. */
  private statusMessage(s: RowsState): HTMLElement | undefined {
    const d = this.d;
    let content: HTMLElement | undefined;
    if (s.status === 'loading' && !s.rows.length) content = h(d, 'div', 'empty', 'Loading…');
    else if (s.status === 'error') content = h(d, 'div', 'list-error', s.error ?? 'The query failed.');
    else if (s.status === 'empty') {
      const text = s.filtered ? 'No traces match these filters. Clear a filter or the search to see more.' : 'No traces yet: the proxy has not stored any.';
      const more = s.hasMore ? h(d, 'button', 'link load-more', 'Search further') : null;
      content = h(d, 'div', 'empty', text, more ? ' ' : null, more);
    }
    if (!content) return undefined;
    return this.tailRow(s, `status-row status-${s.status}`, content);
  }

  private moreRow(s: RowsState): HTMLElement {
    const d = this.d;
    return this.tailRow(s, 'status-row more', s.busy ? h(d, 'span', 'loading', 'Loading…') : h(d, 'button', 'link load-more', 'Load more'));
  }

  /** A full-width row below the last one. */
  private tailRow(s: RowsState, cls: string, content: HTMLElement): HTMLElement {
    content.setAttribute('role', 'gridcell');
    content.setAttribute('aria-colspan', String(COLUMNS.length));
    const row = h(this.d, 'div', cls, content);
    row.setAttribute('role', 'row');
    row.style.top = `${s.rows.length * ROW_HEIGHT}px`;
    return row;
  }
}
