// Which trace DB each workspace folder watches. The setting tracedb.databasePath wins;
// otherwise the user's last pick for the folder (remembered in workspace state) while it
// is still a candidate; otherwise the server's best candidate (the file the running proxy
// has open, TRACEFORGE_SQLITE_PATH, packages/proxy/.ai-tests/traces.db, the root's …).
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as proto from '../../shared/protocol';
import { databaseSetting, logSetting } from '../config';

/** A watched database as the host knows it: what the server watches, plus the other candidates. */
export interface ResolvedDatabase extends proto.WatchedDatabase {
  /** Every trace DB found for the folder, best first (empty when the setting decides). */
  candidates: proto.DbCandidate[];
  /** How this one was chosen, for the tree's tooltip. */
  chosenBy: 'setting' | 'remembered' | 'discovered';
  /** False when the proxy keeps no log file (it logs to stdout). */
  logExists: boolean;
}

const CHOICE_KEY = 'tracedb.database';

export class DatabaseChoice {
  constructor(private readonly state: vscode.Memento) {}

  remembered(folderUri: string): string | undefined {
    return this.state.get<string>(`${CHOICE_KEY}:${folderUri}`);
  }

  remember(folderUri: string, dbPath: string | undefined): Thenable<void> {
    return this.state.update(`${CHOICE_KEY}:${folderUri}`, dbPath);
  }

  /** One database per file:// workspace folder; `discover` asks the server for candidates. */
  async resolveAll(discover: (root: string) => Promise<proto.DbCandidate[]>): Promise<ResolvedDatabase[]> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    return Promise.all(folders.map((f) => this.resolve(f, discover)));
  }

  private async resolve(folder: vscode.WorkspaceFolder, discover: (root: string) => Promise<proto.DbCandidate[]>): Promise<ResolvedDatabase> {
    const root = folder.uri.fsPath;
    const folderUri = folder.uri.toString();
    const explicitLog = logSetting(folder.uri);
    const withLog = (dbPath: string, found: { logPath?: string; logExists?: boolean } = {}) => ({
      folderUri,
      dbPath,
      ...(explicitLog ? { logPath: path.resolve(root, explicitLog) } : found.logPath ? { logPath: found.logPath } : {}),
      logExists: explicitLog ? true : (found.logExists ?? false),
    });

    const setting = databaseSetting(folder.uri);
    const candidates = await discover(root);
    if (setting) {
      const dbPath = path.resolve(root, setting);
      const same = candidates.find((c) => c.dbPath === dbPath);
      return { ...withLog(dbPath, same ?? { logPath: path.join(path.dirname(path.dirname(dbPath)), 'logs', 'proxy.log') }), candidates, chosenBy: 'setting' };
    }
    const remembered = this.remembered(folderUri);
    const kept = remembered ? candidates.find((c) => c.dbPath === remembered) : undefined;
    if (kept?.exists) return { ...withLog(kept.dbPath, kept), candidates, chosenBy: 'remembered' };
    if (remembered && !kept) {
      // A file picked by hand (outside the usual places) stays chosen while it exists.
      const custom = {
        dbPath: remembered,
        source: 'found' as const,
        exists: true,
        openByProxy: [],
        proxyDir: path.dirname(path.dirname(remembered)),
        logPath: path.join(path.dirname(path.dirname(remembered)), 'logs', 'proxy.log'),
        logExists: false,
      };
      return { ...withLog(remembered, custom), candidates: [custom, ...candidates], chosenBy: 'remembered' };
    }
    const best = candidates[0];
    if (best) return { ...withLog(best.dbPath, best), candidates, chosenBy: 'discovered' };
    // Nothing anywhere yet: watch where the proxy will create it.
    return { ...withLog(path.join(root, '.ai-tests', 'traces.db')), candidates, chosenBy: 'discovered' };
  }
}

/**
 * Calls `onChange` (debounced) when a trace DB appears or goes anywhere in the workspace:
 * the proxy creates its DB on its first trace, often after the window opened.
 */
export function watchForDatabases(onChange: () => void): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher('**/.ai-tests/traces.db', false, true, false);
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 500);
  };
  const subs = [watcher, watcher.onDidCreate(fire), watcher.onDidDelete(fire)];
  return { dispose: () => (clearTimeout(timer), subs.forEach((s) => s.dispose())) };
}
