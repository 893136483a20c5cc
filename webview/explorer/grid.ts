// The trace list: an accessible, virtualised grid over keyset pages, with one state
// machine for its queries. What the user reads never moves by itself: new traces are
// announced by a pill and loaded only when the user asks (issue 10), so no list change
// can happen between a pointer-down on a row and the detail request for that row, and
// no query runs unless the user did something (issue 11: on a rollback-journal DB every
// read holds SHARED and makes the proxy wait).
import type { TraceFilter, TracePage, UnsentRequest } from '../../src/shared/webviewProtocol';
import type { SortDir, TraceCursor, TraceRow, TraceSort } from '../../src/shared/protocol';
import { formatTime, h, highlight, rowCells, searchTerms } from './render';

export const ROW_HEIGHT = 24;
const PAGE = 100;
/** The list keeps at most this many rows in memory; it re-fetches what scrolled far away. */
const MAX_ROWS = 3000;
const MIN_WIDTH = 40;

interface Column {
  label: string;
  cls: string;
  width: number;
  sort?: TraceSort;
}
export const COLUMNS: readonly Column[] = [
  { label: 'Time', cls: 'col-time', width: 120, sort: 'time' },
  { label: 'Model', cls: 'col-model', width: 130 },
  { label: 'Endpoint', cls: 'col-endpoint', width: 150 },
  { label: 'Status', cls: 'col-status', width: 64 },
  { label: 'Latency', cls: 'col-latency', width: 96, sort: 'latency' },
  { label: 'Tokens', cls: 'col-tokens', width: 86, sort: 'tokens' },
  { label: 'Session', cls: 'col-session', width: 110 },
  // The last column takes the rest of the width; this is its minimum.
  { label: 'Prompt', cls: 'col-prompt', width: 220 },
];

/** What the direction button says for each order. */
export function dirLabel(sort: TraceSort, dir: SortDir): string {
  const words: Record<TraceSort, [string, string]> = { time: ['newest', 'oldest'], latency: ['slowest', 'fastest'], tokens: ['most', 'fewest'] };
  return dir === 'desc' ? `↓ ${words[sort][0]}` : `↑ ${words[sort][1]}`;
}

export type ListStatus = 'idle' | 'loading' | 'loaded' | 'empty' | 'error';

export interface ListQuery {
  filter: TraceFilter;
  sort: TraceSort;
  dir: SortDir;
}

export interface ListHost {
  request<T>(m: UnsentRequest): Promise<T>;
  /** A row was chosen; `id` is the row's, read when the pointer went down. */
  onSelect(id: string): void;
  /** A column header asked for another order. */
  onSort(sort: TraceSort, dir: SortDir): void;
  /** Something worth keeping across reloads changed (widths, selection). */
  onStateChange(): void;
}

type Answer = { page: TracePage } | { error: string };

export class TraceList {
  readonly element: HTMLElement;
  readonly grid: HTMLElement;
  readonly viewport: HTMLElement;
  private readonly rowsLayer: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly headerRow: HTMLElement;
  private readonly headerCells: HTMLElement[];
  private readonly countEl: HTMLElement;
  private readonly countBtn: HTMLButtonElement;
  private readonly noticeEl: HTMLElement;
  readonly pill: HTMLButtonElement;

  status: ListStatus = 'idle';
  error?: string;
  rows: TraceRow[] = [];
  selected = -1;
  selectedId?: string;
  widths: number[];
  query: ListQuery = { filter: {}, sort: 'time', dir: 'desc' };

  private hasMore = false;
  private after?: TraceCursor;
  /** Rows dropped above the first one kept (scrolling up fetches them again). */
  private dropped = 0;
  /** Rows fetched since the last reload: shown to tests and the benchmark. */
  private loaded = 0;
  /** Sequence number of the latest list query: only its answer renders. */
  private seq = 0;
  /** The query in flight, 0 when none. */
  private busy = 0;
  /** Bumped by each reload: a count answered for an older list is not shown. */
  private generation = 0;
  private newData = false;
  private estimate?: number;
  private exactCount?: number;
  private counting = false;
  private wordStart = true;

