// The trace explorer's reads. Each is bounded by the engine so browsing never holds the
// proxy up (docs/DESIGN.md, "Rules").
import * as path from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import { countTraces, filterChoices, getTrace, getTraceField, listTraces } from '../../engine';
import * as proto from '../../shared/protocol';
import type { Handler } from '../handle';

export function registerTraceHandlers(connection: Connection, handler: Handler): void {
  connection.onRequest(proto.traces, ({ dbPath, ...page }) => handler.run('traces', () => listTraces(path.resolve(dbPath), page)));
  connection.onRequest(proto.trace, ({ dbPath, id }) => handler.run('trace', async () => (await getTrace(path.resolve(dbPath), id)) ?? null));
  connection.onRequest(proto.traceField, ({ dbPath, id, field }) =>
    handler.run('traceField', async () => (await getTraceField(path.resolve(dbPath), id, field)) ?? null),
  );
  connection.onRequest(proto.traceCount, ({ dbPath, filter }) => handler.run('traceCount', () => countTraces(path.resolve(dbPath), filter)));
  connection.onRequest(proto.filterChoices, ({ dbPath }) => handler.run('filterChoices', () => filterChoices(path.resolve(dbPath))));
}
