// A page of the trace list: traces by keyset (never OFFSET), filters on the indexed
// columns, full-text search through traces_fts or a bounded LIKE scan on older DBs. On a
// rollback-journal DB a query no index bounds becomes a bounded scan (listBounded.ts).
import { DoctorError } from '../errors';
import { sqliteCode } from '../sqlite/connection';
import { filterSql, keyset, LIKE_MATCH, likePattern, SORT_KEY } from './filterSql';
import { ftsQuery, searchSyntaxMessage } from './ftsQuery';
import { listBounded, plainIsBounded } from './listBounded';
import { LIKE_SCAN_ROWS, sanitizeLimit, scanRowsOf } from './pageLimits';
import { readTraces } from './readTraces';
import { rowColumns } from './traceRows';
import type { SortDir, TracePage, TracePageParams, TraceRow } from '../../shared/traceModel';

export async function listTraces(dbPath: string, p: TracePageParams = {}): Promise<TracePage> {
  const started = performance.now();
  const sort = p.sort ?? 'time';
  const dir: SortDir = p.dir ?? 'desc';
  const limit = sanitizeLimit(p.limit);
  const f = p.filter ?? {};
  return readTraces(dbPath, async (c, shape) => {
    if (!shape.wal && !plainIsBounded(f, sort, shape)) return { ...(await listBounded(c, shape, p)), durationMs: ms(started) };
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
        WHERE ${LIKE_MATCH}
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
