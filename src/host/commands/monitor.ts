// Open Lock Monitor: the live timeline of who holds which lock on a watched database, from
// the palette, the Health view's title, or its Locks section (the node carries the database).
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { MonitorPanel } from '../monitor/monitorPanel';
import { pickEntry } from './target';

export async function openLockMonitor(ctx: Ctx, arg: unknown): Promise<string | undefined> {
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  // A database that cannot be read is exactly when the locks matter; only one that is not there has none.
  const reason = entry.report?.unreachableReason;
  if (reason === 'missing' || reason === 'is-directory') {
    void vscode.window.showWarningMessage(entry.report?.findings[0]?.message ?? vscode.l10n.t('There is no trace database to monitor.'));
    return;
  }
  return MonitorPanel.createOrShow(ctx, entry.dbPath).dbPath;
}
