// The doctor server: its own Node process, started by the extension through
// vscode-languageclient over IPC. It owns every native and OS call, so a query stuck
// behind a lock, a corrupt file or a native crash can never freeze the extension host.
import { backupDatabase, checkpoint as runCheckpoint, enableWal as runEnableWal, DoctorError, Inspector, concurrencyCheck, integrityCheck, killHolder, stopProxy, countTraces, filterChoices, getTrace, getTraceField, listTraces, sampleLocks, discoverDatabases, proxyFolderOf, proxyEnvOf, proxyLaunch } from '../engine';
import * as path from 'node:path';
import {
  createConnection,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  CodeActionKind,
  type Connection,
  type ProgressToken,
} from 'vscode-languageserver/node';
import { formatReport } from '../shared/reportText';
import { fileURLToPath } from 'node:url';
import * as proto from '../shared/protocol';
import { DbWatcher, type WatchInterest } from './dbWatcher';
import { FIX_ALL_KIND, registerPragmaLint } from './lint';

const connection: Connection = createConnection(ProposedFeatures.all);
/** tracedb.poll.idleIntervalMs's default, for clients that do not send it. */
const DEFAULT_IDLE_INTERVAL_MS = 30_000;
const watchers = new Map<string, DbWatcher>();

// A bug in one handler must not take the doctor down with it (the client would only
// see the server die): report it and keep serving.
process.on('uncaughtException', (e) => connection.console.error(`Uncaught exception: ${e.stack ?? e}`));
process.on('unhandledRejection', (e) => connection.console.error(`Unhandled rejection: ${(e as Error)?.stack ?? e}`));

let minBusyTimeoutMs = 5000;
let workspaceFolders: string[] = [];
const lint = registerPragmaLint(connection, { minBusyTimeoutMs: () => minBusyTimeoutMs });

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
  // Storage code is linted once in the background; open documents as they change.
  void lint.scanWorkspace(workspaceFolders).then((r) => connection.console.log(`storage lint: ${r.linted} of ${r.files} files checked${r.complete ? '' : ' (stopped at its budget)'}`));
});

/** Runs a handler; DoctorErrors reach the user as they are, anything else as a bug. */
async function handle<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await fn();
    connection.console.log(`${what}: ${Math.round(performance.now() - started)} ms`);
    return result;
  } catch (e) {
    if (e instanceof DoctorError) {
      connection.console.warn(`${what}: ${e.message}`);
      throw new ResponseError(proto.USER_FACING_ERROR, e.message);
    }
    connection.console.error(`${what} failed: ${(e as Error)?.stack ?? e}`);
    throw new ResponseError(-32603, `${what} failed: ${(e as Error)?.message ?? e}`);
  }
}

/** The client's progress token (if it sent one) as the engine's onProgress callback. */
function progressOf(token: ProgressToken | undefined, title: string) {
  const reporter = connection.window.attachWorkDoneProgress(token);
  reporter.begin(title, 0, undefined, false);
  return {
    report: (e: { message: string; percent?: number }) => reporter.report(e.percent ?? 0, e.message),
    done: () => reporter.done(),
  };
}

/** A user's check goes through the watcher when there is one, so its lock history counts. */
function inspectorFor(dbPath: string, logPath?: string): { inspector: Inspector; watcher?: DbWatcher } {
  const key = path.resolve(dbPath);
  const w = watchers.get(key);
  if (w) return { inspector: w.inspector, watcher: w };
  return { inspector: new Inspector(key, { logPath }) };
}

/** What the client looks at (watchInterest), for watchers created later too. */
let interest: WatchInterest = { names: false };

connection.onRequest(proto.watchInterest, (params) =>
  handle('watchInterest', async () => {
    interest = { names: params.names ?? interest.names, data: params.data ?? interest.data };
    for (const w of watchers.values()) w.setInterest(interest);
  }),
);

connection.onRequest(proto.watch, (params) =>
  handle('watch', async () => {
    if (params.minBusyTimeoutMs !== undefined) minBusyTimeoutMs = params.minBusyTimeoutMs;
    const pollIntervalMs = Math.max(250, params.pollIntervalMs);
    const rates = { pollIntervalMs, idleIntervalMs: Math.max(pollIntervalMs, params.idleIntervalMs ?? DEFAULT_IDLE_INTERVAL_MS) };
    const wanted = new Map(params.databases.map((d) => [path.resolve(d.dbPath), d]));
    for (const [key, w] of watchers) {
      const t = wanted.get(key);
      if (!t || t.logPath !== w.target.logPath || t.folderUri !== w.target.folderUri) {
        w.dispose();
        watchers.delete(key);
      }
    }
    for (const [key, target] of wanted) {
      const existing = watchers.get(key);
      if (existing) {
        existing.setRates(rates);
        continue;
      }
      const w = new DbWatcher({ ...target, dbPath: key }, rates, {
        onChange: (t, report) => void connection.sendNotification(proto.healthChanged, { folderUri: t.folderUri, dbPath: t.dbPath, report }),
        onData: (t) => void connection.sendNotification(proto.dataChanged, { dbPath: t.dbPath }),
        onError: (t, e) => connection.console.error(`poll of ${t.dbPath} failed: ${(e as Error)?.stack ?? e}`),
      });
      watchers.set(key, w);
      w.setInterest(interest);
      w.start();
    }
  }),
);

