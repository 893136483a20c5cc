// The health tree view: the runbook's diagnosis per database, problems first, each
// problem node carrying its fixes as inline actions (package.json menus match the
// node's contextValue).
import * as vscode from 'vscode';
import { COMMANDS } from '../../shared/commandIds';
import type { Ctx } from '../ctx';
import type { HealthStore } from './healthStore';
import type { DbEntry } from './dbEntry';
import { folderLabel, treeModel, type TreeNodeModel } from './treeModel';

type Node = { kind: 'db'; entry: DbEntry } | { kind: 'item'; model: TreeNodeModel };

export class HealthTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  private lastModel = '';

  constructor(private readonly store: HealthStore) {
    // Refresh only when what the tree shows changed: a refresh re-resolves every node, and
    // a busy proxy would otherwise make rows jump and twisties blink on every report.
    this.subscription = store.onDidChange(() => {
      const model = JSON.stringify(this.store.all().map((entry) => [entry.dbPath, entry.candidates?.length, treeModel(entry)]));
      if (model === this.lastModel) return;
      this.lastModel = model;
      this.changed.fire(undefined);
    });
  }

  getChildren(node?: Node): Node[] {
    const entries = this.store.all().filter((entry) => !entry.report || entry.report.unreachableReason !== 'missing');
    if (!node) {
      // One folder: its sections at the top. Several: one root per folder.
      if (entries.length === 1) return treeModel(entries[0]).map((model) => ({ kind: 'item', model }));
      return entries.map((entry) => ({ kind: 'db', entry }));
    }
    if (node.kind === 'db') return treeModel(node.entry).map((model) => ({ kind: 'item', model }));
    return (node.model.children ?? []).map((model) => ({ kind: 'item', model }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'db') {
      const item = new vscode.TreeItem(folderLabel(node.entry), vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.entry.dbPath;
      item.iconPath = new vscode.ThemeIcon('database');
      item.tooltip = node.entry.dbPath;
      return item;
    }
    const m = node.model;
    const state = m.children
      ? m.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(m.label, state);
    item.id = m.id;
    item.description = m.description;
    item.iconPath = new vscode.ThemeIcon(m.icon, m.color ? new vscode.ThemeColor(m.color) : undefined);
    if (m.tooltip) item.tooltip = new vscode.MarkdownString().appendText(m.tooltip);
    item.contextValue = m.contextValue;
    if (m.candidate) item.command = { command: COMMANDS.chooseDatabase, title: vscode.l10n.t('Watch This Database'), arguments: [{ candidate: m.candidate }] };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** The database and processes a tree node (a command's argument) is about. */
export function targetOfNode(arg: unknown): { dbPath: string; pids?: number[] } | undefined {
  const n = arg as Node | undefined;
  if (n?.kind === 'db') return { dbPath: n.entry.dbPath };
  if (n?.kind === 'item') return { dbPath: n.model.dbPath, pids: n.model.pids };
  return undefined;
}

/** While the Health view is visible the server keeps its list of processes fresh (Ctx.setInterest). */
export function watchTreeVisibility(ctx: Ctx, view: vscode.TreeView<unknown>): vscode.Disposable[] {
  ctx.setInterest({ names: view.visible });
  return [view, view.onDidChangeVisibility((e) => ctx.setInterest({ names: e.visible }))];
}
