// The automatic check when a workspace opens: the server's first passive report for
// each folder. Quiet when healthy; one notification with the fix as its button when not.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS, fixCommand } from '../../shared/commandIds';
import { FIX_TITLES } from '../../shared/labels';
import { autoCheckOnOpen } from '../config';
import type { DbEntry } from './dbEntry';
import type { HealthStore } from './healthStore';
import { statusLevel } from './statusModel';

const t = vscode.l10n.t;
const DISMISS_KEY = 'tracedb.autoCheck.dismissed';

export class AutoCheck implements vscode.Disposable {
  private readonly seen = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly store: HealthStore,
    private readonly state: vscode.Memento,
  ) {
    this.subscription = store.onDidChange((entry) => entry && void this.onReport(entry));
  }

  private async onReport(entry: DbEntry): Promise<void> {
    // Only the first report per folder and session: later changes show in the status bar.
    if (!entry.report || this.seen.has(entry.folderUri)) return;
    this.seen.add(entry.folderUri);
    if (!autoCheckOnOpen() || this.state.get<boolean>(`${DISMISS_KEY}:${entry.folderUri}`)) return;
    const r = entry.report;
    if (r.unreachableReason === 'missing' || statusLevel(r) === 'ok') return;
    const top = r.findings.find((f) => f.severity !== 'info') ?? r.findings[0];
    if (!top) return;
    // Every fix has a command (fixCommand), so the finding's first fix is the one offered.
    const fix = top.fixes[0];
    // One line and short buttons: a notification is read at a glance, and long labels are cut off.
    const more = t('Fixes…');
    const dismiss = t("Don't Show Again");
    const show = top.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const choice = await show(t('{0}: {1}', path.basename(entry.dbPath), top.title), ...(fix ? [FIX_TITLES[fix]] : []), more, dismiss);
    if (choice === dismiss) await this.state.update(`${DISMISS_KEY}:${entry.folderUri}`, true);
    if (choice === more) await vscode.commands.executeCommand(COMMANDS.showFixes);
    if (fix && choice === FIX_TITLES[fix]) {
      // VS Code cannot take a notification back: a click on a stale one says so instead of acting.
      const now = this.store.byDbPath(entry.dbPath)?.report;
      if (now && !now.findings.some((f) => f.code === top.code)) {
        void vscode.window.showInformationMessage(t('Already fixed: {0} no longer reports "{1}".', path.basename(entry.dbPath), top.title));
        return;
      }
      await vscode.commands.executeCommand(fixCommand(fix), { dbPath: entry.dbPath });
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