  constructor(
    private readonly d: Document,
    private readonly host: ListHost,
    widths?: number[],
  ) {
    this.widths = COLUMNS.map((c, i) => (widths && Number.isFinite(widths[i]) ? Math.max(MIN_WIDTH, widths[i]) : c.width));

    this.countEl = h(d, 'span', 'count');
    this.countBtn = h(d, 'button', 'link', 'count exactly') as HTMLButtonElement;
    this.countBtn.title = 'Run COUNT(*) with these filters (reads the whole table)';
    this.countBtn.addEventListener('click', () => void this.countExactly());
    this.noticeEl = h(d, 'span', 'list-notice');
    // The pill lives in the bar above the header, whose height never changes: showing it moves no row.
    this.pill = h(d, 'button', 'new-pill') as HTMLButtonElement;
    this.pill.hidden = true;
    this.pill.title = 'Load the traces stored since this list was loaded';
    this.pill.addEventListener('click', () => void this.reload());
    const refresh = h(d, 'button', 'link refresh', '⟳ Refresh') as HTMLButtonElement;
    refresh.title = 'Query the list again';
    refresh.addEventListener('click', () => void this.reload());
    // Announced when it appears; the count, which moves every poll, is not.
    const pillSlot = h(d, 'span', 'pill-slot', this.pill);
    pillSlot.setAttribute('aria-live', 'polite');
    const bar = h(d, 'div', 'list-bar', pillSlot, this.countEl, this.countBtn, this.noticeEl, h(d, 'span', 'spacer-flex'), refresh);

    this.headerCells = COLUMNS.map((c, j) => this.headerCell(c, j));
    this.headerRow = h(d, 'div', 'list-header', ...this.headerCells);
    this.headerRow.setAttribute('role', 'row');
    this.headerRow.setAttribute('aria-rowindex', '1');
    const headerClip = h(d, 'div', 'header-clip', this.headerRow);
    headerClip.setAttribute('role', 'rowgroup');

    this.rowsLayer = h(d, 'div', 'rows');
    this.rowsLayer.setAttribute('role', 'rowgroup');
    this.spacer = h(d, 'div', 'spacer', this.rowsLayer);
    this.spacer.setAttribute('role', 'presentation');
    this.viewport = h(d, 'div', 'viewport', this.spacer);
    this.viewport.setAttribute('role', 'presentation');
    this.grid = h(d, 'div', 'grid', headerClip, this.viewport);
    this.grid.tabIndex = 0;
    this.grid.setAttribute('role', 'grid');
    this.grid.setAttribute('aria-label', 'Traces');
    this.grid.setAttribute('aria-colcount', String(COLUMNS.length));
    this.grid.setAttribute('aria-rowcount', '-1');
    this.element = h(d, 'div', 'list', bar, this.grid);

    this.rowsLayer.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    this.rowsLayer.addEventListener('click', (e) => {
      const more = (e.target as Element).closest?.('button.load-more');
      if (more) void this.fetchMore();
    });
    this.viewport.addEventListener('scroll', () => this.onScroll());
    this.applyWidths();
    this.renderBar();
  }

  // ------------------------------------------------------------ queries

  setQuery(q: ListQuery, hasFts = true): void {
    this.query = q;
    this.wordStart = hasFts;
    this.exactCount = undefined;
    for (const [j, c] of COLUMNS.entries()) {
      const cell = this.headerCells[j];
      if (!c.sort) continue;
      cell.setAttribute('aria-sort', c.sort === q.sort ? (q.dir === 'desc' ? 'descending' : 'ascending') : 'none');
      cell.classList.toggle('sorted', c.sort === q.sort);
      const arrow = cell.querySelector('.sort-arrow');
      if (arrow) arrow.textContent = c.sort === q.sort ? (q.dir === 'desc' ? ' ↓' : ' ↑') : '';
    }
  }

