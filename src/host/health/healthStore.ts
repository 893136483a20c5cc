// The latest health report of each workspace folder's trace DB, as the server pushed
// it (healthChanged) or a user's check returned it. The status bar, the tree and the
// auto-check all render from here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HealthReport } from '../../shared/protocol';
import type { ResolvedDatabase } from './databaseChoice';
import type { DbEntry } from './presentation';

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
    void vscode.commands.executeCommand('setContext', 'tracedb.hasDatabase', this.hasDatabase());
    this.changed.fire(undefined);
  }

  update(folderUri: string, report: HealthReport): void {
    const e = this.entries.get(folderUri) ?? [...this.entries.values()].find((x) => x.dbPath === report.path);
    if (!e) return;
    e.report = report;
    void vscode.commands.executeCommand('setContext', 'tracedb.hasDatabase', this.hasDatabase());
    this.changed.fire(e);
  }

  /** True once the server has reported on every watched database (and there is at least one). */
  reported(): boolean {
    const all = this.all();
    return all.length > 0 && all.every((e) => e.report !== undefined);
  }

  all(): DbEntry[] {
    return [...this.entries.values()];
  }

  byDbPath(dbPath: string): DbEntry | undefined {
    return this.all().find((e) => e.dbPath === dbPath);
  }

  /** True when at least one folder's DB exists (a missing file is not a database). */
  hasDatabase(): boolean {
    return this.all().some((e) => e.report && e.report.unreachableReason !== 'missing');
  }

  dispose(): void {
    this.changed.dispose();
  }
}
