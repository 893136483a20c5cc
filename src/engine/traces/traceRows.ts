// The columns of a trace list's rows, and the rows themselves for traces a scan found.
import type { Connection } from '../sqlite/connection';
import type { Shape } from './readTraces';
import type { TraceRow } from '../../shared/traceModel';

/** The SELECT list of a TraceRow, from `traces t`; columns an older schema lacks read as NULL. */
export function rowColumns(shape: Shape): string {
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

/** The rows of these traces, in the order given; a trace deleted meanwhile is left out. */
export async function pageRows(c: Connection, shape: Shape, rids: number[]): Promise<TraceRow[]> {
  if (!rids.length) return [];
  const rows = await c.all<TraceRow>(`SELECT ${rowColumns(shape)} FROM traces t WHERE t.rowid IN (${rids.map(() => '?').join(', ')})`, rids);
  const byRid = new Map(rows.map((r) => [r.rowid, r]));
  return rids.map((r) => byRid.get(r)).filter((r): r is TraceRow => !!r);
}
