// Wires the parts together and nothing else. Activation stays fast: the server starts
// in the background and the UI fills in when its first report arrives.
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { AutoCheck } from './health/autoCheck';
import { registerCommands } from './commands/register';
import { WATCH_KEYS } from './config';
import { Ctx } from './ctx';
import { watchForDatabases } from './health/databaseChoice';
import { createDoctorClient } from './doctorClient';
import { ExplorerPanel } from './explorer/explorerPanel';
import { HealthTree, watchTreeVisibility } from './health/healthTree';
import { MonitorPanel } from './monitor/monitorPanel';
import { TRACE_SCHEME, TraceDocuments } from './explorer/traceDocuments';
import { StatusBar } from './health/statusBar';

/** What tests (the extension-host suite) read back; not a public API. */
export interface TestApi {
  ctx: Ctx;
  statusBar: StatusBar;
  tree: HealthTree;
  ready: Promise<void>;
}

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): TestApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Trace DB Doctor', { log: true });
  client = createDoctorClient(context, log);
  const ctx = new Ctx(context, log, client);
  const statusBar = new StatusBar(ctx.store);
  const tree = new HealthTree(ctx.store);

  context.subscriptions.push(
    log,
    ctx,
    statusBar,
    tree,
    new AutoCheck(ctx.store, context.workspaceState),
    ...watchTreeVisibility(ctx, vscode.window.createTreeView('tracedb.health', { treeDataProvider: tree, showCollapseAll: true })),
    ...registerCommands(ctx),
    ExplorerPanel.registerSerializer(ctx),
    ...MonitorPanel.register(ctx),
    vscode.workspace.registerTextDocumentContentProvider(TRACE_SCHEME, new TraceDocuments(ctx)),
    ...ctx.listen(),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ctx.sendWatchList().catch((e) => ctx.showError(e))),
    watchForDatabases(() => ctx.running && void ctx.sendWatchList().catch((e) => ctx.showError(e))),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (WATCH_KEYS.some((k) => e.affectsConfiguration(k))) void ctx.sendWatchList().catch((err) => ctx.showError(err));
    }),
  );

  // After the client restarts a crashed server by itself, the new server watches nothing
  // until it is told again: every start, not only the first, sends the watch list.
  let firstStart = true;
  context.subscriptions.push(
    client.onDidChangeState((e) => {
      if (e.newState !== State.Running) return;
      if (!firstStart) void ctx.sendWatchList().catch((err) => ctx.showError(err));
      firstStart = false;
    }),
  );
  const ready = client.start().then(
    () => ctx.sendWatchList(),
    (e: unknown) => {
      log.error(`The doctor server did not start: ${String(e)}`);
      const open = vscode.l10n.t('Open Output');
      void vscode.window
        .showErrorMessage(vscode.l10n.t('Trace DB Doctor: the doctor server did not start. {0}', String(e)), open)
        .then((choice) => choice === open && log.show());
    },
  );
  log.info(`activated in ${(performance.now() - started).toFixed(1)} ms (the doctor server starts in the background)`);
  return { ctx, statusBar, tree, ready };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
