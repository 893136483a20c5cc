// Settings, read fresh on every access (rust-analyzer's pattern): no stale copies.
import * as vscode from 'vscode';

const SECTION = 'tracedb';

/** Settings whose change means the server must watch other files. */
export const WATCH_KEYS = ['tracedb.databasePath', 'tracedb.logPath', 'tracedb.pollIntervalMs', 'tracedb.poll', 'tracedb.lint.minBusyTimeoutMs'];

export function minBusyTimeoutMs(): number {
  return vscode.workspace.getConfiguration(SECTION).get<number>('lint.minBusyTimeoutMs', 5000);
}

/** Where the proxy's storage code lives in a TraceForge repo. */
export const STORAGE_FILE = 'packages/proxy/src/storage-sqlite.ts';

export function pollIntervalMs(): number {
  return vscode.workspace.getConfiguration(SECTION).get<number>('pollIntervalMs', 1000);
}

/** How often the server runs a passive check while the database is healthy and quiet. */
export function idlePollIntervalMs(): number {
  return vscode.workspace.getConfiguration(`${SECTION}.poll`).get<number>('idleIntervalMs', 30000);
}

/** tracedb.databasePath for a folder, when the user set one (it overrides discovery). */
export function databaseSetting(folder: vscode.Uri): string | undefined {
  return vscode.workspace.getConfiguration(SECTION, folder).get<string>('databasePath', '').trim() || undefined;
}

/** tracedb.logPath for a folder, when the user set one; otherwise the log is found beside the DB. */
export function logSetting(folder: vscode.Uri): string | undefined {
  return vscode.workspace.getConfiguration(SECTION, folder).get<string>('logPath', '').trim() || undefined;
}

/** Restart Proxy tees the proxy's stdout into <proxy dir>/logs/proxy.log (the proxy keeps no log file itself). */
export function keepProxyLog(folder: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration(`${SECTION}.proxy`, folder).get<boolean>('keepLog', true);
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
 * The proxy's shell commands, when set. Declared restrictedConfigurations in package.json,
 * so in an untrusted workspace VS Code hands back only user/default values; and the
 * commands that run them refuse to run untrusted anyway. Unset start command: the server
 * reads the proxy's package.json for one that works.
 */
export function proxyCommand(kind: 'start' | 'test', folder: vscode.Uri): string | undefined {
  const cfg = vscode.workspace.getConfiguration(`${SECTION}.proxy`, folder);
  return cfg.get<string>(kind === 'start' ? 'startCommand' : 'testCommand', '').trim() || undefined;
}