  private async run(extra: { after?: TraceCursor; before?: TraceCursor }): Promise<{ seq: number; answer?: Answer }> {
    const seq = ++this.seq;
    this.busy = seq;
    try {
      const page = await this.host.request<TracePage>({ type: 'query', params: { filter: this.query.filter, sort: this.query.sort, dir: this.query.dir, limit: PAGE, ...extra } });
      return seq === this.seq ? { seq, answer: { page } } : { seq };
    } catch (e) {
      return seq === this.seq ? { seq, answer: { error: (e as Error).message } } : { seq };
    } finally {
      if (this.busy === seq) this.busy = 0;
    }
  }

  /** The first page for the current query; what was shown stays (dimmed) until it answers. */
  async reload(): Promise<void> {
    this.generation++;
    this.newData = false;
    this.exactCount = undefined;
    this.status = 'loading';
    this.error = undefined;
    this.render();
    const { answer } = await this.run({});
    // A newer query superseded this one: its answer is the one that renders.
    if (!answer) return;
    this.rows = [];
    this.loaded = 0;
    this.dropped = 0;
    this.selected = -1;
    this.viewport.scrollTop = 0;
    if ('error' in answer) {
      this.status = 'error';
      this.error = answer.error;
      this.hasMore = false;
      this.noticeEl.textContent = '';
    } else {
      const p = answer.page;
      this.rows = p.rows.slice();
      this.loaded = p.rows.length;
      this.hasMore = p.hasMore;
      this.after = p.cursor;
      this.status = p.rows.length ? 'loaded' : 'empty';
      this.setNotice(p.notice);
      const i = this.selectedId ? this.rows.findIndex((r) => r.id === this.selectedId) : -1;
      if (i >= 0) this.selected = i;
    }
    this.render();
  }

  async fetchMore(): Promise<void> {
    if (this.busy || !this.hasMore || (this.status !== 'loaded' && this.status !== 'empty')) return;
    const after = this.after ?? (this.rows.length ? this.keyOf(this.rows[this.rows.length - 1]) : undefined);
    const pending = this.run(after ? { after } : {});
    this.render();
    const { answer } = await pending;
    if (!answer) return;
    if ('error' in answer) {
      this.status = 'error';
      this.error = answer.error;
      this.hasMore = false;
    } else {
      const p = answer.page;
      this.rows.push(...p.rows);
      this.loaded += p.rows.length;
      this.hasMore = p.hasMore;
      this.after = p.cursor ?? this.after;
      if (p.notice) this.setNotice(p.notice);
      this.status = this.rows.length ? 'loaded' : 'empty';
      this.trimAbove();
    }
    this.render();
  }

  /** Re-fetches rows dropped above by trimAbove, as the user scrolls back up. */
  private async fetchDropped(): Promise<void> {
    if (this.busy || !this.dropped || !this.rows.length || this.status !== 'loaded') return;
    const { answer } = await this.run({ before: this.keyOf(this.rows[0]) });
    if (!answer || 'error' in answer || !answer.page.rows.length) return;
    const p = answer.page;
    this.rows.unshift(...p.rows);
    this.selected = this.selected >= 0 ? this.selected + p.rows.length : -1;
    this.dropped = p.hasMore ? Math.max(1, this.dropped - p.rows.length) : 0;
    // Prepend without moving what the user reads.
    this.viewport.scrollTop = (this.viewport.scrollTop || 0) + p.rows.length * ROW_HEIGHT;
    this.render();
  }

  private keyOf(r: TraceRow): TraceCursor {
    const s = this.query.sort;
    return { key: s === 'time' ? r.timestamp : s === 'latency' ? r.latencyMs : r.tokens, rowid: r.rowid };
  }

  private trimAbove(): void {
    const excess = this.rows.length - MAX_ROWS;
    if (excess <= 0) return;
    const firstVisible = Math.floor((this.viewport.scrollTop || 0) / ROW_HEIGHT);
    const drop = Math.min(excess, Math.max(0, firstVisible - PAGE));
    if (drop <= 0) return;
    this.rows.splice(0, drop);
    this.selected = this.selected >= drop ? this.selected - drop : -1;
    this.dropped += drop;
    this.viewport.scrollTop = (this.viewport.scrollTop || 0) - drop * ROW_HEIGHT;
  }

