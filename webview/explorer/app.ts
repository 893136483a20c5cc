// The trace explorer webview: filters and search over a trace grid (grid.ts), and the
// detail of the selected trace (detail.ts). Data comes from the host (which asks the
// doctor server); this page never sees the database. Hostile trace content is rendered
// as text only (render.ts); the CSP allows no inline script and no network.
import type { FilterChoices, HostMessage, TraceDetail, TraceFilter, UnsentRequest, WebviewMessage } from '../../src/shared/webviewProtocol';
import { isHostMessage } from '../../src/shared/webviewProtocol';
import type { SortDir, TraceSort } from '../../src/shared/protocol';
import { renderDetail } from './detail';
import { dirLabel, TraceList } from './grid';
import { h, visible } from './render';

export interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  getState(): unknown;
  setState(s: unknown): void;
}

export interface ExplorerEnv {
  doc: Document;
  /** Where the host's messages arrive. */
  win: Pick<EventTarget, 'addEventListener'>;
  api: VsCodeApi;
}

interface SavedState {
  /** Read by the host's serializer to reopen this panel on its DB after a reload. */
  panelDbPath?: string;
  filter: TraceFilter;
  sort: TraceSort;
  dir: SortDir;
  selectedId?: string;
  widths?: number[];
}

const SORTS: readonly TraceSort[] = ['time', 'latency', 'tokens'];

