// Settings, read fresh on every access (rust-analyzer's pattern): no stale copies.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WatchedDatabase } from '../protocol';

const SECTION = 'tracedb';

/** Settings whose change means the server must watch other files. */
export const WATCH_KEYS = ['tracedb.databasePath', 'tracedb.logPath', 'tracedb.pollIntervalMs', 'tracedb.lint.minBusyTimeoutMs'];

export function minBusyTimeoutMs(): number {
  return vscode.workspace.getConfiguration(SECTION).get<number>('lint.minBusyTimeoutMs', 5000);
}

/** Where the proxy's storage code lives in a TraceForge repo. */
export const STORAGE_FILE = 'packages/proxy/src/storage-sqlite.ts';

export function pollIntervalMs(): number {
  return vscode.workspace.getConfiguration(SECTION).get<number>('pollIntervalMs', 2000);
}

/** One trace DB per workspace folder, at the folder's own `tracedb.databasePath`. */
export function watchedDatabases(): WatchedDatabase[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((folder) => {
      const cfg = vscode.workspace.getConfiguration(SECTION, folder.uri);
      const db = cfg.get<string>('databasePath', '.ai-tests/traces.db');
      const log = cfg.get<string>('logPath', 'packages/proxy/logs/error.log');
      return {
        folderUri: folder.uri.toString(),
        dbPath: path.resolve(folder.uri.fsPath, db),
        ...(log ? { logPath: path.resolve(folder.uri.fsPath, log) } : {}),
      };
    });
}

export function autoCheckOnOpen(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('autoCheckOnOpen', true);
}

export function backupBeforeRepair(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('backupBeforeRepair', true);
}

export function enableWalTimeoutMs(): number {
  return vscode.workspace.getConfiguration(SECTION).get<number>('enableWalTimeoutMs', 5000);
}

/**
 * The proxy's shell commands. Declared restrictedConfigurations in package.json, so in
 * an untrusted workspace VS Code hands back only user/default values; and the commands
 * that run them refuse to run untrusted anyway.
 */
export function proxyCommand(kind: 'start' | 'test', folder: vscode.Uri): string {
  const cfg = vscode.workspace.getConfiguration(`${SECTION}.proxy`, folder);
  return kind === 'start'
    ? cfg.get<string>('startCommand', 'pnpm --filter @traceforge/proxy start')
    : cfg.get<string>('testCommand', 'pnpm --filter @traceforge/proxy test storage-sqlite');
}