  // ------------------------------------------------------------ live data and counts

  /** Someone committed: say so, query nothing, change no row. */
  markNewData(estimate?: number): void {
    if (estimate !== undefined) this.estimate = estimate;
    this.newData = true;
    this.renderBar();
  }

  setEstimate(n: number | undefined): void {
    this.estimate = n;
    this.renderBar();
  }

  private async countExactly(): Promise<void> {
    const gen = this.generation;
    this.counting = true;
    this.renderBar();
    try {
      const n = await this.host.request<number>({ type: 'count', filter: this.query.filter });
      if (gen === this.generation) this.exactCount = n;
    } catch (e) {
      if (gen === this.generation) this.setNotice((e as Error).message, true);
    } finally {
      this.counting = false;
      this.render();
    }
  }

  private filtered(): boolean {
    return Object.keys(this.query.filter).length > 0;
  }

  /** How many traces are newer than the newest row shown, when the health report's max(rowid) can say. */
  private newCount(): number | undefined {
    if (this.estimate === undefined || this.filtered() || this.query.sort !== 'time' || this.query.dir !== 'desc' || this.dropped || !this.rows.length) return undefined;
    const newest = Math.max(...this.rows.slice(0, PAGE).map((r) => r.rowid));
    const n = this.estimate - newest;
    return n > 0 ? n : undefined;
  }

  private renderBar(): void {
    const n = this.newCount();
    this.pill.hidden = !this.newData;
    this.pill.textContent = n === undefined ? '↑ New traces' : `↑ ${n.toLocaleString('en-US')} new trace${n === 1 ? '' : 's'}`;
    const fmt = (x: number) => x.toLocaleString('en-US');
    let text: string;
    if (this.counting) text = 'counting…';
    else if (this.exactCount !== undefined) text = this.filtered() ? `${fmt(this.exactCount)} matching` : `${fmt(this.exactCount)} traces`;
    else if (!this.filtered()) text = this.estimate !== undefined ? `≈ ${fmt(this.estimate)} traces` : '';
    else if (this.status === 'loaded' || this.status === 'empty') text = `${fmt(this.rows.length + this.dropped)}${this.hasMore ? '+' : ''} shown${this.estimate !== undefined ? ` of ≈ ${fmt(this.estimate)}` : ''}`;
    else text = '';
    this.countEl.textContent = text;
    this.countEl.title = this.exactCount !== undefined ? 'Exact COUNT(*)' : 'Estimate from the health check (max(rowid)); "count exactly" runs COUNT(*)';
    this.countBtn.hidden = this.exactCount !== undefined || this.counting;
    const total = this.exactCount !== undefined ? this.exactCount : !this.hasMore && (this.status === 'loaded' || this.status === 'empty') ? this.dropped + this.rows.length : undefined;
    this.grid.setAttribute('aria-rowcount', total === undefined ? '-1' : String(total + 1));
  }

  private setNotice(text: string | undefined, error = false): void {
    this.noticeEl.textContent = text ?? '';
    this.noticeEl.title = text ?? '';
    this.noticeEl.className = `list-notice${error ? ' error' : ''}`;
  }

  // ------------------------------------------------------------ columns

  private headerCell(c: Column, j: number): HTMLElement {
    const cell = h(this.d, 'div', `col ${c.cls}`);
    cell.setAttribute('role', 'columnheader');
    cell.setAttribute('aria-colindex', String(j + 1));
    if (c.sort) {
      const sort = c.sort;
      const b = h(this.d, 'button', 'sort', c.label, h(this.d, 'span', 'sort-arrow')) as HTMLButtonElement;
      b.title = `Sort by ${c.label.toLowerCase()}; click again to reverse`;
      b.addEventListener('click', () => {
        const dir: SortDir = this.query.sort === sort && this.query.dir === 'desc' ? 'asc' : 'desc';
        this.host.onSort(sort, dir);
      });
      cell.append(b);
      cell.setAttribute('aria-sort', 'none');
    } else {
      cell.append(h(this.d, 'span', 'label', c.label));
    }
    const grip = h(this.d, 'div', 'resizer');
    grip.setAttribute('aria-hidden', 'true');
    grip.title = 'Drag to resize; double-click for the default width';
    grip.addEventListener('pointerdown', (e) => this.startResize(e, j, grip));
    grip.addEventListener('dblclick', () => {
      this.widths[j] = COLUMNS[j].width;
      this.applyWidths();
      this.host.onStateChange();
    });
    cell.append(grip);
    return cell;
  }

