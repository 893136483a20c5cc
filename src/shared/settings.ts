// Every tracedb.* setting with its default, as package.json contributes them
// (contributes.configuration): the one place code takes a setting's key or default from.
// test/unit/host/contributions.test.ts keeps this table and package.json equal.

export interface Setting<T> {
  /** The full key, e.g. `tracedb.pollIntervalMs`. */
  readonly key: string;
  readonly default: T;
}

function setting<T>(key: string, defaultValue: T): Setting<T> {
  return { key, default: defaultValue };
}

export const SETTINGS = {
  databasePath: setting('tracedb.databasePath', ''),
  logPath: setting('tracedb.logPath', ''),
  autoCheckOnOpen: setting('tracedb.autoCheckOnOpen', true),
  backupBeforeRepair: setting('tracedb.backupBeforeRepair', true),
  enableWalTimeoutMs: setting('tracedb.enableWalTimeoutMs', 5000),
  pollIntervalMs: setting('tracedb.pollIntervalMs', 1000),
  idleIntervalMs: setting('tracedb.poll.idleIntervalMs', 30000),
  proxyStartCommand: setting('tracedb.proxy.startCommand', ''),
  proxyKeepLog: setting('tracedb.proxy.keepLog', true),
  /** The proxy's own storage test (TRACEFORGE.md § Its tests). */
  proxyTestCommand: setting('tracedb.proxy.testCommand', 'pnpm --filter @traceforge/proxy test storage-sqlite'),
  minBusyTimeoutMs: setting('tracedb.lint.minBusyTimeoutMs', 5000),
};

export type SettingName = keyof typeof SETTINGS;
