// "Apply Long-term Fix" and "Increase Busy Timeout in Code": RUNBOOK-002's edits to the
// proxy's storage code, computed by the language server and applied as one WorkspaceEdit
// the user can undo.
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as proto from '../shared/protocol';
import type { Ctx } from './ctx';

const t = vscode.l10n.t;
/** Where the proxy's storage code lives in a TraceForge repo. */
const STORAGE_FILE = 'packages/proxy/src/storage-sqlite.ts';

async function storageFile(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const fromArg = (arg as { file?: string } | undefined)?.file;
  if (fromArg) return vscode.Uri.file(fromArg);
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const candidate = vscode.Uri.joinPath(f.uri, STORAGE_FILE);
    try {
      await vscode.workspace.fs.stat(candidate);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  const active = vscode.window.activeTextEditor?.document;
  if (active && /\.(?:[cm]?[jt]s|[jt]sx)$/.test(active.fileName)) return active.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: t('Fix This File'),
    title: t('Which file opens the trace database? (No {0} in this workspace)', STORAGE_FILE),
    filters: { [t('TypeScript / JavaScript')]: ['ts', 'js', 'mts', 'cts', 'mjs', 'cjs', 'tsx', 'jsx'] },
  });
  return picked?.[0];
}

export async function applyStorageFix(ctx: Ctx, arg: unknown, only?: 'busyTimeout'): Promise<number | undefined> {
  const uri = await storageFile(arg);
  if (!uri) return undefined;
  const doc = await vscode.workspace.openTextDocument(uri);
  const { edits, findings } = await ctx.request(proto.storageFixEdits, { uri: uri.toString(), ...(only ? { only } : {}) });
  await vscode.window.showTextDocument(doc, { preview: false });
  const name = path.basename(uri.fsPath);
  if (!edits.length) {
    void vscode.window.showInformationMessage(
      findings
        ? t('{0}: nothing this fix can change automatically; see the problems in the file.', name)
        : t('{0} already opens SQLite the RUNBOOK-002 way (WAL, busy timeout, synchronous NORMAL).', name),
    );
    return 0;
  }
  const we = new vscode.WorkspaceEdit();
  we.set(
    uri,
    edits.map((e) =>
      vscode.TextEdit.replace(new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText),
    ),
  );
  if (!(await vscode.workspace.applyEdit(we))) throw new Error(t('VS Code refused the edit to {0}.', name));
  void vscode.window.showInformationMessage(
    only
      ? t('Set the busy timeout in {0}. Save the file and restart the proxy; Undo reverts it.', name)
      : t('Applied the RUNBOOK-002 long-term fix to {0}. Save the file and restart the proxy; Undo reverts it.', name),
  );
  return edits.length;
}
