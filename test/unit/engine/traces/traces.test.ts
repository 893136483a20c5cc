// The explorer's query layer on real trace DBs: keyset paging, filters, search, detail.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { countTraces } from '../../../../src/engine/traces/countTraces';
import { filterChoices } from '../../../../src/engine/traces/filterChoices';
import { ftsQuery } from '../../../../src/engine/traces/ftsQuery';
import { listTraces } from '../../../../src/engine/traces/listTraces';
import { getTrace, getTraceField } from '../../../../src/engine/traces/traceDetail';
import { FIELD_PREVIEW_CHARS, type TracePageParams, type TraceRow } from '../../../../src/shared/traceModel';
import { openFixtureDb, tempDir, traceWorkspace } from '../../../support/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fx = require('../../../fixtures/traceforge.cjs');

/** Inserts traces with chosen fields into an existing DB. */
async function insert(db: string, traces: Record<string, unknown>[], legacy = false): Promise<void> {
  const c = await fx.open(db);
  for (const t of traces) await c.run(legacy ? fx.LEGACY_INSERT_SQL : fx.INSERT_SQL, fx.bind(t, legacy));
  await c.close();
}

async function allPages(db: string, p: TracePageParams): Promise<TraceRow[]> {
  const out: TraceRow[] = [];
  let after: TracePageParams['after'];
  for (let i = 0; i < 1000; i++) {
    const page = await listTraces(db, { ...p, after });
    out.push(...page.rows);
    if (!page.hasMore) return out;
    after = page.cursor;
  }
  throw new Error('paging did not end');
}

async function everything(db: string): Promise<Record<string, unknown>[]> {
  const c = await openFixtureDb(db);
  const rows = await c.all(`SELECT rowid, id, timestamp, endpoint, json_extract(metadata,'$.model') AS model, json_extract(metadata,'$.status') AS status,
     json_extract(metadata,'$.duration_ms') AS lat, json_extract(metadata,'$.tokens_used') AS tok, session_id FROM traces`);
  await c.close();
  return rows;
}

describe('traces: keyset paging', () => {
  it('pages newest first through equal timestamps without gaps or repeats', async () => {
    const { db } = await traceWorkspace({ rows: 0 });
    const ts = '2026-11-26T10:00:00.000Z';
    // 23 traces in 3 timestamps: most ties resolve by rowid.
    await insert(
      db,
      Array.from({ length: 23 }, (_, i) => ({ ...fx.makeTrace(i), timestamp: i < 10 ? ts : i < 20 ? '2026-11-26T11:00:00.000Z' : '2026-11-26T09:00:00.000Z' })),
    );
    const got = await allPages(db, { limit: 4 });
    const expected = (await everything(db)).sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp)) || Number(b.rowid) - Number(a.rowid));
    assert.deepEqual(
      got.map((r) => r.rowid),
      expected.map((r) => r.rowid),
    );
    const asc = await allPages(db, { limit: 5, dir: 'asc' });
    assert.deepEqual(
      asc.map((r) => r.rowid),
      [...expected].reverse().map((r) => r.rowid),
    );
  });

  it('sorts by latency and tokens, both directions, paging stays exact', async () => {
    const { db } = await traceWorkspace({ rows: 60 });
    const all = await everything(db);
    for (const [sort, key] of [
      ['latency', 'lat'],
      ['tokens', 'tok'],
    ] as const) {
      for (const dir of ['desc', 'asc'] as const) {
        const got = await allPages(db, { sort, dir, limit: 7 });
        const sign = dir === 'desc' ? -1 : 1;
        const expected = [...all].sort((a, b) => sign * (Number(a[key]) - Number(b[key])) || sign * (Number(a.rowid) - Number(b.rowid)));
        assert.deepEqual(
          got.map((r) => r.rowid),
          expected.map((r) => r.rowid),
          `${sort} ${dir}`,
        );
      }
    }
  });

  it('fills the list columns, with a preview of the prompt', async () => {
    const { db } = await traceWorkspace({ rows: 3 });
    const page = await listTraces(db, { limit: 2 });
    assert.equal(page.rows.length, 2);
    assert.equal(page.hasMore, true);
    const r = page.rows[0];
    assert.ok(r.model && r.endpoint && r.status && r.latencyMs !== null && r.tokens !== null && r.sessionId);
    assert.ok(r.preview.length > 10 && r.preview.length <= 160);
  });

  it('"before" returns the traces newer than the first row shown (live updates)', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const first = await listTraces(db, { limit: 5 });
    const future = new Date(Date.now() + 60000).toISOString();
    await insert(
      db,
      [0, 1, 2].map((i) => ({ ...fx.makeTrace(100 + i), timestamp: future })),
    );
    const top = first.rows[0];
    const newer = await listTraces(db, { before: { key: top.timestamp, rowid: top.rowid }, limit: 50 });
    assert.equal(newer.rows.length, 3);
    const again = await listTraces(db, { limit: 4 });
    assert.deepEqual(
      newer.rows.map((r) => r.rowid),
      again.rows.slice(0, 3).map((r) => r.rowid),
      'same order as the list',
    );
  });
});

