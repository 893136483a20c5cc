// The explorer's trust boundary: what the host accepts from the webview, and how the
// webview turns hostile trace content into DOM (text only, visible control characters).
import * as assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import { startExplorer, type Explorer } from '../../../webview/explorer/app';
import { dirLabel } from '../../../webview/explorer/header';
import { isHostMessage, isWebviewMessage, type HostMessage, type WebviewMessage } from '../../../src/shared/webviewProtocol';
import { chatBubble, conversation, h, highlight, jsonView, rowCells, searchTerms, visible } from '../../../webview/explorer/render';
import type { TraceDetail, TracePage, TraceRow } from '../../../src/shared/protocol';

const HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">x</a>';

function doc(): Document {
  return parseHTML('<!doctype html><html><body></body></html>').document;
}

describe('explorer: messages from the webview are validated', () => {
  it('accepts the declared messages', () => {
    for (const m of [
      { type: 'ready' },
      {
        type: 'query',
        id: 1,
        params: { filter: { model: 'gpt-4o', minLatencyMs: 10, search: 'x' }, sort: 'latency', dir: 'asc', limit: 50, after: { key: '2026', rowid: 3 } },
      },
      { type: 'detail', id: 2, params: { traceId: 'abc' } },
      { type: 'field', id: 3, params: { traceId: 'abc', field: 'request' } },
      { type: 'count', id: 4, params: { filter: {} } },
      { type: 'choices', id: 5 },
      { type: 'openJson', traceId: 'abc' },
      { type: 'copy', text: 'hello' },
    ]) {
      assert.equal(isWebviewMessage(m), true, JSON.stringify(m));
    }
  });

  it('drops anything else', () => {
    for (const m of [
      null,
      'ready',
      { type: 'exec', cmd: 'rm -rf /' },
      { type: 'query', id: 1, params: { filter: { model: 5 } } },
      { type: 'query', id: 1, params: { filter: { sql: 'DROP TABLE traces' } } },
      { type: 'query', id: 1, params: { sort: 'rowid; DROP TABLE traces' } },
      { type: 'query', id: 1, params: { limit: 100000 } },
      { type: 'query', id: 1, params: { scanRows: 1e9 } },
      { type: 'query', id: -1, params: {} },
      { type: 'query', id: 1, params: { after: { key: {}, rowid: 1 } } },
      { type: 'field', id: 3, params: { traceId: 'abc', field: 'password' } },
      { type: 'detail', id: 2, params: { traceId: 'x'.repeat(10000) } },
      { type: 'query', id: 1, params: { filter: { status: 'pending' } } },
    ]) {
      assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
    }
  });

  it("the webview accepts only the host's message shapes", () => {
    assert.equal(isHostMessage({ type: 'init', dbName: 'traces.db', dbPath: '/w/traces.db' }), true);
    assert.equal(isHostMessage({ type: 'response', id: 1, ok: true, result: [] }), true);
    assert.equal(isHostMessage({ type: 'didChangeData' }), true);
    assert.equal(isHostMessage({ type: 'didChangeData', traceCount: 12 }), true);
    assert.equal(isHostMessage({ type: 'didChangeTraceCount', traceCount: 12 }), true);
    assert.equal(isHostMessage({ type: 'didChangeTraceCount', traceCount: '12' }), false);
    assert.equal(isHostMessage({ type: 'init', dbName: 'traces.db', dbPath: '/w/traces.db', traceCount: -1 }), false);
    assert.equal(isHostMessage({ type: 'eval', code: 'x' }), false);
    assert.equal(isHostMessage({ type: 'response', id: 'x', ok: true }), false);
  });
});