  private startResize(e: PointerEvent, j: number, grip: HTMLElement): void {
    e.preventDefault();
    e.stopPropagation();
    const startX = e.clientX;
    const startW = this.widths[j];
    grip.setPointerCapture?.(e.pointerId);
    const move = (ev: PointerEvent) => {
      this.widths[j] = Math.max(MIN_WIDTH, Math.round(startW + ev.clientX - startX));
      this.applyWidths();
    };
    const up = () => {
      grip.removeEventListener('pointermove', move);
      grip.removeEventListener('pointerup', up);
      grip.removeEventListener('pointercancel', up);
      this.host.onStateChange();
    };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', up);
    grip.addEventListener('pointercancel', up);
  }

  private applyWidths(): void {
    const last = this.widths.length - 1;
    const cols = this.widths.map((w, i) => (i === last ? `minmax(${w}px, 1fr)` : `${w}px`)).join(' ');
    const total = this.widths.reduce((a, b) => a + b, 0) + 16;
    this.grid.style.setProperty('--cols', cols);
    this.grid.style.setProperty('--grid-width', `${total}px`);
  }

  // ------------------------------------------------------------ rendering

  render(): void {
    const vp = this.viewport;
    vp.dataset.loaded = String(this.loaded);
    vp.dataset.kept = String(this.rows.length);
    this.grid.setAttribute('aria-busy', String(this.status === 'loading'));
    this.grid.classList.toggle('busy', this.status === 'loading' && this.rows.length > 0);
    const message = this.statusMessage();
    const tail = message ? 3 : this.hasMore ? 1 : 0;
    this.spacer.style.height = `${(this.rows.length + tail) * ROW_HEIGHT}px`;
    const top = vp.scrollTop || 0;
    const height = vp.clientHeight || 20 * ROW_HEIGHT;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - 5);
    const end = Math.min(this.rows.length, first + Math.ceil(height / ROW_HEIGHT) + 10);
    const terms = searchTerms(this.query.filter.search);
    const nodes: HTMLElement[] = [];
    for (let i = first; i < end; i++) nodes.push(this.rowElement(i, terms));
    if (message) nodes.push(message);
    else if (this.hasMore && end >= this.rows.length) nodes.push(this.moreRow());
    this.rowsLayer.replaceChildren(...nodes);
    const sel = this.selected >= 0 ? `trace-row-${this.selected}` : '';
    if (sel && nodes.some((n) => n.id === sel)) this.grid.setAttribute('aria-activedescendant', sel);
    else this.grid.removeAttribute('aria-activedescendant');
    this.renderBar();
  }

  private rowElement(i: number, terms: string[]): HTMLElement {
    const r = this.rows[i];
    const d = this.d;
    const cells = rowCells(r).map((text, j) => {
      const c = COLUMNS[j];
      const cell = j === COLUMNS.length - 1 ? h(d, 'span', `col ${c.cls}`, ...highlight(d, text, terms, this.wordStart)) : h(d, 'span', `col ${c.cls}`, text);
      cell.setAttribute('role', 'gridcell');
      if (j === 0) cell.title = formatTime(r.timestamp);
      else if (text.length > 12) cell.title = text;
      return cell;
    });
    const row = h(d, 'div', `row${i === this.selected ? ' selected' : ''}${r.status === 'error' ? ' error' : ''}`, ...cells);
    row.id = `trace-row-${i}`;
    row.style.top = `${i * ROW_HEIGHT}px`;
    row.setAttribute('role', 'row');
    row.setAttribute('aria-rowindex', String(this.dropped + i + 2));
    row.setAttribute('aria-selected', String(i === this.selected));
    row.dataset.index = String(i);
    row.dataset.id = r.id;
    return row;
  }

  /** The list's state when it is not simply rows: loading, empty, or an error that stays. */
  private statusMessage(): HTMLElement | undefined {
    const d = this.d;
    let content: HTMLElement | undefined;
    if (this.status === 'loading' && !this.rows.length) content = h(d, 'div', 'empty', 'Loading…');
    else if (this.status === 'error') content = h(d, 'div', 'list-error', this.error ?? 'The query failed.');
    else if (this.status === 'empty') {
      const text = this.filtered() ? 'No traces match these filters. Clear a filter or the search to see more.' : 'No traces yet: the proxy has not stored any.';
      const more = this.hasMore ? h(d, 'button', 'link load-more', 'Search further') : null;
      content = h(d, 'div', 'empty', text, more ? ' ' : null, more);
    }
    if (!content) return undefined;
    content.setAttribute('role', 'gridcell');
    content.setAttribute('aria-colspan', String(COLUMNS.length));
    const row = h(d, 'div', `status-row status-${this.status}`, content);
    row.setAttribute('role', 'row');
    row.style.top = `${this.rows.length * ROW_HEIGHT}px`;
    return row;
  }

  private moreRow(): HTMLElement {
    const d = this.d;
    const cell = this.busy ? h(d, 'span', 'loading', 'Loading…') : h(d, 'button', 'link load-more', 'Load more');
    cell.setAttribute('role', 'gridcell');
    cell.setAttribute('aria-colspan', String(COLUMNS.length));
    const row = h(d, 'div', 'status-row more', cell);
    row.setAttribute('role', 'row');
    row.style.top = `${this.rows.length * ROW_HEIGHT}px`;
    return row;
  }

  private onScroll(): void {
    const vp = this.viewport;
    const header = this.headerRow.parentElement;
    if (header) header.scrollLeft = vp.scrollLeft;
    this.render();
    const bottom = (vp.scrollTop || 0) + (vp.clientHeight || 0);
    if (this.hasMore && bottom > (this.rows.length - 20) * ROW_HEIGHT) void this.fetchMore();
    if (this.dropped && (vp.scrollTop || 0) < 20 * ROW_HEIGHT) void this.fetchDropped();
  }

  // ------------------------------------------------------------ selection

  private onPointerDown(e: Event): void {
    if ((e as PointerEvent).button > 0) return;
    const row = (e.target as Element).closest?.('.row[data-index]') as HTMLElement | null;
    const id = row?.dataset.id;
    if (!row || !id) return;
    // The id comes from the row under the pointer, read now; nothing changes the list
    // before the detail request goes out.
    this.select(Number(row.dataset.index), id, false);
  }

  /** Selects row i; `id` is the row's id as the user saw it. */
  select(i: number, id: string | undefined = this.rows[i]?.id, scroll = true): void {
    if (!id || i < 0 || i >= this.rows.length) return;
    this.selected = i;
    this.selectedId = id;
    if (scroll) {
      const top = i * ROW_HEIGHT;
      const vp = this.viewport;
      const height = vp.clientHeight || 0;
      if (top < (vp.scrollTop || 0)) vp.scrollTop = top;
      else if (height && top + ROW_HEIGHT > vp.scrollTop + height) vp.scrollTop = top + ROW_HEIGHT - height;
    }
    this.render();
    this.host.onStateChange();
    this.host.onSelect(id);
  }

  /** Keyboard: moves the selection by `delta` rows (clamped), loading more near the end. */
  move(delta: number): void {
    if (!this.rows.length) return;
    const from = this.selected < 0 ? (delta > 0 ? -1 : 0) : this.selected;
    this.select(Math.max(0, Math.min(this.rows.length - 1, from + delta)));
    if (this.selected > this.rows.length - 10) void this.fetchMore();
  }

  pageSize(): number {
    return Math.max(1, Math.floor((this.viewport.clientHeight || 0) / ROW_HEIGHT) - 1);
  }
}
