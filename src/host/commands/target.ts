// Which database a command acts on. A command's argument is a health-tree node, a
// CommandArgs object (from the fix picker, a notification button, or a test), or nothing
// (the palette).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { DbEntry } from '../health/dbEntry';
import { targetOfNode } from '../health/healthTree';

const t = vscode.l10n.t;

/** Arguments a command takes from code (fix picker, notifications, tests). */
export interface CommandArgs {
  dbPath?: string;
  pid?: number;
  /**
   * Skip the confirmation dialog of Enable WAL and Restart Proxy: for automated tests
   * driving them, never set from the UI. Kill always asks: any extension can run a command.
   */
  confirmed?: boolean;
}

export function argsOf(arg: unknown): CommandArgs & { pids?: number[] } {
  const fromNode = targetOfNode(arg);
  if (fromNode) return fromNode;
  return arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? arg : {};
}

/** The database a command acts on: the one given, the only one, or the user's pick. */
export async function pickEntry(ctx: Ctx, arg: unknown): Promise<DbEntry | undefined> {
  const a = argsOf(arg);
  // The palette lists every command from the first second; one run before the server's
  // first report waits for it rather than acting on nothing.
  if (!ctx.store.reported()) await ctx.whenReported();
  const all = ctx.store.all();
  if (a.dbPath !== undefined) {
    // Any extension can run our commands: only a database the doctor watches is acted on,
    // never a path a caller made up.
    const watched = typeof a.dbPath === 'string' && path.isAbsolute(a.dbPath) ? ctx.store.byDbPath(path.resolve(a.dbPath)) : undefined;
    if (!watched)
      void vscode.window.showErrorMessage(
        t(
          'Trace DB Doctor acts only on the trace databases it watches in this workspace; {0} is not one of them. Use "Trace DB: Choose Database File…" to watch it.',
          String(a.dbPath),
        ),
      );
    return watched;
  }
  const present = all.filter((entry) => entry.report?.unreachableReason !== 'missing');
  const candidates = present.length ? present : all;
  if (candidates.length <= 1) {
    if (!candidates.length) void vscode.window.showWarningMessage(t('No trace database in this workspace. Use "Trace DB: Choose Database File…".'));
    return candidates[0];
  }
  const pick = await vscode.window.showQuickPick(
    candidates.map((entry) => ({ label: entry.folderName, description: entry.dbPath, entry })),
    { placeHolder: t("Which workspace folder's trace database?") },
  );
  return pick?.entry;
}