describe('explorer: hostile content renders as text', () => {
  const row: TraceRow = {
    rowid: 1,
    id: 'id',
    timestamp: '2026-11-26T10:00:00.000Z',
    model: HOSTILE,
    endpoint: '/v1/x',
    status: 'success',
    latencyMs: 1234,
    tokens: 9,
    sessionId: 's',
    stepIndex: 2,
    preview: `${HOSTILE}\u202eevil`,
  };

  it('list cells and bubbles hold the markup as text, no elements', () => {
    const d = doc();
    const el = h(d, 'div', 'row', ...rowCells(row).map((c) => h(d, 'span', 'col', c)));
    d.body.append(el, chatBubble(d, { role: '<b>user</b>', content: HOSTILE }));
    assert.equal(d.querySelectorAll('img, script, a, b').length, 0);
    assert.ok(d.body.textContent.includes('<img src=x onerror="alert(1)">'));
    assert.match(rowCells(row)[7], /⟨U\+202E⟩evil$/);
    assert.equal(rowCells(row)[4], '1.23 s');
  });

  it('JSON view colours tokens with spans of text, even for markup inside strings', () => {
    const d = doc();
    const pre = jsonView(d, JSON.stringify({ content: HOSTILE, n: 1, ok: true, none: null }));
    d.body.append(pre);
    assert.equal(d.querySelectorAll('img, script, a').length, 0);
    assert.equal(pre.querySelectorAll('.json-key').length, 4);
    assert.equal(pre.querySelector('.json-number')!.textContent, '1');
    assert.equal(pre.querySelector('.json-bool')!.textContent, 'true');
    assert.ok(pre.textContent.includes('onerror=\\"alert(1)\\"'));
  });

  it('shows control and bidi characters visibly; keeps tabs and newlines', () => {
    assert.equal(visible('a\u202eb\u0007c\u2066d\te\nf'), 'a⟨U+202E⟩b⟨U+0007⟩c⟨U+2066⟩d\te\nf');
  });

  it('builds the conversation from request and response, and says when it cannot', () => {
    const base = {
      rowid: 1,
      id: 'x',
      timestamp: 't',
      endpoint: '/e',
      sessionId: null,
      stepIndex: null,
      stepId: null,
      parentTraceId: null,
      createdAt: null,
      children: [],
    };
    const field = (text: string | null, truncated = false) => ({ text, length: (text ?? '').length + (truncated ? 10 : 0), truncated });
    const t: TraceDetail = {
      ...base,
      request: field(
        JSON.stringify({
          messages: [
            { role: 'system', content: 'be nice' },
            { role: 'user', content: [{ type: 'text', text: 'hi' }] },
          ],
        }),
      ),
      response: field(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'hello' } }] })),
      metadata: field('{}'),
    };
    const c = conversation(t);
    assert.deepEqual(c.messages, [
      { role: 'system', content: 'be nice' },
      { role: 'user', content: 'hi' },
    ]);
    assert.deepEqual(c.answer, { role: 'assistant', content: 'hello' });
    const cut = conversation({ ...t, request: field('{"messages":[{"role":"user","content":"aaaa', true) });
    assert.match(cut.parseError!, /too large/);
  });

  it('a multi-megabyte message is cut for display', () => {
    const d = doc();
    const b = chatBubble(d, { role: 'user', content: 'x'.repeat(3_000_000) });
    assert.ok(b.textContent.length < 25000);
    assert.match(b.textContent, /more characters/);
  });
});

// ---------------------------------------------------------------- the explorer page, driven in linkedom

type Sent = Extract<WebviewMessage, { id: number }>;

/** The explorer page with a fake host: every request is recorded and answered by the test. */
class Page {
  readonly doc: Document;
  readonly win = new EventTarget();
  private readonly Event: typeof Event;
  readonly sent: WebviewMessage[] = [];
  readonly answered = new Set<number>();
  state: unknown;
  explorer!: Explorer;

  constructor(saved?: unknown) {
    const { document, Event: DomEvent } = parseHTML('<!doctype html><html><head><title></title></head><body></body></html>');
    this.doc = document;
    // linkedom dispatches only its own events.
    this.Event = DomEvent;
    this.state = saved;
    this.explorer = startExplorer({
      doc: this.doc,
      win: this.win,
      api: { postMessage: (m) => void this.sent.push(m), getState: () => this.state, setState: (s) => void (this.state = s) },
    });
  }

  post(m: HostMessage): void {
    this.win.dispatchEvent(Object.assign(new Event('message'), { data: m }));
  }

  /** Requests not answered yet, oldest first. */
  open(type?: Sent['type']): Sent[] {
    return this.sent.filter((m): m is Sent => 'id' in m && !this.answered.has(m.id) && (!type || m.type === type));
  }

  async answer(req: Sent, result: unknown, error?: string): Promise<void> {
    this.answered.add(req.id);
    this.post(error ? { type: 'response', id: req.id, ok: false, error } : { type: 'response', id: req.id, ok: true, result });
    await settle();
  }

  async start(rows: TraceRow[], choices = { models: ['gpt-4o-mini'], endpoints: ['/v1/chat/completions'], hasFts: true, hasSessions: true }): Promise<void> {
    this.post({ type: 'init', dbName: 'traces.db', dbPath: '/w/traces.db', traceCount: 5 });
    await this.answer(this.open('choices')[0], choices);
    await this.answer(this.open('query')[0], page(rows));
    await this.explorer.started;
  }

