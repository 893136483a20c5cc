// Starts the doctor server (dist/server.js) in its own Node process over IPC and
// keeps it told which databases to watch. The extension host never opens SQLite.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { CODE_LANGUAGES } from '../shared/codeLanguages';

export function createDoctorClient(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Storage code (RUNBOOK-002's long-term fix) is linted in TS/JS files on disk.
    documentSelector: CODE_LANGUAGES.map((language) => ({ scheme: 'file', language })),
    outputChannel: log,
  };
  return new LanguageClient('tracedb', 'Trace DB Doctor', serverOptions, clientOptions);
}
