// The doctor server: its own Node process, started by the extension through
// vscode-languageclient over IPC. It owns every native and OS call, so a query stuck
// behind a lock, a corrupt file or a native crash can never freeze the extension host.
// This file only wires the parts together (docs/DESIGN.md, "Layers").
import { fileURLToPath } from 'node:url';
import { CodeActionKind, createConnection, ProposedFeatures, TextDocumentSyncKind, type Connection } from 'vscode-languageserver/node';
import { sqliteBackendInfo } from '../engine';
import { describeSqliteBackend } from '../shared/reportText';
import { SETTINGS } from '../shared/settings';
import { Handler } from './handle';
import { registerHealthHandlers } from './handlers/health';
import { registerMonitorHandlers } from './handlers/monitor';
import { registerRepairHandlers } from './handlers/repair';
import { registerTraceHandlers } from './handlers/traces';
import { FIX_ALL_KIND, registerPragmaLint } from './lint';
import { Watchers } from './watchers';

const connection: Connection = createConnection(ProposedFeatures.all);

// A bug in one handler must not take the doctor down with it (the client would only
// see the server die): report it and keep serving.
process.on('uncaughtException', (e) => connection.console.error(`Uncaught exception: ${e.stack ?? e}`));
process.on('unhandledRejection', (e) => connection.console.error(`Unhandled rejection: ${(e as Error)?.stack ?? e}`));

let minBusyTimeoutMs = SETTINGS.minBusyTimeoutMs.default;
let workspaceFolders: string[] = [];
const lint = registerPragmaLint(connection, { minBusyTimeoutMs: () => minBusyTimeoutMs });
const handler = new Handler(connection);
const watchers = new Watchers(connection);

connection.onInitialize((params) => {
  // Clients that predate workspace folders send only rootUri (or the older rootPath).
  const uris = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
  workspaceFolders = uris.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
  if (!workspaceFolders.length && params.rootPath) workspaceFolders = [params.rootPath];
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
    },
    serverInfo: { name: 'Trace DB Doctor', version: process.env.TRACEDB_VERSION ?? 'dev' },
  };
});

connection.onInitialized(() => {
  connection.console.log(`SQLite engine: ${describeSqliteBackend(sqliteBackendInfo())}`);
  // Storage code is linted once in the background; open documents as they change.
  void lint
    .scanWorkspace(workspaceFolders)
    .then((r) => connection.console.log(`storage lint: ${r.linted} of ${r.files} files checked${r.complete ? '' : ' (stopped at its budget)'}`));
});

registerHealthHandlers(connection, handler, watchers, (ms) => (minBusyTimeoutMs = ms));
registerRepairHandlers(connection, handler, watchers);
registerTraceHandlers(connection, handler);
registerMonitorHandlers(connection, handler, watchers);

connection.onShutdown(() => watchers.dispose());

connection.listen();
