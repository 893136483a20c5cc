// Settings, read fresh on every access (rust-analyzer's pattern): no stale copies.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WatchedDatabase } from '../protocol';

const SECTION = 'tracedb';

/** Settings whose change means the server must watch other files. */
export const WATCH_KEYS = ['tracedb.databasePath', 'tracedb.logPath', 'tracedb.pollIntervalMs'];

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
