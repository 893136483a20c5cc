// One trace in detail: its fields cut to a preview, its neighbours in the session and
// its children; and one field in full when the user asks for all of it.
import { readTraces, type Shape } from './readTraces';
import { SCAN_CHUNK } from './scan';
import { FIELD_PREVIEW_CHARS, type TraceDetail, type TraceField, type TraceFieldName } from '../../shared/traceModel';

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
      const prev = await c.get<{ id: string }>('SELECT id FROM traces WHERE session_id = ? AND step_index < ? ORDER BY step_index DESC LIMIT 1', [
        detail.sessionId,
        detail.stepIndex,
      ]);
      const next = await c.get<{ id: string }>('SELECT id FROM traces WHERE session_id = ? AND step_index > ? ORDER BY step_index ASC LIMIT 1', [
        detail.sessionId,
        detail.stepIndex,
      ]);
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
