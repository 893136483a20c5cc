// The status bar item: healthy, not-WAL warning, or lock/corruption error. A click
// opens the fixes that apply (tracedb.showFixes).
import * as vscode from 'vscode';
import { COMMANDS } from '../../shared/commandIds';
import type { HealthStore } from './healthStore';
import { statusModel } from './statusModel';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tracedb.status', vscode.StatusBarAlignment.Left, 100);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: HealthStore) {
    this.item.name = vscode.l10n.t('Trace DB Doctor');
    this.item.command = COMMANDS.showFixes;
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
      m.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : m.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    // The only commands the trusted tooltip may run are the ones it links to.
    const links: [icon: string, title: string, command: string][] = [
      ['tools', vscode.l10n.t('Show Fixes'), COMMANDS.showFixes],
      ['refresh', vscode.l10n.t('Check Health'), COMMANDS.checkHealth],
      ['list-flat', vscode.l10n.t('Open Trace Explorer'), COMMANDS.openExplorer],
      ['copy', vscode.l10n.t('Copy Report'), COMMANDS.copyReport],
    ];
    const tip = new vscode.MarkdownString(
      [
        `**${vscode.l10n.t('Trace DB Doctor')}**`,
        '',
        ...m.tooltip,
        '',
        links.map(([icon, title, command]) => `[$(${icon}) ${title}](command:${command})`).join(' · '),
      ].join('\n'),
      true,
    );
    tip.isTrusted = { enabledCommands: links.map(([, , command]) => command) };
    this.item.tooltip = tip;
    this.item.accessibilityInformation = { label: m.text.replace(/\$\([^)]*\)\s*/g, '') };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
