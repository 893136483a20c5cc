// The trace explorer's query layer: pages of traces by keyset (never OFFSET), filters on
// the indexed columns, full-text search through traces_fts (or a bounded LIKE scan on
// older DBs), and one trace in detail. Browsing must never hold the proxy up (DESIGN.md
// § Rules 1): in WAL mode every read is one short read-only transaction (readers never
// block the writer there); on a rollback-journal DB every statement is its own
// transaction and reads a bounded number of rows, because SHARED is held for as long as
// a statement runs and the proxy's commit waits (or fails) for exactly that long.
import { DoctorError } from '../errors';
import { withFileGate } from '../sqlite/fileGate';
import { readHeader } from '../sqlite/header';
import { sqliteCode, isBusy, withConnection, type Connection } from '../sqlite/connection';
import {
  FIELD_PREVIEW_CHARS,
  MAX_PAGE,
  type SortDir,
  type TraceCursor,
  type TraceDetail,
  type TraceField,
  type TraceFieldName,
  type TraceFilter,
  type TracePage,
  type TracePageParams,
  type TraceRow,
  type TraceSort,
  type TraceWindow,
} from '../../shared/traceModel';

/** A LIKE search (no FTS table) reads at most this many rows per page request. */
export const LIKE_SCAN_ROWS = 20000;
/** Not in WAL mode, a request reads at most this many traces for anything no index answers. */
export const SCAN_ROWS = 5000;
/**
 * Traces one statement of a bounded scan reads with their metadata. Measured on the
 * 757 MiB, 200,000-trace DB: 1,000 rows took ~5 ms of CPU and 5,000 in one statement
 * 26 ms (80-160 ms of wall time on a loaded 2-core machine), all that time holding SHARED.
 */
const SCAN_CHUNK = 1000;
/** An exact count without filters walks only the timestamp index: cheaper rows, bigger chunks. */
const COUNT_INDEX_CHUNK = 5000;
/** Between the chunks of an exact count, so a proxy that is retrying gets its commit in. */
const COUNT_YIELD_MS = 10;
/**
 * How long a query waits for SHARED behind a commit in flight. A waiting reader holds
 * nothing, so waiting costs the proxy nothing; and under load a commit's EXCLUSIVE phase
 * was seen to last over 500 ms (p99 572 ms beside a backup), which made a too-short wait
 * an error for the user ("locked right now") where patience was all it took.
 */
const BUSY_TIMEOUT_MS = 2000;

interface Shape {
  columns: Set<string>;
  hasFts: boolean;
  /** From the file header: in WAL mode readers never block the writer, so queries need no bound. */
  wal: boolean;
}

const SORT_KEY: Record<TraceSort, string> = {
  time: 't.timestamp',
  latency: "json_extract(t.metadata, '$.duration_ms')",
  tokens: "json_extract(t.metadata, '$.tokens_used')",
};

async function shapeOf(c: Connection, wal: boolean): Promise<Shape> {
  // One statement: on a rollback DB each one is a separate SHARED lock.
  const cols = await c.all<{ name: string; fts: number }>(
    "SELECT name, (SELECT count(*) FROM sqlite_master WHERE name = 'traces_fts') AS fts FROM pragma_table_info('traces')",
  );
  if (!cols.length) throw new DoctorError('This database has no "traces" table: there is nothing to browse. Check tracedb.databasePath.');
  return { columns: new Set(cols.map((r) => r.name)), hasFts: cols[0].fts > 0, wal };
}

