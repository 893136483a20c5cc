// The trace explorer panel: one per database (reopening reveals it), restored after a
// reload by a serializer. The host is the only thing the webview talks to; it checks
// every message (webviewHost.ts) and forwards data requests to the doctor server.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { explorerProtocol, type ExplorerCommands, type ExplorerNotifications, type ExplorerRequests, type HostMessage } from '../../shared/webviewProtocol';
import * as proto from '../../shared/protocol';
import type { Ctx } from '../ctx';
import { WebviewHost } from '../webviewHost';
import { webviewHtml, webviewOptions } from '../webviewPage';
import { traceUri } from './traceDocuments';

interface PanelState {
  dbPath?: string;
}

export class ExplorerPanel implements vscode.Disposable {
  static readonly viewType = 'tracedb.explorer';
  private static readonly panels = new Map<string, ExplorerPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private sentCount?: number;
  private readonly rpc: WebviewHost<ExplorerRequests, ExplorerCommands, ExplorerNotifications>;

  static createOrShow(ctx: Ctx, dbPath: string): ExplorerPanel {
    const open = ExplorerPanel.panels.get(dbPath);
    if (open) {
      open.panel.reveal();
      return open;
    }
    const panel = vscode.window.createWebviewPanel(
      ExplorerPanel.viewType,
      vscode.l10n.t('Traces · {0}', path.basename(dbPath)),
      vscode.ViewColumn.Active,
      webviewOptions(ctx.extension.extensionUri),
    );
    return new ExplorerPanel(ctx, panel, dbPath);
  }

  static registerSerializer(ctx: Ctx): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(ExplorerPanel.viewType, {
      async deserializeWebviewPanel(panel, state: PanelState & { panelDbPath?: string }) {
        const dbPath = state?.panelDbPath;
        // The state is the webview's: the server answers only for a database it watches, whatever this says.
        if (typeof dbPath !== 'string' || !path.isAbsolute(dbPath)) {
          panel.dispose();
          return;
        }
        panel.webview.options = webviewOptions(ctx.extension.extensionUri);
        new ExplorerPanel(ctx, panel, dbPath);
      },
    });
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    readonly dbPath: string,
  ) {
    ExplorerPanel.panels.set(dbPath, this);
    this.rpc = new WebviewHost({
      name: 'Trace explorer',
      protocol: explorerProtocol,
      // Each webview request is one doctor server request on this panel's database.
      requests: {
        query: (params) => ctx.request(proto.traces, { ...params, dbPath }),
        detail: ({ traceId }) => ctx.request(proto.trace, { dbPath, id: traceId }),
        field: ({ traceId, field }) => ctx.request(proto.traceField, { dbPath, id: traceId, field }),
        count: ({ filter }) => ctx.request(proto.traceCount, { dbPath, filter }),
        choices: () => ctx.request(proto.filterChoices, { dbPath }),
      },
      commands: {
        ready: () => {
          this.ready = true;
          this.sentCount = this.traceCount();
          this.rpc.notify('init', { dbName: path.basename(dbPath), dbPath, traceCount: this.sentCount });
        },
        copy: async ({ text }) => {
          await vscode.env.clipboard.writeText(text);
          void vscode.window.setStatusBarMessage(vscode.l10n.t('Copied to the clipboard'), 2000);
        },
        openJson: async ({ traceId }) => {
          const doc = await vscode.workspace.openTextDocument(traceUri(dbPath, traceId));
          await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
        },
      },
      post: (m) => this.post(m),
      warn: (message) => ctx.log.warn(message),
    });
    // Only while an explorer is open does the server send dataChanged (its pill).
    ctx.setInterest({ data: true });
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'tracedb.svg');
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.rpc.receive(m)),
      // Forwarded as a mark only: the webview queries nothing until the user asks.
      // From the context's one subscription: a panel's own would replace every other panel's.
      ctx.onDataChanged((p) => {
        if (p.dbPath === dbPath) this.rpc.notify('didChangeData', { traceCount: this.traceCount() });
      }),
      ctx.store.onDidChange((e) => {
        if (e && e.dbPath !== dbPath) return;
        const n = this.traceCount();
        if (n === undefined || n === this.sentCount) return;
        this.sentCount = n;
        this.rpc.notify('didChangeTraceCount', { traceCount: n });
      }),
    );
  }

  /** The health report's instant count (max(rowid)): the list's "≈ N" without a COUNT(*) of its own. */
  private traceCount(): number | undefined {
    return this.ctx.store.byDbPath(this.dbPath)?.report?.traceCount?.value;
  }

  private post(m: HostMessage): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private html(): string {
    return webviewHtml(this.panel.webview, this.ctx.extension.extensionUri, {
      title: 'Traces',
      script: 'dist/explorer.js',
      styles: ['media/explorer.css'],
    });
  }

  dispose(): void {
    ExplorerPanel.panels.delete(this.dbPath);
    if (!ExplorerPanel.panels.size) this.ctx.setInterest({ data: false });
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
