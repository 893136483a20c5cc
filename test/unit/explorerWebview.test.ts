// The explorer's trust boundary: what the host accepts from the webview, and how the
// webview turns hostile trace content into DOM (text only, visible control characters).
import * as assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import { isHostMessage, isWebviewMessage } from '../../media/explorer/protocol';
import { chatBubble, conversation, h, jsonView, rowCells, visible } from '../../media/explorer/render';
import type { TraceDetail, TraceRow } from '../../src/protocol';

const HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">x</a>';

function doc(): Document {
  return parseHTML('<!doctype html><html><body></body></html>').document as unknown as Document;
}

describe('explorer: messages from the webview are validated', () => {
  it('accepts the declared messages', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'query', id: 1, params: { filter: { model: 'gpt-4o', minLatencyMs: 10, search: 'x' }, sort: 'latency', dir: 'asc', limit: 50, after: { key: '2026', rowid: 3 } } },
      { type: 'detail', id: 2, traceId: 'abc' },
      { type: 'field', id: 3, traceId: 'abc', field: 'request' },
      { type: 'count', id: 4, filter: {} },
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
      { type: 'query', id: 1, params: { likeScanRows: 1e9 } },
      { type: 'query', id: -1, params: {} },
      { type: 'query', id: 1, params: { after: { key: {}, rowid: 1 } } },
      { type: 'field', id: 3, traceId: 'abc', field: 'password' },
      { type: 'detail', id: 2, traceId: 'x'.repeat(10000) },
      { type: 'query', id: 1, params: { filter: { status: 'pending' } } },
    ]) {
      assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
    }
  });

  it('the webview accepts only the host\'s message shapes', () => {
    assert.equal(isHostMessage({ type: 'init', dbName: 'traces.db', dbPath: '/w/traces.db' }), true);
    assert.equal(isHostMessage({ type: 'response', id: 1, ok: true, result: [] }), true);
    assert.equal(isHostMessage({ type: 'didChangeData' }), true);
    assert.equal(isHostMessage({ type: 'eval', code: 'x' }), false);
    assert.equal(isHostMessage({ type: 'response', id: 'x', ok: true }), false);
  });
});

describe('explorer: hostile content renders as text', () => {
  const row: TraceRow = { rowid: 1, id: 'id', timestamp: '2026-11-26T10:00:00.000Z', model: HOSTILE, endpoint: '/v1/x', status: 'success', latencyMs: 1234, tokens: 9, sessionId: 's', stepIndex: 2, preview: `${HOSTILE}\u202eevil` };

  it('list cells and bubbles hold the markup as text, no elements', () => {
    const d = doc();
    const el = h(d, 'div', 'row', ...rowCells(row).map((c) => h(d, 'span', 'col', c)));
    d.body.append(el, chatBubble(d, { role: '<b>user</b>', content: HOSTILE }));
    assert.equal(d.querySelectorAll('img, script, a, b').length, 0);
    assert.ok(d.body.textContent!.includes('<img src=x onerror="alert(1)">'));
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
    assert.ok(pre.textContent!.includes('onerror=\\"alert(1)\\"'));
  });

  it('shows control and bidi characters visibly; keeps tabs and newlines', () => {
    assert.equal(visible('a\u202eb\u0007c\u2066d\te\nf'), 'a⟨U+202E⟩b⟨U+0007⟩c⟨U+2066⟩d\te\nf');
  });

  it('builds the conversation from request and response, and says when it cannot', () => {
    const base = { rowid: 1, id: 'x', timestamp: 't', endpoint: '/e', sessionId: null, stepIndex: null, stepId: null, parentTraceId: null, createdAt: null, children: [] };
    const field = (text: string | null, truncated = false) => ({ text, length: (text ?? '').length + (truncated ? 10 : 0), truncated });
    const t: TraceDetail = {
      ...base,
      request: field(JSON.stringify({ messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }] })),
      response: field(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'hello' } }] })),
      metadata: field('{}'),
    };
    const c = conversation(t);
    assert.deepEqual(c.messages, [{ role: 'system', content: 'be nice' }, { role: 'user', content: 'hi' }]);
    assert.deepEqual(c.answer, { role: 'assistant', content: 'hello' });
    const cut = conversation({ ...t, request: field('{"messages":[{"role":"user","content":"aaaa', true) });
    assert.match(cut.parseError!, /too large/);
  });

  it('a multi-megabyte message is cut for display', () => {
    const d = doc();
    const b = chatBubble(d, { role: 'user', content: 'x'.repeat(3_000_000) });
    assert.ok(b.textContent!.length < 25000);
    assert.match(b.textContent!, /more characters/);
  });
});
