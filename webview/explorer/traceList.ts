// The trace list: an accessible grid over keyset pages, with one state machine for its
// queries. What the user reads never moves by itself: new traces are announced by a pill
// and loaded only when the user asks (issue 10), so no list change can happen between a
// pointer-down on a row and the detail request for that row, and no query runs unless the
// user did something (issue 11: on a rollback-journal DB every read holds SHARED and makes
// the proxy wait). Its parts: header.ts, columns.ts, listBar.ts with listCounts.ts, virtualRows.ts.
import type { Requester } from '../../src/shared/webviewRpc';
import type { ExplorerRequests, TraceFilter, TracePage } from '../../src/shared/webviewProtocol';
import type { SortDir, TraceCursor, TraceRow, TraceSort } from '../../src/shared/protocol';
import { ColumnSizer, COLUMNS } from './columns';
import { ListHeader } from './header';
import { ListBar } from './listBar';
import { ListCounts, type ListFacts } from './listCounts';
import { h } from './render';
import { VirtualRows, type ListStatus } from './virtualRows';

/** Rows a query asks for (at most MAX_PAGE, which the host enforces). */
const PAGE = 100;
/** The list keeps at most this many rows in memory; it re-fetches what scrolled far away. */
const MAX_ROWS = 3000;

export interface ListQuery {
  filter: TraceFilter;
  sort: TraceSort;
  dir: SortDir;
}

export interface ListHost {
  request: Requester<ExplorerRequests>;
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
  private readonly sizer: ColumnSizer;
  private readonly header: ListHeader;
  private readonly bar: ListBar;
  private readonly view: VirtualRows;

  status: ListStatus = 'idle';
  error?: string;
  rows: TraceRow[] = [];
  selected = -1;
  selectedId?: string;
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
  private readonly counts = new ListCounts(PAGE);
  private wordStart = true;

  constructor(
    d: Document,
    private readonly host: ListHost,
    widths?: number[],
  ) {
    this.grid = h(d, 'div', 'grid');
    this.grid.tabIndex = 0;
    this.grid.setAttribute('role', 'grid');
    this.grid.setAttribute('aria-label', 'Traces');
    this.grid.setAttribute('aria-colcount', String(COLUMNS.length));
    this.grid.setAttribute('aria-rowcount', '-1');
    this.sizer = new ColumnSizer(d, this.grid, widths, () => host.onStateChange());
    this.header = new ListHeader(d, this.sizer, (sort) => host.onSort(sort, this.query.sort === sort && this.query.dir === 'desc' ? 'asc' : 'desc'));
    this.bar = new ListBar(d, { reload: () => void this.reload(), countExactly: () => void this.countExactly() });
    this.view = new VirtualRows(d, {
      pick: (i, id) => this.select(i, id, false),
      loadMore: () => void this.fetchMore(),
      scrolled: () => this.onScroll(),
    });
    this.grid.append(this.header.element, this.view.viewport);
    this.element = h(d, 'div', 'list', this.bar.element, this.grid);
    this.renderBar();
  }

  get viewport(): HTMLElement {
    return this.view.viewport;
  }

  /** Column widths in column order, as the user left them. */
  get widths(): number[] {
    return this.sizer.widths;
  }

  // ------------------------------------------------------------ queries

  setQuery(q: ListQuery, hasFts = true): void {
    this.query = q;
    this.wordStart = hasFts;
    this.counts.forgetExact();
    this.header.showOrder(q.sort, q.dir);
  }

  private async run(extra: { after?: TraceCursor; before?: TraceCursor }): Promise<Answer | undefined> {
    const seq = ++this.seq;
    this.busy = seq;
    try {
      const page = await this.host.request('query', { filter: this.query.filter, sort: this.query.sort, dir: this.query.dir, limit: PAGE, ...extra });
      return seq === this.seq ? { page } : undefined;
    } catch (e) {
      return seq === this.seq ? { error: (e as Error).message } : undefined;
    } finally {
      if (this.busy === seq) this.busy = 0;
    }
  }

  /** The first page for the current query; what was shown stays (dimmed) until it answers. */
  async reload(): Promise<void> {
    this.counts.restart();
    this.status = 'loading';
    this.error = undefined;
    this.render();
    const answer = await this.run({});
    // A newer query superseded this one: its answer is the one that renders.
    if (!answer) return;
    this.rows = [];
    this.loaded = 0;
    this.dropped = 0;
    this.selected = -1;
    this.view.viewport.scrollTop = 0;
    if ('error' in answer) {
      this.status = 'error';
      this.error = answer.error;
      this.hasMore = false;
      this.bar.setNotice(undefined);
    } else {
      const p = answer.page;
      this.rows = p.rows.slice();
      this.loaded = p.rows.length;
      this.hasMore = p.hasMore;
      this.after = p.cursor;
      this.status = p.rows.length ? 'loaded' : 'empty';
      this.bar.setNotice(p.notice);
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
    const answer = await pending;
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
      if (p.notice) this.bar.setNotice(p.notice);
      this.status = this.rows.length ? 'loaded' : 'empty';
      this.trimAbove();
    }
    this.render();
  }

