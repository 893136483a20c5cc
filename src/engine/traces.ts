// The trace explorer's query layer: pages of traces by keyset (never OFFSET), filters on
// the indexed columns, full-text search through traces_fts (or a bounded LIKE scan on
// older DBs), and one trace in detail. Every read is one short read-only transaction
// with a small busy timeout: browsing must never hold the proxy up (DESIGN.md § Rules 1).
import { DoctorError } from './errors';
import { withFileGate } from './fileGate';
import { sqliteCode, isBusy, withConnection, type Connection } from './sqlite';

export type TraceSort = 'time' | 'latency' | 'tokens';
export type SortDir = 'desc' | 'asc';

export interface TraceFilter {
  model?: string;
  status?: 'success' | 'error';
  endpoint?: string;
  /** ISO 8601 bounds on `timestamp` (inclusive from, exclusive to). */
  from?: string;
  to?: string;
  sessionId?: string;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  minTokens?: number;
  maxTokens?: number;
  /** FTS5 query syntax when traces_fts exists; plain substring otherwise. */
  search?: string;
}

/** The last row of the previous page: where the next one starts. */
export interface TraceCursor {
  key: string | number | null;
  rowid: number;
}

export interface TracePageParams {
  filter?: TraceFilter;
  sort?: TraceSort;
  dir?: SortDir;
  after?: TraceCursor;
  /** Newer than this row in the current order's opposite direction: the live "what's new" query. */
  before?: TraceCursor;
  limit?: number;
  /** Rows a LIKE search reads per request (tests make it small). */
  likeScanRows?: number;
}

export interface TraceRow {
  rowid: number;
  id: string;
  timestamp: string;
  model: string | null;
  endpoint: string;
  status: string | null;
  latencyMs: number | null;
  tokens: number | null;
  sessionId: string | null;
  stepIndex: number | null;
  /** First words of the last message of the request, for the list. */
  preview: string;
}

export interface TracePage {
  rows: TraceRow[];
  hasMore: boolean;
  cursor?: TraceCursor;
  searchMode: 'none' | 'fts' | 'like';
  /** Said to the user: e.g. that a LIKE search only looked at part of the table. */
  notice?: string;
  durationMs: number;
}

export interface TraceField {
  text: string | null;
  /** Full length in characters; > text.length when truncated. */
  length: number;
  truncated: boolean;
}

export interface TraceDetail {
  rowid: number;
  id: string;
  timestamp: string;
  endpoint: string;
  request: TraceField;
  response: TraceField;
  metadata: TraceField;
  stateSnapshot?: TraceField;
  sessionId: string | null;
  stepIndex: number | null;
  stepId: string | null;
  parentTraceId: string | null;
  createdAt: number | null;
  /** Neighbours in the session, and children, by id. */
  prevStep?: string;
  nextStep?: string;
  children: string[];
}

export const MAX_PAGE = 200;
/** Fields above this are sent truncated; "show all" fetches the whole one. */
export const FIELD_PREVIEW_CHARS = 256 * 1024;
/** A LIKE search (no FTS table) reads at most this many rows per page request. */
export const LIKE_SCAN_ROWS = 20000;
const BUSY_TIMEOUT_MS = 500;

interface Shape {
  columns: Set<string>;
  hasFts: boolean;
}

const SORT_KEY: Record<TraceSort, string> = {
  time: 't.timestamp',
  latency: "json_extract(t.metadata, '$.duration_ms')",
  tokens: "json_extract(t.metadata, '$.tokens_used')",
};

async function shapeOf(c: Connection): Promise<Shape> {
  const cols = await c.all<{ name: string }>("SELECT name FROM pragma_table_info('traces')");
  if (!cols.length) throw new DoctorError('This database has no "traces" table: there is nothing to browse. Check tracedb.databasePath.');
  const fts = await c.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'traces_fts'");
  return { columns: new Set(cols.map((r) => r.name)), hasFts: (fts?.n ?? 0) > 0 };
}

/** Runs `fn` in one read transaction on a fresh read-only connection. */
export function readTraces<T>(dbPath: string, fn: (c: Connection, shape: Shape) => Promise<T>): Promise<T> {
  return withFileGate(dbPath, () =>
    withConnection(dbPath, { readonly: true, busyTimeoutMs: BUSY_TIMEOUT_MS }, async (c) => {
      await c.exec('BEGIN');
      try {
        return await fn(c, await shapeOf(c));
      } finally {
        await c.exec('COMMIT').catch(() => undefined);
      }
    }),
  ).catch((e: unknown) => {
    if (e instanceof DoctorError) throw e;
    if (isBusy(e)) throw new DoctorError('The trace database is locked right now (a write transaction is open); try again in a moment, or see who holds it in the health view.');
    throw e;
  });
}

