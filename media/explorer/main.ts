// The trace explorer webview: a virtualised, keyset-paged list of traces with filters
// and search, and a detail pane. Data comes from the host (which asks the doctor
// server); this page never sees the database. Hostile trace content is rendered as text
// only (render.ts); the CSP allows no inline script and no network.
import type { FilterChoices, HostMessage, ResponseMessage, TraceDetail, TraceField, TraceFilter, TracePage, TracePageParams, WebviewMessage, WebviewRequest } from './protocol';
import { isHostMessage } from './protocol';
import type { TraceCursor, TraceRow } from '../../src/protocol';
import { chatBubble, conversation, formatMs, formatTime, h, jsonView, rowCells, visible } from './render';

declare function acquireVsCodeApi(): { postMessage(m: WebviewMessage): void; getState(): unknown; setState(s: unknown): void };

const vscode = acquireVsCodeApi();
const ROW_HEIGHT = 24;
const PAGE = 100;
/** The list keeps at most this many rows in memory; it re-fetches what scrolled far away. */
const MAX_ROWS = 3000;
const COLUMNS = ['Time', 'Model', 'Endpoint', 'Status', 'Latency', 'Tokens', 'Session', 'Prompt'];

interface SavedState {
  /** Read by the host's serializer to reopen this panel on its DB after a reload. */
  panelDbPath?: string;
  filter: TraceFilter;
  sort: 'time' | 'latency' | 'tokens';
  dir: 'desc' | 'asc';
  selectedId?: string;
}

const saved = (vscode.getState() as SavedState | undefined) ?? { filter: {}, sort: 'time', dir: 'desc' };
const state = {
  ...saved,
  rows: [] as TraceRow[],
  /** Rows were dropped above the first one kept: scrolling up fetches them again. */
  droppedAbove: false,
  hasMore: true,
  loading: false,
  newAbove: 0,
  /** Rows fetched since the last reload, and rows kept: shown to tests and the benchmark as data attributes. */
  loaded: 0,
  generation: 0,
  selected: -1,
};

// ------------------------------------------------------------ host requests

let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never;
function request<T>(m: Unsent<WebviewRequest>): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    vscode.postMessage({ ...m, id } as WebviewMessage);
  });
}

window.addEventListener('message', (e: MessageEvent) => {
  const m = e.data as unknown;
  if (!isHostMessage(m)) return;
  const msg = m as HostMessage;
  if (msg.type === 'response') {
    const r = msg as ResponseMessage;
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (r.ok) p?.resolve(r.result);
    else p?.reject(new Error(r.error ?? 'request failed'));
  } else if (msg.type === 'init') {
    document.title = `Traces · ${msg.dbName}`;
    dbName.textContent = msg.dbName;
    state.panelDbPath = msg.dbPath;
    persist();
  } else if (msg.type === 'didChangeData') {
    void fetchNewer();
  }
});

// ------------------------------------------------------------ layout

const d = document;
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
const sort = select('Sort', ['time', 'latency', 'tokens']);
const dirBtn = h(d, 'button', 'dir', state.dir === 'desc' ? '↓ newest' : '↑ oldest') as HTMLButtonElement;
const countEl = h(d, 'span', 'count');
const countBtn = h(d, 'button', 'link', 'count exactly') as HTMLButtonElement;
const notice = h(d, 'div', 'notice');
const header = h(d, 'div', 'list-header', ...COLUMNS.map((c) => h(d, 'span', `col col-${c.toLowerCase()}`, c)));
const viewport = h(d, 'div', 'viewport');
viewport.tabIndex = 0;
viewport.setAttribute('role', 'listbox');
viewport.setAttribute('aria-label', 'Traces');
const spacer = h(d, 'div', 'spacer');
const rowsLayer = h(d, 'div', 'rows');
spacer.append(rowsLayer);
viewport.append(spacer);
const pill = h(d, 'button', 'new-pill') as HTMLButtonElement;
pill.hidden = true;
const detail = h(d, 'div', 'detail', h(d, 'div', 'empty', 'Select a trace to see its conversation, JSON and session steps.'));