describe('traces: filters', () => {
  it('every filter returns exactly the matching traces', async () => {
    const { db } = await traceWorkspace({ rows: 120 });
    const all = await everything(db);
    const times = all.map((r) => String(r.timestamp)).sort();
    const cases: [TracePageParams['filter'], (r: Record<string, unknown>) => boolean][] = [
      [{ model: 'gpt-4o' }, (r) => r.model === 'gpt-4o'],
      [{ status: 'error' }, (r) => r.status === 'error'],
      [{ endpoint: '/v1/messages' }, (r) => r.endpoint === '/v1/messages'],
      [{ from: times[30], to: times[60] }, (r) => String(r.timestamp) >= times[30] && String(r.timestamp) < times[60]],
      [{ sessionId: 'sess-3' }, (r) => r.session_id === 'sess-3'],
      [{ minLatencyMs: 1000, maxLatencyMs: 3000 }, (r) => Number(r.lat) >= 1000 && Number(r.lat) <= 3000],
      [{ minTokens: 300 }, (r) => Number(r.tok) >= 300],
      [{ maxTokens: 100, status: 'success' }, (r) => Number(r.tok) <= 100 && r.status === 'success'],
    ];
    for (const [filter, pred] of cases) {
      const got = await allPages(db, { filter, limit: 9 });
      const want = all
        .filter(pred)
        .map((r) => Number(r.rowid))
        .sort((a, b) => a - b);
      assert.deepEqual(
        got.map((r) => r.rowid).sort((a, b) => a - b),
        want,
        JSON.stringify(filter),
      );
      assert.ok(want.length > 0, `the fixture has matches for ${JSON.stringify(filter)}`);
      assert.equal(await countTraces(db, filter), want.length);
    }
  });

  it('offers the models and endpoints present', async () => {
    const { db } = await traceWorkspace({ rows: 20 });
    const ch = await filterChoices(db);
    assert.deepEqual(ch.models, ['claude-haiku-4', 'claude-sonnet-4', 'gpt-4o', 'gpt-4o-mini', 'llama-3.1-70b']);
    assert.ok(ch.endpoints.includes('/v1/chat/completions'));
    assert.equal(ch.hasFts, true);
  });
});