function searchSyntaxMessage(msg: string): string {
  return `Search syntax error (${msg.replace(/^SQLITE_ERROR: /, '')}). Full-text search takes words, "quoted phrases", prefix* and AND / OR / NOT; quote text with punctuation.`;
}

/**
 * WHERE clauses and parameters for a filter (search excluded). `walkTimeIndex`: the list
 * is in time order, so the cheapest plan walks the timestamp index and stops after a page.
 * Without statistics (the doctor never runs ANALYZE on the user's DB) SQLite would rather
 * use the model or status index and sort every match: 0.4 s instead of 1 ms on a million
 * traces. A unary + keeps it off those low-cardinality indexes; session_id stays indexed.
 */
function filterSql(f: TraceFilter, shape: Shape, walkTimeIndex = false): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = walkTimeIndex ? '+' : '';
  if (f.model) (where.push(`${p}json_extract(t.metadata, '$.model') = ?`), params.push(f.model));
  if (f.status) (where.push(`${p}json_extract(t.metadata, '$.status') = ?`), params.push(f.status));
  if (f.endpoint) (where.push(`${p}t.endpoint = ?`), params.push(f.endpoint));
  if (f.from) (where.push('t.timestamp >= ?'), params.push(f.from));
  if (f.to) (where.push('t.timestamp < ?'), params.push(f.to));
  if (f.sessionId) {
    if (!shape.columns.has('session_id')) throw new DoctorError('This database has no session_id column (an older proxy schema): filtering by session is not possible.');
    where.push('t.session_id = ?');
    params.push(f.sessionId);
  }
  if (f.minLatencyMs !== undefined) (where.push("json_extract(t.metadata, '$.duration_ms') >= ?"), params.push(f.minLatencyMs));
  if (f.maxLatencyMs !== undefined) (where.push("json_extract(t.metadata, '$.duration_ms') <= ?"), params.push(f.maxLatencyMs));
  if (f.minTokens !== undefined) (where.push("json_extract(t.metadata, '$.tokens_used') >= ?"), params.push(f.minTokens));
  if (f.maxTokens !== undefined) (where.push("json_extract(t.metadata, '$.tokens_used') <= ?"), params.push(f.maxTokens));
  return { where, params };
}

function rowColumns(shape: Shape): string {
  const has = (c: string) => shape.columns.has(c);
  return [
    't.rowid AS rowid',
    't.id AS id',
    't.timestamp AS timestamp',
    "json_extract(t.metadata, '$.model') AS model",
    't.endpoint AS endpoint',
    "json_extract(t.metadata, '$.status') AS status",
    "json_extract(t.metadata, '$.duration_ms') AS latencyMs",
    "json_extract(t.metadata, '$.tokens_used') AS tokens",
    has('session_id') ? 't.session_id AS sessionId' : 'NULL AS sessionId',
    has('step_index') ? 't.step_index AS stepIndex' : 'NULL AS stepIndex',
    // Only the 50 rows of a page pay for this; json_valid guards a malformed request.
    "CASE WHEN json_valid(t.request) THEN substr(CAST(json_extract(t.request, '$.messages[#-1].content') AS TEXT), 1, 160) ELSE substr(t.request, 1, 160) END AS preview",
  ].join(', ');
}

function keyset(sortKey: string, dir: SortDir, c: TraceCursor, notNull: boolean): { sql: string; params: unknown[] } {
  const op = dir === 'desc' ? '<' : '>';
  // A row value keeps the range on the index; an OR of the two cases would scan.
  if (notNull) return { sql: `(${sortKey}, t.rowid) ${op} (?, ?)`, params: [c.key, c.rowid] };
  if (c.key === null) {
    // NULLs sort first ascending / last descending in SQLite.
    return dir === 'desc' ? { sql: `(${sortKey} IS NULL AND t.rowid ${op} ?)`, params: [c.rowid] } : { sql: `((${sortKey} IS NULL AND t.rowid > ?) OR ${sortKey} IS NOT NULL)`, params: [c.rowid] };
  }
  const nulls = dir === 'desc' ? ` OR ${sortKey} IS NULL` : '';
  return { sql: `(${sortKey} ${op} ? OR (${sortKey} = ? AND t.rowid ${op} ?)${nulls})`, params: [c.key, c.key, c.rowid] };
}