  $(sel: string): HTMLElement | null {
    return this.doc.querySelector<HTMLElement>(sel);
  }
  $$(sel: string): HTMLElement[] {
    return [...this.doc.querySelectorAll(sel)] as HTMLElement[];
  }
  rowTexts(): string[] {
    return this.$$('.row[data-index]').map((r) => `${r.dataset.id}|${r.textContent}`);
  }
  fire(el: Element, type: string, props: Record<string, unknown> = {}): void {
    el.dispatchEvent(Object.assign(new this.Event(type, { bubbles: true }), props));
  }
}

function choose(s: HTMLSelectElement, value: string): void {
  const o = [...s.querySelectorAll('option')].find((x) => x.value === value);
  if (o) o.selected = true;
}

const settle = () => new Promise((r) => setTimeout(r, 5));

function trace(n: number, extra: Partial<TraceRow> = {}): TraceRow {
  return {
    rowid: n,
    id: `id-${n}`,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    model: n % 2 ? 'gpt-4o-mini' : 'llama-3',
    endpoint: '/v1/chat/completions',
    status: 'success',
    latencyMs: 100 + n,
    tokens: 10 * n,
    sessionId: null,
    stepIndex: null,
    preview: `prompt number ${n}`,
    ...extra,
  };
}
function page(rows: TraceRow[], hasMore = false, notice?: string): TracePage {
  return { rows, hasMore, searchMode: 'none', durationMs: 1, ...(notice ? { notice } : {}) };
}
const five = () => [5, 4, 3, 2, 1].map((n) => trace(n));

describe('explorer: the list is an accessible grid', () => {
  it('has grid, row, gridcell and columnheader roles with row indexes and sort state', async () => {
    const p = new Page();
    await p.start(five());
    const grid = p.$('[role="grid"]')!;
    assert.ok(grid);
    assert.equal(grid.getAttribute('aria-rowcount'), '6', 'five rows and the header, all loaded');
    const headers = p.$$('[role="columnheader"]');
    assert.deepEqual(
      headers.map((x) => x.textContent.replace(/[↓↑ ]/g, '')),
      ['Time', 'Model', 'Endpoint', 'Status', 'Latency', 'Tokens', 'Session', 'Prompt'],
    );
    assert.equal(headers[0].getAttribute('aria-sort'), 'descending');
    assert.equal(headers[4].getAttribute('aria-sort'), 'none');
    assert.equal(headers[1].getAttribute('aria-sort'), null, 'model is not sortable');
    const rows = p.$$('.row[role="row"]');
    assert.equal(rows.length, 5);
    assert.deepEqual(
      rows.map((r) => r.getAttribute('aria-rowindex')),
      ['2', '3', '4', '5', '6'],
    );
    assert.ok(rows.every((r) => r.getAttribute('aria-selected') === 'false'));
    assert.equal(rows[0].querySelectorAll('[role="gridcell"]').length, 8);
    assert.equal(p.$('.count')!.textContent, '≈ 5 traces', "the health report's estimate, no COUNT(*)");
    assert.equal(p.open('count').length, 0);
    assert.ok(p.$('.detail')!.hidden, 'no detail pane until a trace is selected');
  });

  it("a row is selected at pointer-down and the detail request carries that row's id", async () => {
    const p = new Page();
    await p.start(five());
    const row = p.$('.row[data-index="2"]')!;
    p.fire(row.querySelector('.col-model')!, 'pointerdown');
    const req = p.open('detail');
    assert.equal(req.length, 1);
    assert.equal(req[0].type === 'detail' && req[0].params.traceId, 'id-3');
    const selected = p.$$('[aria-selected="true"]');
    assert.equal(selected.length, 1);
    assert.equal(selected[0].dataset.id, 'id-3');
    assert.equal(p.$('[role="grid"]')!.getAttribute('aria-activedescendant'), selected[0].id);
    assert.equal(p.$('.detail')!.hidden, false);
  });

  it('a header click sorts by that column and toggles the direction; the button names the direction', async () => {
    const p = new Page();
    await p.start(five());
    assert.equal(p.$('button.dir')!.textContent, '↓ newest');
    p.fire(p.$('.col-latency button.sort')!, 'click');
    await settle();
    let q = p.open('query');
    assert.equal(q.length, 1);
    assert.deepEqual(q[0].type === 'query' && [q[0].params.sort, q[0].params.dir], ['latency', 'desc']);
    assert.equal(p.$('button.dir')!.textContent, '↓ slowest');
    assert.equal(p.$('.list-header .col-latency')!.getAttribute('aria-sort'), 'descending');
    await p.answer(q[0], page(five()));
    p.fire(p.$('.col-latency button.sort')!, 'click');
    await settle();
    q = p.open('query');
    assert.deepEqual(q[0].type === 'query' && [q[0].params.sort, q[0].params.dir], ['latency', 'asc']);
    assert.equal(p.$('button.dir')!.textContent, '↑ fastest');
    assert.equal(p.$('.list-header .col-latency')!.getAttribute('aria-sort'), 'ascending');
    assert.equal(p.$('.list-header .col-time')!.getAttribute('aria-sort'), 'none');
    assert.equal(dirLabel('tokens', 'desc'), '↓ most');
    assert.equal(dirLabel('tokens', 'asc'), '↑ fewest');
    assert.equal(dirLabel('time', 'asc'), '↑ oldest');
  });
});