describe('traces: search', () => {
  it('full-text search through traces_fts, combined with filters and paging', async () => {
    const { db } = await traceWorkspace({ rows: 40 });
    await insert(db, [fx.makeTrace(500, { extra: ' zanzibar quokka' }), fx.makeTrace(501, { extra: ' zanzibar' })]);
    const page = await listTraces(db, { filter: { search: 'zanzibar' } });
    assert.equal(page.searchMode, 'fts');
    assert.equal(page.rows.length, 2);
    assert.equal((await listTraces(db, { filter: { search: 'zanzibar AND quokka' } })).rows.length, 1);
    assert.equal((await listTraces(db, { filter: { search: 'zanz*' } })).rows.length, 2);
    assert.equal(await countTraces(db, { search: 'zanzibar' }), 2);
    const paged = await allPages(db, { filter: { search: 'Answer' }, limit: 5 });
    assert.ok(paged.length >= 30);
  });

  it('a search syntax error says how to write one', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    await assert.rejects(listTraces(db, { filter: { search: 'AND OR' } }), /Search syntax error.*quoted phrases/);
    await assert.rejects(listTraces(db, { filter: { search: 'zanzibar NOT' } }), /Search syntax error/);
  });

  it('words with punctuation are quoted as TraceForge does (gpt-4o is not a column), FTS syntax still works', async () => {
    const { db } = await traceWorkspace({ rows: 40 });
    await insert(db, [fx.makeTrace(700, { extra: ' see gpt-4o-2024 notes' }), fx.makeTrace(701, { extra: ' an unclosed phrase here' })]);
    const models = (await listTraces(db, { filter: { search: 'gpt-4o' }, limit: 200 })).rows;
    assert.ok(models.length >= 8, `gpt-4o matched ${models.length} traces`);
    assert.ok(models.every((r) => /gpt-4o/.test(JSON.stringify(r))));
    assert.equal((await listTraces(db, { filter: { search: 'gpt-4o-2024*' } })).rows.length, 1);
    assert.ok((await listTraces(db, { filter: { search: 'model:gpt-4o-mini' }, limit: 200 })).rows.length >= 8);
    assert.equal((await listTraces(db, { filter: { search: '"unclosed phrase' } })).rows.length, 1, 'an unterminated phrase closes itself');
    assert.equal(await countTraces(db, { search: 'gpt-4o-2024' }), 1);
    assert.equal(ftsQuery('(slowest OR quokka) AND "write-ahead logging"'), '( slowest OR quokka ) AND "write-ahead logging"');
    assert.equal(ftsQuery('llama-3.1-70b*'), '"llama-3.1-70b"*');
  });

  it('falls back to a bounded LIKE scan on an older DB without FTS, and says so', async () => {
    const { db } = await traceWorkspace({ rows: 30, legacy: true });
    await insert(db, [{ ...fx.makeTrace(900, { extra: ' 100%_literal' }) }], true);
    const page = await listTraces(db, { filter: { search: '100%_lit' } });
    assert.equal(page.searchMode, 'like');
    assert.equal(page.rows.length, 1, 'LIKE wildcards in the search are literal');
    assert.match(page.notice!, /slower/);
    // With a scan window smaller than the table, it says how far it looked and pages on.
    const bounded = await listTraces(db, { filter: { search: 'Answer' }, limit: 50, scanRows: 10 });
    assert.equal(bounded.hasMore, true);
    assert.match(bounded.notice!, /searched the newest 10 traces only/);
    const rest = await allPages(db, { filter: { search: 'Answer' }, limit: 50, scanRows: 10 });
    const c = await openFixtureDb(db);
    const n = (await c.get("SELECT count(*) AS n FROM traces WHERE response LIKE '%Answer%'")).n;
    await c.close();
    assert.equal(rest.length, n);
  });

  it('an older DB: no session filter, null session columns', async () => {
    const { db } = await traceWorkspace({ rows: 5, legacy: true });
    const page = await listTraces(db);
    assert.equal(page.rows[0].sessionId, null);
    await assert.rejects(listTraces(db, { filter: { sessionId: 'x' } }), /no session_id column/);
  });
});

describe('traces: not in WAL mode, bounded work per statement', () => {
  it('latency sorts within windows of the newest traces, says so, and load more walks every window', async () => {
    const { db } = await traceWorkspace({ rows: 30 });
    const all = await everything(db);
    const byTime = [...all].sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp)) || Number(b.rowid) - Number(a.rowid));
    const got = await allPages(db, { sort: 'latency', dir: 'desc', limit: 4, scanRows: 10 });
    assert.equal(got.length, 30);
    for (let w = 0; w < 3; w++) {
      const window = byTime.slice(w * 10, w * 10 + 10).sort((a, b) => Number(b.lat) - Number(a.lat) || Number(b.rowid) - Number(a.rowid));
      assert.deepEqual(
        got.slice(w * 10, w * 10 + 10).map((r) => r.rowid),
        window.map((r) => r.rowid),
        `window ${w}`,
      );
    }
    const first = await listTraces(db, { sort: 'tokens', limit: 4, scanRows: 10 });
    assert.match(first.notice!, /Sorted among the newest 10 traces: the database is not in WAL mode.*Enable WAL to sort all/);
    // New traces do not shift the window a later page sorts.
    await insert(
      db,
      [fx.makeTrace(300), fx.makeTrace(301)].map((t) => ({ ...t, timestamp: new Date(Date.now() + 60000).toISOString() })),
    );
    const second = await listTraces(db, { sort: 'tokens', limit: 4, scanRows: 10, after: first.cursor });
    const firstTen = (await allPages(db, { sort: 'tokens', limit: 20, scanRows: 10, after: undefined })).slice(0, 10);
    assert.ok(
      firstTen.some((r) => r.rowid > 30),
      'a fresh first page sees the new traces',
    );
    assert.ok(
      second.rows.every((r) => r.rowid <= 30),
      'the anchored window does not',
    );
  });

  it('an unindexed filter scans a bounded slice per request and pages through all matches', async () => {
    const { db } = await traceWorkspace({ rows: 60 });
    const all = await everything(db);
    const page = await listTraces(db, { filter: { model: 'gpt-4o', minTokens: 1 }, limit: 50, scanRows: 7 });
    assert.equal(page.hasMore, true);
    assert.match(page.notice!, /Looked at the newest 7 traces only: the database is not in WAL mode/);
    const got = await allPages(db, { filter: { model: 'gpt-4o' }, limit: 3, scanRows: 7 });
    assert.deepEqual(
      got.map((r) => r.rowid).sort((a, b) => a - b),
      all
        .filter((r) => r.model === 'gpt-4o')
        .map((r) => Number(r.rowid))
        .sort((a, b) => a - b),
    );
    const search = await allPages(db, { filter: { search: 'Answer', status: 'success' }, limit: 5, scanRows: 9 });
    assert.equal(search.length, all.filter((r) => r.status === 'success').length);
  });

  it('counts exactly in chunks, with filters and search', async () => {
    const { db } = await traceWorkspace({ rows: 45 });
    const all = await everything(db);
    assert.equal(await countTraces(db, {}, { chunkRows: 4, yieldMs: 0 }), 45);
    assert.equal(await countTraces(db, { status: 'error' }, { chunkRows: 4, yieldMs: 0 }), all.filter((r) => r.status === 'error').length);
    const c = await openFixtureDb(db);
    const n = (
      await c.get(
        "SELECT count(*) AS n FROM traces WHERE rowid IN (SELECT rowid FROM traces_fts WHERE traces_fts MATCH 'Answer') AND json_extract(metadata, '$.model') = 'gpt-4o'",
      )
    ).n;
    await c.close();
    assert.ok(Number(n) > 0);
    assert.equal(await countTraces(db, { search: 'Answer', model: 'gpt-4o' }, { chunkRows: 4, yieldMs: 0 }), n);
  });

  it('in WAL mode nothing is bounded: one global sort, no notice', async () => {
    const { db } = await traceWorkspace({ rows: 30, journalMode: 'wal' });
    const all = await everything(db);
    const page = await listTraces(db, { sort: 'latency', limit: 5, scanRows: 10 });
    assert.equal(page.notice, undefined);
    assert.deepEqual(
      page.rows.map((r) => r.rowid),
      [...all]
        .sort((a, b) => Number(b.lat) - Number(a.lat) || Number(b.rowid) - Number(a.rowid))
        .slice(0, 5)
        .map((r) => r.rowid),
    );
  });
});