connection.onRequest(proto.discover, (params) => handle(`discover ${params.root}`, () => discoverDatabases(params.root)));

connection.onRequest(proto.proxyLaunch, (params) =>
  handle(`proxyLaunch ${params.dbPath}`, async () => {
    const launch = proxyLaunch(params.root, proxyFolderOf(path.resolve(params.dbPath)), { custom: params.custom, keepLog: params.keepLog });
    // The running proxy's settings (which backend, which DB) must survive the restart.
    const sample = await sampleLocks(path.resolve(params.dbPath));
    const proxy = sample.holders.find((h) => h.kind === 'proxy');
    const env = proxy ? proxyEnvOf(proxy.pid) : {};
    return Object.keys(env).length ? { ...launch, env } : launch;
  }),
);

connection.onRequest(proto.health, (params) =>
  handle(`health ${params.mode} ${params.dbPath}`, async () => {
    const { inspector, watcher } = inspectorFor(params.dbPath, params.logPath);
    const report = await inspector.check({ mode: params.mode, countExact: params.countExact, integrity: params.integrity });
    watcher?.publish(report);
    return report;
  }),
);

connection.onRequest(proto.enableWal, (params, token) =>
  handle(`enableWal ${params.dbPath}`, async () => {
    const progress = progressOf(params.workDoneToken, 'Enabling WAL');
    // Cancel from the progress notification: between tries, or during the backup after the switch.
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      const result = await runEnableWal(params.dbPath, { timeoutMs: params.timeoutMs, backup: params.backup, force: params.force, onProgress: progress.report, signal: abort.signal });
      watchers.get(path.resolve(params.dbPath))?.schedule(0);
      return result;
    } finally {
      sub.dispose();
      progress.done();
    }
  }),
);

connection.onRequest(proto.checkpoint, (params) =>
  handle(`checkpoint ${params.mode} ${params.dbPath}`, async () => {
    const result = await runCheckpoint(params.dbPath, params.mode);
    watchers.get(path.resolve(params.dbPath))?.schedule(0);
    return result;
  }),
);

connection.onRequest(proto.backup, (params) =>
  handle(`backup ${params.dbPath}`, async () => {
    const progress = progressOf(params.workDoneToken, 'Backing up');
    try {
      return await backupDatabase(params.dbPath, { out: params.out, onProgress: progress.report });
    } finally {
      progress.done();
    }
  }),
);

connection.onRequest(proto.integrity, (params) =>
  handle(`integrity ${params.dbPath}`, async () => {
    const progress = progressOf(params.workDoneToken, 'Checking integrity');
    try {
      return await integrityCheck(params.dbPath, { onProgress: progress.report });
    } finally {
      progress.done();
    }
  }),
);

connection.onRequest(proto.holders, (params) => handle(`holders ${params.dbPath}`, () => sampleLocks(path.resolve(params.dbPath))));

connection.onRequest(proto.kill, (params) =>
  handle(`kill ${params.signal} ${params.pid}`, async () => {
    const result = await killHolder(params.dbPath, params.pid, params.signal, params.protectedPids);
    watchers.get(path.resolve(params.dbPath))?.schedule(0);
    return result;
  }),
);

connection.onRequest(proto.stopProxy, (params) =>
  handle(`stopProxy ${params.dbPath}`, async () => {
    const result = await stopProxy(params.dbPath, params.protectedPids);
    watchers.get(path.resolve(params.dbPath))?.schedule(0);
    return result;
  }),
);

connection.onRequest(proto.report, (params) =>
  handle(`report ${params.dbPath}`, async () => {
    const { inspector, watcher } = inspectorFor(params.dbPath, params.logPath);
    const report = await inspector.check({ mode: 'full' });
    watcher?.publish(report);
    return { report, markdown: formatReport(report, { markdown: true }) };
  }),
);

connection.onRequest(proto.verifyConcurrency, (params) =>
  handle(`verifyConcurrency ${params.dbPath}`, async () => {
    const progress = progressOf(params.workDoneToken, 'Concurrent write test');
    try {
      return await concurrencyCheck(path.resolve(params.dbPath), {
        writers: params.writers,
        seconds: params.seconds,
        writerScript: path.join(__dirname, 'writer.js'),
        onProgress: progress.report,
      });
    } finally {
      progress.done();
    }
  }),
);

connection.onRequest(proto.traces, ({ dbPath, ...page }) => handle('traces', () => listTraces(path.resolve(dbPath), page)));
connection.onRequest(proto.trace, ({ dbPath, id }) => handle('trace', async () => (await getTrace(path.resolve(dbPath), id)) ?? null));
connection.onRequest(proto.traceField, ({ dbPath, id, field }) => handle('traceField', async () => (await getTraceField(path.resolve(dbPath), id, field)) ?? null));
connection.onRequest(proto.traceCount, ({ dbPath, filter }) => handle('traceCount', () => countTraces(path.resolve(dbPath), filter)));
connection.onRequest(proto.filterChoices, ({ dbPath }) => handle('filterChoices', () => filterChoices(path.resolve(dbPath))));

connection.onShutdown(() => {
  for (const w of watchers.values()) w.dispose();
  watchers.clear();
});

connection.listen();