function sanitizeLimit(n: number | undefined): number {
  return Math.max(1, Math.min(MAX_PAGE, Math.floor(n ?? 50)));
}

export async function listTraces(dbPath: string, p: TracePageParams = {}): Promise<TracePage> {
  const started = performance.now();
  const sort = p.sort ?? 'time';
  const dir: SortDir = p.dir ?? 'desc';
  const limit = sanitizeLimit(p.limit);
  const f = p.filter ?? {};
  return readTraces(dbPath, async (c, shape) => {
    const search = f.search?.trim();
    const fts = !!search && shape.hasFts;
    // Full-text matches come in rowid order from FTS5 for free, and the proxy inserts in
    // time order; sorting a common word's 100,000 matches by timestamp would take most
    // of a second. So a search in time order pages by rowid.
    const byRowid = fts && sort === 'time';
    const sortKey = byRowid ? 't.rowid' : SORT_KEY[sort];
    const { where, params } = filterSql(f, shape, sort === 'time' && !fts);
    let searchMode: TracePage['searchMode'] = 'none';
    let notice: string | undefined;
    let from = 'traces t';
    if (fts) {
      searchMode = 'fts';
      if (byRowid) {
        from = 'traces_fts JOIN traces t ON t.rowid = traces_fts.rowid';
        where.unshift('traces_fts MATCH ?');
        params.unshift(ftsQuery(search));
      } else {
        where.push('t.rowid IN (SELECT rowid FROM traces_fts WHERE traces_fts MATCH ?)');
        params.push(ftsQuery(search));
      }
    }
    // "before": rows that come ahead of the first row shown (new traces while the list is open).
    const reverse = !!p.before;
    const cursor = p.before ?? p.after;
    const effDir: SortDir = reverse ? (dir === 'desc' ? 'asc' : 'desc') : dir;
    if (cursor) {
      if (byRowid) {
        where.push(`t.rowid ${effDir === 'desc' ? '<' : '>'} ?`);
        params.push(cursor.rowid);
      } else {
        const k = keyset(sortKey, effDir, cursor, sort === 'time');
        where.push(k.sql);
        params.push(...k.params);
      }
    }
    const order = byRowid ? `traces_fts.rowid ${effDir.toUpperCase()}` : `${sortKey} ${effDir.toUpperCase()}, t.rowid ${effDir.toUpperCase()}`;
    let rows: TraceRow[];
    let hasMore: boolean;
    if (search && !shape.hasFts) {
      // No FTS table (older proxy): look at a bounded slice in list order, then match.
      searchMode = 'like';
      const like = `%${search.replace(/[\\%_]/g, (ch) => '\\' + ch)}%`;
      const scan = Math.max(1, Math.floor(p.likeScanRows ?? LIKE_SCAN_ROWS));
      const slice = `SELECT t.rowid AS rid FROM traces t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${scan}`;
      const sql = `SELECT ${rowColumns(shape)} FROM traces t JOIN (${slice}) s ON s.rid = t.rowid
        WHERE (t.request LIKE ? ESCAPE '\\' OR t.response LIKE ? ESCAPE '\\' OR t.endpoint LIKE ? ESCAPE '\\')
        ORDER BY ${order} LIMIT ${limit + 1}`;
      rows = await c.all<TraceRow>(sql, [...params, like, like, like]);
      hasMore = rows.length > limit;
      if (!hasMore) {
        // Fewer matches than a page in this slice: was the slice the whole rest of the table?
        const last = await c.get<{ rid: number; k: string | number | null }>(
          `SELECT t.rowid AS rid, ${sortKey} AS k FROM traces t JOIN (${slice}) s ON s.rid = t.rowid ORDER BY ${order} LIMIT 1 OFFSET ${scan - 1}`,
          params,
        );
        if (last) {
          notice = `No full-text index in this database (an older proxy): searched the next ${scan.toLocaleString('en-US')} traces only. Load more to search further.`;
          rows = rows.slice(0, limit);
          return { rows, hasMore: true, cursor: { key: last.k, rowid: last.rid }, searchMode, notice, durationMs: ms(started) };
        }
      }
      notice ??= 'No full-text index in this database (an older proxy): searching with LIKE, which is slower.';
    } else {
      const sql = `SELECT ${rowColumns(shape)} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit + 1}`;
      try {
        rows = await c.all<TraceRow>(sql, params);
      } catch (e) {
        // The only user-written SQL here is the MATCH expression.
        if (searchMode === 'fts' && sqliteCode(e) === 'SQLITE_ERROR') throw new DoctorError(searchSyntaxMessage(String((e as Error).message)));
        throw e;
      }
      hasMore = rows.length > limit;
    }
    rows = rows.slice(0, limit);
    if (reverse) rows.reverse();
    const lastRow = reverse ? rows[0] : rows[rows.length - 1];
    const keyOf = (r: TraceRow): string | number | null => (byRowid ? r.rowid : sort === 'time' ? r.timestamp : sort === 'latency' ? r.latencyMs : r.tokens);
    return {
      rows,
      hasMore,
      ...(lastRow ? { cursor: { key: keyOf(lastRow), rowid: lastRow.rowid } } : {}),
      searchMode,
      ...(notice ? { notice } : byRowid ? { notice: 'Search results are in the order the proxy stored them, newest first.' } : {}),
      durationMs: ms(started),
    };
  });
}

