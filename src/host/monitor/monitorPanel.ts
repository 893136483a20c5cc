// The Lock Monitor panel: one per database (reopening reveals it), restored after a reload
// by a serializer. While it is visible the server samples that database's locks ten times
// a second (MonitorInterest); the webview asks for a snapshot about once a second, and the
// host checks every message (webviewHost.ts) before forwarding it to the doctor server.
// The same safety rules as the explorer: a strict CSP with a nonce, no retained context,
// resources from dist/ and media/ only.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { State } from 'vscode-languageclient/node';
import { monitorProtocol, type MonitorCommands, type MonitorHostMessage, type MonitorNotifications, type MonitorRequests } from '../../shared/monitorProtocol';
import * as proto from '../../shared/protocol';
import type { Ctx } from '../ctx';
import { WebviewHost } from '../webviewHost';
import { webviewHtml, webviewOptions } from '../webviewPage';
import { MonitorInterest } from './monitorInterest';

interface PanelState {
  panelDbPath?: string;
}

export class MonitorPanel implements vscode.Disposable {
  static readonly viewType = 'tracedb.lockMonitor';
  private static readonly panels = new Map<string, MonitorPanel>();
  private static interest?: MonitorInterest;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly rpc: WebviewHost<MonitorRequests, MonitorCommands, MonitorNotifications>;

  static createOrShow(ctx: Ctx, dbPath: string): MonitorPanel {
    const open = MonitorPanel.panels.get(dbPath);
    if (open) {
      open.panel.reveal();
      return open;
    }
    const panel = vscode.window.createWebviewPanel(
      MonitorPanel.viewType,
      vscode.l10n.t('Lock Monitor · {0}', path.basename(dbPath)),
      vscode.ViewColumn.Active,
      webviewOptions(ctx.extension.extensionUri),
    );
    return new MonitorPanel(ctx, panel, dbPath);
  }

  /** The serializer (panels come back after a reload) and the fast-sampling interest, re-sent to a restarted server. */
  static register(ctx: Ctx): vscode.Disposable[] {
    const interest = MonitorPanel.interestOf(ctx);
    return [
      vscode.window.registerWebviewPanelSerializer(MonitorPanel.viewType, {
        async deserializeWebviewPanel(panel, state: PanelState | undefined) {
          const dbPath = state?.panelDbPath;
          // The state is the webview's: the server answers only for a database it watches, whatever this says.
          if (typeof dbPath !== 'string' || !path.isAbsolute(dbPath)) {
            panel.dispose();
            return;
          }
          panel.webview.options = webviewOptions(ctx.extension.extensionUri);
          new MonitorPanel(ctx, panel, dbPath);
        },
      }),
      ctx.client.onDidChangeState((e) => {
        if (e.newState === State.Running) interest.resend();
      }),
    ];
  }

  private static interestOf(ctx: Ctx): MonitorInterest {
    MonitorPanel.interest ??= new MonitorInterest((monitor) => {
      if (ctx.running) void ctx.request(proto.watchInterest, { monitor }).catch((e) => ctx.log.warn(`watchInterest: ${(e as Error).message}`));
    });
    return MonitorPanel.interest;
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    readonly dbPath: string,
  ) {
    MonitorPanel.panels.set(dbPath, this);
    const interest = MonitorPanel.interestOf(ctx);
    this.rpc = new WebviewHost({
      name: 'Lock Monitor',
      protocol: monitorProtocol,
      requests: {
        snapshot: ({ windowMs }) => this.snapshot(windowMs),
      },
      commands: {
        ready: () => {
          this.ready = true;
          this.rpc.notify('init', { dbName: path.basename(dbPath), dbPath });
        },
      },
      post: (m) => this.post(m),
      warn: (message) => ctx.log.warn(message),
    });
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'tracedb.svg');
    panel.webview.html = this.html();
    interest.set(dbPath, panel.visible);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.rpc.receive(m)),
      // Hidden, the page is gone (no retained context) and asks nothing: sampling slows down with it.
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.ready = false;
        interest.set(dbPath, e.webviewPanel.visible);
      }),
    );
  }

  /**
   * Straight to the client, not through ctx.request: asked every second, its log line would
   * bury everything else in the output. Failures still reach the webview, which says them.
   */
  private async snapshot(windowMs: number): Promise<proto.MonitorSnapshot> {
    if (!this.ctx.running) throw new Error(vscode.l10n.t('The Trace DB Doctor server is not running. Run "Trace DB: Restart Doctor Server".'));
    return this.ctx.client.sendRequest(proto.monitor, { dbPath: this.dbPath, windowMs });
  }

  private post(m: MonitorHostMessage): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private html(): string {
    // uPlot's own stylesheet (copied into dist/ by the build), then ours.
    return webviewHtml(this.panel.webview, this.ctx.extension.extensionUri, {
      title: 'Lock Monitor',
      script: 'dist/monitor.js',
      styles: ['dist/uplot.css', 'media/monitor.css'],
    });
  }

  dispose(): void {
    MonitorPanel.panels.delete(this.dbPath);
    MonitorPanel.interest?.set(this.dbPath, false);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