describe('explorer: keyboard and columns', () => {
  it('arrows and Home move the selection and request its detail', async () => {
    const p = new Page();
    await p.start(five());
    const grid = p.$('[role="grid"]')!;
    p.fire(grid, 'keydown', { key: 'ArrowDown' });
    p.fire(grid, 'keydown', { key: 'ArrowDown' });
    assert.equal(p.$('[aria-selected="true"]')!.dataset.id, 'id-4');
    assert.deepEqual(
      p.open('detail').map((m) => m.type === 'detail' && m.params.traceId),
      ['id-5', 'id-4'],
    );
    p.fire(grid, 'keydown', { key: 'Home' });
    assert.equal(p.$('[aria-selected="true"]')!.dataset.id, 'id-5');
    p.fire(p.$('.detail')!, 'keydown', { key: 'ArrowDown' });
    assert.equal(p.$('[aria-selected="true"]')!.dataset.id, 'id-5', 'arrows inside the detail do not move the list');
  });

  it('a column is resized by dragging its header edge, and the width is kept in the webview state', async () => {
    const p = new Page();
    await p.start(five());
    const grip = p.$('.list-header .col-model .resizer')!;
    p.fire(grip, 'pointerdown', { clientX: 100, pointerId: 1 });
    p.fire(grip, 'pointermove', { clientX: 160, pointerId: 1 });
    p.fire(grip, 'pointerup', { clientX: 160, pointerId: 1 });
    assert.equal((p.state as { widths: number[] }).widths[1], 190);
    assert.match(p.$('[role="grid"]')!.getAttribute('style')!, /--cols:\s*120px 190px/);
    // A reopened page starts with the kept widths.
    const again = new Page(p.state);
    assert.equal(again.explorer.list.widths[1], 190);
  });
});

describe('explorer: new traces never move what the user reads', () => {
  it('dataChanged shows a pill and queries nothing; the rows and the selection stay until the pill is clicked', async () => {
    const p = new Page();
    await p.start(five());
    p.fire(p.$('.row[data-index="1"]')!, 'pointerdown');
    await p.answer(p.open('detail')[0], null);
    const before = p.rowTexts();
    const sentBefore = p.sent.length;
    assert.ok(p.$('.new-pill')!.hidden);

    p.post({ type: 'didChangeData', traceCount: 12 });
    p.post({ type: 'didChangeData', traceCount: 12 });
    await settle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.sent.length, sentBefore, 'no query, not even a count');
    assert.deepEqual(p.rowTexts(), before, 'the rows did not change');
    assert.equal(p.$('[aria-selected="true"]')!.dataset.id, 'id-4');
    const pill = p.$('.new-pill')!;
    assert.equal(pill.hidden, false);
    assert.equal(pill.textContent, '↑ 7 new traces', 'max(rowid) 12 from the health report, newest row shown is rowid 5');

    // Unknown count (no estimate): the pill still appears, without a number.
    const q = new Page();
    await q.start(five());
    q.explorer.list.setEstimate(undefined);
    q.post({ type: 'didChangeData' });
    await settle();
    assert.equal(q.$('.new-pill')!.textContent, '↑ New traces');

    // The user asks: the new rows load, the selection follows its trace.
    p.fire(pill, 'click');
    await settle();
    const reload = p.open('query');
    assert.equal(reload.length, 1);
    await p.answer(reload[0], page([8, 7, 6, 5, 4, 3, 2, 1].map((n) => trace(n))));
    assert.equal(p.$$('.row[data-index]').length, 8);
    assert.equal(p.$('.row[data-index="0"]')!.dataset.id, 'id-8');
    assert.equal(p.$('[aria-selected="true"]')!.dataset.id, 'id-4');
    assert.ok(p.$('.new-pill')!.hidden);
  });
});

