// The automatic check when a workspace opens: the server's first passive report for
// each folder. Quiet when healthy; one notification with the fix as its button when not.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FIX_TITLES } from '../../shared/labels';
import { autoCheckOnOpen } from '../config';
import type { HealthStore } from './healthStore';
import { AVAILABLE_FIXES, statusLevel, type DbEntry } from './presentation';

const t = vscode.l10n.t;
const DISMISS_KEY = 'tracedb.autoCheck.dismissed';

export class AutoCheck implements vscode.Disposable {
  private readonly seen = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly store: HealthStore,
    private readonly state: vscode.Memento,
  ) {
    this.subscription = store.onDidChange((e) => e && void this.onReport(e));
  }

  private async onReport(e: DbEntry): Promise<void> {
    // Only the first report per folder and session: later changes show in the status bar.
    if (!e.report || this.seen.has(e.folderUri)) return;
    this.seen.add(e.folderUri);
    if (!autoCheckOnOpen() || this.state.get<boolean>(`${DISMISS_KEY}:${e.folderUri}`)) return;
    const r = e.report;
    if (r.unreachableReason === 'missing' || statusLevel(r) === 'ok') return;
    const top = r.findings.find((f) => f.severity !== 'info') ?? r.findings[0];
    if (!top) return;
    const fix = top.fixes.find((f) => AVAILABLE_FIXES.includes(f));
    // One line and short buttons: a notification is read at a glance, and long labels are cut off.
    const more = t('Fixes…');
    const dismiss = t("Don't Show Again");
    const show = top.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const choice = await show(t('{0}: {1}', path.basename(e.dbPath), top.title), ...(fix ? [FIX_TITLES[fix]] : []), more, dismiss);
    if (choice === dismiss) await this.state.update(`${DISMISS_KEY}:${e.folderUri}`, true);
    if (choice === more) await vscode.commands.executeCommand('tracedb.showFixes');
    if (fix && choice === FIX_TITLES[fix]) {
      // VS Code cannot take a notification back: a click on a stale one says so instead of acting.
      const now = this.store.byDbPath(e.dbPath)?.report;
      if (now && !now.findings.some((f) => f.code === top.code)) {
        void vscode.window.showInformationMessage(t('Already fixed: {0} no longer reports "{1}".', path.basename(e.dbPath), top.title));
        return;
      }
      await vscode.commands.executeCommand(`tracedb.${fix}`, { dbPath: e.dbPath });
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
