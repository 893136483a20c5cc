// Workspace trust (docs/DESIGN.md, Rules 5): in Restricted Mode the doctor only looks.
import * as vscode from 'vscode';

/** True when trusted; otherwise says why `action` is unavailable and offers to manage trust. */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = vscode.l10n.t('Manage Workspace Trust');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t(
      '{0} is not available in Restricted Mode: it changes the database or runs commands. Trust this workspace to use it; health stays visible read-only.',
      action,
    ),
    manage,
  );
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
