// Which SQLite engine the doctor reads with. The native addon @vscode/sqlite3 is built for
// one platform and ABI (linux-x64 here): on macOS, Windows, arm64 or after an Electron ABI
// change its .node file does not load. Node's own node:sqlite (22.13+ without a flag, and
// VS Code's extension host on current versions) then does the same work. Neither module is
// imported statically: a .node file that fails to load must not take the bundle down with
// it, since header-level health (WAL or not, sizes, locks, the log) needs no SQLite at all.
//
// Order: native first (asynchronous, on libuv's threads), then node:sqlite.
// TRACEDB_SQLITE_BACKEND=native|node forces one (tests run the unit suite on each).
import { DoctorError } from '../errors';
import type { SqliteBackendInfo } from '../../shared/model';
import type { NativeSqlite } from './nativeConnection';
import type { NodeSqlite } from './nodeConnection';

export const FORCE_ENV = 'TRACEDB_SQLITE_BACKEND';

export type LoadedBackend =
  | { info: SqliteBackendInfo & { name: 'native' }; native: NativeSqlite }
  | { info: SqliteBackendInfo & { name: 'node:sqlite' }; node: NodeSqlite }
  | { info: SqliteBackendInfo & { name: 'none' } };

/** What the choice depends on; the real one reads the process, tests pass their own. */
export interface BackendProbe {
  /** The value of TRACEDB_SQLITE_BACKEND: 'native' or 'node' forces that engine; anything else, or none, picks. */
  force?: string;
  /** process.versions.node, e.g. 24.9.0. */
  nodeVersion: string;
  /** Both throw when the module does not load. */
  loadNative(): NativeSqlite;
  loadNode(): NodeSqlite;
}

/** First line of an error, short enough for a tree row and a log line. */
function briefly(e: unknown): string {
  const line = String((e as Error)?.message ?? e)
    .split('\n')[0]
    .trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Why node:sqlite did not load, in terms of the Node version (it arrived in 22.5, flagged until 22.13). */
function nodeSqliteProblem(nodeVersion: string, e: unknown): string {
  const [major, minor] = nodeVersion.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 5)) return `this Node (v${nodeVersion}) has no node:sqlite`;
  if (major === 22 && minor < 13) return `this Node (v${nodeVersion}) has node:sqlite only behind --experimental-sqlite`;
  return `node:sqlite did not load in this Node (v${nodeVersion}): ${briefly(e)}`;
}

function sqliteVersionOf(node: NodeSqlite): string | undefined {
  if (process.versions.sqlite) return process.versions.sqlite;
  try {
    const db = new node.DatabaseSync(':memory:');
    try {
      return String((db.prepare('SELECT sqlite_version() AS v').get() as { v?: unknown } | undefined)?.v ?? '') || undefined;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

export function chooseBackend(p: BackendProbe): LoadedBackend {
  const force = p.force === 'native' || p.force === 'node' ? p.force : undefined;
  const forced = force && `chosen by ${FORCE_ENV}=${force}`;
  const node = p.nodeVersion;
  let nativeError = '';
  if (force !== 'node') {
    try {
      const native = p.loadNative();
      return { info: { name: 'native', version: native.VERSION, node, ...(forced ? { reason: forced } : {}) }, native };
    } catch (e) {
      nativeError = briefly(e);
    }
  }
  let nodeProblem = `${FORCE_ENV}=native rules out node:sqlite`;
  if (force !== 'native') {
    try {
      const mod = p.loadNode();
      const version = sqliteVersionOf(mod);
      return {
        info: { name: 'node:sqlite', ...(version ? { version } : {}), node, reason: forced || `the native module did not load: ${nativeError}` },
        node: mod,
      };
    } catch (e) {
      nodeProblem = nodeSqliteProblem(node, e);
    }
  }
  const nativeProblem = force === 'node' ? `${FORCE_ENV}=node rules out the native module` : `the native module did not load (${nativeError})`;
  return { info: { name: 'none', node, reason: `${nativeProblem} and ${nodeProblem}` } };
}

/**
 * Loads node:sqlite without its "SQLite is an experimental feature" warning, which would
 * otherwise reach every CLI run's stderr; any other warning still goes through. Throws
 * where this Node has no node:sqlite.
 */
export function requireNodeSqlite(): NodeSqlite {
  const own = Object.getOwnPropertyDescriptor(process, 'emitWarning');
  const emit = process.emitWarning.bind(process) as (warning: string | Error, ...rest: unknown[]) => void;
  const quiet = (warning: string | Error, ...rest: unknown[]): void => {
    if (/SQLite is an experimental feature/i.test(typeof warning === 'string' ? warning : warning.message)) return;
    emit(warning, ...rest);
  };
  process.emitWarning = quiet;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node:sqlite') as NodeSqlite;
  } finally {
    if (own) Object.defineProperty(process, 'emitWarning', own);
  }
}

function processProbe(): BackendProbe {
  return {
    force: process.env[FORCE_ENV],
    nodeVersion: process.versions.node,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loadNative: () => require('@vscode/sqlite3') as NativeSqlite,
    loadNode: requireNodeSqlite,
  };
}

let selected: LoadedBackend | undefined;

/** The engine this process uses, chosen on first use and kept. */
export function loadedBackend(): LoadedBackend {
  return (selected ??= chooseBackend(processProbe()));
}

export function sqliteBackendInfo(): SqliteBackendInfo {
  return loadedBackend().info;
}

/** Tests: use this engine from now on (undefined: choose again from the process). */
export function setBackendForTests(b: LoadedBackend | undefined): void {
  selected = b;
}

/** What a request that needs SQL says when there is no engine. */
export function noSqliteError(info: SqliteBackendInfo = sqliteBackendInfo()): DoctorError {
  return new DoctorError(
    `No SQLite engine is available here: ${info.reason ?? 'none loaded'}. ` +
      'Header-level health still works (WAL or not, sizes, locks, the proxy log); full checks, repairs and the trace explorer need SQLite. ' +
      'Run the doctor on a Node with node:sqlite (22.13 or later; a current VS Code), or install a build of @vscode/sqlite3 for this platform (npm rebuild @vscode/sqlite3).',
  );
}