function select(label: string, options: string[]): HTMLSelectElement {
  const s = h(d, 'select', 'filter') as HTMLSelectElement;
  s.setAttribute('aria-label', label);
  s.title = label;
  setOptions(s, options, label);
  return s;
}
function setOptions(s: HTMLSelectElement, options: string[], label: string): void {
  const current = s.value;
  s.replaceChildren(...options.map((o) => {
    const opt = h(d, 'option', undefined, o === '' ? `${label}: any` : visible(o)) as HTMLOptionElement;
    opt.value = o;
    return opt;
  }));
  if (options.includes(current)) s.value = current;
}
function input(label: string, cls: string, type = 'text'): HTMLInputElement {
  const i = h(d, 'input', `filter ${cls}`) as HTMLInputElement;
  i.type = type;
  i.placeholder = label;
  i.title = label;
  i.setAttribute('aria-label', label);
  return i;
}

d.body.append(
  h(d, 'div', 'toolbar', h(d, 'span', 'title', 'Traces in ', dbName), search, model, status, endpoint, session, sort, dirBtn, h(d, 'span', 'spacer-flex'), countEl, countBtn),
  h(d, 'div', 'toolbar secondary', from, to, minLat, maxLat, minTok, maxTok),
  notice,
  h(d, 'div', 'main', h(d, 'div', 'list', header, viewport, pill), detail),
);

// ------------------------------------------------------------ filters ↔ state

function readFilter(): TraceFilter {
  const f: TraceFilter = {};
  const s = search.value.trim();
  if (s) f.search = s;
  if (model.value) f.model = model.value;
  if (status.value === 'success' || status.value === 'error') f.status = status.value;
  if (endpoint.value) f.endpoint = endpoint.value;
  if (session.value.trim()) f.sessionId = session.value.trim();
  if (from.value) f.from = new Date(from.value).toISOString();
  if (to.value) f.to = new Date(to.value).toISOString();
  const num = (i: HTMLInputElement) => (i.value === '' ? undefined : Number(i.value));
  const nums: [keyof TraceFilter, HTMLInputElement][] = [['minLatencyMs', minLat], ['maxLatencyMs', maxLat], ['minTokens', minTok], ['maxTokens', maxTok]];
  for (const [k, el] of nums) {
    const v = num(el);
    if (v !== undefined && Number.isFinite(v)) (f as Record<string, unknown>)[k] = v;
  }
  return f;
}

function writeFilter(f: TraceFilter): void {
  search.value = f.search ?? '';
  session.value = f.sessionId ?? '';
  status.value = f.status ?? '';
  const local = (iso?: string) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');
  from.value = local(f.from);
  to.value = local(f.to);
  minLat.value = f.minLatencyMs?.toString() ?? '';
  maxLat.value = f.maxLatencyMs?.toString() ?? '';
  minTok.value = f.minTokens?.toString() ?? '';
  maxTok.value = f.maxTokens?.toString() ?? '';
  sort.value = state.sort;
}

function persist(): void {
  const s: SavedState = { panelDbPath: state.panelDbPath, filter: state.filter, sort: state.sort, dir: state.dir, selectedId: state.rows[state.selected]?.id ?? state.selectedId };
  vscode.setState(s);
}

let debounce: ReturnType<typeof setTimeout> | undefined;
function onFilterChange(delay = 250): void {
  clearTimeout(debounce);
  debounce = setTimeout(() => {
    state.filter = readFilter();
    state.sort = sort.value as SavedState['sort'];
    persist();
    void reload();
  }, delay);
}
for (const el of [search, session, minLat, maxLat, minTok, maxTok]) el.addEventListener('input', () => onFilterChange());
for (const el of [model, status, endpoint, sort, from, to]) el.addEventListener('change', () => onFilterChange(0));
dirBtn.addEventListener('click', () => {
  state.dir = state.dir === 'desc' ? 'asc' : 'desc';
  dirBtn.textContent = state.dir === 'desc' ? '↓ newest' : '↑ oldest';
  onFilterChange(0);
});
countBtn.addEventListener('click', async () => {
  countEl.textContent = 'counting…';
  try {
    const n = await request<number>({ type: 'count', filter: state.filter });
    countEl.textContent = `${n.toLocaleString()} traces`;
  } catch (e) {
    countEl.textContent = '';
    showNotice((e as Error).message, true);
  }
});

function showNotice(text: string | undefined, error = false): void {
  notice.textContent = text ?? '';
  notice.className = `notice${error ? ' error' : ''}`;
  notice.hidden = !text;
}

// ------------------------------------------------------------ paging

