// The engine's front door: everything the doctor server and the CLI use, and nothing
// else. Plain Node, no `vscode` (docs/DESIGN.md, "Layers"). Each concern lives in its own
// folder; callers outside the engine import from here, so a file can move inside a folder
// without touching them.
export { DoctorError } from './errors';
export { commitFingerprint } from './diagnose/commitFingerprint';
export { Inspector, inspect } from './diagnose/inspect';
export { decodeSqliteLocks, LOCK_ORDER } from './locks/lockBytes';
export { type ScanMode } from './locks/openFiles';
export { parseProcLocks } from './locks/procLocks';
export { sampleLocks } from './locks/sampleLocks';
export { describeLockError, heldPhrase } from './monitor/errorLink';
export { DEFAULT_INTERVAL_MS as MONITOR_DEFAULT_INTERVAL_MS, LockMonitor, type LockMonitorOptions, type MonitorTotals } from './monitor/lockMonitor';
export { monitorFindings } from './monitor/monitorFindings';
export { discoverDatabases, logPathFor, proxyFolderOf } from './proxy/discover';
export { proxyEnvOf, proxyLaunch } from './proxy/proxyLaunch';
export { backupDatabase } from './repair/backup';
export { checkpoint } from './repair/checkpoint';
export { concurrencyCheck } from './repair/concurrencyCheck';
export { enableWal } from './repair/enableWal';
export { integrityCheck } from './repair/integrity';
export { killHolder, stopProxy } from './repair/kill';
export { sqliteBackendInfo } from './sqlite/backend';
export { countTraces } from './traces/countTraces';
export { filterChoices } from './traces/filterChoices';
export { listTraces } from './traces/listTraces';
export { getTrace, getTraceField } from './traces/traceDetail';
