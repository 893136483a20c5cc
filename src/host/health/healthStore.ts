// The latest health report of each workspace folder's trace DB, as the server pushed
// it (healthChanged) or a user's check returned it. The status bar, the tree and the
// auto-check all render from here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HealthReport } from '../../shared/protocol';
import type { ResolvedDatabase } from './databaseChoice';
import type { DbEntry } from './dbEntry';

export class HealthStore implements vscode.Disposable {
  private entries = new Map<string, DbEntry>();
  private readonly changed = new vscode.EventEmitter<DbEntry | undefined>();
  /** Fires with the entry that changed, or undefined when the set of databases changed. */
  readonly onDidChange = this.changed.event;

  /** Replaces the set of watched databases, keeping reports of those still watched. */
  setTargets(targets: ResolvedDatabase[]): void {
    const next = new Map<string, DbEntry>();
    for (const t of targets) {
      const old = this.entries.get(t.folderUri);
      const folderName = vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(t.folderUri))?.name ?? path.basename(vscode.Uri.parse(t.folderUri).fsPath);
      next.set(t.folderUri, { ...t, folderName, report: old?.dbPath === t.dbPath ? old.report : undefined });
    }
    this.entries = next;
    this.fireChange(undefined);
  }

  update(folderUri: string, report: HealthReport): void {
    const entry = this.entries.get(folderUri) ?? [...this.entries.values()].find((x) => x.dbPath === report.path);
    if (!entry) return;
    entry.report = report;
    this.fireChange(entry);
  }

  /** Every change also updates the context key that hides the welcome view (package.json viewsWelcome). */
  private fireChange(entry: DbEntry | undefined): void {
    void vscode.commands.executeCommand('setContext', 'tracedb.hasDatabase', this.hasDatabase());
    this.changed.fire(entry);
  }

  /** True once the server has reported on every watched database (and there is at least one). */
  reported(): boolean {
    const all = this.all();
    return all.length > 0 && all.every((entry) => entry.report !== undefined);
  }

  all(): DbEntry[] {
    return [...this.entries.values()];
  }

  byDbPath(dbPath: string): DbEntry | undefined {
    return this.all().find((entry) => entry.dbPath === dbPath);
  }

  /** True when at least one folder's DB exists (a missing file is not a database). */
  hasDatabase(): boolean {
    return this.all().some((entry) => entry.report && entry.report.unreachableReason !== 'missing');
  }

  dispose(): void {
    this.changed.dispose();
  }
}