function params(extra: Partial<TracePageParams>): TracePageParams {
  return { filter: state.filter, sort: state.sort, dir: state.dir, limit: PAGE, ...extra };
}

function keyOf(r: TraceRow): TraceCursor {
  return { key: state.sort === 'time' ? r.timestamp : state.sort === 'latency' ? r.latencyMs : r.tokens, rowid: r.rowid };
}

async function reload(): Promise<void> {
  const gen = ++state.generation;
  state.rows = [];
  state.loaded = 0;
  state.hasMore = true;
  state.droppedAbove = false;
  state.newAbove = 0;
  state.selected = -1;
  pill.hidden = true;
  viewport.scrollTop = 0;
  countEl.textContent = '';
  showNotice(undefined);
  render();
  await fetchMore(gen);
  const want = state.selectedId;
  const i = want ? state.rows.findIndex((r) => r.id === want) : -1;
  if (i >= 0) select_(i, false);
  if (!state.rows.length) renderEmpty();
}

async function fetchMore(gen = state.generation): Promise<void> {
  if (state.loading || !state.hasMore) return;
  state.loading = true;
  try {
    const last = state.rows[state.rows.length - 1];
    const page = await request<TracePage>({ type: 'query', params: params(last ? { after: keyOf(last) } : {}) });
    if (gen !== state.generation) return;
    state.rows.push(...page.rows);
    state.loaded += page.rows.length;
    state.hasMore = page.hasMore;
    if (page.notice) showNotice(page.notice);
    trimAbove();
  } catch (e) {
    if (gen === state.generation) {
      state.hasMore = false;
      showNotice((e as Error).message, true);
    }
  } finally {
    state.loading = false;
    render();
  }
}

/** Keeps the window bounded: rows far above the viewport are dropped (and re-fetched on the way back). */
function trimAbove(): void {
  const excess = state.rows.length - MAX_ROWS;
  if (excess <= 0) return;
  const firstVisible = Math.floor(viewport.scrollTop / ROW_HEIGHT);
  const drop = Math.min(excess, Math.max(0, firstVisible - PAGE));
  if (drop <= 0) return;
  state.rows.splice(0, drop);
  state.selected -= drop;
  state.droppedAbove = true;
  viewport.scrollTop -= drop * ROW_HEIGHT;
}

/** Rows before the first one shown: new traces (live), or rows dropped by trimAbove. */
async function fetchNewer(): Promise<void> {
  if (state.loading) return;
  const first = state.rows[0];
  if (!first) {
    if (!state.hasMore || !state.rows.length) void reload();
    return;
  }
  state.loading = true;
  const gen = state.generation;
  try {
    const page = await request<TracePage>({ type: 'query', params: params({ before: keyOf(first) }) });
    if (gen !== state.generation || !page.rows.length) return;
    // Prepend without moving what the user reads: shift the scroll by what was added.
    const atTop = viewport.scrollTop < ROW_HEIGHT;
    state.rows.unshift(...page.rows);
    state.selected += page.rows.length;
    if (!page.hasMore) state.droppedAbove = false;
    if (atTop && !state.droppedAbove) {
      state.newAbove = 0;
    } else {
      viewport.scrollTop += page.rows.length * ROW_HEIGHT;
      state.newAbove += page.rows.length;
    }
    pill.textContent = `↑ ${state.newAbove} new`;
    pill.hidden = state.newAbove === 0;
  } catch {
    // Live updates are best effort; the next change tries again.
  } finally {
    state.loading = false;
    render();
  }
}
pill.addEventListener('click', () => {
  viewport.scrollTop = 0;
  state.newAbove = 0;
  pill.hidden = true;
});

// ------------------------------------------------------------ virtual list

