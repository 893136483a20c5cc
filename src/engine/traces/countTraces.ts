// The exact number of traces matching a filter: on request only, since it is a scan.
import { DoctorError } from '../errors';
import { sqliteCode, type Connection } from '../sqlite/connection';
import { filterSql, LIKE_MATCH, likePattern } from './filterSql';
import { ftsQuery, searchSyntaxMessage } from './ftsQuery';
import { readTraces, type Shape } from './readTraces';
import { SCAN_CHUNK, scanWalk, walkFor, type Pos } from './scan';
import type { TraceFilter } from '../../shared/traceModel';

/** An exact count without filters walks only the timestamp index: cheaper rows, bigger chunks. */
const COUNT_INDEX_CHUNK = 5000;
/** Between the chunks of an exact count, so a proxy that is retrying gets its commit in. */
const COUNT_YIELD_MS = 10;

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
