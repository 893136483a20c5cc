// Bounded scans, for a rollback-journal DB where no index bounds the plain query: walk
// the traces in an order an index gives for free, a chunk per statement (each its own
// short SHARED lock), testing the filter on each trace read, and stop after so many.
import { DoctorError } from '../errors';
import { sqliteCode, type Connection } from '../sqlite/connection';
import { filterSql, LIKE_MATCH, likePattern } from './filterSql';
import { ftsQuery, searchSyntaxMessage } from './ftsQuery';
import type { Shape } from './readTraces';
import type { SortDir, TraceFilter } from '../../shared/traceModel';

/**
 * Traces one statement of a bounded scan reads with their metadata. Measured on the
 * 757 MiB, 200,000-trace DB: 1,000 rows took ~5 ms of CPU and 5,000 in one statement
 * 26 ms (80-160 ms of wall time on a loaded 2-core machine), all that time holding SHARED.
 */
export const SCAN_CHUNK = 1000;

/** A position in a walk: (timestamp, rowid) on the timestamp index, or (rowid, rowid) through traces_fts. */
export interface Pos {
  key: string | number;
  rowid: number;
}

/**
 * The traces a bounded scan reads, in an order an index gives for free: the timestamp
 * index, or FTS5's rowid order for a full-text search. Chunks of it are read one
 * statement at a time; `match` and `key` are evaluated on each trace read.
 */
export interface Walk {
  fts?: string;
  dir: SortDir;
  /** Time bounds, on the timestamp index itself. */
  range: { where: string[]; params: unknown[] };
  match: { where: string[]; params: unknown[] };
  key?: string;
}

export interface Scanned {
  rid: number;
  pk: string | number;
  k: string | number | null;
}

export interface ScanResult {
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
    if (after) {
      where.push(`rowid ${op} ?`);
      params.push(after.rowid);
    }
    return { sql: `SELECT rowid AS rid, rowid AS pk FROM traces_fts WHERE ${where.join(' AND ')} ORDER BY rowid ${d} LIMIT ${n}`, params };
  }
  const where = [...w.range.where];
  const params = [...w.range.params];
  // A row value keeps the walk on the index (see keyset).
  if (after) {
    where.push(`(t.timestamp, t.rowid) ${op} (?, ?)`);
    params.push(after.key, after.rowid);
  }
  return {
    sql: `SELECT t.rowid AS rid, t.timestamp AS pk FROM traces t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.timestamp ${d}, t.rowid ${d} LIMIT ${n}`,
    params,
  };
}

/**
 * Reads up to `maxRows` traces of the walk after `start`, `chunk` per statement (each its
 * own short SHARED lock), until `stopAfter` matched.
 */
export async function scanWalk(c: Connection, w: Walk, start: Pos | undefined, maxRows: number, stopAfter = Infinity, chunk = SCAN_CHUNK): Promise<ScanResult> {
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
export function walkFor(f: TraceFilter, shape: Shape, dir: SortDir, key?: string): Walk {
  const search = f.search?.trim();
  const fts = search && shape.hasFts ? ftsQuery(search) : undefined;
  const range = { where: [] as string[], params: [] as unknown[] };
  if (f.from) {
    range.where.push('t.timestamp >= ?');
    range.params.push(f.from);
  }
  if (f.to) {
    range.where.push('t.timestamp < ?');
    range.params.push(f.to);
  }
  const match = filterSql(f, shape, false, fts !== undefined);
  if (search && fts === undefined) {
    const like = likePattern(search);
    match.where.push(LIKE_MATCH);
    match.params.push(like, like, like);
  }
  return { fts, dir, range: fts !== undefined ? { where: [], params: [] } : range, match, key };
}