  /** Re-fetches rows dropped above by trimAbove, as the user scrolls back up. */
  private async fetchDropped(): Promise<void> {
    if (this.busy || !this.dropped || !this.rows.length || this.status !== 'loaded') return;
    const answer = await this.run({ before: this.keyOf(this.rows[0]) });
    if (!answer || 'error' in answer || !answer.page.rows.length) return;
    const p = answer.page;
    this.rows.unshift(...p.rows);
    this.selected = this.selected >= 0 ? this.selected + p.rows.length : -1;
    this.dropped = p.hasMore ? Math.max(1, this.dropped - p.rows.length) : 0;
    // Prepend without moving what the user reads.
    this.view.shift(p.rows.length);
    this.render();
  }

  private keyOf(r: TraceRow): TraceCursor {
    const s = this.query.sort;
    return { key: s === 'time' ? r.timestamp : s === 'latency' ? r.latencyMs : r.tokens, rowid: r.rowid };
  }

  private trimAbove(): void {
    const excess = this.rows.length - MAX_ROWS;
    if (excess <= 0) return;
    const drop = Math.min(excess, Math.max(0, this.view.firstVisible() - PAGE));
    if (drop <= 0) return;
    this.rows.splice(0, drop);
    this.selected = this.selected >= drop ? this.selected - drop : -1;
    this.dropped += drop;
    this.view.shift(-drop);
  }

  private onScroll(): void {
    this.header.element.scrollLeft = this.view.viewport.scrollLeft;
    this.render();
    if (this.hasMore && this.view.nearEnd(this.rows.length, 20)) void this.fetchMore();
    if (this.dropped && this.view.nearTop(20)) void this.fetchDropped();
  }

  // ------------------------------------------------------------ live data and counts

  /** Someone committed: say so, query nothing, change no row. */
  markNewData(estimate?: number): void {
    this.counts.markNewData(estimate);
    this.renderBar();
  }

  setEstimate(n: number | undefined): void {
    this.counts.setEstimate(n);
    this.renderBar();
  }

  private countExactly(): Promise<void> {
    return this.counts.countExactly(() => this.host.request('count', { filter: this.query.filter }), {
      started: () => this.renderBar(),
      failed: (message) => this.bar.setNotice(message, true),
      ended: () => this.render(),
    });
  }

  private filtered(): boolean {
    return Object.keys(this.query.filter).length > 0;
  }

  private renderBar(): void {
    const facts: ListFacts = {
      rows: this.rows,
      dropped: this.dropped,
      filtered: this.filtered(),
      newestFirst: this.query.sort === 'time' && this.query.dir === 'desc',
      settled: this.status === 'loaded' || this.status === 'empty',
      hasMore: this.hasMore,
    };
    this.bar.render(this.counts.bar(facts));
    const total = this.counts.total(facts);
    this.grid.setAttribute('aria-rowcount', total === undefined ? '-1' : String(total + 1));
  }

  // ------------------------------------------------------------ rendering and selection

  render(): void {
    const vp = this.view.viewport;
    vp.dataset.loaded = String(this.loaded);
    vp.dataset.kept = String(this.rows.length);
    this.grid.setAttribute('aria-busy', String(this.status === 'loading'));
    this.grid.classList.toggle('busy', this.status === 'loading' && this.rows.length > 0);
    const active = this.view.render({
      rows: this.rows,
      selected: this.selected,
      dropped: this.dropped,
      status: this.status,
      error: this.error,
      hasMore: this.hasMore,
      busy: this.busy !== 0,
      filtered: this.filtered(),
      search: this.query.filter.search,
      wordStart: this.wordStart,
    });
    if (active) this.grid.setAttribute('aria-activedescendant', active);
    else this.grid.removeAttribute('aria-activedescendant');
    this.renderBar();
  }

  /** Selects row i; `id` is the row's id as the user saw it. */
  select(i: number, id: string | undefined = this.rows[i]?.id, scroll = true): void {
    if (!id || i < 0 || i >= this.rows.length) return;
    this.selected = i;
    this.selectedId = id;
    if (scroll) this.view.reveal(i);
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
    return this.view.pageSize();
  }
}
