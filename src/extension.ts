// Wires the parts together and nothing else: the output channel, the doctor server's
// client, and the events that keep the server's watch list current.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import * as proto from './protocol';
import { WATCH_KEYS } from './client/config';
import { createDoctorClient, sendWatchList } from './client/doctorClient';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('Trace DB Doctor', { log: true });
  context.subscriptions.push(log);
  client = createDoctorClient(context, log);

  context.subscriptions.push(
    client.onNotification(proto.healthChanged, (p) => {
      const problems = p.report.findings.map((f) => `${f.severity}:${f.code}`).join(', ') || 'healthy';
      log.info(`${p.dbPath}: ${p.report.journalMode}, ${problems}`);
    }),
    vscode.commands.registerCommand('tracedb.showOutput', () => log.show()),
    vscode.commands.registerCommand('tracedb.restartServer', async () => {
      await client?.restart();
      if (client) await sendWatchList(client);
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => client && void sendWatchList(client)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (client && WATCH_KEYS.some((k) => e.affectsConfiguration(k))) void sendWatchList(client);
    }),
  );

  // The server starts in the background: activation must stay fast (DESIGN.md: ≤ 50 ms).
  void client.start().then(
    () => client && sendWatchList(client),
    (e: unknown) => {
      log.error(`The doctor server did not start: ${String(e)}`);
      void vscode.window
        .showErrorMessage(vscode.l10n.t('Trace DB Doctor: the doctor server did not start. {0}', String(e)), vscode.l10n.t('Open Output'))
        .then((choice) => choice && log.show());
    },
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
