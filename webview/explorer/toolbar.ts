// The toolbar above the list: the search, the filters, the sort and its direction. It
// reads the controls into a TraceFilter and writes one back (a reopened page starts with
// the saved filters); the explorer (app.ts) decides whether a change is a new query.
import type { FilterChoices, SortDir, TraceFilter, TraceSort } from '../../src/shared/protocol';
import { dirLabel } from './header';
import { h, visible } from './render';
import { SORTS } from './savedState';

export interface ToolbarActions {
  /** A filter or the sort changed (typing is debounced). */
  changed(filter: TraceFilter, sort: TraceSort): void;
  /** The direction button: reverse the order. */
  reverse(): void;
}

export class Toolbar {
  /** The toolbar's two rows, in order. */
  readonly elements: HTMLElement[];
  private readonly dbName: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly model: HTMLSelectElement;
  private readonly status: HTMLSelectElement;
  private readonly endpoint: HTMLSelectElement;
  private readonly session: HTMLInputElement;
  private readonly from: HTMLInputElement;
  private readonly to: HTMLInputElement;
  private readonly minLat: HTMLInputElement;
  private readonly maxLat: HTMLInputElement;
  private readonly minTok: HTMLInputElement;
  private readonly maxTok: HTMLInputElement;
  private readonly sort: HTMLSelectElement;
  private readonly dirBtn: HTMLButtonElement;
  private debounce?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly d: Document,
    actions: ToolbarActions,
  ) {
    this.dbName = h(d, 'span', 'db-name');
    this.search = h(d, 'input', 'search') as HTMLInputElement;
    this.search.placeholder = 'Search traces (/)';
    this.search.setAttribute('aria-label', 'Search traces');
    this.model = this.select('Model', ['']);
    this.status = this.select('Status', ['', 'success', 'error']);
    this.endpoint = this.select('Endpoint', ['']);
    this.session = this.input('Session id', 'session');
    this.from = this.input('From', 'time', 'datetime-local');
    this.to = this.input('To', 'time', 'datetime-local');
    this.minLat = this.input('Min latency ms', 'num', 'number');
    this.maxLat = this.input('Max latency ms', 'num', 'number');
    this.minTok = this.input('Min tokens', 'num', 'number');
    this.maxTok = this.input('Max tokens', 'num', 'number');
    this.sort = this.select('Sort', SORTS as string[], false);
    this.dirBtn = h(d, 'button', 'dir') as HTMLButtonElement;
    this.dirBtn.title = 'Reverse the order';

    /** A visible label beside the control (date inputs show no placeholder). */
    const labelled = (text: string, control: HTMLElement) => h(d, 'label', 'field', h(d, 'span', 'field-label', text), control);
    this.elements = [
      h(
        d,
        'div',
        'toolbar',
        h(d, 'span', 'title', 'Traces in ', this.dbName),
        this.search,
        this.model,
        this.status,
        this.endpoint,
        this.session,
        this.sort,
        this.dirBtn,
      ),
      h(d, 'div', 'toolbar secondary', labelled('From', this.from), labelled('To', this.to), this.minLat, this.maxLat, this.minTok, this.maxTok),
    ];

    const changed = (delay: number) => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => actions.changed(this.read(), this.sort.value as TraceSort), delay);
    };
    for (const el of [this.search, this.session, this.minLat, this.maxLat, this.minTok, this.maxTok]) el.addEventListener('input', () => changed(250));
    for (const el of [this.model, this.status, this.endpoint, this.sort, this.from, this.to]) el.addEventListener('change', () => changed(0));
    this.dirBtn.addEventListener('click', () => actions.reverse());
  }

  setDbName(name: string): void {
    this.dbName.textContent = visible(name);
  }

  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  /** The filters as the controls say; a control left empty (or unreadable) filters nothing. */
  read(): TraceFilter {
    const f: TraceFilter = {};
    const s = this.search.value.trim();
    if (s) f.search = s;
    if (this.model.value) f.model = this.model.value;
    if (this.status.value === 'success' || this.status.value === 'error') f.status = this.status.value;
    if (this.endpoint.value) f.endpoint = this.endpoint.value;
    if (this.session.value.trim()) f.sessionId = this.session.value.trim();
    const iso = (v: string) => {
      const t = new Date(v);
      return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
    };
    if (this.from.value && iso(this.from.value)) f.from = iso(this.from.value);
    if (this.to.value && iso(this.to.value)) f.to = iso(this.to.value);
    const nums: [keyof TraceFilter, HTMLInputElement][] = [
      ['minLatencyMs', this.minLat],
      ['maxLatencyMs', this.maxLat],
      ['minTokens', this.minTok],
      ['maxTokens', this.maxTok],
    ];
    for (const [k, el] of nums) {
      const v = el.value === '' ? undefined : Number(el.value);
      if (v !== undefined && Number.isFinite(v)) (f as Record<string, unknown>)[k] = v;
    }
    return f;
  }

  /** Shows a saved filter; model and endpoint follow when their options arrive (setChoices). */
  write(f: TraceFilter, sort: TraceSort): void {
    this.search.value = f.search ?? '';
    this.session.value = f.sessionId ?? '';
    this.choose(this.status, f.status ?? '');
    const local = (v?: string) => (v ? new Date(new Date(v).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');
    this.from.value = local(f.from);
    this.to.value = local(f.to);
    this.minLat.value = f.minLatencyMs?.toString() ?? '';
    this.maxLat.value = f.maxLatencyMs?.toString() ?? '';
    this.minTok.value = f.minTokens?.toString() ?? '';
    this.maxTok.value = f.maxTokens?.toString() ?? '';
    this.choose(this.sort, sort);
  }

  /** The order: the sort chosen and the direction button's words. */
  showOrder(sort: TraceSort, dir: SortDir): void {
    this.choose(this.sort, sort);
    this.dirBtn.textContent = dirLabel(sort, dir);
  }

  /** The database's models and endpoints, and what its search and sessions can do. */
  setChoices(c: FilterChoices, f: TraceFilter): void {
    this.setOptions(this.model, ['', ...c.models], 'Model');
    this.setOptions(this.endpoint, ['', ...c.endpoints], 'Endpoint');
    this.choose(this.model, f.model ?? '');
    this.choose(this.endpoint, f.endpoint ?? '');
    this.session.disabled = !c.hasSessions;
    this.search.placeholder = c.hasFts
      ? 'Search (full-text: words, "phrases", pre*, AND/OR/NOT) (/)'
      : 'Search (no full-text index: slower substring search) (/)';
  }

  private select(label: string, options: string[], anyOption = true): HTMLSelectElement {
    const s = h(this.d, 'select', 'filter') as HTMLSelectElement;
    s.setAttribute('aria-label', label);
    s.title = label;
    this.setOptions(s, options, anyOption ? label : undefined);
    return s;
  }

  private setOptions(s: HTMLSelectElement, options: string[], anyLabel?: string): void {
    const current = s.value;
    s.replaceChildren(
      ...options.map((o) => {
        const opt = h(this.d, 'option', undefined, o === '' && anyLabel ? `${anyLabel}: any` : anyLabel ? visible(o) : `Sort: ${o}`) as HTMLOptionElement;
        opt.value = o;
        return opt;
      }),
    );
    if (options.includes(current)) this.choose(s, current);
  }

  /** Chooses an option by value (through the options, which every DOM implements). */
  private choose(s: HTMLSelectElement, value: string): void {
    // A single select deselects the others itself.
    const o = [...s.querySelectorAll('option')].find((x) => x.value === value);
    if (o) o.selected = true;
  }

  private input(label: string, cls: string, type = 'text'): HTMLInputElement {
    const i = h(this.d, 'input', `filter ${cls}`) as HTMLInputElement;
    i.type = type;
    i.placeholder = label;
    i.title = label;
    i.setAttribute('aria-label', label);
    return i;
  }
}