describe('explorer: one state machine for the list', () => {
  it("only the latest query's answer renders; a stale answer is dropped", async () => {
    const p = new Page();
    await p.start(five());
    const status = p.$('select[aria-label="Status"]') as HTMLSelectElement;
    choose(status, 'error');
    p.fire(status, 'change');
    await settle();
    const model = p.$('select[aria-label="Model"]') as HTMLSelectElement;
    choose(model, 'gpt-4o-mini');
    p.fire(model, 'change');
    await settle();
    const [first, second] = p.open('query');
    assert.ok(first && second, 'two queries in flight');
    await p.answer(second, page([trace(9, { status: 'error' })]));
    assert.deepEqual(
      p.$$('.row[data-index]').map((r) => r.dataset.id),
      ['id-9'],
    );
    await p.answer(first, page(five()));
    assert.deepEqual(
      p.$$('.row[data-index]').map((r) => r.dataset.id),
      ['id-9'],
      'the older answer came last and was dropped',
    );
    assert.equal(p.explorer.list.status, 'loaded');
  });

  it('a search error shows its message and stays: no re-query, no flicker, also when data changes', async () => {
    const p = new Page();
    await p.start(five());
    const search = p.$('input.search') as HTMLInputElement;
    search.value = '"unterminated';
    p.fire(search, 'input');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.explorer.list.status, 'loading');
    await p.answer(p.open('query')[0], undefined, 'The search is not valid full-text syntax: unterminated string');
    const sentAfter = p.sent.length;
    for (let i = 0; i < 3; i++) p.post({ type: 'didChangeData', traceCount: 20 + i });
    p.fire(p.$('.viewport')!, 'scroll');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.sent.length, sentAfter, 'nothing re-queried by itself');
    assert.equal(p.explorer.list.status, 'error');
    assert.match(p.$('.list-error')!.textContent, /unterminated string/);
    assert.equal(p.$$('.row[data-index]').length, 0);
    assert.equal(p.doc.body.textContent.includes('Loading…'), false);
  });

  it('an empty answer shows the empty state once and stays', async () => {
    const p = new Page();
    await p.start(five());
    const search = p.$('input.search') as HTMLInputElement;
    search.value = 'nomatchanywhere';
    p.fire(search, 'input');
    await new Promise((r) => setTimeout(r, 300));
    await p.answer(p.open('query')[0], page([]));
    p.post({ type: 'didChangeData', traceCount: 30 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.open('query').length, 0);
    assert.equal(p.explorer.list.status, 'empty');
    assert.match(p.$('.status-row')!.textContent, /No traces match these filters/);
  });
});

describe('explorer: search terms are highlighted as text', () => {
  it('reads words, phrases and prefixes from full-text syntax', () => {
    assert.deepEqual(searchTerms('"rate limit" OR retry* NOT timeout'), ['rate limit', 'timeout', 'retry']);
    assert.deepEqual(searchTerms(''), []);
  });

  it('wraps matches in <mark> with text nodes only, even for markup in the data or the term', () => {
    const d = doc();
    const nodes = highlight(d, `Retry the <b>rate limit</b> retry`, searchTerms('retry "rate limit"'));
    const span = h(d, 'span', undefined, ...nodes);
    assert.deepEqual(
      [...span.querySelectorAll('mark')].map((m) => m.textContent),
      ['Retry', 'rate limit', 'retry'],
    );
    assert.equal(span.querySelectorAll('b').length, 0);
    assert.equal(span.textContent, 'Retry the <b>rate limit</b> retry');
    const hostile = h(d, 'span', undefined, ...highlight(d, 'x <img src=x onerror=alert(1)> y', searchTerms('<img')));
    assert.equal(hostile.querySelectorAll('img').length, 0);
    assert.equal(hostile.querySelector('mark')!.textContent, '<img');
    // Full-text search matches at word starts: "cat" is not marked inside "concatenate".
    assert.equal(h(d, 'span', undefined, ...highlight(d, 'concatenate cat', ['cat'])).querySelectorAll('mark').length, 1);
  });

  it('the prompt column of a searched list marks the term', async () => {
    const p = new Page();
    await p.start(five());
    const search = p.$('input.search') as HTMLInputElement;
    search.value = 'number';
    p.fire(search, 'input');
    await new Promise((r) => setTimeout(r, 300));
    await p.answer(p.open('query')[0], page([trace(3, { preview: `the number <script>alert(1)</script>` })]));
    const cell = p.$('.row .col-prompt')!;
    assert.equal(cell.querySelector('mark')!.textContent, 'number');
    assert.equal(cell.querySelectorAll('script').length, 0);
    assert.equal(cell.textContent, 'the number <script>alert(1)</script>');
  });
});
