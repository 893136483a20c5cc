// How much one page request may return, and how many traces it may read for it where
// no index bounds the query (a LIKE search, a rollback-journal DB).
import { MAX_PAGE } from '../../shared/traceModel';

/** A LIKE search (no FTS table) reads at most this many rows per page request. */
export const LIKE_SCAN_ROWS = 20000;
/** Not in WAL mode, a request reads at most this many traces for anything no index answers. */
export const SCAN_ROWS = 5000;

/** Rows on a page: 50 unless asked, between 1 and MAX_PAGE. */
export function sanitizeLimit(n: number | undefined): number {
  return Math.max(1, Math.min(MAX_PAGE, Math.floor(n ?? 50)));
}

/** Traces a request reads: the client's `scanRows` if it is a number, never more than `max`. */
export function scanRowsOf(n: unknown, max: number): number {
  return typeof n === 'number' && Number.isFinite(n) ? Math.max(1, Math.min(max, Math.floor(n))) : max;
}
