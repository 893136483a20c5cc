// "Choose Database File…": which trace DB a workspace folder watches. Picks among the ones
// found (the running proxy's first), or any file; the choice is remembered per folder.
// tracedb.databasePath, when set, still wins.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SETTINGS } from '../../shared/settings';
import { databaseSetting } from '../config';
import type { Ctx } from '../ctx';
import { candidateDescription } from '../health/dbEntry';
import type { TreeNodeModel } from '../health/treeModel';

const t = vscode.l10n.t;

/** A "Databases found" tree node's argument: the folder and the file clicked. */
function candidateOf(arg: unknown): TreeNodeModel['candidate'] {
  return arg && typeof arg === 'object' && 'candidate' in arg ? (arg as Pick<TreeNodeModel, 'candidate'>).candidate : undefined;
}

export async function chooseDatabase(ctx: Ctx, arg: unknown): Promise<string | undefined> {
  const given = candidateOf(arg);
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const folder = given
    ? folders.find((f) => f.uri.toString() === given.folderUri)
    : folders.length === 1
      ? folders[0]
      : await vscode.window.showWorkspaceFolderPick();
  if (!folder) return;
  let dbPath = given?.dbPath;
  if (!dbPath) {
    const entry = ctx.store.all().find((watched) => watched.folderUri === folder.uri.toString());
    const browse = { label: `$(folder-opened) ${t('Browse…')}`, dbPath: undefined as string | undefined };
    const items = (entry?.candidates ?? []).map((c) => ({
      label: `${c.dbPath === entry?.dbPath ? '$(check)' : '$(database)'} ${path.relative(folder.uri.fsPath, c.dbPath) || c.dbPath}`,
      description: candidateDescription(c),
      dbPath: c.dbPath,
    }));
    const pick = await vscode.window.showQuickPick([...items, browse], { placeHolder: t('Which trace database does the proxy in {0} use?', folder.name) });
    if (!pick) return;
    dbPath = pick.dbPath;
    if (!dbPath) {
      const picked = await vscode.window.showOpenDialog({
        defaultUri: folder.uri,
        canSelectMany: false,
        openLabel: t('Use as Trace Database'),
        filters: { [t('SQLite databases')]: ['db', 'sqlite', 'sqlite3'], [t('All files')]: ['*'] },
      });
      if (!picked?.[0]) return;
      dbPath = picked[0].fsPath;
    }
  }
  await ctx.choice.remember(folder.uri.toString(), dbPath);
  if (databaseSetting(folder.uri)) {
    void vscode.window.showInformationMessage(t('{0} is set for {1} and still decides; clear it to use your pick.', SETTINGS.databasePath.key, folder.name));
  }
  await ctx.sendWatchList();
  return dbPath;
}