function render(): void {
  viewport.dataset.loaded = String(state.loaded);
  viewport.dataset.kept = String(state.rows.length);
  const total = state.rows.length + (state.hasMore ? 1 : 0);
  spacer.style.height = `${total * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - 5);
  const count = Math.ceil(viewport.clientHeight / ROW_HEIGHT) + 10;
  const nodes: HTMLElement[] = [];
  for (let i = first; i < Math.min(state.rows.length, first + count); i++) {
    const r = state.rows[i];
    const row = h(d, 'div', `row${i === state.selected ? ' selected' : ''}${r.status === 'error' ? ' error' : ''}`, ...rowCells(r).map((c, j) => h(d, 'span', `col col-${COLUMNS[j].toLowerCase()}`, c)));
    row.style.top = `${i * ROW_HEIGHT}px`;
    row.setAttribute('role', 'option');
    row.setAttribute('aria-selected', String(i === state.selected));
    row.dataset.index = String(i);
    nodes.push(row);
  }
  if (state.hasMore && first + count >= state.rows.length) {
    const loading = h(d, 'div', 'row loading', state.loading ? 'Loading…' : '');
    loading.style.top = `${state.rows.length * ROW_HEIGHT}px`;
    nodes.push(loading);
  }
  rowsLayer.replaceChildren(...nodes);
}

function renderEmpty(): void {
  const filtered = Object.keys(state.filter).length > 0;
  rowsLayer.replaceChildren(h(d, 'div', 'empty', filtered ? 'No traces match these filters. Clear a filter or the search to see more.' : 'No traces yet: the proxy has not stored any.'));
}

viewport.addEventListener('scroll', () => {
  render();
  const bottom = viewport.scrollTop + viewport.clientHeight;
  if (bottom > state.rows.length * ROW_HEIGHT - 20 * ROW_HEIGHT) void fetchMore();
  if (state.droppedAbove && viewport.scrollTop < 20 * ROW_HEIGHT) void fetchNewer();
  if (viewport.scrollTop < ROW_HEIGHT && state.newAbove) {
    state.newAbove = 0;
    pill.hidden = true;
  }
});
new ResizeObserver(() => render()).observe(viewport);

rowsLayer.addEventListener('click', (e) => {
  const row = (e.target as HTMLElement).closest('.row') as HTMLElement | null;
  if (row?.dataset.index) select_(Number(row.dataset.index), true);
});

function select_(i: number, focus: boolean): void {
  if (i < 0 || i >= state.rows.length) return;
  state.selected = i;
  state.selectedId = state.rows[i].id;
  persist();
  const top = i * ROW_HEIGHT;
  if (top < viewport.scrollTop) viewport.scrollTop = top;
  else if (top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW_HEIGHT - viewport.clientHeight;
  render();
  if (focus) viewport.focus();
  void showDetail(state.rows[i].id);
}

d.addEventListener('keydown', (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === '/' && !typing) {
    e.preventDefault();
    search.focus();
    search.select();
    return;
  }
  if (typing) {
    if (e.key === 'Escape') viewport.focus();
    return;
  }
  const page = Math.max(1, Math.floor(viewport.clientHeight / ROW_HEIGHT) - 1);
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, j: 1, k: -1 };
  if (e.key in moves) {
    e.preventDefault();
    select_(Math.max(0, Math.min(state.rows.length - 1, state.selected + moves[e.key])), false);
    if (state.selected > state.rows.length - 10) void fetchMore();
  } else if (e.key === 'Home') {
    e.preventDefault();
    select_(0, false);
  } else if (e.key === 'Enter' && state.selected >= 0) {
    detail.focus();
  }
});

// ------------------------------------------------------------ detail

let detailGen = 0;
async function showDetail(id: string): Promise<void> {
  const gen = ++detailGen;
  let t: TraceDetail | null;
  try {
    t = await request<TraceDetail | null>({ type: 'detail', traceId: id });
  } catch (e) {
    if (gen === detailGen) detail.replaceChildren(h(d, 'div', 'notice error', (e as Error).message));
    return;
  }
  if (gen !== detailGen) return;
  if (!t) {
    detail.replaceChildren(h(d, 'div', 'empty', 'This trace no longer exists.'));
    return;
  }
  renderDetail(t);
}

function renderDetail(t: TraceDetail): void {
  let meta: Record<string, unknown> = {};
  try {
    meta = JSON.parse(t.metadata.text ?? '{}') ?? {};
  } catch {
    // shown raw below
  }
  const conv = conversation(t);
  const btn = (label: string, onClick: () => void, title?: string) => {
    const b = h(d, 'button', 'action', label) as HTMLButtonElement;
    if (title) b.title = title;
    b.addEventListener('click', onClick);
    return b;
  };
  const stepBtn = (label: string, id?: string | null) => (id ? btn(label, () => void showDetail(id), visible(id)) : null);
  const facts: [string, string][] = [
    ['Time', formatTime(t.timestamp)],
    ['Model', visible(String(meta.model ?? '–'))],
    ['Status', visible(String(meta.status ?? '–'))],
    ['Latency', formatMs(typeof meta.duration_ms === 'number' ? meta.duration_ms : null)],
    ['Tokens', visible(String(meta.tokens_used ?? '–'))],
    ['Endpoint', visible(t.endpoint)],
    ['Session', t.sessionId === null ? '–' : `${visible(t.sessionId)}${t.stepIndex === null ? '' : ` step ${t.stepIndex}`}`],
  ];
  if (meta.error) facts.push(['Error', visible(String(typeof meta.error === 'string' ? meta.error : JSON.stringify(meta.error)))]);
  const raw = (label: string, field: TraceField, name: 'request' | 'response' | 'metadata' | 'state_snapshot') => {
    const body = h(d, 'div', 'raw-body', jsonView(d, field.text));
    const sum = h(d, 'summary', undefined, `${label}${field.truncated ? ` (first ${(field.text?.length ?? 0).toLocaleString()} of ${field.length.toLocaleString()} characters)` : ''}`);
    const det = h(d, 'details', 'raw', sum, body);
    if (field.truncated) {
      body.append(
        btn('Show all', async () => {
          body.replaceChildren(h(d, 'div', 'empty', 'Loading…'));
          try {
            const full = await request<TraceField | null>({ type: 'field', traceId: t.id, field: name });
            body.replaceChildren(jsonView(d, full?.text ?? null, 8 * 1024 * 1024));
          } catch (e) {
            body.replaceChildren(h(d, 'div', 'notice error', (e as Error).message));
          }
        }),
      );
    }
    return det;
  };
  detail.replaceChildren(
    h(d, 'div', 'detail-head', h(d, 'span', 'trace-id', visible(t.id)),
      btn('Copy id', () => vscode.postMessage({ type: 'copy', text: t.id })),
      btn('Copy JSON', () => vscode.postMessage({ type: 'copy', text: JSON.stringify({ id: t.id, timestamp: t.timestamp, endpoint: t.endpoint, request: t.request.text, response: t.response.text, metadata: t.metadata.text }, null, 2) })),
      btn('Open JSON', () => vscode.postMessage({ type: 'openJson', traceId: t.id }), 'Open the whole trace as a read-only JSON document')),
    h(d, 'dl', 'facts', ...facts.flatMap(([k, v]) => [h(d, 'dt', undefined, k), h(d, 'dd', undefined, v)])),
    h(d, 'div', 'steps', stepBtn('◀ previous step', t.prevStep), stepBtn('next step ▶', t.nextStep), stepBtn('parent', t.parentTraceId), ...t.children.slice(0, 10).map((c, i) => stepBtn(`child ${i + 1}`, c))),
    h(d, 'h3', undefined, 'Conversation'),
    conv.parseError ? h(d, 'div', 'notice', conv.parseError) : '',
    h(d, 'div', 'chat', ...conv.messages.map((m) => chatBubble(d, m)), conv.answer ? chatBubble(d, conv.answer) : h(d, 'div', 'empty', t.response.text === null ? 'No response (the call failed).' : '')),
    raw('Request JSON', t.request, 'request'),
    raw('Response JSON', t.response, 'response'),
    raw('Metadata JSON', t.metadata, 'metadata'),
    ...(t.stateSnapshot && t.stateSnapshot.text !== null ? [raw('State snapshot', t.stateSnapshot, 'state_snapshot')] : []),
  );
  detail.scrollTop = 0;
}
detail.tabIndex = 0;

// ------------------------------------------------------------ start

async function loadChoices(): Promise<void> {
  try {
    const c = await request<FilterChoices>({ type: 'choices' });
    setOptions(model, ['', ...c.models], 'Model');
    setOptions(endpoint, ['', ...c.endpoints], 'Endpoint');
    model.value = state.filter.model ?? '';
    endpoint.value = state.filter.endpoint ?? '';
    session.disabled = !c.hasSessions;
    search.placeholder = c.hasFts ? 'Search (full-text: words, "phrases", pre*, AND/OR/NOT) (/)' : 'Search (no full-text index: slower substring search) (/)';
  } catch (e) {
    showNotice((e as Error).message, true);
  }
}

writeFilter(state.filter);
vscode.postMessage({ type: 'ready' });
void loadChoices().then(() => reload());
