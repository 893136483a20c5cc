// The status bar item: healthy, not-WAL warning, or lock/corruption error. A click
// opens the fixes that apply (tracedb.showFixes).
import * as vscode from 'vscode';
import type { HealthStore } from './healthStore';
import { statusModel } from './presentation';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tracedb.status', vscode.StatusBarAlignment.Left, 100);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: HealthStore) {
    this.item.name = vscode.l10n.t('Trace DB Doctor');
    this.item.command = 'tracedb.showFixes';
    this.subscription = store.onDidChange(() => this.render());
    this.render();
  }

  /** What the item shows now (the extension's test API reads it). */
  get text(): string {
    return this.item.text;
  }
  get level(): string {
    return statusModel(this.store.all()).level;
  }

  private render(): void {
    const m = statusModel(this.store.all());
    if (!m.visible) {
      this.item.hide();
      return;
    }
    this.item.text = m.text;
    this.item.backgroundColor =
      m.level === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : m.level === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tip = new vscode.MarkdownString(
      [
        `**${vscode.l10n.t('Trace DB Doctor')}**`,
        '',
        ...m.tooltip,
        '',
        `[$(tools) ${vscode.l10n.t('Show Fixes')}](command:tracedb.showFixes) · [$(refresh) ${vscode.l10n.t('Check Health')}](command:tracedb.checkHealth) · [$(list-flat) ${vscode.l10n.t('Open Trace Explorer')}](command:tracedb.openExplorer) · [$(copy) ${vscode.l10n.t('Copy Report')}](command:tracedb.copyReport)`,
      ].join('\n'),
      true,
    );
    tip.isTrusted = { enabledCommands: ['tracedb.showFixes', 'tracedb.checkHealth', 'tracedb.openExplorer', 'tracedb.copyReport'] };
    this.item.tooltip = tip;
    this.item.accessibilityInformation = { label: m.text.replace(/\$\([^)]*\)\s*/g, '') };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