function ms(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

const FTS_COLUMNS = new Set(['endpoint', 'request_content', 'response_content', 'model']);
const FTS_OPERATORS = new Set(['AND', 'OR', 'NOT']);
const BAREWORD = /^[\p{L}\p{N}_]+$/u;

/**
 * What the user typed, as an FTS5 query: words with punctuation are quoted, as
 * TraceForge's own search does (`gpt-4o` would otherwise read `4o` as a column and fail
 * with "no such column"), while FTS5's own syntax keeps working: "phrases", prefix*,
 * AND / OR / NOT, parentheses, column:term and NEAR(…) (passed through as written).
 */
export function ftsQuery(input: string): string {
  const q = input.trim();
  if (/\bNEAR\s*\(/.test(q)) return q;
  const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;
  const term = (t: string): string => {
    const prefix = t.length > 1 && t.endsWith('*');
    const word = prefix ? t.slice(0, -1) : t;
    if (BAREWORD.test(word)) return t;
    return `${quote(word)}${prefix ? '*' : ''}`;
  };
  const out: string[] = [];
  for (const m of q.matchAll(/"(?:[^"]|"")*("|$)|[()]|[^\s()"]+/g)) {
    const tok = m[0];
    if (tok.startsWith('"')) out.push(m[1] ? tok : `${tok}"`); // an unterminated phrase closes itself
    else if (tok === '(' || tok === ')' || FTS_OPERATORS.has(tok)) out.push(tok);
    else {
      const col = /^([A-Za-z_]+):(.+)$/.exec(tok);
      out.push(col && FTS_COLUMNS.has(col[1]) ? `${col[1]}:${term(col[2])}` : term(tok));
    }
  }
  return out.join(' ');
}

/** Exact number of traces matching a filter: a scan, so only on request. */
export async function countTraces(dbPath: string, filter: TraceFilter = {}): Promise<number> {
  return readTraces(dbPath, async (c, shape) => {
    const { where, params } = filterSql(filter, shape);
    if (filter.search?.trim()) {
      if (shape.hasFts) {
        where.push('t.rowid IN (SELECT rowid FROM traces_fts WHERE traces_fts MATCH ?)');
        params.push(ftsQuery(filter.search.trim()));
      } else {
        const like = `%${filter.search.trim().replace(/[\\%_]/g, (ch) => '\\' + ch)}%`;
        where.push("(t.request LIKE ? ESCAPE '\\' OR t.response LIKE ? ESCAPE '\\' OR t.endpoint LIKE ? ESCAPE '\\')");
        params.push(like, like, like);
      }
    }
    try {
      const r = await c.get<{ n: number }>(`SELECT count(*) AS n FROM traces t ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`, params);
      return r?.n ?? 0;
    } catch (e) {
      if (filter.search && shape.hasFts && sqliteCode(e) === 'SQLITE_ERROR') throw new DoctorError(searchSyntaxMessage(String((e as Error).message)));
      throw e;
    }
  });
}

function fieldSql(col: string, alias: string, shape: Shape, limit = FIELD_PREVIEW_CHARS): string {
  if (!shape.columns.has(col)) return `NULL AS ${alias}, 0 AS ${alias}Len`;
  return `substr(t.${col}, 1, ${limit}) AS ${alias}, length(t.${col}) AS ${alias}Len`;
}

function field(text: unknown, len: unknown): TraceField {
  const t = text === null || text === undefined ? null : String(text);
  const length = Number(len ?? 0);
  return { text: t, length, truncated: t !== null && length > t.length };
}