function readSaved(raw: unknown): SavedState {
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

export interface Explorer {
  list: TraceList;
  /** Resolves when the first list query has answered. */
  started: Promise<void>;
}

export function startExplorer({ doc: d, win, api }: ExplorerEnv): Explorer {
  const state = readSaved(api.getState());
  let hasFts = true;

  // ---------------------------------------------------------- host requests

  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  function request<T>(m: UnsentRequest): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      api.postMessage({ ...m, id } as WebviewMessage);
    });
  }

  // ---------------------------------------------------------- layout

  const dbName = h(d, 'span', 'db-name');
  const search = h(d, 'input', 'search') as HTMLInputElement;
  search.placeholder = 'Search traces (/)';
  search.setAttribute('aria-label', 'Search traces');
  const model = select('Model', ['']);
  const status = select('Status', ['', 'success', 'error']);
  const endpoint = select('Endpoint', ['']);
  const session = input('Session id', 'session');
  const from = input('From', 'time', 'datetime-local');
  const to = input('To', 'time', 'datetime-local');
  const minLat = input('Min latency ms', 'num', 'number');
  const maxLat = input('Max latency ms', 'num', 'number');
  const minTok = input('Min tokens', 'num', 'number');
  const maxTok = input('Max tokens', 'num', 'number');
  const sort = select('Sort', SORTS as string[], false);
  const dirBtn = h(d, 'button', 'dir') as HTMLButtonElement;
  dirBtn.title = 'Reverse the order';

  const list = new TraceList(d, {
    request,
    onSelect: (id) => void showDetail(id),
    onSort: (s, dir) => {
      state.sort = s;
      state.dir = dir;
      choose(sort, s);
      applyQuery();
    },
    onStateChange: persist,
  }, state.widths);
  list.selectedId = state.selectedId;

  const detail = h(d, 'div', 'detail');
  detail.tabIndex = 0;
  detail.hidden = true;
  detail.setAttribute('role', 'region');
  detail.setAttribute('aria-label', 'Trace details');
  const main = h(d, 'div', 'main', list.element, detail);

  function select(label: string, options: string[], anyOption = true): HTMLSelectElement {
    const s = h(d, 'select', 'filter') as HTMLSelectElement;
    s.setAttribute('aria-label', label);
    s.title = label;
    setOptions(s, options, anyOption ? label : undefined);
    return s;
  }
  function setOptions(s: HTMLSelectElement, options: string[], anyLabel?: string): void {
    const current = s.value;
    s.replaceChildren(...options.map((o) => {
      const opt = h(d, 'option', undefined, o === '' && anyLabel ? `${anyLabel}: any` : anyLabel ? visible(o) : `Sort: ${o}`) as HTMLOptionElement;
      opt.value = o;
      return opt;
    }));
    if (options.includes(current)) choose(s, current);
  }
  /** Chooses an option by value (through the options, which every DOM implements). */
  function choose(s: HTMLSelectElement, value: string): void {
    // A single select deselects the others itself.
    const o = [...s.querySelectorAll('option')].find((x) => x.value === value);
    if (o) o.selected = true;
  }
  function input(label: string, cls: string, type = 'text'): HTMLInputElement {
    const i = h(d, 'input', `filter ${cls}`) as HTMLInputElement;
    i.type = type;
    i.placeholder = label;
    i.title = label;
    i.setAttribute('aria-label', label);
    return i;
  }
  /** A visible label beside the control (date inputs show no placeholder). */
  const labelled = (text: string, control: HTMLElement) => h(d, 'label', 'field', h(d, 'span', 'field-label', text), control);

  d.body.append(
    h(d, 'div', 'toolbar', h(d, 'span', 'title', 'Traces in ', dbName), search, model, status, endpoint, session, sort, dirBtn),
    h(d, 'div', 'toolbar secondary', labelled('From', from), labelled('To', to), minLat, maxLat, minTok, maxTok),
    main,
  );

  // ---------------------------------------------------------- filters ↔ state

  function readFilter(): TraceFilter {
    const f: TraceFilter = {};
    const s = search.value.trim();
    if (s) f.search = s;
    if (model.value) f.model = model.value;
    if (status.value === 'success' || status.value === 'error') f.status = status.value;
    if (endpoint.value) f.endpoint = endpoint.value;
    if (session.value.trim()) f.sessionId = session.value.trim();
    const iso = (v: string) => {
      const t = new Date(v);
      return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
    };
    if (from.value && iso(from.value)) f.from = iso(from.value);
    if (to.value && iso(to.value)) f.to = iso(to.value);
    const nums: [keyof TraceFilter, HTMLInputElement][] = [['minLatencyMs', minLat], ['maxLatencyMs', maxLat], ['minTokens', minTok], ['maxTokens', maxTok]];
    for (const [k, el] of nums) {
      const v = el.value === '' ? undefined : Number(el.value);
      if (v !== undefined && Number.isFinite(v)) (f as Record<string, unknown>)[k] = v;
    }
    return f;
  }

  function writeFilter(f: TraceFilter): void {
    search.value = f.search ?? '';
    session.value = f.sessionId ?? '';
    choose(status, f.status ?? '');
    const local = (v?: string) => (v ? new Date(new Date(v).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');
    from.value = local(f.from);
    to.value = local(f.to);
    minLat.value = f.minLatencyMs?.toString() ?? '';
    maxLat.value = f.maxLatencyMs?.toString() ?? '';
    minTok.value = f.minTokens?.toString() ?? '';
    maxTok.value = f.maxTokens?.toString() ?? '';
    choose(sort, state.sort);
  }

  function persist(): void {
    const s: SavedState = { panelDbPath: state.panelDbPath, filter: state.filter, sort: state.sort, dir: state.dir, selectedId: list.selectedId, widths: list.widths };
    api.setState(s);
  }

  /** The user changed the query: the one place (with the pill and refresh) that re-queries. */
  function applyQuery(): void {
    dirBtn.textContent = dirLabel(state.sort, state.dir);
    list.setQuery({ filter: state.filter, sort: state.sort, dir: state.dir }, hasFts);
    persist();
    void list.reload();
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  function onFilterChange(delay = 250): void {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const f = readFilter();
      const s = sort.value as TraceSort;
      if (JSON.stringify(f) === JSON.stringify(state.filter) && s === state.sort) return;
      state.filter = f;
      state.sort = s;
      applyQuery();
    }, delay);
  }
  for (const el of [search, session, minLat, maxLat, minTok, maxTok]) el.addEventListener('input', () => onFilterChange());
  for (const el of [model, status, endpoint, sort, from, to]) el.addEventListener('change', () => onFilterChange(0));
  dirBtn.addEventListener('click', () => {
    state.dir = state.dir === 'desc' ? 'asc' : 'desc';
    applyQuery();
  });

  // ---------------------------------------------------------- detail

  let detailGen = 0;
  async function showDetail(id: string): Promise<void> {
    const gen = ++detailGen;
    detail.hidden = false;
    main.classList.add('with-detail');
    detail.classList.add('stale');
    detail.setAttribute('aria-busy', 'true');
    if (!detail.firstChild) detail.append(h(d, 'div', 'empty', 'Loading…'));
    let t: TraceDetail | null;
    try {
      t = await request<TraceDetail | null>({ type: 'detail', traceId: id });
    } catch (e) {
      if (gen === detailGen) settle(h(d, 'div', 'notice error', (e as Error).message));
      return;
    }
    if (gen !== detailGen) return;
    if (!t) {
      settle(h(d, 'div', 'empty', 'This trace no longer exists.'));
      return;
    }
    settle(...renderDetail(d, t, {
      request,
      copy: (text) => api.postMessage({ type: 'copy', text }),
      openJson: (traceId) => api.postMessage({ type: 'openJson', traceId }),
      open: (traceId) => void showDetail(traceId),
      close: closeDetail,
    }));
    detail.dataset.traceId = t.id;
    detail.scrollTop = 0;
  }
  function settle(...nodes: Node[]): void {
    detail.classList.remove('stale');
    detail.removeAttribute('aria-busy');
    detail.replaceChildren(...nodes);
  }
  function closeDetail(): void {
    detailGen++;
    detail.hidden = true;
    main.classList.remove('with-detail');
    list.grid.focus();
  }

  // ---------------------------------------------------------- keyboard

  d.addEventListener('keydown', (e) => {
    const target = e.target as Element | null;
    const tag = target?.tagName ?? '';
    const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA';
    if (e.key === '/' && !typing) {
      e.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (typing) {
      if (e.key === 'Escape') list.grid.focus();
      return;
    }
    if (e.key === 'Escape' && !detail.hidden) {
      closeDetail();
      return;
    }
    // Keys on buttons and inside the detail keep their own meaning.
    if (tag === 'BUTTON' || tag === 'SUMMARY' || (target && detail.contains(target))) return;
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
      if (detail.hidden) void showDetail(list.rows[list.selected].id);
      detail.focus();
    }
  });

  // ---------------------------------------------------------- host messages

  win.addEventListener('message', (e: Event) => {
    const m = (e as MessageEvent).data as unknown;
    if (!isHostMessage(m)) return;
    const msg: HostMessage = m;
    switch (msg.type) {
      case 'response': {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.ok) p?.resolve(msg.result);
        else p?.reject(new Error(msg.error ?? 'request failed'));
        return;
      }
      case 'init':
        d.title = `Traces · ${msg.dbName}`;
        dbName.textContent = visible(msg.dbName);
        state.panelDbPath = msg.dbPath;
        list.setEstimate(msg.traceCount);
        persist();
        return;
      case 'didChangeData':
        list.markNewData(msg.traceCount);
        return;
      case 'didChangeTraceCount':
        list.setEstimate(msg.traceCount);
        return;
    }
  });

  // ---------------------------------------------------------- start

  async function loadChoices(): Promise<void> {
    try {
      const c = await request<FilterChoices>({ type: 'choices' });
      setOptions(model, ['', ...c.models], 'Model');
      setOptions(endpoint, ['', ...c.endpoints], 'Endpoint');
      choose(model, state.filter.model ?? '');
      choose(endpoint, state.filter.endpoint ?? '');
      session.disabled = !c.hasSessions;
      hasFts = c.hasFts;
      search.placeholder = c.hasFts ? 'Search (full-text: words, "phrases", pre*, AND/OR/NOT) (/)' : 'Search (no full-text index: slower substring search) (/)';
    } catch {
      // The list's own query says what is wrong (no traces table, not a database, …).
    }
  }

  writeFilter(state.filter);
  dirBtn.textContent = dirLabel(state.sort, state.dir);
  list.setQuery({ filter: state.filter, sort: state.sort, dir: state.dir });
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => list.render()).observe(list.viewport);
  api.postMessage({ type: 'ready' });
  const started = loadChoices().then(async () => {
    list.setQuery({ filter: state.filter, sort: state.sort, dir: state.dir }, hasFts);
    await list.reload();
    if (list.selectedId && list.rows.some((r) => r.id === list.selectedId)) void showDetail(list.selectedId);
  });
  return { list, started };
}
