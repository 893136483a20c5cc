// The bar above the list: the new-traces pill, the trace count (the health report's
// estimate, or COUNT(*) when the user asks), the list's notice and a refresh button.
// Its height never changes, so showing the pill moves no row.
import { h } from './render';

export interface BarState {
  /** Someone committed since the list was loaded. */
  newData: boolean;
  /** How many traces are new, when known. */
  newCount?: number;
  counting: boolean;
  exactCount?: number;
  /** The health report's max(rowid). */
  estimate?: number;
  filtered: boolean;
  /** Rows fetched and kept, and the ones dropped above them; undefined while the list is not settled. */
  shown?: number;
  hasMore: boolean;
}

export interface BarActions {
  /** The pill or refresh: query the list again. */
  reload(): void;
  countExactly(): void;
}

const fmt = (x: number) => x.toLocaleString('en-US');

export class ListBar {
  readonly element: HTMLElement;
  private readonly pill: HTMLButtonElement;
  private readonly countEl: HTMLElement;
  private readonly countBtn: HTMLButtonElement;
  private readonly noticeEl: HTMLElement;

  constructor(d: Document, actions: BarActions) {
    this.countEl = h(d, 'span', 'count');
    this.countBtn = h(d, 'button', 'link', 'count exactly') as HTMLButtonElement;
    this.countBtn.title = 'Run COUNT(*) with these filters (reads the whole table)';
    this.countBtn.addEventListener('click', () => actions.countExactly());
    this.noticeEl = h(d, 'span', 'list-notice');
    this.pill = h(d, 'button', 'new-pill') as HTMLButtonElement;
    this.pill.hidden = true;
    this.pill.title = 'Load the traces stored since this list was loaded';
    this.pill.addEventListener('click', () => actions.reload());
    const refresh = h(d, 'button', 'link refresh', '⟳ Refresh') as HTMLButtonElement;
    refresh.title = 'Query the list again';
    refresh.addEventListener('click', () => actions.reload());
    // Announced when it appears; the count, which moves every poll, is not.
    const pillSlot = h(d, 'span', 'pill-slot', this.pill);
    pillSlot.setAttribute('aria-live', 'polite');
    this.element = h(d, 'div', 'list-bar', pillSlot, this.countEl, this.countBtn, this.noticeEl, h(d, 'span', 'spacer-flex'), refresh);
  }

  render(s: BarState): void {
    const n = s.newCount;
    this.pill.hidden = !s.newData;
    this.pill.textContent = n === undefined ? '↑ New traces' : `↑ ${fmt(n)} new trace${n === 1 ? '' : 's'}`;
    let text: string;
    if (s.counting) text = 'counting…';
    else if (s.exactCount !== undefined) text = s.filtered ? `${fmt(s.exactCount)} matching` : `${fmt(s.exactCount)} traces`;
    else if (!s.filtered) text = s.estimate !== undefined ? `≈ ${fmt(s.estimate)} traces` : '';
    else if (s.shown !== undefined) text = `${fmt(s.shown)}${s.hasMore ? '+' : ''} shown${s.estimate !== undefined ? ` of ≈ ${fmt(s.estimate)}` : ''}`;
    else text = '';
    this.countEl.textContent = text;
    this.countEl.title = s.exactCount !== undefined ? 'Exact COUNT(*)' : 'Estimate from the health check (max(rowid)); "count exactly" runs COUNT(*)';
    this.countBtn.hidden = s.exactCount !== undefined || s.counting;
  }

  /** Said beside the count: e.g. that a search looked at part of the table, or why counting failed. */
  setNotice(text: string | undefined, error = false): void {
    this.noticeEl.textContent = text ?? '';
    this.noticeEl.title = text ?? '';
    this.noticeEl.className = `list-notice${error ? ' error' : ''}`;
  }
}
