// Settings, read fresh on every access (rust-analyzer's pattern): no stale copies. Keys
// and defaults come from src/shared/settings.ts.
import * as vscode from 'vscode';
import { SETTINGS, type Setting } from '../shared/settings';

function read<T>(setting: Setting<T>, scope?: vscode.Uri): T {
  const dot = setting.key.lastIndexOf('.');
  return vscode.workspace.getConfiguration(setting.key.slice(0, dot), scope).get<T>(setting.key.slice(dot + 1), setting.default);
}

/** Settings whose change means the server must watch other files. */
export const WATCH_KEYS = (['databasePath', 'logPath', 'pollIntervalMs', 'idleIntervalMs', 'minBusyTimeoutMs'] as const).map((name) => SETTINGS[name].key);

export function minBusyTimeoutMs(): number {
  return read(SETTINGS.minBusyTimeoutMs);
}

export function pollIntervalMs(): number {
  return read(SETTINGS.pollIntervalMs);
}

/** How often the server runs a passive check while the database is healthy and quiet. */
export function idlePollIntervalMs(): number {
  return read(SETTINGS.idleIntervalMs);
}

/** tracedb.databasePath for a folder, when the user set one (it overrides discovery). */
export function databaseSetting(folder: vscode.Uri): string | undefined {
  return read(SETTINGS.databasePath, folder).trim() || undefined;
}

/** tracedb.logPath for a folder, when the user set one; otherwise the log is found beside the DB. */
export function logSetting(folder: vscode.Uri): string | undefined {
  return read(SETTINGS.logPath, folder).trim() || undefined;
}

/** Restart Proxy tees the proxy's stdout into <proxy dir>/logs/proxy.log (the proxy keeps no log file itself). */
export function keepProxyLog(folder: vscode.Uri): boolean {
  return read(SETTINGS.proxyKeepLog, folder);
}

export function autoCheckOnOpen(): boolean {
  return read(SETTINGS.autoCheckOnOpen);
}

export function backupBeforeRepair(): boolean {
  return read(SETTINGS.backupBeforeRepair);
}

export function enableWalTimeoutMs(): number {
  return read(SETTINGS.enableWalTimeoutMs);
}

/*
 * The proxy's shell commands. Declared restrictedConfigurations in package.json, so in an
 * untrusted workspace VS Code hands back only user/default values; and the commands that
 * run them refuse to run untrusted anyway.
 */

/** tracedb.proxy.startCommand, when set; unset, the server reads the proxy's package.json for one that works. */
export function proxyStartCommand(folder: vscode.Uri): string | undefined {
  return read(SETTINGS.proxyStartCommand, folder).trim() || undefined;
}

/** tracedb.proxy.testCommand; cleared, the proxy's own storage test. */
export function proxyTestCommand(folder: vscode.Uri): string {
  return read(SETTINGS.proxyTestCommand, folder).trim() || SETTINGS.proxyTestCommand.default;
}