/** WAL or not from header bytes 18-19, read without a lock; anything unreadable counts as not WAL (the cautious side). */
async function headerSaysWal(dbPath: string): Promise<boolean> {
  try {
    return (await readHeader(dbPath)).header?.wal === true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` on a fresh read-only connection: in WAL mode inside one read transaction (a
 * consistent snapshot, free there); otherwise with every statement its own transaction,
 * so SHARED is dropped between statements instead of held across them.
 */
export function readTraces<T>(dbPath: string, fn: (c: Connection, shape: Shape) => Promise<T>): Promise<T> {
  return withFileGate(dbPath, async () => {
    // Inside the gate: the header's descriptor is closed before our connection opens.
    const wal = await headerSaysWal(dbPath);
    return withConnection(dbPath, { readonly: true, busyTimeoutMs: BUSY_TIMEOUT_MS }, async (c) => {
      if (wal) await c.exec('BEGIN');
      try {
        return await fn(c, await shapeOf(c, wal));
      } finally {
        if (wal) await c.exec('COMMIT').catch(() => undefined);
      }
    });
  }).catch((e: unknown) => {
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
function filterSql(f: TraceFilter, shape: Shape, walkTimeIndex = false, timeRange = true): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = walkTimeIndex ? '+' : '';
  if (f.model) (where.push(`${p}json_extract(t.metadata, '$.model') = ?`), params.push(f.model));
  if (f.status) (where.push(`${p}json_extract(t.metadata, '$.status') = ?`), params.push(f.status));
  if (f.endpoint) (where.push(`${p}t.endpoint = ?`), params.push(f.endpoint));
  if (timeRange && f.from) (where.push('t.timestamp >= ?'), params.push(f.from));
  if (timeRange && f.to) (where.push('t.timestamp < ?'), params.push(f.to));
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

function scanRowsOf(n: unknown, max: number): number {
  return typeof n === 'number' && Number.isFinite(n) ? Math.max(1, Math.min(max, Math.floor(n))) : max;
}

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (ch) => '\\' + ch)}%`;
}
const LIKE_MATCH = "(t.request LIKE ? ESCAPE '\\' OR t.response LIKE ? ESCAPE '\\' OR t.endpoint LIKE ? ESCAPE '\\')";

// ---------------------------------------------------------------- bounded scans (not WAL)

/** A position in a walk: (timestamp, rowid) on the timestamp index, or (rowid, rowid) through traces_fts. */
interface Pos {
  key: string | number;
  rowid: number;
}

/**
 * The traces a bounded scan reads, in an order an index gives for free: the timestamp
 * index, or FTS5's rowid order for a full-text search. Chunks of it are read one
 * statement at a time; `match` and `key` are evaluated on each trace read.
 */
interface Walk {
  fts?: string;
  dir: SortDir;
  /** Time bounds, on the timestamp index itself. */
  range: { where: string[]; params: unknown[] };
  match: { where: string[]; params: unknown[] };
  key?: string;
}

interface Scanned {
  rid: number;
  pk: string | number;
  k: string | number | null;
}

interface ScanResult {
  matches: Scanned[];
  scanned: number;
  first?: Pos;
  last?: Pos;
  /** The walk reached its end: nothing more to read. */
  exhausted: boolean;
}

function walkSql(w: Walk, after: Pos | undefined, n: number): { sql: string; params: unknown[] } {
  const op = w.dir === 'desc' ? '<' : '>';
  const d = w.dir.toUpperCase();
  if (w.fts !== undefined) {
    const where = ['traces_fts MATCH ?'];
    const params: unknown[] = [w.fts];
    if (after) (where.push(`rowid ${op} ?`), params.push(after.rowid));
    return { sql: `SELECT rowid AS rid, rowid AS pk FROM traces_fts WHERE ${where.join(' AND ')} ORDER BY rowid ${d} LIMIT ${n}`, params };
  }
  const where = [...w.range.where];
  const params = [...w.range.params];
  // A row value keeps the walk on the index (see keyset).
  if (after) (where.push(`(t.timestamp, t.rowid) ${op} (?, ?)`), params.push(after.key, after.rowid));
  return {
    sql: `SELECT t.rowid AS rid, t.timestamp AS pk FROM traces t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.timestamp ${d}, t.rowid ${d} LIMIT ${n}`,
    params,
  };
}

/**
 * Reads up to `maxRows` traces of the walk after `start`, `chunk` per statement (each its
 * own short SHARED lock), until `stopAfter` matched.
 */
async function scanWalk(c: Connection, w: Walk, start: Pos | undefined, maxRows: number, stopAfter = Infinity, chunk = SCAN_CHUNK): Promise<ScanResult> {
  const res: ScanResult = { matches: [], scanned: 0, exhausted: false };
  let pos = start;
  const joins = w.match.where.length > 0 || w.key !== undefined;
  const d = w.dir.toUpperCase();
  while (res.scanned < maxRows && res.matches.length < stopAfter) {
    const n = Math.min(chunk, maxRows - res.scanned);
    const inner = walkSql(w, pos, n);
    const m = w.match.where.length ? `CASE WHEN ${w.match.where.join(' AND ')} THEN 1 ELSE 0 END` : '1';
    const sql = joins
      ? `SELECT s.rid AS rid, s.pk AS pk, ${m} AS m, ${w.key ?? 'NULL'} AS k FROM (${inner.sql}) s JOIN traces t ON t.rowid = s.rid ORDER BY s.pk ${d}, s.rid ${d}`
      : `SELECT rid, pk, 1 AS m, NULL AS k FROM (${inner.sql})`;
    let rows: (Scanned & { m: number })[];
    try {
      // The match expression comes first in the SELECT list, so its parameters do too.
      rows = await c.all<Scanned & { m: number }>(sql, joins ? [...w.match.params, ...inner.params] : inner.params);
    } catch (e) {
      if (w.fts !== undefined && sqliteCode(e) === 'SQLITE_ERROR') throw new DoctorError(searchSyntaxMessage(String((e as Error).message)));
      throw e;
    }
    let read = 0;
    for (const r of rows) {
      read++;
      pos = { key: r.pk, rowid: r.rid };
      res.first ??= pos;
      res.last = pos;
      if (r.m) res.matches.push({ rid: r.rid, pk: r.pk, k: r.k });
      if (res.matches.length >= stopAfter) break;
    }
    res.scanned += read;
    if (rows.length < n) {
      res.exhausted = read === rows.length;
      break;
    }
  }
  return res;
}

/** What a bounded scan needs from a filter: the time range goes on the walk, the rest is matched per trace. */
function walkFor(f: TraceFilter, shape: Shape, dir: SortDir, key?: string): Walk {
  const search = f.search?.trim();
  const fts = search && shape.hasFts ? ftsQuery(search) : undefined;
  const range = { where: [] as string[], params: [] as unknown[] };
  if (f.from) (range.where.push('t.timestamp >= ?'), range.params.push(f.from));
  if (f.to) (range.where.push('t.timestamp < ?'), range.params.push(f.to));
  const match = filterSql(f, shape, false, fts !== undefined);
  if (search && fts === undefined) {
    const like = likePattern(search);
    match.where.push(LIKE_MATCH);
    match.params.push(like, like, like);
  }
  return { fts, dir, range: fts !== undefined ? { where: [], params: [] } : range, match, key };
}

function hasRowFilter(f: TraceFilter): boolean {
  return !!(f.model || f.status || f.endpoint || f.minLatencyMs !== undefined || f.maxLatencyMs !== undefined || f.minTokens !== undefined || f.maxTokens !== undefined);
}

/**
 * Not in WAL mode: whether the plain query reads a bounded number of rows anyway. A page
 * in time order walks the timestamp index and stops after a page; a session's steps
 * come from the session index; a full-text search alone walks FTS5 in rowid order. A
 * filter the walk must test row by row can read the whole table before a page fills
 * (a rare model), and any other order sorts every match.
 */
function plainIsBounded(f: TraceFilter, sort: TraceSort, shape: Shape): boolean {
  const search = f.search?.trim();
  if (search) return shape.hasFts && sort === 'time' && !hasRowFilter(f) && !f.sessionId && !f.from && !f.to;
  if (f.sessionId && shape.columns.has('session_id')) return true;
  return sort === 'time' && !hasRowFilter(f);
}

const NOT_WAL = 'the database is not in WAL mode, and a longer scan would block the proxy';

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** SQLite's order: NULL, then numbers, then text. */
function cmpKey(a: string | number | null, b: string | number | null): number {
  const rank = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === 'number' ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

function validWindow(w: unknown): TraceWindow | undefined {
  if (!w || typeof w !== 'object') return undefined;
  const { key, rowid, fresh } = w as Record<string, unknown>;
  if (!(typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))) || !Number.isSafeInteger(rowid)) return undefined;
  return { key, rowid: rowid as number, ...(fresh === true ? { fresh: true } : {}) };
}

