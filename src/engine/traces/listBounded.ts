// A page of traces on a rollback-journal DB when no index bounds the plain query: a
// bounded scan (scan.ts), and a notice that says how far it looked and why.
import type { Connection } from '../sqlite/connection';
import { SORT_KEY } from './filterSql';
import { SCAN_ROWS, sanitizeLimit, scanRowsOf } from './pageLimits';
import type { Shape } from './readTraces';
import { scanWalk, walkFor, type Scanned } from './scan';
import { pageRows } from './traceRows';
import type { SortDir, TraceCursor, TraceFilter, TracePage, TracePageParams, TraceSort, TraceWindow } from '../../shared/traceModel';

function hasRowFilter(f: TraceFilter): boolean {
  return !!(
    f.model ||
    f.status ||
    f.endpoint ||
    f.minLatencyMs !== undefined ||
    f.maxLatencyMs !== undefined ||
    f.minTokens !== undefined ||
    f.maxTokens !== undefined
  );
}

/**
 * Not in WAL mode: whether the plain query reads a bounded number of rows anyway. A page
 * in time order walks the timestamp index and stops after a page; a session's steps
 * come from the session index; a full-text search alone walks FTS5 in rowid order. A
 * filter the walk must test row by row can read the whole table before a page fills
 * (a rare model), and any other order sorts every match.
 */
export function plainIsBounded(f: TraceFilter, sort: TraceSort, shape: Shape): boolean {
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

/** A page not in WAL mode when no index bounds the plain query: a bounded scan, said in the notice. */
export async function listBounded(c: Connection, shape: Shape, p: TracePageParams): Promise<Omit<TracePage, 'durationMs'>> {
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
    let rows = await pageRows(
      c,
      shape,
      shown.map((m) => m.rid),
    );
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
    };
  }
  // Latency and tokens: sorted within a window of the newest traces, anchored so that
  // later pages sort the same traces while the proxy adds new ones.
  const w = walkFor(f, shape, 'desc', SORT_KEY[sort]);
  const win = validWindow(cursor?.window);
  const s = await scanWalk(c, w, win ? { key: win.key, rowid: win.rowid } : undefined, n);
  const anchor: TraceWindow | undefined = win
    ? { key: win.key, rowid: win.rowid }
    : s.first
      ? { key: w.fts !== undefined ? s.first.rowid + 1 : s.first.key, rowid: s.first.rowid + 1 }
      : undefined;
  const sign = dir === 'desc' ? -1 : 1;
  const order = (a: { k: string | number | null; rid: number }, b: { k: string | number | null; rid: number }) => sign * (cmpKey(a.k, b.k) || a.rid - b.rid);
  const sorted = s.matches.sort(order);
  const at = cursor && !win?.fresh ? { k: cursor.key, rid: cursor.rowid } : undefined;
  let ahead = at ? sorted.filter((m) => (reverse ? order(m, at) < 0 : order(m, at) > 0)) : sorted;
  if (reverse) ahead = ahead.slice(-limit - 1).reverse();
  const full = ahead.length > limit;
  const shown = ahead.slice(0, limit);
  let rows = await pageRows(
    c,
    shape,
    shown.map((m) => m.rid),
  );
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
  };
}
