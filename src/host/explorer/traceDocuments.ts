// Read-only JSON documents for single traces: `tracedb:/<id>.json?db=<path>`. Content
// comes from the doctor server with every field whole (no truncation), pretty-printed.
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as proto from '../../shared/protocol';
import type { Ctx } from '../ctx';

export const TRACE_SCHEME = 'tracedb';

export function traceUri(dbPath: string, id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: TRACE_SCHEME, path: `/${encodeURIComponent(id)}.json`, query: new URLSearchParams({ db: dbPath }).toString() });
}

function parseMaybe(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class TraceDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly ctx: Ctx) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const dbPath = new URLSearchParams(uri.query).get('db') ?? '';
    const id = decodeURIComponent(uri.path.replace(/^\//, '').replace(/\.json$/, ''));
    // A tracedb: link can come from anywhere (a markdown file, another extension): it opens
    // traces of a database the doctor watches, never an arbitrary file named in the link.
    if (!path.isAbsolute(dbPath) || !this.ctx.store.byDbPath(path.resolve(dbPath))) {
      return JSON.stringify({ error: `${dbPath || 'No database'} is not a trace database this workspace watches; trace documents open only those.` }, null, 2);
    }
    const t = await this.ctx.request(proto.trace, { dbPath, id });
    if (!t) return JSON.stringify({ error: `No trace ${id} in ${dbPath}` }, null, 2);
    const whole = async (name: proto.TraceFieldName, f: proto.TraceField | undefined) =>
      f?.truncated ? ((await this.ctx.request(proto.traceField, { dbPath, id, field: name }))?.text ?? null) : (f?.text ?? null);
    return JSON.stringify(
      {
        id: t.id,
        timestamp: t.timestamp,
        endpoint: t.endpoint,
        session_id: t.sessionId,
        step_index: t.stepIndex,
        step_id: t.stepId,
        parent_trace_id: t.parentTraceId,
        created_at: t.createdAt,
        request: parseMaybe(await whole('request', t.request)),
        response: parseMaybe(await whole('response', t.response)),
        metadata: parseMaybe(await whole('metadata', t.metadata)),
        ...(t.stateSnapshot ? { state_snapshot: parseMaybe(await whole('state_snapshot', t.stateSnapshot)) } : {}),
      },
      null,
      2,
    );
  }
}