async function pageRows(c: Connection, shape: Shape, rids: number[]): Promise<TraceRow[]> {
  if (!rids.length) return [];
  const rows = await c.all<TraceRow>(`SELECT ${rowColumns(shape)} FROM traces t WHERE t.rowid IN (${rids.map(() => '?').join(', ')})`, rids);
  const byRid = new Map(rows.map((r) => [r.rowid, r]));
  return rids.map((r) => byRid.get(r)).filter((r): r is TraceRow => !!r);
}

/** A page not in WAL mode when no index bounds the plain query: a bounded scan, said in the notice. */
async function listBounded(c: Connection, shape: Shape, p: TracePageParams, started: number): Promise<TracePage> {
  const sort = p.sort ?? 'time';
  const dir: SortDir = p.dir ?? 'desc';
  const limit = sanitizeLimit(p.limit);
  const f = p.filter ?? {};
  const n = scanRowsOf(p.scanRows, SCAN_ROWS);
  const search = f.search?.trim();
  const searchMode: TracePage['searchMode'] = !search ? 'none' : shape.hasFts ? 'fts' : 'like';
  const reverse = !!p.before;
  const cursor = p.before ?? p.after;
  if (sort === 'time') {
    const effDir: SortDir = reverse ? (dir === 'desc' ? 'asc' : 'desc') : dir;
    const w = walkFor(f, shape, effDir);
    // A search walks FTS5 by rowid: the cursor's rowid is its position there.
    const start = cursor ? { key: w.fts !== undefined ? cursor.rowid : (cursor.key ?? ''), rowid: cursor.rowid } : undefined;
    const s = await scanWalk(c, w, start, n, limit + 1);
    const full = s.matches.length > limit;
    const shown = s.matches.slice(0, limit);
    let rows = await pageRows(c, shape, shown.map((m) => m.rid));
    if (reverse) rows = rows.reverse();
    const edge = reverse ? shown[0] : shown[shown.length - 1];
    const keyOf = (m: Scanned): TraceCursor => ({ key: w.fts !== undefined ? m.rid : m.pk, rowid: m.rid });
    const more = full || !s.exhausted;
    const cut = !full && !s.exhausted && s.last;
    const looked = `${cursor ? 'the next' : effDir === 'desc' ? 'the newest' : 'the oldest'} ${count(n)} traces only`;
    const cutNotice =
      searchMode === 'like'
        ? `No full-text index in this database (an older proxy), and ${NOT_WAL}: searched ${looked}. Load more to search further, or enable WAL.`
        : `${search ? 'Searched' : 'Looked at'} ${looked}: ${NOT_WAL}. Load more to look further, or enable WAL.`;
    return {
      rows,
      hasMore: more,
      ...(cut ? { cursor: { key: s.last!.key, rowid: s.last!.rowid } } : edge ? { cursor: keyOf(edge) } : {}),
      searchMode,
      ...(cut
        ? { notice: cutNotice }
        : searchMode === 'fts'
          ? { notice: 'Search results are in the order the proxy stored them, newest first.' }
          : searchMode === 'like'
            ? { notice: 'No full-text index in this database (an older proxy): searching with LIKE, which is slower.' }
            : {}),
      durationMs: ms(started),
    };
  }
  // Latency and tokens: sorted within a window of the newest traces, anchored so that
  // later pages sort the same traces while the proxy adds new ones.
  const w = walkFor(f, shape, 'desc', SORT_KEY[sort]);
  const win = validWindow(cursor?.window);
  const s = await scanWalk(c, w, win ? { key: win.key, rowid: win.rowid } : undefined, n);
  const anchor: TraceWindow | undefined = win ? { key: win.key, rowid: win.rowid } : s.first ? { key: w.fts !== undefined ? s.first.rowid + 1 : s.first.key, rowid: s.first.rowid + 1 } : undefined;
  const sign = dir === 'desc' ? -1 : 1;
  const order = (a: { k: string | number | null; rid: number }, b: { k: string | number | null; rid: number }) => sign * (cmpKey(a.k, b.k) || a.rid - b.rid);
  const sorted = s.matches.sort(order);
  const at = cursor && !win?.fresh ? { k: cursor.key, rid: cursor.rowid } : undefined;
  let ahead = at ? sorted.filter((m) => (reverse ? order(m, at) < 0 : order(m, at) > 0)) : sorted;
  if (reverse) ahead = ahead.slice(-limit - 1).reverse();
  const full = ahead.length > limit;
  const shown = ahead.slice(0, limit);
  let rows = await pageRows(c, shape, shown.map((m) => m.rid));
  if (reverse) rows = rows.reverse();
  const edge = reverse ? shown[0] : shown[shown.length - 1];
  const nextWindow = !full && !reverse && !s.exhausted && s.last;
  return {
    rows,
    hasMore: full || (!reverse && !s.exhausted),
    ...(nextWindow
      ? { cursor: { key: null, rowid: 0, window: { key: s.last!.key, rowid: s.last!.rowid, fresh: true } } }
      : edge
        ? { cursor: { key: edge.k, rowid: edge.rid, ...(anchor ? { window: anchor } : {}) } }
        : {}),
    searchMode,
    notice: `${win ? `Sorted within windows of ${count(n)} traces, newest first` : `Sorted among the newest ${count(n)} traces`}: the database is not in WAL mode, and a full sort would block the proxy. Enable WAL to sort all.`,
    durationMs: ms(started),
  };
}

