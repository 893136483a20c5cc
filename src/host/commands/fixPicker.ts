// "Show Fixes": the fixes that apply now, grouped under the finding each answers, then
// the commands that help whatever the state (check, explorer, report).
import * as vscode from 'vscode';
import { COMMANDS, fixCommand } from '../../shared/commandIds';
import type { Ctx } from '../ctx';
import { fixChoices } from '../health/fixChoices';

const t = vscode.l10n.t;

export async function showFixes(ctx: Ctx): Promise<unknown> {
  type Item = vscode.QuickPickItem & { run?: () => Thenable<unknown> };
  const items: Item[] = [];
  let group: string | undefined;
  for (const c of fixChoices(ctx.store.all())) {
    // One separator per finding: the reason is said once, not on every row.
    if (c.reason !== group) items.push({ label: (group = c.reason), kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: `$(${c.icon}) ${c.title}`, run: () => vscode.commands.executeCommand(fixCommand(c.fix), { dbPath: c.entry.dbPath }) });
  }
  const fixes = items.length;
  items.push(
    { label: t('More'), kind: vscode.QuickPickItemKind.Separator },
    { label: `$(refresh) ${t('Check Health')}`, run: () => vscode.commands.executeCommand(COMMANDS.checkHealth) },
    { label: `$(list-flat) ${t('Open Trace Explorer')}`, run: () => vscode.commands.executeCommand(COMMANDS.openExplorer) },
    { label: `$(copy) ${t('Copy Diagnostic Report')}`, run: () => vscode.commands.executeCommand(COMMANDS.copyReport) },
  );
  const pick = await vscode.window.showQuickPick(items, { placeHolder: fixes ? t('Fixes for the trace database') : t('No problems found') });
  return pick?.run?.();
}