export async function getTrace(dbPath: string, id: string): Promise<TraceDetail | undefined> {
  return readTraces(dbPath, async (c, shape) => {
    const has = (col: string) => shape.columns.has(col);
    const r = await c.get<Record<string, unknown>>(
      `SELECT t.rowid AS rowid, t.id AS id, t.timestamp AS timestamp, t.endpoint AS endpoint,
        ${fieldSql('request', 'request', shape)}, ${fieldSql('response', 'response', shape)}, ${fieldSql('metadata', 'metadata', shape)},
        ${fieldSql('state_snapshot', 'state', shape)},
        ${has('session_id') ? 't.session_id' : 'NULL'} AS sessionId, ${has('step_index') ? 't.step_index' : 'NULL'} AS stepIndex,
        ${has('step_id') ? 't.step_id' : 'NULL'} AS stepId, ${has('parent_trace_id') ? 't.parent_trace_id' : 'NULL'} AS parentTraceId,
        ${has('created_at') ? 't.created_at' : 'NULL'} AS createdAt
       FROM traces t WHERE t.id = ?`,
      [id],
    );
    if (!r) return undefined;
    const detail: TraceDetail = {
      rowid: Number(r.rowid),
      id: String(r.id),
      timestamp: String(r.timestamp),
      endpoint: String(r.endpoint),
      request: field(r.request, r.requestLen),
      response: field(r.response, r.responseLen),
      metadata: field(r.metadata, r.metadataLen),
      ...(has('state_snapshot') ? { stateSnapshot: field(r.state, r.stateLen) } : {}),
      sessionId: (r.sessionId as string | null) ?? null,
      stepIndex: (r.stepIndex as number | null) ?? null,
      stepId: (r.stepId as string | null) ?? null,
      parentTraceId: (r.parentTraceId as string | null) ?? null,
      createdAt: (r.createdAt as number | null) ?? null,
      children: [],
    };
    if (detail.sessionId !== null && detail.stepIndex !== null) {
      // The (session_id, step_index) index answers both in one probe each.
      const prev = await c.get<{ id: string }>('SELECT id FROM traces WHERE session_id = ? AND step_index < ? ORDER BY step_index DESC LIMIT 1', [detail.sessionId, detail.stepIndex]);
      const next = await c.get<{ id: string }>('SELECT id FROM traces WHERE session_id = ? AND step_index > ? ORDER BY step_index ASC LIMIT 1', [detail.sessionId, detail.stepIndex]);
      if (prev) detail.prevStep = prev.id;
      if (next) detail.nextStep = next.id;
    }
    if (has('parent_trace_id')) {
      detail.children = (await c.all<{ id: string }>('SELECT id FROM traces WHERE parent_trace_id = ? LIMIT 50', [detail.id])).map((x) => x.id);
    }
    return detail;
  });
}

export type TraceFieldName = 'request' | 'response' | 'metadata' | 'state_snapshot';
const MAX_FIELD_CHARS = 64 * 1024 * 1024;

/** One field in full ("show all"), up to 64 MiB. */
export async function getTraceField(dbPath: string, id: string, name: TraceFieldName): Promise<TraceField | undefined> {
  return readTraces(dbPath, async (c, shape) => {
    if (!shape.columns.has(name)) return undefined;
    const r = await c.get<Record<string, unknown>>(`SELECT ${fieldSql(name, 'f', shape, MAX_FIELD_CHARS)} FROM traces t WHERE t.id = ?`, [id]);
    return r ? field(r.f, r.fLen) : undefined;
  });
}

/** Distinct values for the filter pickers, from the indexes (bounded). */
export async function filterChoices(dbPath: string): Promise<{ models: string[]; endpoints: string[]; hasFts: boolean; hasSessions: boolean }> {
  return readTraces(dbPath, async (c, shape) => {
    // DISTINCT over an indexed expression walks the index; LIMIT keeps a pathological DB cheap.
    const models = await c.all<{ v: string }>("SELECT DISTINCT json_extract(metadata, '$.model') AS v FROM traces WHERE v IS NOT NULL LIMIT 100");
    const endpoints = await c.all<{ v: string }>('SELECT v FROM (SELECT endpoint AS v FROM traces ORDER BY rowid DESC LIMIT 5000) GROUP BY v LIMIT 100');
    return { models: models.map((r) => r.v).sort(), endpoints: endpoints.map((r) => r.v).sort(), hasFts: shape.hasFts, hasSessions: shape.columns.has('session_id') };
  });
}