export async function listTraces(dbPath: string, p: TracePageParams = {}): Promise<TracePage> {
  const started = performance.now();
  const sort = p.sort ?? 'time';
  const dir: SortDir = p.dir ?? 'desc';
  const limit = sanitizeLimit(p.limit);
  const f = p.filter ?? {};
  return readTraces(dbPath, async (c, shape) => {
    if (!shape.wal && !plainIsBounded(f, sort, shape)) return listBounded(c, shape, p, started);
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
      const like = likePattern(search);
      const scan = scanRowsOf(p.scanRows, LIKE_SCAN_ROWS);
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

/**
 * Exact number of traces matching a filter: a scan, so only on request. Not in WAL mode
 * one COUNT(*) would hold SHARED for the whole scan (the runbook's own COUNT(*) made a
 * proxy without a busy timeout fail 30 times in 10 s), so it counts in chunks instead:
 * each chunk a separate connection and statement, with a pause between them. The total is
 * then the count as the chunks went, not one snapshot.
 */
export async function countTraces(dbPath: string, filter: TraceFilter = {}, opts: { chunkRows?: number; yieldMs?: number } = {}): Promise<number> {
  const whole = await readTraces(dbPath, async (c, shape) => (shape.wal ? { n: await exactCount(c, shape, filter) } : undefined));
  if (whole) return whole.n;
  let total = 0;
  let pos: Pos | undefined;
  for (;;) {
    const s = await readTraces(dbPath, (c, shape) => {
      const w = walkFor(filter, shape, 'desc');
      const indexOnly = !w.match.where.length;
      const chunk = Math.max(1, Math.floor(opts.chunkRows ?? (indexOnly ? COUNT_INDEX_CHUNK : SCAN_CHUNK)));
      return scanWalk(c, w, pos, chunk, Infinity, chunk);
    });
    total += s.matches.length;
    if (s.exhausted || !s.last) return total;
    pos = s.last;
    await new Promise((r) => setTimeout(r, opts.yieldMs ?? COUNT_YIELD_MS));
  }
}

async function exactCount(c: Connection, shape: Shape, filter: TraceFilter): Promise<number> {
  const { where, params } = filterSql(filter, shape);
  if (filter.search?.trim()) {
    if (shape.hasFts) {
      where.push('t.rowid IN (SELECT rowid FROM traces_fts WHERE traces_fts MATCH ?)');
      params.push(ftsQuery(filter.search.trim()));
    } else {
      const like = likePattern(filter.search.trim());
      where.push(LIKE_MATCH);
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
      // No index on parent_trace_id: in WAL mode a scan is harmless; otherwise children
      // are looked for where they are written, in the parent's session (session index) or,
      // without one, among the traces stored right after it.
      const sql = shape.wal
        ? 'SELECT id FROM traces WHERE parent_trace_id = ? LIMIT 50'
        : detail.sessionId !== null
          ? 'SELECT id FROM traces WHERE session_id = ? AND parent_trace_id = ? LIMIT 50'
          : `SELECT id FROM traces WHERE rowid > ? AND rowid <= ? AND parent_trace_id = ? LIMIT 50`;
      const params = shape.wal ? [detail.id] : detail.sessionId !== null ? [detail.sessionId, detail.id] : [detail.rowid, detail.rowid + SCAN_CHUNK, detail.id];
      detail.children = (await c.all<{ id: string }>(sql, params)).map((x) => x.id);
    }
    return detail;
  });
}

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
    // A skip scan of the model index: one seek per distinct model (under 1 ms on 200,000
    // traces), where DISTINCT would walk every entry while holding the lock.
    const models = await c.all<{ v: string }>(
      `WITH RECURSIVE m(v) AS (SELECT min(json_extract(metadata, '$.model')) FROM traces
         UNION ALL SELECT (SELECT min(json_extract(metadata, '$.model')) FROM traces WHERE json_extract(metadata, '$.model') > m.v) FROM m WHERE m.v IS NOT NULL LIMIT 101)
       SELECT v FROM m WHERE v IS NOT NULL LIMIT 100`,
    );
    const endpoints = await c.all<{ v: string }>('SELECT v FROM (SELECT endpoint AS v FROM traces ORDER BY rowid DESC LIMIT 5000) GROUP BY v LIMIT 100');
    return { models: models.map((r) => r.v).sort(), endpoints: endpoints.map((r) => r.v).sort(), hasFts: shape.hasFts, hasSessions: shape.columns.has('session_id') };
  });
}