describe('traces: detail', () => {
  it('returns the full trace, session neighbours and children', async () => {
    const { db } = await traceWorkspace({ rows: 0 });
    const parent = { ...fx.makeTrace(8), session_id: 's1', step_index: 0 };
    const mid = { ...fx.makeTrace(9), session_id: 's1', step_index: 1, parent_trace_id: parent.id };
    const last = { ...fx.makeTrace(10), session_id: 's1', step_index: 2 };
    await insert(db, [parent, mid, last]);
    const d = (await getTrace(db, mid.id))!;
    assert.equal(d.id, mid.id);
    assert.equal(d.prevStep, parent.id);
    assert.equal(d.nextStep, last.id);
    assert.deepEqual((await getTrace(db, parent.id))!.children, [mid.id]);
    assert.equal(JSON.parse(d.request.text!).model, JSON.parse(mid.request).model);
    assert.equal(d.request.truncated, false);
    assert.equal(await getTrace(db, 'no-such-id'), undefined);
  });

  it('sends multi-megabyte fields truncated, and whole on request', async () => {
    const { db } = await traceWorkspace({ rows: 0 });
    const big = 'x'.repeat(3 * 1024 * 1024);
    const t = { ...fx.makeTrace(1), request: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: big }] }) };
    await insert(db, [t]);
    const d = (await getTrace(db, t.id))!;
    assert.equal(d.request.truncated, true);
    assert.equal(d.request.text!.length, FIELD_PREVIEW_CHARS);
    assert.equal(d.request.length, t.request.length);
    const full = (await getTraceField(db, t.id, 'request'))!;
    assert.equal(full.text, t.request);
    const page = await listTraces(db);
    assert.ok(page.rows[0].preview.length <= 160, 'the list never carries the big field');
  });

  it('hostile content comes back byte for byte (rendering makes it safe)', async () => {
    const { db } = await traceWorkspace({ rows: 0 });
    const evil = '<img src=x onerror="window.__pwned=1"><script>alert(1)</script>\u202e\u0007 javascript:alert(1)';
    const t = { ...fx.makeTrace(1), request: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: evil }] }) };
    await insert(db, [t]);
    const page = await listTraces(db);
    assert.equal(page.rows[0].preview, evil);
    assert.equal(JSON.parse((await getTrace(db, t.id))!.request.text!).messages[0].content, evil);
  });

  it('a database without traces says there is nothing to browse', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'x.db');
    const c = await openFixtureDb(db);
    await c.exec('CREATE TABLE other(x)');
    await c.close();
    await assert.rejects(listTraces(db), /no "traces" table/);
  });
});
