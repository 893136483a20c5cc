// The automatic check when a workspace opens: the server's first passive report for
// each folder. Quiet when healthy; one notification with the fix as its button when not.
import * as vscode from 'vscode';
import { FIX_TITLES } from '../engine/labels';
import { autoCheckOnOpen } from './config';
import type { HealthStore } from './healthStore';
import { AVAILABLE_FIXES, statusLevel, type DbEntry } from './presentation';

const t = vscode.l10n.t;
const DISMISS_KEY = 'tracedb.autoCheck.dismissed';

export class AutoCheck implements vscode.Disposable {
  private readonly seen = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(
    store: HealthStore,
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
    const fixes = top.fixes.filter((f) => AVAILABLE_FIXES.includes(f)).slice(0, 2);
    const dismiss = t("Don't Show Again for This Workspace");
    const show = top.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const choice = await show(t('Trace DB Doctor: {0}. {1}', top.title, top.message), ...fixes.map((f) => FIX_TITLES[f]), dismiss);
    if (choice === dismiss) await this.state.update(`${DISMISS_KEY}:${e.folderUri}`, true);
    const fix = fixes.find((f) => FIX_TITLES[f] === choice);
    if (fix) await vscode.commands.executeCommand(`tracedb.${fix}`, { dbPath: e.dbPath });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
